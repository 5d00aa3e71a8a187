#!/usr/bin/env python3
"""The paper's adversarial problem, solved side by side by nnmilp and its peers.

    python3 bench/peers/run.py --nets bench/peers/nets/skl_8-8-8.onnx fixtures/mnist_8x3.onnx \\
        --images 10 --time-limit 300 --out bench/peers/results/NAME

Problem (Fischetti & Jo 2018): minimise the L1 distance to an MNIST test image such that the
target class T = (d + 5) mod 10 (d the prediction) beats every other class by the relative
margin 0.2, `y_T >= 1.2 y_j`; the input box [0, 1]^784; the first N correctly classified test
images of each net; 1 solver thread; the same time limit everywhere. Tools (one process per
run, killed 60 s after the limit):

  nnmilp            `nnmilp adversarial --solve` with default settings (embedded HiGHS)
  nnmilp-region-lp  the same with `--bounds region-lp`
  gurobi-ml         gurobi-machinelearning's ONNX model + Gurobi (size-limited licence:
                    models over 2,000 variables or constraints are refused, recorded as such)
  omlt-highs        OMLT's ReluBigMFormulation (pyomo) + HiGHS (appsi)
  scip-ml           PySCIPOpt-ML's ONNX model + SCIP
  gurobi-file, scip-file, highs-file
                    the solver reading the MPS file nnmilp writes with default settings

The distance and margin rows of the peer models are written as a user of those packages would:
`d_j >= x_j - img_j`, `d_j >= img_j - x_j`, `min sum d_j`, `y_T >= 1.2 y_j`. Solve seconds are
each solver's own runtime (nnmilp: `solve_seconds` of its report, plus its bounds time in
`total`); the optimum of every solved run is compared across tools (relative 1e-3, the
solvers' default gaps are 1e-4). Writes NAME.json (every run) and NAME.md (the table).
"""

import argparse
import gzip
import json
import os
import statistics
import struct
import subprocess
import sys
import tempfile
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
MNIST = "/work/shared/data/mnist"
TOOLS = ["nnmilp", "nnmilp-region-lp", "gurobi-ml", "omlt-highs", "scip-ml", "gurobi-file", "scip-file", "highs-file"]
MARGIN = 0.2


def read_idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    magic, = struct.unpack(">I", data[:4])
    ndim = magic & 0xFF
    dims = struct.unpack(">" + "I" * ndim, data[4 : 4 + 4 * ndim])
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def test_images():
    x = read_idx(os.path.join(MNIST, "t10k-images-idx3-ubyte.gz")).reshape(-1, 784) / 255.0
    y = read_idx(os.path.join(MNIST, "t10k-labels-idx1-ubyte.gz")).astype(int)
    return x, y


def logits(net, x):
    import onnxruntime as ort

    sess = ort.InferenceSession(net)
    inp = sess.get_inputs()[0]
    dtype = np.float64 if "double" in inp.type else np.float32
    return sess.run(None, {inp.name: x.reshape(1, -1).astype(dtype)})[0].reshape(-1)


def nnmilp_bin():
    """$NNMILP, else the newer of the release and debug binaries (a stale one is worse than a
    slow one)."""
    if os.environ.get("NNMILP"):
        return os.environ["NNMILP"]
    found = [os.path.join(ROOT, p) for p in ["target/release/nnmilp", "target/debug/nnmilp"]]
    found = [p for p in found if os.path.exists(p)]
    if not found:
        sys.exit("build nnmilp first: cargo build --release")
    return max(found, key=os.path.getmtime)


# ---- one run per process ------------------------------------------------------------------


def run_nnmilp(net, idx, target, limit, extra, tmp):
    rep = os.path.join(tmp, "r.json")
    img = f"{MNIST}/t10k-images-idx3-ubyte.gz:{idx}"
    cmd = [nnmilp_bin(), "adversarial", net, "--image", img, "--target", str(target), "--margin", str(MARGIN),
           "--margin-kind", "relative", "--solve", "--threads", "1", "--time-limit", str(limit),
           "--report", rep] + extra
    out = subprocess.run(cmd, capture_output=True, text=True)
    if out.returncode != 0:
        return {"status": "error", "note": out.stderr.strip()[-300:]}
    r = json.load(open(rep))
    s = r["solve"]
    t = r["timing"]
    return {
        "status": s["status"], "objective": s["objective"], "bound": s.get("dual_bound"), "solve": s["seconds"],
        "total": t["bounds_seconds"] + t["lower_seconds"] + s["seconds"],
        "rows": r["model"]["rows"], "columns": r["model"]["columns"],
        "nodes": s.get("nodes"), "lp_iterations": s.get("lp_iterations"),
        "goal_class_wins": (s.get("example") or {}).get("goal_class_wins"),
    }


def write_nnmilp_file(net, idx, target, tmp):
    f = os.path.join(tmp, "m.mps")
    img = f"{MNIST}/t10k-images-idx3-ubyte.gz:{idx}"
    cmd = [nnmilp_bin(), "adversarial", net, "--image", img, "--target", str(target), "--margin", str(MARGIN),
           "--margin-kind", "relative", "-o", f]
    t0 = time.time()
    subprocess.run(cmd, check=True, capture_output=True)
    return f, time.time() - t0


def gurobi_solve(m, limit):
    m.Params.Threads = 1
    m.Params.TimeLimit = limit
    m.Params.OutputFlag = 0
    m.optimize()
    import gurobipy as gp

    st = {gp.GRB.OPTIMAL: "optimal", gp.GRB.INFEASIBLE: "infeasible", gp.GRB.TIME_LIMIT: "time_limit"}.get(
        m.Status, f"status_{m.Status}")
    obj = m.ObjVal if m.SolCount > 0 else None
    return {"status": st, "objective": obj, "bound": m.ObjBound, "solve": m.Runtime,
            "rows": m.NumConstrs, "columns": m.NumVars}


def size_limited(e):
    return "size-limited" in str(e).lower() or "model too large" in str(e).lower()


def run_gurobi_ml(net, idx, target, limit, img):
    import gurobipy as gp
    import onnx
    from gurobi_ml import add_predictor_constr

    try:
        m = gp.Model()
        x = m.addMVar((1, 784), lb=0.0, ub=1.0, name="x")
        y = m.addMVar((1, 10), lb=-gp.GRB.INFINITY, name="y")
        add_predictor_constr(m, onnx.load(net), x, y)
        d = m.addMVar(784, lb=0.0, name="d")
        m.addConstr(d >= x[0, :] - img)
        m.addConstr(d >= img - x[0, :])
        for j in range(10):
            if j != target:
                m.addConstr(y[0, target] >= (1 + MARGIN) * y[0, j])
        m.setObjective(d.sum(), gp.GRB.MINIMIZE)
        return gurobi_solve(m, limit)
    except gp.GurobiError as e:
        if size_limited(e):
            return {"status": "licence_limit", "note": str(e)}
        raise


def run_omlt(net, idx, target, limit, img):
    import onnx
    import pyomo.environ as pyo
    from omlt import OmltBlock
    from omlt.io.onnx import load_onnx_neural_network
    from omlt.neuralnet import ReluBigMFormulation

    bounds = {(0, i): (0.0, 1.0) for i in range(784)}
    model = onnx.load(net)
    # OMLT's parser reads Gemm's alpha and beta without their defaults (1.0): state them.
    for node in model.graph.node:
        names = {a.name for a in node.attribute}
        for a in ("alpha", "beta"):
            if node.op_type == "Gemm" and a not in names:
                node.attribute.append(onnx.helper.make_attribute(a, 1.0))
    nd = load_onnx_neural_network(model, input_bounds=bounds)
    m = pyo.ConcreteModel()
    m.nn = OmltBlock()
    m.nn.build_formulation(ReluBigMFormulation(nd))
    m.d = pyo.Var(range(784), bounds=(0.0, 1.0))
    xs = lambda i: m.nn.inputs[(0, i)]
    ys = lambda j: m.nn.outputs[(0, j)]
    m.dp = pyo.Constraint(range(784), rule=lambda m, i: m.d[i] >= xs(i) - float(img[i]))
    m.dn = pyo.Constraint(range(784), rule=lambda m, i: m.d[i] >= float(img[i]) - xs(i))
    m.margin = pyo.Constraint([j for j in range(10) if j != target],
                              rule=lambda m, j: ys(target) >= (1 + MARGIN) * ys(j))
    m.obj = pyo.Objective(expr=sum(m.d[i] for i in range(784)), sense=pyo.minimize)
    from pyomo.contrib.appsi.solvers import Highs

    solver = Highs()
    solver.config.time_limit = limit
    solver.highs_options = {"threads": 1}
    solver.config.load_solution = False
    t0 = time.time()
    res = solver.solve(m)
    secs = time.time() - t0
    tc = str(res.termination_condition)
    status = "optimal" if "optimal" in tc else "infeasible" if "infeasible" in tc else \
        "time_limit" if ("maxTime" in tc or "time" in tc.lower()) else tc
    obj = res.best_feasible_objective
    return {"status": status, "objective": obj, "bound": res.best_objective_bound, "solve": secs}


def run_scip_ml(net, idx, target, limit, img):
    import onnx
    from pyscipopt import Model, quicksum
    from pyscipopt_ml.add_predictor import add_predictor_constr

    m = Model()
    m.hideOutput()
    x = np.array([[m.addVar(lb=0.0, ub=1.0, name=f"x_{i}") for i in range(784)]])
    y = np.array([[m.addVar(lb=None, name=f"y_{j}") for j in range(10)]])
    add_predictor_constr(m, onnx.load(net), x, y)
    d = [m.addVar(lb=0.0, name=f"d_{i}") for i in range(784)]
    for i in range(784):
        m.addCons(d[i] >= x[0, i] - float(img[i]))
        m.addCons(d[i] >= float(img[i]) - x[0, i])
    for j in range(10):
        if j != target:
            m.addCons(y[0, target] >= (1 + MARGIN) * y[0, j])
    m.setObjective(quicksum(d), "minimize")
    return scip_solve(m, limit)


def scip_solve(m, limit):
    m.setParam("limits/time", limit)
    m.setParam("parallel/maxnthreads", 1)
    m.optimize()
    st = m.getStatus()
    status = {"optimal": "optimal", "infeasible": "infeasible", "timelimit": "time_limit"}.get(st, st)
    obj = m.getObjVal() if m.getNSols() > 0 else None
    return {"status": status, "objective": obj, "bound": m.getDualbound(), "solve": m.getSolvingTime(),
            "rows": m.getNConss(), "columns": m.getNVars()}


def run_file(tool, net, idx, target, limit, tmp):
    f, write_secs = write_nnmilp_file(net, idx, target, tmp)
    if tool == "gurobi-file":
        import gurobipy as gp

        try:
            return {**gurobi_solve(gp.read(f), limit), "write": write_secs}
        except gp.GurobiError as e:
            if size_limited(e):
                return {"status": "licence_limit", "note": str(e)}
            raise
    if tool == "scip-file":
        from pyscipopt import Model

        m = Model()
        m.hideOutput()
        m.readProblem(f)
        return {**scip_solve(m, limit), "write": write_secs}
    import highspy

    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("threads", 1)
    h.setOptionValue("time_limit", float(limit))
    read = h.readModel(f)
    h.run()
    ms = h.modelStatusToString(h.getModelStatus()).lower()
    info = h.getInfo()
    status = "optimal" if ms == "optimal" else "infeasible" if "infeasible" in ms else \
        "time_limit" if "time" in ms else ms
    obj = info.objective_function_value if info.primal_solution_status == 2 else None
    return {"status": status, "objective": obj, "bound": info.mip_dual_bound, "solve": h.getRunTime(),
            "read_status": str(read), "write": write_secs}


def worker(tool, net, idx, target, limit):
    x, _ = test_images()
    img = x[idx]
    with tempfile.TemporaryDirectory() as tmp:
        if tool == "nnmilp":
            return run_nnmilp(net, idx, target, limit, [], tmp)
        if tool == "nnmilp-region-lp":
            return run_nnmilp(net, idx, target, limit, ["--bounds", "region-lp"], tmp)
        if tool == "gurobi-ml":
            return run_gurobi_ml(net, idx, target, limit, img)
        if tool == "omlt-highs":
            return run_omlt(net, idx, target, limit, img)
        if tool == "scip-ml":
            return run_scip_ml(net, idx, target, limit, img)
        return run_file(tool, net, idx, target, limit, tmp)


# ---- driver ----------------------------------------------------------------------------------


def cell_summary(runs, limit):
    solved = [r for r in runs if r["status"] in ("optimal", "infeasible")]
    times = [r["solve"] if r in solved else max(limit, r.get("solve") or limit) for r in runs if "solve" in r]
    other = sorted({r["status"] for r in runs if r["status"] not in ("optimal", "infeasible", "time_limit")})
    return {
        "solved": f"{len(solved)}/{len(runs)}",
        "median": statistics.median(times) if times else None,
        "max": max(times) if times else None,
        "censored": any(r not in solved for r in runs if "solve" in r),
        "other": other,
    }


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--nets", nargs="+")
    ap.add_argument("--images", type=int, default=10)
    ap.add_argument("--time-limit", type=int, default=300)
    ap.add_argument("--tools", nargs="*", default=TOOLS)
    ap.add_argument("--out", default=os.path.join(HERE, "results", "peers"))
    ap.add_argument("--worker", nargs=5, metavar=("TOOL", "NET", "IDX", "TARGET", "LIMIT"))
    args = ap.parse_args()
    if args.worker:
        tool, net, idx, target, limit = args.worker
        print(json.dumps(worker(tool, net, int(idx), int(target), int(limit))))
        return
    x, labels = test_images()
    runs = []
    started = time.time()
    for net in args.nets:
        chosen = []
        for i in range(len(labels)):
            d = int(np.argmax(logits(net, x[i])))
            if d == labels[i]:
                chosen.append((i, (d + 5) % 10))
            if len(chosen) == args.images:
                break
        for idx, target in chosen:
            for tool in args.tools:
                cmd = [sys.executable, __file__, "--worker", tool, net, str(idx), str(target), str(args.time_limit)]
                t0 = time.time()
                try:
                    out = subprocess.run(cmd, capture_output=True, text=True, timeout=args.time_limit + 60)
                    lines = out.stdout.strip().splitlines()
                    res = json.loads(lines[-1]) if out.returncode == 0 and lines else \
                        {"status": "error", "note": out.stderr.strip()[-300:]}
                except subprocess.TimeoutExpired:
                    res = {"status": "killed", "note": f"no answer {args.time_limit + 60} s after start"}
                res.update({"tool": tool, "net": os.path.basename(net), "image": idx, "target": target,
                            "wall": time.time() - t0})
                runs.append(res)
                print(json.dumps(res), flush=True)
    # Optimum agreement: every optimal run of an (net, image) against the others.
    disagreements = []
    for key in sorted({(r["net"], r["image"]) for r in runs}):
        opt = [(r["tool"], r["objective"]) for r in runs if (r["net"], r["image"]) == key and r["status"] == "optimal"]
        for t, v in opt:
            for t2, v2 in opt:
                if t < t2 and abs(v - v2) > 1e-3 * (1 + abs(v2)):
                    disagreements.append({"net": key[0], "image": key[1], "tools": [t, t2], "optima": [v, v2]})
    summary = {}
    for net in sorted({r["net"] for r in runs}):
        for tool in args.tools:
            cell = [r for r in runs if r["net"] == net and r["tool"] == tool]
            summary[f"{net} | {tool}"] = cell_summary(cell, args.time_limit)
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    meta = {"command": " ".join([os.path.relpath(__file__, ROOT)] + sys.argv[1:]), "seconds": time.time() - started,
            "time_limit": args.time_limit, "images": args.images}
    json.dump({"meta": meta, "runs": runs, "summary": summary, "disagreements": disagreements},
              open(args.out + ".json", "w"), indent=1)
    with open(args.out + ".md", "w") as f:
        f.write(f"`{meta['command']}` ({meta['seconds']:.0f} s)\n\n")
        f.write("| net | tool | solved | median solve s | max solve s | other statuses |\n| --- | --- | ---: | ---: | ---: | --- |\n")
        for k, s in summary.items():
            net, tool = k.split(" | ")
            ge = "≥ " if s["censored"] else ""
            med = "–" if s["median"] is None else f"{ge}{s['median']:.2f}"
            mx = "–" if s["max"] is None else f"{ge}{s['max']:.2f}"
            f.write(f"| {net} | {tool} | {s['solved']} | {med} | {mx} | {', '.join(s['other'])} |\n")
        f.write(f"\nOptimum disagreements (relative 1e-3): {len(disagreements)}\n")
        for d in disagreements:
            f.write(f"- {d}\n")


if __name__ == "__main__":
    main()
