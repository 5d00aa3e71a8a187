//! Determinism: the same inputs give byte-identical models and the same reports and bounds
//! files (timings removed) across runs and with 1 or 2 bounds threads, for every bounds method
//! whose result does not depend on a time limit: `interval` and `symbolic` (which depend on
//! nothing else), `lp` (its units are solved in chunks whose size depends on the layer alone,
//! each chunk on its own HiGHS instance warm-started along the chunk, so a unit's simplex path
//! is the same for any thread count), and `milp` with `--unit-time-limit inf` (the same chunks;
//! HiGHS's branch and bound runs on one thread and is deterministic). `milp` with a finite
//! per-unit time limit is *not* deterministic: where the limit stops a unit depends on the
//! machine's speed and load, and so does the dual bound kept.

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
    // (`region-lp` is adversarial's: lp bounds inside the ball of a first example's distance.
    // `milp` without a time limit runs over a small box, where its MILPs are quick.)
    let methods = [
        ("interval", "1", "0,1"),
        ("symbolic", "1", "0,1"),
        ("lp", "1", "0,1"),
        ("milp", "inf", "0.45,0.55"),
        ("region-lp", "1", "0,1"),
    ];
    for (method, time_limit, input_box) in methods {
        // Runs 1 and 2 with one thread, run 3 with two; each in its own folder with the same
        // file names, since reports name their files.
        let run_dir = |k: u32| dir.path().join(format!("{method}{k}"));
        for (k, threads) in [(1, "1"), (2, "1"), (3, "2")] {
            let d = run_dir(k);
            std::fs::create_dir(&d).unwrap();
            let bounds_method = method.strip_prefix("region-").unwrap_or(method);
            nnmilp(
                &d,
                &[
                    "bounds",
                    net,
                    "--method",
                    bounds_method,
                    "--threads",
                    threads,
                    "--unit-time-limit",
                    time_limit,
                    "--box",
                    input_box,
                    "-o",
                    "b.json",
                ],
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
                "--unit-time-limit",
                time_limit,
                "--box",
                input_box,
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

/// The whole compile (lowering, presolve, coefficient hygiene and the writers all run on
/// rayon's pool) gives the same bytes with a pool of 1, 2 or 3 threads, for a dense and a conv
/// net, in both formats.
#[test]
fn compiled_files_do_not_depend_on_the_pool_size() {
    let root = crate::common::root();
    let img = root.join("fixtures/images/mnist_test_0_label7.png");
    let dir = tempfile::tempdir().unwrap();
    for net in ["mnist_20x3.onnx", "mnist_conv_tiny.onnx"] {
        let net_path = root.join("fixtures").join(net);
        for suffix in ["mps", "lp"] {
            let texts: Vec<Vec<u8>> = ["1", "2", "3"]
                .iter()
                .map(|threads| {
                    let out = dir.path().join(format!("{net}.{threads}.{suffix}"));
                    let run = Command::new(env!("CARGO_BIN_EXE_nnmilp"))
                        .args([
                            "adversarial",
                            net_path.to_str().unwrap(),
                            "--image",
                            img.to_str().unwrap(),
                        ])
                        .args(["--bounds", "interval", "-o", out.to_str().unwrap()])
                        .env("RAYON_NUM_THREADS", threads)
                        .output()
                        .expect("run nnmilp");
                    assert!(run.status.success(), "{net}: {}", String::from_utf8_lossy(&run.stderr));
                    std::fs::read(&out).unwrap()
                })
                .collect();
            assert!(texts[0].len() > 10_000, "{net}.{suffix}: {} bytes", texts[0].len());
            assert!(texts[0] == texts[1], "{net}.{suffix}: 1 vs 2 threads");
            assert!(texts[0] == texts[2], "{net}.{suffix}: 1 vs 3 threads");
        }
    }
}
