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

use crate::milp::{name, Col, ColKind, Milp, Row, Sense};
use rayon::prelude::*;
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
    check_bounds(milp)?;
    // Every row is read on rayon's threads (the reading is all the work for nearly every
    // model: a dense net's 3 million entries, none of them dropped); the rare rewrites follow,
    // in row order.
    let scans: Vec<RowScan> = milp.rows().par_iter().map(|row| RowScan::of(row, milp)).collect();
    let mut stats = HygieneStats::default();
    for (row, scan) in milp.rows().iter().zip(&scans) {
        if let Some(k) = scan.too_large {
            let (c, a) = row.terms[k];
            return Err(HygieneError::TooLarge {
                what: format!("the coefficient of {} in row {}", milp.col(c).name, row.name),
                value: a,
            });
        }
        if too_large(row.rhs) {
            return Err(HygieneError::TooLarge {
                what: format!("the right-hand side of row {}", row.name),
                value: row.rhs,
            });
        }
        stats.kept_unbounded += scan.kept_unbounded;
    }
    for (r, scan) in scans.iter().enumerate() {
        if !scan.droppable {
            continue;
        }
        let row = &milp.rows()[r];
        let (mut lo, mut hi) = (0.0f64, 0.0f64);
        let mut kept = Vec::with_capacity(row.terms.len());
        for t in &row.terms {
            if droppable(milp, scan.cut, t) {
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

/// What [`clean`] learns from reading one row.
struct RowScan {
    /// Entries at or below this magnitude are dropped (when their column is bounded).
    cut: f64,
    /// The first entry beyond [`MAX_MAGNITUDE`].
    too_large: Option<usize>,
    /// Entries at or below `cut` kept because their column has an infinite bound.
    kept_unbounded: usize,
    /// Whether some entry is dropped.
    droppable: bool,
}

impl RowScan {
    fn of(row: &Row, milp: &Milp) -> Self {
        let mut top = 0.0f64;
        let mut too_large_at = usize::MAX;
        for (k, t) in row.terms.iter().enumerate() {
            top = top.max(t.1.abs());
            if too_large_at == usize::MAX && too_large(t.1) {
                too_large_at = k;
            }
        }
        let cut = ABS_DROP.max(REL_DROP * top);
        let (mut kept_unbounded, mut droppable) = (0, false);
        for t in row.terms.iter().filter(|t| t.1.abs() <= cut) {
            if self::droppable(milp, cut, t) {
                droppable = true;
            } else {
                kept_unbounded += 1;
            }
        }
        RowScan {
            cut,
            too_large: (too_large_at != usize::MAX).then_some(too_large_at),
            kept_unbounded,
            droppable,
        }
    }
}

/// Whether the entry `(c, a)` is dropped from a row whose cut is `cut`: small, and its column
/// bounded on both sides (so its contribution can be widened for).
fn droppable(milp: &Milp, cut: f64, &(c, a): &(Col, f64)) -> bool {
    let col = milp.col(c);
    a.abs() <= cut && col.lo.is_finite() && col.hi.is_finite()
}

/// A finite value beyond [`MAX_MAGNITUDE`].
fn too_large(v: f64) -> bool {
    v.is_finite() && v.abs() > MAX_MAGNITUDE
}

/// Refuses a model with a finite bound beyond [`MAX_MAGNITUDE`] (the rows are checked by
/// [`RowScan`]).
fn check_bounds(milp: &Milp) -> Result<(), HygieneError> {
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
    Ok(())
}
