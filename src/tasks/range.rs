//! The exact range of one output: its minimum and maximum over the input box, or over the Linf
//! ball of radius `eps` around an image clipped to the box. Two MILPs with the same feasible set
//! (the lowered network) and the objective `y_K`, one minimised and one maximised.
//!
//! Both problems are files the user can get: with both senses (the default), `-o OUT` writes
//! `OUT` with `.min` and `.max` inserted before the extension (`r.mps` -> `r.min.mps`,
//! `r.max.mps`); with one sense asked for, `OUT` is written as given (so `-o -` works). Every
//! point found is replayed through the forward pass, and its output must equal the solver's
//! objective.

use super::query::{self, check_box, load_image_for, output_unit, region_around, Norm, Prepared, Timing, UnitProblem};
use super::NetworkSource;
use crate::back;
use crate::bounds;
use crate::lower::Encoding;
use crate::milp::ObjSense;
use crate::solve::SolveOptions;
use serde::Serialize;
use std::path::PathBuf;

pub use super::query::{ModelInfo, NetworkInfo, Optimum, Point, UnitInfo};

/// Which of the two problems to write and solve.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Senses {
    Both,
    Minimize,
    Maximize,
}

/// The Linf ball of radius `eps` around an image.
#[derive(Clone, Debug)]
pub struct Around {
    /// An image spec for [`crate::data::load_image`].
    pub image: String,
    pub eps: f64,
}

#[derive(Clone, Debug)]
pub struct Config {
    pub network: PathBuf,
    /// The output index `K`.
    pub output_index: usize,
    /// The input box, `[lo, hi]` for every input.
    pub input_box: (f64, f64),
    pub around: Option<Around>,
    pub senses: Senses,
    pub encoding: Encoding,
    pub bounds: bounds::Method,
    /// Settings of the lp / milp bounds passes.
    pub bounds_options: bounds::BoundsOptions,
    /// Model file (see the module docs for how both problems are named).
    pub output: Option<String>,
    pub format: Option<back::Format>,
    pub solve: bool,
    pub solve_options: SolveOptions,
    pub report: Option<PathBuf>,
}

#[derive(Clone, Debug, Serialize)]
pub struct Report {
    pub tool: String,
    pub task: &'static str,
    pub network: NetworkInfo,
    pub output: usize,
    pub input_box: [f64; 2],
    pub around: Option<AroundInfo>,
    /// Bounds of the output from the bounds pass over the region (sound, usually loose).
    pub interval_bounds: [f64; 2],
    pub model: ModelInfo,
    /// The minimisation, when asked for.
    pub min: Option<Extreme>,
    /// The maximisation, when asked for.
    pub max: Option<Extreme>,
    pub timing: Timing,
}

#[derive(Clone, Debug, Serialize)]
pub struct AroundInfo {
    pub image: String,
    pub eps: f64,
}

#[derive(Clone, Debug, Serialize)]
pub struct Extreme {
    /// The model file written for this problem.
    pub file: Option<String>,
    /// Present when `--solve` was given; `solve.point.value` is the replayed extreme.
    pub solve: Option<Optimum>,
}

pub fn run(cfg: &Config) -> Result<Report, crate::Error> {
    let outputs = [cfg.output.as_deref().map(std::path::Path::new), cfg.report.as_deref()];
    crate::back::atomic::preflight(outputs, &cfg.solve_options)?;
    let src = NetworkSource::load(&cfg.network)?;
    let net = &src.network;
    check_box(cfg.input_box)?;
    let unit = output_unit(&src, cfg.output_index)?;
    let image = match &cfg.around {
        Some(a) => Some(load_image_for(&src, &a.image)?),
        None => None,
    };
    let near = match (&cfg.around, &image) {
        (Some(a), Some(img)) => Some((&img.pixels[..], Norm::Linf, a.eps)),
        _ => None,
    };
    let region = region_around(net.input_size(), cfg.input_box, near.map(|(img, _, d)| (img, d)))?;
    let problem = UnitProblem {
        net,
        region,
        near,
        bounds: cfg.bounds,
        bounds_options: cfg.bounds_options.clone(),
    };
    let Prepared {
        pipe,
        base,
        bigm,
        mut timing,
    } = problem.prepare(cfg.encoding, cfg.solve, src.load_seconds)?;
    let solve_options = query::exact(&cfg.solve_options);
    let mut extreme = |sense: ObjSense, tag: &str| -> Result<Extreme, crate::Error> {
        let milp = UnitProblem::with_objective(&pipe, &base, &unit, sense);
        let file = cfg.output.as_ref().map(|out| match cfg.senses {
            Senses::Both => query::tagged_path(out, tag),
            _ => out.clone(),
        });
        if let Some(path) = &file {
            timing.write_seconds += query::write_model(&milp, path, cfg.format, header_lines(cfg, &src, sense))?;
        }
        let solve = if cfg.solve {
            let (solvable, inputs) = match &bigm {
                Some((p, b)) => (UnitProblem::with_objective(p, b, &unit, sense), &p.lowered.inputs),
                None => (
                    query::for_highs(&milp, cfg.encoding).expect("big-M lowering made for indicators"),
                    &pipe.lowered.inputs,
                ),
            };
            let opt = problem.optimize(&solvable, inputs, &unit, &solve_options)?;
            timing.solve_seconds += opt.seconds;
            Some(opt)
        } else {
            None
        };
        Ok(Extreme { file, solve })
    };
    let min = match cfg.senses {
        Senses::Both | Senses::Minimize => Some(extreme(ObjSense::Minimize, "min")?),
        Senses::Maximize => None,
    };
    let max = match cfg.senses {
        Senses::Both | Senses::Maximize => Some(extreme(ObjSense::Maximize, "max")?),
        Senses::Minimize => None,
    };
    let (lo, hi) = pipe.bounds.layer(net.output());
    let report = Report {
        tool: format!("nnmilp {}", env!("CARGO_PKG_VERSION")),
        task: "range",
        network: NetworkInfo::of(&src),
        output: cfg.output_index,
        input_box: [cfg.input_box.0, cfg.input_box.1],
        around: cfg.around.as_ref().map(|a| AroundInfo {
            image: a.image.clone(),
            eps: a.eps,
        }),
        interval_bounds: [lo[cfg.output_index], hi[cfg.output_index]],
        model: ModelInfo::of(&base, &pipe.lowered.stats, cfg.encoding, cfg.bounds, cfg.output.clone()),
        min,
        max,
        timing,
    };
    if let Some(path) = &cfg.report {
        query::write_report(path, &report)?;
    }
    Ok(report)
}

fn header_lines(cfg: &Config, src: &NetworkSource, sense: ObjSense) -> Vec<String> {
    let mut lines = query::header_intro(src);
    let region = match &cfg.around {
        Some(a) => format!("Linf ball of radius {} around image {}, clipped to", a.eps, a.image),
        None => "input".to_string(),
    };
    lines.push(format!(
        "task: range, {} output y_{} over the {region} box [{}, {}]",
        query::sense_name(sense),
        cfg.output_index,
        cfg.input_box.0,
        cfg.input_box.1
    ));
    lines.push(format!(
        "options: relu {} bounds {}",
        cfg.encoding.name(),
        cfg.bounds.name()
    ));
    lines.push("columns: in_j inputs, y_j outputs, x/s/z_Lk_j ReLU unit j of nonlinear layer k (z=1: inactive)".into());
    lines
}
