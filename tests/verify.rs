//! `verify` and `batch`: verdicts on the shared VNN-COMP fixtures equal the published ones;
//! on random small networks and properties, `sat` verdicts replay and `unsat` verdicts agree
//! with exhaustive sampling and with CBC reading the written file; the CLI writes one model per
//! input box plus a manifest and VNN-COMP's result format; `batch` resumes and shards.
//!
//! The slow fixtures (ACAS Xu, mnist_fc) are `#[ignore]`d: run them with
//! `cargo test --release --test tests -- --ignored vnncomp_` (they assert that no verdict is
//! wrong and print how many were decided).

use crate::common::nets::{Builder, Rng};
use crate::common::{cbc, shared};
use nnmilp::back::{self, Format, WriteOptions};
use nnmilp::front::vnnlib::{interpret, parse_script, Property};
use nnmilp::ir::Network;
use nnmilp::tasks::verify::{self, batch, Config, Objective, Verdict};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn nnmilp(args: &[&str], dir: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_nnmilp"))
        .args(args)
        .current_dir(dir)
        .output()
        .expect("run nnmilp")
}

fn vnncomp(p: &str) -> PathBuf {
    shared().join("fixtures/vnncomp").join(p)
}

/// `(onnx, vnnlib, timeout, verdict)` rows of a benchmark's `verdicts.csv`.
fn published(bench: &str) -> Vec<(String, String, f64, String)> {
    let text = std::fs::read_to_string(vnncomp(bench).join("verdicts.csv")).unwrap();
    text.lines()
        .skip(1)
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            (f[0].into(), f[1].into(), f[2].parse().unwrap(), f[3].into())
        })
        .collect()
}

/// Runs `verify --solve` on every instance of a benchmark and compares with the published
/// verdicts: a decided verdict must equal it; `undecided` counts the others.
fn check_benchmark(bench: &str, time_scale: f64) -> (usize, usize) {
    let (mut decided, mut undecided) = (0, 0);
    for (onnx, prop, timeout, want) in published(bench) {
        let mut cfg = Config::new(vnncomp(bench).join(&onnx), vnncomp(bench).join(&prop));
        cfg.solve = true;
        cfg.time_limit = timeout * time_scale;
        let r = verify::run(&cfg).unwrap_or_else(|e| panic!("{bench} {onnx} {prop}: {e}"));
        let got = r.verdict.unwrap();
        match got {
            Verdict::Sat | Verdict::Unsat => {
                assert_eq!(got.name(), want, "{bench} {onnx} {prop}: WRONG VERDICT");
                decided += 1;
            }
            _ => undecided += 1,
        }
        if got == Verdict::Sat {
            let ce = r.counterexample.as_ref().unwrap();
            let net = nnmilp::front::onnx::load(&vnncomp(bench).join(&onnx)).unwrap();
            assert_eq!(net.forward(&ce.x).unwrap(), ce.y);
        }
        eprintln!(
            "{bench} {onnx} {prop}: {} by {:?} in {:.2} s (published {want})",
            got.name(),
            r.decided_by,
            r.seconds.total
        );
    }
    (decided, undecided)
}

#[test]
fn vnncomp_test_benchmark_verdicts_equal_the_published_ones() {
    let (decided, undecided) = check_benchmark("test", 1.0);
    assert_eq!((decided, undecided), (5, 0));
}

/// The 14 ACAS Xu fixtures, each within its published time-out (116 s): no decided verdict may
/// differ from the published one (asserted per instance by `check_benchmark`). The count
/// decided is printed, not asserted: properties 5 and 6 on net 1_1 are not decided in 116 s
/// yet (README, "Measured"), and a count would depend on the machine's load. Minutes of run
/// time, so ignored by default; run it (alone, on a quiet machine) with
/// `cargo test --release --test tests -- --ignored vnncomp_acasxu`.
#[test]
#[ignore = "slow: cargo test --release --test tests -- --ignored vnncomp_acasxu"]
fn vnncomp_acasxu_verdicts_are_never_wrong() {
    let (d, u) = check_benchmark("acasxu", 1.0);
    eprintln!("acasxu: {d} decided, {u} undecided (of 14)");
}

/// The two mnist_fc fixtures: no wrong verdict (asserted per instance by `check_benchmark`);
/// the count decided is printed, not asserted (784 inputs: no splitting, and the MILP does not
/// always finish in 120 s). Ignored by default; run with
/// `cargo test --release --test tests -- --ignored vnncomp_mnist_fc`.
#[test]
#[ignore = "slow: cargo test --release --test tests -- --ignored vnncomp_mnist_fc"]
fn vnncomp_mnist_fc_verdicts_are_never_wrong() {
    let (d, u) = check_benchmark("mnist_fc", 1.0);
    eprintln!("mnist_fc: {d} decided, {u} undecided");
}

/// A random ReLU network with `n_in` inputs, `hidden` layers, `n_out` outputs.
fn random_net(seed: u64, n_in: usize, hidden: &[usize], n_out: usize) -> Network {
    let mut rng = Rng(seed);
    let mut b = Builder::new(n_in);
    let mut x = b.input();
    for &h in hidden {
        let a = b.dense(&mut rng, x, h);
        x = b.relu(a);
    }
    let out = b.dense(&mut rng, x, n_out);
    b.finish(out)
}

fn num(v: f64) -> String {
    format!("{v:?}")
}

/// A random property over `[lo, hi]` boxes (one or two) with one to three disjuncts of one or
/// two rows `a·y <= b`, `b` placed among sampled values of `a·y` so that both verdicts occur.
fn random_property(rng: &mut Rng, net: &Network) -> (String, Property) {
    let (n, m) = (net.input_size(), net.output_size());
    let mut text = String::new();
    for i in 0..n {
        text += &format!("(declare-const X_{i} Real)\n");
    }
    for j in 0..m {
        text += &format!("(declare-const Y_{j} Real)\n");
    }
    let boxes = rng.range(1, 2);
    let mut parts = Vec::new();
    let mut sample_boxes = Vec::new();
    for _ in 0..boxes {
        let mut conj = Vec::new();
        let mut bx = Vec::new();
        for i in 0..n {
            let a = rng.uniform(-1.0, 0.5);
            let w = rng.uniform(0.05, 1.0);
            conj.push(format!("(>= X_{i} {}) (<= X_{i} {})", num(a), num(a + w)));
            bx.push((a, a + w));
        }
        parts.push(format!("(and {})", conj.join(" ")));
        sample_boxes.push(bx);
    }
    text += &format!("(assert (or {}))\n", parts.join(" "));
    let mut disjuncts = Vec::new();
    for _ in 0..rng.range(1, 3) {
        let mut rows = Vec::new();
        for _ in 0..rng.range(1, 2) {
            let j = rng.range(0, m - 1);
            let k = (j + rng.range(1, m - 1)) % m;
            // Sample a·y = y_j - y_k over the boxes and put b at a low quantile.
            let mut vals = Vec::new();
            for _ in 0..200 {
                let bx = &sample_boxes[rng.range(0, boxes - 1)];
                let x: Vec<f64> = bx.iter().map(|&(l, h)| rng.uniform(l, h)).collect();
                let y = net.forward(&x).unwrap();
                vals.push(y[j] - y[k]);
            }
            vals.sort_by(f64::total_cmp);
            let q = [0usize, 0, 1, 5, 20][rng.range(0, 4)];
            let b = vals[q] - rng.uniform(-0.05, 0.3) * (vals[199] - vals[0]).max(1e-3);
            rows.push(format!("(<= (- Y_{j} Y_{k}) {})", num(b)));
        }
        disjuncts.push(format!("(and {})", rows.join(" ")));
    }
    text += &format!("(assert (or {}))\n", disjuncts.join(" "));
    let p = interpret("random", &parse_script("random", &text).unwrap()).unwrap();
    (text, p)
}

/// Sampling: some input of some case meets some disjunct exactly (no tolerance).
fn sampled_violation(rng: &mut Rng, net: &Network, p: &Property, n: usize) -> bool {
    (0..n).any(|_| {
        let c = &p.cases[rng.range(0, p.cases.len() - 1)];
        let x: Vec<f64> = c.lo.iter().zip(&c.hi).map(|(&l, &h)| rng.uniform(l, h)).collect();
        let y = net.forward(&x).unwrap();
        p.violated_by(&x, &y, |_| 0.0)
    })
}

#[test]
fn random_properties_sat_replays_unsat_agrees_with_sampling_and_cbc() {
    let dir = tempfile::tempdir().unwrap();
    let (mut sat, mut unsat, mut other) = (0, 0, 0);
    for seed in 0..24u64 {
        let mut rng = Rng(1000 + seed);
        let net = random_net(seed, rng.range(2, 3), &[rng.range(4, 8), rng.range(3, 6)], 3);
        let (text, p) = random_property(&mut rng, &net);
        let mut cfg = Config::new("", "");
        cfg.time_limit = 20.0;
        // Half the seeds without splitting, so that the whole-box MILP decides too.
        cfg.allow_split = seed % 2 == 0;
        let d = verify::decide(&net, &p, &cfg);
        // The optimum of each case's written model, read by CBC: the largest margin.
        let mut cbc_margin = f64::NEG_INFINITY;
        for (k, case) in p.cases.iter().enumerate() {
            let (milp, _, _) = verify::case_model(
                &net,
                case,
                nnmilp::lower::Encoding::BigM,
                Objective::Margin,
                nnmilp::bounds::Method::Symbolic,
            )
            .unwrap();
            let path = dir.path().join(format!("s{seed}_c{k}.mps"));
            back::write_file(
                &milp,
                path.to_str().unwrap(),
                Some(Format::Mps),
                &WriteOptions::default(),
            )
            .unwrap();
            cbc_margin = cbc_margin.max(-cbc(&path).objective);
        }
        match d.verdict.unwrap() {
            Verdict::Sat => {
                sat += 1;
                let ce = d.counterexample.unwrap();
                let y = net.forward(&ce.x).unwrap();
                assert_eq!(y, ce.y, "seed {seed}: the counterexample does not replay");
                assert!(
                    p.violated_by(&ce.x, &y, |r| verify::falsify::required_slack(r, &y)),
                    "seed {seed}: the counterexample misses the property\n{text}"
                );
                assert!(
                    cbc_margin >= -1e-6,
                    "seed {seed}: sat, but CBC's largest margin is {cbc_margin}\n{text}"
                );
            }
            Verdict::Unsat => {
                unsat += 1;
                assert!(
                    !sampled_violation(&mut rng, &net, &p, 20_000),
                    "seed {seed}: unsat, but sampling found a violation\n{text}"
                );
                assert!(
                    cbc_margin < 0.0,
                    "seed {seed}: unsat, but CBC's largest margin is {cbc_margin}\n{text}"
                );
            }
            v => {
                other += 1;
                eprintln!("seed {seed}: {} (CBC margin {cbc_margin})", v.name());
            }
        }
    }
    eprintln!("random properties: {sat} sat, {unsat} unsat, {other} undecided");
    assert!(
        sat >= 4 && unsat >= 4,
        "{sat} sat, {unsat} unsat: the generator lost a side"
    );
    assert!(other <= 4, "{other} undecided");
}

#[test]
fn falsifier_is_deterministic_and_counterexamples_meet_the_tolerance() {
    let net = random_net(7, 3, &[8, 6], 3);
    let mut rng = Rng(77);
    let (_, p) = random_property(&mut rng, &net);
    let s = verify::falsify::Settings::default();
    let far = std::time::Instant::now() + std::time::Duration::from_secs(600);
    let a = verify::falsify::falsify(&net, &p, &s, far);
    let b = verify::falsify::falsify(&net, &p, &s, far);
    assert_eq!(a, b);
    if let Some(c) = a.filter(|c| c.is_counterexample()) {
        let y = net.forward(&c.x).unwrap();
        assert!(p.violated_by(&c.x, &y, |r| verify::falsify::required_slack(r, &y)));
        assert!(c.x.iter().all(|v| (*v as f32) as f64 == *v), "inputs are f32 values");
    }
}

#[test]
fn cli_writes_one_model_per_box_a_manifest_and_the_result_file() {
    let dir = tempfile::tempdir().unwrap();
    let net = vnncomp("acasxu/onnx/ACASXU_run2a_1_1_batch_2000.onnx");
    let prop = vnncomp("acasxu/vnnlib/prop_6.vnnlib");
    let out = nnmilp(
        &[
            "verify",
            net.to_str().unwrap(),
            prop.to_str().unwrap(),
            "-o",
            "p6.mps",
            "--report",
            "r.json",
        ],
        dir.path(),
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    for f in ["p6.c0.mps", "p6.c1.mps", "p6.mps.manifest.json"] {
        assert!(dir.path().join(f).is_file(), "{f} not written");
    }
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("p6.mps.manifest.json")).unwrap()).unwrap();
    assert_eq!(manifest["cases"].as_array().unwrap().len(), 2);
    let model = std::fs::read_to_string(dir.path().join("p6.c0.mps")).unwrap();
    assert!(model.contains("property: prop_6.vnnlib sha256"), "provenance header");
    assert!(model.contains("vmargin") && model.contains("pick"));
    // The same bytes again.
    let first = std::fs::read(dir.path().join("p6.c1.mps")).unwrap();
    let again = nnmilp(
        &["verify", net.to_str().unwrap(), prop.to_str().unwrap(), "-o", "p6.mps"],
        dir.path(),
    );
    assert!(again.status.success());
    assert_eq!(first, std::fs::read(dir.path().join("p6.c1.mps")).unwrap());

    // sat: VNN-COMP's result format, replayed.
    let sat_net = vnncomp("test/test_sat.onnx");
    let sat_prop = vnncomp("test/test_prop.vnnlib");
    let out = nnmilp(
        &[
            "verify",
            sat_net.to_str().unwrap(),
            sat_prop.to_str().unwrap(),
            "--solve",
            "--result",
            "RESULT.txt",
            "--report",
            "r.json",
        ],
        dir.path(),
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let result = std::fs::read_to_string(dir.path().join("RESULT.txt")).unwrap();
    let mut lines = result.lines();
    assert_eq!(lines.next(), Some("sat"));
    let body: String = lines.collect::<Vec<_>>().join(" ");
    assert!(body.starts_with("((X_0 ") && body.ends_with("))"), "{body}");
    let tokens: Vec<String> = body
        .replace(['(', ')'], " ")
        .split_whitespace()
        .map(String::from)
        .collect();
    let values: Vec<f64> = tokens.chunks(2).map(|p| p[1].parse().unwrap()).collect();
    let n_in = tokens.chunks(2).filter(|p| p[0].starts_with("X_")).count();
    let n = nnmilp::front::onnx::load(&sat_net).unwrap();
    assert_eq!(n_in, n.input_size());
    let (x, y) = values.split_at(n_in);
    assert_eq!(n.forward(x).unwrap(), y);
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("r.json")).unwrap()).unwrap();
    assert_eq!(report["verdict"], "sat");
    assert!(report["decided_by"].is_string());

    // unsat, and bad input.
    let out = nnmilp(
        &[
            "verify",
            vnncomp("test/test_unsat.onnx").to_str().unwrap(),
            sat_prop.to_str().unwrap(),
            "--solve",
            "--result",
            "U.txt",
        ],
        dir.path(),
    );
    assert!(out.status.success());
    assert_eq!(std::fs::read_to_string(dir.path().join("U.txt")).unwrap(), "unsat\n");
    std::fs::write(
        dir.path().join("bad.vnnlib"),
        "(declare-const X_0 Real)\n(assert (<= X_0 1)\n",
    )
    .unwrap();
    let out = nnmilp(
        &["verify", sat_net.to_str().unwrap(), "bad.vnnlib", "--solve"],
        dir.path(),
    );
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("bad.vnnlib:2:1") && err.contains("never closed"), "{err}");
    let out = nnmilp(
        &[
            "verify",
            n_path(&vnncomp("test/test_nano.onnx")),
            n_path(&vnncomp("acasxu/vnnlib/prop_1.vnnlib")),
            "--solve",
        ],
        dir.path(),
    );
    assert_eq!(out.status.code(), Some(1), "shape mismatch must fail");
}

fn n_path(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn sorted_lines(path: &Path) -> Vec<(String, String, String, String)> {
    let mut v: Vec<_> = batch::read_results(path)
        .unwrap()
        .into_iter()
        .map(|r| (r.onnx, r.vnnlib, r.verdict, r.stage))
        .collect();
    v.sort();
    v
}

#[test]
fn batch_resumes_and_merged_shards_equal_an_unsharded_run() {
    let dir = tempfile::tempdir().unwrap();
    let csv = vnncomp("test/instances.csv");
    let csv = n_path(&csv);
    let full = nnmilp(&["batch", csv, "--results", "all.csv", "--jobs", "2"], dir.path());
    assert!(full.status.success(), "{}", String::from_utf8_lossy(&full.stderr));
    let all = sorted_lines(&dir.path().join("all.csv"));
    assert_eq!(all.len(), 5);
    for (onnx, vnnlib, verdict, _) in &all {
        let want = published("test")
            .into_iter()
            .find(|r| &r.0 == onnx && &r.1 == vnnlib)
            .unwrap()
            .3;
        assert_eq!(verdict, &want, "{onnx} {vnnlib}");
    }
    // Shards 0/2 and 1/2, merged.
    for i in 0..2 {
        let shard = format!("{i}/2");
        let out = nnmilp(
            &["batch", csv, "--shard", &shard, "--results", &format!("s{i}.csv")],
            dir.path(),
        );
        assert!(out.status.success());
    }
    assert_eq!(sorted_lines(&dir.path().join("s0.csv")).len(), 3);
    let out = nnmilp(
        &["batch", "--merge", "s0.csv", "s1.csv", "--results", "merged.csv"],
        dir.path(),
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(sorted_lines(&dir.path().join("merged.csv")), all);

    // Resume after a kill: two instances done and a third cut mid-line.
    let text = std::fs::read_to_string(dir.path().join("all.csv")).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let partial = format!(
        "{}\n{}\n{}\n{}",
        lines[0],
        lines[1],
        lines[2],
        &lines[3][..lines[3].len() / 2]
    );
    std::fs::write(dir.path().join("resume.csv"), partial).unwrap();
    let out = nnmilp(&["batch", csv, "--results", "resume.csv"], dir.path());
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let summary = String::from_utf8_lossy(&out.stdout);
    assert!(summary.contains("2 already done, 3 run"), "{summary}");
    assert_eq!(sorted_lines(&dir.path().join("resume.csv")), all);

    // A real kill half way, then a rerun: every instance exactly once.
    let mut child = Command::new(env!("CARGO_BIN_EXE_nnmilp"))
        .args(["batch", csv, "--results", "killed.csv"])
        .current_dir(dir.path())
        .spawn()
        .unwrap();
    let killed = dir.path().join("killed.csv");
    let t0 = std::time::Instant::now();
    while std::fs::read_to_string(&killed).map_or(0, |t| t.lines().count()) < 3 && t0.elapsed().as_secs() < 60 {
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    let _ = child.kill();
    let _ = child.wait();
    let out = nnmilp(&["batch", csv, "--results", "killed.csv"], dir.path());
    assert!(out.status.success());
    assert_eq!(sorted_lines(&killed), all);
}

/// An exact fraction `n / d` (`d > 0`) of small integers.
#[derive(Clone, Copy, Debug)]
struct Frac(i128, i128);

impl Frac {
    fn lt(self, o: Frac) -> bool {
        self.0 * o.1 < o.0 * self.1
    }
    fn to_f64(self) -> f64 {
        self.0 as f64 / self.1 as f64
    }
}

/// Exact comparison of an `f64` with a fraction: `v = m 2^e` with integer `m`.
fn cmp_f64_frac(v: f64, f: Frac) -> std::cmp::Ordering {
    use std::cmp::Ordering;
    assert!(v.is_finite());
    if v == 0.0 {
        return 0i128.cmp(&f.0);
    }
    if f.0 == 0 {
        return if v < 0.0 { Ordering::Less } else { Ordering::Greater };
    }
    let bits = v.to_bits();
    let exp = ((bits >> 52) & 0x7ff) as i32;
    let frac = (bits & ((1u64 << 52) - 1)) as i128;
    let (m, e) = if exp == 0 {
        (frac, -1074)
    } else {
        (frac | (1 << 52), exp - 1075)
    };
    let m = if v < 0.0 { -m } else { m };
    if e >= 0 {
        assert!(e < 40, "value {v} too large for the exact check");
        (m * f.1 << e).cmp(&f.0)
    } else if f.0 != 0 && v.abs() * 4.0 * (f.1 as f64) < 1.0 {
        // |v| < 1 / (4d) <= |f| / 4: the fraction's sign decides.
        if f.0 > 0 {
            Ordering::Less
        } else {
            Ordering::Greater
        }
    } else {
        assert!(-e < 90, "value {v} too small for the exact check");
        (m * f.1).cmp(&(f.0 << (-e)))
    }
}

fn det3(m: [[i128; 3]; 3]) -> i128 {
    m[0][0] * (m[1][1] * m[2][2] - m[1][2] * m[2][1]) - m[0][1] * (m[1][0] * m[2][2] - m[1][2] * m[2][0])
        + m[0][2] * (m[1][0] * m[2][1] - m[1][1] * m[2][0])
}

/// The exact minimum of `c·x` over `A x <= b` (integers, three variables, bounded) by vertex
/// enumeration with Cramer's rule in integers; `None` when infeasible.
fn exact_lp_min(c: [i128; 3], rows: &[([i128; 3], i128)]) -> Option<Frac> {
    let mut best: Option<Frac> = None;
    let m = rows.len();
    for i in 0..m {
        for j in i + 1..m {
            for k in j + 1..m {
                let a = [rows[i].0, rows[j].0, rows[k].0];
                let b = [rows[i].1, rows[j].1, rows[k].1];
                let d = det3(a);
                if d == 0 {
                    continue;
                }
                let mut x = [0i128; 3]; // numerators over d
                for (v, xv) in x.iter_mut().enumerate() {
                    let mut a2 = a;
                    for r in 0..3 {
                        a2[r][v] = b[r];
                    }
                    *xv = det3(a2);
                }
                let (x, d) = if d < 0 { (x.map(|v| -v), -d) } else { (x, d) };
                let feasible = rows
                    .iter()
                    .all(|(ar, br)| ar[0] * x[0] + ar[1] * x[1] + ar[2] * x[2] <= br * d);
                if feasible {
                    let v = Frac(c[0] * x[0] + c[1] * x[1] + c[2] * x[2], d);
                    if best.is_none_or(|b| v.lt(b)) {
                        best = Some(v);
                    }
                }
            }
        }
    }
    best
}

#[test]
fn certified_lp_bounds_never_cut_into_the_exact_optimum() {
    use nnmilp::milp::{ColKind, LinExpr, Milp, ObjSense, Sense};
    use nnmilp::solve::SolveOptions;
    use verify::certify::certified_optimum;
    let mut rng = Rng(4242);
    let (mut checked, mut worst_gap) = (0, 0.0f64);
    for case in 0..300 {
        // Scaled integer data, so that f64 cannot represent the optimum exactly.
        let scale = [1i128, 3, 7, 1000][case % 4];
        let int = |rng: &mut Rng, lo: i64, hi: i64| (lo + rng.range(0, (hi - lo) as usize) as i64) as i128;
        let c = [int(&mut rng, -9, 9), int(&mut rng, -9, 9), int(&mut rng, -9, 9)];
        let mut rows: Vec<([i128; 3], i128)> = Vec::new();
        for v in 0..3 {
            let mut e = [0; 3];
            e[v] = 1;
            rows.push((e, int(&mut rng, 1, 20) * scale));
            rows.push((e.map(|x| -x), int(&mut rng, 1, 20) * scale));
        }
        for _ in 0..rng.range(2, 6) {
            let a = [int(&mut rng, -9, 9), int(&mut rng, -9, 9), int(&mut rng, -9, 9)];
            rows.push((a, int(&mut rng, -10, 30) * scale));
        }
        let Some(exact) = exact_lp_min(c, &rows) else { continue };
        // The same LP as a Milp with the data divided by `scale` (inexact in binary).
        let s = scale as f64;
        let mut lp = Milp::new("lp");
        let cols: Vec<_> = (0..3)
            .map(|v| {
                lp.add_col(
                    format!("x{v}"),
                    -(rows[2 * v + 1].1 as f64) / s,
                    rows[2 * v].1 as f64 / s,
                    ColKind::Continuous,
                )
            })
            .collect();
        for (r, (a, b)) in rows.iter().enumerate().skip(6) {
            let terms = (0..3).map(|v| (cols[v], a[v] as f64)).collect();
            lp.add_row(format!("r{r}"), terms, Sense::Le, *b as f64 / s);
        }
        let maximise = case % 2 == 1;
        let mut obj = LinExpr::default();
        for v in 0..3 {
            obj.add_term(cols[v], if maximise { -(c[v] as f64) } else { c[v] as f64 });
        }
        lp.set_objective(
            if maximise {
                ObjSense::Maximize
            } else {
                ObjSense::Minimize
            },
            obj,
        );
        let Some(cert) = certified_optimum(&lp, &SolveOptions::default()).unwrap() else {
            panic!("case {case}: HiGHS found no optimum of a feasible bounded LP")
        };
        // Exact optimum of the scaled LP: exact / scale (min), -(exact / scale) (max of -c·x).
        let truth = Frac(exact.0, exact.1 * scale);
        use std::cmp::Ordering;
        if maximise {
            let max = Frac(-truth.0, truth.1);
            assert_ne!(
                cmp_f64_frac(cert.certified, max),
                Ordering::Less,
                "case {case}: certified upper bound {} below the exact maximum {}",
                cert.certified,
                max.to_f64()
            );
            worst_gap = worst_gap.max(cert.certified - max.to_f64());
        } else {
            assert_ne!(
                cmp_f64_frac(cert.certified, truth),
                Ordering::Greater,
                "case {case}: certified lower bound {} above the exact minimum {}",
                cert.certified,
                truth.to_f64()
            );
            worst_gap = worst_gap.max(truth.to_f64() - cert.certified);
        }
        checked += 1;
    }
    assert!(checked >= 200, "only {checked} feasible LPs");
    // Certification costs at most a few units in the last place, not the bound's usefulness.
    assert!(worst_gap < 1e-6, "certified bounds are loose by up to {worst_gap}");
}
