//! Coefficient hygiene: no written coefficient is one that a solver silently drops, and none is
//! one that no solver can work with.
//!
//! Networks carry tiny and subnormal weights (scikit-learn's float64 weights on pixels that are
//! always 0; products in fused affine chains), and solvers ignore such matrix entries on reading
//! (HiGHS: `|value| <= 1e-9`, with a warning status; Gurobi: `< 1e-13`). A solver then solves a
//! different model than the one written. Here each entry with `|a| <= ABS_DROP` or
//! `|a| < REL_DROP · max|row|` is dropped *soundly*: its contribution `a·x` lies in
//! `[min, max]` over `x`'s bounds, and the row is widened by that interval (an inequality's
//! right-hand side moves; an equality gets one slack column `q_ROW` in that interval). The model
//! stays a relaxation of the network's graph, the widening is below any solver's feasibility
//! tolerance, and every answer is replayed through the `f64` forward pass anyway. Entries of
//! columns without finite bounds cannot be widened for and are kept (counted).
//!
//! Huge coefficients are the opposite problem: a big-M of 1e12 against a feasibility tolerance
//! of 1e-6 makes every solver's answer noise ("infeasible" for a feasible model). Those are
//! refused with an error naming the row or column.

use crate::milp::{name, Col, ColKind, Milp, Sense};
use thiserror::Error;

/// Entries at or below this are dropped (HiGHS's `small_matrix_value`, the largest of the
/// solvers' thresholds, so that no solver drops anything we write).
pub const ABS_DROP: f64 = 1e-9;
/// Entries below this fraction of their row's largest are dropped.
pub const REL_DROP: f64 = 1e-12;
/// The largest coefficient or finite bound written: beyond it, with feasibility tolerances of
/// 1e-6, a solver cannot tell a satisfied row from a violated one.
pub const MAX_MAGNITUDE: f64 = 1e9;

/// What the hygiene pass did, for headers and reports.
#[derive(Clone, Copy, Debug, Default, PartialEq, serde::Serialize)]
pub struct HygieneStats {
    /// Matrix entries dropped (and widened for).
    pub dropped: usize,
    /// The largest magnitude dropped (0 if none).
    pub largest_dropped: f64,
    /// Rows widened, and equality rows that got a slack column for it.
    pub rows_widened: usize,
    pub slack_columns: usize,
    /// Tiny entries kept because their column has an infinite bound.
    pub kept_unbounded: usize,
}

#[derive(Debug, Error, PartialEq)]
pub enum HygieneError {
    #[error(
        "{what} has magnitude {value:e}, beyond 1e9: with solver tolerances of about 1e-6 no solver can \
         answer such a model reliably; the network's values are too large here (rescale its weights, or give \
         tighter bounds)"
    )]
    TooLarge { what: String, value: f64 },
}

/// Cleans `milp` in place as described in the module docs. Only the rows that lose an entry
/// are rewritten: a copy of the whole model doubled the peak memory of a dense net's run.
pub fn clean(milp: &mut Milp) -> Result<HygieneStats, HygieneError> {
    check_magnitudes(milp)?;
    let mut stats = HygieneStats::default();
    for r in 0..milp.rows().len() {
        let row = &milp.rows()[r];
        let top = row.terms.iter().fold(0.0f64, |m, t| m.max(t.1.abs()));
        let cut = ABS_DROP.max(REL_DROP * top);
        let droppable = |&(c, a): &(Col, f64)| {
            let col = milp.col(c);
            a.abs() <= cut && col.lo.is_finite() && col.hi.is_finite()
        };
        stats.kept_unbounded += row.terms.iter().filter(|t| t.1.abs() <= cut && !droppable(t)).count();
        if !row.terms.iter().any(droppable) {
            continue;
        }
        let (mut lo, mut hi) = (0.0f64, 0.0f64);
        let mut kept = Vec::with_capacity(row.terms.len());
        for t in &row.terms {
            if droppable(t) {
                let col = milp.col(t.0);
                let (p, q) = (t.1 * col.lo, t.1 * col.hi);
                lo += p.min(q);
                hi += p.max(q);
                stats.dropped += 1;
                stats.largest_dropped = stats.largest_dropped.max(t.1.abs());
            } else {
                kept.push(*t);
            }
        }
        stats.rows_widened += 1;
        // sum kept + D <sense> rhs with D in [lo, hi].
        let mut rhs = row.rhs;
        match row.sense {
            Sense::Le => rhs -= lo,
            Sense::Ge => rhs -= hi,
            Sense::Eq if lo == 0.0 && hi == 0.0 => {}
            Sense::Eq => {
                let q_name = name("q", [&row.name]);
                let q = milp.add_col(q_name, lo, hi, ColKind::Continuous);
                kept.push((q, 1.0));
                stats.slack_columns += 1;
            }
        }
        milp.replace_row(r, kept, rhs);
    }
    Ok(stats)
}

/// Refuses a model with a coefficient, right-hand side or finite bound beyond
/// [`MAX_MAGNITUDE`].
fn check_magnitudes(milp: &Milp) -> Result<(), HygieneError> {
    let too_large = |v: f64| v.is_finite() && v.abs() > MAX_MAGNITUDE;
    for c in milp.cols() {
        for v in [c.lo, c.hi] {
            if too_large(v) {
                return Err(HygieneError::TooLarge {
                    what: format!("a bound of column {}", c.name),
                    value: v,
                });
            }
        }
    }
    for r in milp.rows() {
        if let Some(&(c, a)) = r.terms.iter().find(|t| too_large(t.1)) {
            return Err(HygieneError::TooLarge {
                what: format!("the coefficient of {} in row {}", milp.col(c).name, r.name),
                value: a,
            });
        }
        if too_large(r.rhs) {
            return Err(HygieneError::TooLarge {
                what: format!("the right-hand side of row {}", r.name),
                value: r.rhs,
            });
        }
    }
    Ok(())
}
