//! Argument groups and value types that several subcommands share (flattened into their own
//! `Args`), and the value parsers that check a value once, where it is typed.

use super::CliError;
use crate::back::target::{self, Construct, Solver, Target};
use crate::back::Format;
use crate::bounds::{BoundsOptions, Method};
use crate::front::onnx::LoadOptions;
use crate::lower::{Encoding, Norm};
use crate::solve::SolveOptions;
use crate::tasks::start::StartFormat;
use crate::tasks::InputRange;
use clap::builder::{EnumValueParser, PossibleValue, TypedValueParser};
use clap::error::ErrorKind;
use clap::{Args, ValueEnum};
use std::ffi::OsStr;
use std::path::{Path, PathBuf};

/// `--box LO,HI`, checked by [`InputRange::new`] (the one place the box is checked).
pub fn parse_box(s: &str) -> Result<InputRange, String> {
    let (a, b) = s.split_once(',').ok_or_else(|| format!("expected LO,HI, got {s:?}"))?;
    let lo: f64 = a.trim().parse().map_err(|e| format!("bad lower bound {a:?}: {e}"))?;
    let hi: f64 = b.trim().parse().map_err(|e| format!("bad upper bound {b:?}: {e}"))?;
    InputRange::new(lo, hi).map_err(|e| e.to_string())
}

/// A number of seconds `>= 0` (`inf` for none).
pub fn parse_seconds(s: &str) -> Result<f64, String> {
    match s.trim().parse::<f64>() {
        Ok(v) if v >= 0.0 => Ok(v),
        _ => Err(format!("expected a number of seconds >= 0, got {s:?}")),
    }
}

/// The input box every subcommand takes.
#[derive(Debug, Args)]
pub struct BoxArgs {
    /// Input box LO,HI applied to every input.
    ///
    /// Every input ranges over [LO, HI] (finite, LO <= HI). The default 0,1 fits images scaled
    /// to the unit interval (PNG pixels / 255).
    #[arg(long = "box", value_name = "LO,HI", default_value = "0,1", value_parser = parse_box)]
    pub input_box: InputRange,
}

/// What a network file may make the loader allocate (every command that reads a network).
///
/// The caps are checked before anything that large is allocated, so a small hostile file (a
/// 90-byte net declaring 2e8 inputs, a broadcast folding to 2e8 constants) is refused in
/// milliseconds instead of exhausting memory; raise them for a network larger than the defaults.
#[derive(Debug, Args)]
pub struct LoadArgs {
    /// Most units (scalar values) the translated network's layers may have together.
    ///
    /// Counted before simplification, over every layer the loader makes.
    #[arg(long, value_name = "N", default_value_t = LoadOptions::default().max_units)]
    pub max_units: usize,
    /// Most entries the whole load may create (weights, constants, pooling taps).
    ///
    /// Summed over every operator; it also caps the network file at 8 bytes per entry plus
    /// 64 MiB (and never beyond protobuf's 2 GiB).
    #[arg(long, value_name = "N", default_value_t = LoadOptions::default().max_nonzeros)]
    pub max_nonzeros: usize,
}

impl LoadArgs {
    pub fn options(&self) -> LoadOptions {
        LoadOptions {
            max_units: self.max_units,
            max_nonzeros: self.max_nonzeros,
        }
    }
}

/// A bounds pass over a box or ball (no region-aware tightening: see `adversarial`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum BoundsMethod {
    /// Interval arithmetic.
    Interval,
    /// Linear relaxations back-substituted to the input (DeepPoly-style).
    Symbolic,
    /// Per-unit LP relaxation optima (HiGHS).
    Lp,
    /// Per-unit MILP dual bounds under a time limit (HiGHS; Fischetti & Jo).
    Milp,
}

impl From<BoundsMethod> for Method {
    fn from(m: BoundsMethod) -> Self {
        match m {
            BoundsMethod::Interval => Method::Interval,
            BoundsMethod::Symbolic => Method::Symbolic,
            BoundsMethod::Lp => Method::Lp,
            BoundsMethod::Milp => Method::Milp,
        }
    }
}

/// Parses a [`BoundsMethod`], and says why `region-*` is not one: those need a known example's
/// distance, which only `adversarial` has.
#[derive(Clone, Debug)]
pub struct BoundsMethodParser;

impl TypedValueParser for BoundsMethodParser {
    type Value = BoundsMethod;

    fn parse_ref(
        &self,
        cmd: &clap::Command,
        arg: Option<&clap::Arg>,
        value: &OsStr,
    ) -> Result<BoundsMethod, clap::Error> {
        EnumValueParser::<BoundsMethod>::new()
            .parse_ref(cmd, arg, value)
            .map_err(|e| match value.to_str() {
                Some(v) if v.starts_with("region-") => cmd.clone().error(
                    ErrorKind::InvalidValue,
                    format!(
                        "--bounds {v}: region-aware tightening needs an optimisation query with a distance to \
                         the image (adversarial); {} takes interval|symbolic|lp|milp",
                        cmd.get_name()
                    ),
                ),
                _ => e,
            })
    }

    fn possible_values(&self) -> Option<Box<dyn Iterator<Item = PossibleValue> + '_>> {
        Some(Box::new(
            BoundsMethod::value_variants()
                .iter()
                .filter_map(ValueEnum::to_possible_value),
        ))
    }
}

/// Settings of the lp / milp bounds passes, as the query subcommands take them.
#[derive(Debug, Args)]
pub struct TighteningArgs {
    /// Seconds HiGHS may spend per unit and direction in the lp / milp bounds passes.
    ///
    /// Each unit's minimisation and maximisation gets this time limit; a time-limited unit
    /// keeps HiGHS's dual bound (lp: the previous bound), so the bounds stay sound. `inf` for
    /// none.
    #[arg(long, value_name = "S", default_value_t = 1.0, value_parser = parse_seconds)]
    pub unit_time_limit: f64,
    /// Worker threads of the lp / milp bounds passes (default: one per core).
    ///
    /// Each worker has its own HiGHS instance. The bounds do not depend on the number of
    /// threads. (`--threads` is the solver's, for --solve.)
    #[arg(long, value_name = "N")]
    pub bounds_threads: Option<usize>,
}

impl TighteningArgs {
    pub fn options(&self) -> BoundsOptions {
        bounds_options(self.unit_time_limit, self.bounds_threads)
    }
}

/// The bounds passes' options from the command line (with a progress bar on a terminal).
pub fn bounds_options(unit_time_limit: f64, threads: Option<usize>) -> BoundsOptions {
    BoundsOptions {
        unit_time_limit,
        threads,
        progress: true,
    }
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum ReluArg {
    /// Big-M rows from the bounds (every solver reads them).
    Bigm,
    /// Indicator constraints (SCIP, Gurobi, CPLEX only).
    Indicator,
    /// Both big-M rows and indicators.
    Both,
}

impl From<ReluArg> for Encoding {
    fn from(r: ReluArg) -> Self {
        match r {
            ReluArg::Bigm => Encoding::BigM,
            ReluArg::Indicator => Encoding::Indicator,
            ReluArg::Both => Encoding::Both,
        }
    }
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum NormArg {
    /// Sum of absolute changes (the paper's objective).
    L1,
    /// Largest absolute change.
    Linf,
}

impl From<NormArg> for Norm {
    fn from(n: NormArg) -> Self {
        match n {
            NormArg::L1 => Norm::L1,
            NormArg::Linf => Norm::Linf,
        }
    }
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum FormatArg {
    /// Free MPS.
    Mps,
    /// CPLEX LP.
    Lp,
}

impl From<FormatArg> for Format {
    fn from(f: FormatArg) -> Self {
        match f {
            FormatArg::Mps => Format::Mps,
            FormatArg::Lp => Format::Lp,
        }
    }
}

/// The solver a written model is for (`--for`); see [`crate::back::target`].
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum ForArg {
    /// Only what all six solvers read the same way.
    Any,
    Highs,
    Scip,
    Gurobi,
    Cplex,
    Cbc,
    Glpk,
}

impl From<ForArg> for Target {
    fn from(f: ForArg) -> Self {
        match f {
            ForArg::Any => Target::Any,
            ForArg::Highs => Target::One(Solver::Highs),
            ForArg::Scip => Target::One(Solver::Scip),
            ForArg::Gurobi => Target::One(Solver::Gurobi),
            ForArg::Cplex => Target::One(Solver::Cplex),
            ForArg::Cbc => Target::One(Solver::Cbc),
            ForArg::Glpk => Target::One(Solver::Glpk),
        }
    }
}

/// `--for SOLVER`: every subcommand that writes a model file takes it.
#[derive(Debug, Args)]
pub struct TargetArgs {
    /// Solver the model file is for: refuses constructs it does not read as meant (any: all six alike).
    ///
    /// Checked against the capability table (docs/solvers.md) before any work: with --relu
    /// indicator or both, HiGHS, CBC and GLPK (which ignore or reject indicator constraints)
    /// and `any` are refused, and so is a construct a solver reads differently in the chosen
    /// format.
    #[arg(long = "for", value_enum, value_name = "SOLVER", default_value_t = ForArg::Any)]
    pub for_solver: ForArg,
}

impl TargetArgs {
    pub fn target(&self) -> Target {
        self.for_solver.into()
    }

    /// Refuses, before any work, a file the `--for` solver would not read as meant: `relu`'s
    /// constructs in `format`, else the format of the file name `out` (nothing to check when
    /// no file is written or its format is unknown).
    pub fn check(&self, relu: ReluArg, format: Option<FormatArg>, out: Option<&str>) -> Result<(), CliError> {
        let Some(out) = out else { return Ok(()) };
        let used: &[Construct] = match relu {
            ReluArg::Bigm => &[],
            ReluArg::Indicator | ReluArg::Both => &[Construct::Indicators],
        };
        match format.map(Format::from).or_else(|| Format::from_path(out)) {
            Some(f) => target::check(self.target(), used, f).map_err(|e| CliError::Usage(e.to_string())),
            None => Ok(()),
        }
    }
}

/// A ball around an image (`--image IMG --eps E`, both or neither: flattened as an `Option`,
/// whose fields must not be `required` themselves, clap-rs/clap#5092).
#[derive(Debug, Args)]
pub struct BallArgs {
    /// The region is a ball around this image, cut by --box.
    ///
    /// An 8-bit grayscale PNG (pixels / 255), a .npy array (values as stored), or IDX_FILE:N
    /// (image N of an MNIST IDX file). Needs --eps.
    #[arg(long, value_name = "IMG", required = false, requires = "eps")]
    pub image: String,
    /// Radius of the ball around --image.
    ///
    /// A finite number >= 0 in the distance of the ball's norm. Needs --image.
    #[arg(long, value_name = "E", required = false, requires = "image")]
    pub eps: f64,
}

/// Writing the model, solving it and reporting: what every query subcommand takes.
#[derive(Debug, Args)]
pub struct ModelArgs {
    /// ReLU (and max-pool) encoding.
    ///
    /// bigm: big-M rows from the bounds, read by every solver. indicator: indicator constraints
    /// (SCIP, Gurobi, CPLEX read them; HiGHS, CBC, GLPK do not, so --solve solves the big-M
    /// form). both: both.
    #[arg(long, value_enum, default_value_t = ReluArg::Bigm)]
    pub relu: ReluArg,
    /// Model file: .mps, .lp, optionally .gz-compressed; `-` writes to stdout.
    ///
    /// The file is written to a temporary file and renamed, so a failed run leaves nothing. Its
    /// comment header names the tool, the inputs (file names and SHA-256) and every option.
    /// With `-` give --format.
    #[arg(short = 'o', long = "out", value_name = "OUT")]
    pub output: Option<String>,
    /// File format (default: from the extension of -o).
    ///
    /// Needed when -o is `-` (stdout) or the file name has no .mps / .lp extension.
    #[arg(long, value_enum, required_if_eq("output", "-"))]
    pub format: Option<FormatArg>,
    #[command(flatten)]
    pub target: TargetArgs,
    /// Write the known feasible point beside the model as a start file for external solvers.
    ///
    /// OUT.mst (`name value`: Gurobi, SCIP), OUT.cplex.mst (CPLEX's XML) and OUT.highs.sol
    /// (HiGHS's solution file); --for picks its solver's one. The point is the solver's
    /// incumbent with --solve, else the first-order example (adversarial); every column is
    /// valued and the point is checked against the written model's rows before it is written.
    #[arg(long, requires = "output")]
    pub start: bool,
    /// Solve with the embedded HiGHS, replay the solution through the network and report.
    ///
    /// Every point HiGHS returns is replayed through the f64 forward pass; a mismatch beyond
    /// the replay tolerance is an error. A time-out is reported as such, never as optimal.
    #[arg(long)]
    pub solve: bool,
    /// Solver time limit in seconds.
    ///
    /// With an incumbent at the limit, the report gives it with its bound and gap and the
    /// status time_limit.
    #[arg(long, value_name = "S", value_parser = parse_seconds)]
    pub time_limit: Option<f64>,
    /// Solver threads.
    ///
    /// HiGHS's own threads for --solve (default: HiGHS's choice).
    #[arg(long, value_name = "N")]
    pub threads: Option<usize>,
    /// Write the JSON report to this file (`-` = stdout).
    ///
    /// With `-` the human summary goes to stderr. Written atomically.
    #[arg(long, value_name = "R.json")]
    pub report: Option<PathBuf>,
    /// Show the solver's log on stderr.
    ///
    /// HiGHS's own output, for --solve.
    #[arg(long)]
    pub verbose: bool,
    /// Set a HiGHS option for --solve, e.g. `presolve=off` (repeatable).
    ///
    /// Applied after nnmilp's own settings (which it overrides; `adversarial` turns HiGHS's
    /// RINS and RENS sub-MIP heuristics off, see bench/peers/README.md). Names and values are
    /// HiGHS's own; an unknown one is a usage error before anything is written.
    #[arg(long, value_name = "NAME=VALUE", value_parser = parse_highs_option)]
    pub highs_option: Vec<(String, String)>,
}

/// `NAME=VALUE`, both non-empty (HiGHS checks the name and the value's type).
fn parse_highs_option(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((k, v)) if !k.trim().is_empty() && !v.trim().is_empty() => {
            Ok((k.trim().to_string(), v.trim().to_string()))
        }
        _ => Err(format!("{s:?} is not NAME=VALUE (e.g. presolve=off)")),
    }
}

impl ModelArgs {
    /// The combinations clap cannot check; `one_file` is false when the query writes several
    /// files (then stdout cannot take them).
    pub fn check(&self, one_file: bool) -> Result<(), CliError> {
        let usage = |m: String| Err(CliError::Usage(m));
        if self.output.is_none() && !self.solve {
            return usage("nothing to do: give -o OUT to write the model and/or --solve".into());
        }
        let to_stdout = self.output.as_deref() == Some("-");
        if to_stdout && !one_file {
            return usage("-o - writes one model to stdout, but this query writes several files".into());
        }
        if to_stdout && self.report.as_deref() == Some(Path::new("-")) {
            return usage("the model and the report cannot both go to stdout".into());
        }
        if let Some(out) = self.output.as_deref().filter(|_| self.format.is_none()) {
            if Format::from_path(out).is_none() {
                return usage(format!(
                    "cannot tell the format of {out:?}: use .mps, .lp (optionally .gz) or --format"
                ));
            }
        }
        if self.start && to_stdout {
            return usage("--start writes files beside the model: give -o a file name, not `-`".into());
        }
        self.start_formats()?;
        self.target.check(self.relu, self.format, self.output.as_deref())
    }

    /// The start files `--start` writes for the `--for` solver (none without `--start`).
    pub fn start_formats(&self) -> Result<Vec<StartFormat>, CliError> {
        if !self.start {
            return Ok(Vec::new());
        }
        let indicators = !matches!(self.relu, ReluArg::Bigm);
        StartFormat::for_target(self.target.target(), indicators).map_err(CliError::Usage)
    }

    pub fn solve_options(&self) -> SolveOptions {
        SolveOptions {
            time_limit: self.time_limit,
            threads: self.threads,
            mip_rel_gap: None,
            verbose: self.verbose,
            highs_options: self.highs_option.clone(),
        }
    }

    pub fn format(&self) -> Option<Format> {
        self.format.map(Into::into)
    }

    /// Human text goes to stderr when stdout carries the model or the report.
    pub fn stdout_taken(&self) -> bool {
        self.output.as_deref() == Some("-") || self.report.as_deref() == Some(Path::new("-"))
    }
}

/// The region, bounds and model arguments of the unit queries (`visualize`, `range`), which
/// have no distance to tighten in and no bounds file.
#[derive(Debug, Args)]
pub struct UnitQueryArgs {
    #[command(flatten)]
    pub input_box: BoxArgs,
    /// Bounds pass for big-M coefficients and ReLU stability.
    ///
    /// interval, symbolic, lp or milp, over the task's region (each runs the weaker ones
    /// first and only tightens their result).
    #[arg(long, default_value = "interval", value_parser = BoundsMethodParser)]
    pub bounds: BoundsMethod,
    #[command(flatten)]
    pub tightening: TighteningArgs,
    #[command(flatten)]
    pub model: ModelArgs,
}

impl UnitQueryArgs {
    /// `--start` for `visualize` and `range`: their only known feasible point is the solver's.
    pub fn start_formats(&self) -> Result<Vec<StartFormat>, CliError> {
        if self.model.start && !self.model.solve {
            return Err(CliError::Usage(
                "--start writes the solver's point here: add --solve (only adversarial knows a point without solving)"
                    .into(),
            ));
        }
        self.model.start_formats()
    }
}

/// Settings of the VNN-LIB decision that `verify` and `batch` share.
#[derive(Debug, Args)]
pub struct DecideArgs {
    /// Seed of the falsifier's random points.
    ///
    /// The same seed gives the same sampled points, so a run can be repeated.
    #[arg(long, value_name = "N", default_value_t = 0x6e6e_6d69_6c70)]
    pub seed: u64,
    /// Never split the input box (the whole box goes to one MILP).
    ///
    /// By default inputs of small dimension are split into sub-boxes, each re-bounded and, with
    /// few unstable ReLUs left, decided by its own MILP.
    #[arg(long)]
    pub no_split: bool,
    /// Seconds one sub-box's MILP may take before the box is split further.
    ///
    /// A number of seconds >= 0; a sub-box whose MILP runs out of time is halved again.
    #[arg(long, value_name = "S", default_value_t = 5.0)]
    pub box_time_limit: f64,
    /// A sub-box with at most this many unstable ReLUs goes to the MILP.
    ///
    /// Sub-boxes with more unstable ReLUs are split further instead.
    #[arg(long, value_name = "N", default_value_t = 12)]
    pub box_unstable: usize,
}

impl DecideArgs {
    /// Checks the settings and puts them into a verify config.
    pub fn apply(&self, cfg: &mut crate::tasks::verify::Config) -> Result<(), CliError> {
        if !(self.box_time_limit >= 0.0) {
            return Err(CliError::Usage(format!(
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
