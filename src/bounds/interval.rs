//! Interval arithmetic: the cheapest sound bounds, and the start of every stronger method.

use super::{Bounds, InputBox, Method};
use crate::ir::{Network, Op};

/// Propagates the box through every layer. An affine row's lower bound takes each weight's
/// worse end (`w > 0` → input lower bound, `w < 0` → upper), which is exact for one layer and
/// loose across layers because correlations are forgotten.
pub fn interval(net: &Network, region: &InputBox) -> Bounds {
    let mut lo: Vec<Vec<f64>> = Vec::with_capacity(net.layers().len());
    let mut hi: Vec<Vec<f64>> = Vec::with_capacity(net.layers().len());
    for layer in net.layers() {
        let (l, h) = match &layer.op {
            Op::Input => (region.lo.clone(), region.hi.clone()),
            Op::Affine { input, weights, bias } => {
                let (il, ih) = (&lo[input.index()], &hi[input.index()]);
                (0..layer.size())
                    .map(|i| {
                        let (mut a, mut b) = (bias[i], bias[i]);
                        for (c, w) in weights.row(i) {
                            if w > 0.0 {
                                a += w * il[c];
                                b += w * ih[c];
                            } else {
                                a += w * ih[c];
                                b += w * il[c];
                            }
                        }
                        (a, b)
                    })
                    .unzip()
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
        };
        lo.push(l);
        hi.push(h);
    }
    Bounds {
        lo,
        hi,
        method: Method::Interval,
    }
}
