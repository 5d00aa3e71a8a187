#!/usr/bin/env python3
"""Compile benchmark: nnmilp against the Python peers building and writing the same MILP.

    python3 bench/compile.py [--repeat 3] [--nets dense256,dense1024,...] [--peers gurobi,scip,omlt]
                             [--work /tmp/nnmilp-compile-bench] [--out bench/results/compile.md]

For each network (generated here with numpy + onnx, He-initialised, fixed seed; nothing large is
committed) it measures, one process at a time, medians of --repeat runs:

- `nnmilp adversarial NET --image IMG -o OUT` (the paper's L1 adversarial MILP, big-M, interval
  bounds; release build) to .mps, .lp, .mps.gz and .lp.gz: wall seconds and peak RSS from
  /usr/bin/time -v, and the report's load / bounds / lower / write seconds;
- the per-phase split (read, decode, load, bounds, lower, write) with each phase's peak RSS, from
  `bench/compile.rs`, built as the `compile-phases` binary (network only, no task rows), and the formatting limit: the same numbers
  formatted by zmij with no layout and no I/O;
- the dd limit: the same number of bytes written with no formatting (`dd bs=1M`, to a new file,
  not synced: nnmilp, like the peers, leaves the writeback to the kernel unless asked `--fsync`);
- the peers' build + write of the same problem (input box [0,1], d >= |x - img|, targeted margin
  rows y_t - 1.2 y_j >= 0, minimise sum d) as MPS: gurobi-machinelearning (`add_onnx_constr` +
  `Model.write`), PySCIPOpt-ML (`add_onnx_constr` + `writeProblem`), OMLT (`load_onnx_neural_network`
  + `ReluBigMFormulation` + Pyomo `write`), each in its own process under a time limit; a peer
  that refuses the network is recorded with its error. OMLT gets a conv net in the form its
  parser reads (a symbolic batch dimension, Flatten as a Reshape, Conv's `group` written out:
  the same function); its `ConvLayer2D` has no bias, so its model leaves the conv biases out
  (marked † in the table), and it refuses padded convolutions (conv_cifar).

Every tool reads the same image (a `.npy` of the test image's pixels / 255) and every run writes
a file that does not exist yet (the previous run's is removed before the clock starts), with no
dirty pages of an earlier run left for the kernel to write back meanwhile (`sync` first).

The machine is shared: run it under `nice -n 10` and say so with the results.
"""

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
MNIST = None
for cand in (os.path.join(REPO, "..", "shared", "data", "mnist"), "/work/shared/data/mnist"):
    if os.path.isdir(cand):
        MNIST = os.path.abspath(cand)
        break

NETS = {
    # name: (kind, spec)
    "dense256": ("dense", [784, 256, 256, 10]),
    "dense1024": ("dense", [784, 1024, 1024, 1024, 10]),
    "dense4096": ("dense", [784, 4096, 4096, 10]),
    # ERAN ConvSmall shape: conv 16 4x4/2, conv 32 4x4/2, dense 100, 10: 3,604 ReLUs.
    "conv_mnist": ("conv", {"input": [1, 28, 28], "convs": [(16, 4, 2, 0), (32, 4, 2, 0)], "dense": [100, 10]}),
    # CIFAR-sized: conv 96 3x3/1 pad 1, conv 16 3x3/2 pad 1, dense 100, 10: 102,500 ReLUs.
    "conv_cifar": ("conv", {"input": [3, 32, 32], "convs": [(96, 3, 1, 1), (16, 3, 2, 1)], "dense": [100, 10]}),
}
SUFFIXES = [".mps", ".lp", ".mps.gz", ".lp.gz"]
MARGIN = 0.2


def make_net(name, work):
    """Writes NET.onnx and its input image (.npy, or an MNIST IDX spec) and returns both."""
    import numpy as np
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    path = os.path.join(work, f"{name}.onnx")
    kind, spec = NETS[name]
    rng = np.random.default_rng(20260101)
    inits, nodes = [], []

    def param(pname, arr):
        inits.append(numpy_helper.from_array(arr.astype(np.float32), pname))
        return pname

    if kind == "dense":
        x = "input"
        inp = helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, spec[0]])
        for k in range(len(spec) - 1):
            n_in, n_out = spec[k], spec[k + 1]
            w = rng.normal(0, np.sqrt(2.0 / n_in), (n_out, n_in))
            b = rng.normal(0, 0.05, n_out)
            out = f"fc{k}"
            nodes.append(helper.make_node("Gemm", [x, param(f"W{k}", w), param(f"b{k}", b)], [out], name=out, transB=1,
                                          alpha=1.0, beta=1.0))
            x = out
            if k + 2 < len(spec):
                nodes.append(helper.make_node("Relu", [x], [f"relu{k}"], name=f"relu{k}"))
                x = f"relu{k}"
        n_out = spec[-1]
    else:
        c, h, w_ = spec["input"]
        inp = helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, c, h, w_])
        x = "input"
        for k, (oc, ks, st, pad) in enumerate(spec["convs"]):
            wt = rng.normal(0, np.sqrt(2.0 / (c * ks * ks)), (oc, c, ks, ks))
            b = rng.normal(0, 0.05, oc)
            out = f"conv{k}"
            nodes.append(helper.make_node("Conv", [x, param(f"C{k}", wt), param(f"c{k}", b)], [out], name=out,
                                          kernel_shape=[ks, ks], strides=[st, st], pads=[pad] * 4))
            nodes.append(helper.make_node("Relu", [out], [f"crelu{k}"], name=f"crelu{k}"))
            x = f"crelu{k}"
            c, h, w_ = oc, (h + 2 * pad - ks) // st + 1, (w_ + 2 * pad - ks) // st + 1
        nodes.append(helper.make_node("Flatten", [x], ["flat"], name="flat", axis=1))
        x, n_in = "flat", c * h * w_
        dense = spec["dense"]
        for k, n_out in enumerate(dense):
            wt = rng.normal(0, np.sqrt(2.0 / n_in), (n_out, n_in))
            b = rng.normal(0, 0.05, n_out)
            out = f"fc{k}"
            nodes.append(helper.make_node("Gemm", [x, param(f"W{k}", wt), param(f"b{k}", b)], [out], name=out, transB=1,
                                          alpha=1.0, beta=1.0))
            x = out
            if k + 1 < len(dense):
                nodes.append(helper.make_node("Relu", [x], [f"relu{k}"], name=f"relu{k}"))
                x = f"relu{k}"
            n_in = n_out
    outp = helper.make_tensor_value_info(x, TensorProto.FLOAT, [1, n_out])
    graph = helper.make_graph(nodes, name, [inp], [outp], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, path)

    if kind == "dense" or spec["input"] == [1, 28, 28]:
        image = os.path.join(MNIST, "t10k-images-idx3-ubyte.gz") + ":0"
    else:
        image = os.path.join(work, f"{name}_image.npy")
        np.save(image, rng.uniform(0, 1, [1] + spec["input"]).astype(np.float32))
    return path, image


def image_pixels(image):
    """The image as a flat float64 vector, as nnmilp reads it (IDX: pixel / 255)."""
    import gzip
    import numpy as np

    if image.endswith(".npy"):
        return np.load(image).astype(np.float64).ravel()
    path, n = image.rsplit(":", 1)
    with gzip.open(path, "rb") as f:
        data = f.read()
    n = int(n)
    return np.frombuffer(data, np.uint8, 784, 16 + 784 * n).astype(np.float64) / 255.0


def forward_target(net_path, img):
    """The paper's default target, (prediction + 5) mod classes, by onnxruntime."""
    import numpy as np
    import onnx
    import onnxruntime as ort

    model = onnx.load(net_path)
    dims = [d.dim_value for d in model.graph.input[0].type.tensor_type.shape.dim]
    sess = ort.InferenceSession(net_path, providers=["CPUExecutionProvider"])
    y = sess.run(None, {model.graph.input[0].name: img.reshape(dims).astype(np.float32)})[0].ravel()
    return (int(np.argmax(y)) + 5) % len(y), len(y)


def timed(cmd, timeout, env=None):
    """Runs `cmd` under /usr/bin/time -v; returns (wall seconds, peak RSS MB, stdout, error or None)."""
    stats = os.path.join(os.environ.get("TMPDIR", "/tmp"), f"nnmilp-bench-time-{os.getpid()}.txt")
    full = ["/usr/bin/time", "-v", "-o", stats] + cmd
    t0 = time.perf_counter()
    # A session of its own, so that a time-out ends the measured process too, not only `time`.
    proc = subprocess.Popen(full, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
                            start_new_session=True)
    try:
        out, errs = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, 9)
        proc.communicate()
        os.remove(stats) if os.path.exists(stats) else None
        return timeout, float("nan"), "", f"timeout {timeout:.0f} s"
    p = subprocess.CompletedProcess(full, proc.returncode, out, errs)
    wall = time.perf_counter() - t0
    with open(stats) as f:
        m = re.search(r"Maximum resident set size \(kbytes\): (\d+)", f.read())
    os.remove(stats)
    rss = int(m.group(1)) / 1024 if m else float("nan")
    err = None
    if p.returncode != 0:
        tail = [l for l in p.stderr.splitlines() if l.strip()]
        err = (tail[-1] if tail else f"exit {p.returncode}")[:200]
    return wall, rss, p.stdout, err


def fresh(path):
    """Removes `path` before a timed run, so that every run, nnmilp's and the peers', writes a
    file that does not exist yet: replacing one costs the kernel the old file's pages and blocks
    (45-65 ms for a 133 MB file on the shared machine), which is not the writer's work and fell
    on every run but the first. Then syncs, so that the kernel is not writing back an earlier
    run's file (none of the tools syncs its own) while this one runs."""
    if os.path.exists(path):
        os.remove(path)
    os.sync()


def nnmilp_cli(binary, net, image, out, timeout):
    report = out + ".json"
    fresh(out)
    # Interval bounds, named: the default (`auto`) first searches for an example and tightens
    # around it, which is not the compile this measures.
    cmd = [binary, "adversarial", net, "--image", image, "--bounds", "interval", "-o", out, "--report", report]
    wall, rss, _, err = timed(cmd, timeout)
    timing = {}
    if err is None:
        with open(report) as f:
            timing = json.load(f).get("timing", {})
    size = os.path.getsize(out) if os.path.exists(out) else 0
    return {"wall": wall, "rss": rss, "timing": timing, "bytes": size, "error": err}


def phases(bench_bin, net, out, timeout):
    fresh(out)
    _, rss, stdout, err = timed([bench_bin, net, out], timeout)
    if err:
        return {"error": err}
    rec = json.loads(stdout.strip().splitlines()[-1])
    rec["rss"] = rss
    return rec


def dd_limit(nbytes, work):
    target = os.path.join(work, "dd.out")
    mb = max(1, (nbytes + (1 << 20) - 1) >> 20)
    fresh(target)
    t0 = time.perf_counter()
    subprocess.run(["dd", "if=/dev/zero", f"of={target}", "bs=1M", f"count={mb}"],
                   check=True, capture_output=True)
    s = time.perf_counter() - t0
    os.remove(target)
    return s


PEER_CODE = r'''
import sys, time, json, numpy as np, onnx
peer, net, img_path, target, n_out, out = sys.argv[1:7]
target, n_out = int(target), int(n_out)
img = np.load(img_path)
model = onnx.load(net)
dims = [d.dim_value for d in model.graph.input[0].type.tensor_type.shape.dim]
MARGIN = float(sys.argv[7])
t0 = time.perf_counter()
if peer == "gurobi":
    import gurobipy as gp
    from gurobi_ml.onnx import add_onnx_constr
    env = gp.Env(params={"OutputFlag": 0})
    m = gp.Model(env=env)
    x = m.addMVar(tuple(dims), lb=0.0, ub=1.0, name="x")
    y = m.addMVar((1, n_out), lb=-gp.GRB.INFINITY, name="y")
    add_onnx_constr(m, model, x, y)
    xf = x.reshape(-1)
    d = m.addMVar(img.size, lb=0.0, name="d")
    m.addConstr(d >= xf - img)
    m.addConstr(d >= img - xf)
    for j in range(n_out):
        if j != target:
            m.addConstr(y[0, target] - (1 + MARGIN) * y[0, j] >= 0)
    m.setObjective(d.sum(), gp.GRB.MINIMIZE)
    m.update()
    t1 = time.perf_counter()
    m.write(out)
elif peer == "scip":
    from pyscipopt import Model
    from pyscipopt_ml.onnx import add_onnx_constr
    m = Model()
    m.hideOutput()
    n = int(np.prod(dims))
    x = np.array([m.addVar(lb=0.0, ub=1.0, name=f"x{i}") for i in range(n)]).reshape(dims)
    y = np.array([m.addVar(lb=None, name=f"y{j}") for j in range(n_out)]).reshape(1, n_out)
    add_onnx_constr(m, model, x, y)
    xf = x.reshape(-1)
    d = [m.addVar(lb=0.0, name=f"d{i}") for i in range(n)]
    for i in range(n):
        m.addCons(d[i] >= xf[i] - img[i])
        m.addCons(d[i] >= img[i] - xf[i])
    for j in range(n_out):
        if j != target:
            m.addCons(y[0, target] - (1 + MARGIN) * y[0, j] >= 0)
    m.setObjective(sum(d), "minimize")
    t1 = time.perf_counter()
    m.writeProblem(out, verbose=False)
else:
    import pyomo.environ as pyo
    from omlt import OmltBlock
    from omlt.io.onnx import load_onnx_neural_network
    from omlt.neuralnet import ReluBigMFormulation
    from onnx import helper
    g = model.graph
    flat = [k for k, nd in enumerate(g.node) if nd.op_type == "Flatten"]
    if flat:
        # OMLT's parser reads Reshape (with a Constant shape) but not Flatten, and takes every
        # positive input dimension as the image's, so a conv net gets the form OMLT reads:
        # a symbolic batch dimension and Flatten as Reshape, the same function. (Its
        # `ConvLayer2D` has no bias: the conv biases of this net are not in its model.)
        for v in (g.input[0], g.output[0]):
            v.type.tensor_type.shape.dim[0].dim_param = "N"
        # ... and it needs Conv's `group` written out (ONNX's default, 1).
        for nd in g.node:
            if nd.op_type == "Conv" and not any(a.name == "group" for a in nd.attribute):
                nd.attribute.append(helper.make_attribute("group", 1))
        k = flat[0]
        nd = g.node[k]
        inferred = onnx.shape_inference.infer_shapes(model).graph.value_info
        width = next(int(np.prod([d.dim_value for d in v.type.tensor_type.shape.dim][1:]))
                     for v in inferred if v.name == nd.input[0])
        shape = f"{nd.name}_shape"
        const = helper.make_node("Constant", [], [shape], name=shape,
                                 value=helper.make_tensor(shape, onnx.TensorProto.INT64, [1], [width]))
        reshape = helper.make_node("Reshape", [nd.input[0], shape], list(nd.output), name=nd.name)
        del g.node[k]
        g.node.insert(k, reshape)
        g.node.insert(k, const)
        dims = dims[1:]
    n = int(np.prod(dims))
    idx = [tuple(int(v) for v in np.unravel_index(i, dims)) for i in range(n)]
    bounds = {k: (0.0, 1.0) for k in idx}
    netdef = load_onnx_neural_network(model, None, bounds)
    m = pyo.ConcreteModel()
    m.nn = OmltBlock()
    m.nn.build_formulation(ReluBigMFormulation(netdef))
    ins = [m.nn.inputs[k] for k in idx]
    outs = list(m.nn.outputs.values())
    m.d = pyo.Var(range(n), bounds=(0, None))
    m.dp = pyo.Constraint(range(n), rule=lambda m, i: m.d[i] >= ins[i] - float(img[i]))
    m.dn = pyo.Constraint(range(n), rule=lambda m, i: m.d[i] >= float(img[i]) - ins[i])
    others = [j for j in range(n_out) if j != target]
    m.margin = pyo.Constraint(others, rule=lambda m, j: outs[target] - (1 + MARGIN) * outs[j] >= 0)
    m.obj = pyo.Objective(expr=sum(m.d[i] for i in range(n)), sense=pyo.minimize)
    t1 = time.perf_counter()
    m.write(out, io_options={"symbolic_solver_labels": False})
t2 = time.perf_counter()
import os
rec = {"build": t1 - t0, "write": t2 - t1, "bytes": os.path.getsize(out)}
if peer == "omlt" and flat:
    rec["note"] = "conv biases dropped"
print(json.dumps(rec))
'''


def peer_run(peer, net, img_npy, target, n_out, out, timeout):
    fresh(out)
    wall, rss, stdout, err = timed([sys.executable, "-c", PEER_CODE, peer, net, img_npy, str(target), str(n_out), out,
                                    str(MARGIN)], timeout)
    rec = {"wall": wall, "rss": rss, "error": err}
    if err is None:
        rec.update(json.loads(stdout.strip().splitlines()[-1]))
    return rec


def med(xs):
    xs = [x for x in xs if x == x]
    return statistics.median(xs) if xs else float("nan")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--nets", default=",".join(NETS))
    ap.add_argument("--peers", default="gurobi,scip,omlt")
    ap.add_argument("--suffixes", default=",".join(SUFFIXES))
    ap.add_argument("--work", default="/tmp/nnmilp-compile-bench")
    ap.add_argument("--timeout", type=float, default=300)
    ap.add_argument("--peer-timeout", type=float, default=120)
    ap.add_argument("--out", default=os.path.join(HERE, "results", "compile.md"))
    ap.add_argument("--json", default=os.path.join(HERE, "results", "compile.json"))
    ap.add_argument("--no-build", action="store_true", help="use the binaries already in target/release")
    ap.add_argument("--from-json", action="store_true",
                    help="only rewrite --out from the measurements already in --json")
    args = ap.parse_args()
    if args.from_json:
        with open(args.json) as f:
            write_markdown(json.load(f), args)
        return
    import numpy as np

    os.makedirs(args.work, exist_ok=True)
    if not args.no_build:
        subprocess.run(["cargo", "build", "--release", "--features", "bench-tools", "--bins"], cwd=REPO, check=True)
    binary = os.path.join(REPO, "target", "release", "nnmilp")
    bench_bin = os.path.join(REPO, "target", "release", "compile-phases")

    results = {}
    for name in args.nets.split(","):
        net, image = make_net(name, args.work)
        img = image_pixels(image)
        img_npy = os.path.join(args.work, f"{name}_flat.npy")
        np.save(img_npy, img)
        target, n_out = forward_target(net, img)
        r = {"net": name, "onnx_bytes": os.path.getsize(net), "nnmilp": {}, "phases": {}, "peers": {}}
        print(f"== {name}: {os.path.getsize(net)} bytes, target {target}", flush=True)
        for suffix in args.suffixes.split(","):
            out = os.path.join(args.work, f"{name}{suffix}")
            # The image the peers read, so that every tool starts from the same files (nnmilp
            # reads the IDX file too, but checking its CRC means unpacking all 10,000 images).
            runs = [nnmilp_cli(binary, net, img_npy, out, args.timeout) for _ in range(args.repeat)]
            ph = [phases(bench_bin, net, os.path.join(args.work, f"{name}.phases{suffix}"), args.timeout)
                  for _ in range(args.repeat)]
            r["nnmilp"][suffix] = runs
            r["phases"][suffix] = ph
            print(f"  nnmilp {suffix}: {med([x['wall'] for x in runs]):.3f} s, {med([x['rss'] for x in runs]):.0f} MB,"
                  f" {runs[0]['bytes'] / 1e6:.1f} MB {runs[0]['error'] or ''}", flush=True)
            if suffix == ".mps":
                r["dd"] = [dd_limit(runs[0]["bytes"], args.work) for _ in range(args.repeat)]
            os.remove(out) if os.path.exists(out) else None
            for f in os.listdir(args.work):
                if ".phases" in f:
                    os.remove(os.path.join(args.work, f))
        for peer in [p for p in args.peers.split(",") if p]:
            out = os.path.join(args.work, f"{name}.{peer}.mps")
            runs = []
            for _ in range(args.repeat):
                rec = peer_run(peer, net, img_npy, target, n_out, out, args.peer_timeout)
                runs.append(rec)
                if rec["error"]:
                    break  # a refusal or a time-out does not change with repetition
            r["peers"][peer] = runs
            print(f"  {peer}: {med([x['wall'] for x in runs]):.3f} s, {med([x['rss'] for x in runs]):.0f} MB "
                  f"{runs[-1]['error'] or ''}", flush=True)
            if os.path.exists(out):
                os.remove(out)
        results[name] = r
        with open(args.json, "w") as f:
            json.dump(results, f, indent=1)
    write_markdown(results, args)


def write_markdown(results, args):
    lines = ["# Compile benchmark", "",
             f"`python3 bench/compile.py --repeat {args.repeat}` (niced, on the project's shared 2-core machine while "
             "other developers built and tested; medians of the repeats, one process at a time). nnmilp: release "
             "build, `adversarial NET --image IMG -o OUT` (L1, big-M, interval bounds). Peers: build + write of the "
             "same problem as MPS, in their own process. Every run writes a file that does not exist yet (the "
             "previous run's output is removed before the clock starts, for nnmilp and the peers alike), and every tool "
             "reads the same image: a `.npy` of the test image's pixels / 255.", ""]
    lines += ["## End to end (wall seconds, peak RSS)", "",
              "| net | ONNX MB | nnmilp .mps | MB/s | .lp | .mps.gz | .lp.gz | gurobi-ml | PySCIPOpt-ML | OMLT | nnmilp RSS MB | best peer RSS MB | speed-up vs fastest peer |",
              "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for name, r in results.items():
        def cli(s):
            runs = r["nnmilp"].get(s)
            if not runs:
                return "–"
            if runs[0]["error"]:
                return "error"
            return f"{med([x['wall'] for x in runs]):.3f}"
        mps = r["nnmilp"].get(".mps", [])
        mps_s = med([x["wall"] for x in mps]) if mps else float("nan")
        mbps = mps[0]["bytes"] / 1e6 / med([x["timing"].get("write_seconds", float("nan")) for x in mps]) if mps else float("nan")
        peer_cells, best_t, best_rss = [], float("inf"), float("inf")
        for p in ("gurobi", "scip", "omlt"):
            runs = r["peers"].get(p)
            if not runs:
                peer_cells.append("–")
            elif runs[-1]["error"] and runs[-1]["error"].startswith("timeout"):
                peer_cells.append(f"> {args.peer_timeout:.0f} (time-out)")
            elif runs[-1]["error"]:
                peer_cells.append("refused: " + runs[-1]["error"].replace("|", "/")[:70])
            else:
                t = med([x["wall"] for x in runs])
                inner = med([x["build"] + x["write"] for x in runs])
                rss = med([x["rss"] for x in runs])
                best_t, best_rss = min(best_t, inner), min(best_rss, rss)
                mark = " †" if runs[-1].get("note") else ""
                peer_cells.append(f"{inner:.3f}{mark} (process {t:.2f})")
        rss = med([x["rss"] for x in mps]) if mps else float("nan")
        timed_out = any(runs and (runs[-1]["error"] or "").startswith("timeout") for runs in r["peers"].values())
        if best_t < float("inf"):
            speed = f"{best_t / mps_s:.1f}×"
        elif timed_out:
            speed = f"> {args.peer_timeout / mps_s:.1f}× (every peer that reads it timed out)"
        else:
            speed = "no peer reads it"
        lines.append(f"| {name} | {r['onnx_bytes'] / 1e6:.1f} | {cli('.mps')} | {mbps:.0f} | {cli('.lp')} | {cli('.mps.gz')} | "
                     f"{cli('.lp.gz')} | {' | '.join(peer_cells)} | {rss:.0f} | "
                     f"{best_rss if best_rss < float('inf') else float('nan'):.0f} | {speed} |")
    lines += ["", "Peer cells: build + write seconds inside the process (process wall time, with Python start-up "
              "and imports, in brackets); the speed-up compares nnmilp's whole process with the peer's build + write. "
              "†: OMLT's model of a conv net has no conv biases (its `ConvLayer2D` takes none), so it is not the same "
              "MILP; it reads the net with a symbolic batch dimension and Flatten as Reshape.", ""]
    lines += ["## Phases (network only, `bench/compile.rs`; seconds / peak RSS MB during the phase)", "",
              "| net | out | MB | read | decode | load | bounds | lower | write | write MB/s | format limit s | dd limit s | write / format limit | load / decode CPU | matrix limit s | load / (decode + matrix limit) CPU |",
              "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for name, r in results.items():
        for s, ph in r["phases"].items():
            ph = [p for p in ph if "error" not in p]
            if not ph:
                continue
            cells = []
            for k in ("read", "decode", "load", "bounds", "lower", "write"):
                cells.append(f"{med([p['phases'][k]['seconds'] for p in ph]):.3f} / {med([p['phases'][k]['peak_rss_mb'] for p in ph]):.0f}")
            w = med([p["phases"]["write"]["seconds"] for p in ph])
            fl = med([p["format_limit"]["seconds"] for p in ph])
            dd = med(r.get("dd", [])) if s == ".mps" else float("nan")
            # The front end against the protobuf decoder alone, in CPU seconds of the thread
            # (steadier than wall time on a shared machine; NaN for runs recorded before).
            cpu = {k: med([p["phases"][k].get("cpu_seconds", float("nan")) for p in ph]) for k in ("decode", "load")}
            ratio = cpu["load"] / cpu["decode"] if cpu["decode"] > 0 else float("nan")
            # The load's floor: the decode plus first-touching memory the size of the matrices.
            ml = med([p.get("matrix_limit", {}).get("cpu_seconds", float("nan")) for p in ph])
            floor = cpu["load"] / (cpu["decode"] + ml) if cpu["decode"] + ml > 0 else float("nan")
            lines.append(f"| {name} | {s} | {ph[0]['file_bytes'] / 1e6:.1f} | {' | '.join(cells)} | "
                         f"{ph[0]['file_bytes'] / 1e6 / w:.0f} | {fl:.3f} | {dd:.3f} | {w / fl:.1f}× | {ratio:.1f}× | {ml:.3f} | {floor:.1f}× |")
    with open(args.out, "w") as f:
        f.write("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
