"""Reads model files with the six solvers' own readers and reports what each made of them.

Driven by tests/solver_matrix.rs (and usable by hand): one process for a whole batch, so the
Python imports and the Gurobi licence check happen once. Input on stdin, JSON:

    {"time_limit": 30,
     "jobs": [{"file": "a.mps", "solvers": ["highs", "scip", "gurobi", "cplex", "cbc", "glpk"],
               "solution_dir": "optional: write each solver's native solution file there"}]}

Output on stdout, JSON: one result per (job, solver), in input order:

    {"file", "solver", "outcome": "optimal" | "infeasible" | "other" | "error",
     "objective" (optimal only; the file's objective, which nnmilp always minimises),
     "message" (the reader's error, or the status text), "solution" (path, when written), "seconds"}

An import that fails is an error of the whole run (exit 3, the package named), never a skip.
Every solver runs on one thread with a relative MIP gap of 0.
"""
import io
import json
import os
import subprocess
import sys
import tempfile
import time
import traceback


def need(module, package):
    try:
        return __import__(module)
    except ImportError as e:
        print(f"the Python package `{package}` is missing ({e}); run `bash .ci/setup`", file=sys.stderr)
        sys.exit(3)


def gz_inner(path):
    return path[:-3] if path.lower().endswith(".gz") else path


def is_lp(path):
    return gz_inner(path).lower().endswith(".lp")


class Highs:
    name = "highs"

    def __init__(self):
        self.hs = need("highspy", "highspy")

    def run(self, job, limit):
        h = self.hs.Highs()
        h.setOptionValue("output_flag", False)
        h.setOptionValue("threads", 1)
        h.setOptionValue("mip_rel_gap", 0.0)
        h.setOptionValue("time_limit", float(limit))
        status = h.readModel(job["file"])
        if status == self.hs.HighsStatus.kError:
            return {"outcome": "error", "message": "readModel returned an error"}
        res = {}
        if status == self.hs.HighsStatus.kWarning:
            res["message"] = "readModel returned a warning"
        h.run()
        ms = h.getModelStatus()
        text = h.modelStatusToString(ms)
        if ms == self.hs.HighsModelStatus.kOptimal:
            res.update(outcome="optimal", objective=h.getInfo().objective_function_value)
        elif ms == self.hs.HighsModelStatus.kInfeasible:
            res.update(outcome="infeasible")
        else:
            res.update(outcome="other", message=text)
        if job.get("solution_dir") and res["outcome"] == "optimal":
            path = os.path.join(job["solution_dir"], "highs.sol")
            h.writeSolution(path, 0)
            res["solution"] = path
        return res


class Scip:
    name = "scip"

    def __init__(self):
        self.ps = need("pyscipopt", "pyscipopt")

    def run(self, job, limit):
        m = self.ps.Model()
        m.hideOutput()
        try:
            m.readProblem(job["file"])
        except Exception as e:  # pyscipopt raises plain Exceptions for reader errors
            return {"outcome": "error", "message": str(e)}
        m.setParam("limits/time", float(limit))
        m.setParam("limits/gap", 0.0)
        m.setParam("lp/threads", 1)
        res = {}
        m.optimize()
        st = m.getStatus()
        if st == "optimal":
            res.update(outcome="optimal", objective=m.getObjVal())
        elif st == "infeasible":
            res.update(outcome="infeasible")
        else:
            res.update(outcome="other", message=st)
        if job.get("solution_dir") and res["outcome"] == "optimal":
            path = os.path.join(job["solution_dir"], "scip.sol")
            m.writeBestSol(path)
            res["solution"] = path
        return res


class Gurobi:
    name = "gurobi"

    def __init__(self):
        self.gp = need("gurobipy", "gurobipy")
        self.env = self.gp.Env(empty=True)
        self.env.setParam("OutputFlag", 0)
        self.env.start()

    def run(self, job, limit):
        gp = self.gp
        try:
            m = gp.read(job["file"], self.env)
        except gp.GurobiError as e:
            return {"outcome": "error", "message": str(e)}
        m.Params.Threads = 1
        m.Params.MIPGap = 0.0
        m.Params.TimeLimit = float(limit)
        res = {}
        m.optimize()
        st = m.Status
        if st == gp.GRB.OPTIMAL:
            res.update(outcome="optimal", objective=m.ObjVal)
        elif st in (gp.GRB.INFEASIBLE, gp.GRB.INF_OR_UNBD):
            res.update(outcome="infeasible")
        else:
            res.update(outcome="other", message=f"status {st}")
        if job.get("solution_dir") and res["outcome"] == "optimal":
            path = os.path.join(job["solution_dir"], "gurobi.sol")
            m.write(path)
            res["solution"] = path
        m.dispose()
        return res


class Cplex:
    name = "cplex"

    def __init__(self):
        self.cp = need("cplex", "cplex")

    def run(self, job, limit):
        cp = self.cp
        c = cp.Cplex()
        log = io.StringIO()
        c.set_results_stream(log)
        c.set_log_stream(log)
        c.set_warning_stream(log)
        c.set_error_stream(log)
        try:
            c.read(job["file"])
        except cp.exceptions.CplexError as e:
            c.end()
            return {"outcome": "error", "message": str(e)}
        c.parameters.threads.set(1)
        c.parameters.mip.tolerances.mipgap.set(0.0)
        c.parameters.timelimit.set(float(limit))
        res = {}
        c.solve()
        st = c.solution.get_status()
        s = c.solution.status
        if st in (s.MIP_optimal, s.optimal, s.optimal_tolerance):
            res.update(outcome="optimal", objective=c.solution.get_objective_value())
        elif st in (s.MIP_infeasible, s.infeasible, s.MIP_infeasible_or_unbounded, s.infeasible_or_unbounded):
            res.update(outcome="infeasible")
        else:
            res.update(outcome="other", message=c.solution.get_status_string())
        if job.get("solution_dir") and res["outcome"] == "optimal":
            path = os.path.join(job["solution_dir"], "cplex.sol")
            c.solution.write(path)
            res["solution"] = path
        c.end()
        return res


def command(args):
    try:
        return subprocess.run(args, capture_output=True, text=True, timeout=600)
    except FileNotFoundError:
        print(f"`{args[0]}` is not installed; run `bash .ci/setup`", file=sys.stderr)
        sys.exit(3)


class Cbc:
    name = "cbc"

    def run(self, job, limit):
        with tempfile.TemporaryDirectory() as d:
            sol = os.path.join(job.get("solution_dir") or d, "cbc.sol")
            # Without -preprocess off, CBC 2.10's preprocessing calls some big-M models
            # infeasible (shared/formats/README.md, §1).
            out = command(["cbc", job["file"], "-sec", str(limit), "-threads", "1", "-ratio", "0",
                           "-preprocess", "off", "-solve", "-solu", sol])
            text = out.stdout + out.stderr
            if not os.path.exists(sol):
                return {"outcome": "error", "message": last_lines(text)}
            first = open(sol).readline().strip()
            if first.startswith("Optimal"):
                res = {"outcome": "optimal", "objective": float(first.split()[-1])}
            elif "nfeasible" in first:
                res = {"outcome": "infeasible", "message": first}
            else:
                res = {"outcome": "other", "message": first}
            warn = [l for l in text.splitlines() if "illegal" in l or l.startswith("###")]
            if warn:
                res["message"] = (res.get("message", "") + " | " + " | ".join(warn[:2])).strip(" |")
            if job.get("solution_dir") and res["outcome"] == "optimal":
                res["solution"] = sol
            return res


class Glpk:
    name = "glpk"

    def run(self, job, limit):
        with tempfile.TemporaryDirectory() as d:
            sol = os.path.join(job.get("solution_dir") or d, "glpk.sol")
            flag = "--cpxlp" if is_lp(job["file"]) else "--freemps"
            out = command(["glpsol", flag, job["file"], "--tmlim", str(limit), "-w", sol])
            if out.returncode != 0 or not os.path.exists(sol):
                return {"outcome": "error", "message": last_lines(out.stdout + out.stderr)}
            # Raw format: `s mip ROWS COLS STATUS OBJ` or `s bas ROWS COLS PRIM DUAL OBJ`.
            s = next(l.split() for l in open(sol) if l.startswith("s "))
            status = s[4]
            if status == "o":
                res = {"outcome": "optimal", "objective": float(s[-1])}
            elif status in ("n", "i"):
                res = {"outcome": "infeasible"}
            else:
                res = {"outcome": "other", "message": " ".join(s)}
            if "TIME LIMIT" in out.stdout:
                res = {"outcome": "other", "message": "time limit"}
            if job.get("solution_dir") and res["outcome"] == "optimal":
                res["solution"] = sol
            return res


def last_lines(text, n=3):
    lines = [l.strip() for l in text.splitlines() if l.strip()]
    return " | ".join(lines[-n:])


def main():
    # Solver libraries print banners and logs on file descriptor 1: keep a copy of it for the
    # JSON and send everything else to stderr.
    out = os.fdopen(os.dup(1), "w")
    sys.stdout.flush()
    os.dup2(2, 1)
    req = json.load(sys.stdin)
    limit = req.get("time_limit", 30)
    classes = {c.name: c for c in (Highs, Scip, Gurobi, Cplex, Cbc, Glpk)}
    wanted = sorted({s for j in req["jobs"] for s in j["solvers"]})
    unknown = [s for s in wanted if s not in classes]
    if unknown:
        print(f"unknown solvers {unknown}", file=sys.stderr)
        sys.exit(2)
    solvers = {s: classes[s]() for s in wanted}
    results = []
    for job in req["jobs"]:
        for s in job["solvers"]:
            t0 = time.time()
            try:
                res = solvers[s].run(job, limit)
            except Exception:
                res = {"outcome": "error", "message": "driver: " + traceback.format_exc(limit=2)}
            res.update(file=job["file"], solver=s, seconds=round(time.time() - t0, 3))
            results.append(res)
    json.dump(results, out, indent=1)
    out.write("\n")
    out.flush()


if __name__ == "__main__":
    main()
