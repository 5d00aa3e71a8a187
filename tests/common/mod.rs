//! Helpers shared by the test modules: running the external solvers (CBC, GLPK, SCIP) on a
//! written model file and reading back their optimum, and where the shared fixtures live.
//!
//! A missing solver is a test failure that says what to install, never a silent skip.

pub mod nets;
pub mod onnx_build;

use nnmilp::back::Format;
use std::collections::HashMap;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The repository root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The team's shared read-only material: `../shared` next to the repository (worktrees and
/// CI checkouts), else `/work/shared`.
pub fn shared() -> PathBuf {
    let sibling = root().join("../shared");
    if sibling.is_dir() {
        sibling
    } else {
        PathBuf::from("/work/shared")
    }
}

/// The interpreter with the solver packages: `NNMILP_PYTHON`, else the venv `.ci/setup`
/// creates, else `python3`. Every test that runs Python uses it, so a machine whose system
/// `python3` lacks the solvers still passes once `.ci/setup` has run.
pub fn python() -> PathBuf {
    if let Some(p) = std::env::var_os("NNMILP_PYTHON") {
        return PathBuf::from(p);
    }
    let venv = root().join(".venv/bin/python3");
    if venv.exists() {
        venv
    } else {
        PathBuf::from("python3")
    }
}

/// Runs a program, turning "not installed" into a failure that says what to install.
pub fn run(program: &str, args: &[&str], install: &str) -> std::process::Output {
    match Command::new(program).args(args).output() {
        Ok(out) => out,
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            panic!("`{program}` is not installed; install {install} (CI installs it)")
        }
        Err(e) => panic!("cannot run {program}: {e}"),
    }
}

/// A solver's answer: its optimum and the values it reports (by name; absent means 0).
pub struct Answer {
    pub objective: f64,
    pub values: HashMap<String, f64>,
}

pub fn cbc(file: &Path) -> Answer {
    let sol = file.with_extension("cbc.sol");
    let f = file.to_str().expect("utf-8 path");
    let s = sol.to_str().expect("utf-8 path");
    let out = run(
        "cbc",
        &[f, "-preprocess", "off", "-solve", "-solu", s],
        "coinor-cbc (apt-get install coinor-cbc)",
    );
    let text = fs::read_to_string(&sol).unwrap_or_else(|e| {
        panic!(
            "cbc wrote no solution for {f} ({e}):\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    let mut lines = text.lines();
    let first = lines.next().unwrap_or_default();
    assert!(first.starts_with("Optimal"), "cbc on {f}: {first}");
    let objective = first
        .rsplit(' ')
        .next()
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("cbc objective in {first:?}"));
    // Lines: index, name, value, reduced cost (infeasible rows would be flagged with **).
    let values = lines
        .map(|l| l.split_whitespace().collect::<Vec<_>>())
        .map(|f| {
            assert!(f.len() == 4 && !f[0].starts_with("**"), "cbc solution line {f:?}");
            (f[1].to_string(), f[2].parse().expect("cbc value"))
        })
        .collect();
    Answer { objective, values }
}

/// GLPK's optimum; `time_limit` (seconds) becomes `--tmlim`, and hitting it fails the test.
pub fn glpsol(file: &Path, format: Format, time_limit: Option<u32>) -> f64 {
    let report = file.with_extension("glpk.txt");
    let f = file.to_str().expect("utf-8 path");
    let flag = match format {
        Format::Mps => "--freemps",
        Format::Lp => "--cpxlp",
    };
    let limit = time_limit.map(|s| s.to_string());
    let mut args = vec![flag, f, "-o", report.to_str().expect("utf-8 path")];
    if let Some(s) = &limit {
        args.extend(["--tmlim", s.as_str()]);
    }
    let out = run("glpsol", &args, "glpk-utils (apt-get install glpk-utils)");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let text =
        fs::read_to_string(&report).unwrap_or_else(|e| panic!("glpsol wrote no report for {f} ({e}):\n{stdout}"));
    let field = |key: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(key))
            .unwrap_or_else(|| panic!("no {key} in glpsol report for {f}:\n{text}"))
            .trim()
            .to_string()
    };
    let status = field("Status:");
    assert!(
        status == "INTEGER OPTIMAL" || status == "OPTIMAL",
        "glpsol on {f}: {status}\n{stdout}"
    );
    // "Objective:  obj = -0.75 (MINimum)"
    let obj = field("Objective:");
    obj.split('=')
        .nth(1)
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("glpsol objective in {obj:?}"))
}

const SCIP_SCRIPT: &str = r#"
import sys
try:
    import pyscipopt
except ImportError:
    print("NO_PYSCIPOPT")
    sys.exit(3)
m = pyscipopt.Model()
m.hideOutput()
m.readProblem(sys.argv[1])
m.optimize()
print(m.getStatus())
if m.getStatus() == "optimal":
    print(repr(m.getObjVal()))
    for v in m.getVars():
        print(v.name, repr(m.getVal(v)))
"#;

pub fn scip(file: &Path) -> Answer {
    let f = file.to_str().expect("utf-8 path");
    let install = "python3 with pyscipopt (pip install pyscipopt)";
    let out = run(python().to_str().expect("utf-8 path"), &["-c", SCIP_SCRIPT, f], install);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        !stdout.contains("NO_PYSCIPOPT"),
        "pyscipopt is not installed; install {install}"
    );
    assert!(
        out.status.success(),
        "SCIP on {f} failed:\n{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut lines = stdout.lines();
    let status = lines.next().unwrap_or_default();
    assert_eq!(status, "optimal", "SCIP on {f}");
    let objective = lines.next().and_then(|v| v.parse().ok()).expect("SCIP objective");
    let values = lines
        .map(|l| {
            let (name, v) = l.split_once(' ').expect("name value");
            (name.to_string(), v.parse().expect("SCIP value"))
        })
        .collect();
    Answer { objective, values }
}

/// Compares `text` with `tests/out/<rel>` byte for byte; with `UPDATE_SNAPSHOTS=1` rewrites the
/// file instead (refused when `CI` is set: CI checks snapshots, it never writes them, and
/// `.ci/run` fails when `tests/out` differs from git afterwards).
pub fn check_snapshot(rel: &str, text: &str) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/out").join(rel);
    if std::env::var("UPDATE_SNAPSHOTS").as_deref() == Ok("1") {
        assert!(
            std::env::var_os("CI").is_none(),
            "UPDATE_SNAPSHOTS=1 is refused when CI is set: snapshots are checked in CI, never rewritten"
        );
        fs::create_dir_all(path.parent().expect("snapshot folder")).expect("create tests/out");
        fs::write(&path, text).expect("write snapshot");
        return;
    }
    let hint = "if the change is intended, run `UPDATE_SNAPSHOTS=1 cargo test --test tests <module>::` \
                and review `git diff tests/out`";
    let expected = fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("snapshot {} cannot be read ({e}); {hint}", path.display()));
    if let Some((line, want, got)) = first_difference(&expected, text) {
        panic!(
            "{} differs at line {line}:\n  snapshot: {want}\n  written:  {got}\n{hint}",
            path.display(),
        );
    }
}

/// The first line (counted from 1) where two texts differ, with both versions of it as
/// debug-quoted strings that keep their line ends (so a missing final newline or a `\r\n`
/// shows), or `None` when the texts are equal. A line past the end of a text is
/// `<end of file>`.
pub fn first_difference(want: &str, got: &str) -> Option<(usize, String, String)> {
    if want == got {
        return None;
    }
    let show = |line: Option<&str>| line.map_or_else(|| "<end of file>".to_string(), |l| format!("{l:?}"));
    let (mut a, mut b) = (want.split_inclusive('\n'), got.split_inclusive('\n'));
    // The texts differ, so some line pair differs before both run out.
    for n in 1.. {
        let (x, y) = (a.next(), b.next());
        if x != y {
            return Some((n, show(x), show(y)));
        }
    }
    unreachable!("two different texts differ at some line")
}

/// A 1-D float64 `.npy` file (an input for the CLI and tasks).
pub fn write_npy(path: &Path, values: &[f64]) {
    use npyz::WriterBuilder;
    let file = std::io::BufWriter::new(fs::File::create(path).expect("create npy"));
    let mut writer = npyz::WriteOptions::<f64>::new()
        .default_dtype()
        .shape(&[values.len() as u64])
        .writer(file)
        .begin_nd()
        .expect("npy header");
    writer.extend(values.iter().copied()).expect("npy data");
    writer.finish().expect("npy finish");
}

#[test]
fn snapshot_differences_in_line_ends_are_found_and_shown() {
    assert_eq!(first_difference("a\nb\n", "a\nb\n"), None);
    let d = |w: &str, g: &str| first_difference(w, g).expect("the texts differ");
    assert_eq!(d("a\nb\n", "a\nb"), (2, r#""b\n""#.into(), r#""b""#.into()));
    assert_eq!(d("a\nb", "a\nb\n"), (2, r#""b""#.into(), r#""b\n""#.into()));
    assert_eq!(d("a\nb\n", "a\r\nb\r\n"), (1, r#""a\n""#.into(), r#""a\r\n""#.into()));
    assert_eq!(d("a\n", "a\n\n"), (2, "<end of file>".into(), r#""\n""#.into()));
    assert_eq!(d("a\nb\nc\n", "a\nx\nc\n"), (2, r#""b\n""#.into(), r#""x\n""#.into()));
    assert_eq!(d("", "a"), (1, "<end of file>".into(), r#""a""#.into()));
}
