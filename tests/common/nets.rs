//! Random small networks built directly in the IR, shared by the exactness and bounds tests.

#![allow(dead_code)]

use nnmilp::bounds::{Bounds, InputBox};
use nnmilp::ir::{Handle, Layer, Network, Op, SparseMatrix};

/// splitmix64: the weights of a case follow from its seed, which proptest reports on failure.
pub struct Rng(pub u64);

impl Rng {
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in `[0, 1)`.
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
    pub fn uniform(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.unit()
    }
    /// Uniform in `lo..=hi`.
    pub fn range(&mut self, lo: usize, hi: usize) -> usize {
        lo + (self.next_u64() % (hi - lo + 1) as u64) as usize
    }
    pub fn coin(&mut self, p: f64) -> bool {
        self.unit() < p
    }
    /// A weight, exactly zero now and then so that sparsity patterns vary.
    pub fn weight(&mut self) -> f64 {
        if self.coin(0.1) {
            0.0
        } else {
            self.uniform(-1.0, 1.0)
        }
    }
}

/// Appends layers with generated names.
pub struct Builder {
    pub layers: Vec<Layer>,
}

impl Builder {
    pub fn new(n_in: usize) -> Self {
        Builder {
            layers: vec![Layer {
                name: "input".into(),
                op: Op::Input,
                shape: vec![n_in],
            }],
        }
    }
    pub fn input(&self) -> Handle {
        Handle::from_index(0)
    }
    pub fn size(&self, h: Handle) -> usize {
        self.layers[h.index()].size()
    }
    pub fn push(&mut self, op: Op, size: usize) -> Handle {
        let name = format!("{}{}", op.kind(), self.layers.len());
        self.layers.push(Layer {
            name,
            op,
            shape: vec![size],
        });
        Handle::from_index(self.layers.len() - 1)
    }
    pub fn affine(&mut self, rng: &mut Rng, input: Handle, rows: Vec<Vec<(usize, f64)>>) -> Handle {
        let n = rows.len();
        let weights = SparseMatrix::from_rows(self.size(input), rows);
        let bias = (0..n).map(|_| rng.uniform(-0.5, 0.5)).collect();
        self.push(Op::Affine { input, weights, bias }, n)
    }
    pub fn dense(&mut self, rng: &mut Rng, input: Handle, n_out: usize) -> Handle {
        let n_in = self.size(input);
        let rows = (0..n_out)
            .map(|_| (0..n_in).map(|j| (j, rng.weight())).collect())
            .collect();
        self.affine(rng, input, rows)
    }
    /// A 1-D convolution without padding over `input` laid out channel-major (`[c_in][len]`).
    pub fn conv(
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
    pub fn diagonal(&mut self, rng: &mut Rng, input: Handle) -> Handle {
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
    pub fn relu(&mut self, input: Handle) -> Handle {
        let n = self.size(input);
        self.push(Op::Relu { input }, n)
    }
    /// Windows of 1-4 inputs: runs of neighbours (overlapping) or scattered picks.
    pub fn maxpool(&mut self, rng: &mut Rng, input: Handle) -> Handle {
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
    pub fn sum(&mut self, inputs: Vec<Handle>) -> Handle {
        let n = self.size(inputs[0]);
        self.push(Op::Sum { inputs }, n)
    }
    pub fn finish(self, output: Handle) -> Network {
        Network::new(self.layers, output).expect("generated network is valid")
    }
}

/// The network families of the exactness properties.
#[derive(Clone, Copy, Debug)]
pub enum Family {
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

impl Family {
    pub const ALL: [Family; 7] = [
        Family::Mlp,
        Family::Conv,
        Family::Pool,
        Family::Residual,
        Family::BatchNorm,
        Family::InputRelu,
        Family::Mixed,
    ];
}

/// Fails unless every unit's bounds in `strong` lie inside `weak`'s (up to `tol`).
pub fn assert_nested(net: &Network, weak: &Bounds, strong: &Bounds, tol: f64, what: &str) {
    for h in net.handles() {
        let ((wl, wh), (sl, sh)) = (weak.layer(h), strong.layer(h));
        for j in 0..wl.len() {
            assert!(
                wl[j] <= sl[j] + tol && sh[j] <= wh[j] + tol,
                "{what} layer {} unit {j}: {} [{}, {}] not inside {} [{}, {}]",
                h.index(),
                strong.method.name(),
                sl[j],
                sh[j],
                weak.method.name(),
                wl[j],
                wh[j]
            );
        }
    }
}

pub fn random_box(rng: &mut Rng, n: usize) -> InputBox {
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
pub fn random_block(rng: &mut Rng, b: &mut Builder, x: Handle) -> Handle {
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

pub fn build(family: Family, seed: u64) -> (Network, InputBox) {
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

pub fn point_in(rng: &mut Rng, region: &InputBox) -> Vec<f64> {
    region
        .lo
        .iter()
        .zip(&region.hi)
        .map(|(&l, &h)| rng.uniform(l, h))
        .collect()
}
