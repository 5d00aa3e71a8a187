//! Distances of the input from a point (an image), as MILP columns and rows: what adversarial
//! objectives, distance budgets and the L1-ball regions of the bounds passes all add to a
//! lowered network.

use crate::bounds::InputBox;
use crate::milp::{name, Col, ColKind, LinExpr, Milp, Sense};
use serde::Serialize;

/// A distance on the input space.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Norm {
    /// `sum_j |x_j - img_j|` (Fischetti & Jo's adversarial objective).
    L1,
    /// `max_j |x_j - img_j|`.
    Linf,
}

impl Norm {
    pub fn name(self) -> &'static str {
        match self {
            Norm::L1 => "l1",
            Norm::Linf => "linf",
        }
    }

    /// The distance between two points.
    pub fn distance(self, a: &[f64], b: &[f64]) -> f64 {
        let diffs = a.iter().zip(b).map(|(x, y)| (x - y).abs());
        match self {
            Norm::L1 => diffs.sum(),
            Norm::Linf => diffs.fold(0.0, f64::max),
        }
    }
}

/// Adds the distance of the input columns from `img` to `milp` and returns it as an expression.
///
/// L1: `d_j` in `[0, reach_j]` with `dp_j: d_j - in_j >= -img_j`, `dn_j: d_j + in_j >= img_j`;
/// the distance is `sum_j d_j`, and a `budget` bounds it by `sum_j d_j <= budget`.
/// Linf: one `dmax` in `[0, min(budget, max_j reach_j)]` with `mu_j: in_j - dmax <= img_j` and
/// `ml_j: in_j + dmax >= img_j`; the distance is `dmax`. (Not `eps`: CPLEX LP reads a name
/// starting with `e` after a coefficient as an exponent, so the writers refuse such names.) (`reach_j` is the farthest the box lets
/// input `j` move from `img_j`.)
pub fn add_distance(
    milp: &mut Milp,
    inputs: &[Col],
    img: &[f64],
    region: &InputBox,
    norm: Norm,
    budget: Option<f64>,
) -> LinExpr {
    let reach = |j: usize| (region.hi[j] - img[j]).max(img[j] - region.lo[j]).max(0.0);
    let mut dist = LinExpr::default();
    match norm {
        Norm::L1 => {
            for (j, &x) in inputs.iter().enumerate() {
                let d = milp.add_col(name("d", [&j]), 0.0, reach(j), ColKind::Continuous);
                milp.add_row(name("dp", [&j]), vec![(d, 1.0), (x, -1.0)], Sense::Ge, -img[j]);
                milp.add_row(name("dn", [&j]), vec![(d, 1.0), (x, 1.0)], Sense::Ge, img[j]);
                dist.add_term(d, 1.0);
            }
            if let Some(b) = budget {
                milp.add_row("budget", dist.terms.clone(), Sense::Le, b);
            }
        }
        Norm::Linf => {
            let far = (0..inputs.len()).map(reach).fold(0.0, f64::max);
            let eps = milp.add_col("dmax", 0.0, budget.map_or(far, |b| b.min(far)), ColKind::Continuous);
            for (j, &x) in inputs.iter().enumerate() {
                milp.add_row(name("mu", [&j]), vec![(x, 1.0), (eps, -1.0)], Sense::Le, img[j]);
                milp.add_row(name("ml", [&j]), vec![(x, 1.0), (eps, 1.0)], Sense::Ge, img[j]);
            }
            dist.add_term(eps, 1.0);
        }
    }
    dist
}
