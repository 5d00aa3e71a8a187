//! LP and MILP bounds: each unit that matters is minimised and maximised over the LP relaxation
//! (`lp`) or the exact MILP (`milp`, Fischetti & Jo's bound tightening) of the network up to its
//! layer, lowered with the current bounds.
//!
//! With bounds `[l, u]` on an unstable ReLU's input, relaxing the paper's binary to `[0, 1]`
//! leaves exactly the triangle `y >= 0, y >= x, y <= u (x - l) / (u - l)`, so this is the
//! tightest convex relaxation of each unit on its own, and its optimum is a sound bound.
//! Layers are processed in order and the prefix is lowered again after each one, so later LPs
//! see the earlier gains (smaller big-Ms, more stable units).
//!
//! Which units: those of affine, sum and max-pool layers that are read by a ReLU and still
//! unstable, every unit read by a max-pool (its big-Ms depend on them) and every output unit.
//! A layer's units are cut into chunks ([`chunk_len`]) whose size depends on the layer alone,
//! never on the number of threads; each chunk gets its own HiGHS instance, which loads the
//! layer's model once and solves the chunk's units in order. Between units only the objective
//! changes (one cost and the sense), so HiGHS starts each LP from the last basis. For `lp` a
//! chunk's first LP does not start from scratch either: one LP per layer (the first unit's
//! minimum) is solved first and every chunk starts from its optimal basis, so a layer costs one
//! cold solve however many chunks it has. A unit's result thus depends only on the layer's model
//! and the units before it in its chunk, so the bounds are bit-identical for any number of
//! threads (the chunks are spread over the threads and their results read back in order);
//! `milp` with no unit time limit likewise, while a time limit makes a unit's dual bound depend
//! on the machine's speed.
//!
//! For `milp` the bound kept is HiGHS's *dual* bound (what branch and bound has proved), never
//! the incumbent: a time-limited incumbent is only a value the unit can take, not a bound on all
//! of them. With no time limit the dual bound closes on the exact range of the unit.

use super::progress::layer_bar;
use super::TightenError;
use crate::bounds::{refresh_layer, Bounds, BoundsOptions, Method, Region};
use crate::ir::{Handle, Network, Op};
use crate::lower::{add_distance, lower, LowerOptions, Norm};
use crate::milp::{Milp, ObjSense};
use crate::solve::highs::{Basis, Highs};
use crate::solve::{SolveError, SolveOptions, Status};
use indicatif::ProgressBar;
use rayon::prelude::*;
use std::time::Instant;

/// Relative widening of every solver optimum: HiGHS works to feasibility tolerances of about
/// 1e-7, so an optimum may sit that far inside the true range; 1e-6 covers it.
const SOLVER_MARGIN: f64 = 1e-6;

/// Relative MIP gap at which HiGHS may stop a unit's MILP (its dual bound is sound at any gap).
const MIP_REL_GAP: f64 = 1e-6;

/// A unit and the bounds proven on it (`None`: keep the previous one).
type UnitBounds = (usize, Option<f64>, Option<f64>);

/// The units of layer `h` worth a solve under the current bounds.
fn targets(net: &Network, bounds: &Bounds, h: Handle) -> Vec<usize> {
    if !matches!(net.layer(h).op, Op::Affine { .. } | Op::Sum { .. } | Op::MaxPool { .. }) {
        return Vec::new();
    }
    let read_by = |pred: fn(&Op) -> bool| net.info().consumers(h).iter().any(|c| pred(&net.layer(*c).op));
    let by_relu = read_by(|op| matches!(op, Op::Relu { .. }));
    let by_pool = read_by(|op| matches!(op, Op::MaxPool { .. }));
    let all = by_pool || h == net.output();
    let (lo, hi) = bounds.layer(h);
    (0..lo.len())
        .filter(|&j| lo[j] < hi[j] && (all || (by_relu && lo[j] < 0.0 && hi[j] > 0.0)))
        .collect()
}

/// Tightens `bounds` in place by per-unit optima over the LP relaxation (`Method::Lp`,
/// binaries in `[0, 1]`) or the exact MILP (`Method::Milp`, under the unit time limit);
/// returns seconds per layer.
pub(super) fn tighten(
    net: &Network,
    region: &Region,
    bounds: &mut Bounds,
    options: &BoundsOptions,
    method: Method,
) -> Result<Vec<f64>, TightenError> {
    let mut seconds = vec![0.0; net.layers().len()];
    let solver_err = |e: SolveError| TightenError::Solver {
        method: method.name(),
        message: e.to_string(),
    };
    let solve_options = SolveOptions {
        time_limit: options.unit_time_limit.is_finite().then_some(options.unit_time_limit),
        threads: Some(1),
        mip_rel_gap: (method == Method::Milp).then_some(MIP_REL_GAP),
        ..SolveOptions::default()
    };
    for h in net.handles().skip(1) {
        let t0 = Instant::now();
        refresh_layer(net, bounds, h);
        let units = targets(net, bounds, h);
        if !units.is_empty() {
            let (milp, cols) = prefix_model(net, region, bounds, h, method)?;
            let start = match method {
                Method::Lp => start_basis(&milp, cols[units[0]], &solve_options).map_err(solver_err)?,
                _ => None,
            };
            let chunk = chunk_len(units.len());
            let bar = layer_bar(options.progress, method.name(), &net.layer(h).name, units.len());
            let results: Vec<Vec<UnitBounds>> = units
                .par_chunks(chunk)
                .map(|chunk| solve_units(&milp, &cols, chunk, start.as_ref(), &solve_options, &bar))
                .collect::<Result<_, _>>()
                .map_err(solver_err)?;
            bar.finish_and_clear();
            let i = h.index();
            for (j, lo, hi) in results.into_iter().flatten() {
                if let Some(v) = lo {
                    bounds.lo[i][j] = bounds.lo[i][j].max(v - SOLVER_MARGIN * (1.0 + v.abs()));
                }
                if let Some(v) = hi {
                    bounds.hi[i][j] = bounds.hi[i][j].min(v + SOLVER_MARGIN * (1.0 + v.abs()));
                }
            }
        }
        seconds[h.index()] = t0.elapsed().as_secs_f64();
    }
    Ok(seconds)
}

/// Units per HiGHS instance in a layer of `n` units to solve: about 8 chunks per layer (enough to
/// spread over the threads of a common machine), at least 4 units per chunk (a chunk's first LP
/// is solved from scratch, the others are warm-started) and at most 64 (a wide layer still
/// gives work to many threads). A function of `n` only, so that the results do not depend on
/// the number of threads.
fn chunk_len(n: usize) -> usize {
    n.div_ceil(8).clamp(4, 64)
}

/// The network up to layer `h`, lowered with the current bounds (relaxed for [`Method::Lp`]),
/// with the region's L1 ball as distance columns and a budget row, and the column of each unit
/// of `h`.
fn prefix_model(
    net: &Network,
    region: &Region,
    bounds: &Bounds,
    h: Handle,
    method: Method,
) -> Result<(Milp, Vec<usize>), TightenError> {
    let end = h.index() + 1;
    let prefix = Network::new(net.layers()[..end].to_vec(), h).map_err(|e| TightenError::Solver {
        method: method.name(),
        message: format!("prefix network up to layer {}: {e}", h.index()),
    })?;
    let prefix_bounds = Bounds {
        lo: bounds.lo[..end].to_vec(),
        hi: bounds.hi[..end].to_vec(),
        method: bounds.method,
    };
    let lowered = lower(&prefix, &prefix_bounds, LowerOptions::default()).map_err(|source| TightenError::Lower {
        method: method.name(),
        source,
    })?;
    let mut milp = lowered.milp;
    if let Some(ball) = &region.l1 {
        add_distance(
            &mut milp,
            &lowered.inputs,
            &ball.center,
            &region.input_box,
            Norm::L1,
            Some(ball.radius),
        );
    }
    if method == Method::Lp {
        milp.relax_integrality();
    }
    Ok((milp, lowered.outputs.iter().map(|c| c.index()).collect()))
}

/// The optimal basis of minimising column `col` over the LP `milp`, for every chunk of the
/// layer to start from (`None` when HiGHS ends without one; the chunks then start cold, which
/// is as deterministic).
fn start_basis(milp: &Milp, col: usize, options: &SolveOptions) -> Result<Option<Basis>, SolveError> {
    let mut highs = Highs::new()?;
    highs.apply_options(options)?;
    highs.pass_milp(milp)?;
    highs.change_col_cost(col, 1.0)?;
    highs.set_objective_sense(ObjSense::Minimize)?;
    if highs.run().is_err() || highs.model_status().condensed() != Status::Optimal {
        return Ok(None);
    }
    highs.basis()
}

/// Minimises and maximises each unit of `units` on one HiGHS instance, starting from `start`
/// when given. A failed or bound-less solve gives `None` (the caller keeps the previous bound).
fn solve_units(
    milp: &Milp,
    cols: &[usize],
    units: &[usize],
    start: Option<&Basis>,
    options: &SolveOptions,
    bar: &ProgressBar,
) -> Result<Vec<UnitBounds>, SolveError> {
    let mut highs = Highs::new()?;
    highs.apply_options(options)?;
    highs.pass_milp(milp)?;
    if let Some(b) = start {
        highs.set_basis(b)?;
    }
    let mut out = Vec::with_capacity(units.len());
    for &j in units {
        let col = cols[j];
        highs.change_col_cost(col, 1.0)?;
        highs.set_objective_sense(ObjSense::Minimize)?;
        let lo = proven_bound(&mut highs);
        highs.set_objective_sense(ObjSense::Maximize)?;
        let hi = proven_bound(&mut highs);
        highs.change_col_cost(col, 0.0)?;
        out.push((j, lo, hi));
        bar.inc(1);
    }
    Ok(out)
}

/// The bound HiGHS has proved on the objective: the LP optimum, or a MILP's dual bound (also
/// when the time limit stopped it), never an incumbent.
fn proven_bound(highs: &mut Highs) -> Option<f64> {
    highs.run().ok()?;
    let sol = highs.solution().ok()?;
    match sol.status {
        Status::Optimal | Status::TimeLimit => sol.dual_bound,
        _ => None,
    }
}
