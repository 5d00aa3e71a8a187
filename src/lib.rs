//! nnmilp: compile trained ReLU networks into exact 0-1 mixed-integer linear programs.
//!
//! Data flows one way (Fischetti & Jo, *Deep Neural Networks as 0-1 Mixed Integer Linear
//! Programs: a Feasibility Study*, Constraints 2018):
//!
//! `front::onnx` → [`ir`] → [`bounds`] → [`lower`] → [`milp`] → `back::{mps, lp}`,
//! with [`solve`] (embedded HiGHS) reading [`milp`], [`tighten`] (the bounds chain with its
//! LP/MILP passes) above `lower` and `solve`, and [`tasks`] (adversarial examples, ...) on top.
//! [`data`] reads input images and writes pictures; [`cli`] only parses arguments.
//!
//! Every `crate::` reference points down this list: no module reads one above it (a test in
//! `tests/structure.rs` fails on any import circle between top-level modules).

pub mod back;
pub mod bounds;
pub mod cli;
pub mod data;
pub mod error;
pub mod front;
pub mod ir;
pub mod lower;
pub mod milp;
pub mod solve;
pub mod tasks;
pub mod tighten;

pub use error::Error;
