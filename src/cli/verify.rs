//! `nnmilp verify`: a VNN-LIB property on a network: MILP files per input box and/or a verdict.

use super::args::{DecideArgs, FormatArg, LoadArgs, ReluArg, TargetArgs};
use super::{CliError, Output};
use crate::bounds::Method;
use crate::tasks::verify::{self, Objective};
use crate::tasks::start::StartFormat;
use clap::ValueEnum;
use std::path::PathBuf;

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum ObjectiveArg {
    /// Maximise the violation margin vmargin (violated iff the optimum is >= 0; bounds it on a time-out).
    Margin,
    /// No objective: feasible iff the property is violated.
    Feasibility,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum SpecBoundsArg {
    /// Interval arithmetic.
    Interval,
    /// Linear relaxations back-substituted to the input (DeepPoly-style).
    Symbolic,
}

#[derive(Debug, clap::Args)]
pub struct Args {
    /// ONNX network (.onnx or .onnx.gz).
    ///
    /// Named in the header and report by file name and SHA-256.
    pub network: PathBuf,
    #[command(flatten)]
    pub load: LoadArgs,
    /// VNN-LIB property (.vnnlib or .vnnlib.gz): the unsafe set.
    ///
    /// A union of cases, each an input box with a disjunction of conjunctions over the outputs;
    /// named in the header and report by file name and SHA-256.
    pub property: PathBuf,
    /// MILP file(s): .mps, .lp, optionally .gz (`-` = stdout, needs --format).
    ///
    /// With several input boxes, .cK is inserted before the extension for case K. A manifest
    /// OUT.manifest.json lists the files.
    #[arg(short = 'o', long = "out", value_name = "OUT")]
    pub output: Option<String>,
    /// File format (default: from the extension of -o).
    ///
    /// Needed when -o is `-` (stdout).
    #[arg(long, value_enum)]
    pub format: Option<FormatArg>,
    #[command(flatten)]
    pub target: TargetArgs,
    /// ReLU and disjunction encoding of the written files.
    ///
    /// --solve always uses big-M rows.
    #[arg(long, value_enum, default_value_t = ReluArg::Bigm)]
    pub relu: ReluArg,
    /// Objective of the written files.
    ///
    /// margin: maximise the violation margin (violated iff the optimum is >= 0); feasibility:
    /// no objective (violated iff feasible).
    #[arg(long, value_enum, default_value_t = ObjectiveArg::Margin)]
    pub objective: ObjectiveArg,
    /// Bounds for the written files' big-M coefficients.
    ///
    /// Computed over each case's input box.
    #[arg(long, value_enum, default_value_t = SpecBoundsArg::Symbolic)]
    pub bounds: SpecBoundsArg,
    /// Decide the property: falsifier, bounds, input splitting, MILP.
    ///
    /// The verdict is sat (with a counterexample replayed through the forward pass), unsat,
    /// timeout or unknown; a time-out is never unsat.
    #[arg(long)]
    pub solve: bool,
    /// Seconds for the whole decision.
    ///
    /// A number of seconds >= 0, shared by every stage of --solve.
    #[arg(long, value_name = "S", default_value_t = 60.0)]
    pub time_limit: f64,
    /// HiGHS threads of a whole-box MILP.
    ///
    /// Split boxes run one single-threaded MILP each on the thread pool.
    #[arg(long, value_name = "N")]
    pub threads: Option<usize>,
    /// Write the counterexample, when one is found, as a start file beside its case's model.
    ///
    /// The same files as the other commands' --start (OUT.mst, OUT.cplex.mst, OUT.highs.sol, or
    /// --for's one), for the case the counterexample lies in; every column valued by solving
    /// that model with the inputs fixed, and checked against it. Nothing is written when the
    /// verdict is unsat or unknown.
    #[arg(long, requires_all = ["output", "solve"])]
    pub start: bool,
    /// VNN-COMP result file: sat with the counterexample, unsat, timeout, unknown or error.
    ///
    /// Written atomically; needs --solve.
    #[arg(long, value_name = "RESULT.txt", requires = "solve")]
    pub result: Option<PathBuf>,
    /// JSON report (`-` = stdout).
    ///
    /// The network's and property's identities, the verdict, the stage that decided it, the
    /// files written and the seconds per stage.
    #[arg(long, value_name = "R.json")]
    pub report: Option<PathBuf>,
    #[command(flatten)]
    pub decide: DecideArgs,
}

impl Args {
    pub fn run(self) -> Result<Output, CliError> {
        if self.output.is_none() && !self.solve {
            return Err(CliError::Usage("nothing to do: give -o OUT and/or --solve".into()));
        }
        if self.output.as_deref() == Some("-") && self.format.is_none() {
            return Err(CliError::Usage("-o - needs --format mps|lp".into()));
        }
        if !(self.time_limit >= 0.0) {
            return Err(CliError::Usage(format!(
                "--time-limit {} is not a number of seconds >= 0",
                self.time_limit
            )));
        }
        self.target.check(self.relu, self.format, self.output.as_deref())?;
        let start = if self.start {
            if self.output.as_deref() == Some("-") {
                return Err(CliError::Usage(
                    "--start writes files beside the model: give -o a file name, not `-`".into(),
                ));
            }
            let indicators = !matches!(self.relu, ReluArg::Bigm);
            StartFormat::for_target(self.target.target(), indicators).map_err(CliError::Usage)?
        } else {
            Vec::new()
        };
        let mut cfg = verify::Config::new(self.network, self.property);
        cfg.load = self.load.options();
        cfg.output = self.output.clone();
        cfg.format = self.format.map(Into::into);
        cfg.encoding = self.relu.into();
        cfg.objective = match self.objective {
            ObjectiveArg::Margin => Objective::Margin,
            ObjectiveArg::Feasibility => Objective::Feasibility,
        };
        cfg.bounds = match self.bounds {
            SpecBoundsArg::Interval => Method::Interval,
            SpecBoundsArg::Symbolic => Method::Symbolic,
        };
        cfg.solve = self.solve;
        cfg.time_limit = self.time_limit;
        cfg.threads = self.threads;
        cfg.result = self.result;
        cfg.report = self.report.clone();
        cfg.start = start;
        self.decide.apply(&mut cfg)?;
        let report = verify::run(&cfg)?;
        let to_stderr =
            self.output.as_deref() == Some("-") || self.report.as_deref().is_some_and(|p| p.as_os_str() == "-");
        Ok(Output {
            text: verify::summary(&report),
            to_stderr,
        })
    }
}
