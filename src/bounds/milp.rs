//! MILP bounds (Fischetti & Jo's bound tightening): each unit still unstable after the LP pass
//! is minimised and maximised over the exact MILP of the network up to it, under a time limit.
//!
//! The bound kept is HiGHS's *dual* bound (what branch and bound has proved), never the
//! incumbent: a time-limited incumbent is only a value the unit can take, not a bound on all of
//! them. With no time limit the dual bound closes on the exact range of the unit over the box.

use super::lp::{tighten_with, Problem};
use super::{Bounds, BoundsError, BoundsOptions, Region};
use crate::ir::Network;

/// Tightens `bounds` in place by per-unit MILPs; returns seconds per layer.
pub(super) fn tighten(
    net: &Network,
    region: &Region,
    bounds: &mut Bounds,
    options: &BoundsOptions,
) -> Result<Vec<f64>, BoundsError> {
    tighten_with(net, region, bounds, options, Problem::Milp)
}
