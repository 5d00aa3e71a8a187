//! Start files (`--start`) read by Gurobi, CPLEX, SCIP and HiGHS through their own APIs
//! (`tests/solvers/start.py check`): each must say that it takes the point as written as a
//! feasible solution (no repair), at the objective nnmilp reports; the same files with one
//! column moved must be refused by all four, so that "accepted" is a check, not a formality.
//! The instances are the matrix's small nets, within the size-limited licences.

use crate::common::root;
use crate::solver_matrix::{nnmilp_ok, python, strings};
use serde_json::Value;
use std::path::Path;
use std::process::Command;

fn asset(name: &str) -> String {
    root().join("tests/solvers").join(name).to_string_lossy().into_owned()
}

/// Runs `start.py check MODEL SOLVERS...`: one JSON object per solver.
fn check(model: &str, solvers: &[&str]) -> Vec<Value> {
    let out = Command::new(python())
        .arg(root().join("tests/solvers/start.py"))
        .args(["check", model])
        .args(solvers)
        .output()
        .expect("run start.py");
    assert!(
        out.status.success(),
        "start.py check {model}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("start.py JSON line"))
        .collect()
}

/// The start's objective as nnmilp's report states it, and the files written.
fn start_of(report: &Value) -> (f64, Vec<String>) {
    let s = &report["start"];
    let files = s["files"]
        .as_array()
        .unwrap_or_else(|| panic!("no start in the report: {report}"))
        .iter()
        .map(|f| f.as_str().unwrap().to_string())
        .collect();
    assert!(s["max_relative_violation"].as_f64().unwrap() <= 1e-6, "{s}");
    (s["objective"].as_f64().unwrap(), files)
}

/// Each solver accepted the start, at `objective` (CPLEX prints four digits).
fn assert_accepted(results: &[Value], objective: f64, what: &str) {
    for r in results {
        let solver = r["solver"].as_str().unwrap();
        assert_eq!(r["accepted"], true, "{what}: {solver} did not accept its start: {r}");
        let got = r["start_objective"].as_f64().expect("objective in the log");
        assert!(
            (got - objective).abs() <= 5e-4 * (1.0 + objective.abs()),
            "{what}: {solver} states objective {got}, nnmilp {objective}"
        );
    }
}

/// Copies `model` and its start files to `bad/`, moving the value of `column` in each.
fn tampered(model: &Path, files: &[String], column: &str) -> String {
    let dir = model.parent().unwrap().join("bad");
    std::fs::create_dir_all(&dir).expect("mkdir");
    std::fs::copy(model, dir.join(model.file_name().unwrap())).expect("copy model");
    for f in files {
        let text = std::fs::read_to_string(f).expect("start file");
        let moved: Vec<String> = text
            .lines()
            .map(|l| {
                if l.starts_with(&format!("{column} ")) {
                    format!("{column} 0.9")
                } else if l.contains(&format!("name=\"{column}\"")) {
                    let (head, _) = l.split_once(" value=").unwrap();
                    format!("{head} value=\"0.9\"/>")
                } else {
                    l.to_string()
                }
            })
            .collect();
        assert_ne!(moved.join("\n"), text.trim_end(), "{column} is in {f}");
        let name = Path::new(f).file_name().unwrap();
        std::fs::write(dir.join(name), moved.join("\n") + "\n").expect("write");
    }
    dir.join(model.file_name().unwrap()).to_string_lossy().into_owned()
}

#[test]
fn every_solver_takes_the_start_files_as_feasible() {
    let dir = tempfile::tempdir().expect("temp dir");
    let d = dir.path();
    let (dense, conv) = (asset("dense_6-8-8-4.onnx"), asset("conv_4x4.onnx"));
    let (dense_pt, conv_pt) = (asset("dense_point.npy"), asset("conv_point.npy"));
    let all = ["gurobi", "cplex", "scip", "highs"];

    // The first-order example (no solve), big-M, MPS: all four files, all four solvers.
    let model = d.join("adv.mps");
    let m = model.to_string_lossy().into_owned();
    let out = nnmilp_ok(
        &strings(&[
            "adversarial",
            &dense,
            "--image",
            &dense_pt,
            "--target",
            "3",
            "-o",
            &m,
            "--start",
            "--report",
            "-",
        ]),
        d,
    );
    let r: Value = serde_json::from_slice(&out.stdout).expect("report");
    assert_eq!(r["start"]["source"], "first_order");
    let (objective, files) = start_of(&r);
    assert_eq!(files.len(), 3, "{files:?}");
    assert_accepted(&check(&m, &all), objective, "dense adversarial, first-order start");

    // The same files with a ReLU column moved off its value: every solver refuses them.
    let bad = tampered(&model, &files, "x_L1_0");
    for res in check(&bad, &all) {
        assert_eq!(res["accepted"], false, "a tampered start was accepted: {res}");
    }

    // `replay` reads the plain start file as a solution: the goal holds there.
    let out = Command::new(env!("CARGO_BIN_EXE_nnmilp"))
        .args(["replay", &dense, &files[0], "--model", &m, "--report", "-"])
        .current_dir(d)
        .output()
        .expect("replay");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let rep: Value = serde_json::from_slice(&out.stdout).expect("replay report");
    assert_eq!(rep["goal"]["holds"], true, "{rep}");

    // The solver's incumbent (--solve), conv net, Linf, LP format.
    let m = d.join("conv.lp").to_string_lossy().into_owned();
    let out = nnmilp_ok(
        &strings(&[
            "adversarial",
            &conv,
            "--image",
            &conv_pt,
            "--norm",
            "linf",
            "-o",
            &m,
            "--solve",
            "--start",
            "--report",
            "-",
        ]),
        d,
    );
    let r: Value = serde_json::from_slice(&out.stdout).expect("report");
    assert_eq!(r["start"]["source"], "solver");
    let (objective, _) = start_of(&r);
    assert_accepted(&check(&m, &all), objective, "conv adversarial linf, solver's start");

    // Each solver's own file only (--for), gzipped models; indicators for Gurobi and CPLEX (SCIP
    // refuses a start for them, see `start_needs_a_point_and_a_solver_that_reads_it`).
    for (solver, relu, task) in [
        ("gurobi", "indicator", "untargeted"),
        ("cplex", "both", "range"),
        ("scip", "bigm", "range"),
    ] {
        let m = d.join(format!("{solver}.mps.gz")).to_string_lossy().into_owned();
        let args: Vec<&str> = match task {
            "untargeted" => vec!["adversarial", &dense, "--image", &dense_pt, "--untargeted"],
            _ => vec!["range", &conv, "--output", "2", "--maximize", "--solve"],
        };
        let mut args = strings(&args);
        args.extend(strings(&[
            "--relu", relu, "--for", solver, "-o", &m, "--start", "--report", "-",
        ]));
        let out = nnmilp_ok(&args, d);
        let r: Value = serde_json::from_slice(&out.stdout).expect("report");
        let r = if task == "range" { &r["max"]["solve"] } else { &r };
        let (objective, files) = start_of(r);
        assert_eq!(files.len(), 1, "--for {solver}: {files:?}");
        assert_accepted(
            &check(&m, &[solver]),
            objective,
            &format!("{task} --relu {relu} --for {solver}"),
        );
    }
}

/// `verify --solve --start`: the counterexample as a start for its case's model, taken as
/// feasible by all four, and by `replay` as a counterexample; an unsat property writes none.
#[test]
fn verify_writes_the_counterexample_as_a_start() {
    let dir = tempfile::tempdir().expect("temp dir");
    let d = dir.path();
    let vnn = crate::common::shared().join("fixtures/vnncomp/test");
    let vnn = |f: &str| vnn.join(f).to_string_lossy().into_owned();
    let (sat, unsat, prop) = (vnn("test_sat.onnx"), vnn("test_unsat.onnx"), vnn("test_prop.vnnlib"));
    let m = d.join("sat.mps").to_string_lossy().into_owned();
    let out = nnmilp_ok(
        &strings(&["verify", &sat, &prop, "-o", &m, "--solve", "--start", "--report", "-"]),
        d,
    );
    let r: Value = serde_json::from_slice(&out.stdout).expect("report");
    assert_eq!(r["verdict"], "sat", "{r}");
    assert_eq!(r["start"]["source"], "counterexample");
    let (objective, files) = start_of(&r);
    assert_accepted(
        &check(&m, &["gurobi", "cplex", "scip", "highs"]),
        objective,
        "verify sat",
    );
    let out = Command::new(env!("CARGO_BIN_EXE_nnmilp"))
        .args(["replay", &sat, &files[0], "--model", &m, "--report", "-"])
        .current_dir(d)
        .output()
        .expect("replay");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let rep: Value = serde_json::from_slice(&out.stdout).expect("replay report");
    assert_eq!(
        (rep["goal"]["task"].as_str(), rep["goal"]["holds"].as_bool()),
        (Some("verify"), Some(true))
    );

    let m = d.join("unsat.mps").to_string_lossy().into_owned();
    let out = nnmilp_ok(
        &strings(&["verify", &unsat, &prop, "-o", &m, "--solve", "--start", "--report", "-"]),
        d,
    );
    let r: Value = serde_json::from_slice(&out.stdout).expect("report");
    assert_eq!(r["verdict"], "unsat", "{r}");
    assert!(r.get("start").is_none(), "no counterexample, no start: {r}");
    assert!(!d.join("unsat.mst").exists());
}

#[test]
fn start_needs_a_point_and_a_solver_that_reads_it() {
    let dir = tempfile::tempdir().expect("temp dir");
    let dense = asset("dense_6-8-8-4.onnx");
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_nnmilp"))
            .args(args)
            .current_dir(dir.path())
            .output()
            .expect("run nnmilp")
    };
    for (args, needle) in [
        (
            &[
                "adversarial",
                &dense,
                "--image",
                &asset("dense_point.npy"),
                "-o",
                "a.mps",
                "--start",
                "--for",
                "cbc",
            ][..],
            "CBC",
        ),
        (&["range", &dense, "--output", "1", "-o", "r.mps", "--start"], "--solve"),
        (
            &[
                "range",
                &dense,
                "--output",
                "1",
                "-o",
                "r.mps",
                "--solve",
                "--start",
                "--for",
                "scip",
                "--relu",
                "indicator",
            ],
            "slack column",
        ),
        (
            &[
                "adversarial",
                &dense,
                "--image",
                &asset("dense_point.npy"),
                "-o",
                "-",
                "--format",
                "mps",
                "--start",
            ],
            "beside the model",
        ),
        (&["verify", &dense, "p.vnnlib", "-o", "v.mps", "--start"], "--solve"),
    ] {
        let out = run(args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(needle), "{args:?} should mention {needle}: {err}");
        assert!(
            std::fs::read_dir(dir.path()).unwrap().next().is_none(),
            "nothing written"
        );
    }
}
