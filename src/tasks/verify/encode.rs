//! One case of a property as a 0-1 MILP: the network over the case's box (Fischetti & Jo's
//! lowering) plus the output disjunction.
//!
//! Disjunct `d` with rows `a_r · y <= b_r` gets a binary `q_d` (1 = this disjunct is the one
//! met), `pick: sum_d q_d >= 1`, and per row, with `t` the margin column,
//!
//! ```text
//! big-M:      a_r · y + t + M_r q_d <= b_r + M_r
//! indicator:  q_d = 1 -> a_r · y + t <= b_r
//! ```
//!
//! where `M_r = U_r + T` bounds `a_r · y - b_r + t` from the spec layer's bounds (`U_r`) and
//! `t <= T`. With `q_d = 0` the row says only what the bounds already prove, so it cuts nothing
//! off. Disjuncts the bounds rule out get no binary (unless all are, when all are kept: the
//! file then still states the whole problem); a single remaining disjunct needs none.
//!
//! Objective `margin` (default): maximise `t` in `[t_lo, T]`, the smallest slack of the chosen
//! disjunct; the property is violated in the case iff the optimum is `>= 0`, and on a time-out
//! the dual bound still bounds the violation (a bound below 0 is a proof). For `--solve` the
//! column starts at 0 (only counterexamples are feasible, so infeasible means safe).
//! Objective `feasibility`: no `t`; feasible iff violated.

use super::spec::SpecNet;
use crate::bounds::Bounds;
use crate::lower::{self, Encoding, LowerOptions, Lowered};
use crate::milp::{Col, ColKind, LinExpr, Milp, ObjSense, Sense};

/// What the model optimises.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Objective {
    /// Maximise the violation margin `t`.
    #[default]
    Margin,
    /// No objective: feasible iff the property is violated.
    Feasibility,
}

impl Objective {
    pub fn name(self) -> &'static str {
        match self {
            Objective::Margin => "margin",
            Objective::Feasibility => "feasibility",
        }
    }
}

/// A case's MILP and where its parts live.
pub struct CaseModel {
    pub lowered: Lowered,
    /// `(disjunct, q_d)` for each disjunct with a binary.
    pub picks: Vec<(usize, Col)>,
    /// Disjuncts left after the bounds (the others are ruled out).
    pub live: Vec<usize>,
}

/// Lowers the case. `open`, when given, says which disjuncts may still be met (others were
/// ruled out before, e.g. over a larger box, or are not asked about: one `true` asks "can
/// this disjunct be met"). `margin_from_zero`: the margin column starts at 0, so that only
/// counterexamples are feasible (what `--solve` proves with); otherwise at the lowest margin the
/// bounds allow, so that every input of the box is feasible (what a file for other tools says).
pub fn encode(
    spec: &SpecNet,
    bounds: &Bounds,
    encoding: Encoding,
    objective: Objective,
    margin_from_zero: bool,
    open: Option<&[bool]>,
) -> Result<CaseModel, crate::tasks::TaskError> {
    let base = spec.base_bounds(bounds);
    let mut lowered = lower::lower(&spec.base, &base, LowerOptions { encoding })?;
    let (rlo, rhi) = spec.row_bounds(bounds);
    let ruled = spec.ruled_out(bounds);
    let asked = |d: usize| open.is_none_or(|o| o[d]);
    let mut live: Vec<usize> = (0..spec.disjunct_rows.len())
        .filter(|&d| !ruled[d] && asked(d))
        .collect();
    if live.is_empty() {
        live = (0..spec.disjunct_rows.len()).filter(|&d| asked(d)).collect();
    }
    let milp: &mut Milp = &mut lowered.milp;
    milp.name = "nnmilp_vnnlib".into();
    // Largest and smallest margin a disjunct can have: t <= -(a·y - b) for each of its rows.
    let best = |d: usize, v: &[f64]| {
        spec.disjunct_rows[d]
            .clone()
            .map(|r| -v[r])
            .fold(f64::INFINITY, f64::min)
    };
    let t_hi = live.iter().map(|&d| best(d, rlo)).fold(f64::NEG_INFINITY, f64::max);
    let t_lo = live.iter().map(|&d| best(d, rhi)).fold(f64::INFINITY, f64::min);
    let margin = match objective {
        Objective::Margin => {
            let lo = if margin_from_zero { 0.0 } else { t_lo.min(0.0) };
            let hi = t_hi.max(lo);
            let t = milp.add_col("vmargin", lo, hi, ColKind::Continuous);
            milp.set_objective(ObjSense::Maximize, LinExpr::var(t));
            Some(t)
        }
        _ => None,
    };
    let t_max = margin.map_or(0.0, |t| milp.col(t).hi);
    let y = lowered.outputs.clone();
    let mut picks = Vec::new();
    for &d in &live {
        let q = (live.len() > 1).then(|| {
            let q = milp.add_col(format!("q_{d}"), 0.0, 1.0, ColKind::Binary);
            picks.push((d, q));
            q
        });
        for r in spec.disjunct_rows[d].clone() {
            let row = &spec.rows[r];
            let mut terms: Vec<(Col, f64)> = row.coeffs.iter().map(|&(j, a)| (y[j], a)).collect();
            if let Some(t) = margin {
                terms.push((t, 1.0));
            }
            let name = format!("spec_{d}_{}", r - spec.disjunct_rows[d].start);
            match q {
                None => {
                    milp.add_row(name, terms, Sense::Le, row.rhs);
                }
                Some(q) => {
                    let big_m = rhi[r] + t_max;
                    if encoding != Encoding::Indicator && big_m > 0.0 {
                        let mut with_q = terms.clone();
                        with_q.push((q, big_m));
                        milp.add_row(name.clone(), with_q, Sense::Le, row.rhs + big_m);
                    }
                    if encoding != Encoding::BigM {
                        milp.add_indicator(format!("i{name}"), q, true, terms, Sense::Le, row.rhs);
                    }
                }
            }
        }
    }
    if !picks.is_empty() {
        milp.add_row("pick", picks.iter().map(|&(_, q)| (q, 1.0)).collect(), Sense::Ge, 1.0);
    }
    Ok(CaseModel { lowered, picks, live })
}
