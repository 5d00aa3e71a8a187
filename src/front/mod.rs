//! Front ends: one module per source format, each producing an [`crate::ir::Network`].

pub mod onnx;
pub mod solution;
pub mod vnnlib;
