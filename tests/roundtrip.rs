//! The adversarial problem of the CLI written to files and solved by every reader we have:
//! HiGHS in memory, HiGHS's own MPS and LP readers, CBC, GLPK, and SCIP for the indicator
//! form. All optima must agree with the in-memory one to `1e-6` relative; on the hand-made
//! 2-3-2 net the optimum is also derived by hand. Plus golden files of the CLI's output.
//!
//! Needs `cbc` (coinor-cbc), `glpsol` (glpk-utils) and python3 with pyscipopt; a missing one
//! fails the test saying what to install.

use crate::common::{cbc, check_snapshot, glpsol, root, scip, write_npy};
use nnmilp::back::Format;
use nnmilp::bounds::Method;
use nnmilp::lower::Encoding;
use nnmilp::solve::{solve_file, SolveOptions, Status};
use nnmilp::tasks::adversarial::{self, Config};
use nnmilp::tasks::Norm;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

/// Exact optima on every in-process solve: HiGHS's default relative gap (1e-4) would allow
/// answers further apart than the tolerance of the comparison.
fn exact() -> SolveOptions {
    SolveOptions {
        threads: Some(1),
        mip_rel_gap: Some(0.0),
        ..SolveOptions::default()
    }
}

/// The CLI's defaults (`nnmilp adversarial NET --image IMG`), writing `output`.
fn config(network: PathBuf, image: &str, encoding: Encoding, output: Option<String>, solve: bool) -> Config {
    Config {
        encoding,
        output,
        solve,
        solve_options: exact(),
        ..Config::new(network, image)
    }
}

fn agree(what: &str, got: f64, want: f64) {
    assert!(
        (got - want).abs() <= 1e-6 * want.abs().max(1.0),
        "{what}: optimum {got}, HiGHS in memory {want}"
    );
}

/// Writes the big-M MPS and LP and the indicator MPS and LP of the adversarial problem, and
/// checks every reader's optimum against the in-memory solve, which it returns.
fn solve_everywhere(network: PathBuf, image: &str) -> f64 {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = |name: &str| dir.path().join(name).to_string_lossy().into_owned();
    let start = Instant::now();
    let report = adversarial::run(&config(
        network.clone(),
        image,
        Encoding::BigM,
        Some(file("bigm.mps")),
        true,
    ))
    .unwrap_or_else(|e| panic!("{e}"));
    let s = report.solve.expect("solved");
    assert_eq!(s.status, Status::Optimal, "{}", s.status_text);
    let want = s.objective.expect("objective");
    assert!(s.example.is_some(), "replayed example");
    let in_memory = start.elapsed().as_secs_f64();
    for (name, enc) in [
        ("bigm.lp", Encoding::BigM),
        ("ind.mps", Encoding::Indicator),
        ("ind.lp", Encoding::Indicator),
    ] {
        adversarial::run(&config(network.clone(), image, enc, Some(file(name)), false))
            .unwrap_or_else(|e| panic!("{e}"));
    }
    // The written files state the objective as written: a minimisation without offset, so a
    // file's optimum is the problem's.
    let text = std::fs::read_to_string(file("bigm.mps")).expect("read");
    assert!(!text.contains("written negated") && !text.contains("offset"), "{text}");

    let mut times = vec![("in memory".to_string(), in_memory)];
    let mut timed = |what: String, f: &mut dyn FnMut() -> f64| {
        let start = Instant::now();
        let got = f();
        times.push((what.clone(), start.elapsed().as_secs_f64()));
        agree(&what, got, want);
    };
    for name in ["bigm.mps", "bigm.lp"] {
        let path = PathBuf::from(file(name));
        let format = Format::from_path(name).expect("format");
        timed(format!("HiGHS reading {name}"), &mut || {
            let sol = solve_file(&path, &exact()).unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(sol.status, Status::Optimal, "HiGHS on {name}: {}", sol.status_text);
            sol.objective.expect("objective")
        });
        timed(format!("cbc {name}"), &mut || cbc(&path).objective);
        timed(format!("glpsol {name}"), &mut || glpsol(&path, format, Some(120)));
    }
    for name in ["ind.mps", "ind.lp"] {
        let path = PathBuf::from(file(name));
        timed(format!("SCIP {name}"), &mut || scip(&path).objective);
    }
    eprintln!("{}: optimum {want}; {times:?}", network.display());
    want
}

/// On the hand-made net the optimum is known in closed form. At `(a, b) = (0.8, 0.3)`
/// (fixtures/README.md): `h = (0.1, 0.5, 0.8)`, `y = (0.4, 0.6)`, so the prediction is 1 and
/// the target `(1 + 5) mod 2 = 0`. `y_0` can be negative over the box, so the margin is
/// absolute: `y_0 - y_1 = 2 h_0 - 3 h_1 + 2 h_2 - 0.5 >= 0.2`. On the linear piece of the point
/// (`a + b > 1`, `a > b`) that reads `6 b - 1.5 >= 0.7`, and `a` does not appear, so the
/// cheapest move is `b` up to `11/30`: L1 distance `1/15`. Leaving the piece costs more (the
/// nearest other piece, `a + b <= 1`, has gradient at most 4 in `b`).
#[test]
fn tiny_net_optimum_agrees_in_every_reader_and_with_the_hand_derivation() {
    let dir = tempfile::tempdir().expect("temp dir");
    let img = dir.path().join("point.npy");
    write_npy(&img, &[0.8, 0.3]);
    let got = solve_everywhere(root().join("fixtures/tiny_2-3-2.onnx"), img.to_str().expect("utf-8"));
    assert!((got - 1.0 / 15.0).abs() <= 1e-9, "optimum {got}, expected 1/15");
}

#[test]
fn mnist_8x3_image_0_optimum_agrees_in_every_reader() {
    let img = root().join("fixtures/images/mnist_test_0.npy");
    let got = solve_everywhere(root().join("fixtures/mnist_8x3.onnx"), img.to_str().expect("utf-8"));
    // A change is needed (the net classifies image 0 as 7, the target is 2) and no more than
    // the whole box: positive and below 784.
    assert!(got > 1e-3 && got < 784.0, "optimum {got}");
}

/// The whole CLI output for the 2-3-2 net, byte for byte (the header names the inputs by file
/// name and SHA-256, so the golden files hold wherever the repository sits).
#[test]
fn cli_output_for_the_tiny_net_matches_the_golden_files() {
    let dir = tempfile::tempdir().expect("temp dir");
    for ext in ["mps", "lp"] {
        let out = dir.path().join(format!("x.{ext}"));
        let run = Command::new(env!("CARGO_BIN_EXE_nnmilp"))
            .args([
                "adversarial",
                "fixtures/tiny_2-3-2.onnx",
                "--image",
                "tests/in/tiny_point.npy",
                "-o",
                out.to_str().expect("utf-8"),
            ])
            .current_dir(root())
            .output()
            .expect("run nnmilp");
        assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
        let text = std::fs::read_to_string(&out).expect("written");
        check_snapshot(&format!("cli/tiny_adversarial.{ext}"), &text);
    }
}

/// The Linf problem (and the region-aware one, with its budget row) written as MPS and LP and
/// read back by HiGHS's own reader: the file optimum is the in-memory one.
#[test]
fn linf_and_region_models_round_trip_through_files() {
    let dir = tempfile::tempdir().expect("temp dir");
    let net = root().join("fixtures/tiny_2-3-2.onnx");
    let img = root().join("tests/in/tiny_point.npy");
    let img = img.to_str().expect("utf-8");
    for (norm, region) in [(Norm::Linf, false), (Norm::L1, true), (Norm::Linf, true)] {
        let base = Config {
            norm,
            bounds: if region { Method::Lp } else { Method::Interval },
            region_tightening: region,
            ..config(net.clone(), img, Encoding::BigM, None, true)
        };
        let want = adversarial::run(&base)
            .expect("solves")
            .solve
            .expect("solved")
            .objective
            .expect("optimum");
        for ext in ["mps", "lp"] {
            let out = dir.path().join(format!("m.{ext}")).to_str().expect("utf-8").to_string();
            adversarial::run(&Config {
                output: Some(out.clone()),
                solve: false,
                ..base.clone()
            })
            .expect("writes");
            let sol = solve_file(Path::new(&out), &exact()).expect("HiGHS reads the file");
            assert_eq!(sol.status, Status::Optimal, "{norm:?} region {region} {ext}");
            agree(&format!("{norm:?} region {region} {ext}"), sol.objective.unwrap(), want);
        }
    }
}
