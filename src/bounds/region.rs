//! Input regions: a box, optionally cut by an L1 ball around a point (an image).
//!
//! The L1 ball matters for Fischetti & Jo's adversarial problem: its optimum lies within L1
//! distance `r` of the image for any known feasible distance `r`, and the ball of radius `r` is
//! a far smaller region than the box it sits in (a box clipped to `[img_j - r, img_j + r]`
//! still lets every pixel move by `r`; the ball lets them move by `r` *in total*). Every bounds
//! method accepts it: interval arithmetic and the concretisation step of the symbolic method
//! minimise a linear function over box ∩ ball exactly (a fractional knapsack, [`Region::min_linear`]),
//! and the LP / MILP methods add the ball's rows to each unit's problem.

use super::{BoundsError, InputBox};
use crate::ir::Network;

/// `{x : ||x - center||_1 <= radius}`.
#[derive(Clone, Debug, PartialEq)]
pub struct L1Ball {
    pub center: Vec<f64>,
    pub radius: f64,
}

/// The set of inputs bounds are computed over: `input_box`, intersected with `l1` when present.
#[derive(Clone, Debug, PartialEq)]
pub struct Region {
    pub input_box: InputBox,
    pub l1: Option<L1Ball>,
}

impl From<InputBox> for Region {
    fn from(input_box: InputBox) -> Self {
        Region { input_box, l1: None }
    }
}

impl Region {
    /// Checks sizes, order and that the ball meets the box.
    pub fn check(&self, net: &Network) -> Result<(), BoundsError> {
        self.input_box.check(net)?;
        if let Some(ball) = &self.l1 {
            let n = net.input_size();
            if ball.center.len() != n {
                return Err(BoundsError::RegionSize {
                    expected: n,
                    got: ball.center.len(),
                });
            }
            if ball.radius.is_nan() || ball.radius < 0.0 || ball.center.iter().any(|c| !c.is_finite()) {
                return Err(BoundsError::Option(format!(
                    "L1 ball of radius {} around a point with non-finite entries or a negative radius",
                    ball.radius
                )));
            }
            if self.ball_budget(ball) < 0.0 {
                return Err(BoundsError::Option(format!(
                    "the L1 ball of radius {} does not meet the input box",
                    ball.radius
                )));
            }
        }
        Ok(())
    }

    /// The ball's radius left once the center is projected onto the box: for `x` in the box,
    /// `||x - c||_1 = ||x - p||_1 + ||p - c||_1` with `p` the projection (per coordinate, moving
    /// away from `c` past the box face costs both parts), so box ∩ ball is box ∩ the ball of
    /// this radius around `p`.
    fn ball_budget(&self, ball: &L1Ball) -> f64 {
        let b = &self.input_box;
        let outside: f64 = ball
            .center
            .iter()
            .enumerate()
            .map(|(j, &c)| (b.lo[j] - c).max(0.0) + (c - b.hi[j]).max(0.0))
            .sum();
        ball.radius - outside
    }

    /// `min sum_j c_j x_j` over the region, for the (sparse) terms `(j, c_j)`.
    ///
    /// Over the box alone each term takes its cheaper end. With the ball, start at the center's
    /// projection `p` and spend the radius greedily on the terms that gain most per unit moved
    /// (largest `|c_j|` first), each up to its box face: the exact optimum of this fractional
    /// knapsack. Returns the minimum and the sum of the magnitudes of the products it added
    /// (for the caller's rounding margin).
    pub fn min_linear(&self, terms: impl Iterator<Item = (usize, f64)>) -> (f64, f64) {
        let b = &self.input_box;
        let Some(ball) = &self.l1 else {
            let (mut v, mut mag) = (0.0, 0.0);
            for (j, c) in terms {
                let t = if c > 0.0 {
                    c * b.lo[j]
                } else if c < 0.0 {
                    c * b.hi[j]
                } else {
                    0.0
                };
                v += t;
                mag += t.abs();
            }
            return (v, mag);
        };
        let mut budget = self.ball_budget(ball);
        let (mut v, mut mag) = (0.0, 0.0);
        // (gain per unit, capacity, coefficient's sign) of every term that can improve.
        let mut moves: Vec<(f64, f64)> = Vec::new();
        for (j, c) in terms {
            if c == 0.0 {
                continue;
            }
            let p = ball.center[j].clamp(b.lo[j], b.hi[j]);
            let t = c * p;
            v += t;
            mag += t.abs();
            let room = if c > 0.0 { p - b.lo[j] } else { b.hi[j] - p };
            if room > 0.0 {
                moves.push((c.abs(), room));
            }
        }
        moves.sort_unstable_by(|a, b| b.0.total_cmp(&a.0));
        for (gain, room) in moves {
            if budget <= 0.0 {
                break;
            }
            let step = room.min(budget);
            budget -= step;
            v -= gain * step;
            mag += gain * step;
        }
        (v, mag)
    }

    /// True when `x` lies in the region (up to `tol` on the ball).
    pub fn contains(&self, x: &[f64], tol: f64) -> bool {
        self.input_box.contains(x)
            && self
                .l1
                .as_ref()
                .is_none_or(|b| x.iter().zip(&b.center).map(|(a, c)| (a - c).abs()).sum::<f64>() <= b.radius + tol)
    }

    /// True when every point of `other` lies in `self`: `other`'s box inside `self`'s box and,
    /// when `self` has a ball, `other` inside it (a ball of center `c'` and radius `r'` lies in
    /// one of center `c` and radius `r` when `||c - c'||_1 + r' <= r`; a box lies in it when its
    /// farthest corner does).
    pub fn contains_region(&self, other: &Region) -> Option<String> {
        let (a, b) = (&self.input_box, &other.input_box);
        for i in 0..a.lo.len().min(b.lo.len()) {
            if !(a.lo[i] <= b.lo[i] && b.hi[i] <= a.hi[i]) {
                return Some(format!(
                    "input {i}: requested [{}, {}], file [{}, {}]",
                    b.lo[i], b.hi[i], a.lo[i], a.hi[i]
                ));
            }
        }
        let Some(ball) = &self.l1 else { return None };
        let dist = |c: &[f64]| -> f64 { c.iter().zip(&ball.center).map(|(x, y)| (x - y).abs()).sum() };
        let box_reach: f64 = (0..b.lo.len())
            .map(|j| (b.lo[j] - ball.center[j]).abs().max((b.hi[j] - ball.center[j]).abs()))
            .sum();
        let reach = match &other.l1 {
            Some(o) => box_reach.min(dist(&o.center) + o.radius),
            None => box_reach,
        };
        let slack = 1e-9 * (1.0 + ball.radius);
        (reach > ball.radius + slack).then(|| {
            format!(
                "the requested region reaches L1 distance {reach} from the file's ball center, beyond its radius {}",
                ball.radius
            )
        })
    }
}
