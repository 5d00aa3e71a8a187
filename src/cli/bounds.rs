//! `nnmilp bounds`: compute bounds once and keep them in a file.

use super::args::{BallArgs, BoundsMethod, BoundsMethodParser, BoxArgs, LoadArgs, NormArg, bounds_options, parse_seconds};
use super::{CliError, Output};
use crate::tasks::bounds_file;
use std::path::PathBuf;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// ONNX network (.onnx or .onnx.gz).
    ///
    /// The file's SHA-256 is recorded, so that the bounds serve only this network.
    pub network: PathBuf,
    #[command(flatten)]
    pub load: LoadArgs,
    #[command(flatten)]
    pub input_box: BoxArgs,
    #[command(flatten)]
    pub around: Option<BallArgs>,
    /// Norm of the ball around --image.
    ///
    /// linf: the box clipped to [img_j - E, img_j + E]. l1: that box cut by
    /// sum_j |x_j - img_j| <= E, which every method takes into account.
    #[arg(long, value_enum, default_value_t = NormArg::Linf, requires = "image")]
    pub norm: NormArg,
    /// Bounds pass (each runs the weaker ones first).
    ///
    /// interval, symbolic (DeepPoly-style), lp (per-unit LP relaxations) or milp (per-unit
    /// MILP dual bounds under --unit-time-limit); the report gives each stage's seconds and
    /// unstable ReLUs per layer.
    #[arg(long, default_value = "interval", value_parser = BoundsMethodParser)]
    pub method: BoundsMethod,
    /// Seconds HiGHS may spend per unit and direction (lp, milp).
    ///
    /// A time-limited unit keeps HiGHS's dual bound (lp: the previous bound), so the bounds
    /// stay sound. `inf` for none.
    #[arg(long, value_name = "S", default_value_t = 1.0, value_parser = parse_seconds)]
    pub unit_time_limit: f64,
    /// Worker threads (default: one per core).
    ///
    /// Each worker has its own HiGHS instance; the bounds do not depend on the number.
    #[arg(long, value_name = "N")]
    pub threads: Option<usize>,
    /// Bounds file to write (`-` = stdout).
    ///
    /// JSON (`nnmilp-bounds/1`), written atomically; `inspect` and `adversarial` read it with
    /// --bounds-file.
    #[arg(short, long, value_name = "BOUNDS.json")]
    pub output: PathBuf,
}

impl Args {
    pub fn run(self) -> Result<Output, CliError> {
        let to_stderr = self.output.as_os_str() == "-";
        let report = bounds_file::run(&bounds_file::Config {
            network: self.network,
            load: self.load.options(),
            input_box: self.input_box.input_box,
            around: self.around.map(|b| (b.image, b.eps, self.norm.into())),
            method: self.method.into(),
            options: bounds_options(self.unit_time_limit, self.threads),
            output: self.output,
        })?;
        Ok(Output {
            text: report.to_string(),
            to_stderr,
        })
    }
}
