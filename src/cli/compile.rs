//! `nnmilp compile`: the network's exact MILP alone (zero objective) and an interface file.

use super::args::{BoundsMethod, BoundsMethodParser, BoxArgs, FormatArg, LoadArgs, ReluArg, TargetArgs, TighteningArgs};
use super::{CliError, Output};
use crate::tasks::compile;
use std::path::PathBuf;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// ONNX network (.onnx or .onnx.gz).
    ///
    /// Named in the header and the interface file by file name and SHA-256.
    pub network: PathBuf,
    #[command(flatten)]
    pub load: LoadArgs,
    #[command(flatten)]
    pub input_box: BoxArgs,
    /// Per-input bounds instead of --box: JSON {"lo": [...], "hi": [...]}.
    ///
    /// One finite interval per input (flat, row-major), e.g. the ranges of a surrogate's
    /// features in the surrounding model.
    #[arg(long, value_name = "FILE", conflicts_with = "input_box")]
    pub input_bounds: Option<PathBuf>,
    /// Bounds pass used for big-M coefficients and ReLU stability.
    ///
    /// interval, symbolic, lp or milp, over the input box (each runs the weaker ones first and
    /// only tightens their result).
    #[arg(long, default_value = "interval", value_parser = BoundsMethodParser)]
    pub bounds: BoundsMethod,
    #[command(flatten)]
    pub tightening: TighteningArgs,
    /// ReLU (and max-pool) encoding.
    ///
    /// bigm: big-M rows from the bounds, read by every solver. indicator: indicator constraints
    /// (SCIP, Gurobi, CPLEX read them). both: both.
    #[arg(long, value_enum, default_value_t = ReluArg::Bigm)]
    pub relu: ReluArg,
    /// Put before every column and row name (inputs become P in_j, outputs P y_j, written without a space).
    ///
    /// Two networks compiled with different prefixes can share one model without name clashes;
    /// `replay --prefix` reads such a model's solutions.
    #[arg(long, value_name = "P", default_value = "")]
    pub prefix: String,
    #[command(flatten)]
    pub target: TargetArgs,
    /// Model file: .mps, .lp, optionally .gz-compressed; `-` writes to stdout (then --format is needed).
    ///
    /// Written atomically; its comment header names the tool, the network (file name and
    /// SHA-256) and every option.
    #[arg(short = 'o', long = "out", value_name = "OUT")]
    pub output: String,
    /// File format (default: from the extension of -o).
    ///
    /// Needed when -o is `-` (stdout) or the file name has no .mps / .lp extension.
    #[arg(long, value_enum, required_if_eq("output", "-"))]
    pub format: Option<FormatArg>,
    /// Interface file (JSON): input/output column names, shapes and bounds, encoding, SHA-256.
    ///
    /// `nnmilp-interface/1`: lets a script look the network's columns up by name and check it
    /// has the model of the right network.
    #[arg(long, value_name = "NET.json")]
    pub interface: Option<PathBuf>,
}

impl Args {
    pub fn run(self) -> Result<Output, CliError> {
        self.target.check(self.relu, self.format, Some(&self.output))?;
        let to_stdout = self.output == "-";
        if to_stdout && self.format.is_none() {
            return Err(CliError::Usage(
                "-o - writes to stdout: say which format with --format mps|lp".into(),
            ));
        }
        let i = compile::run(&compile::Config {
            network: self.network,
            load: self.load.options(),
            input_box: self.input_box.input_box,
            input_bounds: self.input_bounds,
            bounds: self.bounds.into(),
            bounds_options: self.tightening.options(),
            encoding: self.relu.into(),
            prefix: self.prefix,
            target: self.target.target(),
            output: self.output,
            format: self.format.map(Into::into),
            interface: self.interface.clone(),
        })?;
        let mut text = format!(
            "wrote {}: {} columns, {} rows, {} binaries, {} indicators; inputs {}..{}, outputs {}..{}\n",
            i.model.file,
            i.model.columns,
            i.model.rows,
            i.model.binaries,
            i.model.indicators,
            i.inputs.columns.first().map_or("", String::as_str),
            i.inputs.columns.last().map_or("", String::as_str),
            i.outputs.columns.first().map_or("", String::as_str),
            i.outputs.columns.last().map_or("", String::as_str),
        );
        if let Some(p) = &self.interface {
            text += &format!("wrote {}\n", p.display());
        }
        Ok(Output {
            text,
            to_stderr: to_stdout,
        })
    }
}
