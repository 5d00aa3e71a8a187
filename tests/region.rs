//! Region-aware tightening: bounds over box ∩ L1 ball are sound and nested, the knapsack
//! concretisation is the exact LP optimum, the first-order search returns replayed examples, the
//! backward pass is the gradient, and `--bounds region-lp|region-milp` never changes an
//! adversarial optimum while reporting what it tightened.

use crate::common::nets::{assert_nested, build, point_in, Family, Rng};
use crate::common::write_npy;
use nnmilp::bounds::{interval_in, Bounds, BoundsOptions, InputBox, L1Ball, Method, Region};
use nnmilp::milp::{ColKind, LinExpr, Milp, ObjSense};
use nnmilp::solve::{solve, SolveOptions, Status};
use nnmilp::tasks::{self, adversarial, Norm};
use nnmilp::tighten::compute;
use std::path::PathBuf;

fn fixture(p: &str) -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(p)
        .to_string_lossy()
        .into_owned()
}

fn options() -> BoundsOptions {
    BoundsOptions {
        unit_time_limit: 1.0,
        threads: Some(2),
        ..BoundsOptions::default()
    }
}

/// Box ∩ the L1 ball of radius `r` around a random point of the box.
fn ball_region(rng: &mut Rng, input_box: &InputBox, frac: f64) -> Region {
    let center = point_in(rng, input_box);
    let width: f64 = input_box.lo.iter().zip(&input_box.hi).map(|(l, h)| h - l).sum();
    Region {
        input_box: input_box.clone(),
        l1: Some(L1Ball {
            center,
            radius: frac * width,
        }),
    }
}

/// A point of the region: a point of the box pulled towards the center until it is in the ball
/// (the box is convex and holds the center, so the pulled point stays in it).
fn sample(rng: &mut Rng, region: &Region) -> Vec<f64> {
    let x = point_in(rng, &region.input_box);
    let ball = region.l1.as_ref().unwrap();
    let d: f64 = x.iter().zip(&ball.center).map(|(a, c)| (a - c).abs()).sum();
    let t = if d > ball.radius { ball.radius / d } else { 1.0 };
    // Half of the samples on the sphere itself, where the extremes are.
    let t = if rng.coin(0.5) { t } else { t * rng.unit() };
    x.iter().zip(&ball.center).map(|(a, c)| c + t * (a - c)).collect()
}

/// The ball's vertices `c ± r e_j`, clipped to the box (a linear piece's extremes over the ball
/// are often there).
fn vertices(region: &Region) -> Vec<Vec<f64>> {
    let ball = region.l1.as_ref().unwrap();
    let b = &region.input_box;
    let mut out = Vec::new();
    for j in 0..ball.center.len() {
        for s in [-1.0, 1.0] {
            let mut x = ball.center.clone();
            x[j] = (x[j] + s * ball.radius).clamp(b.lo[j], b.hi[j]);
            out.push(x);
        }
    }
    out
}

#[test]
fn ball_bounds_are_sound_nested_and_inside_box_bounds() {
    let mut gained = 0.0;
    for (f, &family) in Family::ALL.iter().enumerate() {
        for seed in 0..3u64 {
            let (net, input_box) = build(family, 7000 + 100 * f as u64 + seed);
            let mut rng = Rng(seed ^ 0x5EED);
            let region = ball_region(&mut rng, &input_box, 0.1);
            let in_ball: Vec<Bounds> = Method::ALL
                .iter()
                .map(|&m| compute(&net, &region, m, &options()).unwrap().0)
                .collect();
            let in_box = compute(&net, &Region::from(input_box.clone()), Method::Lp, &options())
                .unwrap()
                .0;
            let samples: Vec<Vec<f64>> = (0..10_000)
                .map(|_| sample(&mut rng, &region))
                .chain(vertices(&region))
                .collect();
            for x in &samples {
                assert!(region.contains(x, 1e-9));
                let values = net.forward_all(x).unwrap();
                for b in &in_ball {
                    assert!(
                        b.contains(&values, 1e-9),
                        "{family:?} seed {seed}: {} bounds over the ball miss the forward pass at {x:?}",
                        b.method.name()
                    );
                }
            }
            for pair in in_ball.windows(2) {
                assert_nested(
                    &net,
                    &pair[0],
                    &pair[1],
                    1e-9,
                    &format!("{family:?} seed {seed} over the ball"),
                );
            }
            // The ball lies in the box, so interval bounds over it lie inside interval bounds
            // over the box; lp over the ball inside lp over the box up to the solver margin.
            let interval_box = interval_in(&net, &Region::from(input_box.clone()));
            for h in net.handles() {
                let ((bl, bh), (il, ih)) = (in_ball[0].layer(h), interval_box.layer(h));
                let ((ll, lh), (xl, xh)) = (in_ball[2].layer(h), in_box.layer(h));
                for j in 0..bl.len() {
                    assert!(il[j] <= bl[j] + 1e-9 && bh[j] <= ih[j] + 1e-9);
                    assert!(xl[j] <= ll[j] + 1e-5 * (1.0 + xl[j].abs()) && lh[j] <= xh[j] + 1e-5 * (1.0 + xh[j].abs()));
                    gained += (xh[j] - xl[j]) - (lh[j] - ll[j]);
                }
            }
        }
    }
    assert!(gained > 0.0, "the ball tightened nothing");
}

/// `min c·x` over box ∩ ball by HiGHS, as an LP with `d_j >= |x_j - c_j|` and `sum d <= r`.
fn lp_min(region: &Region, c: &[f64]) -> f64 {
    let n = c.len();
    let b = &region.input_box;
    let ball = region.l1.as_ref().unwrap();
    let mut m = Milp::new("knapsack");
    let xs: Vec<_> = (0..n)
        .map(|j| m.add_col(format!("x{j}"), b.lo[j], b.hi[j], ColKind::Continuous))
        .collect();
    let inputs = xs.clone();
    nnmilp::lower::add_distance(&mut m, &inputs, &ball.center, b, Norm::L1, Some(ball.radius));
    let mut obj = LinExpr::default();
    for (j, &x) in xs.iter().enumerate() {
        obj.add_term(x, c[j]);
    }
    m.set_objective(ObjSense::Minimize, obj);
    let sol = solve(&m, &SolveOptions::default()).unwrap();
    assert_eq!(sol.status, Status::Optimal);
    sol.objective.unwrap()
}

#[test]
fn knapsack_concretisation_is_the_lp_optimum() {
    let mut rng = Rng(42);
    for case in 0..200 {
        let n = rng.range(1, 12);
        let lo: Vec<f64> = (0..n).map(|_| rng.uniform(-2.0, 0.5)).collect();
        let hi: Vec<f64> = lo.iter().map(|l| l + rng.uniform(0.0, 2.0)).collect();
        // Centers inside and (sometimes) outside the box: the projection rule must hold too.
        let center: Vec<f64> = (0..n)
            .map(|j| {
                if rng.coin(0.2) {
                    hi[j] + rng.uniform(0.0, 0.3)
                } else {
                    rng.uniform(lo[j], hi[j])
                }
            })
            .collect();
        let outside: f64 = center.iter().zip(&hi).map(|(c, h)| (c - h).max(0.0)).sum();
        let region = Region {
            input_box: InputBox { lo, hi },
            l1: Some(L1Ball {
                center,
                radius: outside + rng.uniform(0.0, 3.0),
            }),
        };
        let c: Vec<f64> = (0..n)
            .map(|_| if rng.coin(0.2) { 0.0 } else { rng.uniform(-3.0, 3.0) })
            .collect();
        let (got, _) = region.min_linear(c.iter().copied().enumerate());
        let want = lp_min(&region, &c);
        assert!(
            (got - want).abs() <= 1e-7 * (1.0 + want.abs()),
            "case {case}: knapsack {got}, LP {want}"
        );
    }
}

#[test]
fn input_gradient_matches_finite_differences() {
    for (f, &family) in Family::ALL.iter().enumerate() {
        let (net, input_box) = build(family, 9100 + f as u64);
        let mut rng = Rng(f as u64);
        let (mut checked, mut partials) = (0, 0);
        for _ in 0..20 {
            let x = point_in(&mut rng, &input_box);
            let values = net.forward_all(&x).unwrap();
            let g: Vec<f64> = (0..net.output_size()).map(|_| rng.uniform(-1.0, 1.0)).collect();
            let grad = net.input_gradient(&values, &g);
            let f = |x: &[f64]| -> f64 { net.forward(x).unwrap().iter().zip(&g).map(|(a, b)| a * b).sum() };
            // Central differences with a step far below the distance to any kink are exact up
            // to rounding; skip points that sit near a kink (the two sides disagree).
            let h = 1e-7;
            for j in 0..x.len() {
                partials += 1;
                let (mut up, mut down) = (x.clone(), x.clone());
                up[j] += h;
                down[j] -= h;
                let (fu, f0, fd) = (f(&up), f(&x), f(&down));
                let (right, left) = ((fu - f0) / h, (f0 - fd) / h);
                if (right - left).abs() > 1e-4 * (1.0 + right.abs()) {
                    continue;
                }
                assert!(
                    (grad[j] - right).abs() <= 1e-4 * (1.0 + right.abs()),
                    "{family:?}: d/dx{j} backward {} vs difference {right}",
                    grad[j]
                );
                checked += 1;
            }
        }
        // Kinks are rare at random points: skipping most partials would mean the test checks
        // little (or that the differences disagree everywhere, which is a bug of its own).
        assert!(
            checked * 10 >= partials * 9,
            "{family:?}: only {checked} of {partials} partial derivatives were away from a kink"
        );
    }
}

fn adversarial(net: &str, image: &str, norm: Norm, bounds: Method, region: bool) -> adversarial::Report {
    let cfg = adversarial::Config {
        norm,
        bounds,
        region_tightening: region,
        margin_kind: Some(adversarial::MarginKind::Absolute),
        solve: true,
        solve_options: SolveOptions {
            mip_rel_gap: Some(0.0),
            ..SolveOptions::default()
        },
        ..adversarial::Config::new(fixture(net), fixture(image))
    };
    adversarial::run(&cfg).unwrap()
}

fn optimum(r: &adversarial::Report) -> f64 {
    let s = r.solve.as_ref().unwrap();
    assert_eq!(s.status, Status::Optimal, "{}", s.status_text);
    s.objective.unwrap()
}

#[test]
fn region_tightening_keeps_the_optimum_and_reports_what_it_did() {
    for (net, image) in [
        ("tiny_2-3-2.onnx", None),
        ("mnist_8x3.onnx", Some("images/mnist_test_0_label7.png")),
        ("mnist_8x3.onnx", Some("images/mnist_test_3_label0.png")),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let image = match image {
            Some(i) => fixture(i),
            None => {
                let p = dir.path().join("tiny_point.npy");
                write_npy(&p, &[0.3, 0.6]);
                p.to_string_lossy().into_owned()
            }
        };
        for norm in [Norm::L1, Norm::Linf] {
            let plain = adversarial(net, &image, norm, Method::Interval, false);
            let want = optimum(&plain);
            for method in [Method::Lp, Method::Milp] {
                let r = adversarial(net, &image, norm, method, true);
                let got = optimum(&r);
                assert!(
                    (got - want).abs() <= 1e-6 * (1.0 + want),
                    "{net} {norm:?} region-{}: {got} vs interval {want}",
                    method.name()
                );
                let info = r.region.as_ref().expect("region report");
                assert!(info.relu_unstable_after <= info.relu_unstable_before);
                assert_eq!(r.model.relu_unstable, info.relu_unstable_after);
                if let Some(d) = info.incumbent_distance {
                    // A real example: never better than the optimum, and the radius covers it.
                    assert!(
                        d >= want - 1e-6 * (1.0 + want),
                        "{net}: incumbent {d} below the optimum {want}"
                    );
                    assert!(info.radius.unwrap() >= d);
                    assert!(r.solve.as_ref().unwrap().warm_started);
                }
                assert!(r.model.relu_unstable <= plain.model.relu_unstable);
            }
        }
    }
}

#[test]
fn first_order_search_finds_replayable_examples_on_mnist() {
    // On the MNIST fixture, the search must find an example for most images, and each one must
    // be a real one: the report's incumbent distance is what the forward pass gives.
    let mut found = 0;
    let dir = tempfile::tempdir().unwrap();
    for (k, label) in [7, 2, 1, 0, 4].into_iter().enumerate() {
        let image = fixture(&format!("images/mnist_test_{k}_label{label}.png"));
        let cfg = adversarial::Config {
            bounds: Method::Lp,
            region_tightening: true,
            output: Some(dir.path().join(format!("fo-{k}.lp")).to_string_lossy().into_owned()),
            ..adversarial::Config::new(fixture("mnist_8x3.onnx"), image)
        };
        let r = adversarial::run(&cfg).unwrap();
        let info = r.region.unwrap();
        if info.incumbent_distance.is_some() {
            found += 1;
            assert!(info.radius.unwrap() > 0.0);
            assert!(info.relu_unstable_after <= info.relu_unstable_before);
        }
    }
    assert!(found >= 4, "first-order search found only {found} of 5 examples");
}

#[test]
fn bounds_files_over_a_ball_serve_only_queries_inside_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ball.json");
    let image = fixture("images/mnist_test_0_label7.png");
    let file = tasks::bounds_file::run(&tasks::bounds_file::Config {
        network: fixture("mnist_8x3.onnx").into(),
        load: Default::default(),
        input_box: tasks::InputRange::UNIT,
        around: Some((image.clone(), 5.0, Norm::L1)),
        method: Method::Symbolic,
        options: options(),
        output: path.clone(),
    })
    .unwrap()
    .file;
    assert_eq!(file.l1_ball.as_ref().unwrap().radius, 5.0);
    // The whole box is not inside the ball.
    let err = tasks::inspect::run(&tasks::inspect::Config {
        network: fixture("mnist_8x3.onnx").into(),
        load: Default::default(),
        input_box: tasks::InputRange::UNIT,
        bounds: Method::Interval,
        bounds_file: Some(path.clone()),
        bounds_options: BoundsOptions::default(),
    })
    .unwrap_err()
    .to_string();
    assert!(err.contains("does not contain") && err.contains("radius 5"), "{err}");
    let query = |max_dist: f64| {
        adversarial::run(&adversarial::Config {
            max_dist: Some(max_dist),
            bounds_file: Some(path.clone()),
            solve: true,
            ..adversarial::Config::new(fixture("mnist_8x3.onnx"), image.clone())
        })
    };
    // A budget of 4.5 around the same image lies inside; its optimum is the plain one.
    let inside = query(4.5).unwrap();
    let plain = adversarial("mnist_8x3.onnx", &image, Norm::L1, Method::Interval, false);
    let (a, b) = (optimum(&inside), optimum(&plain));
    assert!((a - b).abs() <= 1e-6 * (1.0 + b), "{a} vs {b}");
    assert!(query(5.5).unwrap_err().to_string().contains("does not contain"));
}

#[test]
fn region_methods_are_refused_where_there_is_no_distance() {
    let bin = env!("CARGO_BIN_EXE_nnmilp");
    let o = std::process::Command::new(bin)
        .args(["inspect", &fixture("tiny_2-3-2.onnx"), "--bounds", "region-lp"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("region-lp") && err.contains("adversarial"), "{err}");
}

#[test]
fn cli_bounds_around_an_image_and_region_lp_end_to_end() {
    let dir = tempfile::tempdir().unwrap();
    let bin = env!("CARGO_BIN_EXE_nnmilp");
    let run = |args: &[&str]| std::process::Command::new(bin).args(args).output().unwrap();
    let net = fixture("mnist_8x3.onnx");
    let image = fixture("images/mnist_test_0_label7.png");
    let ball = dir.path().join("ball.json");
    let o = run(&[
        "bounds",
        &net,
        "--image",
        &image,
        "--eps",
        "3",
        "--norm",
        "l1",
        "--method",
        "lp",
        "-o",
        ball.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(String::from_utf8_lossy(&o.stdout).contains("L1 ball of radius 3"));
    let v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&ball).unwrap()).unwrap();
    assert_eq!(v["l1_ball"]["radius"], 3.0);
    let whole = dir.path().join("box.json");
    let o = run(&["bounds", &net, "--method", "lp", "-o", whole.to_str().unwrap()]);
    assert!(o.status.success());
    let w: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&whole).unwrap()).unwrap();
    assert!(
        v["relu_unstable"].as_u64() < w["relu_unstable"].as_u64(),
        "the ball stabilised nothing"
    );
    // Solves with the report as JSON on stdout.
    let solved = |extra: &[&str]| -> serde_json::Value {
        let mut args = vec!["adversarial", &net, "--image", &image, "--solve", "--report", "-"];
        args.extend_from_slice(extra);
        let o = run(&args);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        serde_json::from_slice(&o.stdout).unwrap()
    };
    // A query inside the ball reads the file.
    let r = solved(&["--max-dist", "2.5", "--bounds-file", ball.to_str().unwrap()]);
    assert_eq!(r["model"]["bounds"], "lp");
    // Region-aware tightening from the command line: the region object and a warm start.
    let r = solved(&[
        "--bounds",
        "region-lp",
        "--unit-time-limit",
        "0.5",
        "--bounds-threads",
        "2",
    ]);
    assert_eq!(r["region"]["incumbent_source"], "first_order");
    assert_eq!(r["solve"]["status"], "optimal");
    assert_eq!(r["solve"]["warm_started"], true);
    let (inc, opt) = (
        r["region"]["incumbent_distance"].as_f64().unwrap(),
        r["solve"]["objective"].as_f64().unwrap(),
    );
    assert!(
        opt <= inc + 1e-6 * (1.0 + inc),
        "optimum {opt} above the incumbent {inc}"
    );
    assert!(r["region"]["relu_unstable_after"].as_u64() <= r["region"]["relu_unstable_before"].as_u64());
    // The same input gives the same bytes, and the header states the radius.
    let files: Vec<Vec<u8>> = (0..2)
        .map(|k| {
            let out = dir.path().join(format!("r{k}.lp"));
            let o = run(&[
                "adversarial",
                &net,
                "--image",
                &image,
                "--bounds",
                "region-lp",
                // A time-limited unit LP keeps its previous bound, so under load the bytes
                // could depend on timing: the determinism claim is for unlimited LPs.
                "--unit-time-limit",
                "1000",
                "-o",
                out.to_str().unwrap(),
            ]);
            assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
            std::fs::read(&out).unwrap()
        })
        .collect();
    assert_eq!(files[0], files[1], "region-lp models differ between runs");
    let text = String::from_utf8_lossy(&files[0]);
    assert!(
        text.contains("bounds region-lp") && text.contains("inside the ball of radius"),
        "{}",
        &text[..600]
    );
}
