//! Interval arithmetic: the cheapest sound bounds, and the start of every stronger method.

use super::{Bounds, InputBox, Method, Region};
use crate::ir::{Handle, Network, Op};
use rayon::prelude::*;

/// Propagates the box through every layer. An affine row's lower bound takes each weight's
/// worse end (`w > 0` → input lower bound, `w < 0` → upper), which is exact for one layer and
/// loose across layers because correlations are forgotten.
pub fn interval(net: &Network, region: &InputBox) -> Bounds {
    interval_in(net, &Region::from(region.clone()))
}

/// [`interval`] over a region that may have an L1 ball: affine layers reading the input take
/// the exact range of each row over box ∩ ball ([`Region::min_linear`]), the rest as usual.
pub fn interval_in(net: &Network, region: &Region) -> Bounds {
    let mut lo: Vec<Vec<f64>> = Vec::with_capacity(net.layers().len());
    let mut hi: Vec<Vec<f64>> = Vec::with_capacity(net.layers().len());
    lo.push(region.input_box.lo.clone());
    hi.push(region.input_box.hi.clone());
    for h in net.handles().skip(1) {
        let (l, u) = match (&net.layer(h).op, &region.l1) {
            (Op::Affine { input, weights, bias }, Some(_)) if *input == net.input() => (0..bias.len())
                .map(|i| {
                    let (min, m1) = region.min_linear(weights.row(i));
                    let (neg_max, m2) = region.min_linear(weights.row(i).map(|(j, w)| (j, -w)));
                    let margin = ROUNDING_MARGIN * (1.0 + m1.max(m2));
                    (bias[i] + min - margin, bias[i] - neg_max + margin)
                })
                .unzip(),
            _ => layer(net, &lo, &hi, h),
        };
        lo.push(l);
        hi.push(u);
    }
    Bounds {
        lo,
        hi,
        method: Method::Interval,
    }
}

/// Relative safety margin on the knapsack optima, against rounding in their sums.
pub(super) const ROUNDING_MARGIN: f64 = 1e-10;

/// Interval bounds of layer `h` from the bounds `lo`, `hi` of the layers before it (the input
/// layer keeps `lo[0]`, `hi[0]`).
pub(super) fn layer(net: &Network, lo: &[Vec<f64>], hi: &[Vec<f64>], h: Handle) -> (Vec<f64>, Vec<f64>) {
    let layer = net.layer(h);
    match &layer.op {
        Op::Input => (lo[0].clone(), hi[0].clone()),
        Op::Affine { input, weights, bias } => {
            // Each input's bounds side by side, so that the side a weight takes is an index (its
            // sign), not a branch: weight signs are random, and a mispredicted branch per weight
            // was most of the cost (the compiler made `if w > 0.0 { .. } else { .. }` a branch:
            // 784-1024³-10's interval bounds took 10 ms).
            let ends: Vec<[f64; 2]> = (lo[input.index()].iter().zip(&hi[input.index()]))
                .map(|(&l, &h)| [l, h])
                .collect();
            let unit = |i: usize| {
                let (mut a, mut b) = (bias[i], bias[i]);
                for (c, w) in weights.row(i) {
                    // A positive weight takes the lower bound into `a`, a negative one the upper.
                    let e = &ends[c];
                    let neg = usize::from(w <= 0.0);
                    a += w * e[neg];
                    b += w * e[1 - neg];
                }
                (a, b)
            };
            // Rows are independent and each is summed in order, so the threads change nothing
            // in the result.
            if layer.size() >= 64 {
                (0..layer.size()).into_par_iter().map(unit).unzip()
            } else {
                (0..layer.size()).map(unit).unzip()
            }
        }
        Op::Sum { inputs } => {
            let mut a = vec![0.0; layer.size()];
            let mut b = vec![0.0; layer.size()];
            for h in inputs {
                a.iter_mut().zip(&lo[h.index()]).for_each(|(a, x)| *a += x);
                b.iter_mut().zip(&hi[h.index()]).for_each(|(b, x)| *b += x);
            }
            (a, b)
        }
        Op::Relu { input } => (
            lo[input.index()].iter().map(|x| x.max(0.0)).collect(),
            hi[input.index()].iter().map(|x| x.max(0.0)).collect(),
        ),
        Op::MaxPool { input, windows } => {
            let (il, ih) = (&lo[input.index()], &hi[input.index()]);
            let max_of = |v: &[f64], w: &[u32]| w.iter().map(|&k| v[k as usize]).fold(f64::NEG_INFINITY, f64::max);
            windows.iter().map(|w| (max_of(il, w), max_of(ih, w))).unzip()
        }
    }
}
