//! What every task's report shares: the network's identity, the model's size, the timings.

use super::NetworkSource;
use crate::bounds;
use crate::lower::{Encoding, LowerStats};
use crate::milp::Milp;
use serde::Serialize;
use std::fmt;

/// The tool and version that made a report (`nnmilp 0.1.0`).
pub(crate) fn tool() -> String {
    format!("nnmilp {}", env!("CARGO_PKG_VERSION"))
}

#[derive(Clone, Debug, Serialize)]
pub struct NetworkInfo {
    pub file: String,
    pub sha256: String,
    pub inputs: usize,
    pub outputs: usize,
}

impl NetworkInfo {
    pub fn of(src: &NetworkSource) -> Self {
        NetworkInfo {
            file: src.file_name(),
            sha256: src.sha256.clone(),
            inputs: src.network.input_size(),
            outputs: src.network.output_size(),
        }
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct ModelInfo {
    pub file: Option<String>,
    pub encoding: &'static str,
    pub bounds: &'static str,
    pub columns: usize,
    pub rows: usize,
    pub binaries: usize,
    pub indicators: usize,
    pub relu_units: usize,
    pub relu_unstable: usize,
    pub relu_stable: usize,
    pub pool_binaries: usize,
}

impl ModelInfo {
    pub fn of(
        milp: &Milp,
        stats: &LowerStats,
        encoding: Encoding,
        method: bounds::Method,
        file: Option<String>,
    ) -> Self {
        ModelInfo {
            file,
            encoding: encoding.name(),
            bounds: method.name(),
            columns: milp.cols().len(),
            rows: milp.rows().len(),
            binaries: milp.n_integer(),
            indicators: milp.indicators().len(),
            relu_units: stats.relu_units,
            relu_unstable: stats.relu_unstable,
            relu_stable: stats.relu_stable_active + stats.relu_stable_inactive,
            pool_binaries: stats.pool_binaries,
        }
    }
}

/// One line: the model's size, encoding and bounds.
impl fmt::Display for ModelInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "model: {} columns, {} rows, {} binaries, {} indicators ({} encoding, {} bounds; {} of {} ReLUs unstable)",
            self.columns,
            self.rows,
            self.binaries,
            self.indicators,
            self.encoding,
            self.bounds,
            self.relu_unstable,
            self.relu_units
        )
    }
}

/// Seconds spent in each stage of a task (the `timing` object of every report).
#[derive(Clone, Debug, Default, Serialize)]
pub struct Timing {
    pub load_seconds: f64,
    pub bounds_seconds: f64,
    pub lower_seconds: f64,
    pub write_seconds: f64,
    pub solve_seconds: f64,
}
