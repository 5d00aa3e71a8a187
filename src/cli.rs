//! The command line: clap types, turned into validated task configs. Nothing here computes;
//! `run` delegates to [`crate::tasks`] and returns what the binary prints.

use crate::back::Format;
use crate::bounds;
use crate::lower::Encoding;
use crate::milp::ObjSense;
use crate::solve::SolveOptions;
use crate::tasks::{self, adversarial::MarginKind, Norm};
use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

#[derive(Debug, Parser)]
#[command(
    name = "nnmilp",
    version,
    about = "Compile trained ReLU networks into exact 0-1 MILPs (free MPS / CPLEX LP)",
    long_about = "Compile trained ReLU networks (ONNX) into exact 0-1 mixed-integer linear programs after \
                  Fischetti & Jo (2018), write them as free MPS or CPLEX LP files for any solver, or solve \
                  them with the embedded HiGHS.\n\nExit codes: 0 success (whatever the solver status, which the \
                  report states), 1 error (message on stderr), 2 bad command line."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Show a network's layers, shapes and ReLU stability under an input box.
    Inspect(InspectArgs),
    /// Smallest L1 / Linf change of an image that makes the network prefer a target class (Fischetti & Jo).
    Adversarial(AdversarialArgs),
    /// Input that maximises (or minimises) one unit: an output class or a hidden unit (Fischetti & Jo).
    Visualize(VisualizeArgs),
    /// Exact minimum and maximum of one output over the box or an Linf ball around an image.
    Range(RangeArgs),
    /// Compute bounds on every unit over an input box and write them to a JSON file (for --bounds-file).
    Bounds(BoundsCmdArgs),
    /// Read a solver's solution file, replay its input through the network, check the model's rows and goal.
    Replay(ReplayArgs),
    /// Write the network's exact MILP alone (zero objective) and an interface file, to embed it in your own model.
    Compile(CompileArgs),
}

#[derive(Debug, Args)]
pub struct CompileArgs {
    /// ONNX network (.onnx or .onnx.gz).
    pub network: PathBuf,
    /// Input box LO,HI applied to every input.
    #[arg(long = "box", value_name = "LO,HI", default_value = "0,1", value_parser = parse_box)]
    pub input_box: (f64, f64),
    /// Per-input bounds instead of --box: JSON {"lo": [...], "hi": [...]}.
    #[arg(long, value_name = "FILE", conflicts_with = "input_box")]
    pub input_bounds: Option<PathBuf>,
    /// Bounds pass used for big-M coefficients and ReLU stability.
    #[arg(long, value_enum, default_value_t = BoundsArg::Interval)]
    pub bounds: BoundsArg,
    /// Seconds HiGHS may spend per unit and direction in the lp / milp bounds passes.
    #[arg(long, value_name = "S", default_value_t = 1.0)]
    pub unit_time_limit: f64,
    /// Worker threads of the lp / milp bounds passes (default: one per core).
    #[arg(long, value_name = "N")]
    pub bounds_threads: Option<usize>,
    /// ReLU encoding.
    #[arg(long, value_enum, default_value_t = ReluArg::Bigm)]
    pub relu: ReluArg,
    /// Put before every column and row name (inputs become P in_j, outputs P y_j, written without a space).
    #[arg(long, value_name = "P", default_value = "")]
    pub prefix: String,
    /// Solver the model file is for: refuses constructs it does not read as meant (any: all six alike).
    #[arg(long = "for", value_enum, value_name = "SOLVER", default_value_t = ForArg::Any)]
    pub for_solver: ForArg,
    /// Model file: .mps, .lp, optionally .gz-compressed; `-` writes to stdout (then --format is needed).
    #[arg(short = 'o', long = "out", value_name = "OUT")]
    pub output: String,
    /// File format (default: from the extension of -o).
    #[arg(long, value_enum)]
    pub format: Option<FormatArg>,
    /// Interface file (JSON): input/output column names, shapes and bounds, encoding, SHA-256.
    #[arg(long, value_name = "NET.json")]
    pub interface: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct ReplayArgs {
    /// ONNX network (.onnx or .onnx.gz) the model was built from.
    pub network: PathBuf,
    /// Solution file written by Gurobi (.sol), CPLEX (.sol XML), SCIP, HiGHS, CBC (-solu) or GLPK (-w).
    pub solution: PathBuf,
    /// The model file that was solved (.mps/.lp[.gz]): row violations, the task's goal, GLPK's column names.
    #[arg(long, value_name = "MODEL")]
    pub model: Option<PathBuf>,
    /// Solver that wrote the solution file [default: detected from its contents].
    #[arg(long, value_enum)]
    pub format: Option<SolutionFormatArg>,
    /// The image of an adversarial model, when the path in its header does not lead to it.
    #[arg(long, value_name = "IMG")]
    pub image: Option<String>,
    /// Prefix of the network's column names (as given to `compile --prefix`).
    #[arg(long, value_name = "P", default_value = "")]
    pub prefix: String,
    /// Draw the input (original | replayed | difference when the image is known).
    #[arg(long, value_name = "P.png")]
    pub png: Option<PathBuf>,
    /// Write the JSON report to this file (`-` = stdout).
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

impl From<SolutionFormatArg> for crate::front::solution::SolutionFormat {
    fn from(f: SolutionFormatArg) -> Self {
        use crate::front::solution::SolutionFormat as F;
        match f {
            SolutionFormatArg::Gurobi => F::Gurobi,
            SolutionFormatArg::Cplex => F::Cplex,
            SolutionFormatArg::Scip => F::Scip,
            SolutionFormatArg::Highs => F::Highs,
            SolutionFormatArg::Cbc => F::Cbc,
            SolutionFormatArg::Glpk => F::Glpk,
        }
    }
}

#[derive(Debug, Args)]
pub struct BoundsCmdArgs {
    /// ONNX network (.onnx or .onnx.gz).
    pub network: PathBuf,
    /// Input box LO,HI applied to every input.
    #[arg(long = "box", value_name = "LO,HI", default_value = "0,1", value_parser = parse_box)]
    pub input_box: (f64, f64),
    /// Bounds over the ball of radius --eps around this image (clipped to --box) instead of the whole box.
    #[arg(long, value_name = "IMG", requires = "eps")]
    pub image: Option<String>,
    /// Radius of the ball around --image.
    #[arg(long, value_name = "E", requires = "image")]
    pub eps: Option<f64>,
    /// Norm of the ball around --image (l1: the box is also cut by sum_j |x_j - img_j| <= E).
    #[arg(long, value_enum, default_value_t = NormArg::Linf, requires = "image")]
    pub norm: NormArg,
    /// Bounds pass (each runs the weaker ones first).
    #[arg(long, value_enum, default_value_t = BoundsArg::Interval)]
    pub method: BoundsArg,
    /// Seconds HiGHS may spend per unit and direction (lp, milp).
    #[arg(long, value_name = "S", default_value_t = 1.0)]
    pub unit_time_limit: f64,
    /// Worker threads (default: one per core).
    #[arg(long, value_name = "N")]
    pub threads: Option<usize>,
    /// Bounds file to write (`-` = stdout).
    #[arg(short, long, value_name = "BOUNDS.json")]
    pub output: PathBuf,
}

#[derive(Debug, Args)]
pub struct InspectArgs {
    /// ONNX network (.onnx or .onnx.gz).
    pub network: PathBuf,
    #[command(flatten)]
    pub region: RegionArgs,
    /// Print the report as JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct RegionArgs {
    /// Input box LO,HI applied to every input.
    #[arg(long = "box", value_name = "LO,HI", default_value = "0,1", value_parser = parse_box)]
    pub input_box: (f64, f64),
    /// Bounds pass used for big-M coefficients and ReLU stability.
    #[arg(long, value_enum, default_value_t = BoundsArg::Interval)]
    pub bounds: BoundsArg,
    /// Read the bounds from a file written by `nnmilp bounds` (same network, a region containing this one).
    #[arg(long, value_name = "BOUNDS.json", conflicts_with = "bounds")]
    pub bounds_file: Option<PathBuf>,
    /// Seconds HiGHS may spend per unit and direction in the lp / milp bounds passes.
    #[arg(long, value_name = "S", default_value_t = 1.0)]
    pub unit_time_limit: f64,
    /// Worker threads of the lp / milp bounds passes (default: one per core).
    #[arg(long, value_name = "N")]
    pub bounds_threads: Option<usize>,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum BoundsArg {
    /// Interval arithmetic.
    Interval,
    /// Linear relaxations back-substituted to the input (DeepPoly-style).
    Symbolic,
    /// Per-unit LP relaxation optima (HiGHS).
    Lp,
    /// Per-unit MILP dual bounds under a time limit (HiGHS; Fischetti & Jo).
    Milp,
    /// adversarial only: find an example first, then symbolic bounds inside the ball of its distance.
    RegionSymbolic,
    /// adversarial only: find an example first, then lp bounds inside the ball of its distance.
    RegionLp,
    /// adversarial only: find an example first, then milp bounds inside the ball of its distance.
    RegionMilp,
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
pub enum MarginKindArg {
    /// y_T >= (1 + m) * y_j (the paper's; for non-negative outputs).
    Relative,
    /// y_T >= y_j + m.
    Absolute,
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

impl From<ForArg> for crate::back::target::Target {
    fn from(f: ForArg) -> Self {
        use crate::back::target::{Solver, Target};
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

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum FormatArg {
    Mps,
    Lp,
}

#[derive(Debug, Args)]
pub struct AdversarialArgs {
    /// ONNX network (.onnx or .onnx.gz).
    pub network: PathBuf,
    /// Image: an 8-bit grayscale PNG (scaled by 1/255), a .npy array, or IDX_FILE:N (image N of an MNIST IDX file).
    #[arg(long, value_name = "IMG")]
    pub image: String,
    /// True label of the image (reported; IDX images find it in the matching labels file).
    #[arg(long, value_name = "D")]
    pub label: Option<usize>,
    /// Target class [default: (predicted + 5) mod #classes, the paper's rule].
    #[arg(long, value_name = "T")]
    pub target: Option<usize>,
    /// Any class other than the true one (--label, else the image's label, else the prediction) may win.
    #[arg(long, conflicts_with = "target")]
    pub untargeted: bool,
    /// Distance to minimise.
    #[arg(long, value_enum, default_value_t = NormArg::L1)]
    pub norm: NormArg,
    /// Margin by which the target must win.
    #[arg(long, default_value_t = 0.2)]
    pub margin: f64,
    /// Margin form [default: relative if the outputs are provably non-negative over the box, else absolute].
    #[arg(long, value_enum)]
    pub margin_kind: Option<MarginKindArg>,
    /// Upper bound on the distance (L1: sum d_j <= D; Linf: eps <= D; infeasible if no such example exists).
    #[arg(long, value_name = "D")]
    pub max_dist: Option<f64>,
    #[command(flatten)]
    pub region: RegionArgs,
    #[command(flatten)]
    pub output: OutputArgs,
    /// Write original | adversarial | difference as a PNG (with --solve, for image-shaped inputs).
    #[arg(long, value_name = "P.png")]
    pub png: Option<PathBuf>,
    /// Start HiGHS from an example found by a first-order search (always on with --bounds region-*).
    #[arg(long)]
    pub warm_start: bool,
}

#[derive(Debug, Args)]
pub struct OutputArgs {
    /// ReLU encoding.
    #[arg(long, value_enum, default_value_t = ReluArg::Bigm)]
    pub relu: ReluArg,
    /// Model file: .mps, .lp, optionally .gz-compressed; `-` writes to stdout (then --format is needed).
    #[arg(short = 'o', long = "out", value_name = "OUT")]
    pub output: Option<String>,
    /// File format (default: from the extension of -o).
    #[arg(long, value_enum)]
    pub format: Option<FormatArg>,
    /// Solver the model file is for: refuses constructs it does not read as meant (any: all six alike).
    #[arg(long = "for", value_enum, value_name = "SOLVER", default_value_t = ForArg::Any)]
    pub for_solver: ForArg,
    /// Solve with the embedded HiGHS, replay the solution through the network and report.
    #[arg(long)]
    pub solve: bool,
    /// Solver time limit in seconds.
    #[arg(long, value_name = "S")]
    pub time_limit: Option<f64>,
    /// Solver threads.
    #[arg(long, value_name = "N")]
    pub threads: Option<usize>,
    /// Write the JSON report to this file (`-` = stdout).
    #[arg(long, value_name = "R.json")]
    pub report: Option<PathBuf>,
    /// Show the solver's log on stderr.
    #[arg(long)]
    pub verbose: bool,
}

#[derive(Debug, Args)]
pub struct VisualizeArgs {
    /// ONNX network (.onnx or .onnx.gz).
    pub network: PathBuf,
    /// Unit LAYER:INDEX: LAYER is a label (L2, N5) or layer number as `nnmilp inspect` shows, or the ONNX node name.
    #[arg(
        long,
        value_name = "LAYER:INDEX",
        required_unless_present = "class",
        conflicts_with = "class"
    )]
    pub unit: Option<String>,
    /// Output column K, or `all` (one problem per class; with --png the paper's figure).
    #[arg(long = "output", value_name = "K|all", value_parser = parse_class)]
    pub class: Option<ClassArg>,
    /// Keep the input near this image (with --max-dist).
    #[arg(long, value_name = "IMG", requires = "max_dist")]
    pub near: Option<String>,
    /// Largest distance from the --near image.
    #[arg(long, value_name = "D", requires = "near")]
    pub max_dist: Option<f64>,
    /// Distance used with --near.
    #[arg(long, value_enum, default_value_t = NormArg::Linf, requires = "near")]
    pub norm: NormArg,
    #[command(flatten)]
    pub sense: SenseArgs,
    #[command(flatten)]
    pub region: RegionArgs,
    #[command(flatten)]
    pub output: OutputArgs,
    /// Draw the optimising inputs as a grid of images (with --solve, image-shaped inputs).
    #[arg(long, value_name = "P.png")]
    pub png: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct SenseArgs {
    /// Maximise the unit (the default for visualize).
    #[arg(long, conflicts_with = "minimize")]
    pub maximize: bool,
    /// Minimise the unit.
    #[arg(long)]
    pub minimize: bool,
}

#[derive(Clone, Copy, Debug)]
pub enum ClassArg {
    One(usize),
    All,
}

fn parse_class(s: &str) -> Result<ClassArg, String> {
    if s == "all" {
        return Ok(ClassArg::All);
    }
    s.parse()
        .map(ClassArg::One)
        .map_err(|_| format!("expected an output index or `all`, got {s:?}"))
}

#[derive(Debug, Args)]
pub struct RangeArgs {
    /// ONNX network (.onnx or .onnx.gz).
    pub network: PathBuf,
    /// Output column K.
    #[arg(long = "output", value_name = "K")]
    pub class: usize,
    /// Use the Linf ball of radius --eps around this image (clipped to --box) instead of the whole box.
    #[arg(long, value_name = "IMG", requires = "eps")]
    pub image: Option<String>,
    /// Radius of the Linf ball around --image.
    #[arg(long, value_name = "E", requires = "image")]
    pub eps: Option<f64>,
    /// Only the minimum / maximum (then -o OUT names exactly that file; with both, .min/.max is inserted).
    #[command(flatten)]
    pub sense: SenseArgs,
    #[command(flatten)]
    pub region: RegionArgs,
    #[command(flatten)]
    pub output: OutputArgs,
}

impl OutputArgs {
    /// The checks every task's model-output flags share; `one_file` is false when several files
    /// would be written (then stdout cannot take them).
    fn check(&self, one_file: bool) -> Result<(), crate::Error> {
        let usage = |m: &str| Err(crate::Error::Usage(m.to_string()));
        if self.output.is_none() && !self.solve {
            return usage("nothing to do: give -o OUT to write the model and/or --solve");
        }
        let to_stdout = self.output.as_deref() == Some("-");
        if to_stdout && !one_file {
            return usage("-o - writes one model to stdout, but this query writes several files");
        }
        if to_stdout && self.format.is_none() {
            return usage("-o - writes to stdout: say which format with --format mps|lp");
        }
        if to_stdout && self.report.as_deref() == Some(std::path::Path::new("-")) {
            return usage("the model and the report cannot both go to stdout");
        }
        if let Some(out) = self.output.as_deref().filter(|_| !to_stdout && self.format.is_none()) {
            if Format::from_path(out).is_none() {
                return Err(crate::Error::Usage(format!(
                    "cannot tell the format of {out:?}: use .mps, .lp (optionally .gz) or --format"
                )));
            }
        }
        self.check_target()
    }

    /// Refuses, before any work, a file the `--for` solver would not read as meant.
    fn check_target(&self) -> Result<(), crate::Error> {
        check_target(self.for_solver, self.relu, self.format, self.output.as_deref())
    }

    fn solve_options(&self) -> SolveOptions {
        SolveOptions {
            time_limit: self.time_limit,
            threads: self.threads,
            mip_rel_gap: None,
            verbose: self.verbose,
        }
    }

    /// Human text goes to stderr when stdout carries the model or the report.
    fn stdout_taken(&self) -> bool {
        self.output.as_deref() == Some("-") || self.report.as_deref() == Some(std::path::Path::new("-"))
    }
}

/// The `--for` check of every command that writes a model: `relu`'s constructs in the format
/// of `format` or of the file name, against the capability table.
fn check_target(
    solver: ForArg,
    relu: ReluArg,
    format: Option<FormatArg>,
    out: Option<&str>,
) -> Result<(), crate::Error> {
    use crate::back::target::{self, Construct};
    let format = format.map(Format::from).or_else(|| out.and_then(Format::from_path));
    let used: &[Construct] = match relu {
        ReluArg::Bigm => &[],
        ReluArg::Indicator | ReluArg::Both => &[Construct::Indicators],
    };
    match format {
        Some(f) => target::check(solver.into(), used, f).map_err(|e| crate::Error::Usage(e.to_string())),
        None => Ok(()),
    }
}

impl RegionArgs {
    /// Bounds files are read by `inspect` and `adversarial`; the other tasks compute their own
    /// bounds over their (often smaller) region.
    fn refuse_bounds_file(&self, command: &str) -> Result<(), crate::Error> {
        match &self.bounds_file {
            Some(_) => Err(crate::Error::Usage(format!(
                "--bounds-file is not supported by {command} yet (use --bounds symbolic|lp|milp)"
            ))),
            None => Ok(()),
        }
    }
}

fn parse_box(s: &str) -> Result<(f64, f64), String> {
    let (a, b) = s.split_once(',').ok_or_else(|| format!("expected LO,HI, got {s:?}"))?;
    let lo: f64 = a.trim().parse().map_err(|e| format!("bad lower bound {a:?}: {e}"))?;
    let hi: f64 = b.trim().parse().map_err(|e| format!("bad upper bound {b:?}: {e}"))?;
    if !(lo.is_finite() && hi.is_finite() && lo <= hi) {
        return Err(format!("box [{lo}, {hi}] must be finite with LO <= HI"));
    }
    Ok((lo, hi))
}

impl BoundsArg {
    /// The method, and whether it runs inside an example's ball (`region-*`).
    fn split(self) -> (bounds::Method, bool) {
        match self {
            BoundsArg::Interval => (bounds::Method::Interval, false),
            BoundsArg::Symbolic => (bounds::Method::Symbolic, false),
            BoundsArg::Lp => (bounds::Method::Lp, false),
            BoundsArg::Milp => (bounds::Method::Milp, false),
            BoundsArg::RegionSymbolic => (bounds::Method::Symbolic, true),
            BoundsArg::RegionLp => (bounds::Method::Lp, true),
            BoundsArg::RegionMilp => (bounds::Method::Milp, true),
        }
    }

    /// The method for a command without region-aware tightening.
    fn plain(self, command: &str) -> Result<bounds::Method, crate::Error> {
        match self.split() {
            (m, false) => Ok(m),
            (_, true) => Err(crate::Error::Usage(format!(
                "--bounds region-symbolic|region-lp|region-milp needs an optimisation query with a distance to the image \
                 (adversarial); {command} takes interval|symbolic|lp|milp"
            ))),
        }
    }
}

impl RegionArgs {
    fn bounds_options(&self) -> Result<bounds::BoundsOptions, crate::Error> {
        check_unit_time_limit(self.unit_time_limit)?;
        Ok(bounds::BoundsOptions {
            unit_time_limit: self.unit_time_limit,
            threads: self.bounds_threads,
            progress: true,
        })
    }
}

fn check_unit_time_limit(s: f64) -> Result<(), crate::Error> {
    if s.is_nan() || s < 0.0 {
        return Err(crate::Error::Usage(format!(
            "--unit-time-limit {s} must be a number of seconds >= 0"
        )));
    }
    Ok(())
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

impl From<FormatArg> for Format {
    fn from(f: FormatArg) -> Self {
        match f {
            FormatArg::Mps => Format::Mps,
            FormatArg::Lp => Format::Lp,
        }
    }
}

/// What the binary prints on success, and where.
pub struct Output {
    pub text: String,
    /// The model went to stdout, so human text goes to stderr.
    pub to_stderr: bool,
}

pub fn run(cli: Cli) -> Result<Output, crate::Error> {
    match cli.command {
        Command::Compile(a) => {
            check_target(a.for_solver, a.relu, a.format, Some(&a.output))?;
            check_unit_time_limit(a.unit_time_limit)?;
            let to_stdout = a.output == "-";
            if to_stdout && a.format.is_none() {
                return Err(crate::Error::Usage(
                    "-o - writes to stdout: say which format with --format mps|lp".into(),
                ));
            }
            let i = tasks::compile::run(&tasks::compile::Config {
                network: a.network,
                input_box: a.input_box,
                input_bounds: a.input_bounds,
                bounds: a.bounds.plain("compile")?,
                bounds_options: bounds::BoundsOptions {
                    unit_time_limit: a.unit_time_limit,
                    threads: a.bounds_threads,
                    progress: true,
                },
                encoding: a.relu.into(),
                prefix: a.prefix,
                target: a.for_solver.into(),
                output: a.output,
                format: a.format.map(Into::into),
                interface: a.interface.clone(),
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
            if let Some(p) = &a.interface {
                text += &format!("wrote {}\n", p.display());
            }
            Ok(Output {
                text,
                to_stderr: to_stdout,
            })
        }
        Command::Replay(a) => {
            let to_stdout = a.report.as_deref() == Some(std::path::Path::new("-"));
            let report = tasks::replay::run(&tasks::replay::Config {
                network: a.network,
                solution: a.solution,
                format: a.format.map(Into::into),
                model: a.model,
                image: a.image,
                prefix: a.prefix,
                png: a.png,
                report: a.report,
            })?;
            if report.failed() {
                return Err(tasks::TaskError::ReplayFailed {
                    summary: report.to_text(),
                }
                .into());
            }
            Ok(Output {
                text: report.to_text(),
                to_stderr: to_stdout,
            })
        }
        Command::Inspect(a) => {
            let report = tasks::inspect::run(&tasks::inspect::Config {
                network: a.network,
                input_box: a.region.input_box,
                bounds: a.region.bounds.plain("inspect")?,
                bounds_options: a.region.bounds_options()?,
                bounds_file: a.region.bounds_file,
            })?;
            let text = if a.json {
                serde_json::to_string_pretty(&report).expect("report serialises") + "\n"
            } else {
                report.to_text()
            };
            Ok(Output { text, to_stderr: false })
        }
        Command::Bounds(a) => {
            check_unit_time_limit(a.unit_time_limit)?;
            let to_stdout = a.output.as_os_str() == "-";
            let file = tasks::bounds::run(&tasks::bounds::Config {
                network: a.network,
                input_box: a.input_box,
                around: a.image.zip(a.eps).map(|(img, eps)| (img, eps, a.norm.into())),
                method: a.method.plain("bounds")?,
                options: bounds::BoundsOptions {
                    unit_time_limit: a.unit_time_limit,
                    threads: a.threads,
                    progress: true,
                },
                output: a.output,
            })?;
            Ok(Output {
                text: tasks::bounds::summary(&file),
                to_stderr: to_stdout,
            })
        }
        Command::Adversarial(a) => {
            let o = &a.output;
            o.check(true)?;
            if a.png.is_some() && !o.solve {
                return Err(crate::Error::Usage("--png needs --solve".into()));
            }
            let cfg = tasks::adversarial::Config {
                network: a.network,
                image: a.image,
                label: a.label,
                target: a.target,
                untargeted: a.untargeted,
                norm: a.norm.into(),
                margin: a.margin,
                margin_kind: a.margin_kind.map(|k| match k {
                    MarginKindArg::Relative => MarginKind::Relative,
                    MarginKindArg::Absolute => MarginKind::Absolute,
                }),
                max_dist: a.max_dist,
                input_box: a.region.input_box,
                encoding: o.relu.into(),
                bounds: a.region.bounds.split().0,
                bounds_options: a.region.bounds_options()?,
                region_tightening: a.region.bounds.split().1,
                warm_start: a.warm_start,
                bounds_file: a.region.bounds_file.clone(),
                output: o.output.clone(),
                format: o.format.map(Into::into),
                solve: o.solve,
                solve_options: o.solve_options(),
                report: o.report.clone(),
                png: a.png,
            };
            let report = tasks::adversarial::run(&cfg)?;
            Ok(Output {
                text: adversarial_summary(&report),
                to_stderr: o.stdout_taken(),
            })
        }
        Command::Visualize(a) => {
            let o = &a.output;
            let all = matches!(a.class, Some(ClassArg::All));
            o.check(!all)?;
            if a.png.is_some() && !o.solve {
                return Err(crate::Error::Usage("--png needs --solve".into()));
            }
            let units = match (a.class, a.unit) {
                (Some(ClassArg::One(k)), _) => tasks::visualize::Units::Output(k),
                (Some(ClassArg::All), _) => tasks::visualize::Units::AllOutputs,
                (None, Some(u)) => tasks::visualize::Units::Unit(u),
                (None, None) => return Err(crate::Error::Usage("give --unit LAYER:INDEX or --output K|all".into())),
            };
            a.region.refuse_bounds_file("visualize")?;
            let near = match (a.near, a.max_dist) {
                (Some(image), Some(max_dist)) => Some(tasks::visualize::Near {
                    image,
                    max_dist,
                    norm: a.norm.into(),
                }),
                (None, None) => None,
                _ => return Err(crate::Error::Usage("--near IMG and --max-dist D go together".into())),
            };
            let cfg = tasks::visualize::Config {
                network: a.network,
                units,
                sense: if a.sense.minimize {
                    ObjSense::Minimize
                } else {
                    ObjSense::Maximize
                },
                input_box: a.region.input_box,
                near,
                encoding: o.relu.into(),
                bounds: a.region.bounds.plain("visualize")?,
                bounds_options: a.region.bounds_options()?,
                output: o.output.clone(),
                format: o.format.map(Into::into),
                solve: o.solve,
                solve_options: o.solve_options(),
                report: o.report.clone(),
                png: a.png,
            };
            let report = tasks::visualize::run(&cfg)?;
            Ok(Output {
                text: visualize_summary(&report),
                to_stderr: o.stdout_taken(),
            })
        }
        Command::Range(a) => {
            let o = &a.output;
            let senses = match (a.sense.minimize, a.sense.maximize) {
                (true, false) => tasks::range::Senses::Minimize,
                (false, true) => tasks::range::Senses::Maximize,
                _ => tasks::range::Senses::Both,
            };
            o.check(senses != tasks::range::Senses::Both)?;
            a.region.refuse_bounds_file("range")?;
            let around = match (a.image, a.eps) {
                (Some(image), Some(eps)) => Some(tasks::range::Around { image, eps }),
                (None, None) => None,
                _ => return Err(crate::Error::Usage("--image IMG and --eps E go together".into())),
            };
            let cfg = tasks::range::Config {
                network: a.network,
                output_index: a.class,
                input_box: a.region.input_box,
                around,
                senses,
                encoding: o.relu.into(),
                bounds: a.region.bounds.plain("range")?,
                bounds_options: a.region.bounds_options()?,
                output: o.output.clone(),
                format: o.format.map(Into::into),
                solve: o.solve,
                solve_options: o.solve_options(),
                report: o.report.clone(),
            };
            let report = tasks::range::run(&cfg)?;
            Ok(Output {
                text: range_summary(&report),
                to_stderr: o.stdout_taken(),
            })
        }
    }
}

fn optimum_line(what: &str, opt: &tasks::Optimum) -> String {
    let mut s = format!("{what}: {} in {:.2}s", opt.status_text, opt.seconds);
    if let Some(p) = &opt.point {
        s += &format!(
            ", value {:.6} (replayed; solver {:.6}), predicted class {}",
            p.value,
            opt.objective.unwrap_or(f64::NAN),
            p.predicted
        );
    }
    if let (Some(b), Some(g)) = (opt.dual_bound, opt.gap) {
        s += &format!(", bound {b:.6}, gap {:.2}%", 100.0 * g);
    }
    s + "\n"
}

fn model_line(m: &tasks::ModelInfo) -> String {
    format!(
        "model: {} columns, {} rows, {} binaries, {} indicators ({} encoding, {} bounds; {} of {} ReLUs unstable)\n",
        m.columns, m.rows, m.binaries, m.indicators, m.encoding, m.bounds, m.relu_unstable, m.relu_units
    )
}

fn visualize_summary(r: &tasks::visualize::Report) -> String {
    let mut s = format!(
        "network {} | {} | box [{}, {}]",
        r.network.file, r.sense, r.input_box[0], r.input_box[1]
    );
    if let Some(n) = &r.near {
        s += &format!(" | within {} {} of {}", n.norm.name(), n.max_dist, n.image);
    }
    s += "\n";
    s += &model_line(&r.model);
    for u in &r.units {
        let what = format!("unit {}:{} ({})", u.unit.label, u.unit.index, u.unit.name);
        if let Some(f) = &u.file {
            s += &format!("wrote {f}\n");
        }
        if let Some(opt) = &u.solve {
            s += &optimum_line(&what, opt);
        }
    }
    if let Some(p) = &r.png {
        s += &format!("wrote {p}\n");
    }
    s
}

fn range_summary(r: &tasks::range::Report) -> String {
    let mut s = format!(
        "network {} | output y_{} | interval bounds [{:.6}, {:.6}]\n",
        r.network.file, r.output, r.interval_bounds[0], r.interval_bounds[1]
    );
    s += &model_line(&r.model);
    for (what, e) in [("min", &r.min), ("max", &r.max)] {
        if let Some(e) = e {
            if let Some(f) = &e.file {
                s += &format!("wrote {f}\n");
            }
            if let Some(opt) = &e.solve {
                s += &optimum_line(what, opt);
            }
        }
    }
    s
}

fn adversarial_summary(r: &tasks::adversarial::Report) -> String {
    let goal = match (r.target, r.true_class) {
        (Some(t), _) => format!("target {t}"),
        (None, Some(c)) => format!("untargeted (away from {c})"),
        (None, None) => String::new(),
    };
    let mut s = format!(
        "network {} | image {} | predicted {}{} | {goal} | {} distance\n",
        r.network.file,
        r.image.source,
        r.image.predicted,
        r.image.label.map_or(String::new(), |l| format!(" (label {l})")),
        r.norm.name()
    );
    if let Some(g) = &r.region {
        s += &match (g.incumbent_distance, g.radius) {
            (Some(d), Some(radius)) => format!(
                "region: first-order example at distance {d:.6} ({:.2}s); bounds tightened inside radius {radius:.6} \
                 ({:.2}s): unstable ReLUs {} -> {}\n",
                g.search_seconds, g.tighten_seconds, g.relu_unstable_before, g.relu_unstable_after
            ),
            _ => format!(
                "region: the first-order search found no example ({:.2}s); bounds over the task's region\n",
                g.search_seconds
            ),
        };
    }
    s += &model_line(&r.model);
    if let Some(f) = &r.model.file {
        s += &format!("wrote {f}\n");
    }
    if let Some(sol) = &r.solve {
        s += &format!(
            "solve: {} in {:.2}s{}",
            sol.status_text,
            sol.seconds,
            if sol.warm_started {
                " (started from the example)"
            } else {
                ""
            }
        );
        if let Some(obj) = sol.objective {
            s += &format!(", objective {obj:.6}");
        }
        if let (Some(b), Some(g)) = (sol.dual_bound, sol.gap) {
            s += &format!(", bound {b:.6}, gap {:.2}%", 100.0 * g);
        }
        s += "\n";
        match &sol.example {
            Some(ex) => {
                s += &format!(
                    "adversarial example (replayed): class {} -> {}, L1 distance {:.6}, Linf {:.4}, {} inputs changed, margin slack {:.3e}\n",
                    r.image.predicted, ex.predicted, ex.l1_distance, ex.linf_distance, ex.changed_inputs, ex.margin_slack
                );
            }
            None => s += "no adversarial example found\n",
        }
    }
    s
}
