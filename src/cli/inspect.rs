//! `nnmilp inspect`: a network's layers and its MILP's size.

use super::args::{BoundsMethod, BoundsMethodParser, BoxArgs, LoadArgs, TighteningArgs};
use super::{CliError, Output};
use crate::tasks::inspect;
use std::path::PathBuf;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// ONNX network (.onnx or .onnx.gz).
    ///
    /// Gemm, MatMul, Conv, ReLU, max / average pooling, batch norm, reshapes and constants
    /// (see the README for the full list); anything else is an error naming the node.
    pub network: PathBuf,
    #[command(flatten)]
    pub load: LoadArgs,
    #[command(flatten)]
    pub input_box: BoxArgs,
    /// Bounds pass for big-M coefficients and ReLU stability.
    ///
    /// Each method runs the weaker ones first and only tightens their result: interval,
    /// symbolic (DeepPoly-style), lp (per-unit LP relaxations) or milp (per-unit MILP dual
    /// bounds under --unit-time-limit).
    #[arg(long, default_value = "interval", value_parser = BoundsMethodParser)]
    pub bounds: BoundsMethod,
    /// Read the bounds from a file written by `nnmilp bounds`.
    ///
    /// Refused for another network (by SHA-256) or a box the file's region does not contain.
    #[arg(long, value_name = "BOUNDS.json", conflicts_with = "bounds")]
    pub bounds_file: Option<PathBuf>,
    #[command(flatten)]
    pub tightening: TighteningArgs,
    /// Print the report as JSON instead of a table.
    ///
    /// The same fields as the table: layers with labels, kinds, shapes, unstable ReLUs and
    /// bound ranges, and the size of the network's big-M MILP.
    #[arg(long)]
    pub json: bool,
}

impl Args {
    pub fn run(self) -> Result<Output, CliError> {
        let report = inspect::run(&inspect::Config {
            network: self.network,
            load: self.load.options(),
            input_box: self.input_box.input_box,
            bounds: self.bounds.into(),
            bounds_options: self.tightening.options(),
            bounds_file: self.bounds_file,
        })?;
        let text = if self.json {
            serde_json::to_string_pretty(&report).expect("report serialises") + "\n"
        } else {
            report.to_string()
        };
        Ok(Output { text, to_stderr: false })
    }
}
