//! The bounds chain (interval → symbolic → lp → milp) and its solver-driven passes.
//!
//! `interval` and `symbolic` are pure analysis of the IR and live in [`crate::bounds`]. The
//! `lp` and `milp` passes lower the network up to each layer ([`crate::lower`]) and optimise
//! every unit that matters with HiGHS ([`crate::solve`]), so they sit above both; keeping them
//! here is what lets `bounds` stay a leaf that `lower` can read. [`compute`] is the one entry
//! point for the whole chain ([`compute_after`] when the caller has its first stage already).
//!
//! Solver-based passes widen each optimum by a small safety margin (HiGHS works to feasibility
//! tolerances) and fall back to the previous bound when a solve fails or stops without a bound.

mod progress;
mod units;

use crate::bounds::{interval_in, tighten_symbolic, Bounds, BoundsError, BoundsOptions, BoundsReport, Method, Region};
use crate::ir::Network;
use thiserror::Error;

#[derive(Debug, Error)]
pub enum TightenError {
    /// The region or the options were refused before any pass ran.
    #[error(transparent)]
    Bounds(#[from] BoundsError),
    #[error("{method} bounds: {message}")]
    Solver { method: &'static str, message: String },
    #[error("{method} bounds need a finite input box: {source}")]
    Lower {
        method: &'static str,
        source: crate::lower::LowerError,
    },
}

/// Runs `method` and every weaker method before it (interval, then symbolic, then lp, then milp)
/// over `region` (a box, optionally cut by an L1 ball), each starting from the previous result,
/// and reports what each stage did per layer.
pub fn compute(
    net: &Network,
    region: &Region,
    method: Method,
    options: &BoundsOptions,
) -> Result<(Bounds, BoundsReport), TightenError> {
    compute_after(net, region, method, options, None)
}

/// Interval bounds a caller has computed already ([`interval_in`] of the same network over the
/// same region) and the seconds they took: the first stage of a chain.
pub type IntervalStage = (Bounds, f64);

/// [`compute`], starting from `interval` when the caller has it (a task that decides the form
/// of its problem from interval bounds over its region), instead of computing it again.
pub fn compute_after(
    net: &Network,
    region: &Region,
    method: Method,
    options: &BoundsOptions,
    interval: Option<IntervalStage>,
) -> Result<(Bounds, BoundsReport), TightenError> {
    region.check(net)?;
    options.check()?;
    match options.threads {
        Some(n) => rayon::ThreadPoolBuilder::new()
            .num_threads(n)
            .build()
            .map_err(|e| BoundsError::Option(format!("cannot start {n} threads: {e}")))?
            .install(|| run_chain(net, region, method, options, interval)),
        None => run_chain(net, region, method, options, interval),
    }
}

fn run_chain(
    net: &Network,
    region: &Region,
    method: Method,
    options: &BoundsOptions,
    interval: Option<IntervalStage>,
) -> Result<(Bounds, BoundsReport), TightenError> {
    let mut report = BoundsReport::default();
    let (mut bounds, seconds) = interval.unwrap_or_else(|| {
        let start = std::time::Instant::now();
        (interval_in(net, region), start.elapsed().as_secs_f64())
    });
    debug_assert_eq!(bounds.method, Method::Interval);
    debug_assert_eq!(bounds.lo.len(), net.layers().len());
    report.push_stage(net, Method::Interval, None, &bounds, seconds, Vec::new());
    for stage in [Method::Symbolic, Method::Lp, Method::Milp] {
        if stage > method {
            break;
        }
        let before = bounds.clone();
        let start = std::time::Instant::now();
        let layer_seconds = match stage {
            Method::Symbolic => {
                let (b, t) = tighten_symbolic(net, region, &bounds);
                bounds = b;
                t
            }
            Method::Lp | Method::Milp => units::tighten(net, region, &mut bounds, options, stage)?,
            Method::Interval => unreachable!("interval runs first"),
        };
        bounds.method = stage;
        report.push_stage(
            net,
            stage,
            Some(&before),
            &bounds,
            start.elapsed().as_secs_f64(),
            layer_seconds,
        );
    }
    Ok((bounds, report))
}
