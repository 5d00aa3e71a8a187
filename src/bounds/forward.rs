//! Forward linear bounds ("symbolic intervals", as in ReluVal and Neurify): every unit carries a
//! lower and an upper affine function of the *input*, valid over the box, pushed forward layer
//! by layer.
//!
//! Why a second symbolic method: back-substitution ([`super::symbolic`]) re-walks every earlier
//! layer for every unit, `k²n³/2` multiply-adds, which is what input splitting pays per box (on
//! ACAS Xu, 300 ReLUs, about 11 ms of its ~15 ms per box). Here one layer costs
//! `n_out · n_in · (d + 1)` for `d` inputs, so with ACAS Xu's 5 inputs a box costs about 0.1 ms.
//! The functions are looser than back-substitution's (each ReLU is relaxed on the ranges of its
//! input's two functions, not on one function per query), so [`forward_then_rows`] follows with
//! one back-substitution per unit of the last layer only (the property's rows: a handful), over
//! the relaxations these bounds give: the rows get CROWN's correlations at the cost of a few
//! units.
//!
//! Relaxation of an unstable ReLU `z ∈ [l, u]` whose input has the functions `L <= z <= U`:
//! above, `relu(z) <= relu(U(x))`, which lies below the chord of `relu` over `[min U, u]`; below,
//! `relu(z) >= α z >= α L(x)` for any `α ∈ [0, 1]` (here `α = 1` when `u > -l`, else `0`, as in
//! [`super::symbolic`]), and `0` when `max L <= 0`. Max-pool outputs are bounded below by the
//! input with the largest lower bound and above by that input's function when it dominates the
//! window, else by the constant upper bound.
//!
//! Rounding: each new function's constant is moved outwards by `ROUNDING_MARGIN` relative to the
//! magnitudes summed into it, and so is each concretised bound; every layer is also intersected
//! with its interval bounds from the layers before it, so the result is never looser than
//! interval arithmetic.

use super::{refresh_layer, Bounds, InputBox, Method, Region};
use crate::ir::{Network, Op};

/// Relative safety margin on every function constant and concretised bound (as in
/// [`super::symbolic`]: far above the `n·ε` rounding of the sums it covers).
const ROUNDING_MARGIN: f64 = 1e-10;

/// The affine functions of one layer: unit `j`'s coefficients at `j·(d+1) .. j·(d+1)+d`, then
/// its constant.
struct Funcs {
    lo: Vec<f64>,
    hi: Vec<f64>,
}

/// The box's data for evaluating functions: its ends and `max |x_i|`.
struct Box<'a> {
    lo: &'a [f64],
    hi: &'a [f64],
    reach: Vec<f64>,
}

impl Box<'_> {
    /// `(min over the box, magnitude)` of `a·x + a_d`, the magnitude bounding every term's size.
    fn min(&self, f: &[f64]) -> (f64, f64) {
        let d = self.lo.len();
        let mut v = f[d];
        for i in 0..d {
            let a = f[i];
            if a > 0.0 {
                v += a * self.lo[i];
            } else if a < 0.0 {
                v += a * self.hi[i];
            }
        }
        (v, self.size(f))
    }

    fn max(&self, f: &[f64]) -> (f64, f64) {
        let d = self.lo.len();
        let mut v = f[d];
        for i in 0..d {
            let a = f[i];
            if a > 0.0 {
                v += a * self.hi[i];
            } else if a < 0.0 {
                v += a * self.lo[i];
            }
        }
        (v, self.size(f))
    }

    /// An upper bound of `|a_i x_i|` summed, plus `|a_d|`, over the box.
    fn size(&self, f: &[f64]) -> f64 {
        let d = self.lo.len();
        f[..d].iter().zip(&self.reach).map(|(a, r)| a.abs() * r).sum::<f64>() + f[d].abs()
    }
}

/// Forward linear bounds of every layer over a finite box (`None` when an end is infinite:
/// the functions would carry infinities, and [`super::symbolic`] handles that case).
pub fn forward(net: &Network, input_box: &InputBox) -> Option<Bounds> {
    forward_with(net, input_box, false)
}

/// [`forward`], where every unit a ReLU reads that its forward bounds leave unstable is also
/// bounded by back-substitution ([`super::symbolic`]) before the next layer is pushed: only the
/// unstable units' bounds shape later relaxations, and over the small boxes of a split few are
/// unstable, so this buys most of back-substitution's tightness at a fraction of its cost.
pub fn forward_refined(net: &Network, input_box: &InputBox) -> Option<Bounds> {
    forward_with(net, input_box, true)
}

fn forward_with(net: &Network, input_box: &InputBox, refine: bool) -> Option<Bounds> {
    if input_box.lo.iter().chain(&input_box.hi).any(|v| !v.is_finite()) {
        return None;
    }
    let d = input_box.lo.len();
    let w = d + 1;
    let bx = Box {
        lo: &input_box.lo,
        hi: &input_box.hi,
        reach: input_box
            .lo
            .iter()
            .zip(&input_box.hi)
            .map(|(l, h)| l.abs().max(h.abs()))
            .collect(),
    };
    let n_layers = net.layers().len();
    let mut bounds = Bounds {
        lo: vec![Vec::new(); n_layers],
        hi: vec![Vec::new(); n_layers],
        method: Method::Symbolic,
    };
    bounds.lo[0] = input_box.lo.clone();
    bounds.hi[0] = input_box.hi.clone();
    let mut funcs: Vec<Funcs> = Vec::with_capacity(n_layers);
    let mut identity = vec![0.0; d * w];
    for i in 0..d {
        identity[i * w + i] = 1.0;
    }
    funcs.push(Funcs {
        lo: identity.clone(),
        hi: identity,
    });
    let region = Region::from(input_box.clone());
    // Back-substitution's relaxation of every layer so far (only kept when refining).
    let mut relax: Vec<Option<super::symbolic::Relax>> = vec![None];
    for h in net.handles().skip(1) {
        let layer = net.layer(h);
        let n = layer.size();
        let mut lo = vec![0.0; n * w];
        let mut hi = vec![0.0; n * w];
        // The magnitude each new function's rounding can reach, per unit.
        let mut mag = vec![0.0; n];
        // Interval bounds from the (already tightened) layers before.
        bounds.lo[h.index()] = vec![f64::NEG_INFINITY; n];
        bounds.hi[h.index()] = vec![f64::INFINITY; n];
        refresh_layer(net, &mut bounds, h);
        match &layer.op {
            Op::Input => unreachable!("the input is layer 0"),
            Op::Affine { input, weights, bias } => {
                let src = &funcs[input.index()];
                // Per input unit, the larger size of its two functions (for the margins).
                let sizes: Vec<f64> = (0..src.lo.len() / w)
                    .map(|k| {
                        bx.size(&src.lo[k * w..(k + 1) * w])
                            .max(bx.size(&src.hi[k * w..(k + 1) * w]))
                    })
                    .collect();
                for j in 0..n {
                    let (l, u) = (&mut lo[j * w..(j + 1) * w], &mut hi[j * w..(j + 1) * w]);
                    l[d] = bias[j];
                    u[d] = bias[j];
                    let mut m = bias[j].abs();
                    for (k, wk) in weights.row(j) {
                        let (pos, neg) = (&src.lo[k * w..(k + 1) * w], &src.hi[k * w..(k + 1) * w]);
                        let (for_lo, for_hi) = if wk > 0.0 { (pos, neg) } else { (neg, pos) };
                        for t in 0..w {
                            l[t] += wk * for_lo[t];
                            u[t] += wk * for_hi[t];
                        }
                        m += wk.abs() * sizes[k];
                    }
                    mag[j] = m;
                }
            }
            Op::Sum { inputs } => {
                for input in inputs {
                    let src = &funcs[input.index()];
                    for j in 0..n {
                        for t in 0..w {
                            lo[j * w + t] += src.lo[j * w + t];
                            hi[j * w + t] += src.hi[j * w + t];
                        }
                        mag[j] += bx
                            .size(&src.lo[j * w..(j + 1) * w])
                            .max(bx.size(&src.hi[j * w..(j + 1) * w]));
                    }
                }
            }
            Op::Relu { input } => {
                let src = &funcs[input.index()];
                let (pl, pu) = bounds.layer(*input);
                for j in 0..n {
                    let (l, u) = (pl[j], pu[j]);
                    let (fl, fu) = (&src.lo[j * w..(j + 1) * w], &src.hi[j * w..(j + 1) * w]);
                    if u <= 0.0 {
                        continue; // both functions 0
                    }
                    if l >= 0.0 {
                        lo[j * w..(j + 1) * w].copy_from_slice(fl);
                        hi[j * w..(j + 1) * w].copy_from_slice(fu);
                        continue;
                    }
                    // Upper: the chord of relu over [min U, u], or U itself when min U >= 0.
                    let (min_u, size_u) = bx.min(fu);
                    let min_u = min_u - ROUNDING_MARGIN * (1.0 + size_u);
                    if min_u >= 0.0 {
                        hi[j * w..(j + 1) * w].copy_from_slice(fu);
                    } else {
                        let s = u / (u - min_u);
                        for t in 0..w {
                            hi[j * w + t] = s * fu[t];
                        }
                        hi[j * w + d] -= s * min_u;
                        mag[j] = mag[j].max(s * size_u + (s * min_u).abs());
                    }
                    // Lower: α·L, or 0 when L never exceeds 0.
                    let (max_l, size_l) = bx.max(fl);
                    let max_l = max_l + ROUNDING_MARGIN * (1.0 + size_l);
                    if max_l > 0.0 && u > -l {
                        lo[j * w..(j + 1) * w].copy_from_slice(fl);
                    }
                }
            }
            Op::MaxPool { input, windows } => {
                let src = &funcs[input.index()];
                let (pl, pu) = bounds.layer(*input);
                for (j, win) in windows.iter().enumerate() {
                    let best = win
                        .iter()
                        .map(|&k| k as usize)
                        .fold(win[0] as usize, |b, k| if pl[k] > pl[b] { k } else { b });
                    lo[j * w..(j + 1) * w].copy_from_slice(&src.lo[best * w..(best + 1) * w]);
                    let others_hi = win
                        .iter()
                        .map(|&k| k as usize)
                        .filter(|&k| k != best)
                        .fold(f64::NEG_INFINITY, |m, k| m.max(pu[k]));
                    if pl[best] >= others_hi {
                        hi[j * w..(j + 1) * w].copy_from_slice(&src.hi[best * w..(best + 1) * w]);
                    } else {
                        hi[j * w + d] = win.iter().fold(f64::NEG_INFINITY, |m, &k| m.max(pu[k as usize]));
                    }
                }
            }
        }
        let i = h.index();
        for j in 0..n {
            let shift = ROUNDING_MARGIN * (1.0 + mag[j]);
            lo[j * w + d] -= shift;
            hi[j * w + d] += shift;
            let (a, sa) = bx.min(&lo[j * w..(j + 1) * w]);
            let (b, sb) = bx.max(&hi[j * w..(j + 1) * w]);
            bounds.lo[i][j] = bounds.lo[i][j].max(a - ROUNDING_MARGIN * (1.0 + sa));
            bounds.hi[i][j] = bounds.hi[i][j].min(b + ROUNDING_MARGIN * (1.0 + sb));
        }
        if refine && matches!(layer.op, Op::Affine { .. } | Op::Sum { .. }) {
            let feeds_relu = net
                .info()
                .consumers(h)
                .iter()
                .any(|c| matches!(net.layer(*c).op, Op::Relu { .. }));
            if feeds_relu {
                for j in 0..n {
                    if bounds.lo[i][j] < 0.0 && bounds.hi[i][j] > 0.0 {
                        let mut c = vec![0.0; n];
                        c[j] = 1.0;
                        let l = super::symbolic::lower_bound(net, &region, &relax, h, c.clone());
                        c[j] = -1.0;
                        let u = -super::symbolic::lower_bound(net, &region, &relax, h, c);
                        bounds.lo[i][j] = bounds.lo[i][j].max(l);
                        bounds.hi[i][j] = bounds.hi[i][j].min(u);
                    }
                }
            }
        }
        if refine {
            relax.push(super::symbolic::relax_layer(net, &bounds, h));
        }
        funcs.push(Funcs { lo, hi });
    }
    Some(bounds)
}

/// [`forward`] (refined when `refine`), then the units of the network's output layer, when it
/// is linear, re-bounded by back-substitution
/// over the relaxations those bounds give (and intersected). Falls back to the full
/// back-substitution ([`super::symbolic`]) when the box is not finite.
pub fn forward_then_rows(net: &Network, input_box: &InputBox, refine: bool) -> Bounds {
    let Some(mut b) = forward_with(net, input_box, refine) else {
        return super::symbolic(net, input_box);
    };
    // A nonlinear output (ReLU, max-pool) keeps its forward bounds: back-substitution starts at
    // a linear layer.
    if matches!(net.layer(net.output()).op, Op::Affine { .. } | Op::Sum { .. }) {
        let region = Region::from(input_box.clone());
        super::symbolic::tighten_layer(net, &region, &mut b, net.output());
    }
    b
}
