#!/usr/bin/env python3
"""Fischetti & Jo's computational study, driven through the `nnmilp` binary (issue 13).

    nice -n 10 python3 study/run.py                       # the default reduced run (see --help)
    nice -n 10 python3 study/run.py --images 100 --time-limit 300 --out study/results/paper

For every network (study/nets/DNNk.onnx, made by study/train.py) and every bounds setting it
builds and solves the adversarial MILP of the paper for the first N correctly classified MNIST
test images: targeted (target (d + 5) mod 10), L1 distance, relative margin 20%
(`y_T >= 1.2 y_j`), one solver thread per instance, `--jobs` instances at a time. Run it from
anywhere; every command it runs is spelled relative to the repository root and run from there,
so the manifest's command lines regenerate the archived files byte for byte.

Settings (`--settings`):

    none             the paper's "no bound tightening": indicator constraints instead of big-M
                     rows (`--relu indicator --for scip`; columns keep their interval bounds, the
                     rows carry no big-M). HiGHS refuses indicators, so SCIP (pyscipopt) solves
                     the file.
    interval         big-M from interval arithmetic, HiGHS (nnmilp --solve)
    symbolic         big-M from symbolic bounds over the box
    lp, milp         box bounds computed once per network with `nnmilp bounds --method M
                     --unit-time-limit 1` (milp is the paper's tightening) and `--bounds-file`
    region-symbolic, region-lp, region-milp
                     nnmilp's per-image tightening inside the ball of a first-order example,
                     `--unit-time-limit` from --region-unit-time-limit (default inf: a limit that
                     fires under load would make the file depend on the machine)
    default          no bounds flag: whatever this nnmilp version does by default (with the
                     region settings' --unit-time-limit, as auto may pick region-lp)

Resumable: each finished instance is one line of `OUT/instances.csv`, written with a single
append; a rerun skips every (net, setting, image) already there, so killing and rerunning redoes
nothing that finished. Also writes `OUT/reports/` (nnmilp's JSON reports and SCIP's answers),
`OUT/results.md` (the tables) and, into `--archive`, the instance files (`.mps.gz`, and `.lp.gz`
for the `--lp-settings`), the images as PNG, the box bounds files and `manifest.csv` / `manifest.md`.

Every reported example is replayed here too, through a float64 forward pass over the ONNX
weights that shares no code with nnmilp: distance, target and margin are checked, and a failure
is reported loudly (exit code 3), as is any disagreement between settings on an optimum.

Needs python3 with numpy and onnx; pyscipopt for `none`.
"""

import argparse
import concurrent.futures
import csv
import datetime
import gzip
import hashlib
import io
import json
import os
import platform
import re
import shlex
import statistics
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)

NETS = ["DNN1", "DNN2", "DNN3", "DNN4", "DNN5"]
BOX_FILE_METHODS = ["lp", "milp"]
SETTINGS = ["none", "interval", "symbolic", "lp", "milp", "region-symbolic", "region-lp", "region-milp",
            "default"]
DEFAULT_SETTINGS = ["none", "interval", "milp", "symbolic", "lp", "region-symbolic", "region-lp", "default"]
MARGIN = 0.2
# Replayed distance vs solver objective, and margins on the replayed outputs: nnmilp's own
# tolerance (tasks::REPLAY_TOLERANCE), 1e-5 (1 + |value|).
REPLAY_TOL = 1e-5
# Two optima of the same image from different settings must agree to HiGHS's/SCIP's precision.
AGREE_TOL = 1e-4
EXIT_CHECK_FAILED = 3

CSV_FIELDS = ["net", "setting", "image", "label", "target", "solver", "status", "objective", "dual_bound",
              "gap", "solve_seconds", "nodes", "bounds_seconds", "binaries", "relu_unstable", "rows",
              "columns", "replayed_distance", "replay", "wall_seconds", "model_file", "model_sha256",
              "lp_file", "lp_sha256", "report"]


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def loud(msg):
    log("!" * 78 + f"\n!!! {msg}\n" + "!" * 78)


def sha256_of(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def write_atomic(path, data):
    tmp = f"{path}.tmp{os.getpid()}"
    with open(tmp, "wb" if isinstance(data, bytes) else "w") as f:
        f.write(data)
    os.replace(tmp, path)


def rel(path):
    """A path as the commands spell it: relative to the repository root when inside it."""
    p = os.path.abspath(path)
    r = os.path.relpath(p, REPO)
    return p if r.startswith("..") else r


def fnum(v):
    return "" if v is None else repr(float(v))


def to_float(s):
    return None if s in ("", None) else float(s)


# ---------------------------------------------------------------------------------------------
# The network, independently of nnmilp: float64 forward pass over the ONNX initializers
# ---------------------------------------------------------------------------------------------

class Net:
    """A Gemm(transB=1)/Relu chain as study/train.py exports it."""

    def __init__(self, path):
        import numpy as np
        import onnx
        from onnx import numpy_helper
        self.np = np
        model = onnx.load(path)
        inits = {t.name: numpy_helper.to_array(t).astype(np.float64) for t in model.graph.initializer}
        self.layers = []
        for node in model.graph.node:
            if node.op_type == "Gemm":
                attrs = {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}
                if attrs.get("transB") != 1 or attrs.get("alpha", 1.0) != 1.0 or attrs.get("beta", 1.0) != 1.0:
                    raise SystemExit(f"{path}: node {node.name}: only Gemm(transB=1, alpha=beta=1) is supported here")
                self.layers.append([inits[node.input[1]], inits[node.input[2]], False])
            elif node.op_type == "Relu":
                self.layers[-1][2] = True
            else:
                raise SystemExit(f"{path}: node {node.name}: op {node.op_type} is not part of the study's nets")
        self.hidden = [w.shape[0] for w, _, _ in self.layers[:-1]]
        self.path = path
        self.sha256 = sha256_of(path)

    def forward(self, x):
        a = self.np.asarray(x, dtype=self.np.float64)
        for w, b, relu in self.layers:
            a = a @ w.T + b
            if relu:
                a = self.np.maximum(a, 0.0)
        return a


def replay(net, image, target, example, objective):
    """Checks an example through `net`: (replayed L1 distance, None) or (distance, what failed)."""
    np = net.np
    x = np.asarray(example, dtype=np.float64)
    if x.shape != (784,) or not np.all(np.isfinite(x)) or x.min() < -1e-9 or x.max() > 1 + 1e-9:
        return None, "example is not a point of [0,1]^784"
    y = net.forward(x)
    dist = float(np.abs(x - image).sum())
    if objective is not None and abs(dist - objective) > REPLAY_TOL * (1 + abs(objective)):
        return dist, f"replayed distance {dist} differs from the objective {objective}"
    for j in range(10):
        if j != target and y[target] - (1 + MARGIN) * y[j] < -REPLAY_TOL * (1 + abs(y[target]) + abs(y[j])):
            return dist, f"margin over class {j} fails on replay: y_T {y[target]}, y_j {y[j]}"
    return dist, None


# ---------------------------------------------------------------------------------------------
# MNIST test images
# ---------------------------------------------------------------------------------------------

def load_test_images(mnist):
    import numpy as np
    sys.path.insert(0, os.path.join(REPO, "fixtures"))
    from make_fixtures import read_idx  # noqa: E402  (one IDX reader for every script)
    x = read_idx(os.path.join(mnist, "t10k-images-idx3-ubyte.gz")).reshape(-1, 784)
    y = read_idx(os.path.join(mnist, "t10k-labels-idx1-ubyte.gz")).astype(int)
    return x, y


def write_png(path, pixels):
    from make_fixtures import png_gray8  # fixtures/ is on sys.path after load_test_images
    if not os.path.exists(path):
        write_atomic(path, png_gray8(pixels.reshape(28, 28)))


# ---------------------------------------------------------------------------------------------
# Model files
# ---------------------------------------------------------------------------------------------

def mps_stats(path):
    """rows (objective excluded), columns, integer columns, nonzeros (objective excluded),
    indicators of a free MPS file as nnmilp writes it (gzip by suffix)."""
    opener = gzip.open if path.endswith(".gz") else open
    rows = cols = ints = nnz = inds = 0
    obj = None
    section = None
    seen = set()
    integer = False
    with opener(path, "rt") as f:
        for line in f:
            if line.startswith("*") or not line.strip():
                continue
            if not line[0].isspace():
                section = line.split()[0]
                continue
            t = line.split()
            if section == "ROWS":
                if t[0] == "N":
                    obj = t[1]
                else:
                    rows += 1
            elif section == "COLUMNS":
                if len(t) >= 3 and t[1] == "'MARKER'":
                    integer = t[2] == "'INTORG'"
                    continue
                if t[0] not in seen:
                    seen.add(t[0])
                    cols += 1
                    ints += integer
                nnz += sum(1 for r in t[1::2] if r != obj)
            elif section == "INDICATORS":
                inds += 1
    return {"rows": rows, "columns": cols, "integers": ints, "nonzeros": nnz, "indicators": inds}


# ---------------------------------------------------------------------------------------------
# The study
# ---------------------------------------------------------------------------------------------

class Study:
    def __init__(self, a):
        self.a = a
        self.out = os.path.abspath(a.out)
        self.archive = os.path.abspath(a.archive)
        os.makedirs(os.path.join(self.out, "reports"), exist_ok=True)
        os.makedirs(os.path.join(self.archive, "images"), exist_ok=True)
        self.bounds_dir = os.path.abspath(a.bounds_dir or os.path.join(self.archive, "bounds"))
        os.makedirs(self.bounds_dir, exist_ok=True)
        self.csv_path = os.path.join(self.out, "instances.csv")
        self.lock = threading.Lock()
        self.failures = []
        self.nets = {}
        self.box_bounds = {}  # (net, method) -> {"file", "seconds", "relu_unstable"}
        self.nnmilp = os.path.abspath(a.nnmilp)

    # --- the journal --------------------------------------------------------------------------

    def done(self):
        if not os.path.exists(self.csv_path):
            with open(self.csv_path, "w", newline="") as f:
                csv.writer(f, lineterminator="\n").writerow(CSV_FIELDS)
            return {}
        rows = {}
        with open(self.csv_path, newline="") as f:
            for r in csv.DictReader(f):
                if None in r or any(v is None for v in r.values()):
                    continue  # a line cut short by a crash: redo that instance
                rows[(r["net"], r["setting"], int(r["image"]))] = r
        return rows

    def record(self, row):
        buf = io.StringIO()
        csv.writer(buf, lineterminator="\n").writerow([row.get(k, "") for k in CSV_FIELDS])
        data = buf.getvalue().encode()
        with self.lock:
            fd = os.open(self.csv_path, os.O_WRONLY | os.O_APPEND)
            try:
                os.write(fd, data)  # one write of one line: a kill leaves it whole or absent
            finally:
                os.close(fd)

    # --- commands -----------------------------------------------------------------------------

    def run(self, argv, timeout=None):
        t0 = time.monotonic()
        p = subprocess.run(argv, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                           timeout=timeout)
        return p, time.monotonic() - t0

    def nn_cmd(self, *args):
        """The command as the manifest prints it (`nnmilp ...`) and as it is run."""
        shown = ["nnmilp", *map(str, args)]
        return shown, [self.nnmilp, *map(str, args)]

    # --- per network --------------------------------------------------------------------------

    def qualifying(self, name, net, x, y):
        np = net.np
        pred = net.forward(x.astype(np.float64) / 255.0).argmax(axis=1)
        idx = [int(i) for i in np.nonzero(pred == y)[0][:self.a.images]]
        for k in idx:
            write_png(self.image_path(k), x[k])
        return idx

    def image_path(self, k):
        return os.path.join(self.archive, "images", f"t10k_{k:05d}.png")

    def bounds_file(self, name, net, method):
        path = os.path.join(self.bounds_dir, f"{name}.{method}.json")
        if os.path.exists(path):
            b = json.load(open(path))
            if b.get("sha256") == net.sha256:
                return path, b
            log(f"  {rel(path)} is for another network: recomputing")
        shown, argv = self.nn_cmd("bounds", rel(net.path), "--method", method, "--unit-time-limit",
                                  self.a.unit_time_limit, "--threads", self.a.jobs, "-o", rel(path))
        log(f"  $ {shlex.join(shown)}")
        p, wall = self.run(argv)
        if p.returncode != 0:
            raise SystemExit(f"{shlex.join(shown)} failed ({p.returncode}): {p.stderr.strip()}")
        return path, json.load(open(path))

    # --- per instance -------------------------------------------------------------------------

    def setting_flags(self, name, setting):
        if setting == "none":
            # Indicators are not read alike by all six solvers, so the file is written for SCIP,
            # the solver that solves it here (Gurobi and CPLEX read the same file).
            return ["--relu", "indicator", "--bounds", "interval", "--for", "scip"]
        if setting in ("interval", "symbolic"):
            return ["--bounds", setting]
        if setting in BOX_FILE_METHODS:
            return ["--bounds-file", rel(self.box_bounds[(name, setting)]["file"])]
        if setting.startswith("region-"):
            # Not the box files' 1 s: a per-unit limit that fires makes the file depend on the
            # machine's load, and `inf` keeps every region file byte-reproducible from its line.
            return ["--bounds", setting, "--unit-time-limit", self.a.region_unit_time_limit, "--bounds-threads", "1"]
        if setting == "default":
            # No bounds flag (the version's own choice, `auto`), but the region per-unit limit: auto
            # picks region-lp for 50-200 ReLUs, whose 1 s default limit could fire under load.
            return ["--unit-time-limit", self.a.region_unit_time_limit]
        raise ValueError(setting)

    def instance_name(self, name, setting, k):
        return f"{name}_t{k:05d}_{setting}"

    def model_args(self, name, setting, k, label, out):
        net = self.nets[name]
        return ["adversarial", rel(net.path), "--image", rel(self.image_path(k)), "--label", label,
                "--margin", MARGIN, "--margin-kind", "relative", *self.setting_flags(name, setting),
                "-o", rel(out)]

    def solve_instance(self, name, setting, k, label):
        net = self.nets[name]
        inst = self.instance_name(name, setting, k)
        folder = os.path.join(self.archive, name)
        os.makedirs(folder, exist_ok=True)
        mps = os.path.join(folder, f"{inst}.mps.gz")
        report = os.path.join(self.out, "reports", f"{inst}.json")
        image = net.np.asarray(self.pixels[k], dtype=net.np.float64) / 255.0
        target = (label + 5) % 10
        row = {"net": name, "setting": setting, "image": k, "label": label, "target": target}
        t0 = time.monotonic()
        model_args = self.model_args(name, setting, k, label, mps)
        if setting == "none":
            shown, argv = self.nn_cmd(*model_args, "--report", rel(report))
            p, _ = self.run(argv)
            if p.returncode != 0:
                return self.fail(row, f"{shlex.join(shown)}: exit {p.returncode}: {p.stderr.strip()}")
            rep = json.load(open(report))
            ans = scip_solve(mps, self.a.time_limit, image)
            ans_path = os.path.join(self.out, "reports", f"{inst}.scip.json")
            write_atomic(ans_path, json.dumps(ans) + "\n")
            example = ans.pop("input", None)
            row.update(solver=ans["solver"], status=ans["status"], objective=fnum(ans["objective"]),
                       dual_bound=fnum(ans["dual_bound"]), gap=fnum(ans["gap"]),
                       solve_seconds=fnum(ans["seconds"]), nodes=ans["nodes"])
        else:
            shown, argv = self.nn_cmd(*model_args, "--solve", "--threads", 1, "--time-limit", self.a.time_limit,
                                      "--verbose", "--report", rel(report))
            p, _ = self.run(argv)
            if p.returncode != 0:
                return self.fail(row, f"{shlex.join(shown)}: exit {p.returncode}: {p.stderr.strip()}")
            rep = json.load(open(report))
            s = rep["solve"]
            nodes = re.findall(r"^\s*Nodes\s+(\d+)\s*$", p.stdout + p.stderr, re.M)
            example = (s.get("example") or {}).get("input")
            row.update(solver="HiGHS", status=s["status"], objective=fnum(s.get("objective")),
                       dual_bound=fnum(s.get("dual_bound")), gap=fnum(s.get("gap")),
                       solve_seconds=fnum(s["seconds"]), nodes=nodes[-1] if nodes else "")
        if rep["image"]["predicted"] != label:
            return self.fail(row, f"{inst}: nnmilp predicts {rep['image']['predicted']}, numpy {label}")
        if rep["target"] != target:
            return self.fail(row, f"{inst}: nnmilp's target {rep['target']}, the rule gives {target}")
        m = rep["model"]
        row.update(bounds_seconds=fnum(rep["timing"]["bounds_seconds"]), binaries=m["binaries"],
                   relu_unstable=m["relu_unstable"], rows=m["rows"], columns=m["columns"],
                   model_file=rel(mps), model_sha256=sha256_of(mps), report=rel(report))
        if example is not None:
            dist, err = replay(net, image, target, example, to_float(row["objective"]))
            row["replayed_distance"] = fnum(dist)
            row["replay"] = "ok" if err is None else "FAILED"
            if err:
                self.failure(f"{inst}: {err}")
        else:
            row["replay"] = "no example"
        if self.a.lp_settings is None or setting in self.a.lp_settings:
            lp = mps[: -len(".mps.gz")] + ".lp.gz"
            shown, argv = self.nn_cmd(*self.model_args(name, setting, k, label, lp))
            p, _ = self.run(argv)
            if p.returncode != 0:
                return self.fail(row, f"{shlex.join(shown)}: exit {p.returncode}: {p.stderr.strip()}")
            row.update(lp_file=rel(lp), lp_sha256=sha256_of(lp))
        row["wall_seconds"] = f"{time.monotonic() - t0:.2f}"
        self.record(row)
        log(f"  {inst}: {row['status']} {row['objective'] or '-'} in {float(row['solve_seconds']):.2f} s "
            f"({row['solver']}, nodes {row['nodes'] or '?'}, replay {row['replay']})")
        return row

    def failure(self, msg):
        loud(msg)
        with self.lock:
            self.failures.append(msg)

    def fail(self, row, msg):
        self.failure(msg)
        return None

    # --- the whole run --------------------------------------------------------------------------

    def main(self):
        a = self.a
        x, y = load_test_images(a.mnist)
        self.pixels = x
        done = self.done()
        todo = []
        self.images = {}
        for name in a.nets:
            net = self.nets[name] = Net(os.path.join(a.nets_dir, f"{name}.onnx"))
            self.images[name] = self.qualifying(name, net, x, y)
            log(f"{name}: hidden {net.hidden}, images {self.images[name]}")
            for method in BOX_FILE_METHODS:
                if method in a.settings:
                    path, b = self.bounds_file(name, net, method)
                    stages = b.get("report", {}).get("stages", [])
                    self.box_bounds[(name, method)] = {
                        "file": path, "relu_unstable": b.get("relu_unstable"),
                        "seconds": sum(float(s.get("seconds", 0)) for s in stages)}
        # Net-major (in the order --nets names them), every setting of an image together: a run
        # cut short has whole nets, and all settings for each image of the net it stopped in.
        for name in a.nets:
            for i in range(a.images):
                for setting in a.settings:
                    k = self.images[name][i] if i < len(self.images[name]) else None
                    if k is not None and (name, setting, k) not in done:
                        todo.append((name, setting, k, int(y[k])))
        if a.tables_only:
            log(f"{len(done)} instances done, {len(todo)} not run: writing the tables and manifest of what finished")
            todo = []
        log(f"{len(done)} instances already done, {len(todo)} to run, {a.jobs} at a time")
        with concurrent.futures.ThreadPoolExecutor(max_workers=a.jobs) as pool:
            futures = [pool.submit(self.solve_instance, *t) for t in todo]
            for fut in concurrent.futures.as_completed(futures):
                fut.result()
        journal = list(self.done().values())
        rows = [r for r in journal if r["net"] in a.nets and r["setting"] in a.settings
                and int(r["image"]) in self.images[r["net"]]]
        # The manifest lists every instance of the journal, whichever nets and settings this run
        # was given: a run that adds a few instances must not drop the others' lines.
        for name in sorted({r["net"] for r in journal} - set(self.nets)):
            self.nets[name] = Net(os.path.join(a.nets_dir, f"{name}.onnx"))
        for name, method in sorted({(r["net"], r["setting"]) for r in journal if r["setting"] in BOX_FILE_METHODS}):
            if (name, method) not in self.box_bounds:
                self.box_bounds[(name, method)] = {"file": self.bounds_file(name, self.nets[name], method)[0]}
        self.check_agreement(journal)
        self.write_tables(rows)
        write_manifest(self, journal)
        if self.failures:
            loud(f"{len(self.failures)} check(s) failed:\n" + "\n".join(self.failures))
            sys.exit(EXIT_CHECK_FAILED)

    def check_agreement(self, rows):
        """Every setting is the same problem: the optima of one image must agree, no incumbent may
        lie below an optimum and no dual bound above one."""
        by_image = {}
        for r in rows:
            by_image.setdefault((r["net"], int(r["image"])), []).append(r)
        self.best = {}
        for key, rs in sorted(by_image.items()):
            opt = [(to_float(r["objective"]), r) for r in rs if r["status"] == "optimal"]
            if opt:
                lo = min(v for v, _ in opt)
                hi = max(v for v, _ in opt)
                if hi - lo > AGREE_TOL * (1 + abs(lo)):
                    self.failure(f"{key}: optima disagree: " + ", ".join(f"{r['setting']} {v}" for v, r in opt))
            opt_v = statistics.median([v for v, _ in opt]) if opt else None
            incumbents = [to_float(r["objective"]) for r in rs if r["objective"]]
            bounds = [to_float(r["dual_bound"]) for r in rs if r["dual_bound"]]
            if opt_v is not None:
                for r in rs:
                    v, d = to_float(r["objective"]), to_float(r["dual_bound"])
                    if v is not None and v < opt_v - AGREE_TOL * (1 + opt_v):
                        self.failure(f"{key} {r['setting']}: incumbent {v} below the optimum {opt_v}")
                    if d is not None and d > opt_v + AGREE_TOL * (1 + opt_v):
                        self.failure(f"{key} {r['setting']}: dual bound {d} above the optimum {opt_v}")
            self.best[key] = {
                "optimum": opt_v,
                "proved_by": sorted({f"{r['solver']} ({r['setting']})" for _, r in opt}),
                "best_known": min(incumbents) if incumbents else None,
                "best_bound": opt_v if opt_v is not None else (max(bounds) if bounds else None),
            }

    def write_tables(self, rows):
        a = self.a
        lines = [
            "# Fischetti & Jo's study, as run by study/run.py",
            "",
            f"- run: {datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%d %H:%M UTC')}, "
            f"{platform.node() and 'host'} {platform.machine()}, {os.cpu_count()} cores, python {platform.python_version()}",
            f"- protocol: first {a.images} correctly classified test images per net, targeted L1, target (d+5) mod 10, "
            f"relative margin {MARGIN}, time limit {a.time_limit} s, 1 solver thread per instance, "
            f"{a.jobs} instances in parallel, box bounds (lp, milp) with {a.unit_time_limit} s per unit, "
            f"region methods with {a.region_unit_time_limit} s per unit",
            f"- settings: {', '.join(a.settings)}",
            "",
            "Columns: **solved** = optimal within the time limit; **nodes** = branch-and-bound nodes, mean over the "
            "solved instances; **tightening s** = lp/milp: once per network over the whole box (`nnmilp bounds`), "
            "others: median per image (`timing.bounds_seconds`, for region methods the first-order search and the "
            "tightening in its ball); **solve s mean** counts a time-out as the time limit; **objective mean** = "
            "mean L1 distance over the images the setting solved; "
            "**binaries** = median binaries left in the model; **image s mean** = per-image tightening + solve "
            "(what a user waits for one image; lp/milp's once-per-network cost is not in it).",
            "",
        ]
        for name in a.nets:
            rs_net = [r for r in rows if r["net"] == name]
            if not rs_net:
                continue
            net = self.nets[name]
            # A run cut short (or still running) has fewer images for later nets: say how many.
            started = [k for k in self.images[name] if any(int(r["image"]) == k for r in rs_net)]
            # A net run in some settings only (the large ones, where each open instance costs the
            # whole time limit) gets a table of those settings.
            present = [s for s in a.settings if any(r["setting"] == s for r in rs_net)]
            whole = [k for k in started if all(any(int(r["image"]) == k and r["setting"] == s for r in rs_net)
                                               for s in present)]
            partial = "" if len(whole) == a.images else (
                f"; {len(whole)} of {a.images} images finished in every setting"
                + ("" if len(present) == len(a.settings) else f" run ({', '.join(present)})")
                + (f", image {started[-1]} (in {len([r for r in rs_net if int(r['image']) == started[-1]])} of "
                   f"{len(present)} settings) left out of the table" if len(started) > len(whole) else ""))
            # The table compares settings on the same images only.
            rs_net = [r for r in rs_net if int(r["image"]) in whole]
            started = whole
            if not rs_net:
                continue
            lines += [f"## {name} (hidden {tuple(net.hidden)}, {sum(net.hidden)} ReLUs{partial})", "",
                      "| setting | solver | solved | nodes | tightening s | solve s mean | solve s median | "
                      "time-outs | objective mean | binaries | image s mean |",
                      "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
            for s in a.settings:
                rs = [r for r in rs_net if r["setting"] == s]
                if not rs:
                    continue
                solved = [r for r in rs if r["status"] == "optimal"]
                tl = float(a.time_limit)
                times = [float(r["solve_seconds"]) if r["status"] in ("optimal", "infeasible") else tl for r in rs]
                nodes = [int(r["nodes"]) for r in solved if r["nodes"]]
                if s in BOX_FILE_METHODS:
                    tight = f"{self.box_bounds[(name, s)]['seconds']:.1f} (once)"
                else:
                    tight = f"{statistics.median(float(r['bounds_seconds'] or 0) for r in rs):.3f}"
                objs = [float(r["objective"]) for r in solved]
                timeouts = sum(1 for r in rs if r["status"] == "time_limit")
                lines.append(
                    f"| {s} | {rs[0]['solver']} | {len(solved)}/{len(rs)} ({100 * len(solved) / len(rs):.0f}%) | "
                    f"{statistics.mean(nodes) if nodes else float('nan'):.0f} | {tight} | {statistics.mean(times):.2f} | "
                    f"{'≥ ' if statistics.median(times) >= tl else ''}{statistics.median(times):.2f} | {timeouts} | "
                    f"{statistics.mean(objs) if objs else float('nan'):.3f} | "
                    f"{statistics.median(int(r['binaries']) for r in rs):.0f} | "
                    f"{statistics.mean(t + float(r['bounds_seconds'] or 0) for t, r in zip(times, rs)):.2f} |")
            lines.append("")
            known = [self.best[(name, k)] for k in started if (name, k) in self.best]
            lines.append(f"Images: {', '.join(map(str, started))}. Optimum per image (any setting; "
                         f"`open`: best known / best bound): " + ", ".join(
                             f"{b['optimum']:.4f}" if b["optimum"] is not None else
                             f"open {b['best_known'] or float('nan'):.4f} / {b['best_bound'] or 0.0:.4f}"
                             for b in known) + ".")
            lines.append("")
        if self.failures:
            lines += ["## Failed checks", ""] + [f"- {f}" for f in self.failures] + [""]
        write_atomic(os.path.join(self.out, "results.md"), "\n".join(lines))
        log(f"wrote {rel(os.path.join(self.out, 'results.md'))}")


# ---------------------------------------------------------------------------------------------
# SCIP on the indicator model (the paper's "no bound tightening")
# ---------------------------------------------------------------------------------------------

def scip_solve(path, time_limit, image):
    """SCIP on the file; the example's input is `in_j` where the model has that column, else the
    split form's `img_j + p_j - n_j` (a direction the box fixes has no column: 0)."""
    import pyscipopt
    m = pyscipopt.Model()
    m.hideOutput()
    m.readProblem(path)
    m.setParam("limits/time", float(time_limit))
    m.setParam("limits/gap", 0.0)
    m.setParam("parallel/maxnthreads", 1)
    m.setParam("randomization/randomseedshift", 0)
    t0 = time.monotonic()
    m.optimize()
    wall = time.monotonic() - t0
    st = m.getStatus()
    status = {"optimal": "optimal", "timelimit": "time_limit", "infeasible": "infeasible"}.get(st, st)
    ans = {"solver": f"SCIP {m.version()}", "status": status, "status_text": st, "seconds": m.getSolvingTime(),
           "wall_seconds": wall, "nodes": m.getNNodes(), "objective": None, "dual_bound": None, "gap": None}
    if m.getNSols() > 0:
        sol = m.getBestSol()
        ans["objective"] = m.getSolObjVal(sol)
        vals = {v.name: m.getSolVal(sol, v) for v in m.getVars()}
        ans["input"] = [vals[f"in_{j}"] if f"in_{j}" in vals
                        else float(image[j]) + vals.get(f"p_{j}", 0.0) - vals.get(f"n_{j}", 0.0)
                        for j in range(len(image))]
        ans["gap"] = m.getGap()
    if status in ("optimal", "time_limit"):
        ans["dual_bound"] = m.getDualbound()
    return ans


# ---------------------------------------------------------------------------------------------
# The archive manifest (MIPLIB-style instance table)
# ---------------------------------------------------------------------------------------------

MANIFEST_FIELDS = ["instance", "network", "network_sha256", "image", "label", "target", "setting", "rows",
                   "columns", "binaries", "indicators", "nonzeros", "status", "objective", "best_bound",
                   "proved_by", "time_limit", "mps_file", "mps_sha256", "lp_file", "lp_sha256", "command"]


def write_manifest(study, rows):
    """One line per instance. status: `easy` = solved to optimality in the time limit by the named
    solver on this very file; `hard` = this file was not closed, but the same problem (the same
    image: every setting has the same optimum) was closed from another file, whose optimum is
    given; `open` = no setting closed it: best known example and best proven bound."""
    out = []
    # The archive's files are regenerable, not kept: a file that is not here (a fresh clone holds
    # the committed handful) takes its counts from the manifest line with the same SHA-256, so a
    # run that adds instances on another machine still writes the whole manifest.
    known = {}
    manifest = os.path.join(study.archive, "manifest.csv")
    if os.path.exists(manifest):
        with open(manifest, newline="") as f:
            for m in csv.DictReader(f):
                known[m["mps_sha256"]] = {"rows": m["rows"], "columns": m["columns"], "integers": m["binaries"],
                                          "indicators": m["indicators"], "nonzeros": m["nonzeros"]}
    for r in sorted(rows, key=lambda r: (r["net"], int(r["image"]), SETTINGS.index(r["setting"]))):
        name, k = r["net"], int(r["image"])
        net = study.nets[name]
        mps = os.path.join(REPO, r["model_file"])
        if os.path.exists(mps) or r["model_sha256"] not in known:
            st = mps_stats(mps)
        else:
            st = known[r["model_sha256"]]
        best = study.best[(name, k)]
        if r["status"] == "optimal":
            status, obj, bound, by = "easy", r["objective"], r["objective"], f"{r['solver']} ({r['setting']})"
        elif best["optimum"] is not None:
            status, obj, bound, by = "hard", fnum(best["optimum"]), fnum(best["optimum"]), "; ".join(best["proved_by"])
        else:
            status, obj, bound, by = "open", fnum(best["best_known"]), fnum(best["best_bound"]), ""
        cmd = ["nnmilp", *map(str, study.model_args(name, r["setting"], k, int(r["label"]), r["model_file"]))]
        out.append({
            "instance": study.instance_name(name, r["setting"], k), "network": rel(net.path),
            "network_sha256": net.sha256, "image": k, "label": r["label"], "target": r["target"],
            "setting": r["setting"], "rows": st["rows"], "columns": st["columns"], "binaries": st["integers"],
            "indicators": st["indicators"], "nonzeros": st["nonzeros"], "status": status, "objective": obj,
            "best_bound": bound, "proved_by": by, "time_limit": study.a.time_limit,
            "mps_file": r["model_file"], "mps_sha256": r["model_sha256"], "lp_file": r["lp_file"],
            "lp_sha256": r["lp_sha256"], "command": shlex.join(cmd)})
    buf = io.StringIO()
    w = csv.DictWriter(buf, MANIFEST_FIELDS, lineterminator="\n")
    w.writeheader()
    w.writerows(out)
    write_atomic(os.path.join(study.archive, "manifest.csv"), buf.getvalue())
    md = ["# nnmilp adversarial-example instances (Fischetti & Jo's study)", "",
          "Written by `study/run.py`; `manifest.csv` has every column, including the SHA-256 of each file and the "
          "exact `nnmilp` command that regenerates it byte for byte (run from the repository root; `.lp.gz`: the "
          "same command with that file name). Status: **easy** = closed in the time limit by the named solver on "
          "this file; **hard** = this file was not closed, the same problem was (from another bounds setting: same "
          "image, same optimum); **open** = nothing here closed it (objective = best known, bound = best proven).",
          "",
          "| instance | rows | cols | binaries | nonzeros | status | objective | bound | proved by |",
          "| --- | ---: | ---: | ---: | ---: | --- | ---: | ---: | --- |"]
    for o in out:
        fmt = lambda v: f"{float(v):.6g}" if v not in ("", None) else "–"  # noqa: E731
        md.append(f"| {o['instance']} | {o['rows']} | {o['columns']} | {o['binaries']} | {o['nonzeros']} | "
                  f"{o['status']} | {fmt(o['objective'])} | {fmt(o['best_bound'])} | {o['proved_by']} |")
    write_atomic(os.path.join(study.archive, "manifest.md"), "\n".join(md) + "\n")
    log(f"wrote {rel(os.path.join(study.archive, 'manifest.csv'))} ({len(out)} instances)")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    ap.add_argument("--nnmilp", default=os.path.join(REPO, "target", "release", "nnmilp"),
                    help="the binary (default target/release/nnmilp)")
    ap.add_argument("--nets", nargs="+", default=NETS, choices=NETS)
    ap.add_argument("--nets-dir", default=os.path.join(HERE, "nets"))
    ap.add_argument("--settings", nargs="+", default=DEFAULT_SETTINGS, choices=SETTINGS)
    ap.add_argument("--images", type=int, default=3, help="first N correctly classified test images (default 3)")
    ap.add_argument("--time-limit", default="20", help="seconds per instance (default 20; the paper: 300)")
    ap.add_argument("--unit-time-limit", default="1",
                    help="seconds per unit of the box lp/milp bounds files (default 1, the paper's)")
    ap.add_argument("--region-unit-time-limit", default="inf",
                    help="seconds per unit of the region settings' tightening (default inf: byte-reproducible)")
    ap.add_argument("--jobs", type=int, default=2, help="instances solved at a time (default 2)")
    ap.add_argument("--mnist", default=os.path.join(REPO, "..", "shared", "data", "mnist"))
    ap.add_argument("--out", default=os.path.join(HERE, "results", "run"), help="results folder")
    ap.add_argument("--archive", default=os.path.join(HERE, "archive"), help="instance archive folder")
    ap.add_argument("--bounds-dir", default=None,
                    help="box bounds files (default ARCHIVE/bounds): a run that shares another's folder "
                         "reuses its files instead of recomputing time-limited milp bounds")
    ap.add_argument("--lp-settings", nargs="*", choices=SETTINGS, default=None,
                    help="settings whose instances are also written as .lp.gz (default all; none when "
                         "given without names)")
    ap.add_argument("--tables-only", action="store_true",
                    help="solve nothing: write results.md and the manifest from the instances finished so far "
                         "(safe beside a running study: both are replaced atomically)")
    a = ap.parse_args()
    if not os.path.isdir(a.mnist) and os.path.isdir("/work/shared/data/mnist"):
        a.mnist = "/work/shared/data/mnist"
    if not os.path.exists(a.nnmilp):
        sys.exit(f"{a.nnmilp}: no such binary (cargo build --release, or pass --nnmilp)")
    Study(a).main()


if __name__ == "__main__":
    main()
