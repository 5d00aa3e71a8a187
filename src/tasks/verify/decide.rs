//! Deciding one box of one case: bounds first, then the MILP seeded with the best known point.
//!
//! Every answer here is either a proof or a replayed point. `Safe` comes only from bounds that
//! rule out every disjunct, or from HiGHS's dual bound on the margin below `-MILP_PROOF_MARGIN`;
//! `Violated` only from a point whose forward pass meets a disjunct with VNN-COMP's margin
//! ([`super::falsify::disjunct_score`]). Everything else is `Open` (not decided) — never safe.

use super::certify::certified_optimum;
use super::encode::{encode, CaseModel, Objective};
use super::falsify::{to_f32_in, Candidate};
use super::spec::SpecNet;
use crate::bounds::{Bounds, Method};
use crate::front::vnnlib::Case;
use crate::lower::Encoding;
use crate::milp::ObjSense;
use crate::solve::highs::Highs;
use crate::solve::{SolveOptions, Status};
use std::time::Instant;

/// HiGHS's dual bound on the margin must lie this far below 0 to prove a box safe (its
/// feasibility tolerance is 1e-7 on a scaled model; through big-M rows that grows).
pub const MILP_PROOF_MARGIN: f64 = 1e-5;

/// What became of a box.
#[derive(Clone, Debug)]
pub enum Outcome {
    /// No input of the box violates the property (proved).
    Safe,
    /// A replayed counterexample.
    Violated(Candidate),
    /// Not decided: the reason, and the best dual bound on the margin when a MILP ran.
    Open { reason: String, margin_bound: Option<f64> },
}

/// One box of a case, with its spec network.
pub struct BoxProblem<'a> {
    pub spec: &'a SpecNet,
    pub case: &'a Case,
    pub case_index: usize,
    pub lo: Vec<f64>,
    pub hi: Vec<f64>,
}

impl BoxProblem<'_> {
    /// Symbolic bounds over the box.
    pub fn bounds(&self) -> Result<Bounds, crate::tasks::TaskError> {
        self.spec.bounds(&self.lo, &self.hi, Method::Symbolic)
    }

    /// The cheap bounds splitting computes per box: forward linear functions of the input for
    /// every layer, back-substitution for the property's rows only
    /// ([`crate::bounds::forward_then_rows`]).
    pub fn split_bounds(&self) -> Bounds {
        let b = crate::bounds::InputBox {
            lo: self.lo.clone(),
            hi: self.hi.clone(),
        };
        crate::bounds::forward_then_rows(&self.spec.net, &b, true)
    }

    /// Replays `x` (rounded to `f32` inside the box) on this case.
    pub fn replay(&self, x: &[f64]) -> Option<Candidate> {
        let x: Vec<f64> = x
            .iter()
            .enumerate()
            .map(|(i, &v)| to_f32_in(v, self.lo[i], self.hi[i]))
            .collect();
        let net = &self.spec.base;
        let y = net.forward(&x).ok()?;
        let (disjunct, score) = self
            .case
            .disjuncts
            .iter()
            .enumerate()
            .map(|(d, rows)| (d, super::falsify::disjunct_score(rows, &y)))
            .fold((0, f64::NEG_INFINITY), |a, b| if b.1 > a.1 { b } else { a });
        Some(Candidate {
            x,
            y,
            case: self.case_index,
            disjunct,
            score,
        })
    }

    /// Rules out more disjuncts by LP: for each one still open, the LP relaxation of "meet this
    /// disjunct with the largest margin" over the box; a certified upper bound below
    /// `-MILP_PROOF_MARGIN` proves that no input of the box meets it. Updates `ruled` and
    /// returns the seconds spent (LP, certification).
    pub fn lp_rule_out(&self, bounds: &Bounds, ruled: &mut [bool]) -> (f64, f64) {
        let (mut lp_s, mut cert_s) = (0.0, 0.0);
        for d in 0..ruled.len() {
            if ruled[d] {
                continue;
            }
            let one: Vec<bool> = (0..ruled.len()).map(|k| k == d).collect();
            let Ok(model) = encode(self.spec, bounds, Encoding::BigM, Objective::Margin, false, Some(&one)) else {
                continue;
            };
            let options = SolveOptions {
                time_limit: Some(10.0),
                threads: Some(1),
                ..SolveOptions::default()
            };
            if let Ok(Some(c)) = certified_optimum(&model.lowered.milp, &options) {
                lp_s += c.lp_seconds;
                cert_s += c.certify_seconds;
                if c.certified < -MILP_PROOF_MARGIN {
                    ruled[d] = true;
                }
            }
        }
        (lp_s, cert_s)
    }

    /// The MILP over the box with `bounds` for the disjuncts not `ruled` out, seeded with
    /// `seed` when it lies in the box.
    pub fn milp(
        &self,
        bounds: &Bounds,
        ruled: &[bool],
        time_limit: f64,
        threads: usize,
        seed: Option<&Candidate>,
    ) -> Result<Outcome, crate::tasks::TaskError> {
        if ruled.iter().all(|r| *r) {
            return Ok(Outcome::Safe);
        }
        let open: Vec<bool> = ruled.iter().map(|r| !r).collect();
        let model = encode(self.spec, bounds, Encoding::BigM, Objective::Margin, false, Some(&open))?;
        let start = seed
            .filter(|c| {
                c.case == self.case_index
                    && c.x
                        .iter()
                        .enumerate()
                        .all(|(i, v)| self.lo[i] <= *v && *v <= self.hi[i])
            })
            .and_then(|c| start_values(self.spec, &model, c));
        let mut h = Highs::new()?;
        h.apply_options(&SolveOptions {
            time_limit: Some(time_limit.max(0.0)),
            threads: Some(threads),
            ..SolveOptions::default()
        })?;
        h.pass_milp(&model.lowered.milp)?;
        if let Some(x) = &start {
            h.set_solution(x)?;
        }
        h.run()?;
        let sol = h.solution()?;
        if let Some(values) = &sol.values {
            if sol.objective.is_some_and(|t| t >= 0.0) {
                let x: Vec<f64> = model.lowered.inputs.iter().map(|c| values[c.index()]).collect();
                if let Some(c) = self.replay(&x) {
                    if c.is_counterexample() {
                        return Ok(Outcome::Violated(c));
                    }
                }
            }
        }
        let bound = sol.dual_bound;
        if matches!(sol.status, Status::Optimal | Status::TimeLimit) && bound.is_some_and(|b| b < -MILP_PROOF_MARGIN) {
            return Ok(Outcome::Safe);
        }
        let reason = match sol.status {
            Status::TimeLimit => "time limit".to_string(),
            Status::Optimal => format!(
                "the largest margin {} is too close to 0 (or its point misses VNN-COMP's tolerance on replay)",
                sol.objective.map_or("?".into(), |v| format!("{v:.3e}"))
            ),
            _ => format!("HiGHS: {}", sol.status_text),
        };
        Ok(Outcome::Open {
            reason,
            margin_bound: bound,
        })
    }
}

/// Every column's value at the seed: the model with its inputs fixed at the seed, the network's
/// binaries at their values there and the seed's disjunct picked, solved as an LP.
fn start_values(spec: &SpecNet, model: &CaseModel, seed: &Candidate) -> Option<Vec<f64>> {
    let net = &spec.base;
    let values = net.forward_all(&seed.x).ok()?;
    let mut lp = model.lowered.milp.clone();
    for (col, &v) in model.lowered.inputs.iter().zip(&seed.x) {
        lp.set_col_bounds(*col, v, v);
    }
    for (col, b) in &model.lowered.binaries {
        let v = b.value_at(&net, &values, 0.0).unwrap_or(0.0);
        lp.set_col_bounds(*col, v, v);
    }
    let pick = model
        .picks
        .iter()
        .any(|&(d, _)| d == seed.disjunct)
        .then_some(seed.disjunct)
        .or_else(|| model.picks.first().map(|p| p.0));
    for &(d, q) in &model.picks {
        let v = if Some(d) == pick { 1.0 } else { 0.0 };
        lp.set_col_bounds(q, v, v);
    }
    lp.relax_integrality();
    let mut h = Highs::new().ok()?;
    h.apply_options(&SolveOptions {
        time_limit: Some(10.0),
        threads: Some(1),
        ..SolveOptions::default()
    })
    .ok()?;
    h.pass_milp(&lp).ok()?;
    h.set_objective_sense(ObjSense::Maximize).ok()?;
    h.run().ok()?;
    let sol = h.solution().ok()?;
    (sol.status == Status::Optimal).then_some(sol.values).flatten()
}

/// Seconds left before `deadline`.
pub fn remaining(deadline: Instant) -> f64 {
    deadline.saturating_duration_since(Instant::now()).as_secs_f64()
}
