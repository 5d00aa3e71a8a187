//! The query tasks (`visualize`, `range`, Linf and untargeted `adversarial`) checked from outside:
//! optima against brute-force forward passes, the documented exact ranges of the tiny net,
//! minimality by re-solving with a slightly smaller budget, and the files and pictures written.

use nnmilp::bounds::Method;
use nnmilp::ir::{argmax, Network};
use nnmilp::lower::Encoding;
use nnmilp::milp::ObjSense;
use nnmilp::solve::{SolveOptions, Status};
use nnmilp::tasks::{adversarial, range, visualize, Norm, Optimum, Point};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn fixture(p: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures").join(p)
}

fn fixture_str(p: &str) -> String {
    fixture(p).to_string_lossy().into_owned()
}

const TINY: &str = "tiny_2-3-2.onnx";
const NET: &str = "mnist_8x3.onnx";
const IMG: &str = "images/mnist_test_0_label7.png";

fn load(name: &str) -> Network {
    nnmilp::front::onnx::load(&fixture(name)).unwrap()
}

fn opts() -> SolveOptions {
    SolveOptions {
        threads: Some(1),
        ..SolveOptions::default()
    }
}

fn visualize_cfg(net: &str, units: visualize::Units, sense: ObjSense) -> visualize::Config {
    visualize::Config {
        network: fixture(net),
        load: Default::default(),
        units,
        sense,
        input_box: nnmilp::tasks::InputRange::UNIT,
        near: None,
        encoding: Encoding::BigM,
        bounds: Method::Interval,
        bounds_options: Default::default(),
        output: None,
        format: None,
        solve: true,
        solve_options: opts(),
        report: None,
        png: None,
        start: Vec::new(),
    }
}

fn range_cfg(net: &str, k: usize) -> range::Config {
    range::Config {
        network: fixture(net),
        load: Default::default(),
        output_index: k,
        input_box: nnmilp::tasks::InputRange::UNIT,
        around: None,
        senses: range::Senses::Both,
        encoding: Encoding::BigM,
        bounds: Method::Interval,
        bounds_options: Default::default(),
        output: None,
        format: None,
        solve: true,
        solve_options: opts(),
        report: None,
        start: Vec::new(),
    }
}

fn adversarial_cfg(norm: Norm) -> adversarial::Config {
    adversarial::Config {
        norm,
        solve: true,
        solve_options: opts(),
        ..adversarial::Config::new(fixture(NET), fixture_str(IMG))
    }
}

/// The optimum's point, after checking the solver called it optimal.
fn optimal(opt: &Optimum) -> &Point {
    assert_eq!(opt.status, Status::Optimal, "{}", opt.status_text);
    opt.point.as_ref().expect("an optimal solve has a point")
}

/// The replayed point really gives its value: recomputed here from the reported input.
fn assert_replays(net: &Network, layer: usize, index: usize, opt: &Optimum) {
    let p = optimal(opt);
    let v = net.forward_all(&p.input).unwrap()[layer][index];
    assert!(
        (v - p.value).abs() <= 1e-12,
        "reported {} but the input gives {v}",
        p.value
    );
    let obj = opt.objective.unwrap();
    assert!(
        (obj - v).abs() <= 1e-6 * (1.0 + v.abs()),
        "solver {obj} vs forward pass {v}"
    );
}

/// `f` at every point of an `n x n` grid of [0,1]^2.
fn grid(n: usize, f: impl Fn(&[f64]) -> f64) -> Vec<f64> {
    let h = 1.0 / (n - 1) as f64;
    (0..n * n)
        .map(|i| f(&[(i / n) as f64 * h, (i % n) as f64 * h]))
        .collect()
}

/// Tiny net weights (fixtures/README.md): `|dy_k| <= L_k · max|dx|` with
/// `L_k = sum_i |W2_ki| (|W1_i0| + |W1_i1|)`, the grid's resolution error bound.
fn tiny_lipschitz(k: usize) -> f64 {
    let w1 = [[1.0, 1.0], [1.0, -1.0], [0.5, 0.5]];
    let w2 = [[1.0, -1.0, 1.0], [-1.0, 2.0, -1.0]];
    (0..3)
        .map(|i| f64::abs(w2[k][i]) * (f64::abs(w1[i][0]) + f64::abs(w1[i][1])))
        .sum()
}

#[test]
fn visualize_tiny_outputs_match_a_fine_grid() {
    let net = load(TINY);
    let n = 401;
    for k in 0..2 {
        let values = grid(n, |x| net.forward(x).unwrap()[k]);
        let gmax = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let gmin = values.iter().copied().fold(f64::INFINITY, f64::min);
        // Nearest grid point within half a step in each coordinate.
        let resolution = tiny_lipschitz(k) * 0.5 / (n - 1) as f64;
        for (sense, gridbest) in [(ObjSense::Maximize, gmax), (ObjSense::Minimize, gmin)] {
            let r = visualize::run(&visualize_cfg(TINY, visualize::Units::Output(k), sense)).unwrap();
            assert_eq!(r.units.len(), 1);
            let opt = r.units[0].solve.as_ref().unwrap();
            assert_replays(&net, net.output().index(), k, opt);
            let v = optimal(opt).value;
            assert!(
                (v - gridbest).abs() <= resolution + 1e-6,
                "y{k} {sense:?}: MILP {v}, grid {gridbest}"
            );
            match sense {
                ObjSense::Maximize => assert!(v >= gmax - 1e-6, "grid beats the MILP maximum"),
                ObjSense::Minimize => assert!(v <= gmin + 1e-6, "grid beats the MILP minimum"),
            }
        }
    }
}

/// Hidden units named three ways: by label, by ONNX node name, by layer number.
#[test]
fn visualize_hidden_units_by_label_name_and_number() {
    let net = load(TINY);
    for (spec, layer, index) in [("L1:1", 2, 1), ("fc1:0", 1, 0), ("2:2", 2, 2), ("relu1:0", 2, 0)] {
        let values = grid(201, |x| net.forward_all(x).unwrap()[layer][index]);
        let gmax = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let r = visualize::run(&visualize_cfg(
            TINY,
            visualize::Units::Unit(spec.into()),
            ObjSense::Maximize,
        ))
        .unwrap();
        let u = &r.units[0];
        assert_eq!((u.unit.layer, u.unit.index), (layer, index), "{spec}");
        let opt = u.solve.as_ref().unwrap();
        assert_replays(&net, layer, index, opt);
        // Every hidden unit of the tiny net attains its maximum at a corner, which is on the grid.
        assert!(
            (optimal(opt).value - gmax).abs() <= 1e-6,
            "{spec}: {} vs grid {gmax}",
            optimal(opt).value
        );
    }
}

#[test]
fn range_tiny_equals_documented_exact_ranges() {
    let net = load(TINY);
    // fixtures/README.md: y0 in [-0.25, 2.25], y1 in [-1.75, 1.75] (interval: [-0.75, 2.25], [-1.75, 2.25]).
    for (k, exact, interval) in [(0, [-0.25, 2.25], [-0.75, 2.25]), (1, [-1.75, 1.75], [-1.75, 2.25])] {
        let r = range::run(&range_cfg(TINY, k)).unwrap();
        assert_eq!(r.interval_bounds, interval);
        let min = r.min.as_ref().unwrap().solve.as_ref().unwrap();
        let max = r.max.as_ref().unwrap().solve.as_ref().unwrap();
        assert_replays(&net, net.output().index(), k, min);
        assert_replays(&net, net.output().index(), k, max);
        assert!(
            (optimal(min).value - exact[0]).abs() <= 1e-6,
            "min y{k} = {}",
            optimal(min).value
        );
        assert!(
            (optimal(max).value - exact[1]).abs() <= 1e-6,
            "max y{k} = {}",
            optimal(max).value
        );
    }
}

/// A small deterministic generator (no rand dependency): 64-bit LCG, top 53 bits.
struct Lcg(u64);
impl Lcg {
    fn next(&mut self) -> f64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }
}

#[test]
fn range_brackets_samples_on_tiny_and_mnist_ball() {
    let tiny = load(TINY);
    let r = range::run(&range_cfg(TINY, 1)).unwrap();
    let (lo, hi) = (
        optimal(r.min.as_ref().unwrap().solve.as_ref().unwrap()).value,
        optimal(r.max.as_ref().unwrap().solve.as_ref().unwrap()).value,
    );
    let mut rng = Lcg(7);
    for _ in 0..10_000 {
        let x = [rng.next(), rng.next()];
        let y = tiny.forward(&x).unwrap()[1];
        assert!(
            lo - 1e-9 <= y && y <= hi + 1e-9,
            "sample {x:?} gives {y} outside [{lo}, {hi}]"
        );
    }

    // MNIST: the Linf ball of radius 0.05 around a test image, clipped to [0, 1].
    let net = load(NET);
    let img = nnmilp::data::load_image(&fixture_str(IMG)).unwrap().pixels;
    let k = 3;
    let mut cfg = range_cfg(NET, k);
    let eps = 0.05;
    cfg.around = Some(range::Around {
        image: fixture_str(IMG),
        eps,
    });
    let r = range::run(&cfg).unwrap();
    let min = r.min.as_ref().unwrap().solve.as_ref().unwrap();
    let max = r.max.as_ref().unwrap().solve.as_ref().unwrap();
    assert_replays(&net, net.output().index(), k, min);
    assert_replays(&net, net.output().index(), k, max);
    let (lo, hi) = (optimal(min).value, optimal(max).value);
    for p in [optimal(min), optimal(max)] {
        let d = p.input.iter().zip(&img).map(|(a, b)| (a - b).abs()).fold(0.0, f64::max);
        assert!(d <= eps + 1e-9 && p.input.iter().all(|v| (0.0..=1.0).contains(v)));
    }
    let y0 = net.forward(&img).unwrap()[k];
    assert!(lo <= y0 && y0 <= hi);
    for _ in 0..10_000 {
        let x: Vec<f64> = img
            .iter()
            .map(|&v| (v + eps * (2.0 * rng.next() - 1.0)).clamp(0.0, 1.0))
            .collect();
        let y = net.forward(&x).unwrap()[k];
        assert!(
            lo - 1e-9 <= y && y <= hi + 1e-9,
            "sample gives {y} outside [{lo}, {hi}]"
        );
    }
}

#[test]
fn range_writes_both_problems_and_they_solve_to_the_range() {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = range_cfg(TINY, 0);
    let out = dir.path().join("r.mps").to_string_lossy().into_owned();
    cfg.output = Some(out);
    let r = range::run(&cfg).unwrap();
    let min_file = r.min.as_ref().unwrap().file.clone().unwrap();
    let max_file = r.max.as_ref().unwrap().file.clone().unwrap();
    assert!(min_file.ends_with("r.min.mps") && max_file.ends_with("r.max.mps"));
    // Solved again from the files by HiGHS's own reader: a file always minimises, so the
    // maximisation is written negated (its header says so).
    let from_min = nnmilp::solve::solve_file(Path::new(&min_file), &opts()).unwrap();
    let from_max = nnmilp::solve::solve_file(Path::new(&max_file), &opts()).unwrap();
    assert!((from_min.objective.unwrap() - -0.25).abs() <= 1e-6);
    assert!((-from_max.objective.unwrap() - 2.25).abs() <= 1e-6);
    assert!(std::fs::read_to_string(&max_file)
        .unwrap()
        .contains("maximize, written negated"));
}

#[test]
fn linf_adversarial_is_minimal() {
    let net = load(NET);
    let img = nnmilp::data::load_image(&fixture_str(IMG)).unwrap().pixels;
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = adversarial_cfg(Norm::Linf);
    // A budget well above the optimum keeps the solve fast (tighter bounds) without changing it.
    cfg.max_dist = Some(0.1);
    cfg.png = Some(dir.path().join("p.png"));
    let r = adversarial::run(&cfg).unwrap();
    let sol = r.solve.as_ref().unwrap();
    assert_eq!(sol.status, Status::Optimal);
    let ex = sol.example.as_ref().unwrap();
    let target = r.target.unwrap();
    let y = net.forward(&ex.input).unwrap();
    assert_eq!(argmax(&y), target);
    let linf = ex
        .input
        .iter()
        .zip(&img)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0, f64::max);
    let eps = sol.objective.unwrap();
    assert!(
        (linf - eps).abs() <= 1e-5 * (1.0 + eps),
        "objective {eps}, replayed {linf}"
    );
    assert!((ex.distance - linf).abs() <= 1e-12);
    // Minimal: the same problem with the ball shrunk by 0.1% has no solution; grown by 0.1%, it has.
    for (factor, expect) in [(1.0 - 1e-3, Status::Infeasible), (1.0 + 1e-3, Status::Optimal)] {
        let mut c = adversarial_cfg(Norm::Linf);
        c.max_dist = Some(eps * factor);
        let b = adversarial::run(&c).unwrap();
        assert_eq!(b.solve.as_ref().unwrap().status, expect, "radius {}", eps * factor);
    }
    let info = png_size(&dir.path().join("p.png"));
    // write_comparison_png: three 28x28 panels scaled by 224/28 = 8, 4-pixel bars.
    assert_eq!(info, (3 * 224 + 16, 224 + 8));
}

/// The untargeted optimum is at most every targeted one. Kept fast with a Linf budget (which
/// also tightens the bounds): the untargeted problem within 0.025, then every target within 0.1%
/// above the untargeted optimum is either infeasible (its optimum is larger) or no better.
#[test]
fn untargeted_beats_every_target() {
    let net = load(NET);
    let mut cfg = adversarial_cfg(Norm::Linf);
    cfg.untargeted = true;
    cfg.max_dist = Some(0.025);
    let r = adversarial::run(&cfg).unwrap();
    assert_eq!(r.mode, "untargeted");
    let true_class = r.true_class.unwrap();
    assert_eq!(true_class, 7, "the PNG's label");
    let sol = r.solve.as_ref().unwrap();
    assert_eq!(sol.status, Status::Optimal);
    let ex = sol.example.as_ref().unwrap();
    let y = net.forward(&ex.input).unwrap();
    assert_ne!(argmax(&y), true_class);
    let untargeted = sol.objective.unwrap();
    let budget = untargeted * (1.0 + 1e-3);
    let mut reached = Vec::new();
    for t in (0..10).filter(|&t| t != true_class) {
        let mut c = adversarial_cfg(Norm::Linf);
        c.target = Some(t);
        c.max_dist = Some(budget);
        let r = adversarial::run(&c).unwrap();
        let s = r.solve.as_ref().unwrap();
        match s.status {
            Status::Infeasible => {}
            Status::Optimal => {
                let targeted = s.objective.unwrap();
                assert!(
                    untargeted <= targeted + 1e-6,
                    "untargeted {untargeted} > target {t}'s {targeted}"
                );
                reached.push(t);
            }
            other => panic!("target {t}: {other:?}"),
        }
    }
    // The class the untargeted example reached is reachable as a target within the budget.
    assert!(reached.contains(&argmax(&y)), "{reached:?}");
}

fn png_size(path: &Path) -> (u32, u32) {
    let f = std::fs::File::open(path).unwrap();
    let info = png::Decoder::new(f).read_info().unwrap().info().clone();
    (info.width, info.height)
}

fn nnmilp(args: &[&str], dir: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_nnmilp"))
        .args(args)
        .current_dir(dir)
        .output()
        .expect("run nnmilp")
}

/// The paper's figure: the input maximising each class, one MILP per class, drawn as a grid.
#[test]
fn visualize_all_outputs_draws_the_grid() {
    let dir = tempfile::tempdir().unwrap();
    let out = nnmilp(
        &[
            "visualize",
            &fixture_str(NET),
            "--output",
            "all",
            "--solve",
            "--threads",
            "1",
            "--png",
            "grid.png",
            "--report",
            "r.json",
        ],
        dir.path(),
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let r: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("r.json")).unwrap()).unwrap();
    let units = r["units"].as_array().unwrap();
    assert_eq!(units.len(), 10);
    let net = load(NET);
    let images: Vec<Vec<f64>> = (0..10)
        .map(|i| {
            let name = std::fs::read_dir(fixture("images"))
                .unwrap()
                .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .find(|n| n.starts_with(&format!("mnist_test_{i}_")) && n.ends_with(".png"))
                .unwrap();
            nnmilp::data::load_image(&fixture_str(&format!("images/{name}")))
                .unwrap()
                .pixels
        })
        .collect();
    for (k, u) in units.iter().enumerate() {
        assert_eq!(u["unit"]["index"], k);
        let p = &u["solve"]["point"];
        let x: Vec<f64> = p["input"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_f64().unwrap())
            .collect();
        let v = net.forward(&x).unwrap()[k];
        assert!((v - p["value"].as_f64().unwrap()).abs() <= 1e-12);
        // The maximum over the box is at least the output on any real image.
        for img in &images {
            assert!(v >= net.forward(img).unwrap()[k] - 1e-6);
        }
    }
    // write_grid_png: 5 columns x 2 rows of 28x28 panels scaled by 112/28 = 4, 4-pixel bars.
    assert_eq!(
        png_size(&dir.path().join("grid.png")),
        (5 * 112 + 6 * 4, 2 * 112 + 3 * 4)
    );
}

#[test]
fn visualize_near_an_image_stays_near_it() {
    let net = load(NET);
    let img = nnmilp::data::load_image(&fixture_str(IMG)).unwrap().pixels;
    let k = 3;
    let free = visualize::run(&visualize_cfg(NET, visualize::Units::Output(k), ObjSense::Maximize)).unwrap();
    let free_max = optimal(free.units[0].solve.as_ref().unwrap()).value;
    let dir = tempfile::tempdir().unwrap();
    for (norm, d) in [(Norm::Linf, 0.05), (Norm::L1, 3.0)] {
        let mut cfg = visualize_cfg(NET, visualize::Units::Output(k), ObjSense::Maximize);
        cfg.near = Some(visualize::Near {
            image: fixture_str(IMG),
            max_dist: d,
            norm,
        });
        cfg.png = Some(dir.path().join("one.png"));
        let r = visualize::run(&cfg).unwrap();
        let opt = r.units[0].solve.as_ref().unwrap();
        assert_replays(&net, net.output().index(), k, opt);
        let p = optimal(opt);
        assert!(norm.distance(&p.input, &img) <= d * (1.0 + 1e-6), "{norm:?}");
        let y_img = net.forward(&img).unwrap()[k];
        assert!(y_img - 1e-6 <= p.value && p.value <= free_max + 1e-6);
        assert_eq!(png_size(&dir.path().join("one.png")), (112 + 8, 112 + 8));
    }
}

#[test]
fn unknown_unit_lists_the_layers() {
    let dir = tempfile::tempdir().unwrap();
    for spec in ["L9:0", "L1:3", "fc1"] {
        let out = nnmilp(
            &["visualize", &fixture_str(TINY), "--unit", spec, "--solve"],
            dir.path(),
        );
        assert_eq!(out.status.code(), Some(1), "{spec}");
        let err = String::from_utf8_lossy(&out.stderr);
        for needle in [spec, "0 N0 input 2", "1 N1 fc1 3", "2 L1 relu1 3", "3 N3 fc2 2"] {
            assert!(err.contains(needle), "{spec}: error should mention {needle:?}: {err}");
        }
    }
    // --png on a network whose input is no picture is an error, not a silent skip.
    let out = nnmilp(
        &[
            "visualize",
            &fixture_str(TINY),
            "--output",
            "0",
            "--solve",
            "--png",
            "x.png",
        ],
        dir.path(),
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("x.png"));
}

#[test]
fn tagged_paths_keep_the_model_extension() {
    use nnmilp::tasks::tagged_path;
    assert_eq!(tagged_path("out.mps", "max"), "out.max.mps");
    assert_eq!(tagged_path("dir.v1/out.LP.gz", "y3"), "dir.v1/out.y3.LP.gz");
    assert_eq!(tagged_path("model", "min"), "model.min");
}
