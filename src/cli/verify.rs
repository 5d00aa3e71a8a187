//! `verify` and `batch`: VNN-LIB properties (clap types, turned into [`tasks::verify`] configs).

use super::{FormatArg, Output, ReluArg};
use crate::bounds::Method;
use crate::tasks::verify::{self, batch, Objective};
use clap::{Args, ValueEnum};
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

/// Settings shared by `verify` and `batch`.
#[derive(Debug, Args)]
pub struct DecideArgs {
    /// Seed of the falsifier's random points.
    #[arg(long, value_name = "N", default_value_t = 0x6e6e_6d69_6c70)]
    pub seed: u64,
    /// Never split the input box (the whole box goes to one MILP).
    #[arg(long)]
    pub no_split: bool,
    /// Seconds one sub-box's MILP may take before the box is split further.
    #[arg(long, value_name = "S", default_value_t = 5.0)]
    pub box_time_limit: f64,
    /// A sub-box with at most this many unstable ReLUs goes to the MILP.
    #[arg(long, value_name = "N", default_value_t = 12)]
    pub box_unstable: usize,
}

#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// ONNX network (.onnx or .onnx.gz).
    pub network: PathBuf,
    /// VNN-LIB property (.vnnlib or .vnnlib.gz): the unsafe set.
    pub property: PathBuf,
    /// MILP file(s): .mps, .lp, optionally .gz; with several input boxes, .cK is inserted per box. A manifest OUT.manifest.json lists them.
    #[arg(short = 'o', long = "out", value_name = "OUT")]
    pub output: Option<String>,
    /// File format (default: from the extension of -o).
    #[arg(long, value_enum)]
    pub format: Option<FormatArg>,
    /// ReLU and disjunction encoding of the written files (--solve always uses big-M).
    #[arg(long, value_enum, default_value_t = ReluArg::Bigm)]
    pub relu: ReluArg,
    /// Objective of the written files.
    #[arg(long, value_enum, default_value_t = ObjectiveArg::Margin)]
    pub objective: ObjectiveArg,
    /// Bounds for the written files' big-M coefficients.
    #[arg(long, value_enum, default_value_t = SpecBoundsArg::Symbolic)]
    pub bounds: SpecBoundsArg,
    /// Decide the property: falsifier, bounds, input splitting, MILP.
    #[arg(long)]
    pub solve: bool,
    /// Seconds for the whole decision.
    #[arg(long, value_name = "S", default_value_t = 60.0)]
    pub time_limit: f64,
    /// HiGHS threads of a whole-box MILP.
    #[arg(long, value_name = "N")]
    pub threads: Option<usize>,
    /// VNN-COMP result file: sat with the counterexample, unsat, timeout, unknown or error.
    #[arg(long, value_name = "RESULT.txt", requires = "solve")]
    pub result: Option<PathBuf>,
    /// JSON report (`-` = stdout).
    #[arg(long, value_name = "R.json")]
    pub report: Option<PathBuf>,
    #[command(flatten)]
    pub decide: DecideArgs,
}

#[derive(Debug, Args)]
pub struct BatchArgs {
    /// VNN-COMP instances.csv (onnx,vnnlib,timeout per line).
    #[arg(required_unless_present = "merge")]
    pub instances: Option<PathBuf>,
    /// Folder the csv's paths are relative to [default: the csv's folder].
    #[arg(long, value_name = "DIR")]
    pub root: Option<PathBuf>,
    /// Results file: one line per instance is appended; instances already in it are skipped.
    #[arg(long, value_name = "RESULTS.csv", default_value = "results.csv")]
    pub results: PathBuf,
    /// Instances run in parallel.
    #[arg(long, value_name = "N", default_value_t = 1)]
    pub jobs: usize,
    /// Take the rows whose 0-based index is I modulo N.
    #[arg(long, value_name = "I/N", value_parser = batch::parse_shard)]
    pub shard: Option<(usize, usize)>,
    /// Each instance's time limit is its csv timeout times F.
    #[arg(long, value_name = "F", default_value_t = 1.0)]
    pub time_limit_scale: f64,
    /// Archive every instance's MILP files, manifest and RESULT.txt under DIR/<net>__<property>/.
    #[arg(short = 'o', long = "out", value_name = "ARCHIVE_DIR")]
    pub archive: Option<PathBuf>,
    /// Join these shard result files into --results instead of running.
    #[arg(long, value_name = "SHARD.csv", num_args = 1.., conflicts_with_all = ["instances", "shard", "archive"])]
    pub merge: Option<Vec<PathBuf>>,
    #[command(flatten)]
    pub decide: DecideArgs,
}

impl DecideArgs {
    fn apply(&self, cfg: &mut verify::Config) -> Result<(), crate::Error> {
        if !(self.box_time_limit >= 0.0) {
            return Err(crate::Error::Usage(format!(
                "--box-time-limit {} must be a number of seconds >= 0",
                self.box_time_limit
            )));
        }
        cfg.falsify.seed = self.seed;
        cfg.allow_split = !self.no_split;
        cfg.split.milp_seconds = self.box_time_limit;
        cfg.split.milp_unstable = self.box_unstable;
        Ok(())
    }
}

pub fn run_verify(a: VerifyArgs) -> Result<Output, crate::Error> {
    if a.output.is_none() && !a.solve {
        return Err(crate::Error::Usage("nothing to do: give -o OUT and/or --solve".into()));
    }
    if a.output.as_deref() == Some("-") && a.format.is_none() {
        return Err(crate::Error::Usage("-o - needs --format mps|lp".into()));
    }
    let mut cfg = verify::Config::new(a.network, a.property);
    cfg.output = a.output.clone();
    cfg.format = a.format.map(Into::into);
    cfg.encoding = a.relu.into();
    cfg.objective = match a.objective {
        ObjectiveArg::Margin => Objective::Margin,
        ObjectiveArg::Feasibility => Objective::Feasibility,
    };
    cfg.bounds = match a.bounds {
        SpecBoundsArg::Interval => Method::Interval,
        SpecBoundsArg::Symbolic => Method::Symbolic,
    };
    cfg.solve = a.solve;
    cfg.time_limit = a.time_limit;
    cfg.threads = a.threads;
    cfg.result = a.result;
    cfg.report = a.report.clone();
    a.decide.apply(&mut cfg)?;
    let report = verify::run(&cfg)?;
    let to_stderr = a.output.as_deref() == Some("-") || a.report.as_deref().is_some_and(|p| p.as_os_str() == "-");
    Ok(Output {
        text: verify::summary(&report),
        to_stderr,
    })
}

pub fn run_batch(a: BatchArgs) -> Result<Output, crate::Error> {
    if let Some(shards) = &a.merge {
        let n = batch::merge(shards, &a.results)?;
        return Ok(Output {
            text: format!(
                "merged {} result file(s): {n} instance(s) in {}\n",
                shards.len(),
                a.results.display()
            ),
            to_stderr: false,
        });
    }
    let instances = a.instances.expect("clap requires INSTANCES without --merge");
    let mut verify_cfg = verify::Config::new("", "");
    a.decide.apply(&mut verify_cfg)?;
    let summary = batch::run(&batch::Config {
        instances,
        root: a.root,
        results: a.results,
        jobs: a.jobs,
        shard: a.shard,
        time_limit_scale: a.time_limit_scale,
        archive: a.archive,
        verify: verify_cfg,
    })?;
    Ok(Output {
        text: batch::summary_text(&summary),
        to_stderr: false,
    })
}
