//! Fischetti & Jo's adversarial example: the smallest change of an image that makes the network
//! prefer a target class (or, untargeted, any class other than the true one) by a margin.
//!
//! Added to the lowered network: the distance of the input from the image (L1: a column
//! `d_j >= |in_j - img_j|` per input and the objective `min sum d_j`, the paper's; Linf: one column
//! `eps >= |in_j - img_j|` for all `j` and the objective `min eps`, see [`super::query`]), and margin
//! rows. Targeted: for every class `j != T` either `y_T >= (1 + m)·y_j` (relative margin, the
//! paper's 20%, meant for non-negative outputs) or `y_T >= y_j + m` (absolute). Untargeted, away
//! from class `c`: a binary `t_j` per class `j != c` with `sum_j t_j = 1`, and the margin of `j`
//! over `c` switched on by `t_j` through a big-M row (see [`build`]). `--max-dist D` bounds the
//! distance by `D`. A solution is only reported after its input has been replayed through the
//! forward pass.

use super::query::{self, check_box, load_image_for, region_around, Norm, Timing};
use super::{NetworkSource, Pipeline, TaskError};
use crate::back;
use crate::bounds::{self, Bounds, InputBox};
use crate::data;
use crate::ir::{argmax, Network};
use crate::lower::Encoding;
use crate::milp::{Col, ColKind, Milp, ObjSense, Sense};
use crate::solve::{self, SolveOptions, Status};
use serde::Serialize;
use std::path::PathBuf;

pub use super::query::{ModelInfo, NetworkInfo};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MarginKind {
    /// `y_T >= (1 + m)·y_j`.
    Relative,
    /// `y_T >= y_j + m`.
    Absolute,
}

/// Everything `adversarial` needs, validated by the caller (the CLI or a library user).
#[derive(Clone, Debug)]
pub struct Config {
    pub network: PathBuf,
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
    /// Upper bound on the distance (L1: `sum d_j <= D`; Linf: `eps <= D`).
    pub max_dist: Option<f64>,
    /// The input box, `[lo, hi]` for every input.
    pub input_box: (f64, f64),
    pub encoding: Encoding,
    pub bounds: bounds::Method,
    /// Read the bounds from this file (from `nnmilp bounds`) instead of computing them.
    pub bounds_file: Option<PathBuf>,
    /// Model file to write (`-` = stdout), format from the extension unless `format` is set.
    pub output: Option<String>,
    pub format: Option<back::Format>,
    pub solve: bool,
    pub solve_options: SolveOptions,
    pub report: Option<PathBuf>,
    pub png: Option<PathBuf>,
}

impl Config {
    /// The command line's defaults for `nnmilp adversarial NET --image IMG`: L1, targeted by the
    /// paper's rule, margin 0.2, box [0, 1], big-M, interval bounds; nothing written or solved.
    pub fn new(network: impl Into<PathBuf>, image: impl Into<String>) -> Self {
        Config {
            network: network.into(),
            image: image.into(),
            label: None,
            target: None,
            untargeted: false,
            norm: Norm::L1,
            margin: 0.2,
            margin_kind: None,
            max_dist: None,
            input_box: (0.0, 1.0),
            encoding: Encoding::BigM,
            bounds: bounds::Method::Interval,
            bounds_file: None,
            output: None,
            format: None,
            solve: false,
            solve_options: SolveOptions::default(),
            report: None,
            png: None,
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
    /// Present when `--solve` was given.
    pub solve: Option<SolveInfo>,
    pub timing: Timing,
}

#[derive(Clone, Debug, Serialize)]
pub struct ImageInfo {
    pub source: String,
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
    /// The replayed adversarial example, when the solver found one.
    pub example: Option<Example>,
}

#[derive(Clone, Debug, Serialize)]
pub struct Example {
    /// Distance of the replayed input from the image in the minimised norm (compare with the
    /// solver's `objective`; they agree within [`query::REPLAY_TOLERANCE`] or the run fails).
    pub distance: f64,
    /// L1 distance of the replayed input from the image.
    pub l1_distance: f64,
    pub linf_distance: f64,
    pub changed_inputs: usize,
    /// Class predicted by the forward pass on `input`.
    pub predicted: usize,
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

/// The problem once the network, image and goal are known.
struct Spec<'a> {
    net: &'a Network,
    image: &'a [f64],
    region: InputBox,
    goal: Goal,
    norm: Norm,
    margin: f64,
    kind: MarginKind,
    max_dist: Option<f64>,
    bounds: &'a Bounds,
    bounds_seconds: f64,
}

/// "`winner` beats `loser` by the margin" as `c_w·y_w + c_l·y_l >= rhs`: `(c_w, c_l, rhs)`.
fn margin_form(margin: f64, kind: MarginKind) -> (f64, f64, f64) {
    match kind {
        MarginKind::Relative => (1.0, -(1.0 + margin), 0.0),
        MarginKind::Absolute => (1.0, -1.0, margin),
    }
}

/// Slack of "`winner` beats `loser`" on actual outputs.
fn beat_slack(y: &[f64], winner: usize, loser: usize, margin: f64, kind: MarginKind) -> f64 {
    let (cw, cl, rhs) = margin_form(margin, kind);
    cw * y[winner] + cl * y[loser] - rhs
}

/// Lowers the network and adds the task's columns, rows and objective.
///
/// Untargeted rows: `beat_j: c_w·y_j + c_l·y_c - M_j·t_j >= rhs - M_j` with
/// `M_j = rhs - min(c_w·y_j + c_l·y_c)`, the minimum taken over the output bounds of the bounds
/// pass. With `t_j = 1` the row is the margin of `j` over `c`; with `t_j = 0` it reads
/// `lhs >= min lhs`, true everywhere in the box. For the absolute margin this is
/// `M_j = m + U_c - L_j`.
fn build(spec: &Spec, encoding: Encoding) -> Result<(Pipeline, Milp), crate::Error> {
    let pipe = Pipeline::lower(spec.net, spec.bounds.clone(), spec.bounds_seconds, encoding)?;
    let lowered = &pipe.lowered;
    let mut milp = lowered.milp.clone();
    let objective = query::add_distance(
        &mut milp,
        &lowered.inputs,
        spec.image,
        &spec.region,
        spec.norm,
        spec.max_dist,
    );
    let y = &lowered.outputs;
    let (cw, cl, rhs) = margin_form(spec.margin, spec.kind);
    match spec.goal {
        Goal::Target(t) => {
            for j in (0..y.len()).filter(|&j| j != t) {
                milp.add_row(format!("margin_{j}"), vec![(y[t], cw), (y[j], cl)], Sense::Ge, rhs);
            }
        }
        Goal::AwayFrom(c) => {
            let (lo, hi) = pipe.bounds.layer(spec.net.output());
            let low = |coef: f64, k: usize| if coef >= 0.0 { coef * lo[k] } else { coef * hi[k] };
            let mut pick: Vec<(Col, f64)> = Vec::with_capacity(y.len());
            for j in (0..y.len()).filter(|&j| j != c) {
                let t = milp.add_col(format!("t_{j}"), 0.0, 1.0, ColKind::Binary);
                pick.push((t, 1.0));
                let big_m = (rhs - low(cw, j) - low(cl, c)).max(0.0);
                milp.add_row(
                    format!("beat_{j}"),
                    vec![(y[j], cw), (y[c], cl), (t, -big_m)],
                    Sense::Ge,
                    rhs - big_m,
                );
            }
            milp.add_row("pick", pick, Sense::Eq, 1.0);
        }
    }
    milp.set_objective(ObjSense::Minimize, objective);
    milp.name = "adversarial".into();
    Ok((pipe, milp))
}

pub fn run(cfg: &Config) -> Result<Report, crate::Error> {
    let src = NetworkSource::load(&cfg.network)?;
    let net = &src.network;
    let n_out = net.output_size();
    if n_out < 2 {
        return Err(TaskError::TooFewOutputs { count: n_out }.into());
    }
    let image = load_image_for(&src, &cfg.image)?;
    check_box(cfg.input_box)?;
    let (lo, hi) = cfg.input_box;
    let original = net.forward(&image.pixels)?;
    let predicted = argmax(&original);
    let label = cfg.label.or(image.label.map(usize::from));
    let goal = if cfg.untargeted {
        Goal::AwayFrom(label.unwrap_or(predicted))
    } else {
        Goal::Target(cfg.target.unwrap_or((predicted + 5) % n_out))
    };
    let (class, what) = match goal {
        Goal::Target(t) => (t, "target"),
        Goal::AwayFrom(c) => (c, "label"),
    };
    if class >= n_out {
        return Err(TaskError::OutputIndex {
            what,
            value: class,
            count: n_out,
        }
        .into());
    }
    // A distance budget confines every input to the box around the image: bounds over that
    // smaller box are sound and tighter.
    let region = region_around(
        net.input_size(),
        cfg.input_box,
        cfg.max_dist.map(|d| (&image.pixels[..], d)),
    )?;
    let (net_bounds, bounds_seconds) = src.bounds(&region, cfg.bounds, cfg.bounds_file.as_deref())?;
    let kind = match cfg.margin_kind {
        Some(k) => k,
        None => {
            let out_lo = &net_bounds.lo[net.output().index()];
            if out_lo.iter().all(|&v| v >= 0.0) {
                MarginKind::Relative
            } else {
                MarginKind::Absolute
            }
        }
    };
    let spec = Spec {
        net,
        image: &image.pixels,
        region,
        goal,
        norm: cfg.norm,
        margin: cfg.margin,
        kind,
        max_dist: cfg.max_dist,
        bounds: &net_bounds,
        bounds_seconds,
    };
    let (pipe, milp) = build(&spec, cfg.encoding)?;
    let stats = pipe.lowered.stats;
    let mut timing = Timing {
        load_seconds: src.load_seconds,
        bounds_seconds: pipe.bounds_seconds,
        lower_seconds: pipe.lower_seconds,
        ..Timing::default()
    };

    if let Some(out) = &cfg.output {
        timing.write_seconds = query::write_model(&milp, out, cfg.format, header_lines(cfg, &src, &spec))?;
    }

    let solve = if cfg.solve {
        let (solvable, inputs, outputs) = match cfg.encoding {
            Encoding::BigM => (milp.clone(), pipe.lowered.inputs.clone(), pipe.lowered.outputs.clone()),
            Encoding::Both => (
                milp.without_indicators(),
                pipe.lowered.inputs.clone(),
                pipe.lowered.outputs.clone(),
            ),
            Encoding::Indicator => {
                let (p, m) = build(&spec, Encoding::BigM)?;
                (m, p.lowered.inputs, p.lowered.outputs)
            }
        };
        let sol = solve::solve(&solvable, &cfg.solve_options)?;
        timing.solve_seconds = sol.seconds;
        let example = match (&sol.values, sol.objective) {
            (Some(v), Some(obj)) => Some(replay(&spec, v, obj, &inputs, &outputs)?),
            _ => None,
        };
        if let (Some(path), Some(ex)) = (&cfg.png, &example) {
            if let Some((w, h)) = query::picture_dims(net, Some(&image)) {
                data::write_comparison_png(path, &image.pixels, &ex.input, w, h)?;
            }
        }
        Some(SolveInfo {
            status: sol.status,
            status_text: sol.status_text.clone(),
            objective: sol.objective,
            dual_bound: sol.dual_bound,
            gap: sol.gap,
            seconds: sol.seconds,
            example,
        })
    } else {
        None
    };

    let report = Report {
        tool: format!("nnmilp {}", env!("CARGO_PKG_VERSION")),
        task: "adversarial",
        network: NetworkInfo::of(&src),
        image: ImageInfo {
            source: image.source.clone(),
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
        input_box: [lo, hi],
        model: ModelInfo::of(&milp, &stats, cfg.encoding, net_bounds.method, cfg.output.clone()),
        solve,
        timing,
    };
    if let Some(path) = &cfg.report {
        query::write_report(path, &report)?;
    }
    Ok(report)
}

/// Replays the solver's input through the forward pass and checks that the goal is met with the
/// margin and that the distance is the solver's objective; the replayed numbers, not the
/// solver's, are what gets reported.
fn replay(spec: &Spec, values: &[f64], objective: f64, inputs: &[Col], outputs: &[Col]) -> Result<Example, TaskError> {
    let x = query::solver_input(values, inputs, &spec.region);
    let y = spec.net.forward(&x).expect("input size checked");
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
    let scale = 1.0 + y.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    let solver_output_error = outputs
        .iter()
        .zip(&y)
        .map(|(c, yf)| (values[c.index()] - yf).abs())
        .fold(0.0, f64::max);
    // The solver works to feasibility tolerances (1e-6 on rows, 1e-6 on integrality, scaled by
    // big-M coefficients); a margin met up to that is met.
    let tol = 1e-5 * scale;
    if slack < -tol || !(wins || spec.margin <= 0.0) {
        return Err(TaskError::ReplayMismatch {
            wanted,
            predicted,
            margin: slack,
            max_diff: solver_output_error,
        });
    }
    let distance = spec.norm.distance(&x, spec.image);
    query::check_replay(&format!("the {} distance", spec.norm.name()), objective, distance)?;
    let diffs: Vec<f64> = x.iter().zip(spec.image).map(|(a, b)| (a - b).abs()).collect();
    Ok(Example {
        distance,
        l1_distance: diffs.iter().sum(),
        linf_distance: diffs.iter().fold(0.0, |m: f64, &d| m.max(d)),
        changed_inputs: diffs.iter().filter(|&&d| d > 1e-9).count(),
        predicted,
        outputs: y,
        margin_slack: slack,
        solver_output_error,
        input: x,
    })
}

/// The comment header of written models: what produced the file and how, so an archived
/// instance can be regenerated. No timestamps or absolute paths: same input, same bytes.
fn header_lines(cfg: &Config, src: &NetworkSource, spec: &Spec) -> Vec<String> {
    let beats = |w: &str, l: &str| match spec.kind {
        MarginKind::Relative => format!("y_{w} >= (1 + {m}) * y_{l}", m = spec.margin),
        MarginKind::Absolute => format!("y_{w} >= y_{l} + {m}", m = spec.margin),
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
    let objective = match spec.norm {
        Norm::L1 => "minimize L1 distance sum d_j",
        Norm::Linf => "minimize Linf distance eps",
    };
    let mut lines = query::header_intro(src);
    lines.extend([
        format!("task: adversarial, {objective} to image {}", cfg.image),
        goal,
        format!(
            "options: box [{}, {}] relu {} bounds {} max-dist {}",
            cfg.input_box.0,
            cfg.input_box.1,
            cfg.encoding.name(),
            spec.bounds.method.name(),
            spec.max_dist.map_or("none".to_string(), |d| d.to_string())
        ),
        "columns: in_j inputs, y_j outputs, d_j / eps distances, x/s/z_Lk_j ReLU unit j of nonlinear layer k (z=1: inactive)"
            .to_string(),
    ]);
    lines
}
