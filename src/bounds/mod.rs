//! Bounds: from a network and an input region to sound bounds `[L, U]` on every unit, by pure
//! analysis of the IR (no solver).
//!
//! Lowering turns these into big-M coefficients and decides which ReLUs are stable (no binary
//! at all), so tighter bounds mean smaller, faster MILPs. This module is a leaf under
//! [`crate::lower`]: it holds what bounds *are* ([`Bounds`], [`InputBox`], [`Region`], the
//! [`Method`] names, [`BoundsReport`], bounds files) and the two passes that need nothing but the
//! weights. The solver-driven passes (`lp`, `milp`) lower the network and call HiGHS, so they
//! live above `lower` and `solve`, in [`crate::tighten`], which also runs the whole chain:
//!
//! | method | what | cost |
//! |---|---|---|
//! | `interval` | interval arithmetic layer by layer | one pass over the weights |
//! | `symbolic` | linear bounds back-substituted to the input (DeepPoly/CROWN-style ReLU relaxation) | per unit, one pass over all earlier weights |
//! | ([`forward`]) | affine functions of the input pushed forward (symbolic intervals); what input splitting uses per box | per layer, its weights times the input size |
//! | `lp` ([`crate::tighten`]) | per unit, min and max over the LP relaxation of the network up to it | two LPs per unstable unit |
//! | `milp` ([`crate::tighten`]) | the same over the exact MILP, keeping HiGHS's dual bound | two time-limited MILPs per unit still unstable |
//!
//! Each method starts from the previous one's result and only ever tightens it (lows are
//! maxima, highs minima of old and new). All of them are sound: every value the network takes
//! over the region lies in the bounds.

pub mod file;
mod forward;
mod interval;
mod region;
mod report;
mod symbolic;

pub use file::{BoundsFile, BoundsFileError};
pub use forward::{forward, forward_refined, forward_then_rows};
pub use interval::{interval, interval_in};
pub use region::{L1Ball, Region};
pub use report::{BoundsReport, LayerReport, StageReport};
pub(crate) use symbolic::tighten as tighten_symbolic;
pub use symbolic::{lower_bounds_of, symbolic};

use crate::ir::{Handle, Network, Op};
use thiserror::Error;

#[derive(Debug, Error, PartialEq)]
pub enum BoundsError {
    #[error("input region has {got} entries, the network has {expected} inputs")]
    RegionSize { expected: usize, got: usize },
    #[error("input region: lower bound {lo} above upper bound {hi} at input {index}")]
    EmptyRegion { index: usize, lo: f64, hi: f64 },
    #[error("{0}")]
    Option(String),
}

/// A box of inputs `lo <= x <= hi` (entries may be infinite).
#[derive(Clone, Debug, PartialEq)]
pub struct InputBox {
    pub lo: Vec<f64>,
    pub hi: Vec<f64>,
}

impl InputBox {
    /// The same interval `[lo, hi]` for each of `n` inputs.
    pub fn uniform(n: usize, lo: f64, hi: f64) -> Self {
        InputBox {
            lo: vec![lo; n],
            hi: vec![hi; n],
        }
    }

    pub fn check(&self, net: &Network) -> Result<(), BoundsError> {
        let n = net.input_size();
        if self.lo.len() != n || self.hi.len() != n {
            return Err(BoundsError::RegionSize {
                expected: n,
                got: self.lo.len().min(self.hi.len()),
            });
        }
        for (i, (&lo, &hi)) in self.lo.iter().zip(&self.hi).enumerate() {
            if lo.is_nan() || hi.is_nan() || lo > hi {
                return Err(BoundsError::EmptyRegion { index: i, lo, hi });
            }
        }
        Ok(())
    }

    pub fn contains(&self, x: &[f64]) -> bool {
        x.iter()
            .zip(&self.lo)
            .zip(&self.hi)
            .all(|((x, lo), hi)| lo <= x && x <= hi)
    }
}

/// Which bounds pass to run (each includes the ones before it).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Method {
    /// Interval arithmetic, layer by layer.
    Interval,
    /// Linear relaxation bounds by back-substitution to the input box.
    Symbolic,
    /// Per-unit optima of the LP relaxation (the triangle relaxation with the current bounds).
    Lp,
    /// Per-unit dual bounds of the exact MILP under a time limit (Fischetti & Jo's tightening).
    Milp,
}

impl Method {
    pub const ALL: [Method; 4] = [Method::Interval, Method::Symbolic, Method::Lp, Method::Milp];

    pub fn name(self) -> &'static str {
        match self {
            Method::Interval => "interval",
            Method::Symbolic => "symbolic",
            Method::Lp => "lp",
            Method::Milp => "milp",
        }
    }

    /// The method called `name` (as written by [`Method::name`]).
    pub fn from_name(name: &str) -> Option<Method> {
        Method::ALL.into_iter().find(|m| m.name() == name)
    }
}

/// Settings of the solver-based methods (`lp`, `milp`).
#[derive(Clone, Debug, PartialEq)]
pub struct BoundsOptions {
    /// Seconds HiGHS may spend on one unit's minimisation or maximisation (default 1).
    pub unit_time_limit: f64,
    /// Worker threads of the lp / milp passes (`None`: one per core); each HiGHS instance serves
    /// one chunk of a layer, and the bounds do not depend on this number.
    pub threads: Option<usize>,
    /// Show a progress bar on stderr for the solver-based methods (only when stderr is a
    /// terminal; otherwise nothing is drawn).
    pub progress: bool,
}

impl BoundsOptions {
    /// Refuses settings no pass can run with (a negative or NaN time limit, no threads).
    pub fn check(&self) -> Result<(), BoundsError> {
        if self.unit_time_limit.is_nan() || self.unit_time_limit < 0.0 {
            return Err(BoundsError::Option(format!(
                "unit time limit {} is not a number of seconds >= 0",
                self.unit_time_limit
            )));
        }
        if self.threads == Some(0) {
            return Err(BoundsError::Option("0 threads".into()));
        }
        Ok(())
    }
}

impl Default for BoundsOptions {
    fn default() -> Self {
        BoundsOptions {
            unit_time_limit: 1.0,
            threads: None,
            progress: false,
        }
    }
}

/// Sound bounds on the value of every unit of every layer (indexed by layer handle).
#[derive(Clone, Debug, PartialEq)]
pub struct Bounds {
    pub lo: Vec<Vec<f64>>,
    pub hi: Vec<Vec<f64>>,
    /// The method that produced them (recorded in file headers and reports).
    pub method: Method,
}

impl Bounds {
    pub fn layer(&self, h: Handle) -> (&[f64], &[f64]) {
        (&self.lo[h.index()], &self.hi[h.index()])
    }

    /// `(stable, unstable)` ReLU counts: a ReLU is stable when its input's bounds do not
    /// straddle zero (`L >= 0` or `U <= 0`).
    pub fn relu_stability(&self, net: &Network) -> (usize, usize) {
        let mut stable = 0;
        let mut unstable = 0;
        for l in net.layers() {
            if let Op::Relu { input } = l.op {
                let (lo, hi) = self.layer(input);
                for (lo, hi) in lo.iter().zip(hi) {
                    if *lo >= 0.0 || *hi <= 0.0 {
                        stable += 1;
                    } else {
                        unstable += 1;
                    }
                }
            }
        }
        (stable, unstable)
    }

    /// True when every layer value at `values` (from [`Network::forward_all`]) lies within the
    /// bounds, up to `tol`. The soundness check of tests.
    pub fn contains(&self, values: &[Vec<f64>], tol: f64) -> bool {
        values.iter().zip(self.lo.iter().zip(&self.hi)).all(|(v, (lo, hi))| {
            v.iter()
                .zip(lo.iter().zip(hi))
                .all(|(x, (l, h))| *l - tol <= *x && *x <= *h + tol)
        })
    }
}

/// Recomputes the bounds of layer `h` from its inputs' current bounds by interval arithmetic
/// and intersects them with what it has: after a layer was tightened, this carries the gain to
/// layers that are not tightened themselves (ReLU and max-pool outputs, unread sums).
pub(crate) fn refresh_layer(net: &Network, bounds: &mut Bounds, h: Handle) {
    let (lo, hi) = interval::layer(net, &bounds.lo, &bounds.hi, h);
    let i = h.index();
    bounds.lo[i].iter_mut().zip(lo).for_each(|(a, b)| *a = a.max(b));
    bounds.hi[i].iter_mut().zip(hi).for_each(|(a, b)| *a = a.min(b));
}
