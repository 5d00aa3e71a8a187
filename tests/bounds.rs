//! Bounds passes beyond intervals: every method is sound (sampled forward passes never leave its
//! bounds), each is contained in the weaker one, `milp` without a time limit reaches the exact
//! range of every unit it solves for, tighter bounds never change a task's optimum, and bounds
//! files are refused for another network or a box they do not cover.

use crate::common::nets::{assert_nested, build, point_in, Family, Rng};
use nnmilp::bounds::{Bounds, BoundsOptions, InputBox, Method, Region};
use nnmilp::ir::{Handle, Network, Op};
use nnmilp::lower::{lower, Encoding, LowerOptions};
use nnmilp::milp::ObjSense;
use nnmilp::solve::{solve, SolveOptions, Status};
use nnmilp::tasks;
use std::path::PathBuf;

fn fixture(p: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures").join(p)
}

/// The bounds chain over a plain box.
fn compute_with(
    net: &Network,
    region: &InputBox,
    method: Method,
    options: &BoundsOptions,
) -> Result<(Bounds, nnmilp::bounds::BoundsReport), nnmilp::tighten::TightenError> {
    nnmilp::tighten::compute(net, &Region::from(region.clone()), method, options)
}

fn options(unit_time_limit: f64) -> BoundsOptions {
    BoundsOptions {
        unit_time_limit,
        threads: Some(2),
        ..BoundsOptions::default()
    }
}

/// The bounds of every method, weakest first.
fn all_methods(net: &Network, region: &InputBox, unit_time_limit: f64) -> Vec<Bounds> {
    Method::ALL
        .iter()
        .map(|&m| {
            let (b, report) = compute_with(net, region, m, &options(unit_time_limit)).unwrap();
            assert_eq!(b.method, m);
            assert_eq!(report.stages.len(), m as usize + 1);
            b
        })
        .collect()
}

/// Every corner of the box when there are few inputs (where piecewise-linear extremes often are).
fn corners(region: &InputBox) -> Vec<Vec<f64>> {
    let n = region.lo.len();
    if n > 10 {
        return Vec::new();
    }
    (0..1usize << n)
        .map(|mask| {
            (0..n)
                .map(|i| if mask >> i & 1 == 1 { region.hi[i] } else { region.lo[i] })
                .collect()
        })
        .collect()
}

fn total_width(b: &Bounds) -> f64 {
    b.lo.iter()
        .zip(&b.hi)
        .flat_map(|(l, h)| l.iter().zip(h).map(|(l, h)| h - l))
        .sum()
}

#[test]
fn every_method_is_sound_and_nested() {
    let mut widths = [0.0; 4];
    let mut unstable = [0usize; 4];
    for (f, &family) in Family::ALL.iter().enumerate() {
        for seed in 0..4u64 {
            let (net, region) = build(family, 1000 * f as u64 + seed);
            let all = all_methods(&net, &region, 1.0);
            let mut rng = Rng(seed ^ 0xB0B0);
            let samples = (0..10_000).map(|_| point_in(&mut rng, &region)).chain(corners(&region));
            for x in samples {
                let values = net.forward_all(&x).unwrap();
                for b in &all {
                    assert!(
                        b.contains(&values, 1e-9),
                        "{family:?} seed {seed}: {} bounds miss the forward pass at {x:?}",
                        b.method.name()
                    );
                }
            }
            for pair in all.windows(2) {
                assert_nested(&net, &pair[0], &pair[1], 1e-9, &format!("{family:?} seed {seed}"));
            }
            for (k, b) in all.iter().enumerate() {
                widths[k] += total_width(b);
                unstable[k] += b.relu_stability(&net).1;
            }
        }
    }
    // Each method must actually tighten something over the whole set, or the nesting above
    // would hold trivially.
    assert!(
        widths[0] > widths[1] && widths[1] > widths[2] && widths[2] > widths[3],
        "total widths interval, symbolic, lp, milp: {widths:?}"
    );
    assert!(
        unstable[0] > unstable[2] && unstable[2] > unstable[3],
        "unstable ReLUs: {unstable:?}"
    );
}

/// Minimum and maximum of unit `j` of layer `h` over the exact MILP of the whole network.
fn exact_range(net: &Network, region: &InputBox, h: Handle, j: usize) -> (f64, f64) {
    let bounds = nnmilp::bounds::interval(net, region);
    let low = lower(
        net,
        &bounds,
        LowerOptions {
            encoding: Encoding::BigM,
        },
    )
    .unwrap();
    let opts = SolveOptions {
        threads: Some(1),
        mip_rel_gap: Some(0.0),
        ..SolveOptions::default()
    };
    let mut ends = [0.0; 2];
    for (k, sense) in [ObjSense::Minimize, ObjSense::Maximize].into_iter().enumerate() {
        let mut milp = low.milp.clone();
        milp.set_objective(sense, low.value(net, h, j));
        let sol = solve(&milp, &opts).unwrap();
        assert_eq!(sol.status, Status::Optimal);
        ends[k] = sol.objective.unwrap();
    }
    (ends[0], ends[1])
}

#[test]
fn milp_without_time_limit_reaches_the_exact_range() {
    let mut checked = 0;
    for (f, family) in [Family::Mlp, Family::Pool, Family::Residual, Family::Mixed]
        .into_iter()
        .enumerate()
    {
        for seed in 0..2u64 {
            let (net, region) = build(family, 77 + 100 * f as u64 + seed);
            let (b, _) = compute_with(&net, &region, Method::Milp, &options(f64::INFINITY)).unwrap();
            for h in net.handles() {
                if !matches!(net.layer(h).op, Op::Affine { .. } | Op::Sum { .. } | Op::MaxPool { .. }) {
                    continue;
                }
                let read_by_pool = net
                    .info()
                    .consumers(h)
                    .iter()
                    .any(|c| matches!(net.layer(*c).op, Op::MaxPool { .. }));
                let read_by_relu = net
                    .info()
                    .consumers(h)
                    .iter()
                    .any(|c| matches!(net.layer(*c).op, Op::Relu { .. }));
                let (lo, hi) = b.layer(h);
                for j in 0..lo.len() {
                    let (min, max) = exact_range(&net, &region, h, j);
                    let tol = |v: f64| 1e-5 * (1.0 + v.abs());
                    assert!(
                        lo[j] <= min + 1e-9 && max <= hi[j] + 1e-9,
                        "milp bounds cut off the range"
                    );
                    // Units still unstable at the end were unstable when milp reached them, so
                    // they were solved; pool inputs and outputs always are.
                    let solved = read_by_pool || h == net.output() || (read_by_relu && lo[j] < 0.0 && hi[j] > 0.0);
                    if solved {
                        checked += 1;
                        assert!(
                            (lo[j] - min).abs() <= tol(min) && (hi[j] - max).abs() <= tol(max),
                            "{family:?} seed {seed} layer {} unit {j}: milp [{}, {}], exact [{min}, {max}]",
                            h.index(),
                            lo[j],
                            hi[j]
                        );
                    }
                }
            }
        }
    }
    eprintln!("milp exactness: {checked} units compared");
    assert!(checked > 30, "only {checked} units compared");
}

#[test]
fn tiny_fixture_gets_its_documented_ranges() {
    let net = nnmilp::front::onnx::load(&fixture("tiny_2-3-2.onnx")).unwrap();
    let region = InputBox::uniform(2, 0.0, 1.0);
    let all = all_methods(&net, &region, f64::INFINITY);
    let out = net.output().index();
    // fixtures/README.md: interval y0 in [-0.75, 2.25], y1 in [-1.75, 2.25];
    // exact y0 in [-0.25, 2.25], y1 in [-1.75, 1.75].
    let close = |a: f64, b: f64, tol: f64| (a - b).abs() <= tol;
    let (il, ih) = (&all[0].lo[out], &all[0].hi[out]);
    assert!(
        close(il[0], -0.75, 1e-12)
            && close(ih[0], 2.25, 1e-12)
            && close(il[1], -1.75, 1e-12)
            && close(ih[1], 2.25, 1e-12)
    );
    let (ml, mh) = (&all[3].lo[out], &all[3].hi[out]);
    assert!(
        close(ml[0], -0.25, 1e-5) && close(mh[0], 2.25, 1e-5) && close(ml[1], -1.75, 1e-5) && close(mh[1], 1.75, 1e-5),
        "milp output bounds {ml:?} {mh:?}"
    );
    for b in &all {
        let (l, h) = (&b.lo[out], &b.hi[out]);
        assert!(
            l[0] <= -0.25 && h[0] >= 2.25 && l[1] <= -1.75 && h[1] >= 1.75,
            "{}",
            b.method.name()
        );
    }
}

fn adversarial_config(bounds: Method, bounds_file: Option<PathBuf>) -> tasks::adversarial::Config {
    tasks::adversarial::Config {
        margin_kind: Some(tasks::adversarial::MarginKind::Absolute),
        bounds,
        bounds_file,
        solve: true,
        ..tasks::adversarial::Config::new(
            fixture("mnist_8x3.onnx"),
            fixture("images/mnist_test_0_label7.png").to_string_lossy().into_owned(),
        )
    }
}

#[test]
fn tighter_bounds_keep_the_adversarial_optimum() {
    let mut objectives = Vec::new();
    for m in [Method::Interval, Method::Lp] {
        let report = tasks::adversarial::run(&adversarial_config(m, None)).unwrap();
        assert_eq!(report.model.bounds, m.name());
        let sol = report.solve.unwrap();
        assert_eq!(sol.status, Status::Optimal);
        objectives.push((sol.objective.unwrap(), report.model.relu_unstable));
    }
    let ((a, ua), (b, ub)) = (objectives[0], objectives[1]);
    assert!((a - b).abs() <= 1e-6 * (1.0 + a.abs()), "interval {a} vs lp {b}");
    assert!(ub <= ua, "lp left more unstable ReLUs ({ub}) than interval ({ua})");
}

#[test]
fn bounds_files_are_checked_against_network_and_box() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tiny.json");
    let file = tasks::bounds_file::run(&tasks::bounds_file::Config {
        network: fixture("tiny_2-3-2.onnx"),
        load: Default::default(),
        input_box: tasks::InputRange::UNIT,
        around: None,
        method: Method::Lp,
        options: options(1.0),
        output: path.clone(),
    })
    .unwrap()
    .file;
    assert_eq!(file.method, "lp");
    let inspect = |network: &str, input_box: (f64, f64)| {
        tasks::inspect::run(&tasks::inspect::Config {
            network: fixture(network),
            load: Default::default(),
            input_box: tasks::InputRange::new(input_box.0, input_box.1).unwrap(),
            bounds: Method::Interval,
            bounds_file: Some(path.clone()),
            bounds_options: BoundsOptions::default(),
        })
    };
    // Same network, a box inside the file's: accepted, and the file's method is reported.
    let ok = inspect("tiny_2-3-2.onnx", (0.25, 0.75)).unwrap();
    assert_eq!(ok.bounds, "lp");
    let other = inspect("mnist_8x3.onnx", (0.0, 1.0)).unwrap_err().to_string();
    assert!(other.contains("sha256") && other.contains("tiny_2-3-2.onnx"), "{other}");
    let wider = inspect("tiny_2-3-2.onnx", (-0.5, 1.0)).unwrap_err().to_string();
    assert!(wider.contains("does not contain"), "{wider}");
    // The adversarial task refuses a foreign file too.
    let err = tasks::adversarial::run(&adversarial_config(Method::Interval, Some(path.clone())))
        .unwrap_err()
        .to_string();
    assert!(err.contains("sha256"), "{err}");
}

#[test]
fn bounds_command_writes_a_file_inspect_reads() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("b.json");
    let bin = env!("CARGO_BIN_EXE_nnmilp");
    let net = fixture("tiny_2-3-2.onnx");
    let run = |args: &[&str]| std::process::Command::new(bin).args(args).output().unwrap();
    let o = run(&[
        "bounds",
        net.to_str().unwrap(),
        "--method",
        "symbolic",
        "-o",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let text = std::fs::read_to_string(&out).unwrap();
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(v["method"], "symbolic");
    assert_eq!(v["report"]["stages"].as_array().unwrap().len(), 2);
    let o = run(&[
        "inspect",
        net.to_str().unwrap(),
        "--bounds-file",
        out.to_str().unwrap(),
        "--json",
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["bounds"], "symbolic");
    let o = run(&[
        "inspect",
        net.to_str().unwrap(),
        "--box",
        "0,2",
        "--bounds-file",
        out.to_str().unwrap(),
    ]);
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("does not contain"));
}

#[test]
fn bad_options_are_refused() {
    let (net, region) = build(Family::Mlp, 5);
    let bad = |o: BoundsOptions| compute_with(&net, &region, Method::Lp, &o).unwrap_err().to_string();
    let e = bad(BoundsOptions {
        unit_time_limit: -1.0,
        threads: None,
        ..BoundsOptions::default()
    });
    assert!(e.contains("time limit"), "{e}");
    let e = bad(BoundsOptions {
        unit_time_limit: 1.0,
        threads: Some(0),
        ..BoundsOptions::default()
    });
    assert!(e.contains("0 threads"), "{e}");
    let e = compute_with(
        &net,
        &InputBox::uniform(net.input_size() + 1, 0.0, 1.0),
        Method::Symbolic,
        &options(1.0),
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("input region"), "{e}");
}

/// A random sub-box of `region` (what splitting bounds): each side a random slice of the
/// original, now and then a single point.
fn sub_box(rng: &mut Rng, region: &InputBox) -> InputBox {
    let (mut lo, mut hi) = (Vec::new(), Vec::new());
    for (&l, &h) in region.lo.iter().zip(&region.hi) {
        let a = rng.uniform(l, h);
        let b = if rng.coin(0.05) { a } else { rng.uniform(a, h) };
        lo.push(a);
        hi.push(b);
    }
    InputBox { lo, hi }
}

/// The per-box bounds of input splitting ([`nnmilp::bounds::forward`], and the same with the
/// output layer back-substituted) are sound on every family, over the family's box and over
/// random sub-boxes, at sampled points and corners; and they tighten interval bounds somewhere
/// (else soundness would hold trivially).
#[test]
fn forward_bounds_are_sound_on_random_nets_and_boxes() {
    let (mut forward_width, mut interval_width) = (0.0, 0.0);
    for (f, &family) in Family::ALL.iter().enumerate() {
        for seed in 0..6u64 {
            let (net, region) = build(family, 7000 + 1000 * f as u64 + seed);
            let mut rng = Rng(seed ^ 0xF0F0);
            let mut boxes = vec![region.clone()];
            boxes.extend((0..4).map(|_| sub_box(&mut rng, &region)));
            for bx in &boxes {
                let fwd = nnmilp::bounds::forward(&net, bx).expect("a finite box");
                let rows = nnmilp::bounds::forward_then_rows(&net, bx, false);
                let refined = nnmilp::bounds::forward_then_rows(&net, bx, true);
                let interval = nnmilp::bounds::interval(&net, bx);
                assert_nested(&net, &interval, &fwd, 1e-9, &format!("{family:?} seed {seed} forward"));
                assert_nested(&net, &fwd, &rows, 1e-9, &format!("{family:?} seed {seed} rows"));
                assert_nested(
                    &net,
                    &interval,
                    &refined,
                    1e-9,
                    &format!("{family:?} seed {seed} refined"),
                );
                forward_width += total_width(&fwd);
                interval_width += total_width(&interval);
                let samples = (0..3_000).map(|_| point_in(&mut rng, bx)).chain(corners(bx));
                for x in samples {
                    let values = net.forward_all(&x).unwrap();
                    for b in [&fwd, &rows, &refined] {
                        assert!(
                            b.contains(&values, 1e-9),
                            "{family:?} seed {seed}: forward bounds miss the forward pass at {x:?} in {bx:?}"
                        );
                    }
                }
            }
        }
    }
    assert!(
        forward_width < interval_width,
        "forward {forward_width} vs interval {interval_width}"
    );
}
