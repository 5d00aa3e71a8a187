//! The compile spine end to end on real ONNX files: `front::onnx::load` -> interval bounds ->
//! big-M lowering -> HiGHS, checked against the IR forward pass and against tract (an
//! independent ONNX runtime, f32), for every ONNX net under `fixtures/` and the VNN-COMP nets of
//! the shared fixtures.
//!
//! # Why min and max of every output, and nothing cheaper
//!
//! The claim is that with the inputs fixed to a point `p` of the box, the projection of the
//! MILP's feasible set onto the output columns is exactly `{f(p)}`. Minimising and maximising
//! each output `y_j` and finding `f(p)_j` both times proves it: every feasible point has
//! `min_j <= y_j <= max_j`, so all of them have `y = f(p)`. Cheaper designs do not prove it:
//! a single solve (or min and max of `sum_j y_j`, or of any fixed combination `c·y`) only shows
//! that some feasible point, or the combination, is right; another feasible point with
//! `y_0` too high and `y_1` too low would go unnoticed. So each net gets `2 n` solves per point,
//! kept cheap by loading the model into HiGHS once and changing only the input bounds and the
//! objective between runs (with fixed inputs HiGHS's presolve settles almost every binary).
//!
//! The forward pass runs in f64 and is compared at `1e-6` relative; tract runs in f32 and is
//! compared at `1e-4` relative (both relative to `1 + max |y|`, so outputs near zero are compared
//! absolutely). The point built from the forward pass is also checked against the big-M and the
//! indicator models with `Milp::max_violation` (cheap, and the only check of the indicator form
//! here, since HiGHS cannot solve it).

use crate::common::shared;
use crate::exactness::columns_from_forward;
use crate::onnx_frontend::input_shape;
use nnmilp::bounds::{self, InputBox};
use nnmilp::ir::Network;
use nnmilp::lower::{lower, Encoding, LowerOptions};
use nnmilp::milp::ObjSense;
use nnmilp::solve::highs::Highs;
use nnmilp::solve::{SolveOptions, Status};
use std::path::{Path, PathBuf};
use std::time::Instant;
use tract_onnx::prelude::*;

/// splitmix64, seeded per net so that every point is reproducible.
struct Rng(u64);

impl Rng {
    fn unit(&mut self) -> f64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        ((z ^ (z >> 31)) >> 11) as f64 / (1u64 << 53) as f64
    }
    fn point(&mut self, region: &InputBox) -> Vec<f64> {
        (region.lo.iter().zip(&region.hi))
            .map(|(&lo, &hi)| lo + (hi - lo) * self.unit())
            .collect()
    }
}

/// `|a - b| <= tol * (1 + scale)` with `scale` the magnitude of the output vector.
fn close(a: f64, b: f64, tol: f64, scale: f64) -> bool {
    (a - b).abs() <= tol * (1.0 + scale)
}

/// What a net is checked on: its input box and the points (random ones, and images).
struct Case {
    path: PathBuf,
    region: InputBox,
    points: Vec<(String, Vec<f64>)>,
}

/// tract's f32 output for one input, shaped as the ONNX input says.
struct Tract {
    shape: Vec<usize>,
    plan: Arc<TypedRunnableModel>,
}

impl Tract {
    fn new(path: &Path) -> Self {
        let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let shape = input_shape(&bytes);
        let plan = tract_onnx::onnx()
            .model_for_read(&mut &bytes[..])
            .and_then(|m| m.with_input_fact(0, f32::fact(&shape).into()))
            .and_then(|m| m.into_optimized())
            .and_then(|m| m.into_runnable())
            .unwrap_or_else(|e| panic!("tract cannot run {}: {e:?}", path.display()));
        Tract { shape, plan }
    }

    fn run(&self, x: &[f64]) -> Vec<f64> {
        let x32: Vec<f32> = x.iter().map(|&v| v as f32).collect();
        let input = tract_ndarray::ArrayD::from_shape_vec(self.shape.clone(), x32).expect("input shape");
        let out = self.plan.run(tvec!(Tensor::from(input).into())).expect("tract run");
        out[0]
            .to_plain_array_view::<f32>()
            .expect("f32 output")
            .iter()
            .map(|&v| f64::from(v))
            .collect()
    }
}

/// Loads, bounds and lowers `case`'s net once, then for every point fixes the inputs and
/// minimises and maximises every output (see the module comment). Returns the number of solves.
fn check(case: &Case) -> usize {
    let name = case.path.display().to_string();
    let net: Network = nnmilp::front::onnx::load(&case.path).unwrap_or_else(|e| panic!("{e}"));
    let tract = Tract::new(&case.path);
    let b = bounds::interval(&net, &case.region);
    let low = lower(
        &net,
        &b,
        LowerOptions {
            encoding: Encoding::BigM,
        },
    )
    .expect("big-M lowering");
    let ind = lower(
        &net,
        &b,
        LowerOptions {
            encoding: Encoding::Indicator,
        },
    )
    .expect("indicator lowering");
    assert!(
        low.milp.objective().terms.is_empty() && low.milp.objective().offset == 0.0,
        "{name}: the lowered model has no objective yet"
    );

    let mut h = Highs::new().expect("HiGHS");
    h.apply_options(&SolveOptions {
        threads: Some(1),
        mip_rel_gap: Some(0.0),
        ..SolveOptions::default()
    })
    .expect("options");
    h.pass_milp(&low.milp).expect("pass model");
    let mut solves = 0;
    for (what, p) in &case.points {
        assert!(case.region.contains(p), "{name} {what}: point outside the box");
        let truth = net.forward_all(p).expect("forward");
        assert!(
            b.contains(&truth, 1e-9),
            "{name} {what}: interval bounds miss the forward pass"
        );
        let y = &truth[net.output().index()];
        let scale = y.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        let t = tract.run(p);
        assert_eq!(t.len(), y.len(), "{name}: tract's output size");
        for (j, (&a, &b)) in y.iter().zip(&t).enumerate() {
            assert!(
                close(a, b, 1e-4, scale),
                "{name} {what}: y_{j} forward {a} vs tract {b}"
            );
        }
        for (m, enc) in [(&low, "big-M"), (&ind, "indicator")] {
            let x = columns_from_forward(&net, m, p);
            let v = m.milp.max_violation(&x);
            assert!(
                v <= 1e-9,
                "{name} {what}: the forward pass violates the {enc} model by {v}"
            );
        }

        for (&c, &v) in low.inputs.iter().zip(p) {
            h.change_col_bounds(c.index(), v, v).expect("fix input");
        }
        for (j, &col) in low.outputs.iter().enumerate() {
            h.change_col_cost(col.index(), 1.0).expect("cost");
            for sense in [ObjSense::Minimize, ObjSense::Maximize] {
                h.set_objective_sense(sense).expect("sense");
                h.run().expect("run");
                solves += 1;
                let sol = h.solution().expect("solution");
                assert_eq!(
                    sol.status,
                    Status::Optimal,
                    "{name} {what}: {sense:?} y_{j}: {}",
                    sol.status_text
                );
                let got = sol.objective.expect("objective");
                assert!(
                    close(got, y[j], 1e-6, scale),
                    "{name} {what}: {sense:?} y_{j} = {got}, forward pass {}",
                    y[j]
                );
                assert!(
                    close(got, t[j], 1e-4, scale),
                    "{name} {what}: {sense:?} y_{j} = {got}, tract {}",
                    t[j]
                );
                let values = sol.values.expect("values");
                assert!(
                    low.milp.max_violation(&values) <= 1e-5,
                    "{name} {what}: HiGHS's point is infeasible"
                );
            }
            h.change_col_cost(col.index(), 0.0).expect("cost");
        }
    }
    solves
}

/// Random points of the box, seeded by the file name.
fn random_points(path: &Path, region: &InputBox, n: usize) -> Vec<(String, Vec<f64>)> {
    let seed = path
        .file_name()
        .map(|s| {
            s.to_string_lossy()
                .bytes()
                .fold(7u64, |h, b| h.wrapping_mul(31) ^ u64::from(b))
        })
        .unwrap_or(0);
    let mut rng = Rng(seed);
    (0..n)
        .map(|i| (format!("random point {i}"), rng.point(region)))
        .collect()
}

/// A box of half-width `r` around a random point of `[-1, 1]^n` (the VNN-COMP nets take
/// normalised inputs).
fn box_around_random_point(path: &Path, n: usize, r: f64) -> InputBox {
    let mut rng = Rng(n as u64 ^ path.to_string_lossy().len() as u64);
    let c: Vec<f64> = (0..n).map(|_| 2.0 * rng.unit() - 1.0).collect();
    InputBox {
        lo: c.iter().map(|v| v - r).collect(),
        hi: c.iter().map(|v| v + r).collect(),
    }
}

fn mnist_case(path: PathBuf, images: &[usize], random: usize) -> Case {
    let region = InputBox::uniform(784, 0.0, 1.0);
    let mut points = random_points(&path, &region, random);
    for &i in images {
        let spec = crate::common::root()
            .join(format!("fixtures/images/mnist_test_{i}.npy"))
            .to_string_lossy()
            .into_owned();
        let img = nnmilp::data::load_image(&spec).unwrap_or_else(|e| panic!("{e}"));
        points.push((format!("image {i}"), img.pixels));
    }
    Case { path, region, points }
}

fn timed(case: &Case) {
    let start = Instant::now();
    let solves = check(case);
    eprintln!(
        "{}: {} points, {solves} solves, {:.2} s",
        case.path.display(),
        case.points.len(),
        start.elapsed().as_secs_f64()
    );
}

#[test]
fn repo_mnist_fixtures_are_exact_at_fixed_inputs() {
    for f in [
        "mnist_8x3",
        "mnist_8x3_matmul",
        "mnist_20-10-8-8",
        "mnist_20x3",
        "mnist_conv_tiny",
    ] {
        let path = crate::common::root().join(format!("fixtures/{f}.onnx"));
        timed(&mnist_case(path, &[0, 1], 2));
    }
}

#[test]
fn tiny_fixture_is_exact_at_fixed_inputs() {
    let path = crate::common::root().join("fixtures/tiny_2-3-2.onnx");
    let region = InputBox::uniform(2, 0.0, 1.0);
    let mut points = random_points(&path, &region, 4);
    // The box corners and the kinks of the hidden units (fixtures/README.md).
    for p in [[0.0, 0.0], [1.0, 1.0], [1.0, 0.0], [0.5, 0.5], [0.25, 0.75]] {
        points.push((format!("{p:?}"), p.to_vec()));
    }
    timed(&Case { path, region, points });
}

#[test]
fn vnncomp_nets_are_exact_at_fixed_inputs() {
    let dir = shared().join("fixtures/vnncomp");
    let mut nets: Vec<PathBuf> = ["test", "acasxu/onnx"]
        .iter()
        .flat_map(|sub| std::fs::read_dir(dir.join(sub)).unwrap_or_else(|e| panic!("{}: {e}", dir.join(sub).display())))
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "onnx"))
        .collect();
    nets.sort();
    assert!(
        nets.len() >= 8,
        "expected 5 test nets and 3 ACAS Xu nets, found {nets:?}"
    );
    for path in nets {
        let n = nnmilp::front::onnx::load(&path)
            .unwrap_or_else(|e| panic!("{e}"))
            .input_size();
        let region = box_around_random_point(&path, n, 0.5);
        let points = random_points(&path, &region, 3);
        timed(&Case { path, region, points });
    }
}

/// The 784-256-256-10 MNIST net of VNN-COMP: 512 ReLUs, all 20 solves at one point (an MNIST
/// test image), once.
#[test]
fn vnncomp_mnist_fc_is_exact_at_a_fixed_image() {
    let path = shared().join("fixtures/vnncomp/mnist_fc/onnx/mnist-net_256x2.onnx");
    timed(&mnist_case(path, &[0], 0));
}
