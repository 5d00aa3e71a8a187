//! The core claim of nnmilp: over the input box, the lowered MILP's feasible set is exactly the
//! graph of the network. Checked on random small networks built directly in the IR:
//!
//! - with the inputs fixed to a point, minimising and maximising each output with HiGHS both
//!   give the forward pass (so the feasible output is unique and correct), and every hidden
//!   value HiGHS finds is the forward pass's;
//! - the point built from the forward pass (x = max(pre, 0), s = max(-pre, 0), z = [pre <= 0],
//!   pool binaries at the argmax) satisfies the big-M, indicator and combined models;
//! - interval bounds contain every sampled forward pass.

use nnmilp::bounds::{interval, Bounds, InputBox};
use nnmilp::ir::{Handle, Layer, Network, Op, SparseMatrix};
use nnmilp::lower::{layer_labels, lower, Encoding, LowerOptions, Lowered};
use nnmilp::milp::{LinExpr, ObjSense};
use nnmilp::solve::{solve, SolveOptions, Status};
use proptest::prelude::*;
use std::collections::BTreeMap;

/// splitmix64: the weights of a case follow from its seed, which proptest reports on failure.
struct Rng(u64);

impl Rng {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in `[0, 1)`.
    fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
    fn uniform(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.unit()
    }
    /// Uniform in `lo..=hi`.
    fn range(&mut self, lo: usize, hi: usize) -> usize {
        lo + (self.next_u64() % (hi - lo + 1) as u64) as usize
    }
    fn coin(&mut self, p: f64) -> bool {
        self.unit() < p
    }
    /// A weight, exactly zero now and then so that sparsity patterns vary.
    fn weight(&mut self) -> f64 {
        if self.coin(0.1) {
            0.0
        } else {
            self.uniform(-1.0, 1.0)
        }
    }
}

/// Appends layers with generated names.
struct Builder {
    layers: Vec<Layer>,
}

impl Builder {
    fn new(n_in: usize) -> Self {
        Builder {
            layers: vec![Layer {
                name: "input".into(),
                op: Op::Input,
                shape: vec![n_in],
            }],
        }
    }
    fn input(&self) -> Handle {
        Handle::from_index(0)
    }
    fn size(&self, h: Handle) -> usize {
        self.layers[h.index()].size()
    }
    fn push(&mut self, op: Op, size: usize) -> Handle {
        let name = format!("{}{}", op.kind(), self.layers.len());
        self.layers.push(Layer {
            name,
            op,
            shape: vec![size],
        });
        Handle::from_index(self.layers.len() - 1)
    }
    fn affine(&mut self, rng: &mut Rng, input: Handle, rows: Vec<Vec<(usize, f64)>>) -> Handle {
        let n = rows.len();
        let weights = SparseMatrix::from_rows(self.size(input), rows);
        let bias = (0..n).map(|_| rng.uniform(-0.5, 0.5)).collect();
        self.push(Op::Affine { input, weights, bias }, n)
    }
    fn dense(&mut self, rng: &mut Rng, input: Handle, n_out: usize) -> Handle {
        let n_in = self.size(input);
        let rows = (0..n_out)
            .map(|_| (0..n_in).map(|j| (j, rng.weight())).collect())
            .collect();
        self.affine(rng, input, rows)
    }
    /// A 1-D convolution without padding over `input` laid out channel-major (`[c_in][len]`).
    fn conv(
        &mut self,
        rng: &mut Rng,
        input: Handle,
        c_in: usize,
        c_out: usize,
        kernel: usize,
        stride: usize,
    ) -> Handle {
        let len = self.size(input) / c_in;
        let out_len = (len - kernel) / stride + 1;
        let kernels: Vec<Vec<f64>> = (0..c_out)
            .map(|_| (0..c_in * kernel).map(|_| rng.weight()).collect())
            .collect();
        let mut rows = Vec::new();
        for k in &kernels {
            for p in 0..out_len {
                let mut row = Vec::new();
                for ci in 0..c_in {
                    for t in 0..kernel {
                        row.push((ci * len + p * stride + t, k[ci * kernel + t]));
                    }
                }
                rows.push(row);
            }
        }
        self.affine(rng, input, rows)
    }
    /// `scale * x + shift` per unit, as a folded batch norm; scales of either sign.
    fn diagonal(&mut self, rng: &mut Rng, input: Handle) -> Handle {
        let n = self.size(input);
        let d: Vec<f64> = (0..n)
            .map(|_| {
                let s = rng.uniform(0.3, 1.7);
                if rng.coin(0.2) {
                    -s
                } else {
                    s
                }
            })
            .collect();
        let weights = SparseMatrix::diagonal(&d);
        let bias = (0..n).map(|_| rng.uniform(-0.5, 0.5)).collect();
        self.push(Op::Affine { input, weights, bias }, n)
    }
    fn relu(&mut self, input: Handle) -> Handle {
        let n = self.size(input);
        self.push(Op::Relu { input }, n)
    }
    /// Windows of 1-4 inputs: runs of neighbours (overlapping) or scattered picks.
    fn maxpool(&mut self, rng: &mut Rng, input: Handle) -> Handle {
        let n = self.size(input);
        let n_out = rng.range(1, n.clamp(1, 6));
        let windows: Vec<Vec<u32>> = (0..n_out)
            .map(|_| {
                let w = rng.range(1, 4.min(n));
                if rng.coin(0.6) {
                    let start = rng.range(0, n - w);
                    (start..start + w).map(|k| k as u32).collect()
                } else {
                    let mut picks: Vec<u32> = Vec::new();
                    while picks.len() < w {
                        let k = rng.range(0, n - 1) as u32;
                        if !picks.contains(&k) {
                            picks.push(k);
                        }
                    }
                    picks
                }
            })
            .collect();
        self.push(Op::MaxPool { input, windows }, n_out)
    }
    fn sum(&mut self, inputs: Vec<Handle>) -> Handle {
        let n = self.size(inputs[0]);
        self.push(Op::Sum { inputs }, n)
    }
    fn finish(self, output: Handle) -> Network {
        Network::new(self.layers, output).expect("generated network is valid")
    }
}

/// The network families of the exactness properties.
#[derive(Clone, Copy, Debug)]
enum Family {
    /// 3-8 inputs, 1-3 hidden ReLU layers of 2-8 units.
    Mlp,
    /// Sparse convolution layers (1-2 channels, kernel 2-3, stride 1-2).
    Conv,
    /// Max-pooling over ReLU outputs or directly over affine values.
    Pool,
    /// `Op::Sum` residual joins.
    Residual,
    /// Diagonal affine maps around ReLUs.
    BatchNorm,
    /// ReLU straight on the input.
    InputRelu,
    /// Random stacks of all of the above; the output may be a nonlinear layer.
    Mixed,
}

fn random_box(rng: &mut Rng, n: usize) -> InputBox {
    let mut lo = Vec::with_capacity(n);
    let mut hi = Vec::with_capacity(n);
    for _ in 0..n {
        let l = rng.uniform(-1.5, 0.5);
        // Now and then a degenerate interval: a fixed input.
        let h = if rng.coin(0.05) { l } else { l + rng.uniform(0.1, 2.0) };
        lo.push(l);
        hi.push(h);
    }
    InputBox { lo, hi }
}

/// One hidden block of the mixed family.
fn random_block(rng: &mut Rng, b: &mut Builder, x: Handle) -> Handle {
    match rng.range(0, 5) {
        0 => {
            let n = rng.range(2, 6);
            let a = b.dense(rng, x, n);
            b.relu(a)
        }
        1 if b.size(x) >= 3 => {
            let n = rng.range(1, 2);
            let a = b.conv(rng, x, 1, n, 2, 1);
            b.relu(a)
        }
        2 => {
            let p = b.maxpool(rng, x);
            if rng.coin(0.5) {
                p
            } else {
                let n = rng.range(2, 4);
                let a = b.dense(rng, p, n);
                b.relu(a)
            }
        }
        3 => {
            let n = b.size(x);
            let a = b.dense(rng, x, n);
            let h = b.relu(a);
            let r = b.dense(rng, h, n);
            let s = b.sum(vec![x, r]);
            b.relu(s)
        }
        4 => {
            let d = b.diagonal(rng, x);
            b.relu(d)
        }
        _ => {
            let n = rng.range(2, 5);
            let a = b.dense(rng, x, n);
            b.maxpool(rng, a)
        }
    }
}

fn build(family: Family, seed: u64) -> (Network, InputBox) {
    let mut rng = Rng(seed);
    let n_in = match family {
        Family::Conv => rng.range(6, 10),
        _ => rng.range(3, 8),
    };
    let mut b = Builder::new(n_in);
    let x = b.input();
    let mut output_is_hidden = false;
    let h = match family {
        Family::Mlp => {
            let mut h = x;
            for _ in 0..rng.range(1, 3) {
                let n = rng.range(2, 8);
                let a = b.dense(&mut rng, h, n);
                h = b.relu(a);
            }
            h
        }
        Family::Conv => {
            let (c1, k1, s1) = (rng.range(1, 2), rng.range(2, 3), rng.range(1, 2));
            let a = b.conv(&mut rng, x, 1, c1, k1, s1);
            let mut h = b.relu(a);
            if b.size(h) / c1 >= 3 && rng.coin(0.5) {
                let n = rng.range(1, 2);
                let a = b.conv(&mut rng, h, c1, n, 2, 1);
                h = b.relu(a);
            }
            h
        }
        Family::Pool => {
            let n = rng.range(3, 8);
            let a = b.dense(&mut rng, x, n);
            let h = if rng.coin(0.5) { b.relu(a) } else { a };
            let p = b.maxpool(&mut rng, h);
            if rng.coin(0.3) {
                // A second pool over the first (max of maxes).
                b.maxpool(&mut rng, p)
            } else {
                p
            }
        }
        Family::Residual => {
            let n = rng.range(2, 6);
            let a = b.dense(&mut rng, x, n);
            let h1 = b.relu(a);
            let a2 = b.dense(&mut rng, h1, n);
            let h2 = b.relu(a2);
            let r = b.dense(&mut rng, h2, n);
            let joins = if rng.coin(0.3) { vec![h1, r, a] } else { vec![h1, r] };
            let s = b.sum(joins);
            b.relu(s)
        }
        Family::BatchNorm => {
            let n = rng.range(2, 6);
            let a = b.dense(&mut rng, x, n);
            let d = b.diagonal(&mut rng, a);
            let h = b.relu(d);
            let d2 = b.diagonal(&mut rng, h);
            b.relu(d2)
        }
        Family::InputRelu => {
            let h = b.relu(x);
            if rng.coin(0.5) {
                let n = rng.range(2, 5);
                let a = b.dense(&mut rng, h, n);
                b.relu(a)
            } else {
                h
            }
        }
        Family::Mixed => {
            let mut h = x;
            if rng.coin(0.2) {
                h = b.relu(h);
            }
            for _ in 0..rng.range(1, 3) {
                h = random_block(&mut rng, &mut b, h);
            }
            output_is_hidden = rng.coin(0.3);
            h
        }
    };
    let out = if output_is_hidden {
        h
    } else {
        let n_out = rng.range(1, 3);
        b.dense(&mut rng, h, n_out)
    };
    let region = random_box(&mut rng, n_in);
    (b.finish(out), region)
}

fn point_in(rng: &mut Rng, region: &InputBox) -> Vec<f64> {
    region
        .lo
        .iter()
        .zip(&region.hi)
        .map(|(&l, &h)| rng.uniform(l, h))
        .collect()
}

fn close(a: f64, b: f64, tol: f64) -> bool {
    (a - b).abs() <= tol * (1.0 + a.abs().max(b.abs()))
}

fn lowered(net: &Network, bounds: &Bounds, encoding: Encoding) -> Lowered {
    lower(net, bounds, LowerOptions { encoding }).expect("finite interval bounds over a finite box")
}

/// Fixes the inputs to a point of the box, then minimises and maximises every output with HiGHS:
/// both must be the forward pass, and so must every layer value of the solutions.
fn check_bigm_exact(net: &Network, region: &InputBox, seed: u64) -> Result<(), TestCaseError> {
    let bounds = interval(net, region);
    let low = lowered(net, &bounds, Encoding::BigM);
    let mut rng = Rng(seed ^ 0xA5A5_A5A5);
    let input = point_in(&mut rng, region);
    let truth = net.forward_all(&input).unwrap();
    let out = &truth[net.output().index()];
    let mut milp = low.milp.clone();
    for (&c, &v) in low.inputs.iter().zip(&input) {
        milp.set_col_bounds(c, v, v);
    }
    let labels = layer_labels(net);
    let opts = SolveOptions {
        threads: Some(1),
        ..SolveOptions::default()
    };
    for (j, &y) in low.outputs.iter().enumerate() {
        for sense in [ObjSense::Minimize, ObjSense::Maximize] {
            milp.set_objective(sense, LinExpr::var(y));
            let sol = solve(&milp, &opts).map_err(|e| TestCaseError::fail(e.to_string()))?;
            prop_assert_eq!(sol.status, Status::Optimal, "{:?} y_{}: {}", sense, j, sol.status_text);
            let got = sol.objective.unwrap();
            prop_assert!(
                close(got, out[j], 1e-6),
                "{:?} y_{} = {} but the network gives {} at {:?}",
                sense,
                j,
                got,
                out[j],
                input
            );
            let x = sol.values.unwrap();
            prop_assert!(milp.max_violation(&x) <= 1e-6);
            // Every layer's value, read back through the lowering's expressions.
            for h in net.handles() {
                for (k, e) in low.values[h.index()].iter().enumerate() {
                    let v = e.eval(&x);
                    let want = truth[h.index()][k];
                    prop_assert!(
                        close(v, want, 1e-6),
                        "layer {} unit {}: MILP {} vs network {}",
                        h.index(),
                        k,
                        v,
                        want
                    );
                }
            }
            // And the unstable ReLUs by their column names.
            for h in net.handles() {
                if let Op::Relu { input: pre } = net.layer(h).op {
                    let (lo, hi) = bounds.layer(pre);
                    for k in 0..net.layer(h).size() {
                        if lo[k] < 0.0 && hi[k] > 0.0 {
                            let name = format!("x_{}_{k}", labels[h.index()]);
                            let c = milp.cols().iter().position(|c| c.name == name);
                            prop_assert!(c.is_some(), "no column {}", name);
                            let v = x[c.unwrap()];
                            let want = truth[h.index()][k];
                            prop_assert!(close(v, want, 1e-6), "{} = {} vs network {}", name, v, want);
                        }
                    }
                }
            }
        }
    }
    Ok(())
}

/// The values of every column at the forward pass of `input`, from the column names.
pub(crate) fn columns_from_forward(net: &Network, low: &Lowered, input: &[f64]) -> Vec<f64> {
    let truth = net.forward_all(input).unwrap();
    let labels = layer_labels(net);
    let by_label: BTreeMap<&str, Handle> = net.handles().map(|h| (labels[h.index()].as_str(), h)).collect();
    let layer = |label: &str| *by_label.get(label).unwrap_or_else(|| panic!("no layer {label}"));
    let pre_of = |h: Handle, k: usize| match net.layer(h).op {
        Op::Relu { input } => truth[input.index()][k],
        ref op => panic!("{} is not a ReLU", op.kind()),
    };
    let num = |s: &str| s.parse::<usize>().unwrap();
    low.milp
        .cols()
        .iter()
        .map(|c| {
            let parts: Vec<&str> = c.name.split('_').collect();
            match parts.as_slice() {
                ["in", j] => input[num(j)],
                ["y", j] => truth[net.output().index()][num(j)],
                ["x", l, j] | ["m", l, j] | ["a", l, j] => truth[layer(l).index()][num(j)],
                ["s", l, j] => (-pre_of(layer(l), num(j))).max(0.0),
                ["z", l, j] => f64::from(u8::from(pre_of(layer(l), num(j)) <= 0.0)),
                ["zp", l, j, i] => {
                    let h = layer(l);
                    let Op::MaxPool { input: src, windows } = &net.layer(h).op else {
                        panic!("{l} is not a max-pool");
                    };
                    let w = &windows[num(j)];
                    let vals: Vec<f64> = w.iter().map(|&k| truth[src.index()][k as usize]).collect();
                    let first_max = (0..vals.len()).find(|&p| vals[p] == truth[h.index()][num(j)]).unwrap();
                    f64::from(u8::from(num(i) == first_max))
                }
                _ => panic!("unexpected column name {}", c.name),
            }
        })
        .collect()
}

/// The forward pass, written as a MILP point, satisfies the model of every encoding (so no
/// encoding cuts off the true behaviour), and agrees with the lowering's value expressions.
fn check_forward_point_feasible(net: &Network, region: &InputBox, seed: u64) -> Result<(), TestCaseError> {
    let bounds = interval(net, region);
    let mut rng = Rng(seed ^ 0x5A5A_5A5A);
    for encoding in [Encoding::BigM, Encoding::Indicator, Encoding::Both] {
        let low = lowered(net, &bounds, encoding);
        if encoding == Encoding::Indicator {
            prop_assert!(low.milp.indicators().len() >= low.stats.relu_unstable * 2);
        }
        for _ in 0..4 {
            let input = point_in(&mut rng, region);
            let x = columns_from_forward(net, &low, &input);
            let viol = low.milp.max_violation(&x);
            prop_assert!(viol <= 1e-9, "{:?}: violation {} at {:?}", encoding, viol, input);
            let truth = net.forward_all(&input).unwrap();
            for h in net.handles() {
                for (k, e) in low.values[h.index()].iter().enumerate() {
                    prop_assert!(close(e.eval(&x), truth[h.index()][k], 1e-9));
                }
            }
        }
    }
    Ok(())
}

fn family() -> impl Strategy<Value = Family> {
    prop_oneof![
        Just(Family::Mlp),
        Just(Family::Conv),
        Just(Family::Pool),
        Just(Family::Residual),
        Just(Family::BatchNorm),
        Just(Family::InputRelu),
        Just(Family::Mixed),
    ]
}

macro_rules! exact_family {
    ($name:ident, $family:expr) => {
        proptest! {
            #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]
            #[test]
            fn $name(seed in any::<u64>()) {
                let (net, region) = build($family, seed);
                check_bigm_exact(&net, &region, seed)?;
            }
        }
    };
}

exact_family!(bigm_exact_dense_mlp, Family::Mlp);
exact_family!(bigm_exact_conv, Family::Conv);
exact_family!(bigm_exact_maxpool, Family::Pool);
exact_family!(bigm_exact_residual_sum, Family::Residual);
exact_family!(bigm_exact_batchnorm_diagonal, Family::BatchNorm);
exact_family!(bigm_exact_relu_on_input, Family::InputRelu);
exact_family!(bigm_exact_mixed, Family::Mixed);

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn forward_point_satisfies_every_encoding(fam in family(), seed in any::<u64>()) {
        let (net, region) = build(fam, seed);
        check_forward_point_feasible(&net, &region, seed)?;
    }

    #[test]
    fn interval_bounds_contain_sampled_forward_passes(fam in family(), seed in any::<u64>()) {
        let (net, region) = build(fam, seed);
        let bounds = interval(&net, &region);
        let mut rng = Rng(seed ^ 0x0F0F_0F0F);
        for _ in 0..200 {
            let input = point_in(&mut rng, &region);
            let values = net.forward_all(&input).unwrap();
            prop_assert!(bounds.contains(&values, 1e-9), "input {:?}", input);
        }
    }
}

/// The generators cover what the properties claim to cover (unstable ReLUs, stable ones, pool
/// binaries, sums), so a property cannot pass by never meeting the hard case.
#[test]
fn generated_networks_exercise_every_construct() {
    let mut totals = [0usize; 5];
    for seed in 0..200u64 {
        for fam in [
            Family::Mlp,
            Family::Conv,
            Family::Pool,
            Family::Residual,
            Family::BatchNorm,
            Family::InputRelu,
            Family::Mixed,
        ] {
            let (net, region) = build(fam, seed);
            let low = lowered(&net, &interval(&net, &region), Encoding::BigM);
            totals[0] += low.stats.relu_unstable;
            totals[1] += low.stats.relu_stable_active;
            totals[2] += low.stats.relu_stable_inactive;
            totals[3] += low.stats.pool_binaries;
            totals[4] += net.layers().iter().filter(|l| matches!(l.op, Op::Sum { .. })).count();
        }
    }
    assert!(
        totals[..4].iter().all(|&t| t > 1000) && totals[4] > 100,
        "unstable, active, inactive, pool binaries, sums: {totals:?}"
    );
}
