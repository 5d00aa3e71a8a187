//! One integration-test binary (faster to link than one per file); each module is a topic.

mod backends;
mod bounds;
mod cli;
mod common;
mod data;
mod determinism;
mod exactness;
mod fixtures;
mod malformed;
mod onnx_exactness;
mod onnx_frontend;
mod paper;
mod queries;
mod region;
mod replay;
mod roundtrip;
mod solve;
mod solver_matrix;
mod start;
mod structure;
mod study;
mod verify;
mod vnnlib;
