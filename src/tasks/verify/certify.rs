//! Certified LP bounds: a bound on an LP's optimum that holds whatever HiGHS's tolerances did
//! (Neumaier & Shcherbina, *Safe bounds in linear and mixed-integer linear programming*,
//! Math. Programming 99, 2004; MIPVerify.jl certifies its LP bounds the same way).
//!
//! For `min c·x` over `L_r <= A_r x <= U_r`, `l <= x <= u`, any multipliers `y` give
//! `c·x = Σ_r y_r (A_r x) + (c - Aᵀy)·x >= Σ_r min(y_r L_r, y_r U_r) + Σ_j min(d_j l_j, d_j u_j)`
//! with `d = c - Aᵀy`, for every feasible `x`. Taking `y` from the solver's row duals makes this
//! nearly the LP optimum; it is a bound whatever `y` is, so an inexact dual costs tightness,
//! never soundness. A multiplier on an infinite side is dropped (set to 0).
//!
//! Rust cannot switch the FPU's rounding direction, so instead of directed rounding every
//! floating-point step gets an explicit error bound (Higham, *Accuracy and Stability of
//! Numerical Algorithms*, §3.1: a sum of `n` products computed in `f64` is within
//! `γ_n Σ|terms|` of the exact one, `γ_n = n u / (1 - n u)`, `u = 2⁻⁵³`), taken twice over:
//! `d_j` becomes an interval, each minimum is taken over the interval's ends, and the final
//! sum is lowered by its own error bound.

use crate::milp::{Milp, ObjSense, Sense};
use crate::solve::highs::Highs;
use crate::solve::{SolveError, SolveOptions, Status};

const U: f64 = f64::EPSILON / 2.0;

/// `2 γ_n`: the error bound of an `n`-term sum, doubled for the rounding of the bound itself.
fn gamma2(n: usize) -> f64 {
    let nu = (n as f64 + 2.0) * U;
    2.0 * nu / (1.0 - nu)
}

/// A certified bound and what it cost.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CertifiedBound {
    /// HiGHS's optimum (not a bound by itself).
    pub lp_optimum: f64,
    /// A lower bound (minimisation) or upper bound (maximisation) on the true LP optimum.
    pub certified: f64,
    pub lp_seconds: f64,
    pub certify_seconds: f64,
}

/// A rigorous lower bound on `min cost·x` over the rows and column bounds of `lp` (its
/// integrality and objective are ignored) from multipliers `y` (one per row).
pub fn lower_bound(lp: &Milp, cost: &[f64], y: &[f64]) -> f64 {
    let n = lp.cols().len();
    // d = c - Aᵀy, with the sum of magnitudes of its terms.
    let mut d = cost.to_vec();
    let mut mag: Vec<f64> = cost.iter().map(|c| c.abs()).collect();
    let mut count = vec![1usize; n];
    let mut terms: Vec<f64> = Vec::with_capacity(lp.rows().len() + n);
    for (row, &yr) in lp.rows().iter().zip(y) {
        let (lo, hi) = match row.sense {
            Sense::Le => (f64::NEG_INFINITY, row.rhs),
            Sense::Ge => (row.rhs, f64::INFINITY),
            Sense::Eq => (row.rhs, row.rhs),
        };
        // y_r (A_r x) >= y_r lo when y_r > 0, y_r hi when y_r < 0; an infinite side drops y_r.
        let side = if yr > 0.0 { lo } else { hi };
        if yr == 0.0 || !side.is_finite() {
            continue;
        }
        terms.push(yr * side);
        for &(c, a) in &row.terms {
            let j = c.index();
            d[j] -= a * yr;
            mag[j] += (a * yr).abs();
            count[j] += 1;
        }
    }
    for j in 0..n {
        let col = &lp.cols()[j];
        let e = gamma2(count[j]) * mag[j];
        let (d_lo, d_hi) = (d[j] - e, d[j] + e);
        if d_lo == 0.0 && d_hi == 0.0 {
            continue;
        }
        // min of d·x over d in [d_lo, d_hi], x in [lo, hi]: one of the four corners.
        let mut best = f64::INFINITY;
        for dv in [d_lo, d_hi] {
            for xv in [col.lo, col.hi] {
                let p = if dv == 0.0 { 0.0 } else { dv * xv };
                best = best.min(if p.is_nan() { f64::NEG_INFINITY } else { p });
            }
        }
        if best == f64::NEG_INFINITY {
            return f64::NEG_INFINITY;
        }
        terms.push(best);
    }
    let sum: f64 = terms.iter().sum();
    let abs: f64 = terms.iter().map(|t| t.abs()).sum();
    let bound = sum - gamma2(terms.len()) * abs;
    if bound.is_nan() {
        f64::NEG_INFINITY
    } else {
        bound
    }
}

/// Solves the LP relaxation of `milp` with its objective and certifies the optimum: a lower
/// bound when minimising, an upper bound when maximising. `None` when HiGHS does not report an
/// optimum (then nothing is proved).
pub fn certified_optimum(milp: &Milp, options: &SolveOptions) -> Result<Option<CertifiedBound>, SolveError> {
    let mut lp = milp.clone();
    lp.relax_integrality();
    let t0 = std::time::Instant::now();
    let mut h = Highs::new()?;
    h.apply_options(options)?;
    h.pass_milp(&lp)?;
    h.run()?;
    let sol = h.solution()?;
    let lp_seconds = t0.elapsed().as_secs_f64();
    if sol.status != Status::Optimal {
        return Ok(None);
    }
    let Some(opt) = sol.objective else { return Ok(None) };
    let t1 = std::time::Instant::now();
    let y = h.row_duals()?;
    let maximise = lp.objective().sense == ObjSense::Maximize;
    // As a minimisation: max c·x = -min (-c)·x; HiGHS's duals of the max problem are those of
    // the min problem negated, so `sign` fixes both.
    let sign = if maximise { -1.0 } else { 1.0 };
    let mut cost = vec![0.0; lp.cols().len()];
    for &(c, v) in &lp.objective().terms {
        cost[c.index()] = sign * v;
    }
    let y: Vec<f64> = y.iter().map(|v| sign * v).collect();
    let lb = lower_bound(&lp, &cost, &y);
    // The offset is exact in f64 only up to one rounding of the sum.
    let certified = if maximise {
        let ub = -lb + lp.objective().offset;
        ub + U * 2.0 * ub.abs()
    } else {
        let b = lb + lp.objective().offset;
        b - U * 2.0 * b.abs()
    };
    Ok(Some(CertifiedBound {
        lp_optimum: opt,
        certified,
        lp_seconds,
        certify_seconds: t1.elapsed().as_secs_f64(),
    }))
}
