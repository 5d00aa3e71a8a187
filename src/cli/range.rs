//! `nnmilp range`: the exact minimum and maximum of one output.

use super::args::{BallArgs, LoadArgs, UnitQueryArgs};
use super::{CliError, Output};
use crate::tasks::range::{self, Around, Senses};
use std::path::PathBuf;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// ONNX network (.onnx or .onnx.gz).
    ///
    /// Named in the header and report by file name and SHA-256.
    pub network: PathBuf,
    #[command(flatten)]
    pub load: LoadArgs,
    /// Output column K.
    ///
    /// An index into the network's flat output.
    #[arg(long = "output", value_name = "K")]
    pub class: usize,
    #[command(flatten)]
    pub around: Option<BallArgs>,
    /// Only the minimum (then -o OUT names exactly that file).
    ///
    /// Without --minimize or --maximize both problems are built and -o OUT writes OUT with
    /// .min / .max inserted before the extension.
    #[arg(long, conflicts_with = "maximize")]
    pub minimize: bool,
    /// Only the maximum (then -o OUT names exactly that file).
    ///
    /// Without --minimize or --maximize both problems are built and -o OUT writes OUT with
    /// .min / .max inserted before the extension.
    #[arg(long)]
    pub maximize: bool,
    #[command(flatten)]
    pub query: UnitQueryArgs,
}

impl Args {
    pub fn run(self) -> Result<Output, CliError> {
        let q = &self.query;
        let m = &q.model;
        let senses = if self.minimize {
            Senses::Minimize
        } else if self.maximize {
            Senses::Maximize
        } else {
            Senses::Both
        };
        m.check(senses != Senses::Both)?;
        let cfg = range::Config {
            network: self.network,
            load: self.load.options(),
            output_index: self.class,
            input_box: q.input_box.input_box,
            around: self.around.map(|b| Around {
                image: b.image,
                eps: b.eps,
            }),
            senses,
            encoding: m.relu.into(),
            bounds: q.bounds.into(),
            bounds_options: q.tightening.options(),
            output: m.output.clone(),
            format: m.format(),
            solve: m.solve,
            solve_options: m.solve_options(),
            report: m.report.clone(),
            start: q.start_formats()?,
        };
        let report = range::run(&cfg)?;
        Ok(Output {
            text: report.to_string(),
            to_stderr: m.stdout_taken(),
        })
    }
}
