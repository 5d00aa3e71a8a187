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

    /// The norm [`Norm::name`] spells, any case.
    pub fn from_name(name: &str) -> Option<Norm> {
        [Norm::L1, Norm::Linf]
            .into_iter()
            .find(|n| n.name().eq_ignore_ascii_case(name))
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

/// How a distance objective is written.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DistanceForm {
    /// L1: the inputs split into deviations `in_j = img_j + p_j - n_j` (see
    /// [`super::presolve`]), no distance rows at all; Linf: `dmax` rows only for the directions
    /// the box lets an input move in. The smallest form, and the default.
    #[default]
    Split,
    /// The textbook form of [`add_distance`]: a `d_j` column and two rows per input (L1), two
    /// rows per input (Linf).
    Rows,
}

impl DistanceForm {
    pub fn name(self) -> &'static str {
        match self {
            DistanceForm::Split => "split",
            DistanceForm::Rows => "rows",
        }
    }
}

/// A finished task model with its distance objective, presolved.
pub struct WithDistance {
    pub presolved: super::presolve::Presolved,
    /// The distance of the input from the image, over the presolved model's columns.
    pub distance: LinExpr,
}

/// Adds the distance of `inputs` from `img` to `milp` in `form` (with `budget` as a row or a
/// bound), then presolves the model ([`super::presolve`]); the caller sets the objective.
pub fn with_distance(
    mut milp: Milp,
    inputs: &[Col],
    img: &[f64],
    region: &InputBox,
    norm: Norm,
    budget: Option<f64>,
    form: DistanceForm,
) -> WithDistance {
    use super::presolve::{presolve, SplitInputs};
    if form == DistanceForm::Rows {
        let d = add_distance(&mut milp, inputs, img, region, norm, budget);
        let presolved = presolve(milp, None);
        let mut distance = presolved.substitute(&d.terms);
        distance.constant += d.constant;
        return WithDistance { presolved, distance };
    }
    match norm {
        Norm::L1 => {
            let split = SplitInputs {
                inputs,
                image: img,
                region,
            };
            let mut presolved = presolve(milp, Some(&split));
            let distance = presolved.split_distance.clone();
            if let Some(b) = budget {
                presolved
                    .milp
                    .add_row("budget", distance.terms.clone(), Sense::Le, b - distance.constant);
            }
            WithDistance { presolved, distance }
        }
        Norm::Linf => {
            let mut presolved = presolve(milp, None);
            let reach = |j: usize| (region.hi[j] - img[j]).max(img[j] - region.lo[j]).max(0.0);
            let far = (0..inputs.len()).map(reach).fold(0.0, f64::max);
            let xs = presolved.exprs(inputs);
            let m = &mut presolved.milp;
            let dmax = m.add_col("dmax", 0.0, budget.map_or(far, |b| b.min(far)), ColKind::Continuous);
            for (j, x) in xs.into_iter().enumerate() {
                // in_j <= hi_j <= img_j already implies in_j <= img_j + dmax (and likewise below).
                if region.hi[j] > img[j] {
                    let mut row = x.clone();
                    row.add_term(dmax, -1.0);
                    m.add_expr_row(name("mu", [&j]), row, Sense::Le, img[j]);
                }
                if region.lo[j] < img[j] {
                    let mut row = x;
                    row.add_term(dmax, 1.0);
                    m.add_expr_row(name("ml", [&j]), row, Sense::Ge, img[j]);
                }
            }
            WithDistance {
                presolved,
                distance: LinExpr::var(dmax),
            }
        }
    }
}
