//! nnmilp: compile trained ReLU networks into exact 0-1 mixed-integer linear programs.
//!
//! Data flows one way (Fischetti & Jo, *Deep Neural Networks as 0-1 Mixed Integer Linear
//! Programs: a Feasibility Study*, Constraints 2018):
//!
//! `front::onnx` → [`ir`] → [`bounds`] → [`lower`] → [`milp`] → `back::{mps, lp}`,
//! with [`solve`] (embedded HiGHS) and [`tasks`] (adversarial examples, ...) on top.
//! [`data`] reads input images and writes pictures; [`cli`] only parses arguments.

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

pub use error::Error;
