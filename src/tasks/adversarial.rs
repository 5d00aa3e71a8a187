//! Fischetti & Jo's adversarial example: the smallest L1 change of an image that makes the
//! network prefer a target class by a margin.
//!
//! Added to the lowered network: a distance column `d_j >= |in_j - img_j|` per input
//! (`dp_j: d_j - in_j >= -img_j`, `dn_j: d_j + in_j >= img_j`), the objective `min sum d_j`, and
//! for every class `j != T` either `y_T >= (1 + m)·y_j` (relative margin, the paper's 20%, meant
//! for non-negative outputs) or `y_T >= y_j + m` (absolute). `--max-dist D` adds `sum d_j <= D`.
//! A solution is only reported after its input has been replayed through the forward pass.

use super::{write_text_atomic, NetworkSource, Pipeline, TaskError};
use crate::back::{self, WriteOptions};
use crate::bounds::{self, Bounds, InputBox};
use crate::data;
use crate::ir::{argmax, Network};
use crate::lower::{Encoding, Lowered};
use crate::milp::{Col, ColKind, LinExpr, Milp, ObjSense, Sense};
use crate::solve::{self, SolveOptions, Status};
use serde::Serialize;
use std::path::PathBuf;
use std::time::Instant;

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
    pub target: Option<usize>,
    pub margin: f64,
    /// `None`: relative when the outputs are provably non-negative over the box, else absolute.
    pub margin_kind: Option<MarginKind>,
    /// Upper bound on the L1 distance (`sum d_j <= D`).
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

#[derive(Clone, Debug, Serialize)]
pub struct Report {
    pub tool: String,
    pub task: &'static str,
    pub network: NetworkInfo,
    pub image: ImageInfo,
    pub norm: &'static str,
    pub target: usize,
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
pub struct NetworkInfo {
    pub file: String,
    pub sha256: String,
    pub inputs: usize,
    pub outputs: usize,
}

#[derive(Clone, Debug, Serialize)]
pub struct ImageInfo {
    pub source: String,
    pub label: Option<usize>,
    pub predicted: usize,
    pub outputs: Vec<f64>,
}

#[derive(Clone, Debug, Serialize)]
pub struct ModelInfo {
    pub file: Option<String>,
    pub encoding: &'static str,
    pub bounds: &'static str,
    pub columns: usize,
    pub rows: usize,
    pub binaries: usize,
    pub indicators: usize,
    pub relu_units: usize,
    pub relu_unstable: usize,
    pub relu_stable: usize,
    pub pool_binaries: usize,
}

#[derive(Clone, Debug, Serialize)]
pub struct SolveInfo {
    pub status: Status,
    pub status_text: String,
    /// Best objective found (the L1 distance), if any point was found.
    pub objective: Option<f64>,
    pub dual_bound: Option<f64>,
    pub gap: Option<f64>,
    pub seconds: f64,
    /// The replayed adversarial example, when the solver found one.
    pub example: Option<Example>,
}

#[derive(Clone, Debug, Serialize)]
pub struct Example {
    /// L1 distance of the replayed input from the image.
    pub l1_distance: f64,
    pub linf_distance: f64,
    pub changed_inputs: usize,
    /// Class predicted by the forward pass on `input`.
    pub predicted: usize,
    /// Forward-pass outputs on `input`.
    pub outputs: Vec<f64>,
    /// `min_j` of the margin constraint's slack evaluated on the forward pass (>= 0 up to tolerance).
    pub margin_slack: f64,
    /// Largest difference between the solver's output columns and the forward pass.
    pub solver_output_error: f64,
    pub input: Vec<f64>,
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct Timing {
    pub load_seconds: f64,
    pub bounds_seconds: f64,
    pub lower_seconds: f64,
    pub write_seconds: f64,
    pub solve_seconds: f64,
}

/// The problem once the network, image and target are known.
struct Spec<'a> {
    net: &'a Network,
    image: &'a [f64],
    region: InputBox,
    target: usize,
    margin: f64,
    kind: MarginKind,
    max_dist: Option<f64>,
    bounds: &'a Bounds,
    bounds_seconds: f64,
}

/// Lowers the network and adds the task's columns, rows and objective.
fn build(spec: &Spec, encoding: Encoding) -> Result<(Pipeline, Milp), crate::Error> {
    let pipe = Pipeline::lower(spec.net, spec.bounds.clone(), spec.bounds_seconds, encoding)?;
    let Lowered {
        milp, inputs, outputs, ..
    } = &pipe.lowered;
    let mut milp = milp.clone();
    let mut objective = LinExpr::default();
    let mut dist_cols: Vec<(Col, f64)> = Vec::with_capacity(inputs.len());
    for (j, (&x, &img)) in inputs.iter().zip(spec.image).enumerate() {
        let reach = (spec.region.hi[j] - img).max(img - spec.region.lo[j]).max(0.0);
        let d = milp.add_col(format!("d_{j}"), 0.0, reach, ColKind::Continuous);
        milp.add_row(format!("dp_{j}"), vec![(d, 1.0), (x, -1.0)], Sense::Ge, -img);
        milp.add_row(format!("dn_{j}"), vec![(d, 1.0), (x, 1.0)], Sense::Ge, img);
        objective.add_term(d, 1.0);
        dist_cols.push((d, 1.0));
    }
    let t = outputs[spec.target];
    for (j, &y) in outputs.iter().enumerate() {
        if j == spec.target {
            continue;
        }
        match spec.kind {
            MarginKind::Relative => milp.add_row(
                format!("margin_{j}"),
                vec![(t, 1.0), (y, -(1.0 + spec.margin))],
                Sense::Ge,
                0.0,
            ),
            MarginKind::Absolute => {
                milp.add_row(format!("margin_{j}"), vec![(t, 1.0), (y, -1.0)], Sense::Ge, spec.margin)
            }
        };
    }
    if let Some(budget) = spec.max_dist {
        milp.add_row("budget", dist_cols, Sense::Le, budget);
    }
    milp.set_objective(ObjSense::Minimize, objective);
    milp.name = "adversarial".into();
    Ok((pipe, milp))
}

/// Slack of the margin constraints on actual outputs: `min_{j != T}` of `y_T - (1+m) y_j` or
/// `y_T - y_j - m`.
fn margin_slack(y: &[f64], target: usize, margin: f64, kind: MarginKind) -> f64 {
    y.iter()
        .enumerate()
        .filter(|&(j, _)| j != target)
        .map(|(_, &yj)| match kind {
            MarginKind::Relative => y[target] - (1.0 + margin) * yj,
            MarginKind::Absolute => y[target] - yj - margin,
        })
        .fold(f64::INFINITY, f64::min)
}

pub fn run(cfg: &Config) -> Result<Report, crate::Error> {
    let src = NetworkSource::load(&cfg.network)?;
    let net = &src.network;
    let n_out = net.output_size();
    if n_out < 2 {
        return Err(TaskError::TooFewOutputs { count: n_out }.into());
    }
    let image = data::load_image(&cfg.image)?;
    if image.pixels.len() != net.input_size() {
        return Err(TaskError::ImageSize {
            image: cfg.image.clone(),
            network: src.file_name(),
            got: image.pixels.len(),
            expected: net.input_size(),
        }
        .into());
    }
    let (lo, hi) = cfg.input_box;
    if !(lo.is_finite() && hi.is_finite() && lo <= hi) {
        return Err(TaskError::BadBox { lo, hi }.into());
    }
    let original = net.forward(&image.pixels)?;
    let predicted = argmax(&original);
    let target = cfg.target.unwrap_or((predicted + 5) % n_out);
    if target >= n_out {
        return Err(TaskError::OutputIndex {
            what: "target",
            value: target,
            count: n_out,
        }
        .into());
    }
    let label = cfg.label.or(image.label.map(usize::from));
    let region = InputBox::uniform(net.input_size(), lo, hi);
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
        target,
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
        let start = Instant::now();
        let header = header_lines(cfg, &src, &spec);
        back::write_file(&milp, out, cfg.format, &WriteOptions { header })?;
        timing.write_seconds = start.elapsed().as_secs_f64();
    }

    let solve = if cfg.solve {
        // HiGHS ignores indicator constraints: solve the big-M form of the same problem.
        let rebuilt;
        let (solvable, lowered) = match cfg.encoding {
            Encoding::BigM => (milp.clone(), &pipe.lowered),
            Encoding::Both => (milp.without_indicators(), &pipe.lowered),
            Encoding::Indicator => {
                rebuilt = build(&spec, Encoding::BigM)?;
                (rebuilt.1.clone(), &rebuilt.0.lowered)
            }
        };
        let sol = solve::solve(&solvable, &cfg.solve_options)?;
        timing.solve_seconds = sol.seconds;
        let example = match &sol.values {
            Some(v) => Some(replay(&spec, v, &lowered.inputs, &lowered.outputs)?),
            None => None,
        };
        if let (Some(path), Some(ex)) = (&cfg.png, &example) {
            let dims = match (image.width, image.height) {
                (Some(w), Some(h)) => Some((w, h)),
                _ => data::image_dims(&net.layer(net.input()).shape),
            };
            if let Some((w, h)) = dims {
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
        network: NetworkInfo {
            file: src.file_name(),
            sha256: src.sha256.clone(),
            inputs: net.input_size(),
            outputs: n_out,
        },
        image: ImageInfo {
            source: image.source.clone(),
            label,
            predicted,
            outputs: original,
        },
        norm: "l1",
        target,
        margin: cfg.margin,
        margin_kind: kind,
        max_dist: cfg.max_dist,
        input_box: [lo, hi],
        model: ModelInfo {
            file: cfg.output.clone(),
            encoding: cfg.encoding.name(),
            bounds: net_bounds.method.name(),
            columns: milp.cols().len(),
            rows: milp.rows().len(),
            binaries: milp.n_integer(),
            indicators: milp.indicators().len(),
            relu_units: stats.relu_units,
            relu_unstable: stats.relu_unstable,
            relu_stable: stats.relu_stable_active + stats.relu_stable_inactive,
            pool_binaries: stats.pool_binaries,
        },
        solve,
        timing,
    };
    if let Some(path) = &cfg.report {
        let text = serde_json::to_string_pretty(&report).expect("report serialises") + "\n";
        write_text_atomic(path, &text)?;
    }
    Ok(report)
}

/// Replays the solver's input through the forward pass and checks the target wins with the
/// margin; the replayed numbers, not the solver's, are what gets reported.
fn replay(spec: &Spec, values: &[f64], inputs: &[Col], outputs: &[Col]) -> Result<Example, TaskError> {
    // Clamp into the box: the solver may return values a feasibility tolerance outside it.
    let x: Vec<f64> = inputs
        .iter()
        .enumerate()
        .map(|(j, c)| values[c.index()].clamp(spec.region.lo[j], spec.region.hi[j]))
        .collect();
    let y = spec.net.forward(&x).expect("input size checked");
    let predicted = argmax(&y);
    let slack = margin_slack(&y, spec.target, spec.margin, spec.kind);
    let scale = 1.0 + y.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    let solver_output_error = outputs
        .iter()
        .zip(&y)
        .map(|(c, yf)| (values[c.index()] - yf).abs())
        .fold(0.0, f64::max);
    // The solver works to feasibility tolerances (1e-6 on rows, 1e-6 on integrality, scaled by
    // big-M coefficients); a margin met up to that is met.
    let tol = 1e-5 * scale;
    let wins = predicted == spec.target || spec.margin <= 0.0;
    if slack < -tol || !wins {
        return Err(TaskError::ReplayMismatch {
            target: spec.target,
            predicted,
            margin: slack,
            max_diff: solver_output_error,
        });
    }
    let diffs: Vec<f64> = x.iter().zip(spec.image).map(|(a, b)| (a - b).abs()).collect();
    Ok(Example {
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
    let kind = match spec.kind {
        MarginKind::Relative => format!("y_{t} >= (1 + {m}) * y_j", t = spec.target, m = spec.margin),
        MarginKind::Absolute => format!("y_{t} >= y_j + {m}", t = spec.target, m = spec.margin),
    };
    vec![
        format!(
            "nnmilp {} - Fischetti & Jo 0-1 MILP of a ReLU network",
            env!("CARGO_PKG_VERSION")
        ),
        format!("network: {} sha256 {}", src.file_name(), src.sha256),
        format!("task: adversarial, minimize L1 distance sum d_j to image {}", cfg.image),
        format!(
            "target class {} (margin {kind} for all j != {})",
            spec.target, spec.target
        ),
        format!(
            "options: box [{}, {}] relu {} bounds {} max-dist {}",
            spec.region.lo.first().copied().unwrap_or(0.0),
            spec.region.hi.first().copied().unwrap_or(0.0),
            cfg.encoding.name(),
            spec.bounds.method.name(),
            spec.max_dist.map_or("none".to_string(), |d| d.to_string())
        ),
        "columns: in_j inputs, y_j outputs, d_j distances, x/s/z_Lk_j ReLU unit j of nonlinear layer k (z=1: inactive)"
            .to_string(),
    ]
}
