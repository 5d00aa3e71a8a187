//! Fischetti & Jo's study in small (issue 13): `study/run.py` drives the binary under test on
//! DNN1, 3 images, 3 settings (`none`: indicators solved by SCIP; `interval` and `lp`: big-M
//! solved by the embedded HiGHS), into a temporary folder. Every optimum it reports is
//! replayed here through the library's forward pass, the settings must agree per image, and one
//! archived file is regenerated from its manifest line byte for byte and re-solved by HiGHS
//! reading the file. The committed archive is checked separately: its files match their
//! manifest SHA-256 and one of them solves to its recorded optimum (the committed bytes depend
//! on the formulation of the nnmilp version that wrote them, their optimum does not).
//!
//! Needs numpy, onnx and pyscipopt (the driver's dependencies for these settings) in the
//! `.ci/setup` venv (`common::python()`).

use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use nnmilp::solve::{solve_file, SolveOptions, Status};

use crate::common;

const SETTINGS: [&str; 3] = ["none", "interval", "lp"];
const IMAGES: usize = 3;
/// nnmilp's replay tolerance (`tasks::REPLAY_TOLERANCE`): 1e-5 (1 + |value|).
const REPLAY_TOL: f64 = 1e-5;
/// Two optimal solves of one problem agree to the solvers' precision.
const AGREE_TOL: f64 = 1e-4;
const MARGIN: f64 = 0.2;

fn sha256(path: &Path) -> String {
    let bytes = fs::read(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    format!("{:x}", Sha256::digest(bytes))
}

/// A CSV file without quoted fields containing commas (what run.py writes for these columns),
/// as one map per line.
fn read_csv(path: &Path) -> Vec<HashMap<String, String>> {
    let text = fs::read_to_string(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    let mut lines = text.lines();
    let header: Vec<String> = lines.next().expect("header").split(',').map(str::to_string).collect();
    lines
        .map(|l| {
            let fields: Vec<&str> = l.split(',').collect();
            assert_eq!(fields.len(), header.len(), "{}: line {l}", path.display());
            header
                .iter()
                .cloned()
                .zip(fields.into_iter().map(str::to_string))
                .collect()
        })
        .collect()
}

/// The first `n` MNIST test images as pixel/255 (as nnmilp reads IDX files), decompressing only
/// the prefix of the file they need (the whole file takes seconds in a debug build).
fn mnist_test_images(n: usize) -> Vec<Vec<f64>> {
    let path = common::shared().join("data/mnist/t10k-images-idx3-ubyte.gz");
    let file = fs::File::open(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut gz = flate2::read::GzDecoder::new(file);
    let mut header = [0u8; 16];
    std::io::Read::read_exact(&mut gz, &mut header).expect("IDX header");
    assert_eq!(
        header[..4],
        [0, 0, 8, 3],
        "{}: an unsigned-byte IDX file of rank 3",
        path.display()
    );
    (0..n)
        .map(|_| {
            let mut px = vec![0u8; 784];
            std::io::Read::read_exact(&mut gz, &mut px).expect("IDX image");
            px.iter().map(|&b| f64::from(b) / 255.0).collect()
        })
        .collect()
}

fn num(row: &HashMap<String, String>, key: &str) -> f64 {
    row[key]
        .parse()
        .unwrap_or_else(|_| panic!("{key} = {:?} in {row:?}", row[key]))
}

fn exact() -> SolveOptions {
    SolveOptions {
        threads: Some(1),
        mip_rel_gap: Some(0.0),
        ..SolveOptions::default()
    }
}

/// Solves a manifest's file with HiGHS's reader (gzip-decompressed first, into `scratch`).
fn solve_archived(file: &Path, scratch: &Path) -> f64 {
    let plain = scratch.join(
        file.file_name()
            .and_then(|n| n.to_str())
            .and_then(|n| n.strip_suffix(".gz"))
            .expect("a .gz file"),
    );
    let mut text = Vec::new();
    std::io::Read::read_to_end(
        &mut flate2::read::GzDecoder::new(fs::File::open(file).expect("open archived file")),
        &mut text,
    )
    .expect("gunzip archived file");
    fs::write(&plain, text).expect("write scratch copy");
    let sol = solve_file(&plain, &exact()).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(sol.status, Status::Optimal, "{}: {}", file.display(), sol.status_text);
    sol.objective.expect("an optimum")
}

fn run_study(dir: &Path) -> (PathBuf, PathBuf) {
    let out = dir.join("out");
    let archive = dir.join("archive");
    let mut cmd = Command::new(common::python());
    cmd.arg(common::root().join("study/run.py"))
        .args(["--nnmilp", env!("CARGO_BIN_EXE_nnmilp"), "--nets", "DNN1", "--images"])
        .arg(IMAGES.to_string())
        .arg("--settings")
        .args(SETTINGS)
        .args(["--time-limit", "300", "--jobs", "2", "--lp-settings", "--mnist"])
        .arg(common::shared().join("data/mnist"))
        .arg("--out")
        .arg(&out)
        .arg("--archive")
        .arg(&archive);
    let o = cmd
        .output()
        .expect("python3 (the `.ci/setup` venv) is needed for study/run.py");
    assert!(
        o.status.success(),
        "study/run.py failed ({}):\n{}",
        o.status,
        String::from_utf8_lossy(&o.stderr)
    );
    (out, archive)
}

#[test]
fn small_study_replays_agrees_and_regenerates_its_archive() {
    let dir = tempfile::tempdir().unwrap();
    let (out, archive) = run_study(dir.path());
    let rows = read_csv(&out.join("instances.csv"));
    assert_eq!(rows.len(), IMAGES * SETTINGS.len(), "one line per instance");
    let net = nnmilp::front::onnx::load(&common::root().join("study/nets/DNN1.onnx")).unwrap();
    let last = rows.iter().map(|r| r["image"].parse::<usize>().unwrap()).max().unwrap();
    let images = mnist_test_images(last + 1);

    // Every optimum replays through the library's forward pass.
    let mut optima: HashMap<String, Vec<f64>> = HashMap::new();
    for r in &rows {
        assert_eq!(r["status"], "optimal", "DNN1 closes within 300 s: {r:?}");
        // `none` is solved by SCIP: the driver stores its answer beside nnmilp's report.
        let (report_path, input_at) = match r["setting"].as_str() {
            "none" => (r["report"].replace(".json", ".scip.json"), "/input"),
            _ => (r["report"].clone(), "/solve/example/input"),
        };
        let report: serde_json::Value =
            serde_json::from_str(&fs::read_to_string(common::root().join(&report_path)).unwrap()).unwrap();
        let x: Vec<f64> = report
            .pointer(input_at)
            .and_then(|v| v.as_array())
            .expect("example input")
            .iter()
            .map(|v| v.as_f64().unwrap())
            .collect();
        let image = &images[r["image"].parse::<usize>().unwrap()];
        let y = net.forward(&x).unwrap();
        let target: usize = r["target"].parse().unwrap();
        for (j, &yj) in y.iter().enumerate().filter(|&(j, _)| j != target) {
            assert!(
                y[target] - (1.0 + MARGIN) * yj >= -REPLAY_TOL * (1.0 + y[target].abs() + yj.abs()),
                "{r:?}: class {target} does not beat {j} by 20%: {y:?}"
            );
        }
        let dist: f64 = x.iter().zip(image).map(|(a, b)| (a - b).abs()).sum();
        let objective = num(r, "objective");
        assert!(
            (dist - objective).abs() <= REPLAY_TOL * (1.0 + objective),
            "{r:?}: replayed L1 distance {dist} vs optimum {objective}"
        );
        assert!(x.iter().all(|v| (0.0..=1.0).contains(v)), "example leaves the box");
        optima.entry(r["image"].clone()).or_default().push(objective);
    }
    // Every setting is the same problem: one optimum per image.
    assert_eq!(optima.len(), IMAGES);
    for (image, v) in &optima {
        let (lo, hi) = v.iter().fold((f64::MAX, f64::MIN), |(l, h), &x| (l.min(x), h.max(x)));
        assert!(hi - lo <= AGREE_TOL * (1.0 + lo), "image {image}: optima {v:?}");
    }

    // The manifest's command line regenerates its file byte for byte; HiGHS reading that file
    // finds the recorded optimum.
    let manifest = read_csv(&archive.join("manifest.csv"));
    assert_eq!(manifest.len(), rows.len());
    for m in &manifest {
        assert_eq!(sha256(&common::root().join(&m["mps_file"])), m["mps_sha256"], "{m:?}");
        assert_eq!(m["status"], "easy");
    }
    let line = manifest.iter().find(|m| m["setting"] == "lp").expect("an lp line");
    let args: Vec<&str> = line["command"].split(' ').collect();
    assert_eq!(args[0], "nnmilp");
    assert!(
        !line["command"].contains(['\'', '"']),
        "plain arguments: {}",
        line["command"]
    );
    let o_at = args.iter().position(|a| *a == "-o").expect("-o in the command");
    let regen = dir.path().join("regenerated.mps.gz");
    let mut argv: Vec<String> = args[1..].iter().map(|s| s.to_string()).collect();
    argv[o_at] = regen.to_string_lossy().into_owned();
    let o = Command::new(env!("CARGO_BIN_EXE_nnmilp"))
        .args(&argv)
        .current_dir(common::root())
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(
        sha256(&regen),
        line["mps_sha256"],
        "regenerated bytes differ from the manifest"
    );
    let optimum = solve_archived(&regen, dir.path());
    let recorded = num(line, "objective");
    assert!(
        (optimum - recorded).abs() <= AGREE_TOL * (1.0 + recorded),
        "HiGHS on the file: {optimum}, manifest: {recorded}"
    );
}

/// The committed archives (the reduced run's `study/archive/` and the paper-protocol run's
/// `study/archive/paper/`, each a manifest with a subset of its files): each listed file that is
/// in the repository matches its SHA-256, and the first easy DNN1 instance of each solves, read
/// from its file, to its recorded optimum.
#[test]
fn committed_archive_matches_its_manifest() {
    for archive in ["study/archive", "study/archive/paper"] {
        let manifest_path = common::root().join(archive).join("manifest.csv");
        if archive != "study/archive" && !manifest_path.exists() {
            continue;
        }
        let manifest = read_csv(&manifest_path);
        let present: Vec<_> = manifest
            .iter()
            .filter(|m| common::root().join(&m["mps_file"]).exists())
            .collect();
        assert!(!present.is_empty(), "{archive}: no archived file is in the repository");
        for m in &present {
            assert_eq!(
                sha256(&common::root().join(&m["mps_file"])),
                m["mps_sha256"],
                "{}",
                m["instance"]
            );
        }
        let m = present
            .iter()
            .find(|m| m["network"].ends_with("DNN1.onnx") && m["status"] == "easy" && m["setting"] == "interval")
            .unwrap_or_else(|| panic!("{archive}: an easy DNN1 interval instance in the repository"));
        let dir = tempfile::tempdir().unwrap();
        let optimum = solve_archived(&common::root().join(&m["mps_file"]), dir.path());
        let recorded = num(m, "objective");
        assert!(
            (optimum - recorded).abs() <= AGREE_TOL * (1.0 + recorded),
            "{}: HiGHS {optimum}, manifest {recorded}",
            m["instance"]
        );
    }
}

/// nnmilp's forward pass on the committed study nets equals onnxruntime's logits recorded by
/// study/train.py, and the recorded SHA-256 is the file's.
#[test]
fn study_nets_match_onnxruntime() {
    let nets = common::root().join("study/nets");
    let index: serde_json::Value = serde_json::from_str(&fs::read_to_string(nets.join("nets.json")).unwrap()).unwrap();
    let entries = index["nets"].as_object().expect("nets");
    assert_eq!(entries.len(), 5);
    let images = mnist_test_images(20);
    for (name, e) in entries {
        let file = nets.join(e["file"].as_str().unwrap());
        assert_eq!(sha256(&file), e["sha256"].as_str().unwrap(), "{name}");
        let net = nnmilp::front::onnx::load(&file).unwrap();
        for (k, logits) in e["reference_logits"].as_array().unwrap().iter().enumerate() {
            let y = net.forward(&images[k]).unwrap();
            for (j, want) in logits.as_array().unwrap().iter().enumerate() {
                let want = want.as_f64().unwrap();
                // onnxruntime computes in f32, nnmilp in f64 on the same f32 weights.
                assert!(
                    (y[j] - want).abs() <= 1e-4,
                    "{name} image {k} output {j}: {} vs {want}",
                    y[j]
                );
            }
        }
    }
}
