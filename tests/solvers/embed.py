"""A user's model around a network written by `nnmilp compile` (tests/replay.rs; the README's
worked examples do the same).

    python3 embed.py MODEL INTERFACE.json SOLVER SOLUTION

reads MODEL with SOLVER's own reader (gurobi, scip or highs), looks the input and output
columns up by the names INTERFACE.json lists, adds the user's objective (maximise y_0 - y_1)
and constraint (sum of the inputs <= half their number), solves, and writes the solver's native
solution file to SOLUTION. Prints the optimum on stdout (anything else goes to stderr).
"""
import json
import os
import sys

model, interface, solver, solution = sys.argv[1:5]
iface = json.load(open(interface))
ins, outs = iface["inputs"]["columns"], iface["outputs"]["columns"]
budget = len(ins) / 2
out = os.fdopen(os.dup(1), "w")
os.dup2(2, 1)

if solver == "gurobi":
    import gurobipy as gp
    env = gp.Env(empty=True)
    env.setParam("OutputFlag", 0)
    env.start()
    m = gp.read(model, env)
    x = [m.getVarByName(n) for n in ins]
    y = [m.getVarByName(n) for n in outs]
    m.setObjective(y[0] - y[1], gp.GRB.MAXIMIZE)
    m.addConstr(gp.quicksum(x) <= budget, name="user_budget")
    m.Params.MIPGap = 0
    m.optimize()
    assert m.Status == gp.GRB.OPTIMAL, m.Status
    m.write(solution)
    value = m.ObjVal
elif solver == "scip":
    import pyscipopt
    m = pyscipopt.Model()
    m.hideOutput()
    m.readProblem(model)
    by_name = {v.name: v for v in m.getVars()}
    x = [by_name[n] for n in ins]
    y = [by_name[n] for n in outs]
    m.setObjective(y[0] - y[1], "maximize")
    m.addCons(pyscipopt.quicksum(x) <= budget, name="user_budget")
    m.setParam("limits/gap", 0.0)
    m.optimize()
    assert m.getStatus() == "optimal", m.getStatus()
    m.writeBestSol(solution)
    value = m.getObjVal()
elif solver == "highs":
    import highspy
    import numpy as np
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("mip_rel_gap", 0.0)
    assert h.readModel(model) == highspy.HighsStatus.kOk
    names = list(h.getLp().col_names_)
    col = {n: j for j, n in enumerate(names)}
    for n in names:
        h.changeColCost(col[n], 0.0)
    h.changeColCost(col[outs[0]], 1.0)
    h.changeColCost(col[outs[1]], -1.0)
    h.changeObjectiveSense(highspy.ObjSense.kMaximize)
    idx = np.array([col[n] for n in ins], dtype=np.int32)
    h.addRow(-highspy.kHighsInf, budget, len(idx), idx, np.ones(len(idx)))
    h.run()
    assert h.getModelStatus() == highspy.HighsModelStatus.kOptimal, h.modelStatusToString(h.getModelStatus())
    h.writeSolution(solution, 0)
    value = h.getInfo().objective_function_value
else:
    sys.exit(f"unknown solver {solver}")
out.write(f"{value!r}\n")
out.flush()
