//! Symbolic bounds: linear relaxations back-substituted to the input box (DeepPoly / CROWN
//! style), which keep the correlations that interval arithmetic forgets.
//!
//! For one unit `v` of a linear layer (affine or sum), the bound is `min c·v` with `c = e_v`
//! (and `max` as `-min(-c·v)`). Walking the layers backwards, the pending coefficients of each
//! layer are replaced by coefficients on the layers it reads: affine maps and sums exactly,
//! nonlinear layers through a linear relaxation chosen by each coefficient's sign, until only
//! the input is left, where the box gives the minimum in closed form.
//!
//! Relaxations, from the bounds `[l, u]` of a ReLU's input (already tightened, since layers are
//! processed in order): stable units are exact (`0` or the identity); an unstable unit is
//! bounded above by the chord `u (x - l) / (u - l)` and below by `α x` with `α = 1` when
//! `u > -l`, else `0` (the area-minimising choice). A max-pool output is bounded below by its
//! input with the largest lower bound, above by that input exactly when it dominates the window
//! (its lower bound at least every other upper bound), else by the constant upper bound.
//!
//! Cost: one unit costs the nonzeros of every weight matrix between it and the input (its
//! coefficient vectors are dense), so a network with `k` affine layers of `n` units costs about
//! `k²n³/2` multiply-adds for dense weights: about 3·10⁹ for 784-1024-1024-1024-10, seconds in
//! a release build, spread over threads (units are independent). Layers reading the input
//! directly are skipped over a plain box, where interval bounds are exact already. With an L1
//! ball the last step minimises over box ∩ ball exactly ([`Region::min_linear`]), so the
//! relaxation benefits from the ball at every layer.

use super::{refresh_layer, Bounds, Region};
use crate::ir::{Handle, Network, Op};
use rayon::prelude::*;
use std::time::Instant;

/// Relative safety margin on every concretised bound, against rounding in the long sums.
const ROUNDING_MARGIN: f64 = 1e-10;

/// `lower_slope·x + lower_icpt <= relu(x) <= upper_slope·x + upper_icpt` over `[l, u]`.
#[derive(Clone, Copy, Debug)]
pub(super) struct Line {
    lower_slope: f64,
    lower_icpt: f64,
    upper_slope: f64,
    upper_icpt: f64,
}

/// How an unstable ReLU's lower line `α x` is chosen: any `α ∈ [0, 1]` is sound, and which one
/// gives the best bound depends on the query, so the property's rows try several.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) enum LowerSlope {
    /// `α = 1` when `u > -l`, else `0` (the smaller area).
    Area,
    /// `α = u / (u - l)`, parallel to the upper chord.
    Chord,
    Zero,
    One,
}

impl Line {
    fn relu_with(l: f64, u: f64, slope: LowerSlope) -> Line {
        let (slope, icpt) = if u <= 0.0 {
            (0.0, 0.0)
        } else if l >= 0.0 {
            (1.0, 0.0)
        } else {
            let alpha = match slope {
                LowerSlope::Area if u > -l => 1.0,
                LowerSlope::Area | LowerSlope::Zero => 0.0,
                LowerSlope::One => 1.0,
                // Finite here unless u is infinite (then the chord is flat at 1).
                LowerSlope::Chord if u.is_finite() && l.is_finite() => u / (u - l),
                LowerSlope::Chord => 1.0,
            };
            let (us, uc) = if l.is_finite() && u.is_finite() {
                (u / (u - l), -u * l / (u - l))
            } else {
                // No finite chord: the only upper line is "no bound" (used with a negative
                // coefficient in a minimisation it yields -inf, never a NaN).
                (0.0, f64::INFINITY)
            };
            return Line {
                lower_slope: alpha,
                lower_icpt: 0.0,
                upper_slope: us,
                upper_icpt: uc,
            };
        };
        Line {
            lower_slope: slope,
            lower_icpt: icpt,
            upper_slope: slope,
            upper_icpt: icpt,
        }
    }
}

/// The upper relaxation of a max-pool output.
#[derive(Clone, Copy, Debug)]
pub(super) enum PoolUpper {
    /// The output equals this input (it dominates its window).
    Input(usize),
    Constant(f64),
}

/// Relaxation of one nonlinear layer.
pub(super) enum Relax {
    Relu(Vec<Line>),
    /// Per output: the input index of the lower line and the upper relaxation.
    Pool(Vec<(usize, PoolUpper)>),
}

pub(super) fn relax_layer(net: &Network, bounds: &Bounds, h: Handle) -> Option<Relax> {
    relax_layer_with(net, bounds, h, LowerSlope::Area)
}

fn relax_layer_with(net: &Network, bounds: &Bounds, h: Handle, slope: LowerSlope) -> Option<Relax> {
    match &net.layer(h).op {
        Op::Relu { input } => {
            let (l, u) = bounds.layer(*input);
            Some(Relax::Relu(
                l.iter().zip(u).map(|(&l, &u)| Line::relu_with(l, u, slope)).collect(),
            ))
        }
        Op::MaxPool { input, windows } => {
            let (l, u) = bounds.layer(*input);
            Some(Relax::Pool(
                windows
                    .iter()
                    .map(|w| {
                        // Windows are non-empty (IR invariant).
                        let best = w
                            .iter()
                            .map(|&k| k as usize)
                            .fold(w[0] as usize, |b, k| if l[k] > l[b] { k } else { b });
                        let others_hi = w
                            .iter()
                            .map(|&k| k as usize)
                            .filter(|&k| k != best)
                            .fold(f64::NEG_INFINITY, |m, k| m.max(u[k]));
                        let upper = if l[best] >= others_hi {
                            PoolUpper::Input(best)
                        } else {
                            PoolUpper::Constant(w.iter().fold(f64::NEG_INFINITY, |m, &k| m.max(u[k as usize])))
                        };
                        (best, upper)
                    })
                    .collect(),
            ))
        }
        _ => None,
    }
}

fn add(constant: &mut f64, magnitude: &mut f64, v: f64) {
    *constant += v;
    *magnitude += v.abs();
}

/// A lower bound of `c · value(layer k)` over the box, `c` given densely.
pub(super) fn lower_bound(net: &Network, region: &Region, relax: &[Option<Relax>], k: Handle, c: Vec<f64>) -> f64 {
    let mut pending: Vec<Option<Vec<f64>>> = vec![None; k.index() + 1];
    pending[k.index()] = Some(c);
    let mut constant = 0.0;
    // Sum of the magnitudes of everything added into `constant`, for the rounding margin.
    let mut magnitude = 0.0;
    for hi in (0..=k.index()).rev() {
        let Some(c) = pending[hi].take() else { continue };
        let size = |h: Handle| net.layer(h).size();
        match &net.layer(Handle::from_index(hi)).op {
            Op::Input => {
                // The input layer's bounds are the region's box (and the ball, if any, cuts it).
                let (v, mag) = region.min_linear(c.iter().copied().enumerate());
                constant += v;
                magnitude += mag;
            }
            Op::Affine { input, weights, bias } => {
                let mut acc = pending[input.index()].take().unwrap_or_else(|| vec![0.0; size(*input)]);
                for (j, &cj) in c.iter().enumerate() {
                    if cj != 0.0 {
                        add(&mut constant, &mut magnitude, cj * bias[j]);
                        for (col, w) in weights.row(j) {
                            acc[col] += cj * w;
                        }
                    }
                }
                pending[input.index()] = Some(acc);
            }
            Op::Sum { inputs } => {
                for input in inputs {
                    let mut acc = pending[input.index()].take().unwrap_or_else(|| vec![0.0; size(*input)]);
                    acc.iter_mut().zip(&c).for_each(|(a, cj)| *a += cj);
                    pending[input.index()] = Some(acc);
                }
            }
            Op::Relu { input } => {
                let Some(Relax::Relu(lines)) = &relax[hi] else {
                    unreachable!("relaxations are computed for every earlier ReLU layer")
                };
                let mut acc = pending[input.index()].take().unwrap_or_else(|| vec![0.0; size(*input)]);
                for (j, &cj) in c.iter().enumerate() {
                    let line = &lines[j];
                    if cj > 0.0 {
                        acc[j] += cj * line.lower_slope;
                        if line.lower_icpt != 0.0 {
                            add(&mut constant, &mut magnitude, cj * line.lower_icpt);
                        }
                    } else if cj < 0.0 {
                        acc[j] += cj * line.upper_slope;
                        if line.upper_icpt != 0.0 {
                            add(&mut constant, &mut magnitude, cj * line.upper_icpt);
                        }
                    }
                }
                pending[input.index()] = Some(acc);
            }
            Op::MaxPool { input, .. } => {
                let Some(Relax::Pool(rel)) = &relax[hi] else {
                    unreachable!("relaxations are computed for every earlier max-pool layer")
                };
                let mut acc = pending[input.index()].take().unwrap_or_else(|| vec![0.0; size(*input)]);
                for (j, &cj) in c.iter().enumerate() {
                    let (low, up) = rel[j];
                    if cj > 0.0 {
                        acc[low] += cj;
                    } else if cj < 0.0 {
                        match up {
                            PoolUpper::Input(i) => acc[i] += cj,
                            PoolUpper::Constant(v) => add(&mut constant, &mut magnitude, cj * v),
                        }
                    }
                }
                pending[input.index()] = Some(acc);
            }
        }
    }
    constant - ROUNDING_MARGIN * (1.0 + magnitude)
}

/// Tightens `start` (sound bounds, usually interval ones) by back-substitution. Returns the new
/// bounds and the seconds spent per layer (indexed by handle).
pub(crate) fn tighten(net: &Network, region: &Region, start: &Bounds) -> (Bounds, Vec<f64>) {
    let mut bounds = start.clone();
    let mut relax: Vec<Option<Relax>> = Vec::with_capacity(net.layers().len());
    let mut seconds = vec![0.0; net.layers().len()];
    relax.push(None);
    for h in net.handles().skip(1) {
        let t0 = Instant::now();
        let op = &net.layer(h).op;
        let linear = matches!(op, Op::Affine { .. } | Op::Sum { .. });
        // Over a plain box, interval bounds of a layer reading the input are exact already.
        let reads_input = region.l1.is_none() && op.inputs().iter().all(|i| *i == net.input());
        refresh_layer(net, &mut bounds, h);
        if linear && !reads_input {
            let n = net.layer(h).size();
            let unit_bounds: Vec<(f64, f64)> = (0..n)
                .into_par_iter()
                .map(|j| {
                    let mut c = vec![0.0; n];
                    c[j] = 1.0;
                    let lo = lower_bound(net, region, &relax, h, c.clone());
                    c[j] = -1.0;
                    let hi = -lower_bound(net, region, &relax, h, c);
                    (lo, hi)
                })
                .collect();
            let i = h.index();
            for (j, (lo, hi)) in unit_bounds.into_iter().enumerate() {
                bounds.lo[i][j] = bounds.lo[i][j].max(lo);
                bounds.hi[i][j] = bounds.hi[i][j].min(hi);
            }
        }
        relax.push(relax_layer(net, &bounds, h));
        seconds[h.index()] = t0.elapsed().as_secs_f64();
    }
    (bounds, seconds)
}

/// Symbolic bounds over `region`: interval bounds tightened by [`tighten`].
pub fn symbolic(net: &Network, region: &super::InputBox) -> Bounds {
    let region = Region::from(region.clone());
    let (mut b, _) = tighten(net, &region, &super::interval_in(net, &region));
    b.method = super::Method::Symbolic;
    b
}

/// Re-bounds the units of the linear (affine or sum) layer `h` by back-substitution over the
/// relaxations that `bounds` gives the layers before it, intersecting with what `bounds` has.
/// Costs one back-substitution per unit of `h` only: meant for a few units (the property's
/// rows) after a cheaper pass bounded the rest ([`super::forward`]).
pub(crate) fn tighten_layer(net: &Network, region: &Region, bounds: &mut Bounds, h: Handle) {
    let n = net.layer(h).size();
    let unit = |j: usize, v: f64| {
        let mut c = vec![0.0; n];
        c[j] = v;
        c
    };
    let cs: Vec<Vec<f64>> = (0..n).flat_map(|j| [unit(j, 1.0), unit(j, -1.0)]).collect();
    let lows = lower_bounds_of(net, region, bounds, h, &cs);
    let i = h.index();
    for j in 0..n {
        bounds.lo[i][j] = bounds.lo[i][j].max(lows[2 * j]);
        bounds.hi[i][j] = bounds.hi[i][j].min(-lows[2 * j + 1]);
    }
}

/// Lower bounds of `c · value(h)` for each `c` in `cs` (dense over the linear layer `h`), by
/// back-substitution over the relaxations that `bounds` gives the layers before `h`, the best
/// of four lower-slope choices for the unstable ReLUs ([`LowerSlope`]; each is sound, so is
/// their maximum, and for a few queries the extra passes are cheap). Used for the property's
/// rows and for combinations of a disjunct's rows: if `Σ λ_r row_r` (`λ >= 0`) is positive
/// everywhere, no input meets all the rows at once, which no single row's bound can show.
pub fn lower_bounds_of(net: &Network, region: &Region, bounds: &Bounds, h: Handle, cs: &[Vec<f64>]) -> Vec<f64> {
    let mut best = vec![f64::NEG_INFINITY; cs.len()];
    for slope in [LowerSlope::Area, LowerSlope::Chord, LowerSlope::Zero, LowerSlope::One] {
        let relax: Vec<Option<Relax>> = net
            .handles()
            .take(h.index())
            .map(|k| relax_layer_with(net, bounds, k, slope))
            .collect();
        for (b, c) in best.iter_mut().zip(cs) {
            *b = b.max(lower_bound(net, region, &relax, h, c.clone()));
        }
    }
    best
}
