//! The six-solver matrix: every kind of model nnmilp writes, read by HiGHS, SCIP, Gurobi,
//! CPLEX, CBC and GLPK with their own readers, must give nnmilp's optimum, or fail exactly the
//! way the capability table (`nnmilp::back::target::reading`) says: a refusal must be an error,
//! and a known misreading (CBC and LP indicators) must really give a wrong answer, so that the
//! table, `--for`, and the docs cannot drift from what the solvers do.
//!
//! Instances: two small nets (`tests/solvers/dense_6-8-8-4.onnx`, and `conv_4x4.onnx` with a
//! max-pool), seven problems each (adversarial L1, Linf, untargeted, region-tightened with its
//! budget row; visualize; range min and max), three encodings, MPS and LP, plain and `.gz`:
//! 168 files, each within Gurobi's size-limited licence (2,000) and CPLEX Community Edition
//! (1,000 columns and rows). All are written by the `nnmilp` binary, and the reference optimum
//! is its own `--solve` (embedded HiGHS, replayed through the forward pass).
//!
//! The solvers run in one Python process (`tests/solvers/run.py`; CBC and GLPK as programs).
//! A missing package or program fails the test with what to install (`bash .ci/setup`).
//! The outcome is written to `docs/solvers.md`; the test fails when that file is out of date
//! (`UPDATE_SNAPSHOTS=1` rewrites it).

use crate::common::root;
use nnmilp::back::target::{reading, Construct, Reading, Solver};
use nnmilp::back::Format;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

pub use crate::common::python;

/// Runs `tests/solvers/run.py` on `jobs` (see its doc string) and returns one result per job
/// and solver, in order.
pub fn driver(jobs: &[Value], time_limit: u32) -> Vec<Value> {
    let script = root().join("tests/solvers/run.py");
    let mut child = Command::new(python())
        .arg(&script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {} ({e}); run `bash .ci/setup`", python().display()));
    let request = json!({ "time_limit": time_limit, "jobs": jobs }).to_string();
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(request.as_bytes())
        .expect("send jobs");
    let out = child.wait_with_output().expect("driver ran");
    assert!(
        out.status.success(),
        "tests/solvers/run.py failed ({}):\n{}",
        out.status,
        tail(&String::from_utf8_lossy(&out.stderr), 30)
    );
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("driver output is not JSON ({e})"))
}

fn tail(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

/// Runs the `nnmilp` binary in `dir`; fails the test unless it succeeds.
pub fn nnmilp_ok(args: &[String], dir: &Path) -> Output {
    let out = Command::new(env!("CARGO_BIN_EXE_nnmilp"))
        .args(args)
        .current_dir(dir)
        .output()
        .expect("run nnmilp");
    assert!(
        out.status.success(),
        "nnmilp {}: {}",
        args.join(" "),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

pub fn strings(args: &[&str]) -> Vec<String> {
    args.iter().map(|s| s.to_string()).collect()
}

/// One problem on one net: the task's arguments and how to find its optimum in the report.
struct Problem {
    net: &'static str,
    task: &'static str,
    args: Vec<String>,
    /// nnmilp's answer as the file states it (always minimised): `None` when infeasible.
    optimum: Option<f64>,
}

/// The file optimum in a report (a maximisation is written negated) and whether it is optimal.
fn file_optimum(task: &str, report: &Value) -> Option<f64> {
    let (solve, negate) = match task {
        "visualize" => (&report["units"][0]["solve"], true),
        "range-min" => (&report["min"]["solve"], false),
        "range-max" => (&report["max"]["solve"], true),
        _ => (&report["solve"], false),
    };
    match solve["status"].as_str() {
        Some("optimal") => {
            let v = solve["objective"].as_f64().expect("objective");
            Some(if negate { -v } else { v })
        }
        Some("infeasible") => None,
        other => panic!("{task}: nnmilp's own solve ended {other:?}: {solve}"),
    }
}

fn problems(dir: &Path) -> Vec<Problem> {
    // The paper's default target is out of reach in the dense net's box; class 3 is not.
    let nets = [
        ("dense", "dense_6-8-8-4.onnx", "dense_point.npy", &["--target", "3"][..]),
        ("conv", "conv_4x4.onnx", "conv_point.npy", &[][..]),
    ];
    let mut out = Vec::new();
    for (net, file, point, target) in nets {
        let net_path = root().join("tests/solvers").join(file);
        let img = root().join("tests/solvers").join(point);
        let (n, i) = (net_path.to_str().expect("utf-8"), img.to_str().expect("utf-8"));
        let adv = |extra: &[&str]| strings(&[&["adversarial", n, "--image", i], extra].concat());
        let targeted = |extra: &[&str]| adv(&[target, extra].concat());
        let tasks: Vec<(&str, Vec<String>)> = vec![
            ("adversarial-l1", targeted(&[])),
            ("adversarial-linf", targeted(&["--norm", "linf"])),
            ("adversarial-untargeted", adv(&["--untargeted"])),
            ("adversarial-region", targeted(&["--bounds", "region-lp"])),
            ("visualize", strings(&["visualize", n, "--output", "0"])),
            ("range-min", strings(&["range", n, "--output", "1", "--minimize"])),
            ("range-max", strings(&["range", n, "--output", "1", "--maximize"])),
        ];
        for (task, args) in tasks {
            let solve = [&args[..], &strings(&["--solve", "--threads", "1", "--report", "-"])].concat();
            let report: Value = serde_json::from_slice(&nnmilp_ok(&solve, dir).stdout).expect("report");
            let optimum = file_optimum(task, &report);
            out.push(Problem {
                net,
                task,
                args,
                optimum,
            });
        }
    }
    out
}

const ENCODINGS: [&str; 3] = ["bigm", "indicator", "both"];
const FORMS: [&str; 4] = ["mps", "lp", "mps.gz", "lp.gz"];

/// What a solver made of one file, against what the table says it must.
#[derive(Debug)]
struct Cell {
    problem: usize,
    encoding: &'static str,
    form: &'static str,
    solver: Solver,
    /// `ok`, `refused`, `misread: ...`, or a failure description.
    seen: String,
    failure: Option<String>,
}

/// nnmilp's own solve stops at HiGHS's default relative MIP gap (1e-4), so its optimum is known
/// to that precision only: the readers (gap 0) may find one up to that much lower.
fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-4 * a.abs().max(b.abs()).max(1.0)
}

fn judge(expected: Reading, optimum: Option<f64>, result: &Value) -> (String, Option<String>) {
    let outcome = result["outcome"].as_str().unwrap_or("?");
    let message = result["message"].as_str().unwrap_or("");
    let got = result["objective"].as_f64();
    let right = match (optimum, outcome, got) {
        (Some(want), "optimal", Some(v)) => close(v, want),
        (None, "infeasible", _) => true,
        _ => false,
    };
    let describe = || match (outcome, got) {
        ("optimal", Some(v)) => format!("optimum {v}"),
        ("error", _) => format!("error: {message}"),
        (o, _) => format!("{o} {message}").trim_end().to_string(),
    };
    match expected {
        Reading::Reads if right => ("ok".into(), None),
        Reading::Reads => (
            describe(),
            Some(format!("expected nnmilp's optimum {optimum:?}, got {}", describe())),
        ),
        Reading::Refuses if outcome == "error" => ("refused".into(), None),
        Reading::Refuses => (describe(), Some(format!("expected a refusal, got {}", describe()))),
        Reading::Misreads if outcome != "error" && !right => (
            format!(
                "misread ({})",
                if outcome == "optimal" { "wrong optimum" } else { outcome }
            ),
            None,
        ),
        Reading::Misreads => (
            describe(),
            Some(format!(
                "the table says this is misread, but the solver gave {}",
                if right { "the right answer" } else { "an error" }
            )),
        ),
    }
}

#[test]
fn six_solvers_read_every_model_as_the_capability_table_says() {
    let dir = tempfile::tempdir().expect("temp dir");
    let problems = problems(dir.path());
    let mut jobs = Vec::new();
    let mut keys = Vec::new();
    for (p, prob) in problems.iter().enumerate() {
        for encoding in ENCODINGS {
            for form in FORMS {
                let file = dir.path().join(format!("{}_{}_{encoding}.{form}", prob.net, prob.task));
                let file = file.to_str().expect("utf-8").to_string();
                // Indicator files are meant for the solvers that read them.
                let target = if encoding == "bigm" { "any" } else { "gurobi" };
                let args = [
                    &prob.args[..],
                    &strings(&["--relu", encoding, "--for", target, "-o", &file]),
                ]
                .concat();
                nnmilp_ok(&args, dir.path());
                let solvers: Vec<&str> = Solver::ALL.iter().map(|s| s.id()).collect();
                jobs.push(json!({ "file": file, "solvers": solvers }));
                keys.push((p, encoding, form));
            }
        }
    }
    let start = std::time::Instant::now();
    let results = driver(&jobs, 60);
    let seconds = start.elapsed().as_secs_f64();
    assert_eq!(
        results.len(),
        jobs.len() * Solver::ALL.len(),
        "one result per file and solver"
    );

    let mut cells = Vec::new();
    let mut per_solver: BTreeMap<&str, f64> = BTreeMap::new();
    for (k, result) in results.iter().enumerate() {
        let (p, encoding, form) = keys[k / Solver::ALL.len()];
        let solver = Solver::from_id(result["solver"].as_str().expect("solver")).expect("known solver");
        let format = Format::from_path(&format!("x.{form}")).expect("format");
        let text = read_model(result["file"].as_str().expect("file"));
        let has_indicators = text
            .lines()
            .any(|l| l == "INDICATORS" || (!l.starts_with('\\') && (l.contains("= 1 ->") || l.contains("= 0 ->"))));
        assert_eq!(has_indicators, encoding != "bigm", "{}", result["file"]);
        let expected = if has_indicators {
            reading(solver, Construct::Indicators, format)
        } else {
            Reading::Reads
        };
        let (seen, failure) = judge(expected, problems[p].optimum, result);
        *per_solver.entry(solver.id()).or_default() += result["seconds"].as_f64().unwrap_or(0.0);
        cells.push(Cell {
            problem: p,
            encoding,
            form,
            solver,
            seen,
            failure,
        });
    }
    eprintln!(
        "solver matrix: {} files x 6 solvers in {seconds:.1} s; seconds per solver {per_solver:?}",
        jobs.len()
    );
    let failures: Vec<String> = cells
        .iter()
        .filter_map(|c| {
            c.failure.as_ref().map(|f| {
                let p = &problems[c.problem];
                format!("{} {} {} .{} in {}: {f}", p.net, p.task, c.encoding, c.form, c.solver)
            })
        })
        .collect();
    assert!(
        failures.is_empty(),
        "{} of {} readings differ from the capability table:\n{}",
        failures.len(),
        cells.len(),
        failures.join("\n")
    );
    let doc = render_doc(&problems, &cells);
    check_doc(&doc);
}

/// A written model's text (gunzipped, every member).
fn read_model(path: &str) -> String {
    let bytes = std::fs::read(path).expect("model written");
    if path.ends_with(".gz") {
        let mut s = String::new();
        std::io::Read::read_to_string(&mut flate2::read::MultiGzDecoder::new(&bytes[..]), &mut s).expect("gzip");
        s
    } else {
        String::from_utf8(bytes).expect("utf-8")
    }
}

/// `docs/solvers.md`: the capability table and the matrix as observed, one line per problem
/// and encoding; a cell gives the outcome over the four file forms when they agree, else per form.
fn render_doc(problems: &[Problem], cells: &[Cell]) -> String {
    let mut s = String::from(
        "# Which solver reads which nnmilp file\n\n\
         Generated by `tests/solver_matrix.rs` (`UPDATE_SNAPSHOTS=1 cargo test --test tests solver_matrix::` \
         rewrites it; the test fails when it is out of date). Every model below was written by the `nnmilp` \
         binary and read, unchanged, by each solver's own reader (`tests/solvers/run.py`: `highspy` \
         `Highs.readModel`, `pyscipopt` `Model.readProblem`, `gurobipy.read`, `cplex.Cplex.read`, \
         `cbc FILE -preprocess off -solve`, `glpsol --freemps|--cpxlp`), one thread, relative MIP gap 0. \
         **ok** = nnmilp's optimum (its own solve, replayed through the network) to 1e-4 relative (HiGHS's default MIP gap in nnmilp's own solve); \
         **refused** = the reader stops with an error; **misread** = the file is accepted and a different \
         model solved, without an error.\n\n\
         ## The capability table (`src/back/target.rs`, `--for`)\n\n\
         Big-M files (`--relu bigm`, the default) are read right by all six. Indicator constraints \
         (`--relu indicator|both`):\n\n\
         | format | HiGHS | SCIP | Gurobi | CPLEX | CBC | GLPK |\n| --- | --- | --- | --- | --- | --- | --- |\n",
    );
    for format in [Format::Mps, Format::Lp] {
        s += &format!("| {format} |");
        for solver in Solver::ALL {
            s += match reading(solver, Construct::Indicators, format) {
                Reading::Reads => " reads |",
                Reading::Refuses => " refuses |",
                Reading::Misreads => " **misreads** |",
            };
        }
        s += "\n";
    }
    s += "\n`--for any` (the default) refuses indicators; `--for highs|cbc|glpk` refuses them too, naming the \
          solver; `--for scip|gurobi|cplex` writes them.\n\n\
          ## The matrix (each cell: `.mps`, `.lp`, `.mps.gz`, `.lp.gz`)\n\n\
          Nets: `dense` = `tests/solvers/dense_6-8-8-4.onnx`, `conv` = `tests/solvers/conv_4x4.onnx` \
          (conv + ReLU + 2x2 max-pool + dense), from `tests/solvers/make_nets.py`. The optimum is the one the file states: nnmilp writes a maximisation (visualize, range max) negated.\n\n\
          | net | problem | encoding | file optimum (minimised) | HiGHS | SCIP | Gurobi | CPLEX | CBC | GLPK |\n\
          | --- | --- | --- | ---: | --- | --- | --- | --- | --- | --- |\n";
    for (p, prob) in problems.iter().enumerate() {
        for encoding in ENCODINGS {
            let optimum = prob.optimum.map_or("infeasible".to_string(), |v| format!("{v:.6}"));
            s += &format!("| {} | {} | {encoding} | {optimum} |", prob.net, prob.task);
            for solver in Solver::ALL {
                let mine: Vec<&Cell> = cells
                    .iter()
                    .filter(|c| c.problem == p && c.encoding == encoding && c.solver == solver)
                    .collect();
                let first = &mine[0].seen;
                let cell = if mine.iter().all(|c| &c.seen == first) {
                    first.clone()
                } else {
                    mine.iter()
                        .map(|c| format!("{}: {}", c.form, c.seen))
                        .collect::<Vec<_>>()
                        .join("; ")
                };
                s += &format!(" {cell} |");
            }
            s += "\n";
        }
    }
    s
}

/// Where the generated part of `docs/solvers.md` ends: what follows (start files and their
/// measurements, which no matrix run produces) is written by hand and kept as it is.
const HAND_WRITTEN: &str = "\n<!-- Below this line: written by hand (tests/solver_matrix.rs keeps it as it is). -->\n";

fn check_doc(text: &str) {
    let path = root().join("docs/solvers.md");
    let old = std::fs::read_to_string(&path).unwrap_or_default();
    let (generated, tail) = match old.find(HAND_WRITTEN) {
        Some(i) => (&old[..i], &old[i..]),
        None => (&old[..], ""),
    };
    if std::env::var("UPDATE_SNAPSHOTS").as_deref() == Ok("1") {
        std::fs::create_dir_all(path.parent().expect("docs")).expect("create docs/");
        std::fs::write(&path, format!("{text}{tail}")).expect("write docs/solvers.md");
        return;
    }
    assert!(
        generated == text,
        "docs/solvers.md is out of date with the solver matrix; run \
         `UPDATE_SNAPSHOTS=1 cargo test --test tests solver_matrix::` and review `git diff docs/`"
    );
}

/// A model too large for one gzip member (`nnmilp::back::gzip::MEMBER_BYTES`), written as
/// `.mps.gz` and `.lp.gz`: every one of the six solvers must read the members as one text and
/// find the embedded HiGHS's optimum. Dense rows keep it within the licences' row and column
/// limits (Gurobi 2,000, CPLEX Community Edition 1,000) while the text spans several members.
#[test]
fn six_solvers_read_multi_member_gzip() {
    use nnmilp::back::{gzip::MEMBER_BYTES, write_file, WriteOptions};
    use nnmilp::milp::{name, ColKind, LinExpr, Milp, ObjSense, Sense};
    use nnmilp::solve::{solve, SolveOptions};
    let mut m = Milp::with_generated_names("multi");
    let x: Vec<_> = (0..400)
        .map(|j| m.add_col(name("x", [&j]), 0.0, 1.0, ColKind::Continuous))
        .collect();
    let z: Vec<_> = (0..2)
        .map(|j| m.add_col(name("z", [&j]), 0.0, 1.0, ColKind::Binary))
        .collect();
    for i in 0..300 {
        let terms = (x.iter().enumerate())
            .map(|(j, &c)| (c, 0.5 + ((i * 7 + j * 13) % 97) as f64 / 97.0))
            .collect();
        m.add_row(name("r", [&i]), terms, Sense::Ge, 10.0 + (i % 5) as f64);
    }
    m.add_row("pick", vec![(z[0], 1.0), (z[1], 1.0)], Sense::Ge, 1.0);
    let mut obj = LinExpr::default();
    for (j, &c) in x.iter().enumerate() {
        obj.add_term(c, 1.0 + (j % 11) as f64 / 11.0);
    }
    obj.add_term(z[0], 0.5);
    obj.add_term(z[1], 0.25);
    m.set_objective(ObjSense::Minimize, obj);
    let reference = solve(&m, &SolveOptions::default())
        .expect("embedded HiGHS")
        .objective
        .expect("optimal");

    let dir = tempfile::tempdir().expect("tempdir");
    let mut jobs = Vec::new();
    for ext in ["mps.gz", "lp.gz"] {
        let file = dir.path().join(format!("multi.{ext}"));
        let file = file.to_str().expect("utf-8 path").to_string();
        write_file(&m, &file, None, &WriteOptions::default()).expect("write");
        let bytes = std::fs::read(&file).expect("read back");
        let mut first = Vec::new();
        std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(&bytes[..]), &mut first).expect("gunzip");
        assert_eq!(
            first.len(),
            MEMBER_BYTES,
            "{file}: the first member is one member's text"
        );
        assert!(
            read_model(&file).len() > 2 * MEMBER_BYTES,
            "{file}: at least three members"
        );
        let solvers: Vec<&str> = Solver::ALL.iter().map(|s| s.id()).collect();
        jobs.push(json!({ "file": file, "solvers": solvers }));
    }
    let results = driver(&jobs, 120);
    assert_eq!(results.len(), 2 * Solver::ALL.len());
    for r in &results {
        let objective = r["objective"].as_f64();
        assert!(
            r["outcome"] == "optimal" && objective.is_some_and(|o| close(o, reference)),
            "{} read by {}: {r} (embedded HiGHS: {reference})",
            r["file"],
            r["solver"]
        );
    }
}
