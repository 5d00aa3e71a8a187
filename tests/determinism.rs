//! Determinism: the same inputs give byte-identical models and the same reports and bounds
//! files (timings removed) across runs and with 1 or 2 bounds threads for `interval` and
//! `symbolic`, whose results depend on nothing else. `lp` is byte-identical across runs with the
//! same thread count, but not across thread counts: each worker's HiGHS is warm-started from
//! the previous unit it solved, so the units' LP optima (equal up to HiGHS's tolerances) come
//! out of different simplex paths and differ in their last bits. `milp` keeps whatever dual
//! bound its per-unit time limit leaves, so it is not covered at all.

use std::path::Path;
use std::process::Command;

fn nnmilp(dir: &Path, args: &[&str]) {
    let out = Command::new(env!("CARGO_BIN_EXE_nnmilp"))
        .args(args)
        .current_dir(dir)
        .output()
        .expect("run nnmilp");
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The JSON of `path` with every field whose name mentions seconds removed.
fn without_timings(path: &Path) -> serde_json::Value {
    fn strip(v: &mut serde_json::Value) {
        match v {
            serde_json::Value::Object(m) => {
                m.retain(|k, _| !k.contains("seconds"));
                m.values_mut().for_each(strip);
            }
            serde_json::Value::Array(a) => a.iter_mut().for_each(strip),
            _ => {}
        }
    }
    let mut v = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
    strip(&mut v);
    v
}

#[test]
fn models_and_reports_do_not_depend_on_threads_or_runs() {
    let root = crate::common::root();
    let net = root.join("fixtures/mnist_8x3.onnx");
    let img = root.join("fixtures/images/mnist_test_0_label7.png");
    let (net, img) = (net.to_str().unwrap(), img.to_str().unwrap());
    let dir = tempfile::tempdir().unwrap();
    for (method, across_threads) in [("interval", true), ("symbolic", true), ("lp", false)] {
        // Runs 1 and 2 with one thread, run 3 with two (or, for lp, one again); each in its own
        // folder with the same file names, since reports name their files.
        let run_dir = |k: u32| dir.path().join(format!("{method}{k}"));
        let third = if across_threads { "2" } else { "1" };
        for (k, threads) in [(1, "1"), (2, "1"), (3, third)] {
            let d = run_dir(k);
            std::fs::create_dir(&d).unwrap();
            nnmilp(
                &d,
                &["bounds", net, "--method", method, "--threads", threads, "-o", "b.json"],
            );
            let adversarial = [
                "adversarial",
                net,
                "--image",
                img,
                "--bounds",
                method,
                "--bounds-threads",
                threads,
                "-o",
                "m.mps",
                "--report",
                "r.json",
            ];
            nnmilp(&d, &adversarial);
        }
        for k in [2, 3] {
            let model = |k| std::fs::read(run_dir(k).join("m.mps")).unwrap();
            assert!(model(1) == model(k), "{method}: the models of runs 1 and {k} differ");
            for name in ["b.json", "r.json"] {
                let json = |k| without_timings(&run_dir(k).join(name));
                assert_eq!(json(1), json(k), "{method}: {name} of runs 1 and {k} differ");
            }
        }
    }
}
