//! The exact range of one output: its minimum and maximum over the input box, or over the Linf
//! ball of radius `eps` around an image clipped to the box. Two MILPs with the same feasible set
//! (the lowered network) and the objective `y_K`, one minimised and one maximised.
//!
//! Both problems are files the user can get: with both senses (the default), `-o OUT` writes
//! `OUT` with `.min` and `.max` inserted before the extension (`r.mps` -> `r.min.mps`,
//! `r.max.mps`); with one sense asked for, `OUT` is written as given (so `-o -` works). Every
//! point found is replayed through the forward pass, and its output must equal the solver's
//! objective.

use super::output::{tagged_path, write_model, write_report, Header};
use super::region::region_around;
use super::report::tool;
use super::unit::{exact, output_unit, sense_name, UnitProblem};
use super::{ImageSource, InputRange, NetworkSource, Norm, TaskError};
use crate::back;
use crate::bounds;
use crate::front::onnx::LoadOptions;
use crate::lower::Encoding;
use crate::milp::ObjSense;
use crate::solve::SolveOptions;
use serde::Serialize;
use std::fmt;
use std::path::PathBuf;

pub use super::{ModelInfo, NetworkInfo, Optimum, Point, Timing, UnitInfo};

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
    /// What the network file may make the loader allocate.
    pub load: LoadOptions,
    /// The output index `K`.
    pub output_index: usize,
    /// The input box, `[lo, hi]` for every input.
    pub input_box: InputRange,
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
    /// Start files of the solver's point beside each model (`--start`, needs `solve`).
    pub start: Vec<crate::tasks::start::StartFormat>,
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
    /// The image's file name (with `:N` for an IDX image).
    pub image: String,
    pub image_sha256: String,
    pub eps: f64,
}

#[derive(Clone, Debug, Serialize)]
pub struct Extreme {
    /// The model file written for this problem.
    pub file: Option<String>,
    /// Present when `--solve` was given; `solve.point.value` is the replayed extreme.
    pub solve: Option<Optimum>,
}

pub fn run(cfg: &Config) -> Result<Report, TaskError> {
    let outputs = [cfg.output.as_deref().map(std::path::Path::new), cfg.report.as_deref()];
    crate::back::atomic::preflight(outputs)?;
    cfg.solve_options.validate()?;
    let src = NetworkSource::load_with(&cfg.network, &cfg.load)?;
    let net = &src.network;
    let unit = output_unit(&src, cfg.output_index)?;
    let image = match &cfg.around {
        Some(a) => Some(ImageSource::load_for(&src, &a.image)?),
        None => None,
    };
    let (near, around) = match (&cfg.around, &image) {
        (Some(a), Some(img)) => (
            Some((img.pixels(), Norm::Linf, a.eps)),
            Some(AroundInfo {
                image: img.name.clone(),
                image_sha256: img.sha256.clone(),
                eps: a.eps,
            }),
        ),
        _ => (None, None),
    };
    let region = region_around(net.input_size(), cfg.input_box, near.map(|(img, _, d)| (img, d)))?;
    let problem = UnitProblem {
        net,
        region,
        near,
        bounds: cfg.bounds,
        bounds_options: cfg.bounds_options.clone(),
    };
    let prepared = problem.prepare(cfg.encoding, cfg.solve, src.load_seconds)?;
    let mut timing = prepared.timing.clone();
    let solve_options = exact(&cfg.solve_options);
    let mut extreme = |sense: ObjSense, tag: &str| -> Result<Extreme, TaskError> {
        let milp = problem.model(&prepared, &unit, sense);
        let file = cfg.output.as_ref().map(|out| match cfg.senses {
            Senses::Both => tagged_path(out, tag),
            _ => out.clone(),
        });
        if let Some(path) = &file {
            timing.write_seconds += write_model(&milp, path, cfg.format, header(cfg, &src, sense, &around))?;
        }
        let solve = if cfg.solve {
            let opt = problem.optimize(
                &prepared,
                &milp,
                &unit,
                sense,
                &solve_options,
                file.as_deref()
                    .filter(|_| !cfg.start.is_empty())
                    .map(|p| (p, &cfg.start[..])),
            )?;
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
    let pipe = &prepared.lowering.written;
    let (lo, hi) = pipe.bounds.layer(net.output());
    let report = Report {
        tool: tool(),
        task: "range",
        network: NetworkInfo::of(&src),
        output: cfg.output_index,
        input_box: cfg.input_box.into(),
        around,
        interval_bounds: [lo[cfg.output_index], hi[cfg.output_index]],
        model: ModelInfo::of(
            &prepared.base,
            &pipe.lowered.stats,
            cfg.encoding,
            cfg.bounds,
            cfg.output.clone(),
        ),
        min,
        max,
        timing,
    };
    if let Some(path) = &cfg.report {
        write_report(path, &report)?;
    }
    Ok(report)
}

fn header(cfg: &Config, src: &NetworkSource, sense: ObjSense, around: &Option<AroundInfo>) -> Header {
    let mut h = Header::new(src);
    let region = match around {
        Some(a) => format!(
            "Linf ball of radius {} around image {} sha256 {}, clipped to",
            a.eps, a.image, a.image_sha256
        ),
        None => "input".to_string(),
    };
    h.line(format!(
        "task: range, {} output y_{} over the {region} box {}",
        sense_name(sense),
        cfg.output_index,
        cfg.input_box
    ));
    h.line(format!(
        "options: relu {} bounds {}",
        cfg.encoding.name(),
        cfg.bounds.name()
    ));
    h.columns(&[]);
    h
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "network {} | output y_{} | interval bounds [{:.6}, {:.6}]",
            self.network.file, self.output, self.interval_bounds[0], self.interval_bounds[1]
        )?;
        write!(f, "{}", self.model)?;
        for (what, e) in [("min", &self.min), ("max", &self.max)] {
            if let Some(e) = e {
                if let Some(file) = &e.file {
                    writeln!(f, "wrote {file}")?;
                }
                if let Some(opt) = &e.solve {
                    write!(f, "{}", opt.summary(what))?;
                }
            }
        }
        Ok(())
    }
}
