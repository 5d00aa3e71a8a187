//! `nnmilp adversarial`: Fischetti & Jo's smallest change of an image.

use super::args::{BoxArgs, LoadArgs, ModelArgs, NormArg, TighteningArgs};
use super::{CliError, Output};
use crate::bounds::Method;
use crate::lower::DistanceForm;
use crate::tasks::adversarial::{self, MarginKind};
use clap::ValueEnum;
use std::path::PathBuf;

/// The bounds passes, plus region-aware tightening (which needs this query's distance).
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum BoundsArg {
    /// region-symbolic or region-lp by the network's size (the fastest measured).
    Auto,
    /// Interval arithmetic.
    Interval,
    /// Linear relaxations back-substituted to the input (DeepPoly-style).
    Symbolic,
    /// Per-unit LP relaxation optima (HiGHS).
    Lp,
    /// Per-unit MILP dual bounds under a time limit (HiGHS; Fischetti & Jo).
    Milp,
    /// Find an example first, then symbolic bounds inside the ball of its distance.
    RegionSymbolic,
    /// Find an example first, then lp bounds inside the ball of its distance.
    RegionLp,
    /// Find an example first, then milp bounds inside the ball of its distance.
    RegionMilp,
}

impl BoundsArg {
    /// The method, and whether it runs inside an example's ball (`region-*`).
    fn split(self) -> (Method, bool) {
        match self {
            BoundsArg::Auto | BoundsArg::Interval => (Method::Interval, false),
            BoundsArg::Symbolic => (Method::Symbolic, false),
            BoundsArg::Lp => (Method::Lp, false),
            BoundsArg::Milp => (Method::Milp, false),
            BoundsArg::RegionSymbolic => (Method::Symbolic, true),
            BoundsArg::RegionLp => (Method::Lp, true),
            BoundsArg::RegionMilp => (Method::Milp, true),
        }
    }
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum MarginKindArg {
    /// y_T >= (1 + m) * y_j (the paper's; for non-negative outputs).
    Relative,
    /// y_T >= y_j + m.
    Absolute,
    /// y_T >= y_j + m * |y_j| (rows y_T >= (1 + m) y_j and y_T >= (1 - m) y_j): relative, and T wins whatever the signs.
    Magnitude,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum DistanceArg {
    /// Inputs split into deviations in_j = img_j + p_j - n_j, substituted into the first layer (no distance rows).
    Split,
    /// A d_j column and two rows per input (the textbook form).
    Rows,
}

impl From<DistanceArg> for DistanceForm {
    fn from(d: DistanceArg) -> Self {
        match d {
            DistanceArg::Split => DistanceForm::Split,
            DistanceArg::Rows => DistanceForm::Rows,
        }
    }
}

impl From<MarginKindArg> for MarginKind {
    fn from(k: MarginKindArg) -> Self {
        match k {
            MarginKindArg::Relative => MarginKind::Relative,
            MarginKindArg::Absolute => MarginKind::Absolute,
            MarginKindArg::Magnitude => MarginKind::Magnitude,
        }
    }
}

#[derive(Debug, clap::Args)]
pub struct Args {
    /// ONNX network (.onnx or .onnx.gz).
    ///
    /// A classifier with at least two outputs; the header and report name it by file name and
    /// SHA-256.
    pub network: PathBuf,
    #[command(flatten)]
    pub load: LoadArgs,
    /// Image: an 8-bit grayscale PNG, a .npy array, or IDX_FILE:N.
    ///
    /// PNG pixels are scaled by 1/255, .npy values kept as stored, IDX_FILE:N is image N of an
    /// MNIST IDX file (gzipped or not; the label comes from the matching labels file). The
    /// header and report name it by file name and SHA-256.
    #[arg(long, value_name = "IMG")]
    pub image: String,
    /// True label of the image (reported).
    ///
    /// IDX images and PNG names ending in _label<D>.png give it themselves. Untargeted
    /// queries move away from it.
    #[arg(long, value_name = "D")]
    pub label: Option<usize>,
    /// Target class [default: (predicted + 5) mod #classes, the paper's rule].
    ///
    /// The class that must beat every other by the margin.
    #[arg(long, value_name = "T")]
    pub target: Option<usize>,
    /// Any class other than the true one may win.
    ///
    /// The true class is --label, else the image's label, else the prediction. One binary per
    /// class picks the winner (big-M rows from the output bounds).
    #[arg(long, conflicts_with = "target")]
    pub untargeted: bool,
    /// Distance to minimise.
    ///
    /// l1: sum_j |x_j - img_j| (the paper's). linf: max_j |x_j - img_j|.
    #[arg(long, value_enum, default_value_t = NormArg::L1)]
    pub norm: NormArg,
    /// Margin by which the target must win.
    ///
    /// Relative (y_T >= (1 + m) y_j), absolute (y_T >= y_j + m) or magnitude
    /// (y_T >= y_j + m |y_j|), see --margin-kind.
    #[arg(long, default_value_t = 0.2)]
    pub margin: f64,
    /// Margin form [default: relative if the outputs are provably non-negative, else absolute].
    ///
    /// The default is decided from interval bounds over the task's region whatever --bounds
    /// says, so that tighter bounds never change the problem. The relative margin does not
    /// make T win when some y_j < 0 (the report's goal_class_wins says whether it did);
    /// magnitude does.
    #[arg(long, value_enum)]
    pub margin_kind: Option<MarginKindArg>,
    /// Upper bound on the distance (infeasible if no example that close exists).
    ///
    /// L1: sum_j d_j <= D; Linf: dmax <= D. The bounds pass then runs over the box clipped to
    /// the ball (L1: over box ∩ the L1 ball itself).
    #[arg(long, value_name = "D")]
    pub max_dist: Option<f64>,
    /// How the distance objective is written.
    ///
    /// split: every input becomes in_j = img_j + p_j - n_j with p_j, n_j >= 0, substituted into
    /// the first layer, and the objective is sum p_j + n_j (no distance rows). rows: a column
    /// d_j >= |in_j - img_j| and two rows per input (the textbook form). Same optimum.
    #[arg(long, value_enum, default_value_t = DistanceArg::Split)]
    pub distance: DistanceArg,
    #[command(flatten)]
    pub input_box: BoxArgs,
    /// Bounds pass for big-M coefficients and ReLU stability.
    ///
    /// interval, symbolic, lp or milp over the task's region; region-symbolic|region-lp|
    /// region-milp first find an example by a first-order search, tighten with that method
    /// inside the ball of its distance, add that budget row and start HiGHS from the example.
    /// auto (the default) picks region-lp for networks of 50 to 200 ReLUs and
    /// region-symbolic otherwise (the fastest measured); --bounds-file overrides it.
    #[arg(long, value_enum, default_value_t = BoundsArg::Auto)]
    pub bounds: BoundsArg,
    /// Read the bounds from a file written by `nnmilp bounds`.
    ///
    /// Refused for another network (by SHA-256) or a region the file's region does not
    /// contain.
    #[arg(long, value_name = "BOUNDS.json", conflicts_with = "bounds")]
    pub bounds_file: Option<PathBuf>,
    #[command(flatten)]
    pub tightening: TighteningArgs,
    #[command(flatten)]
    pub model: ModelArgs,
    /// Write original | adversarial | difference as a PNG.
    ///
    /// Drawn from the replayed solution, so it needs --solve (red = brighter, blue = darker);
    /// nothing is drawn when no example is found.
    #[arg(long, value_name = "P.png", requires = "solve")]
    pub png: Option<PathBuf>,
    /// Start HiGHS from an example found by a first-order search.
    ///
    /// Always on with --bounds region-*; otherwise the search runs on the final model before
    /// solving.
    #[arg(long)]
    pub warm_start: bool,
}

impl Args {
    pub fn run(self) -> Result<Output, CliError> {
        let m = &self.model;
        m.check(true)?;
        let (bounds, region_tightening) = self.bounds.split();
        let cfg = adversarial::Config {
            network: self.network,
            load: self.load.options(),
            image: self.image,
            label: self.label,
            target: self.target,
            untargeted: self.untargeted,
            norm: self.norm.into(),
            margin: self.margin,
            margin_kind: self.margin_kind.map(Into::into),
            max_dist: self.max_dist,
            distance_form: self.distance.into(),
            input_box: self.input_box.input_box,
            encoding: m.relu.into(),
            bounds,
            bounds_options: self.tightening.options(),
            region_tightening,
            auto_bounds: matches!(self.bounds, BoundsArg::Auto) && self.bounds_file.is_none(),
            warm_start: self.warm_start,
            bounds_file: self.bounds_file,
            output: m.output.clone(),
            format: m.format(),
            solve: m.solve,
            solve_options: m.solve_options(),
            report: m.report.clone(),
            png: self.png,
            start: m.start_formats()?,
        };
        let report = adversarial::run(&cfg)?;
        Ok(Output {
            text: report.to_string(),
            to_stderr: m.stdout_taken(),
        })
    }
}
