"""Has Gurobi, CPLEX, SCIP and HiGHS read nnmilp's start files (`--start`) and say whether
they take the point as a feasible solution; optionally measures what the start does.

    python3 start.py check MODEL [SOLVER...]
    python3 start.py measure MODEL TIME_LIMIT [SOLVER...]

`check` reads MODEL with each solver's own reader and its start file beside it (MODEL's
extension replaced: `.mst` for Gurobi and SCIP, `.cplex.mst` for CPLEX, `.highs.sol` for
HiGHS), solves for at most 10 s, and prints one JSON object per solver on stdout:

    {"solver", "start_file", "accepted": bool, "evidence": the solver's own words (log line or
     API status), "start_objective": the objective the solver states for the start, or null}

`accepted` means the solver says it takes the point *as written* as a feasible solution, not
after repairing it: Gurobi's log "Loaded user MIP start with objective" with StartNodeLimit -2
(check a complete start, never repair it), CPLEX's "MIP start 'nnmilp' defined initial
solution" (the file asks for a feasibility check, MIPStartEffortLevel 1), SCIP's "feasible
solution given by solution candidate storage" after `readSol`, HiGHS's `readSolution` returning
kOk, "Assessing feasibility of MIP solution ...: feasible" and "MIP start solution is feasible"
(a repaired start has the last line without the assessment).

`measure` solves MODEL with Gurobi and/or SCIP (one thread) with and without the start and
prints {"solver", "start", "status", "first_incumbent_seconds", "first_incumbent_objective",
"seconds", "objective", "bound"} per run.
"""
import json
import os
import re
import sys
import tempfile
import time


def stem(model):
    for ext in (".mps.gz", ".lp.gz", ".mps", ".lp"):
        if model.lower().endswith(ext):
            return model[: -len(ext)]
    return model


def start_file(model, solver):
    return stem(model) + {"gurobi": ".mst", "scip": ".mst", "cplex": ".cplex.mst", "highs": ".highs.sol"}[solver]


def find(log, patterns):
    for line in log.splitlines():
        for p in patterns:
            m = re.search(p, line)
            if m:
                return line.strip(), (float(m.group(1).rstrip(".")) if m.groups() else None)
    return None, None


def gurobi_check(model, sfile):
    import gurobipy as gp

    env = gp.Env(empty=True)
    env.setParam("LogToConsole", 0)
    env.start()
    m = gp.read(model, env)
    with tempfile.TemporaryDirectory() as d:
        log = os.path.join(d, "g.log")
        m.Params.LogFile = log
        m.Params.Threads = 1
        m.Params.TimeLimit = 10
        # -2: check a complete start as it is, never repair it (by default Gurobi fixes its
        # integers, solves the LP and reports the result as the start's).
        m.Params.StartNodeLimit = -2
        m.read(sfile)
        m.optimize()
        m.Params.LogFile = ""
        text = open(log).read()
    line, obj = find(text, [r"Loaded user MIP start with objective ([-+0-9.eE]+)"])
    return {"accepted": line is not None, "evidence": line or last_lines(text), "start_objective": obj}


def cplex_check(model, sfile):
    import io

    import cplex

    c = cplex.Cplex()
    out = io.StringIO()
    for s in (c.set_results_stream, c.set_log_stream, c.set_warning_stream):
        s(out)
    c.set_error_stream(out)
    c.read(model)
    c.parameters.threads.set(1)
    c.parameters.timelimit.set(10)
    c.MIP_starts.read(sfile)
    c.solve()
    text = out.getvalue()
    line, obj = find(text, [r"MIP start 'nnmilp' defined initial solution with objective ([-+0-9.eE]+)"])
    return {"accepted": line is not None, "evidence": line or last_lines(text), "start_objective": obj}


def scip_check(model, sfile):
    import pyscipopt

    m = pyscipopt.Model()
    with tempfile.TemporaryDirectory() as d:
        log = os.path.join(d, "s.log")
        m.setLogfile(log)
        m.hideOutput()
        m.readProblem(model)
        m.setParam("limits/time", 10)
        m.setParam("parallel/maxnthreads", 1)
        m.readSol(sfile)
        m.optimize()
        m.setLogfile(None)
        text = open(log).read()
    line, obj = find(text, [r"feasible solution given by solution candidate storage, new primal bound ([-+0-9.eE]+)"])
    return {"accepted": line is not None, "evidence": line or last_lines(text), "start_objective": obj}


def highs_check(model, sfile):
    import highspy

    h = highspy.Highs()
    with tempfile.TemporaryDirectory() as d:
        log = os.path.join(d, "h.log")
        h.setOptionValue("log_to_console", False)
        h.setOptionValue("log_file", log)
        h.setOptionValue("threads", 1)
        h.setOptionValue("time_limit", 10.0)
        h.readModel(model)
        status = h.readSolution(sfile, 0)
        if status != highspy.HighsStatus.kOk:
            h.setOptionValue("log_file", "")
            return {"accepted": False, "evidence": f"readSolution returned {status}: " + last_lines(open(log).read()),
                    "start_objective": None}
        h.run()
        h.setOptionValue("log_file", "")
        text = open(log).read()
    # HiGHS first assesses the point as given, then (if it is infeasible) repairs it and still
    # says "MIP start solution is feasible": only the assessment tells.
    assessed, _ = find(text, [r"Assessing feasibility of MIP solution .*: feasible$"])
    line, obj = find(text, [r"MIP start solution is feasible: objective value is ([-+0-9.eE]+)"])
    if assessed is None:
        line = None
    return {"accepted": line is not None, "evidence": line or last_lines(text), "start_objective": obj}


def last_lines(text, n=8):
    return " | ".join(text.strip().splitlines()[-n:])


CHECKS = {"gurobi": gurobi_check, "cplex": cplex_check, "scip": scip_check, "highs": highs_check}


def gurobi_measure(model, sfile, limit):
    import gurobipy as gp

    env = gp.Env(empty=True)
    env.setParam("OutputFlag", 0)
    env.start()
    m = gp.read(model, env)
    m.Params.Threads = 1
    m.Params.TimeLimit = limit
    m.Params.MIPGap = 0
    if sfile:
        m.read(sfile)
    first = {}

    def cb(model, where):
        if where == gp.GRB.Callback.MIPSOL and "t" not in first:
            first["t"] = model.cbGet(gp.GRB.Callback.RUNTIME)
            first["obj"] = model.cbGet(gp.GRB.Callback.MIPSOL_OBJ)

    m.optimize(cb)
    return {
        "status": {gp.GRB.OPTIMAL: "optimal", gp.GRB.TIME_LIMIT: "time_limit"}.get(m.Status, str(m.Status)),
        "first_incumbent_seconds": first.get("t"),
        "first_incumbent_objective": first.get("obj"),
        "seconds": m.Runtime,
        "objective": m.ObjVal if m.SolCount else None,
        "bound": m.ObjBound,
    }


def scip_measure(model, sfile, limit):
    import pyscipopt

    m = pyscipopt.Model()
    m.hideOutput()
    m.readProblem(model)
    m.setParam("limits/time", limit)
    m.setParam("limits/gap", 0.0)
    m.setParam("parallel/maxnthreads", 1)
    if sfile:
        m.readSol(sfile)
    m.optimize()
    sols = m.getSols()
    first = min(sols, key=m.getSolTime) if sols else None
    return {
        "status": m.getStatus(),
        "first_incumbent_seconds": m.getSolTime(first) if first else None,
        "first_incumbent_objective": m.getSolObjVal(first) if first else None,
        "seconds": m.getSolvingTime(),
        "objective": m.getObjVal() if sols else None,
        "bound": m.getDualbound(),
    }


MEASURES = {"gurobi": gurobi_measure, "scip": scip_measure}


def main():
    mode, model = sys.argv[1], sys.argv[2]
    # Solvers' own chatter goes to stderr; stdout carries only the JSON lines.
    out = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)
    if mode == "check":
        for solver in sys.argv[3:] or list(CHECKS):
            sfile = start_file(model, solver)
            try:
                res = CHECKS[solver](model, sfile)
            except Exception as e:  # a reader's error is a result, reported, not a crash
                res = {"accepted": False, "evidence": f"{type(e).__name__}: {e}", "start_objective": None}
            out.write(json.dumps({"solver": solver, "start_file": sfile, **res}) + "\n")
    elif mode == "measure":
        limit = float(sys.argv[3])
        for solver in sys.argv[4:] or list(MEASURES):
            for with_start in (False, True):
                res = MEASURES[solver](model, start_file(model, solver) if with_start else None, limit)
                out.write(json.dumps({"solver": solver, "start": with_start, **res}) + "\n")
                out.flush()
    else:
        sys.exit(f"unknown mode {mode}")
    out.flush()


if __name__ == "__main__":
    main()
