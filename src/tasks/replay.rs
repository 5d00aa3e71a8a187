//! Checking what a solver returns against the `f64` forward pass, before anything is reported.

use super::TaskError;
use crate::bounds::InputBox;
use crate::milp::{Col, LinExpr};

/// Largest relative difference (scaled by `1 + |value|`) accepted between the solver's objective
/// and the same quantity recomputed by the forward pass from the solver's input. HiGHS works to
/// `1e-7` primal feasibility and `1e-6` integrality tolerances on its scaled model; through big-M
/// rows with coefficients in the hundreds (the MNIST fixtures) and sums over 784 distance columns
/// those add up to about `1e-5`, so a tighter check rejects correct answers. A real modelling
/// error shows up as a difference of the order of the values themselves.
pub const REPLAY_TOLERANCE: f64 = 1e-5;

/// The input the solver found, clamped into the region: solvers return values up to a
/// feasibility tolerance outside their bounds, and the forward pass must see a point of the box.
pub(crate) fn solver_input(values: &[f64], inputs: &[Col], region: &InputBox) -> Vec<f64> {
    inputs
        .iter()
        .enumerate()
        .map(|(j, c)| values[c.index()].clamp(region.lo[j], region.hi[j]))
        .collect()
}

/// [`solver_input`] for inputs that are expressions over the columns (split deviations, inputs
/// the presolve fixed).
pub(crate) fn solver_input_exprs(values: &[f64], inputs: &[LinExpr], region: &InputBox) -> Vec<f64> {
    inputs
        .iter()
        .enumerate()
        .map(|(j, e)| e.eval(values).clamp(region.lo[j], region.hi[j]))
        .collect()
}

/// Fails unless the solver's objective and the replayed value agree within
/// [`REPLAY_TOLERANCE`].
pub(crate) fn check_replay(what: &str, solver: f64, replayed: f64) -> Result<(), TaskError> {
    let diff = (solver - replayed).abs();
    if diff <= REPLAY_TOLERANCE * (1.0 + replayed.abs()) {
        Ok(())
    } else {
        Err(TaskError::ObjectiveMismatch {
            what: what.to_string(),
            solver,
            replayed,
            tolerance: REPLAY_TOLERANCE,
        })
    }
}
