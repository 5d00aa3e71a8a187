//! The `nnmilp` binary end to end on shipped fixtures, in fresh temporary folders.

use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn fixture(p: &str) -> String {
    root().join("fixtures").join(p).to_string_lossy().into_owned()
}

fn nnmilp(args: &[&str], dir: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_nnmilp"))
        .args(args)
        .current_dir(dir)
        .output()
        .expect("run nnmilp")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn json(path: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(path).expect("report written")).expect("report is JSON")
}

const NET: &str = "mnist_8x3.onnx";
const IMG: &str = "images/mnist_test_0_label7.png";

/// Solves the paper's problem and checks the answer independently: the reported input is
/// replayed through the library's forward pass, its L1 distance recomputed from the image.
#[test]
fn adversarial_example_replays_to_target_with_margin() {
    let dir = tempfile::tempdir().unwrap();
    let out = nnmilp(
        &[
            "adversarial",
            &fixture(NET),
            "--image",
            &fixture(IMG),
            "--solve",
            "--report",
            "r.json",
            "--png",
            "p.png",
        ],
        dir.path(),
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let r = json(&dir.path().join("r.json"));
    let target = r["target"].as_u64().unwrap() as usize;
    let predicted = r["image"]["predicted"].as_u64().unwrap() as usize;
    assert_eq!(target, (predicted + 5) % 10, "the paper's default target rule");
    assert_eq!(r["solve"]["status"], "optimal");
    let ex = &r["solve"]["example"];
    let x: Vec<f64> = ex["input"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect();

    let net = nnmilp::front::onnx::load(Path::new(&fixture(NET))).unwrap();
    let img = nnmilp::data::load_image(&fixture(IMG)).unwrap();
    let y = net.forward(&x).unwrap();
    assert_eq!(nnmilp::ir::argmax(&y), target);
    let margin = r["margin"].as_f64().unwrap();
    let kind = r["margin_kind"].as_str().unwrap();
    for (j, &yj) in y.iter().enumerate().filter(|&(j, _)| j != target) {
        let slack = if kind == "relative" {
            y[target] - (1.0 + margin) * yj
        } else {
            y[target] - yj - margin
        };
        assert!(slack >= -1e-5, "class {j}: margin violated by {slack}");
    }
    let l1: f64 = x.iter().zip(&img.pixels).map(|(a, b)| (a - b).abs()).sum();
    assert!((l1 - ex["l1_distance"].as_f64().unwrap()).abs() < 1e-9);
    let obj = r["solve"]["objective"].as_f64().unwrap();
    assert!(
        (l1 - obj).abs() <= 1e-5 * (1.0 + obj),
        "objective {obj} vs replayed distance {l1}"
    );
    assert!(x.iter().all(|v| (0.0..=1.0).contains(v)));

    // Optimality, checked from outside: a budget 1% below the optimum admits no example,
    // 1% above it does.
    for (factor, expect) in [(0.99, "infeasible"), (1.01, "optimal")] {
        let budget = format!("{}", obj * factor);
        let out = nnmilp(
            &[
                "adversarial",
                &fixture(NET),
                "--image",
                &fixture(IMG),
                "--solve",
                "--max-dist",
                &budget,
                "--report",
                "b.json",
            ],
            dir.path(),
        );
        assert!(out.status.success(), "{}", stderr(&out));
        let b = json(&dir.path().join("b.json"));
        assert_eq!(b["solve"]["status"], expect, "budget {budget}");
        assert_eq!(b["solve"]["example"].is_null(), expect == "infeasible");
    }

    let png = std::fs::File::open(dir.path().join("p.png")).unwrap();
    let info = png::Decoder::new(png).read_info().unwrap().info().clone();
    assert!(
        info.width > 3 * 28 && info.height >= 28,
        "three 28x28 panels: {}x{}",
        info.width,
        info.height
    );
}

#[test]
fn tiny_budget_is_infeasible() {
    let dir = tempfile::tempdir().unwrap();
    let out = nnmilp(
        &[
            "adversarial",
            &fixture(NET),
            "--image",
            &fixture(IMG),
            "--solve",
            "--max-dist",
            "0.01",
            "--report",
            "-",
        ],
        dir.path(),
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let r: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(r["solve"]["status"], "infeasible");
    assert!(r["solve"]["example"].is_null());
}

/// Same input and options give the same bytes, synced to the disk (`--fsync`, before or after
/// the subcommand) or not; the header names the tool, the network's SHA-256 and the options.
#[test]
fn written_models_are_byte_identical_and_say_what_made_them() {
    let dir = tempfile::tempdir().unwrap();
    let (net, img) = (fixture(NET), fixture(IMG));
    let args = |name: &'static str| vec!["adversarial", &net, "--image", &img, "-o", name];
    let runs = [
        args("a.mps"),
        args("b.mps"),
        args("a.lp"),
        args("b.lp"),
        args("a.lp.gz"),
        [&["--fsync"][..], &args("c.mps")].concat(),
        [&args("c.lp")[..], &["--fsync"]].concat(),
    ];
    for run in &runs {
        let out = nnmilp(run, dir.path());
        assert!(out.status.success(), "{}", stderr(&out));
    }
    let read = |n: &str| std::fs::read(dir.path().join(n)).unwrap();
    assert_eq!(read("a.mps"), read("b.mps"));
    assert_eq!(read("a.mps"), read("c.mps"));
    assert_eq!(read("a.lp"), read("b.lp"));
    assert_eq!(read("a.lp"), read("c.lp"));
    let mut gz = String::new();
    std::io::Read::read_to_string(&mut flate2::read::GzDecoder::new(&read("a.lp.gz")[..]), &mut gz).unwrap();
    assert_eq!(gz.as_bytes(), &read("a.lp")[..]);
    let sha = format!("{:x}", Sha256::digest(std::fs::read(fixture(NET)).unwrap()));
    let mps = String::from_utf8(read("a.mps")).unwrap();
    assert!(mps.contains(&sha), "header names the network's sha256");
    assert!(mps.contains("nnmilp ") && mps.contains("relu bigm"));
    assert!(
        mps.lines().all(|l| !l.trim().is_empty()),
        "no blank lines (GLPK reads them as records)"
    );
    // Nothing but the models was left in the folder (no temporary files).
    let mut names: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    names.sort();
    assert_eq!(names.len(), runs.len(), "{names:?}");
}

#[test]
fn model_to_stdout_and_indicator_mode() {
    let dir = tempfile::tempdir().unwrap();
    let out = nnmilp(
        &[
            "adversarial",
            &fixture(NET),
            "--image",
            &fixture(IMG),
            "--relu",
            "indicator",
            "--for",
            "scip",
            "-o",
            "-",
            "--format",
            "lp",
        ],
        dir.path(),
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let lp = String::from_utf8(out.stdout).unwrap();
    assert!(lp.starts_with('\\'), "LP header comment first");
    assert!(lp.contains("->"), "indicator constraints written");
    assert!(lp.contains("Subject To") && lp.trim_end().ends_with("End"));
    // Solving an indicator model goes through its big-M form and still replays.
    let out = nnmilp(
        &[
            "adversarial",
            &fixture(NET),
            "--image",
            &fixture(IMG),
            "--relu",
            "indicator",
            "--solve",
            "--report",
            "-",
        ],
        dir.path(),
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let r: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(r["solve"]["status"], "optimal");
}

fn assert_fails(args: &[&str], dir: &Path, code: i32, needles: &[&str]) {
    let out = nnmilp(args, dir);
    assert_eq!(out.status.code(), Some(code), "args {args:?}: {}", stderr(&out));
    let err = stderr(&out);
    for n in needles {
        assert!(err.contains(n), "error for {args:?} should mention {n:?}: {err}");
    }
}

#[test]
fn bad_inputs_fail_with_clear_errors_and_leave_no_file() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let bytes = std::fs::read(fixture(NET)).unwrap();
    std::fs::write(d.join("truncated.onnx"), &bytes[..bytes.len() / 2]).unwrap();
    assert_fails(
        &["adversarial", "truncated.onnx", "--image", &fixture(IMG), "-o", "t.mps"],
        d,
        1,
        &["truncated.onnx"],
    );
    // The network and the image are read at the same time, but their errors come in order:
    // a bad network is reported before a bad image, and a bad image alone names the image.
    let both = nnmilp(
        &["adversarial", "truncated.onnx", "--image", "missing.png", "-o", "t.mps"],
        d,
    );
    assert_eq!(both.status.code(), Some(1), "{}", stderr(&both));
    assert!(stderr(&both).contains("truncated.onnx") && !stderr(&both).contains("missing.png"));
    assert_fails(
        &["adversarial", &fixture(NET), "--image", "missing.png", "-o", "t.mps"],
        d,
        1,
        &["missing.png"],
    );
    assert_fails(&["inspect", "missing.onnx"], d, 1, &["missing.onnx"]);
    // An image of the wrong size for the network.
    assert_fails(
        &[
            "adversarial",
            &fixture("tiny_2-3-2.onnx"),
            "--image",
            &fixture(IMG),
            "-o",
            "t.mps",
        ],
        d,
        1,
        &["784", "2 inputs"],
    );
    // An output path whose directory does not exist.
    assert_fails(
        &[
            "adversarial",
            &fixture(NET),
            "--image",
            &fixture(IMG),
            "-o",
            "no/such/dir/x.mps",
        ],
        d,
        1,
        &["no/such/dir/x.mps"],
    );
    assert_fails(
        &["adversarial", &fixture(NET), "--image", &fixture(IMG), "-o", "x.txt"],
        d,
        2,
        &["x.txt"],
    );
    assert_fails(
        &["adversarial", &fixture(NET), "--image", &fixture(IMG)],
        d,
        2,
        &["--solve"],
    );
    assert_fails(
        &[
            "adversarial",
            &fixture(NET),
            "--image",
            &fixture(IMG),
            "--target",
            "12",
            "-o",
            "t.mps",
        ],
        d,
        1,
        &["12"],
    );
    assert_fails(&["inspect", &fixture(NET), "--box", "1,0"], d, 2, &["box"]);
    let left: Vec<_> = std::fs::read_dir(d).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(
        left,
        vec![std::ffi::OsString::from("truncated.onnx")],
        "no output or temp file left"
    );
}

#[test]
fn inspect_counts_units() {
    let dir = tempfile::tempdir().unwrap();
    let out = nnmilp(&["inspect", &fixture(NET), "--json"], dir.path());
    assert!(out.status.success(), "{}", stderr(&out));
    let r: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(r["relu_units"], 24, "784-8-8-8-10 has 24 ReLUs");
    let stable = r["relu_stable"].as_u64().unwrap();
    let unstable = r["relu_unstable"].as_u64().unwrap();
    assert_eq!(stable + unstable, 24);
    assert_eq!(r["milp_binaries"].as_u64().unwrap(), unstable);
    let text = nnmilp(&["inspect", &fixture(NET)], dir.path());
    assert!(String::from_utf8_lossy(&text.stdout).contains("ReLU units: 24"));
}

/// Every subcommand and argument is consistent for clap (`debug_assert`) and documented twice:
/// a one-line `help` for `-h` and a `long_help` for `--help`.
#[test]
fn every_argument_of_every_subcommand_has_help_and_long_help() {
    use clap::CommandFactory;
    let mut cli = nnmilp::cli::Cli::command();
    cli.build();
    cli.clone().debug_assert();
    let mut missing = Vec::new();
    let mut checked = 0;
    for sub in cli.get_subcommands() {
        assert!(sub.get_about().is_some(), "subcommand {} has no about", sub.get_name());
        for arg in sub.get_arguments() {
            let id = arg.get_id().as_str();
            if id == "help" || id == "version" {
                continue;
            }
            checked += 1;
            if arg.get_help().is_none() || arg.get_long_help().is_none() {
                missing.push(format!("{} {id}", sub.get_name()));
            }
        }
    }
    assert!(checked > 50, "only {checked} arguments walked");
    assert!(missing.is_empty(), "arguments without help and long help: {missing:?}");
}

/// Flags a subcommand cannot take are refused by the parser (exit 2), naming the flag.
#[test]
fn the_parser_refuses_what_a_subcommand_cannot_take() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let tiny = fixture("tiny_2-3-2.onnx");
    let cases: [(&[&str], &str); 6] = [
        (
            &[
                "visualize",
                &tiny,
                "--output",
                "0",
                "--solve",
                "--bounds-file",
                "b.json",
            ],
            "--bounds-file",
        ),
        (
            &["range", &tiny, "--output", "0", "--solve", "--bounds-file", "b.json"],
            "--bounds-file",
        ),
        (
            &["range", &tiny, "--output", "0", "--solve", "--bounds", "region-lp"],
            "adversarial",
        ),
        (
            &["bounds", &tiny, "--method", "region-milp", "-o", "b.json"],
            "adversarial",
        ),
        (
            &["visualize", &tiny, "--output", "0", "-o", "v.lp", "--png", "p.png"],
            "--solve",
        ),
        (
            &["visualize", &tiny, "--output", "0", "--solve", "--near", "x.png"],
            "--max-dist",
        ),
    ];
    for (args, needle) in cases {
        assert_fails(args, d, 2, &[needle]);
    }
    assert_fails(
        &["adversarial", &tiny, "--image", "x.png", "-o", "-"],
        d,
        2,
        &["--format"],
    );
    assert_fails(
        &["inspect", &tiny, "--unit-time-limit=-1"],
        d,
        2,
        &["--unit-time-limit"],
    );
    assert!(std::fs::read_dir(d).unwrap().next().is_none(), "nothing written");
}

/// Runs `args` (with `NET` and `IMG` replaced by the copies' absolute paths) in `dir`.
fn run_on_copies(dir: &Path, net: &Path, img: &Path, args: &[&str]) -> Output {
    let net = net.to_str().unwrap();
    let img = img.to_str().unwrap();
    let args: Vec<&str> = args
        .iter()
        .map(|a| match *a {
            "NET" => net,
            "IMG" => img,
            other => other,
        })
        .collect();
    nnmilp(&args, dir)
}

/// A report without its timings (the one thing allowed to differ between runs).
fn without_timings(path: &Path) -> serde_json::Value {
    fn strip(v: &mut serde_json::Value) {
        match v {
            serde_json::Value::Object(m) => {
                m.retain(|k, _| k != "timing" && !k.ends_with("seconds"));
                m.values_mut().for_each(strip);
            }
            serde_json::Value::Array(a) => a.iter_mut().for_each(strip),
            _ => {}
        }
    }
    let mut v = json(path);
    strip(&mut v);
    v
}

/// Copies of the same inputs at two different absolute paths give byte-identical model files
/// and the same reports (minus timings): headers and reports name inputs by file name and
/// SHA-256, never by path.
#[test]
fn inputs_at_two_absolute_paths_give_identical_files() {
    let tiny_img = root().join("tests/in/tiny_point.npy");
    let runs: [&[&str]; 3] = [
        &[
            "adversarial",
            "NET",
            "--image",
            "IMG",
            "--solve",
            "-o",
            "m.lp",
            "--report",
            "r.json",
        ],
        &[
            "visualize",
            "NET",
            "--output",
            "1",
            "--near",
            "IMG",
            "--max-dist",
            "0.3",
            "--norm",
            "l1",
            "--solve",
            "-o",
            "m.mps",
            "--report",
            "r.json",
        ],
        &[
            "range",
            "NET",
            "--output",
            "0",
            "--image",
            "IMG",
            "--eps",
            "0.2",
            "--maximize",
            "--solve",
            "-o",
            "m.lp",
            "--report",
            "r.json",
        ],
    ];
    for args in runs {
        let mut outputs = Vec::new();
        for sub in ["a", "b/deeper/still"] {
            let dir = tempfile::tempdir().unwrap();
            let inputs = dir.path().join(sub);
            std::fs::create_dir_all(&inputs).unwrap();
            let (net, img) = (inputs.join("tiny_2-3-2.onnx"), inputs.join("tiny_point.npy"));
            std::fs::copy(fixture("tiny_2-3-2.onnx"), &net).unwrap();
            std::fs::copy(&tiny_img, &img).unwrap();
            let out = run_on_copies(dir.path(), &net, &img, args);
            assert!(out.status.success(), "{args:?}: {}", stderr(&out));
            let model = args[args.iter().position(|a| *a == "-o").unwrap() + 1];
            let bytes = std::fs::read(dir.path().join(model)).unwrap();
            let text = String::from_utf8(bytes.clone()).unwrap();
            let sha = format!("{:x}", Sha256::digest(std::fs::read(&tiny_img).unwrap()));
            assert!(
                text.contains(&format!("tiny_point.npy sha256 {sha}")),
                "{args:?}: {text}"
            );
            assert!(
                !text.contains(dir.path().to_str().unwrap()),
                "{args:?}: a path in the header"
            );
            outputs.push((bytes, without_timings(&dir.path().join("r.json"))));
        }
        assert!(outputs[0].0 == outputs[1].0, "{args:?}: model files differ");
        assert_eq!(outputs[0].1, outputs[1].1, "{args:?}: reports differ");
    }
}

/// A network file name with control characters and 250 bytes ends up in the header escaped
/// and wrapped: no header line over 255 bytes (SCIP's MPS reader breaks over 1,023), no control
/// character, and HiGHS still reads the file to the same optimum.
#[test]
fn hostile_names_are_sanitised_and_wrapped_in_headers() {
    let dir = tempfile::tempdir().unwrap();
    let name = format!("n\u{1b}[31m\t{}.onnx", "x".repeat(238));
    assert_eq!(name.len(), 250);
    std::fs::copy(fixture("tiny_2-3-2.onnx"), dir.path().join(&name)).unwrap();
    let img = root().join("tests/in/tiny_point.npy");
    for model in ["m.mps", "m.lp"] {
        let out = nnmilp(
            &[
                "adversarial",
                &name,
                "--image",
                img.to_str().unwrap(),
                "-o",
                model,
                "--solve",
                "--report",
                "r.json",
            ],
            dir.path(),
        );
        assert!(out.status.success(), "{}", stderr(&out));
        let text = std::fs::read_to_string(dir.path().join(model)).unwrap();
        let marker = if model.ends_with(".mps") { '*' } else { '\\' };
        let header: Vec<&str> = text.lines().take_while(|l| l.starts_with(marker)).collect();
        assert!(header.len() >= 7, "{header:?}");
        for line in text.lines() {
            assert!(line.len() <= 255, "{} bytes: {line:?}", line.len());
            assert!(!line.chars().any(char::is_control), "{line:?}");
        }
        assert!(header.iter().any(|l| l.contains("\\u{1b}[31m\\u{9}xxx")), "{header:?}");
        let solved = nnmilp::solve::solve_file(&dir.path().join(model), &Default::default()).unwrap();
        let report = json(&dir.path().join("r.json"));
        let optimum = report["solve"]["objective"].as_f64().unwrap();
        let read = solved.objective.unwrap();
        assert!((read - optimum).abs() <= 1e-6 * (1.0 + optimum), "{read} vs {optimum}");
    }
}
