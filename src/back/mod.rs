//! Back ends: writers from [`crate::milp::Milp`] to text formats (stub: being written).
