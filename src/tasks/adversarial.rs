//! Fischetti & Jo's adversarial example: the smallest change of an image that makes the network
//! prefer a target class (or, untargeted, any class other than the true one) by a margin.
//!
//! Added to the lowered network: the distance of the input from the image (L1: a column
//! `d_j >= |in_j - img_j|` per input and the objective `min sum d_j`, the paper's; Linf: one column
//! `dmax >= |in_j - img_j|` for all `j` and the objective `min dmax`, see [`crate::lower::add_distance`]), and margin
//! rows. Targeted: for every class `j != T` either `y_T >= (1 + m)·y_j` (relative margin, the
//! paper's 20%, meant for non-negative outputs) or `y_T >= y_j + m` (absolute). Untargeted, away
//! from class `c`: a binary `t_j` per class `j != c` with `sum_j t_j = 1`, and the margin of `j`
//! over `c` switched on by `t_j` through a big-M row (see [`Spec::build`]). `--max-dist D` bounds the
//! distance by `D`. A solution is only reported after its input has been replayed through the
//! forward pass.

use super::attack::{Margins, Polish, Search};
use super::output::{picture_dims, release, write_model, write_report, Header};
use super::region::{ball_region, region_around};
use super::replay::{check_replay, solver_input_exprs};
use super::report::tool;
use super::source::{Lowering, Pipeline, TaskModel};
use super::start::{self, StartFormat, StartInfo};
use super::{ImageSource, InputRange, NetworkSource, Norm, TaskError, Timing};
use crate::back;
use crate::bounds::{self, Bounds, BoundsOptions, InputBox, Region};
use crate::data;
use crate::front::onnx::LoadOptions;
use crate::ir::{argmax, Handle, Network};
use crate::lower::hygiene::{self, HygieneStats};
use crate::lower::presolve::PresolveStats;
use crate::lower::{with_distance, Binary, DistanceForm, Encoding, WithDistance};
use crate::milp::{name, Col, ColKind, LinExpr, Milp, ObjSense, Sense};
use crate::solve::{self, SolveOptions, Status};
use crate::tighten::IntervalStage;
use serde::Serialize;
use std::fmt;
use std::path::PathBuf;
use std::time::Instant;

pub use super::{ModelInfo, NetworkInfo};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MarginKind {
    /// `y_T >= (1 + m)·y_j`, the paper's. With a negative `y_j` this lets `y_T < y_j`, so the
    /// class that wins is reported, not required.
    Relative,
    /// `y_T >= y_j + m`.
    Absolute,
    /// `y_T >= y_j + m·|y_j|`: the relative margin that also makes `T` win whatever the sign,
    /// written as the two rows `y_T >= (1 + m)·y_j` and `y_T >= (1 - m)·y_j` (no binary).
    Magnitude,
}

impl MarginKind {
    /// Whether meeting the margin (`m > 0`) implies that the winning class is the predicted one.
    fn implies_win(self) -> bool {
        !matches!(self, MarginKind::Relative)
    }
}

/// Everything `adversarial` needs, validated by the caller (the CLI or a library user).
#[derive(Clone, Debug)]
pub struct Config {
    pub network: PathBuf,
    /// What the network file may make the loader allocate.
    pub load: LoadOptions,
    /// An image spec for [`data::load_image`]: PNG, `.npy`, or `IDX_FILE:N`.
    pub image: String,
    /// The true label, if known (otherwise taken from the image source when it has one).
    pub label: Option<usize>,
    /// Target class; default `(D + 5) mod n` with `D` the network's prediction (the paper's rule).
    /// Ignored when `untargeted`.
    pub target: Option<usize>,
    /// Any class other than the true one (the label, else the prediction) may win.
    pub untargeted: bool,
    /// The distance minimised.
    pub norm: Norm,
    pub margin: f64,
    /// `None`: relative when the outputs are provably non-negative over the box, else absolute.
    pub margin_kind: Option<MarginKind>,
    /// Upper bound on the distance (L1: `sum d_j <= D`; Linf: `dmax <= D`).
    pub max_dist: Option<f64>,
    /// How the distance is written (split deviations, the default, or `d_j` rows).
    pub distance_form: DistanceForm,
    /// The input box, `[lo, hi]` for every input.
    pub input_box: InputRange,
    pub encoding: Encoding,
    pub bounds: bounds::Method,
    /// Settings of the lp / milp bounds passes (time per unit, threads, progress bar).
    pub bounds_options: BoundsOptions,
    /// Region-aware tightening (`--bounds region-lp|region-milp`): find an example first (see
    /// [`super::attack`]), then run `bounds` inside the ball of its distance around the image
    /// and add that distance as a budget row (the optimum lies inside, so it is unchanged).
    pub region_tightening: bool,
    /// Choose `bounds` and `region_tightening` by the network's size ([`auto_bounds`]), the
    /// command line's default; `Config::new` leaves it off so that library callers get what
    /// they set.
    pub auto_bounds: bool,
    /// Hand HiGHS the first-order example as its first incumbent (always on with
    /// `region_tightening`).
    pub warm_start: bool,
    /// Read the bounds from this file (from `nnmilp bounds`) instead of computing them.
    pub bounds_file: Option<PathBuf>,
    /// Model file to write (`-` = stdout), format from the extension unless `format` is set.
    pub output: Option<String>,
    pub format: Option<back::Format>,
    pub solve: bool,
    pub solve_options: SolveOptions,
    pub report: Option<PathBuf>,
    pub png: Option<PathBuf>,
    /// Start files to write beside the model (`--start`; empty: none): the solver's incumbent
    /// with `solve`, else the first-order example, every column valued and checked against
    /// the written model ([`super::start`]).
    pub start: Vec<StartFormat>,
}

impl Config {
    /// The command line's defaults for `nnmilp adversarial NET --image IMG`: L1, targeted by the
    /// paper's rule, margin 0.2, box [0, 1], big-M, interval bounds; nothing written or solved.
    pub fn new(network: impl Into<PathBuf>, image: impl Into<String>) -> Self {
        Config {
            network: network.into(),
            load: LoadOptions::default(),
            image: image.into(),
            label: None,
            target: None,
            untargeted: false,
            norm: Norm::L1,
            margin: 0.2,
            margin_kind: None,
            max_dist: None,
            distance_form: DistanceForm::Split,
            input_box: InputRange::UNIT,
            encoding: Encoding::BigM,
            bounds: bounds::Method::Interval,
            bounds_options: BoundsOptions::default(),
            region_tightening: false,
            auto_bounds: false,
            warm_start: false,
            bounds_file: None,
            output: None,
            format: None,
            solve: false,
            solve_options: SolveOptions::default(),
            report: None,
            png: None,
            start: Vec::new(),
        }
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct Report {
    pub tool: String,
    pub task: &'static str,
    pub network: NetworkInfo,
    pub image: ImageInfo,
    pub norm: Norm,
    /// `targeted` or `untargeted`.
    pub mode: &'static str,
    /// The class that must win (targeted only).
    pub target: Option<usize>,
    /// The class that must lose (untargeted only): the label, else the prediction.
    pub true_class: Option<usize>,
    pub margin: f64,
    pub margin_kind: MarginKind,
    pub max_dist: Option<f64>,
    pub input_box: [f64; 2],
    pub model: ModelInfo,
    /// How the distance was written (`split` or `rows`).
    pub distance_form: DistanceForm,
    /// What the compiler-side presolve removed ([`crate::lower::presolve`]).
    pub presolve: PresolveStats,
    /// Tiny coefficients dropped soundly ([`crate::lower::hygiene`]).
    pub hygiene: HygieneStats,
    /// What region-aware tightening did (`--bounds region-lp|region-milp`).
    pub region: Option<RegionInfo>,
    /// Present when `--solve` was given.
    pub solve: Option<SolveInfo>,
    /// The start files written (`--start`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start: Option<StartInfo>,
    pub timing: Timing,
}

/// Region-aware tightening, step by step.
#[derive(Clone, Debug, Serialize)]
pub struct RegionInfo {
    /// `first_order` (the search of [`super::attack`], LP-polished) or `none`.
    pub incumbent_source: &'static str,
    /// Replayed distance of the incumbent in the minimised norm.
    pub incumbent_distance: Option<f64>,
    /// Radius of the ball the bounds were tightened in (also the model's budget row), when an
    /// incumbent was found; otherwise the region is the task's own.
    pub radius: Option<f64>,
    /// Unstable ReLUs under symbolic bounds over the task's region, before tightening.
    pub relu_unstable_before: usize,
    /// Unstable ReLUs under the final bounds.
    pub relu_unstable_after: usize,
    pub search_seconds: f64,
    pub tighten_seconds: f64,
}

#[derive(Clone, Debug, Serialize)]
pub struct ImageInfo {
    /// The image's file name (with `:N` for an IDX image): never its directory, so that reports
    /// do not depend on where the file sat.
    pub source: String,
    /// SHA-256 of the image file's bytes.
    pub sha256: String,
    pub label: Option<usize>,
    pub predicted: usize,
    pub outputs: Vec<f64>,
}

#[derive(Clone, Debug, Serialize)]
pub struct SolveInfo {
    pub status: Status,
    pub status_text: String,
    /// Best objective found (the distance in the chosen norm), if any point was found.
    pub objective: Option<f64>,
    pub dual_bound: Option<f64>,
    pub gap: Option<f64>,
    pub seconds: f64,
    /// HiGHS's branch-and-bound nodes and simplex iterations (its work, independent of the
    /// machine's load).
    pub nodes: Option<i64>,
    pub lp_iterations: Option<i64>,
    /// The HiGHS options set by name for this solve: [`HIGHS_TUNING`], then `--highs-option`.
    pub highs_options: Vec<(String, String)>,
    /// Whether HiGHS was handed a start point (the first-order example).
    pub warm_started: bool,
    /// The replayed adversarial example, when the solver found one.
    pub example: Option<Example>,
}

#[derive(Clone, Debug, Serialize)]
pub struct Example {
    /// Distance of the replayed input from the image in the minimised norm (compare with the
    /// solver's `objective`; they agree within [`super::REPLAY_TOLERANCE`] or the run fails).
    pub distance: f64,
    /// L1 distance of the replayed input from the image.
    pub l1_distance: f64,
    pub linf_distance: f64,
    pub changed_inputs: usize,
    /// Class predicted by the forward pass on `input`.
    pub predicted: usize,
    /// Whether that is the goal's class (targeted: the target; untargeted: not the true class).
    /// Always true for the absolute and magnitude margins; the paper's relative margin
    /// `y_T >= (1 + m)·y_j` does not imply it when some `y_j < 0`.
    pub goal_class_wins: bool,
    /// Whether the solver's point missed a margin by its tolerance and was moved into the
    /// interior of the margins (within the replay tolerance of the optimum) before the replay.
    pub moved_to_interior: bool,
    /// Forward-pass outputs on `input`.
    pub outputs: Vec<f64>,
    /// Targeted: `min_{j != T}` of the margin constraint's slack on the forward pass; untargeted:
    /// `max_{j != c}` of the slack of `j` beating `c` (>= 0 up to tolerance).
    pub margin_slack: f64,
    /// Largest difference between the solver's output columns and the forward pass.
    pub solver_output_error: f64,
    pub input: Vec<f64>,
}

/// Which class must win.
#[derive(Clone, Copy, Debug)]
enum Goal {
    /// This class beats every other by the margin.
    Target(usize),
    /// Some class beats this one by the margin.
    AwayFrom(usize),
}

/// The problem once the network, image and goal are known (the bounds come later, and may
/// narrow `region` and `max_dist`, see [`Spec::inside`]). It holds the network's shape, not the
/// network: a model that is only written is lowered from the network by value, which frees its
/// weights on the way ([`Pipeline::lower_consuming`]), so what reads the weights (the search,
/// the replay) takes the network as an argument.
#[derive(Clone)]
struct Spec<'a> {
    /// The network's input and output sizes and its output layer.
    n_in: usize,
    n_out: usize,
    output: Handle,
    image: &'a [f64],
    /// The box the input columns range over (the user's box, clipped to the distance budget).
    region: InputBox,
    goal: Goal,
    norm: Norm,
    margin: f64,
    kind: MarginKind,
    max_dist: Option<f64>,
    form: DistanceForm,
}

/// "`winner` beats `loser` by the margin" as rows `c_w·y_w + c_l·y_l >= rhs`, all of which must
/// hold: `(row name suffix, c_w, c_l, rhs)`.
fn margin_forms(margin: f64, kind: MarginKind) -> Vec<MarginForm> {
    match kind {
        MarginKind::Relative => vec![("", 1.0, -(1.0 + margin), 0.0)],
        MarginKind::Absolute => vec![("", 1.0, -1.0, margin)],
        MarginKind::Magnitude => vec![("", 1.0, -(1.0 + margin), 0.0), ("_neg", 1.0, -(1.0 - margin), 0.0)],
    }
}

type MarginForm = (&'static str, f64, f64, f64);

/// Slack of "`winner` beats `loser`" on actual outputs (the smallest over the rows).
fn beat_slack(y: &[f64], winner: usize, loser: usize, margin: f64, kind: MarginKind) -> f64 {
    margin_forms(margin, kind)
        .iter()
        .map(|&(_, cw, cl, rhs)| cw * y[winner] + cl * y[loser] - rhs)
        .fold(f64::INFINITY, f64::min)
}

/// The goal `cfg` asks for, checked against the network's outputs: the target (by default the
/// paper's `(D + 5) mod n`), or the class to get away from (the label, else the prediction).
fn goal(cfg: &Config, n_out: usize, predicted: usize, label: Option<usize>) -> Result<Goal, TaskError> {
    if n_out < 2 {
        return Err(TaskError::TooFewOutputs { count: n_out });
    }
    let (goal, class, what) = if cfg.untargeted {
        let c = label.unwrap_or(predicted);
        (Goal::AwayFrom(c), c, "label")
    } else {
        let t = cfg.target.unwrap_or((predicted + 5) % n_out);
        (Goal::Target(t), t, "target")
    };
    if class >= n_out {
        return Err(TaskError::OutputIndex {
            what,
            value: class,
            count: n_out,
        });
    }
    Ok(goal)
}

impl<'a> Spec<'a> {
    /// The problem `cfg` states for `image`; `goal` is checked already. With the interval
    /// bounds over [`Spec::bounds_region`] when it computed them (to decide the margin's form),
    /// for a bounds pass to start from.
    fn new(
        cfg: &Config,
        net: &Network,
        image: &'a [f64],
        goal: Goal,
    ) -> Result<(Self, Option<IntervalStage>), TaskError> {
        // A distance budget confines every input to the box around the image: bounds over that
        // smaller box are sound and tighter.
        let region = region_around(net.input_size(), cfg.input_box, cfg.max_dist.map(|d| (image, d)))?;
        let spec = Spec {
            n_in: net.input_size(),
            n_out: net.output_size(),
            output: net.output(),
            image,
            region,
            goal,
            norm: cfg.norm,
            margin: cfg.margin,
            kind: MarginKind::Absolute,
            max_dist: cfg.max_dist,
            form: cfg.distance_form,
        };
        // The margin's form is part of the problem, so it must not depend on how tight the
        // bounds pass is: decide it from interval bounds over the task's region, whatever the
        // method.
        let Some(kind) = cfg.margin_kind else {
            let start = Instant::now();
            let ib = bounds::interval_in(net, &spec.bounds_region());
            let kind = match ib.lo[net.output().index()].iter().all(|&v| v >= 0.0) {
                true => MarginKind::Relative,
                false => MarginKind::Absolute,
            };
            return Ok((Spec { kind, ..spec }, Some((ib, start.elapsed().as_secs_f64()))));
        };
        Ok((Spec { kind, ..spec }, None))
    }

    /// The region of the bounds passes: the clipped box, and for an L1 budget the ball itself.
    fn bounds_region(&self) -> Region {
        ball_region(&self.region, self.image, self.norm, self.max_dist)
    }

    /// The same problem inside the ball of radius `r` around the image, cut by the box: the
    /// optimum is unchanged when an example at distance below `r` is known.
    fn inside(&self, range: InputRange, r: f64) -> Result<Self, TaskError> {
        Ok(Spec {
            region: region_around(self.n_in, range, Some((self.image, r)))?,
            max_dist: Some(r),
            ..self.clone()
        })
    }

    /// The first-order search's view of the problem on `net`: image, region, norm and budget.
    fn search<'s>(&'s self, net: &'s Network) -> Search<'s> {
        Search {
            net,
            image: self.image,
            region: &self.region,
            norm: self.norm,
            max_dist: self.max_dist,
            work_left: std::cell::Cell::new(SEARCH_WORK),
        }
    }

    /// The task's model on the lowered network `pipe`: its columns, rows and objective.
    ///
    /// Untargeted rows: `beat_j: c_w·y_j + c_l·y_c - M_j·t_j >= rhs - M_j` with
    /// `M_j = rhs - min(c_w·y_j + c_l·y_c)`, the minimum taken over the output bounds of the
    /// bounds pass. With `t_j = 1` the row is the margin of `j` over `c`; with `t_j = 0` it
    /// reads `lhs >= min lhs`, true everywhere in the box. For the absolute margin this is
    /// `M_j = m + U_c - L_j`. The distance is then added in `self.form` and the model presolved
    /// and cleaned ([`crate::lower::presolve`], [`crate::lower::hygiene`]).
    fn build(&self, pipe: &Pipeline) -> Result<Built, TaskError> {
        self.build_lifted(pipe, 0.0)
    }

    /// [`Spec::build`] on a pipeline that is not built on again: its network model becomes the
    /// task's (left empty in `pipe`) instead of being copied, which for a dense net is the
    /// largest allocation of the run.
    fn build_taking(&self, pipe: &mut Pipeline) -> Result<Built, TaskError> {
        let milp = std::mem::replace(&mut pipe.lowered.milp, Milp::new("taken"));
        self.build_on(pipe, milp, 0.0)
    }

    /// [`Spec::build`] with every margin row's right-hand side raised by `lift` (0 for the
    /// task's model; a small positive value asks for a point strictly inside the margins, see
    /// [`replay`]).
    fn build_lifted(&self, pipe: &Pipeline, lift: f64) -> Result<Built, TaskError> {
        self.build_on(pipe, pipe.lowered.milp.clone(), lift)
    }

    /// The task's model on `milp`, the network model of `pipe`.
    fn build_on(&self, pipe: &Pipeline, mut milp: Milp, lift: f64) -> Result<Built, TaskError> {
        let lowered = &pipe.lowered;
        let y = &lowered.outputs;
        let forms = margin_forms(self.margin, self.kind);
        let mut picks = Vec::new();
        match self.goal {
            Goal::Target(t) => {
                for j in (0..y.len()).filter(|&j| j != t) {
                    for &(tag, cw, cl, rhs) in &forms {
                        milp.add_row(
                            name(&format!("margin{tag}"), [&j]),
                            vec![(y[t], cw), (y[j], cl)],
                            Sense::Ge,
                            rhs + lift,
                        );
                    }
                }
            }
            Goal::AwayFrom(c) => {
                let (lo, hi) = pipe.bounds.layer(self.output);
                let low = |coef: f64, k: usize| if coef >= 0.0 { coef * lo[k] } else { coef * hi[k] };
                let mut pick: Vec<(Col, f64)> = Vec::with_capacity(y.len());
                for j in (0..y.len()).filter(|&j| j != c) {
                    let t = milp.add_col(name("t", [&j]), 0.0, 1.0, ColKind::Binary);
                    pick.push((t, 1.0));
                    picks.push((j, t));
                    for &(tag, cw, cl, rhs) in &forms {
                        let rhs = rhs + lift;
                        let big_m = (rhs - low(cw, j) - low(cl, c)).max(0.0);
                        milp.add_row(
                            name(&format!("beat{tag}"), [&j]),
                            vec![(y[j], cw), (y[c], cl), (t, -big_m)],
                            Sense::Ge,
                            rhs - big_m,
                        );
                    }
                }
                milp.add_row("pick", pick, Sense::Eq, 1.0);
            }
        }
        let WithDistance {
            mut presolved,
            distance,
        } = with_distance(
            milp,
            &lowered.inputs,
            self.image,
            &self.region,
            self.norm,
            self.max_dist,
            self.form,
        );
        let mut milp = std::mem::replace(&mut presolved.milp, Milp::new("taken"));
        milp.set_objective(ObjSense::Minimize, distance);
        milp.name = "adversarial".into();
        let hygiene = hygiene::clean(&mut milp)?;
        Ok(Built {
            inputs: presolved.exprs(&lowered.inputs),
            outputs: presolved.exprs(&lowered.outputs),
            binaries: lowered
                .binaries
                .iter()
                .map(|&(c, b)| (presolved.binary(c), b))
                .collect(),
            picks: picks.into_iter().map(|(j, t)| (j, presolved.binary(t))).collect(),
            presolve: presolved.stats,
            hygiene,
            milp,
        })
    }

    /// The margin rows an example must meet, per way of winning: targeted, one set with every
    /// `(T, j)`; untargeted, one set `(j, c)` per class `j != c` (any one suffices).
    fn margin_sets(&self) -> Vec<(Option<usize>, Margins)> {
        let n_out = self.n_out;
        let forms: Vec<(f64, f64, f64)> = margin_forms(self.margin, self.kind)
            .into_iter()
            .map(|(_, cw, cl, rhs)| (cw, cl, rhs))
            .collect();
        let make = |pairs| Margins {
            pairs,
            forms: forms.clone(),
        };
        match self.goal {
            Goal::Target(t) => vec![(None, make((0..n_out).filter(|&j| j != t).map(|j| (t, j)).collect()))],
            Goal::AwayFrom(c) => (0..n_out)
                .filter(|&j| j != c)
                .map(|j| (Some(j), make(vec![(j, c)])))
                .collect(),
        }
    }

    /// The closest example the first-order search and LP polishing find in `built`, a big-M
    /// model of this problem on `net`.
    fn first_order_example(&self, net: &Network, built: &Built) -> Option<Incumbent> {
        let search = self.search(net);
        let mut best: Option<Incumbent> = None;
        for (winner, margins) in self.margin_sets() {
            for aim in SEARCH_AIMS {
                let Some(x) = search.first_order(&margins, aim) else {
                    continue;
                };
                let (x, _) = built.polish(winner).run(&search, &margins, x, POLISH_ROUNDS);
                let distance = self.norm.distance(&x, self.image);
                if best.as_ref().is_none_or(|b| distance < b.distance) {
                    best = Some(Incumbent { x, distance, winner });
                }
            }
        }
        best
    }
}

/// A built adversarial model.
struct Built {
    /// The model as written and solved (presolved and cleaned).
    milp: Milp,
    /// The network's inputs and outputs, and its binaries, in `milp`'s columns.
    inputs: Vec<LinExpr>,
    outputs: Vec<LinExpr>,
    binaries: Vec<(Col, Binary)>,
    /// Untargeted: the class each `t_j` column picks.
    picks: Vec<(usize, Col)>,
    presolve: PresolveStats,
    hygiene: HygieneStats,
}

impl TaskModel for Built {
    fn without_indicators(&self) -> Self {
        Built {
            milp: self.milp.without_indicators(),
            inputs: self.inputs.clone(),
            outputs: self.outputs.clone(),
            binaries: self.binaries.clone(),
            picks: self.picks.clone(),
            presolve: self.presolve,
            hygiene: self.hygiene,
        }
    }
}

impl Built {
    /// The polishing view of this model, aimed at class `winner` (untargeted: its `t` column
    /// is fixed to 1, the others to 0).
    fn polish(&self, winner: Option<usize>) -> Polish<'_> {
        Polish {
            milp: &self.milp,
            binaries: &self.binaries,
            fixed: self
                .picks
                .iter()
                .map(|&(j, t)| (t, if Some(j) == winner { 1.0 } else { 0.0 }))
                .collect(),
            inputs: &self.inputs,
        }
    }
}

/// An example found without branch and bound, replayed: its input, its distance in the
/// minimised norm and, untargeted, the class it makes win.
struct Incumbent {
    x: Vec<f64>,
    distance: f64,
    winner: Option<usize>,
}

/// How far past each margin the first-order search aims (relative to the outputs' scale): one
/// search per value, each polished, the closest example kept.
const SEARCH_AIMS: [f64; 8] = [1e-3, 0.01, 0.03, 0.1, 0.2, 0.3, 0.5, 1.0];

/// Multiply-adds the first-order search may spend in all (aims and classes), about 10 s in a
/// release build: what is found by then is the incumbent. The paper's nets need 1–2% of it.
const SEARCH_WORK: u64 = 5_000_000_000;

/// LP rounds of polishing per first-order example.
const POLISH_ROUNDS: usize = 20;

/// The ball radius for an incumbent at distance `d`: a hair larger, so that the incumbent
/// itself stays strictly inside whatever the rounding of the rows.
fn radius_for(d: f64) -> f64 {
    d * (1.0 + 1e-6) + 1e-9
}

/// The fastest measured bounds for a network of `relus` ReLUs (`bench/results/tightening.md`,
/// 10 MNIST images, 60 s; medians of tightening + solve): region tightening always pays for the
/// paper's problem (the ball of the first-order example is far smaller than the box). Symbolic
/// tightening inside it (0.02 s per image) is best on `mnist_8x3` (24 ReLUs: 0.84 s against
/// interval's 1.85 s and region-lp's 1.46 s); on `mnist_20-10-8-8` (46 ReLUs) region-lp and
/// region-symbolic are even (5.6 + 1.7 s against 7.4 + 0.02 s); on `mnist_20x3` (60) region-lp
/// wins (6.8 + 2.0 s against 11.5 + 0.15 s), until its per-unit LPs cost minutes
/// (784-256-256-10: 165 s per image), where symbolic is kept. With [`HIGHS_TUNING`] the solves
/// got 2-4x cheaper and the lp pass did not: on `skl_8-8-8-8-8` (40 ReLUs, 5 images) region-lp
/// took 9-22 s of bounds for solves of 0.6-8 s (median total 14.3 s), region-symbolic 0.7-1.6 s
/// (median total 2.6 s, median solve 1.7 against 1.2 s); on `skl_20-10-8-8` (46, 4 images)
/// median totals were 28 s against 4 s with solves even (bench/peers/README.md). So region-lp
/// starts at 50 ReLUs.
pub fn auto_bounds(relus: usize) -> (bounds::Method, bool) {
    if (AUTO_LP_FROM..=AUTO_LP_UP_TO).contains(&relus) {
        (bounds::Method::Lp, true)
    } else {
        (bounds::Method::Symbolic, true)
    }
}

/// ReLU counts for which [`auto_bounds`] picks region-lp.
const AUTO_LP_FROM: usize = 50;
const AUTO_LP_UP_TO: usize = 200;

/// The bounds of the final model, and what region-aware tightening found on the way.
struct Tightened<'a> {
    /// The problem the model states: inside the incumbent's ball after region tightening.
    spec: Spec<'a>,
    bounds: Bounds,
    seconds: f64,
    incumbent: Option<Incumbent>,
    region: Option<RegionInfo>,
}

/// The bounds pass over the task's region (or read from the bounds file).
fn plain_bounds<'a>(
    cfg: &Config,
    src: &NetworkSource,
    spec: Spec<'a>,
    interval: Option<IntervalStage>,
) -> Result<Tightened<'a>, TaskError> {
    let (bounds, seconds) = src.bounds(
        &spec.bounds_region(),
        cfg.bounds,
        cfg.bounds_file.as_deref(),
        &cfg.bounds_options,
        interval,
    )?;
    Ok(Tightened {
        spec,
        bounds,
        seconds,
        incumbent: None,
        region: None,
    })
}

/// Region-aware tightening: the first-order example in a model with cheap symbolic bounds
/// over the task's region (a search model, lowered for this only), then `cfg.bounds` inside the
/// ball of the example's distance.
fn region_bounds<'a>(
    cfg: &Config,
    net: &Network,
    spec: Spec<'a>,
    interval: Option<IntervalStage>,
) -> Result<Tightened<'a>, TaskError> {
    let t0 = Instant::now();
    let (cheap, _) = crate::tighten::compute_after(
        net,
        &spec.bounds_region(),
        bounds::Method::Symbolic,
        &cfg.bounds_options,
        interval,
    )?;
    let unstable_before = cheap.relu_stability(net).1;
    let mut search_pipe = Pipeline::lower(net, cheap, 0.0, Encoding::BigM)?;
    let found = spec.first_order_example(net, &spec.build_taking(&mut search_pipe)?);
    let search_seconds = t0.elapsed().as_secs_f64();
    let t1 = Instant::now();
    let radius = found.as_ref().map(|f| {
        let r = radius_for(f.distance);
        cfg.max_dist.map_or(r, |m| r.min(m))
    });
    let spec = match radius {
        Some(r) => spec.inside(cfg.input_box, r)?,
        None => spec,
    };
    let (bounds, _) = crate::tighten::compute(net, &spec.bounds_region(), cfg.bounds, &cfg.bounds_options)?;
    let region = RegionInfo {
        incumbent_source: if found.is_some() { "first_order" } else { "none" },
        incumbent_distance: found.as_ref().map(|f| f.distance),
        radius,
        relu_unstable_before: unstable_before,
        relu_unstable_after: bounds.relu_stability(net).1,
        search_seconds,
        tighten_seconds: t1.elapsed().as_secs_f64(),
    };
    Ok(Tightened {
        spec,
        bounds,
        seconds: t0.elapsed().as_secs_f64(),
        incumbent: found,
        region: Some(region),
    })
}

pub fn run(cfg: &Config) -> Result<Report, TaskError> {
    let outputs = [cfg.output.as_deref().map(std::path::Path::new), cfg.report.as_deref()];
    let starts: Vec<String> = match &cfg.output {
        Some(out) => cfg.start.iter().map(|&f| start::start_path(out, f)).collect(),
        None => Vec::new(),
    };
    crate::back::atomic::preflight(
        outputs
            .into_iter()
            .chain([cfg.png.as_deref()])
            .chain(starts.iter().map(|p| Some(std::path::Path::new(p)))),
    )?;
    cfg.solve_options.validate()?;
    let (src, image) = ImageSource::load_with_network(&cfg.network, &cfg.load, &cfg.image)?;
    let net = &src.network;
    let resolved;
    let cfg = if cfg.auto_bounds {
        let (bounds, region_tightening) = auto_bounds(net.count_units().0);
        resolved = Config {
            bounds,
            region_tightening,
            auto_bounds: false,
            ..cfg.clone()
        };
        &resolved
    } else {
        cfg
    };
    let original = net.forward(image.pixels())?;
    let predicted = argmax(&original);
    let label = cfg.label.or(image.image.label.map(usize::from));
    let goal = goal(cfg, net.output_size(), predicted, label)?;
    let (spec, interval) = Spec::new(cfg, net, image.pixels(), goal)?;
    let kind = spec.kind;
    let Tightened {
        spec,
        bounds,
        seconds,
        mut incumbent,
        region,
    } = if cfg.region_tightening {
        region_bounds(cfg, net, spec, interval)?
    } else {
        plain_bounds(cfg, &src, spec, interval)?
    };
    let method = bounds.method;
    let want_start = !cfg.start.is_empty() && cfg.output.is_some();
    // What the header and the report state about the network, taken before a run that only
    // writes gives the network away.
    let network = NetworkInfo::of(&src);
    let mut timing = Timing {
        load_seconds: src.load_seconds,
        bounds_seconds: seconds,
        ..Timing::default()
    };
    let head = Header::new(&src);
    let (written, stats, solve, start) = if cfg.solve || want_start {
        // Solving and start files replay on the network and build on its lowering again.
        let net = &src.network;
        let lowering = Lowering::new(net, bounds, seconds, cfg.encoding, true)?;
        let written = spec.build(&lowering.written)?;
        timing.lower_seconds = lowering.written.lower_seconds;
        if let Some(out) = &cfg.output {
            let header = header(cfg, head, &image, &spec, &written, method, region.as_ref());
            timing.write_seconds = write_model(&written.milp, out, cfg.format, header)?;
        }
        let solvable = lowering.try_for_highs(&written, |p| spec.build(p))?;
        let mut solver_point = None;
        let solve = if cfg.solve {
            let pipe = lowering.solved();
            if cfg.warm_start && incumbent.is_none() {
                incumbent = spec.first_order_example(net, &solvable);
            }
            let (sol, values) = solve_and_replay(&spec, net, pipe, &solvable, incumbent.as_ref(), &cfg.solve_options)?;
            solver_point = values;
            timing.solve_seconds = sol.seconds;
            if let (Some(path), Some(ex)) = (&cfg.png, &sol.example) {
                if let Some((w, h)) = picture_dims(net, Some(&image.image)) {
                    data::write_comparison_png(path, image.pixels(), &ex.input, w, h)?;
                }
            }
            Some(sol)
        } else {
            None
        };
        let start = match &cfg.output {
            Some(out) if want_start => {
                let (source, values) = match solver_point {
                    Some(v) => ("solver", Some(v)),
                    None => {
                        let inc = incumbent.or_else(|| spec.first_order_example(net, &solvable));
                        let v = inc.and_then(|inc| solvable.polish(inc.winner).start_point(&spec.search(net), &inc.x));
                        ("first_order", v)
                    }
                };
                let values = values.ok_or_else(|| TaskError::Start {
                    path: start::start_path(out, cfg.start[0]),
                    reason: "no feasible point is known: the first-order search found no example and nothing was \
                             solved (add --solve)"
                        .into(),
                })?;
                let values =
                    start::by_name(&solvable.milp, &values, &written.milp).map_err(|reason| TaskError::Start {
                        path: start::start_path(out, cfg.start[0]),
                        reason,
                    })?;
                Some(start::write(out, &written.milp, values, &cfg.start, source)?)
            }
            _ => None,
        };
        (written, lowering.written.lowered.stats, solve, start)
    } else {
        // Writing alone reads nothing of the network after its lowering: it is lowered by
        // value, each layer's weights freed once lowered, and its model becomes the task's.
        let mut pipe = Pipeline::lower_consuming(src.network, bounds, seconds, cfg.encoding)?;
        let written = spec.build_taking(&mut pipe)?;
        timing.lower_seconds = pipe.lower_seconds;
        if let Some(out) = &cfg.output {
            let header = header(cfg, head, &image, &spec, &written, method, region.as_ref());
            timing.write_seconds = write_model(&written.milp, out, cfg.format, header)?;
        }
        (written, pipe.lowered.stats, None, None)
    };

    let report = Report {
        tool: tool(),
        task: "adversarial",
        network,
        image: ImageInfo {
            source: image.name.clone(),
            sha256: image.sha256.clone(),
            label,
            predicted,
            outputs: original,
        },
        norm: cfg.norm,
        mode: match goal {
            Goal::Target(_) => "targeted",
            Goal::AwayFrom(_) => "untargeted",
        },
        target: match goal {
            Goal::Target(t) => Some(t),
            Goal::AwayFrom(_) => None,
        },
        true_class: match goal {
            Goal::Target(_) => None,
            Goal::AwayFrom(c) => Some(c),
        },
        margin: cfg.margin,
        margin_kind: kind,
        max_dist: cfg.max_dist,
        input_box: cfg.input_box.into(),
        model: ModelInfo::of(&written.milp, &stats, cfg.encoding, method, cfg.output.clone()),
        distance_form: cfg.distance_form,
        presolve: written.presolve,
        hygiene: written.hygiene,
        region,
        solve,
        start,
        timing,
    };
    release(written.milp);
    if let Some(path) = &cfg.report {
        write_report(path, &report)?;
    }
    Ok(report)
}

/// HiGHS settings for the adversarial MILP, set before the user's `--highs-option`s (which
/// override them). Measured on the paper's protocol (bench/peers/README.md, "HiGHS settings"),
/// 5 images per net, 1 thread:
/// - RINS and RENS sub-MIPs off: each is a presolve and a search of its own on a model with
///   ~1,000 continuous columns (the split deviations), and they took 60-70% of the run while
///   the first-order example (the start point) or the root already gave a near-optimal
///   incumbent. HiGHS reading the written files, median solve 3.7 -> 2.4 s on mnist_8x3,
///   5.3 -> 1.3 s on skl_8-8-8, 32 -> 11 s on skl_20-10-8-8, node counts nearly unchanged.
/// - presolve off on top: HiGHS's presolve removes 0-4 rows of these models (nnmilp's own
///   presolve already did the work) but costs a large share of a short solve, again in every
///   restart. Median solve (embedded) 0.97 -> 0.70 s on skl_8-8-8, 2.6 -> 1.7 s on mnist_8x3
///   (files), 3.4 -> 1.1 s on skl_20-20-20; its price is on the longest images, where branching
///   needs more nodes (skl_8-8-8 image 1: 1,245 -> 1,715 nodes, 8.3 -> 14.4 s).
pub const HIGHS_TUNING: &[(&str, &str)] = &[
    ("mip_heuristic_run_rins", "false"),
    ("mip_heuristic_run_rens", "false"),
    ("presolve", "off"),
];

/// Solves `solvable` (the big-M model on `pipe`), started from the incumbent when there is one,
/// and replays the answer.
fn solve_and_replay(
    spec: &Spec,
    net: &Network,
    pipe: &Pipeline,
    solvable: &Built,
    incumbent: Option<&Incumbent>,
    opts: &SolveOptions,
) -> Result<(SolveInfo, Option<Vec<f64>>), TaskError> {
    let start = incumbent.and_then(|inc| solvable.polish(inc.winner).start_point(&spec.search(net), &inc.x));
    let opts = opts.with_tuning(HIGHS_TUNING);
    let sol = solve::solve_from(&solvable.milp, &opts, start.as_deref())?;
    let example = match (&sol.values, sol.objective) {
        (Some(v), Some(obj)) => Some(replay(spec, net, pipe, solvable, v, obj)?),
        _ => None,
    };
    let info = SolveInfo {
        status: sol.status,
        status_text: sol.status_text.clone(),
        objective: sol.objective,
        dual_bound: sol.dual_bound,
        gap: sol.gap,
        seconds: sol.seconds,
        nodes: sol.nodes,
        lp_iterations: sol.lp_iterations,
        highs_options: opts.highs_options.clone(),
        warm_started: start.is_some(),
        example,
    };
    Ok((info, sol.values))
}

/// Replays the solver's input through the forward pass and checks the goal and the distance;
/// the replayed numbers, not the solver's, are what gets reported.
///
/// The model's margin rows and this check say the same thing, so a solver point meets them up
/// to the solver's feasibility tolerance. A point that misses a margin at all (an optimum on a
/// margin row has slack ±1e-14), or whose goal class does not win where the margin kind
/// promises it, is moved into the interior first: with the solver's binaries fixed, the LP of
/// the model (big-M, on `pipe`) with every margin raised by a hair gives the closest point
/// strictly inside, which is taken when the forward pass confirms it and its distance still
/// matches the objective. Otherwise a miss within the tolerance is reported as it is
/// (`margin_slack < 0`); only a larger miss, which no solver tolerance explains, is an error.
fn replay(
    spec: &Spec,
    net: &Network,
    pipe: &Pipeline,
    built: &Built,
    values: &[f64],
    objective: f64,
) -> Result<Example, TaskError> {
    let x = solver_input_exprs(values, &built.inputs, &spec.region);
    let judged = judge(spec, net, &x)?;
    let meets = |j: &Judged| j.slack >= 0.0 && (j.wins || !spec.kind.implies_win() || spec.margin <= 0.0);
    let mut chosen = (x, judged, false);
    if !meets(&chosen.1) {
        let scale = 1.0 + chosen.1.outputs.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        let lifted = spec.build_lifted(pipe, INTERIOR_LIFT * scale)?;
        let fixed: Vec<(Col, f64)> = built
            .binaries
            .iter()
            .map(|&(c, _)| c)
            .chain(built.picks.iter().map(|&(_, t)| t))
            .map(|c| (c, values[c.index()].round()))
            .collect();
        let moved = lifted
            .polish(None)
            .solve_fixed(&fixed)
            .map(|cols| solver_input_exprs(&cols, &lifted.inputs, &spec.region))
            .filter(|p| check_replay("", objective, spec.norm.distance(p, spec.image)).is_ok());
        if let Some(p) = moved {
            let j = judge(spec, net, &p)?;
            if meets(&j) {
                chosen = (p, j, true);
            }
        }
    }
    let (x, judged, moved_to_interior) = chosen;
    let y = judged.outputs;
    let scale = 1.0 + y.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    let solver_output_error = built
        .outputs
        .iter()
        .zip(&y)
        .map(|(e, yf)| (e.eval(values) - yf).abs())
        .fold(0.0, f64::max);
    // The solver works to feasibility tolerances (1e-6 on rows, 1e-6 on integrality, scaled by
    // big-M coefficients); a margin met up to that is met.
    if judged.slack < -1e-5 * scale {
        return Err(TaskError::ReplayMismatch {
            wanted: judged.wanted,
            predicted: judged.predicted,
            margin: judged.slack,
            max_diff: solver_output_error,
        });
    }
    let distance = spec.norm.distance(&x, spec.image);
    check_replay(&format!("the {} distance", spec.norm.name()), objective, distance)?;
    let diffs: Vec<f64> = x.iter().zip(spec.image).map(|(a, b)| (a - b).abs()).collect();
    Ok(Example {
        distance,
        l1_distance: diffs.iter().sum(),
        linf_distance: diffs.iter().fold(0.0, |m: f64, &d| m.max(d)),
        changed_inputs: diffs.iter().filter(|&&d| d > 1e-9).count(),
        predicted: judged.predicted,
        goal_class_wins: judged.wins,
        moved_to_interior,
        outputs: y,
        margin_slack: judged.slack,
        solver_output_error,
        input: x,
    })
}

/// How far past the margins (times `1 + max |y|`) the interior point of [`replay`] aims: above
/// HiGHS's feasibility tolerance of 1e-7, so that the LP's point meets them exactly.
const INTERIOR_LIFT: f64 = 1e-6;

/// The goal at an input, through the forward pass.
struct Judged {
    outputs: Vec<f64>,
    predicted: usize,
    /// Targeted: `min_{j != T}` of the margin's slack; untargeted: `max_{j != c}` of `j`
    /// beating `c`.
    slack: f64,
    /// Whether the goal's class is the predicted one (targeted: `T`; untargeted: not `c`).
    wins: bool,
    /// `target 3`, or `a class other than 7`.
    wanted: String,
}

fn judge(spec: &Spec, net: &Network, x: &[f64]) -> Result<Judged, TaskError> {
    let y = net.forward(x)?;
    let predicted = argmax(&y);
    let others = |c: usize| (0..y.len()).filter(move |&j| j != c);
    let (slack, wins, wanted) = match spec.goal {
        Goal::Target(t) => (
            others(t)
                .map(|j| beat_slack(&y, t, j, spec.margin, spec.kind))
                .fold(f64::INFINITY, f64::min),
            predicted == t,
            format!("target {t}"),
        ),
        Goal::AwayFrom(c) => (
            others(c)
                .map(|j| beat_slack(&y, j, c, spec.margin, spec.kind))
                .fold(f64::NEG_INFINITY, f64::max),
            predicted != c,
            format!("a class other than {c}"),
        ),
    };
    Ok(Judged {
        outputs: y,
        predicted,
        slack,
        wins,
        wanted,
    })
}

/// The comment header of written models (see [`Header`]), after `h`'s first lines
/// ([`Header::new`]).
fn header(
    cfg: &Config,
    mut h: Header,
    image: &ImageSource,
    spec: &Spec,
    built: &Built,
    method: bounds::Method,
    region: Option<&RegionInfo>,
) -> Header {
    let beats = |w: &str, l: &str| match spec.kind {
        MarginKind::Relative => format!("y_{w} >= (1 + {m}) * y_{l}", m = spec.margin),
        MarginKind::Absolute => format!("y_{w} >= y_{l} + {m}", m = spec.margin),
        MarginKind::Magnitude => format!(
            "y_{w} >= y_{l} + {m} * |y_{l}| (rows y_{w} >= (1 + {m}) * y_{l} and y_{w} >= (1 - {m}) * y_{l})",
            m = spec.margin
        ),
    };
    let goal = match spec.goal {
        Goal::Target(t) => format!(
            "target class {t} (margin {} for all j != {t})",
            beats(&t.to_string(), "j")
        ),
        Goal::AwayFrom(c) => format!(
            "untargeted away from class {c}: binary t_j picks one j != {c} with {} (big-M rows beat_j, sum t_j = 1)",
            beats("j", &c.to_string())
        ),
    };
    let objective = match (spec.norm, spec.form) {
        (Norm::L1, DistanceForm::Rows) => "minimize L1 distance sum d_j",
        (Norm::L1, DistanceForm::Split) => "minimize L1 distance sum p_j + n_j (in_j = img_j + p_j - n_j substituted)",
        (Norm::Linf, _) => "minimize Linf distance dmax",
    };
    h.line(format!(
        "task: adversarial, {objective} to image {} sha256 {}",
        image.name, image.sha256
    ))
    .line(goal)
    .line(format!(
        "options: box {} relu {} bounds {}{} max-dist {}",
        cfg.input_box,
        cfg.encoding.name(),
        if cfg.region_tightening { "region-" } else { "" },
        method.name(),
        cfg.max_dist.map_or("none".to_string(), |d| d.to_string())
    ))
    .columns(&[
        "p_j / n_j their deviations up / down from the image (split form)",
        "d_j / dmax distances",
        "q_ROW slack of a widened row",
    ])
    .line(format!(
        "presolve: {} split columns ({} directions fixed by the box), {} fixed columns and {} empty rows removed",
        built.presolve.split_columns,
        built.presolve.split_fixed_directions,
        built.presolve.fixed_columns,
        built.presolve.empty_rows
    ))
    .line(format!(
        "coefficients: {} entries below {:e} (or {:e} of their row's largest) dropped, largest {:e}; {} rows widened \
         by their range ({} slack columns), so the model is a relaxation and every answer is replayed",
        built.hygiene.dropped,
        hygiene::ABS_DROP,
        hygiene::REL_DROP,
        built.hygiene.largest_dropped,
        built.hygiene.rows_widened,
        built.hygiene.slack_columns
    ));
    if let Some(r) = region {
        h.line(match (r.incumbent_distance, r.radius) {
            (Some(d), Some(radius)) => format!(
                "region tightening: an example at {} distance {d} (first-order search + LP polishing) bounds the optimum, \
                 so bounds were tightened inside the ball of radius {radius} around the image and the model has that \
                 distance budget; unstable ReLUs {} -> {}",
                spec.norm.name(),
                r.relu_unstable_before,
                r.relu_unstable_after
            ),
            _ => "region tightening: no example found by the first-order search; bounds over the task's region".to_string(),
        });
    }
    h
}

/// The summary `nnmilp adversarial` prints.
impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let goal = match (self.target, self.true_class) {
            (Some(t), _) => format!("target {t}"),
            (None, Some(c)) => format!("untargeted (away from {c})"),
            (None, None) => String::new(),
        };
        writeln!(
            f,
            "network {} | image {} | predicted {}{} | {goal} | {} distance",
            self.network.file,
            self.image.source,
            self.image.predicted,
            self.image.label.map_or(String::new(), |l| format!(" (label {l})")),
            self.norm.name()
        )?;
        if let Some(g) = &self.region {
            match (g.incumbent_distance, g.radius) {
                (Some(d), Some(radius)) => writeln!(
                    f,
                    "region: first-order example at distance {d:.6} ({:.2}s); bounds tightened inside radius {radius:.6} \
                     ({:.2}s): unstable ReLUs {} -> {}",
                    g.search_seconds, g.tighten_seconds, g.relu_unstable_before, g.relu_unstable_after
                )?,
                _ => writeln!(
                    f,
                    "region: the first-order search found no example ({:.2}s); bounds over the task's region",
                    g.search_seconds
                )?,
            }
        }
        write!(f, "{}", self.model)?;
        if let Some(file) = &self.model.file {
            writeln!(f, "wrote {file}")?;
        }
        if let Some(s) = &self.start {
            writeln!(f, "{s}")?;
        }
        let Some(sol) = &self.solve else { return Ok(()) };
        write!(
            f,
            "solve: {} in {:.2}s{}{}",
            sol.status_text,
            sol.seconds,
            sol.nodes.map_or(String::new(), |n| format!(", {n} nodes")),
            if sol.warm_started {
                " (started from the example)"
            } else {
                ""
            }
        )?;
        if let Some(obj) = sol.objective {
            write!(f, ", objective {obj:.6}")?;
        }
        if let (Some(b), Some(g)) = (sol.dual_bound, sol.gap) {
            write!(f, ", bound {b:.6}, gap {:.2}%", 100.0 * g)?;
        }
        writeln!(f)?;
        match &sol.example {
            Some(ex) => {
                writeln!(
                    f,
                    "adversarial example (replayed): class {} -> {}, L1 distance {:.6}, Linf {:.4}, {} inputs changed, margin slack {:.3e}",
                    self.image.predicted, ex.predicted, ex.l1_distance, ex.linf_distance, ex.changed_inputs, ex.margin_slack
                )?;
                if !ex.goal_class_wins {
                    writeln!(
                        f,
                        "note: the margins hold, but class {} wins (the relative margin y_T >= (1 + m) y_j does not imply \
                         that T wins when some y_j < 0; --margin-kind magnitude does)",
                        ex.predicted
                    )?;
                }
                Ok(())
            }
            None => writeln!(f, "no adversarial example found"),
        }
    }
}
