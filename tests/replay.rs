//! `nnmilp replay` on solution files written by each of the six solvers, and `--for`.
//!
//! An adversarial model of the dense test net is written as MPS and LP and solved by HiGHS,
//! SCIP, Gurobi, CPLEX, CBC and GLPK (`tests/solvers/run.py`), each writing its native solution
//! file; `replay` must detect the format, find the example `--solve` found (same distance, the
//! target class, margin held, no row violated), and call a tampered solution (one input
//! changed) violating, with a non-zero exit.

use crate::common::root;
use crate::solver_matrix::{driver, nnmilp_ok, strings};
use serde_json::{json, Value};
use sha2::Digest;
use std::path::Path;
use std::process::Command;

fn net() -> String {
    root()
        .join("tests/solvers/dense_6-8-8-4.onnx")
        .to_string_lossy()
        .into_owned()
}

fn point() -> String {
    root()
        .join("tests/solvers/dense_point.npy")
        .to_string_lossy()
        .into_owned()
}

fn replay(args: &[&str], dir: &Path) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_nnmilp"))
        .arg("replay")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("run nnmilp replay")
}

/// Checks `replay`'s report of a solution of the embedded-network examples (the user's model:
/// maximise `y_0 - y_1` subject to `sum x <= 3`): the point replays through the network, meets
/// the user's constraint, and its objective on the forward pass is returned.
fn embedded_objective(report: &[u8], who: &str) -> f64 {
    let rep: Value = serde_json::from_slice(report).expect("replay report");
    assert_eq!(rep["violates"], false, "{who}: {rep}");
    assert!(rep["output_error"].as_f64().unwrap() <= 1e-5, "{who}: {rep}");
    let input_sum: f64 = rep["input"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap())
        .sum();
    assert!(
        input_sum <= 3.0 + 1e-6,
        "{who}: the user's constraint, sum x = {input_sum}"
    );
    let y = &rep["outputs"];
    y[0].as_f64().unwrap() - y[1].as_f64().unwrap()
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-5 * (1.0 + a.abs().max(b.abs()))
}

#[test]
fn replay_reads_every_solvers_solution_file_and_finds_the_solve_example() {
    let dir = tempfile::tempdir().expect("temp dir");
    let d = dir.path();
    let (net, point) = (net(), point());
    let mut reference = None;
    let mut jobs = Vec::new();
    for ext in ["mps", "lp"] {
        let model = d.join(format!("adv.{ext}")).to_string_lossy().into_owned();
        let out = nnmilp_ok(
            &strings(&[
                "adversarial",
                &net,
                "--image",
                &point,
                "--target",
                "3",
                "-o",
                &model,
                "--solve",
                "--report",
                "-",
            ]),
            d,
        );
        let r: Value = serde_json::from_slice(&out.stdout).expect("report");
        assert_eq!(r["solve"]["status"], "optimal", "{r}");
        reference = Some((
            r["solve"]["example"]["distance"].as_f64().expect("distance"),
            r["target"].as_u64().expect("target"),
        ));
        let sols = d.join(format!("sol_{ext}"));
        std::fs::create_dir_all(&sols).expect("mkdir");
        jobs.push(
            json!({"file": model, "solvers": ["highs", "scip", "gurobi", "cplex", "cbc", "glpk"],
                         "solution_dir": sols}),
        );
    }
    let (distance, target) = reference.expect("solved");
    let results = driver(&jobs, 60);
    for r in &results {
        let (solver, model) = (r["solver"].as_str().unwrap(), r["file"].as_str().unwrap());
        let sol = r["solution"]
            .as_str()
            .unwrap_or_else(|| panic!("{solver} wrote no solution for {model}: {r}"));
        let out = replay(&[&net, sol, "--model", model, "--report", "-"], d);
        assert!(
            out.status.success(),
            "replay of {solver}'s solution of {model}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let rep: Value = serde_json::from_slice(&out.stdout).expect("replay report");
        let what = format!("{solver} on {model}");
        assert_eq!(rep["solution"]["format"], solver, "{what}: detected format");
        assert_eq!(rep["predicted"], target, "{what}");
        assert_eq!(rep["violates"], false, "{what}: {rep}");
        assert_eq!(rep["goal"]["holds"], true, "{what}: {rep}");
        let got = rep["goal"]["distance"]
            .as_f64()
            .expect("distance (image found from the header)");
        assert!(close(got, distance), "{what}: distance {got}, --solve found {distance}");
        assert!(
            rep["model"]["max_relative_violation"].as_f64().unwrap() <= 1e-5,
            "{what}: {rep}"
        );
    }

    // One input changed: the solver's outputs no longer match the forward pass, and the rows
    // that tie the input to the first layer are violated.
    let gurobi = d.join("sol_mps/gurobi.sol");
    let text = std::fs::read_to_string(&gurobi).expect("gurobi.sol");
    let tampered: String = text
        .lines()
        .map(|l| match l.split_once(' ') {
            // The split L1 form has no `in_j` columns: the input is `img + p - n`, so move
            // every input column (whichever form the model has) by half the unit box.
            Some((name, v)) if name.starts_with("in_") || name.starts_with("p_") || name.starts_with("n_") => {
                format!("{name} {}", v.parse::<f64>().unwrap() + 0.5)
            }
            _ => l.to_string(),
        })
        .collect::<Vec<_>>()
        .join("\n");
    assert_ne!(tampered, text, "input columns are in Gurobi's file");
    let bad = d.join("tampered.sol");
    std::fs::write(&bad, tampered + "\n").expect("write");
    let report = d.join("tampered.json");
    let model = d.join("adv.mps");
    let out = replay(
        &[
            &net,
            bad.to_str().unwrap(),
            "--model",
            model.to_str().unwrap(),
            "--report",
            report.to_str().unwrap(),
        ],
        d,
    );
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stderr).contains("VIOLATES"));
    let rep: Value = serde_json::from_str(&std::fs::read_to_string(&report).expect("report")).expect("json");
    assert_eq!(rep["violates"], true);
    assert!(rep["model"]["max_relative_violation"].as_f64().unwrap() > 1e-3, "{rep}");
    // Without the model, the outputs alone give it away.
    let out = replay(&[&net, bad.to_str().unwrap()], d);
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stderr));

    // GLPK numbers its columns: without the model there are no names to map.
    let glpk = d.join("sol_mps/glpk.sol");
    let out = replay(&[&net, glpk.to_str().unwrap()], d);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--model"));
}

#[test]
fn for_refuses_what_the_solver_misreads_or_does_not_read() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (net, point) = (net(), point());
    let run = |extra: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_nnmilp"))
            .args(["adversarial", &net, "--image", &point])
            .args(extra)
            .current_dir(dir.path())
            .output()
            .expect("run nnmilp")
    };
    for (args, needles) in [
        (
            &["--relu", "indicator", "--for", "cbc", "-o", "x.lp"][..],
            &["CBC", "indicator", "misread"][..],
        ),
        (&["--relu", "both", "--for", "cbc", "-o", "x.mps"], &["CBC", "not read"]),
        (
            &["--relu", "indicator", "--for", "highs", "-o", "x.mps.gz"],
            &["HiGHS", "not read"],
        ),
        (&["--relu", "indicator", "--for", "glpk", "-o", "x.lp"], &["GLPK"]),
        (
            &["--relu", "indicator", "-o", "x.mps"],
            &["HiGHS", "CBC", "GLPK", "--for"],
        ),
    ] {
        let out = run(args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        for n in needles {
            assert!(err.contains(n), "{args:?} should mention {n}: {err}");
        }
        assert!(
            std::fs::read_dir(dir.path()).unwrap().next().is_none(),
            "nothing written"
        );
    }
    for args in [
        &["--relu", "indicator", "--for", "gurobi", "-o", "x.lp"][..],
        &["--relu", "both", "--for", "scip", "-o", "x.mps"],
        &["--for", "cbc", "-o", "y.lp"],
        &["--relu", "indicator", "--solve"],
    ] {
        let out = run(args);
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

/// `compile` + a user's model: the network alone (prefixed names, zero objective) read by
/// Gurobi, SCIP and HiGHS through their Python APIs, an objective over `y` and a constraint on
/// the inputs added by name from the interface file, solved; `replay` of each solver's
/// solution gives outputs equal to the forward pass, and the three optima agree with it.
#[test]
fn compiled_network_in_a_user_model_replays_to_the_forward_pass() {
    let dir = tempfile::tempdir().expect("temp dir");
    let d = dir.path();
    let net = net();
    let model = d.join("net.mps").to_string_lossy().into_owned();
    let iface = d.join("net.json").to_string_lossy().into_owned();
    nnmilp_ok(
        &strings(&["compile", &net, "--prefix", "net_", "-o", &model, "--interface", &iface]),
        d,
    );
    let i: Value = serde_json::from_str(&std::fs::read_to_string(&iface).expect("interface")).expect("json");
    assert_eq!(i["format"], "nnmilp-interface/1");
    assert_eq!(i["inputs"]["shape"], json!([6]));
    assert_eq!(i["inputs"]["columns"][0], "net_in_0");
    assert_eq!(i["outputs"]["columns"][3], "net_y_3");
    assert_eq!(i["inputs"]["lo"], json!(vec![0.0; 6]));
    let bytes = std::fs::read(&net).expect("net");
    let sha = sha2::Sha256::digest(&bytes);
    assert_eq!(i["network"]["sha256"], format!("{sha:x}"));
    let text = std::fs::read_to_string(&model).expect("model");
    assert!(
        text.contains(" net_in_0 ") && text.contains("net_y_3"),
        "prefixed names"
    );

    let mut optima = Vec::new();
    for solver in ["gurobi", "scip", "highs"] {
        let sol = d.join(format!("{solver}.sol")).to_string_lossy().into_owned();
        let script = root().join("tests/solvers/embed.py");
        let out = Command::new(crate::common::python())
            .args([script.to_str().unwrap(), &model, &iface, solver, &sol])
            .output()
            .expect("run embed.py");
        assert!(
            out.status.success(),
            "{solver}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let optimum: f64 = String::from_utf8_lossy(&out.stdout).trim().parse().expect("optimum");
        let out = replay(&[&net, &sol, "--model", &model, "--prefix", "net_", "--report", "-"], d);
        assert!(
            out.status.success(),
            "{solver}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let replayed = embedded_objective(&out.stdout, solver);
        assert!(
            close(replayed, optimum),
            "{solver}: forward pass gives {replayed}, solver {optimum}"
        );
        optima.push(optimum);
    }
    assert!(optima.iter().all(|&o| close(o, optima[0])), "{optima:?}");
}

/// `replay --model` checks the goal every task's header states: visualize and range (the
/// unit's value on the forward pass equals the solver's objective, the point lies in the
/// region), verify (a counterexample of the model's case, or not), compile (no goal: outputs
/// only). Solutions from HiGHS and SCIP (`tests/solvers/run.py`); a solution replayed against
/// the wrong model (range's min point as the max problem's answer) does not hold.
#[test]
fn replay_checks_the_goal_of_every_task() {
    let dir = tempfile::tempdir().expect("temp dir");
    let d = dir.path();
    let (net, point) = (net(), point());
    let vnn = crate::common::shared().join("fixtures/vnncomp/test");
    let vnn = |f: &str| vnn.join(f).to_string_lossy().into_owned();
    let models = [
        (
            "vis",
            net.clone(),
            strings(&[
                "visualize",
                &net,
                "--unit",
                "L2:3",
                "--minimize",
                "--near",
                &point,
                "--max-dist",
                "0.5",
                "--norm",
                "l1",
                "-o",
                "vis.mps",
            ]),
        ),
        (
            "rmin",
            net.clone(),
            strings(&[
                "range",
                &net,
                "--output",
                "1",
                "--image",
                &point,
                "--eps",
                "0.1",
                "--minimize",
                "-o",
                "rmin.lp",
            ]),
        ),
        (
            "rmax",
            net.clone(),
            strings(&["range", &net, "--output", "1", "--maximize", "-o", "rmax.mps"]),
        ),
        (
            "sat",
            vnn("test_sat.onnx"),
            strings(&[
                "verify",
                &vnn("test_sat.onnx"),
                &vnn("test_prop.vnnlib"),
                "-o",
                "sat.mps",
            ]),
        ),
        (
            "unsat",
            vnn("test_unsat.onnx"),
            strings(&[
                "verify",
                &vnn("test_unsat.onnx"),
                &vnn("test_prop.vnnlib"),
                "-o",
                "unsat.mps",
            ]),
        ),
        (
            "net",
            net.clone(),
            strings(&["compile", &net, "-o", "net.mps", "--interface", "net.json"]),
        ),
    ];
    let mut jobs = Vec::new();
    for (name, _, args) in &models {
        nnmilp_ok(args, d);
        let file = &args[args.iter().position(|a| a == "-o").unwrap() + 1];
        let sols = d.join(format!("sol_{name}"));
        std::fs::create_dir_all(&sols).expect("mkdir");
        jobs.push(json!({"file": d.join(file), "solvers": ["highs", "scip"], "solution_dir": sols}));
    }
    let results = driver(&jobs, 60);
    let replay_of = |net: &str, sol: &str, model: &str| {
        let out = replay(&[net, sol, "--model", model, "--report", "-"], d);
        let rep: Value = serde_json::from_slice(&out.stdout).expect("replay report");
        (out.status.code(), rep)
    };
    for r in &results {
        let (solver, model) = (r["solver"].as_str().unwrap(), r["file"].as_str().unwrap());
        let sol = r["solution"]
            .as_str()
            .unwrap_or_else(|| panic!("{solver} wrote no solution for {model}: {r}"));
        let name = Path::new(model).file_stem().unwrap().to_str().unwrap();
        let net = &models.iter().find(|m| m.0 == name).unwrap().1;
        let (code, rep) = replay_of(net, sol, model);
        let what = format!("{solver} on {model}");
        let g = &rep["goal"];
        assert_eq!(rep["violates"], false, "{what}: {rep}");
        match name {
            "vis" | "rmin" | "rmax" => {
                assert_eq!(code, Some(0), "{what}: {rep}");
                assert_eq!(g["holds"], true, "{what}: {g}");
                let value = g["value"].as_f64().unwrap();
                let objective = g["objective"].as_f64().expect("the solver states its objective");
                assert!(close(value, objective), "{what}: value {value}, objective {objective}");
                let (task, sense) = match name {
                    "vis" => ("visualize", "minimize"),
                    "rmin" => ("range", "minimize"),
                    _ => ("range", "maximize"),
                };
                assert_eq!(
                    (g["task"].as_str(), g["sense"].as_str()),
                    (Some(task), Some(sense)),
                    "{what}"
                );
                if name == "rmax" {
                    assert_eq!(g["unit"], "output y_1");
                    assert!(close(value, rep["outputs"][1].as_f64().unwrap()), "{what}");
                } else {
                    let n = &g["near"];
                    let dist = n["distance"].as_f64().expect("image found from the header");
                    assert!(dist <= n["max_dist"].as_f64().unwrap() + 1e-6, "{what}: {n}");
                }
            }
            "sat" => {
                assert_eq!(code, Some(0), "{what}: {rep}");
                assert_eq!(
                    (g["task"].as_str(), g["holds"].as_bool()),
                    (Some("verify"), Some(true)),
                    "{what}: {g}"
                );
                assert!(g["slack"].as_f64().unwrap() >= 0.0, "{what}: {g}");
                assert!(g["property_file"].as_str().unwrap().ends_with("test_prop.vnnlib"));
            }
            "unsat" => {
                assert_eq!(code, Some(1), "{what}: not a counterexample is a failed goal: {rep}");
                assert_eq!(g["holds"], false, "{what}: {g}");
                assert!(g["slack"].as_f64().unwrap() < 0.0, "{what}: {g}");
            }
            _ => {
                assert_eq!(code, Some(0), "{what}: {rep}");
                assert!(g.is_null(), "compile's model states no goal: {g}");
                assert_eq!(rep["outputs"].as_array().unwrap().len(), 4);
                assert!(rep["output_error"].as_f64().unwrap() <= 1e-5, "{what}: {rep}");
            }
        }
    }
    // The min problem's answer handed in as the max problem's: its rows hold (same network),
    // but the value is not what the max model's solver objective says.
    let sol = d.join("sol_rmin/highs.sol");
    let (code, rep) = replay_of(&net, sol.to_str().unwrap(), d.join("rmax.mps").to_str().unwrap());
    assert_eq!(code, Some(1), "{rep}");
    assert_eq!(rep["goal"]["holds"], false, "{rep}");
}

/// The README's worked examples for `compile` (gurobipy, pyscipopt, Pyomo), run as they stand:
/// every Python block of the README that reads `net.json` is copied out and run next to
/// `nnmilp compile ... --prefix net_ -o net.mps --interface net.json`; each must write
/// `net.sol`, which `replay` must find consistent with the network, with the user's constraint
/// holding and the same optimum `y_0 - y_1` for all.
#[test]
fn readme_compile_examples_run_and_replay() {
    let readme = std::fs::read_to_string(root().join("README.md")).expect("README.md");
    let blocks: Vec<&str> = readme
        .split("```python\n")
        .skip(1)
        .filter_map(|b| b.split_once("\n```").map(|(code, _)| code))
        .filter(|code| code.contains("net.json"))
        .collect();
    for (code, library) in blocks.iter().zip(["gurobipy", "pyscipopt", "pyomo"]) {
        assert!(
            code.lines().next().is_some_and(|l| l.contains(library)),
            "README example order: {code}"
        );
    }
    assert_eq!(
        blocks.len(),
        3,
        "the README's compile examples: gurobipy, pyscipopt, Pyomo"
    );
    let net = net();
    let mut optima = Vec::new();
    for (k, code) in blocks.iter().enumerate() {
        let dir = tempfile::tempdir().expect("temp dir");
        let d = dir.path();
        nnmilp_ok(
            &strings(&[
                "compile",
                &net,
                "--prefix",
                "net_",
                "-o",
                "net.mps",
                "--interface",
                "net.json",
            ]),
            d,
        );
        std::fs::write(d.join("example.py"), code).expect("write example");
        let out = Command::new(crate::common::python())
            .arg("example.py")
            .current_dir(d)
            .output()
            .expect("run the README example");
        assert!(
            out.status.success(),
            "README example {k}:\n{code}\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let out = replay(
            &[
                &net, "net.sol", "--model", "net.mps", "--prefix", "net_", "--report", "-",
            ],
            d,
        );
        assert!(
            out.status.success(),
            "README example {k}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        optima.push(embedded_objective(&out.stdout, &format!("README example {k}")));
    }
    assert!(optima.iter().all(|&o| close(o, optima[0])), "{optima:?}");
}
