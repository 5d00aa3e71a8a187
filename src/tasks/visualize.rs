//! Fischetti & Jo's feature visualisation: the input that maximises (or minimises) one unit of
//! the network — an output class, or any hidden unit — over the input box, optionally within a
//! distance of an image.
//!
//! The objective is the unit's value as the lowering expresses it ([`crate::lower::Lowered`]'s
//! `values`), stored as [`ObjSense::Maximize`] in the MILP (the writers negate it and say so in
//! the header). Near an image, the Linf ball is the input box itself (`[img_j - D, img_j + D]`
//! clipped to the box, which also tightens the bounds pass); the L1 ball adds distance columns
//! `d_j` and the row `budget: sum d_j <= D` over that same clipped box. Every point found is
//! replayed through the forward pass, and the unit's value there must equal the solver's
//! objective.

use super::output::{self, picture_dims, write_model, write_report, Header};
use super::region::region_around;
use super::report::tool;
use super::unit::{exact, find_unit, output_unit, sense_name, UnitProblem};
use super::{ImageSource, InputRange, NetworkSource, TaskError, Timing};
use crate::back;
use crate::bounds;
use crate::data;
use crate::front::onnx::LoadOptions;
use crate::lower::Encoding;
use crate::milp::ObjSense;
use crate::solve::SolveOptions;
use serde::Serialize;
use std::fmt;
use std::path::PathBuf;

pub use super::{ModelInfo, NetworkInfo, Norm, Optimum, Point, UnitInfo};

/// Which units to optimise.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Units {
    /// Output column `y_K`.
    Output(usize),
    /// Every output column, one MILP each (the paper's figure).
    AllOutputs,
    /// `LAYER:INDEX`: a layer label (`L2`, `N5`), the layer's name in the source file, or its
    /// number, and a flat index into the layer's value.
    Unit(String),
}

/// Keep the input within `max_dist` of an image.
#[derive(Clone, Debug)]
pub struct Near {
    /// An image spec for [`data::load_image`].
    pub image: String,
    pub max_dist: f64,
    pub norm: Norm,
}

#[derive(Clone, Debug)]
pub struct Config {
    pub network: PathBuf,
    /// What the network file may make the loader allocate.
    pub load: LoadOptions,
    pub units: Units,
    pub sense: ObjSense,
    /// The input box, `[lo, hi]` for every input.
    pub input_box: InputRange,
    pub near: Option<Near>,
    pub encoding: Encoding,
    pub bounds: bounds::Method,
    /// Settings of the lp / milp bounds passes.
    pub bounds_options: bounds::BoundsOptions,
    /// Model file (`-` = stdout). With several units, one file per unit: `.y<K>` is inserted
    /// before the extension ([`super::tagged_path`]).
    pub output: Option<String>,
    pub format: Option<back::Format>,
    pub solve: bool,
    pub solve_options: SolveOptions,
    /// Start files of the solver's point beside each model (`--start`, needs `solve`).
    pub start: Vec<crate::tasks::start::StartFormat>,
    pub report: Option<PathBuf>,
    /// A grid of the optimising inputs, one panel per unit (black where no point was found).
    pub png: Option<PathBuf>,
}

#[derive(Clone, Debug, Serialize)]
pub struct Report {
    pub tool: String,
    pub task: &'static str,
    pub network: NetworkInfo,
    /// `maximize` or `minimize`.
    pub sense: &'static str,
    pub input_box: [f64; 2],
    pub near: Option<NearInfo>,
    /// Size of each unit's model (they differ only in the objective).
    pub model: ModelInfo,
    pub units: Vec<UnitResult>,
    pub png: Option<String>,
    pub timing: Timing,
}

#[derive(Clone, Debug, Serialize)]
pub struct NearInfo {
    /// The image's file name (with `:N` for an IDX image).
    pub image: String,
    pub image_sha256: String,
    pub norm: Norm,
    pub max_dist: f64,
}

#[derive(Clone, Debug, Serialize)]
pub struct UnitResult {
    pub unit: UnitInfo,
    /// The unit's bounds from the bounds pass over the region (what the MILP tightens).
    pub interval_bounds: [f64; 2],
    /// The model file written for this unit.
    pub file: Option<String>,
    /// Present when `--solve` was given.
    pub solve: Option<Optimum>,
}

pub fn run(cfg: &Config) -> Result<Report, TaskError> {
    let outputs = [cfg.output.as_deref().map(std::path::Path::new), cfg.report.as_deref()];
    crate::back::atomic::preflight(outputs.into_iter().chain([cfg.png.as_deref()]))?;
    cfg.solve_options.validate()?;
    let src = NetworkSource::load_with(&cfg.network, &cfg.load)?;
    let net = &src.network;
    let units: Vec<UnitInfo> = match &cfg.units {
        Units::Output(k) => vec![output_unit(&src, *k)?],
        Units::AllOutputs => (0..net.output_size())
            .map(|k| output_unit(&src, k))
            .collect::<Result<_, _>>()?,
        Units::Unit(spec) => vec![find_unit(&src, spec)?],
    };
    let image = match &cfg.near {
        Some(n) => Some(ImageSource::load_for(&src, &n.image)?),
        None => None,
    };
    let near = match (&cfg.near, &image) {
        (Some(n), Some(img)) => Some((img.pixels(), n.norm, n.max_dist)),
        _ => None,
    };
    let region = region_around(net.input_size(), cfg.input_box, near.map(|(img, _, d)| (img, d)))?;
    // Checked before any solving: a picture that cannot be drawn is an error, found early.
    let dims = match &cfg.png {
        Some(path) => {
            Some(
                picture_dims(net, image.as_ref().map(|i| &i.image)).ok_or_else(|| TaskError::NoPicture {
                    path: path.clone(),
                    shape: net.layer(net.input()).shape.clone(),
                })?,
            )
        }
        None => None,
    };
    let problem = UnitProblem {
        net,
        region,
        near,
        bounds: cfg.bounds,
        bounds_options: cfg.bounds_options.clone(),
    };
    let prepared = problem.prepare(cfg.encoding, cfg.solve, src.load_seconds)?;
    let mut timing = prepared.timing.clone();
    let pipe = &prepared.lowering.written;
    let solve_options = exact(&cfg.solve_options);
    let near_info = match (&cfg.near, &image) {
        (Some(n), Some(img)) => Some(NearInfo {
            image: img.name.clone(),
            image_sha256: img.sha256.clone(),
            norm: n.norm,
            max_dist: n.max_dist,
        }),
        _ => None,
    };

    let mut results = Vec::with_capacity(units.len());
    for unit in &units {
        let milp = problem.model(&prepared, unit, cfg.sense);
        let file = cfg.output.as_ref().map(|out| match cfg.units {
            Units::AllOutputs => output::tagged_path(out, &format!("y{}", unit.index)),
            _ => out.clone(),
        });
        if let Some(path) = &file {
            timing.write_seconds += write_model(&milp, path, cfg.format, header(cfg, &src, unit, &near_info))?;
        }
        let solve = if cfg.solve {
            let opt = problem.optimize(
                &prepared,
                &milp,
                unit,
                cfg.sense,
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
        let (lo, hi) = pipe.bounds.layer(crate::ir::Handle::from_index(unit.layer));
        results.push(UnitResult {
            unit: unit.clone(),
            interval_bounds: [lo[unit.index], hi[unit.index]],
            file,
            solve,
        });
    }

    if let (Some(path), Some((w, h))) = (&cfg.png, dims) {
        let panels: Vec<Vec<f64>> = results
            .iter()
            .map(|r| match r.solve.as_ref().and_then(|s| s.point.as_ref()) {
                Some(p) => p.input.clone(),
                None => vec![f64::NAN; net.input_size()],
            })
            .collect();
        data::write_grid_png(path, &panels, w, h, panels.len().min(5))?;
    }

    // Every unit's model differs from the first only in its objective.
    let model = ModelInfo::of(
        &problem.model(&prepared, &units[0], cfg.sense),
        &pipe.lowered.stats,
        cfg.encoding,
        cfg.bounds,
        cfg.output.clone(),
    );
    let report = Report {
        tool: tool(),
        task: "visualize",
        network: NetworkInfo::of(&src),
        sense: sense_name(cfg.sense),
        input_box: cfg.input_box.into(),
        near: near_info,
        model,
        units: results,
        png: cfg.png.as_ref().map(|p| p.to_string_lossy().into_owned()),
        timing,
    };
    if let Some(path) = &cfg.report {
        write_report(path, &report)?;
    }
    Ok(report)
}

fn header(cfg: &Config, src: &NetworkSource, unit: &UnitInfo, near: &Option<NearInfo>) -> Header {
    let mut h = Header::new(src);
    h.line(format!(
        "task: visualize, {} unit {} of layer {} ({}, number {})",
        sense_name(cfg.sense),
        unit.index,
        unit.label,
        unit.name,
        unit.layer
    ));
    let near = match near {
        Some(n) => format!(
            "within {} distance {} of image {} sha256 {}",
            n.norm.name(),
            n.max_dist,
            n.image,
            n.image_sha256
        ),
        None => "anywhere in the box".to_string(),
    };
    h.line(format!(
        "options: box {} {near} relu {} bounds {}",
        cfg.input_box,
        cfg.encoding.name(),
        cfg.bounds.name()
    ));
    h.columns(&["d_j L1 distances"]);
    h
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "network {} | {} | box [{}, {}]",
            self.network.file, self.sense, self.input_box[0], self.input_box[1]
        )?;
        if let Some(n) = &self.near {
            write!(f, " | within {} {} of {}", n.norm.name(), n.max_dist, n.image)?;
        }
        writeln!(f)?;
        write!(f, "{}", self.model)?;
        for u in &self.units {
            if let Some(file) = &u.file {
                writeln!(f, "wrote {file}")?;
            }
            if let Some(opt) = &u.solve {
                let what = format!("unit {}:{} ({})", u.unit.label, u.unit.index, u.unit.name);
                write!(f, "{}", opt.summary(&what))?;
            }
        }
        if let Some(p) = &self.png {
            writeln!(f, "wrote {p}")?;
        }
        Ok(())
    }
}
