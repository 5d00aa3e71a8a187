//! `nnmilp replay`: a solver's solution file replayed through the network.

use super::args::LoadArgs;
use super::{CliError, Output};
use crate::front::solution::SolutionFormat;
use crate::tasks::{replay_file, TaskError};
use clap::ValueEnum;
use std::path::{Path, PathBuf};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// ONNX network (.onnx or .onnx.gz) the model was built from.
    ///
    /// Named in the report by file name and SHA-256.
    pub network: PathBuf,
    #[command(flatten)]
    pub load: LoadArgs,
    /// Solution file written by Gurobi (.sol), CPLEX (.sol XML), SCIP, HiGHS, CBC (-solu) or GLPK (-w).
    ///
    /// Its input columns in_j are read back as the input; output columns y_j, when present,
    /// are compared with the forward pass.
    pub solution: PathBuf,
    /// The model file that was solved (.mps/.lp[.gz]): row violations, the task's goal, GLPK's column names.
    ///
    /// With it every row, active indicator and bound is checked at the solution, and the goal
    /// its header states is checked on the forward pass: adversarial (margin, distance budget),
    /// visualize and range (the unit's value against the solver's objective, the region),
    /// verify (a counterexample of the case); compile's models have none.
    #[arg(long, value_name = "MODEL")]
    pub model: Option<PathBuf>,
    /// Solver that wrote the solution file [default: detected from its contents].
    ///
    /// Needed only when the detection guesses wrong.
    #[arg(long, value_enum)]
    pub format: Option<SolutionFormatArg>,
    /// The image of an adversarial model, when it is not next to the model or the network.
    ///
    /// The header names the image by file name and SHA-256; without --image it is looked for
    /// next to --model, next to the network, then in the working directory, and used only if its SHA-256 matches.
    #[arg(long, value_name = "IMG")]
    pub image: Option<String>,
    /// The VNN-LIB property of a `verify` model, when it is not next to the model or the network.
    ///
    /// Found like the image otherwise (by the file name in the header, used only if its SHA-256
    /// matches); the point is then checked as a counterexample of the model's case.
    #[arg(long, value_name = "PROP.vnnlib")]
    pub property: Option<PathBuf>,
    /// Prefix of the network's column names (as given to `compile --prefix`).
    ///
    /// Empty for nnmilp's own models.
    #[arg(long, value_name = "P", default_value = "")]
    pub prefix: String,
    /// Draw the input (original | replayed | difference when the image is known).
    ///
    /// Needs a network whose input is an image.
    #[arg(long, value_name = "P.png")]
    pub png: Option<PathBuf>,
    /// Write the JSON report to this file (`-` = stdout).
    ///
    /// With `-` the human summary goes to stderr. Written atomically.
    #[arg(long, value_name = "R.json")]
    pub report: Option<PathBuf>,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum SolutionFormatArg {
    Gurobi,
    Cplex,
    Scip,
    Highs,
    Cbc,
    Glpk,
}

impl From<SolutionFormatArg> for SolutionFormat {
    fn from(f: SolutionFormatArg) -> Self {
        match f {
            SolutionFormatArg::Gurobi => SolutionFormat::Gurobi,
            SolutionFormatArg::Cplex => SolutionFormat::Cplex,
            SolutionFormatArg::Scip => SolutionFormat::Scip,
            SolutionFormatArg::Highs => SolutionFormat::Highs,
            SolutionFormatArg::Cbc => SolutionFormat::Cbc,
            SolutionFormatArg::Glpk => SolutionFormat::Glpk,
        }
    }
}

impl Args {
    pub fn run(self) -> Result<Output, CliError> {
        let to_stdout = self.report.as_deref() == Some(Path::new("-"));
        let report = replay_file::run(&replay_file::Config {
            network: self.network,
            load: self.load.options(),
            solution: self.solution,
            format: self.format.map(Into::into),
            model: self.model,
            image: self.image,
            property: self.property,
            prefix: self.prefix,
            png: self.png,
            report: self.report,
        })?;
        if report.failed() {
            return Err(TaskError::ReplayFailed {
                summary: report.to_text(),
            }
            .into());
        }
        Ok(Output {
            text: report.to_text(),
            to_stderr: to_stdout,
        })
    }
}
