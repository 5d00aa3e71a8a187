#!/usr/bin/env python3
"""Benchmark: how much does bound tightening speed up the adversarial MILP? (issue 3)

For every network: time `nnmilp bounds` for each box method (interval, symbolic, lp, milp) with 1
and 2 worker threads, record stable ReLUs and mean widths, then solve the Fischetti & Jo L1
adversarial problem for the first N correctly classified MNIST test images with each method's
bounds (and with the region-aware methods `--bounds region-lp|region-milp`, skipped if the
binary does not know them), check that every optimum agrees, and write a markdown table
(--out) plus every raw number as JSON (next to it).

    python3 bench/tightening.py --nnmilp /tmp/nnmilp-base --quick --nets fixtures/mnist_8x3.onnx

Python 3 standard library only. Run it under `nice` on a shared machine; nnmilp's children
inherit the niceness. See bench/README.md.
"""

import argparse
import datetime
import json
import os
import platform
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)

BOX_METHODS = ["interval", "symbolic", "lp", "milp"]
REGION_METHODS = ["region-symbolic", "region-lp", "region-milp"]
ALL_METHODS = BOX_METHODS + REGION_METHODS
DEFAULT_NETS = ["fixtures/mnist_8x3.onnx", "fixtures/mnist_20-10-8-8.onnx", "fixtures/mnist_20x3.onnx",
                "bench/nets/mnist_256x2.onnx"]
EXIT_BAD_COMMAND_LINE = 2


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def loud(msg):
    bar = "!" * 78
    log(f"{bar}\n!!! {msg}\n{bar}")


def run(cmd, timeout=None):
    """Run a command; returns (exit code, stdout, stderr, wall seconds). A timeout gives code None."""
    t0 = time.monotonic()
    try:
        p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=timeout)
        return p.returncode, p.stdout, p.stderr, time.monotonic() - t0
    except subprocess.TimeoutExpired as e:
        out = e.stdout.decode() if isinstance(e.stdout, bytes) else (e.stdout or "")
        err = e.stderr.decode() if isinstance(e.stderr, bytes) else (e.stderr or "")
        return None, out, err, time.monotonic() - t0


def first_line(text):
    lines = [l for l in (text or "").strip().splitlines() if l.strip()]
    return lines[0][:300] if lines else ""


def read_json(path):
    with open(path) as f:
        return json.load(f)


def get(d, *keys, default=None):
    for k in keys:
        if not isinstance(d, dict) or k not in d:
            return default
        d = d[k]
    return d


def rel_diff(a, b):
    return abs(a - b) / max(abs(a), abs(b), 1e-12)


# ---------------------------------------------------------------------------------------------
# Network facts
# ---------------------------------------------------------------------------------------------

def find_relu_total(inspect_json):
    """Total ReLU units from `nnmilp inspect --json` (tolerant of where the count lives)."""
    for path in (("relu", "total"), ("relus", "total"), ("relu_units",), ("relu_total",),
                 ("model", "relu_units"), ("relu", "units")):
        v = get(inspect_json, *path)
        if isinstance(v, (int, float)):
            return int(v)
    st, un = get(inspect_json, "relu_stable"), get(inspect_json, "relu_unstable")
    if isinstance(st, int) and isinstance(un, int):
        return st + un
    return None


def relu_fed_layers(layers):
    """Indices of the layers whose values a ReLU layer reads, from the inspect layer list."""
    fed = set()
    for l in layers or []:
        if str(l.get("kind", "")).lower() == "relu":
            for key in ("inputs", "input", "reads"):
                v = l.get(key)
                if isinstance(v, list):
                    fed.update(int(i) for i in v if isinstance(i, int))
                elif isinstance(v, int):
                    fed.add(v)
    return fed


def width_layers(stage_layers, inspect_layers):
    """The layers whose widths are averaged: those read by a ReLU, and the output (last) layer.

    The bounds JSON lists per layer {index, name, kind, mean_width}. A layer feeds a ReLU when the
    inspect output says so; failing that, when the next layer in the list is a ReLU."""
    if not stage_layers:
        return []
    by_index = {l.get("index"): l for l in stage_layers}
    fed = relu_fed_layers(inspect_layers)
    chosen = []
    for pos, l in enumerate(stage_layers):
        nxt = stage_layers[pos + 1] if pos + 1 < len(stage_layers) else None
        is_fed = l.get("index") in fed if fed else (
            nxt is not None and str(nxt.get("kind", "")).lower() == "relu"
            and str(l.get("kind", "")).lower() != "relu")
        if is_fed:
            chosen.append(l)
    last = max(stage_layers, key=lambda l: l.get("index", -1))
    if last not in chosen:
        chosen.append(last)
    return [l for l in chosen if isinstance(l.get("mean_width"), (int, float))] if by_index else []


# ---------------------------------------------------------------------------------------------
# The benchmark
# ---------------------------------------------------------------------------------------------

class Bench:
    def __init__(self, args):
        self.a = args
        self.tmp = tempfile.mkdtemp(prefix="nnmilp-bench-")
        self.disagreements = []
        self.results = {"nets": {}}
        cache_dir = os.path.dirname(os.path.abspath(args.out))
        self.cache_path = os.path.join(cache_dir, "qualifying_images.json")
        self.cache = {}
        if not args.no_cache and os.path.exists(self.cache_path):
            try:
                self.cache = read_json(self.cache_path)
            except (OSError, ValueError):
                self.cache = {}

    def nn(self, *argv):
        return [self.a.nnmilp, *map(str, argv)]

    def save_cache(self):
        if self.a.no_cache:
            return
        os.makedirs(os.path.dirname(self.cache_path), exist_ok=True)
        with open(self.cache_path, "w") as f:
            json.dump(self.cache, f, indent=1, sort_keys=True)
            f.write("\n")

    def tmpfile(self, *parts):
        return os.path.join(self.tmp, "_".join(str(p).replace("/", "_") for p in parts))

    # --- inspect ---------------------------------------------------------------------------

    def inspect(self, net):
        code, out, err, _ = run(self.nn("inspect", net, "--json"))
        if code != 0:
            raise RuntimeError(f"inspect {net} failed ({code}): {first_line(err)}")
        return json.loads(out)

    # --- bounds -----------------------------------------------------------------------------

    def bounds(self, net, stem, method, threads):
        path = self.tmpfile(stem, method, f"t{threads}", "bounds.json")
        cmd = self.nn("bounds", net, "--method", method, "--threads", threads,
                      "--unit-time-limit", self.a.unit_time_limit, "-o", path)
        log(f"  $ {shlex.join(cmd)}")
        code, out, err, wall = run(cmd, timeout=self.a.bounds_timeout)
        if code != 0:
            return {"ok": False, "exit_code": code, "error": first_line(err) or "timeout", "wall_seconds": wall,
                    "command": shlex.join(cmd)}
        b = read_json(path)
        stages = get(b, "report", "stages", default=[]) or []
        last = stages[-1] if stages else {}
        rec = {
            "ok": True,
            "command": shlex.join(cmd),
            "file": path,
            "wall_seconds": wall,
            "seconds": sum(float(s.get("seconds", 0.0)) for s in stages),
            "last_stage_seconds": last.get("seconds"),
            "stage_seconds": {s.get("method"): s.get("seconds") for s in stages},
            "relu_unstable": b.get("relu_unstable"),
            "layers": [{k: l.get(k) for k in ("index", "name", "kind", "mean_width", "unstable_before",
                                                "unstable_after", "seconds")}
                       for l in last.get("layers", [])],
        }
        log(f"    {method} threads={threads}: {rec['seconds']:.3f} s (wall {wall:.2f} s), "
            f"unstable ReLUs {rec['relu_unstable']}")
        return rec

    # --- images -----------------------------------------------------------------------------

    def qualifying_images(self, net, sha):
        """First N correctly classified test images, by the binary's own forward pass; cached per net."""
        entry = self.cache.setdefault(sha, {"net": os.path.relpath(net, REPO), "checked": {}})
        checked = entry["checked"]
        chosen = []
        idx = 0
        while len(chosen) < self.a.images and idx < self.a.max_scan:
            key = str(idx)
            if key not in checked:
                checked[key] = self.classify(net, idx)
                self.save_cache()
            label, pred = checked[key]
            if label is not None and label == pred:
                chosen.append(idx)
            idx += 1
        return chosen

    def classify(self, net, idx):
        """(label, predicted) of test image idx. The report gives both without solving; we write
        the model to a scratch LP file instead of solving it (the cheap way to get a report)."""
        rep = self.tmpfile("classify", idx, "report.json")
        lp = self.tmpfile("classify", idx, "model.lp")
        cmd = self.nn("adversarial", net, "--image", f"{self.a.idx_images}:{idx}", "-o", lp, "--report", rep)
        code, _, err, _ = run(cmd, timeout=600)
        if code != 0 or not os.path.exists(rep):
            # Fall back to the documented way: a (short) solve.
            cmd = self.nn("adversarial", net, "--image", f"{self.a.idx_images}:{idx}", "--solve",
                          "--time-limit", self.a.time_limit, "--report", rep)
            code, _, err, _ = run(cmd, timeout=self.a.time_limit * 3 + 300)
        for p in (lp,):
            if os.path.exists(p):
                os.remove(p)
        if code != 0 or not os.path.exists(rep):
            log(f"    image {idx}: could not classify ({code}): {first_line(err)}")
            return [None, None]
        r = read_json(rep)
        return [get(r, "image", "label"), get(r, "image", "predicted")]

    # --- solves -----------------------------------------------------------------------------

    def solve(self, net, stem, method, idx, bounds_file=None):
        rep = self.tmpfile(stem, method, idx, "report.json")
        if os.path.exists(rep):
            os.remove(rep)
        cmd = self.nn("adversarial", net, "--image", f"{self.a.idx_images}:{idx}")
        if bounds_file:
            cmd += ["--bounds-file", bounds_file]
            if self.a.warm_start:
                cmd += ["--warm-start"]
        else:
            cmd += ["--bounds", method, "--unit-time-limit", str(self.a.unit_time_limit)]
        cmd += ["--solve", "--time-limit", str(self.a.time_limit), "--report", rep]
        if self.a.solve_threads:
            cmd += ["--threads", str(self.a.solve_threads)]
        code, out, err, wall = run(cmd, timeout=self.a.time_limit * 3 + (self.a.bounds_timeout or 3600))
        rec = {"image": idx, "exit_code": code, "wall_seconds": wall, "command": shlex.join(cmd)}
        if code != 0 or not os.path.exists(rep):
            rec["error"] = first_line(err) or "timeout"
            return rec
        r = read_json(rep)
        s = r.get("solve") or {}
        rec.update({
            "label": get(r, "image", "label"),
            "predicted": get(r, "image", "predicted"),
            "target": r.get("target"),
            "status": s.get("status"),
            "objective": s.get("objective"),
            "dual_bound": s.get("dual_bound"),
            "gap": s.get("gap"),
            "warm_started": s.get("warm_started"),
            "seconds": s.get("seconds"),
            "replayed_distance": get(s, "example", "distance"),
            "bounds_seconds": get(r, "timing", "bounds_seconds"),
            "timing": r.get("timing"),
            "model": {k: get(r, "model", k) for k in ("columns", "rows", "binaries", "relu_units",
                                                       "relu_unstable", "relu_stable")},
        })
        if isinstance(r.get("region"), dict):
            rec["region"] = r["region"]
        return rec

    # --- per net ----------------------------------------------------------------------------

    def run_net(self, net):
        stem = os.path.splitext(os.path.basename(net))[0]
        log(f"== {stem} ({net})")
        info = self.inspect(net)
        sha = get(info, "network", "sha256") or info.get("sha256")
        if not sha:
            import hashlib
            with open(net, "rb") as f:
                sha = hashlib.sha256(f.read()).hexdigest()
        relu_total = find_relu_total(info)
        res = {"file": os.path.relpath(os.path.abspath(net), REPO), "sha256": sha, "relu_total": relu_total,
               "bounds": {}, "solves": {}, "skipped": {}, "images": []}
        self.results["nets"][stem] = res

        # a. bounds for every box method, 1 and 2 threads.
        threads = [2] if self.a.skip_threads_1 else [1, 2]
        for m in [m for m in self.a.methods if m in BOX_METHODS]:
            res["bounds"][m] = {}
            for t in threads:
                rec = self.bounds(net, stem, m, t)
                res["bounds"][m][str(t)] = rec
                if not rec["ok"]:
                    loud(f"{stem}: bounds --method {m} --threads {t} failed ({rec['exit_code']}): {rec['error']}")
                    res["skipped"][m] = f"bounds failed: {rec['error']}"
                    break
            if m not in res["skipped"]:
                rec = res["bounds"][m]["2"]
                rec["width_layers"] = [l["index"] for l in width_layers(rec["layers"], info.get("layers"))]
                ws = [l["mean_width"] for l in rec["layers"] if l["index"] in rec["width_layers"]]
                rec["mean_width"] = sum(ws) / len(ws) if ws else None
            self.dump()

        # b. the images.
        res["images"] = self.qualifying_images(net, sha)
        log(f"  correctly classified test images used: {res['images']}")
        if len(res["images"]) < self.a.images:
            loud(f"{stem}: only {len(res['images'])} correctly classified images in the first {self.a.max_scan}")

        # c. solves.
        for m in self.a.methods:
            if m in res["skipped"]:
                continue
            bfile = res["bounds"][m]["2"]["file"] if m in BOX_METHODS else None
            recs = []
            for idx in res["images"]:
                rec = self.solve(net, stem, m, idx, bfile)
                if rec["exit_code"] == EXIT_BAD_COMMAND_LINE and m in REGION_METHODS and not recs:
                    log(f"  {m}: the binary rejects it (exit 2: {rec.get('error')}); skipped")
                    res["skipped"][m] = f"rejected by the CLI (exit 2): {rec.get('error')}"
                    break
                if rec["exit_code"] != 0:
                    loud(f"{stem} {m} image {idx}: adversarial failed ({rec['exit_code']}): {rec.get('error')}")
                else:
                    extra = ""
                    if m in REGION_METHODS:
                        extra = f", bounds {rec.get('bounds_seconds')} s, region keys {sorted((rec.get('region') or {}).keys())}"
                    log(f"  {m} image {idx}: {rec['status']} obj {rec['objective']} in {rec['seconds']} s{extra}")
                recs.append(rec)
            if m not in res["skipped"]:
                res["solves"][m] = recs
            self.dump()

        # d. agreement.
        self.check_agreement(stem, res)
        self.dump()

    def check_agreement(self, stem, res):
        tol = self.a.agree_tol
        for idx in res["images"]:
            per = {m: next((r for r in recs if r["image"] == idx), None) for m, recs in res["solves"].items()}
            opt = {m: r["objective"] for m, r in per.items()
                   if r and r.get("status") == "optimal" and isinstance(r.get("objective"), (int, float))}
            if not opt:
                continue
            lo_m, lo = min(opt.items(), key=lambda kv: kv[1])
            hi_m, hi = max(opt.items(), key=lambda kv: kv[1])
            if rel_diff(lo, hi) > tol:
                self.flag(stem, idx, f"optimal objectives differ: {lo_m} {lo!r} vs {hi_m} {hi!r} "
                                     f"(relative {rel_diff(lo, hi):.2e} > {tol:g})", opt)
            ref = statistics.median(opt.values())
            for m, r in per.items():
                if not r or r.get("status") == "optimal":
                    continue
                inc, dual = r.get("objective"), r.get("dual_bound")
                # A time-limited run: its incumbent must not beat the optimum, its dual bound must
                # not exceed it (both up to the tolerance).
                if isinstance(inc, (int, float)) and inc < ref and rel_diff(inc, ref) > tol:
                    self.flag(stem, idx, f"{m} ({r.get('status')}) incumbent {inc!r} is below the optimum {ref!r}", opt)
                if isinstance(dual, (int, float)) and dual > ref and rel_diff(dual, ref) > tol:
                    self.flag(stem, idx, f"{m} ({r.get('status')}) dual bound {dual!r} is above the optimum {ref!r}", opt)

    def flag(self, stem, idx, msg, opt):
        loud(f"DISAGREEMENT {stem} image {idx}: {msg}")
        self.disagreements.append({"net": stem, "image": idx, "message": msg, "optima": opt})

    # --- output -----------------------------------------------------------------------------

    def dump(self):
        self.results["disagreements"] = self.disagreements
        os.makedirs(os.path.dirname(os.path.abspath(self.a.json)), exist_ok=True)
        with open(self.a.json, "w") as f:
            json.dump(self.results, f, indent=1)
            f.write("\n")

    def close(self):
        if not self.a.keep_tmp:
            shutil.rmtree(self.tmp, ignore_errors=True)
        else:
            log(f"scratch files kept in {self.tmp}")


def solve_stats(recs, tl):
    """Median/max solve seconds (time-outs and failures count as the time limit), counts."""
    times, n_opt, n_to, censored = [], 0, 0, []
    for r in recs:
        st = r.get("status")
        sec = r.get("seconds")
        if st == "optimal" and isinstance(sec, (int, float)):
            times.append(float(sec))
            censored.append(False)
            n_opt += 1
        elif r.get("exit_code") == 0 and st not in ("optimal",) and "time" in str(st):
            times.append(float(tl))
            censored.append(True)
            n_to += 1
        elif r.get("exit_code") == 0 and isinstance(sec, (int, float)):
            # Solved to another final status (infeasible, ...): a real time.
            times.append(float(sec))
            censored.append(False)
        else:
            times.append(float(tl))
            censored.append(True)
    if not times:
        return None
    order = sorted(range(len(times)), key=lambda i: times[i])
    med = statistics.median(times)
    # The median is censored when any value it is made of is.
    n = len(times)
    mids = [order[(n - 1) // 2], order[n // 2]]
    med_cens = any(censored[i] for i in mids)
    mx_i = order[-1]
    return {"median": med, "median_censored": med_cens, "max": times[mx_i], "max_censored": censored[mx_i],
            "optimal": n_opt, "timeouts": n_to, "n": n}


def fmt_s(v, censored=False):
    if v is None:
        return "—"
    if censored:
        return f"≥{v:g}"
    s = f"{v:.3f}" if v < 10 else f"{v:.1f}" if v < 100 else f"{v:.0f}"
    return f"≥{s}" if censored else s


def render(bench, header):
    a, res_all = bench.a, bench.results
    tl = a.time_limit
    lines = list(header)
    for stem, res in res_all["nets"].items():
        lines += ["", f"## {stem}", "",
                  f"`{res['file']}`, sha256 `{res['sha256'][:16]}…`, {res['relu_total']} ReLUs; "
                  f"images (MNIST t10k indices, correctly classified): {res['images']}", ""]
        lines.append("| method | tightening s (1 thr) | tightening s (2 thr) | stable ReLUs / total | mean width "
                     "| solve s median | solve s max | #optimal/#images | #time-outs | speed-up (median vs interval) |")
        lines.append("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
        stats = {m: solve_stats(res["solves"][m], tl) for m in res["solves"]}
        base = stats.get("interval")
        for m in a.methods:
            if m in res["skipped"]:
                lines.append(f"| {m} | skipped: {res['skipped'][m]} | | | | | | | | |")
                continue
            st = stats.get(m)
            if m in BOX_METHODS:
                b = res["bounds"].get(m, {})
                t1 = fmt_s(b["1"]["seconds"]) if "1" in b else "(skipped)"
                t2 = fmt_s(b["2"]["seconds"]) if "2" in b else "—"
                un = b.get("2", {}).get("relu_unstable")
                stable = f"{res['relu_total'] - un} / {res['relu_total']}" if (
                    un is not None and res["relu_total"] is not None) else "—"
                mw = b.get("2", {}).get("mean_width")
                width = f"{mw:.4g}" if mw is not None else "—"
            else:
                recs = [r for r in res["solves"].get(m, []) if r.get("exit_code") == 0]
                bs = [r["bounds_seconds"] for r in recs if isinstance(r.get("bounds_seconds"), (int, float))]
                t1 = "—"
                t2 = f"{fmt_s(statistics.median(bs))}†" if bs else "—"
                stab = [get(r, "model", "relu_stable") for r in recs]
                stab = [s for s in stab if isinstance(s, (int, float))]
                stable = f"{statistics.median(stab):g}‡ / {res['relu_total']}" if stab else "—"
                width = "—"
            if st:
                med = fmt_s(st["median"], st["median_censored"])
                mx = fmt_s(st["max"], st["max_censored"])
                opt = f"{st['optimal']}/{st['n']}"
                tos = str(st["timeouts"])
                if base and st["median"] > 0:
                    sp = base["median"] / st["median"]
                    if base["median_censored"] and st["median_censored"]:
                        spd = "?"
                    elif base["median_censored"]:
                        spd = f"≥{sp:.2f}×"
                    elif st["median_censored"]:
                        spd = f"≤{sp:.2f}×"
                    else:
                        spd = f"{sp:.2f}×"
                else:
                    spd = "—"
            else:
                med = mx = opt = tos = spd = "—"
            lines.append(f"| {m} | {t1} | {t2} | {stable} | {width} | {med} | {mx} | {opt} | {tos} | {spd} |")
        # Which layers the width averages.
        wl = next((res["bounds"][m]["2"] for m in BOX_METHODS
                   if m in res["bounds"] and "2" in res["bounds"][m] and res["bounds"][m]["2"].get("ok")), None)
        if wl:
            names = [f"{l['index']}:{l.get('name')}" for l in wl["layers"] if l["index"] in wl.get("width_layers", [])]
            per = []
            for m in BOX_METHODS:
                r = res["bounds"].get(m, {}).get("2")
                if r and r.get("ok"):
                    per.append(f"{m} " + " / ".join(f"{l['mean_width']:.4g}" for l in r["layers"]
                                                     if l["index"] in r.get("width_layers", [])))
            lines += ["", f"Mean width = mean over layers {', '.join(names)} (the layers read by a ReLU, and the "
                          f"output) of each layer's mean `U-L`; per layer: " + "; ".join(per) + "."]
        # Region details.
        for m in REGION_METHODS:
            recs = [r for r in res["solves"].get(m, []) if r.get("exit_code") == 0]
            if not recs:
                continue
            keys = sorted({k for r in recs for k in (r.get("region") or {})})
            lines += ["", f"`{m}` report `region` keys present: {', '.join(keys) if keys else '(no region object)'}"]
            tot = [float(r["seconds"]) + float(r["bounds_seconds"]) for r in recs
                   if r.get("status") == "optimal" and isinstance(r.get("seconds"), (int, float))
                   and isinstance(r.get("bounds_seconds"), (int, float))]
            if tot:
                lines += ["", f"`{m}`, optimal runs: median per-image tightening + solve "
                              f"{fmt_s(statistics.median(tot))} s (max {fmt_s(max(tot))} s) over {len(tot)} images."]
            num_keys = [k for k in keys if all(isinstance((r.get("region") or {}).get(k), (int, float))
                                               for r in recs if k in (r.get("region") or {}))]
            if num_keys:
                lines.append("")
                lines.append("| image | status | solve s | bounds s | " + " | ".join(num_keys) + " |")
                lines.append("| ---: | --- | ---: | ---: |" + " ---: |" * len(num_keys))
                for r in recs:
                    reg = r.get("region") or {}
                    vals = [f"{reg[k]:.6g}" if k in reg else "—" for k in num_keys]
                    lines.append(f"| {r['image']} | {r.get('status')} | {fmt_s(r.get('seconds'))} | "
                                 f"{fmt_s(r.get('bounds_seconds'))} | " + " | ".join(vals) + " |")
        gaps = []
        for m, recs in res["solves"].items():
            g = [r["gap"] for r in recs if r.get("exit_code") == 0 and r.get("status") != "optimal"
                 and isinstance(r.get("gap"), (int, float))]
            if g:
                gaps.append(f"{m} {statistics.median(g):.3g} ({len(g)} runs)")
        if gaps:
            lines += ["", "Time-outs, median final relative gap: " + "; ".join(gaps) + "."]
        failed = [(m, r) for m, recs in res["solves"].items() for r in recs if r.get("exit_code") != 0]
        if failed:
            lines += ["", "Failed runs: " + "; ".join(f"{m} image {r['image']}: {r.get('error')}" for m, r in failed)]
    lines += ["", "## Objective agreement", ""]
    if bench.disagreements:
        lines.append(f"**{len(bench.disagreements)} DISAGREEMENT(S)** (relative tolerance {a.agree_tol:g}):")
        lines.append("")
        lines += [f"- **{d['net']} image {d['image']}**: {d['message']}" for d in bench.disagreements]
    else:
        lines.append(f"Every method that solved an image to optimality found the same objective (relative "
                     f"tolerance {a.agree_tol:g}); no time-limited incumbent beat an optimum and no dual bound "
                     f"exceeded one.")
    return "\n".join(lines) + "\n"


def machine_info(nnmilp):
    info = {"nproc": os.cpu_count(), "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
            "python": platform.python_version(), "platform": platform.platform()}
    try:
        info["nproc"] = int(subprocess.run(["nproc"], capture_output=True, text=True).stdout.strip())
    except (OSError, ValueError):
        pass
    try:
        with open("/proc/cpuinfo") as f:
            info["cpu"] = next((l.split(":", 1)[1].strip() for l in f if l.startswith("model name")), None)
    except OSError:
        info["cpu"] = None
    try:
        info["loadavg_start"] = os.getloadavg()
    except OSError:
        pass
    code, out, err, _ = run([nnmilp, "--version"])
    info["nnmilp_version"] = (out or err).strip() if code == 0 else f"(--version failed: {first_line(err)})"
    info["nnmilp"] = nnmilp
    return info


def parse_args(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    ap.add_argument("--nnmilp", default=os.path.join(REPO, "target", "release", "nnmilp"),
                    help="the nnmilp binary")
    ap.add_argument("--nets", nargs="+", default=DEFAULT_NETS, help="ONNX networks (relative to the repo root or cwd)")
    ap.add_argument("--methods", nargs="+", default=ALL_METHODS, choices=ALL_METHODS, help="bounds methods")
    ap.add_argument("--images", type=int, default=None, help="correctly classified images per net (default 10; --quick: 2)")
    ap.add_argument("--time-limit", type=float, default=None, help="seconds per adversarial solve (default 60; --quick: 10)")
    ap.add_argument("--unit-time-limit", type=float, default=1.0, help="seconds per LP/MILP in lp/milp/region tightening")
    ap.add_argument("--skip-threads-1", action="store_true", help="time the bounds with 2 threads only")
    ap.add_argument("--quick", action="store_true", help="smoke test: 2 images, time limit 10 (unless given)")
    ap.add_argument("--solve-threads", type=int, default=None, help="pass --threads N to adversarial (default: the binary's)")
    ap.add_argument("--warm-start", action="store_true",
                    help="pass --warm-start to the box methods' solves too (region methods always warm-start)")
    ap.add_argument("--mnist", default=os.path.join(REPO, "..", "shared", "data", "mnist"), help="MNIST folder")
    ap.add_argument("--out", default=os.path.join(HERE, "results", "tightening.md"), help="markdown output")
    ap.add_argument("--json", default=None, help="raw JSON output (default: --out with .json)")
    ap.add_argument("--agree-tol", type=float, default=1e-4, help="relative tolerance for equal optima")
    ap.add_argument("--max-scan", type=int, default=200, help="test images to scan for correctly classified ones")
    ap.add_argument("--bounds-timeout", type=float, default=None, help="kill a bounds run after this many seconds")
    ap.add_argument("--no-cache", action="store_true", help="do not read/write the qualifying-image cache")
    ap.add_argument("--keep-tmp", action="store_true", help="keep the scratch bounds files and reports")
    a = ap.parse_args(argv)
    if a.images is None:
        a.images = 2 if a.quick else 10
    if a.time_limit is None:
        a.time_limit = 10.0 if a.quick else 60.0
    if a.time_limit == int(a.time_limit):
        a.time_limit = int(a.time_limit)
    if a.unit_time_limit == int(a.unit_time_limit):
        a.unit_time_limit = int(a.unit_time_limit)
    if a.json is None:
        a.json = os.path.splitext(a.out)[0] + ".json"
    a.nnmilp = os.path.abspath(a.nnmilp)
    if not os.access(a.nnmilp, os.X_OK):
        ap.error(f"no executable nnmilp at {a.nnmilp} (pass --nnmilp)")
    nets = []
    for n in a.nets:
        cand = [n, os.path.join(REPO, n)]
        p = next((c for c in cand if os.path.exists(c)), None)
        if p is None:
            ap.error(f"network not found: {n}")
        nets.append(os.path.abspath(p))
    a.nets = nets
    imgs = [os.path.join(a.mnist, f) for f in ("t10k-images-idx3-ubyte", "t10k-images-idx3-ubyte.gz")]
    a.idx_images = next((os.path.abspath(p) for p in imgs if os.path.exists(p)), None)
    if a.idx_images is None:
        ap.error(f"no t10k-images-idx3-ubyte[.gz] in {a.mnist} (pass --mnist)")
    return a


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    a = parse_args(argv)
    t0 = time.monotonic()
    bench = Bench(a)
    info = machine_info(a.nnmilp)
    cmdline = "python3 " + shlex.join([os.path.relpath(os.path.abspath(sys.argv[0]), REPO), *argv])
    bench.results.update({"machine": info, "command": cmdline,
                          "settings": {k: v for k, v in vars(a).items()}})
    try:
        for net in a.nets:
            bench.run_net(net)
    finally:
        bench.results["total_seconds"] = time.monotonic() - t0
        bench.dump()
        bench.close()
    header = [
        "# Bound tightening vs. adversarial solve time",
        "",
        f"- machine: {info['nproc']} cores ({info.get('cpu')}), {info['platform']}, load average at start "
        f"{', '.join(f'{x:.2f}' for x in info.get('loadavg_start', ()))}",
        f"- date: {info['date']}",
        f"- binary: `{info['nnmilp_version']}` (`{a.nnmilp}`)",
        f"- command: `{cmdline}`",
        f"- settings: {a.images} images per net, solve time limit {a.time_limit} s, unit time limit "
        f"{a.unit_time_limit} s, HiGHS threads for the solve: {a.solve_threads or 'binary default'}; "
        f"total run {bench.results['total_seconds']:.0f} s",
        "",
        "Notes:",
        "",
        "- Task: `nnmilp adversarial NET --image t10k-images-idx3-ubyte:N --solve` (targeted L1, Fischetti & Jo's "
        "default target and 20% margin) for the first correctly classified MNIST test images.",
        "- Tightening s: the whole chain `interval → … → method` (sum of the stage seconds in the bounds file) "
        "over the input box [0,1]^784, with `--threads 1` and `--threads 2`. Box methods solve with the "
        "2-thread bounds file (`--bounds-file`), so their solve time excludes tightening.",
        "- Region methods (`--bounds region-lp|region-milp`) tighten per image; their tightening column (†) "
        "is the median `timing.bounds_seconds` per image, and stable ReLUs (‡) the median of the report's "
        "`model.relu_stable`.",
        "- Solve s: HiGHS's `solve.seconds` (excluding loading, bounds and lowering). Time-outs (and failed runs) "
        f"count as the time limit ({a.time_limit} s) in median and max and are marked ≥.",
        "- Speed-up: interval's median solve time divided by the method's (≥/≤ when one side is a time-out).",
        "- Region methods always start HiGHS from the first-order search's example (`--warm-start`); the box "
        "methods " + ("do too (`--warm-start` passed)." if a.warm_start else "do not (run with `--warm-start` to "
                                                                              "give them the same start)."),
    ]
    text = render(bench, header)
    os.makedirs(os.path.dirname(os.path.abspath(a.out)), exist_ok=True)
    with open(a.out, "w") as f:
        f.write(text)
    print(text)
    log(f"wrote {a.out} and {a.json} ({bench.results['total_seconds']:.0f} s)")
    if bench.disagreements:
        loud(f"{len(bench.disagreements)} objective disagreement(s), see {a.out}")
        return 3
    return 0


if __name__ == "__main__":
    sys.exit(main())
