//! Bounds passes: from a network and an input region to sound bounds `[L, U]` on every unit.
//!
//! Lowering turns these into big-M coefficients and decides which ReLUs are stable (no binary
//! at all), so tighter bounds mean smaller, faster MILPs. Every method maps
//! `(network, region)` to [`Bounds`]; stronger methods (symbolic, LP, MILP) plug in as further
//! [`Method`] variants and start from a weaker method's result.

mod interval;

pub use interval::interval;

use crate::ir::{Handle, Network, Op};
use thiserror::Error;

#[derive(Debug, Error, PartialEq)]
pub enum BoundsError {
    #[error("input region has {got} entries, the network has {expected} inputs")]
    RegionSize { expected: usize, got: usize },
    #[error("input region: lower bound {lo} above upper bound {hi} at input {index}")]
    EmptyRegion { index: usize, lo: f64, hi: f64 },
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

/// Which bounds pass to run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    /// Interval arithmetic, layer by layer.
    Interval,
}

impl Method {
    pub fn name(self) -> &'static str {
        match self {
            Method::Interval => "interval",
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

/// Runs a bounds pass over an input box.
pub fn compute(net: &Network, region: &InputBox, method: Method) -> Result<Bounds, BoundsError> {
    region.check(net)?;
    Ok(match method {
        Method::Interval => interval(net, region),
    })
}
