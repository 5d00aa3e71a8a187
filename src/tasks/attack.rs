//! Adversarial examples without branch and bound: a first-order search on the `f64` forward
//! pass, then LP polishing inside the example's activation pattern.
//!
//! The point is an *incumbent*: a feasible distance `r` confines the optimum to the L1 (or
//! Linf) ball of radius `r` around the image, where the bounds passes are far tighter, and the
//! incumbent is HiGHS's first solution. Everything returned here has been replayed through the
//! forward pass and meets every margin with slack `>= 0` exactly; the search may also fail
//! (`None`), which only costs the tightening.
//!
//! Search: from the image, repeatedly take the gradient of the worst margin (one backward
//! pass; exact inside the current linear piece) and move the single input that gains most per
//! unit of L1 distance, by just enough to close the gap (or to the box face); for Linf, a
//! projected sign-gradient ascent over growing radii. Polishing: with every binary of the
//! lowered model fixed to its value at the point, the MILP is an LP over the point's linear
//! piece; its optimum is the closest example in that piece. ReLUs left at exactly 0 by the LP
//! can switch sides without leaving the feasible set, so each round flips them and solves again
//! until the distance stops falling: a descent over neighbouring pieces.

use crate::bounds::InputBox;
use crate::ir::Network;
use crate::lower::{Binary, Norm};
use crate::milp::{Col, LinExpr, Milp};
use crate::solve::highs::Highs;
use crate::solve::{SolveOptions, Status};
use std::cell::Cell;

/// Margins as rows `cw·y_w + cl·y_l >= rhs`, one per form `(cw, cl, rhs)` and
/// `(winner, loser)` pair, all of which must hold.
#[derive(Clone, Debug)]
pub(crate) struct Margins {
    pub pairs: Vec<(usize, usize)>,
    pub forms: Vec<(f64, f64, f64)>,
}

impl Margins {
    /// Every row's slack at `y`, with its pair and form.
    fn slacks<'a>(&'a self, y: &'a [f64]) -> impl Iterator<Item = (f64, (usize, usize), (f64, f64))> + 'a {
        self.pairs.iter().flat_map(move |&(w, l)| {
            self.forms
                .iter()
                .map(move |&(cw, cl, rhs)| (cw * y[w] + cl * y[l] - rhs, (w, l), (cw, cl)))
        })
    }

    /// The smallest slack over the rows, with its pair and form.
    fn worst(&self, y: &[f64]) -> (f64, (usize, usize), (f64, f64)) {
        self.slacks(y).fold(
            (f64::INFINITY, (0, 0), (0.0, 0.0)),
            |a, b| if b.0 < a.0 { b } else { a },
        )
    }

    /// True when `x` meets every margin through the forward pass.
    pub fn met(&self, net: &Network, x: &[f64]) -> bool {
        net.forward(x).is_ok_and(|y| self.worst(&y).0 >= 0.0)
    }
}

/// What the search works in: the image, the region the example must stay in and the norm.
pub(crate) struct Search<'a> {
    pub net: &'a Network,
    pub image: &'a [f64],
    pub region: &'a InputBox,
    pub norm: Norm,
    /// Largest distance allowed (a user's `--max-dist`).
    pub max_dist: Option<f64>,
    /// Multiply-adds the search may still spend on forward and backward passes (it only finds
    /// an incumbent, and a late one is worth less than the solver's time it takes). Counted in
    /// work, not seconds, so that the same input gives the same example on every machine.
    pub work_left: Cell<u64>,
}

impl Search<'_> {
    /// Charges one forward and backward pass; true when the budget is spent.
    fn expired(&self) -> bool {
        let cost = 2 * self.pass_weights() as u64;
        let left = self.work_left.get();
        self.work_left.set(left.saturating_sub(cost));
        left == 0
    }

    /// Weights (nonzeros) of the network, about the multiply-adds of one forward pass.
    fn pass_weights(&self) -> usize {
        self.net
            .layers()
            .iter()
            .map(|l| match &l.op {
                crate::ir::Op::Affine { weights, .. } => weights.values().len(),
                _ => l.size(),
            })
            .sum()
    }

    /// How many inputs one backward pass moves in the L1 search: one on small networks (each
    /// step sees the gradient of the previous one, the best examples), more where a backward
    /// pass is expensive (a conv net with thousands of ReLUs would otherwise spend a minute
    /// here), so that the number of passes stays near `inputs / batch`.
    fn batch(&self) -> usize {
        self.pass_weights().div_ceil(BATCH_WEIGHTS).max(1)
    }

    fn feasible(&self, m: &Margins, x: &[f64]) -> bool {
        self.region.contains(x)
            && self.max_dist.is_none_or(|d| self.norm.distance(x, self.image) <= d)
            && m.met(self.net, x)
    }

    /// The starting point: the image, inside the region.
    fn start(&self) -> Vec<f64> {
        self.image
            .iter()
            .enumerate()
            .map(|(j, v)| v.clamp(self.region.lo[j], self.region.hi[j]))
            .collect()
    }

    /// A point meeting the margins, or `None`. The search overshoots each margin by `aim`
    /// times the outputs' scale (see [`Search::aim`]): a deeper overshoot lands in other linear
    /// pieces, which polishing then explores from a different start.
    pub fn first_order(&self, m: &Margins, aim: f64) -> Option<Vec<f64>> {
        let x = match self.norm {
            Norm::L1 => self.greedy_l1(m, aim),
            Norm::Linf => self.sign_ascent(m, aim),
        }?;
        let x = self.shrink(m, x);
        self.feasible(m, &x).then_some(x)
    }

    /// The gap the search aims to close: beyond 0 (by `factor` times the outputs' scale), so
    /// that the point stays feasible when later steps move other inputs.
    fn aim(y: &[f64], factor: f64) -> f64 {
        factor * (1.0 + y.iter().fold(0.0f64, |a, v| a.max(v.abs())))
    }

    /// Greedy L1 search on the sum of the margins' shortfalls (a hinge: pairs already met by
    /// the aim drop out), one input at a time: the one whose gradient entry is largest among
    /// those that can still move that way, moved until the linearised shortfall closes or the
    /// input reaches its box face. An input only ever moves away from the image in the
    /// direction of its first move (no cycling), and by at least a small fraction of its room
    /// (no creeping up to a kink), so the search ends.
    fn greedy_l1(&self, m: &Margins, factor: f64) -> Option<Vec<f64>> {
        let net = self.net;
        let mut x = self.start();
        let n = x.len();
        let out = net.output().index();
        // The direction each input has moved in (0: not yet).
        let mut dir = vec![0.0f64; n];
        let batch = self.batch();
        for _ in 0..20 * n + 100 {
            if self.expired() {
                return None;
            }
            let values = net.forward_all(&x).ok()?;
            let y = &values[out];
            let aim = Self::aim(y, factor);
            let mut g = vec![0.0; y.len()];
            let mut shortfall = 0.0;
            for (slack, (w, l), (cw, cl)) in m.slacks(y) {
                if slack < aim {
                    shortfall += aim - slack;
                    g[w] += cw;
                    g[l] += cl;
                }
            }
            if shortfall == 0.0 {
                return Some(x);
            }
            let grad = net.input_gradient(&values, &g);
            let room = |x: &[f64], j: usize| {
                if grad[j] > 0.0 {
                    self.region.hi[j] - x[j]
                } else {
                    x[j] - self.region.lo[j]
                }
            };
            let mut movable: Vec<usize> = (0..n)
                .filter(|&j| grad[j] != 0.0 && room(&x, j) > 1e-12 && dir[j] * grad[j] >= 0.0)
                .collect();
            if movable.is_empty() {
                return None;
            }
            // The largest gradient entries first (ties by index: deterministic); each closes
            // what is left of the linearised shortfall, up to its box face.
            movable.sort_by(|&a, &b| grad[b].abs().total_cmp(&grad[a].abs()).then(a.cmp(&b)));
            let mut left = shortfall;
            for &j in movable.iter().take(batch) {
                if left <= 0.0 {
                    break;
                }
                let room = room(&x, j);
                let step = (left / grad[j].abs()).max(0.05 * room).min(room);
                left -= step * grad[j].abs();
                dir[j] = grad[j].signum();
                x[j] += step * dir[j];
            }
        }
        None
    }

    fn sign_ascent(&self, m: &Margins, factor: f64) -> Option<Vec<f64>> {
        let net = self.net;
        let out = net.output().index();
        let far = self.max_dist.unwrap_or(f64::INFINITY);
        let mut eps = 1.0 / 256.0;
        while eps <= 1.0 && eps <= far * 2.0 {
            let e = eps.min(far);
            let lo: Vec<f64> = (0..self.image.len())
                .map(|j| (self.image[j] - e).max(self.region.lo[j]))
                .collect();
            let hi: Vec<f64> = (0..self.image.len())
                .map(|j| (self.image[j] + e).min(self.region.hi[j]))
                .collect();
            let mut x = self.start();
            for _ in 0..40 {
                if self.expired() {
                    return None;
                }
                let values = net.forward_all(&x).ok()?;
                let (slack, (w, l), (cw, cl)) = m.worst(&values[out]);
                if slack >= Self::aim(&values[out], factor) {
                    return Some(x);
                }
                let mut g = vec![0.0; values[out].len()];
                g[w] += cw;
                g[l] += cl;
                let grad = net.input_gradient(&values, &g);
                for j in 0..x.len() {
                    x[j] = (x[j] + 0.25 * e * grad[j].signum()).clamp(lo[j], hi[j]);
                }
            }
            eps *= 1.5;
        }
        None
    }

    /// The point closest to the image on the segment from it to `x` that still meets the
    /// margins, by bisection (the margins need not be monotone along it, so this only ever
    /// returns a checked point, `x` itself at worst).
    fn shrink(&self, m: &Margins, x: Vec<f64>) -> Vec<f64> {
        let start = self.start();
        let at = |t: f64| -> Vec<f64> { start.iter().zip(&x).map(|(a, b)| a + t * (b - a)).collect() };
        let (mut lo, mut hi) = (0.0, 1.0);
        for _ in 0..30 {
            let mid = 0.5 * (lo + hi);
            if self.feasible(m, &at(mid)) {
                hi = mid;
            } else {
                lo = mid;
            }
        }
        if hi < 1.0 {
            at(hi)
        } else {
            x
        }
    }
}

/// The task's lowered model, for polishing: the MILP with its distance objective and where the
/// binaries and inputs live.
pub(crate) struct Polish<'a> {
    pub milp: &'a Milp,
    pub binaries: &'a [(Col, Binary)],
    /// Binaries of the task itself and their fixed values (an untargeted example's class).
    pub fixed: Vec<(Col, f64)>,
    /// The network's inputs over the model's columns.
    pub inputs: &'a [LinExpr],
}

/// Weights (nonzeros) per input moved in one pass of the L1 search (see [`Search::batch`]):
/// below this, one input per pass, as on the paper's nets.
const BATCH_WEIGHTS: usize = 100_000;

/// Work units (multiply-adds of a forward pass) one polishing LP is charged per nonzero of the
/// model: a warm-started LP over a fixed activation pattern took ~0.1 s on 784-256-256-10
/// (~4.7·10⁵ nonzeros), the time ~5·10⁷ multiply-adds of forward passes take.
const LP_WORK_PER_NONZERO: u64 = 100;

/// Above this many nonzeros an LP costs more than linearly (see [`lp_work`]).
const LP_LINEAR_UP_TO: u64 = 500_000;

/// What one polishing LP over a model of `nonzeros` is charged: linear up to
/// [`LP_LINEAR_UP_TO`], then growing with the cube of the size. The simplex's time grew as about
/// the 2.4th power (0.1 s at 4.7·10⁵ nonzeros, ~8 s at 3·10⁶ on 784-1024³-10, where a linear
/// charge let 16 LPs run: 140 s of "search" before a file was written); the cube errs towards
/// fewer LPs on large models, whose MILP is the solver's to improve. Integers, so the same model
/// gets the same rounds on every machine; below the threshold nothing changed.
fn lp_work(nonzeros: u64) -> u64 {
    let linear = LP_WORK_PER_NONZERO.saturating_mul(nonzeros);
    if nonzeros <= LP_LINEAR_UP_TO {
        return linear;
    }
    let n = u128::from(nonzeros);
    let r = u128::from(LP_LINEAR_UP_TO);
    (u128::from(linear) * n)
        .checked_mul(n)
        .and_then(|w| u64::try_from(w / (r * r)).ok())
        .unwrap_or(u64::MAX)
}

/// Simplex iterations one polishing LP may take (an LP that needs more is dropped, as a
/// failed one is).
const POLISH_LP_ITERATIONS: u32 = 50_000;

/// A ReLU input this close to 0 counts as "on the kink": both sides are feasible.
const TIE: f64 = 1e-7;

impl Polish<'_> {
    /// Improves `x` (which meets the margins) by LP rounds over its activation pattern; returns
    /// the best replayed point and, when the last accepted point came from an LP, the full
    /// column values of that LP solution (a start for HiGHS's MILP).
    pub fn run(&self, search: &Search, m: &Margins, x: Vec<f64>, rounds: usize) -> (Vec<f64>, Option<Vec<f64>>) {
        let Some(mut lp) = self.lp() else { return (x, None) };
        let net = search.net;
        let mut best = x;
        let mut best_dist = search.norm.distance(&best, search.image);
        let mut best_cols = None;
        let mut previous: Vec<f64> = vec![0.0; self.binaries.len()];
        let lp_cost = lp_work(self.milp.rows().iter().map(|r| r.terms.len() as u64).sum::<u64>());
        for round in 0..rounds {
            if round > 0 && search.work_left.get() == 0 {
                break;
            }
            // Each round's LP is charged to the search's work budget like forward passes are:
            // on a 784-256-256-10 net the rounds of all aims cost ~50 s uncharged, on the
            // paper's nets ~3% of the budget (so their examples do not change).
            search.work_left.set(search.work_left.get().saturating_sub(lp_cost));
            let Ok(values) = net.forward_all(&best) else { break };
            for (k, (col, b)) in self.binaries.iter().enumerate() {
                let v = match b.value_at(net, &values, TIE) {
                    Some(v) => v,
                    // On the kink: the other side, to explore the neighbouring piece.
                    None if round > 0 => 1.0 - previous[k],
                    None => 0.0,
                };
                previous[k] = v;
                if lp.change_col_bounds(col.index(), v, v).is_err() {
                    return (best, best_cols);
                }
            }
            let Some(cols) = solve_lp(&mut lp) else { break };
            let cand = super::replay::solver_input_exprs(&cols, self.inputs, search.region);
            let cand = if search.feasible(m, &cand) {
                cand
            } else {
                // The LP meets the margins to its tolerance only: back off towards the last
                // checked point until the forward pass agrees.
                let mix = |t: f64| -> Vec<f64> { cand.iter().zip(&best).map(|(a, b)| a + t * (b - a)).collect() };
                match (1..=20)
                    .map(|k| mix(f64::powi(0.5, 20 - k)))
                    .find(|p| search.feasible(m, p))
                {
                    Some(p) => p,
                    None => break,
                }
            };
            let d = search.norm.distance(&cand, search.image);
            if d < best_dist * (1.0 - 1e-9) {
                best = cand;
                best_dist = d;
                best_cols = Some(cols);
            } else {
                break;
            }
        }
        (best, best_cols)
    }

    /// The full column values of the LP over `x`'s activation pattern in this model (a start
    /// point for HiGHS), if that LP is solved.
    pub fn start_point(&self, search: &Search, x: &[f64]) -> Option<Vec<f64>> {
        let mut lp = self.lp()?;
        let values = search.net.forward_all(x).ok()?;
        for (col, b) in self.binaries {
            let v = b.value_at(search.net, &values, 0.0).unwrap_or(0.0);
            lp.change_col_bounds(col.index(), v, v).ok()?;
        }
        solve_lp(&mut lp)
    }

    /// The column values of the LP with the columns `fixed` fixed at their values (a solver
    /// point's binaries), if that LP is solved.
    pub fn solve_fixed(&self, fixed: &[(Col, f64)]) -> Option<Vec<f64>> {
        let mut lp = self.lp()?;
        for &(col, v) in fixed {
            lp.change_col_bounds(col.index(), v, v).ok()?;
        }
        solve_lp(&mut lp)
    }

    /// The relaxed model with the task's own binaries fixed, loaded into HiGHS.
    fn lp(&self) -> Option<Highs> {
        let mut relaxed = self.milp.clone();
        relaxed.relax_integrality();
        for &(col, v) in &self.fixed {
            relaxed.set_col_bounds(col, v, v);
        }
        let mut h = Highs::new().ok()?;
        // Bounded by simplex iterations, not seconds: a time limit that fired on a large model
        // made the example, and so the written file, depend on the machine's speed.
        h.apply_options(&SolveOptions {
            threads: Some(1),
            highs_options: vec![("simplex_iteration_limit".into(), POLISH_LP_ITERATIONS.to_string())],
            ..SolveOptions::default()
        })
        .ok()?;
        h.pass_milp(&relaxed).ok()?;
        Some(h)
    }
}

fn solve_lp(lp: &mut Highs) -> Option<Vec<f64>> {
    lp.run().ok()?;
    let sol = lp.solution().ok()?;
    match sol.status {
        Status::Optimal => sol.values,
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::{lp_work, LP_LINEAR_UP_TO, LP_WORK_PER_NONZERO};

    #[test]
    fn lp_charge_is_linear_then_cubic_and_never_overflows() {
        // Below the threshold the charge is what it always was (the paper's nets' examples
        // depend on it).
        for n in [0, 1, 30_000, LP_LINEAR_UP_TO] {
            assert_eq!(lp_work(n), LP_WORK_PER_NONZERO * n);
        }
        // Twice the threshold costs 2³ times the linear charge of the threshold.
        assert_eq!(lp_work(2 * LP_LINEAR_UP_TO), 8 * lp_work(LP_LINEAR_UP_TO));
        // 784-1024³-10 (~3·10⁶ nonzeros): one LP spends more than the search's whole budget.
        assert!(lp_work(3_000_000) > 5_000_000_000);
        let mut last = 0;
        for n in (0..40).map(|k| 1u64 << k) {
            assert!(lp_work(n) >= last);
            last = lp_work(n);
        }
        assert_eq!(lp_work(u64::MAX), u64::MAX);
    }
}
