//! What the query tasks (`adversarial`, `visualize`, `range`) share: the input region around an
//! image, distance columns, solving the big-M form, replay checks, report pieces and file names.

use super::{write_text_atomic, NetworkSource, Pipeline, TaskError};
use crate::back::{self, WriteOptions};
use crate::bounds::{self, InputBox};
use crate::data;
use crate::ir::Network;
pub use crate::lower::{add_distance, Norm};
use crate::lower::{Encoding, LowerStats};
use crate::milp::{Col, Milp, ObjSense};
use crate::solve::{self, Solution, SolveOptions, Status};
use serde::Serialize;
use std::path::Path;
use std::time::Instant;

/// Largest relative difference (scaled by `1 + |value|`) accepted between the solver's objective
/// and the same quantity recomputed by the forward pass from the solver's input. HiGHS works to
/// `1e-7` primal feasibility and `1e-6` integrality tolerances on its scaled model; through big-M
/// rows with coefficients in the hundreds (the MNIST fixtures) and sums over 784 distance columns
/// those add up to about `1e-5`, so a tighter check rejects correct answers. A real modelling
/// error shows up as a difference of the order of the values themselves.
pub const REPLAY_TOLERANCE: f64 = 1e-5;

#[derive(Clone, Debug, Serialize)]
pub struct NetworkInfo {
    pub file: String,
    pub sha256: String,
    pub inputs: usize,
    pub outputs: usize,
}

impl NetworkInfo {
    pub fn of(src: &NetworkSource) -> Self {
        NetworkInfo {
            file: src.file_name(),
            sha256: src.sha256.clone(),
            inputs: src.network.input_size(),
            outputs: src.network.output_size(),
        }
    }
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

impl ModelInfo {
    pub fn of(
        milp: &Milp,
        stats: &LowerStats,
        encoding: Encoding,
        method: bounds::Method,
        file: Option<String>,
    ) -> Self {
        ModelInfo {
            file,
            encoding: encoding.name(),
            bounds: method.name(),
            columns: milp.cols().len(),
            rows: milp.rows().len(),
            binaries: milp.n_integer(),
            indicators: milp.indicators().len(),
            relu_units: stats.relu_units,
            relu_unstable: stats.relu_unstable,
            relu_stable: stats.relu_stable_active + stats.relu_stable_inactive,
            pool_binaries: stats.pool_binaries,
        }
    }
}

/// Checks a user-given box `[lo, hi]`.
pub(crate) fn check_box((lo, hi): (f64, f64)) -> Result<(), TaskError> {
    if lo.is_finite() && hi.is_finite() && lo <= hi {
        Ok(())
    } else {
        Err(TaskError::BadBox { lo, hi })
    }
}

/// Loads an image and checks that it fits the network's input.
pub(crate) fn load_image_for(src: &NetworkSource, spec: &str) -> Result<data::Image, crate::Error> {
    let image = data::load_image(spec)?;
    if image.pixels.len() != src.network.input_size() {
        return Err(TaskError::ImageSize {
            image: spec.to_string(),
            network: src.file_name(),
            got: image.pixels.len(),
            expected: src.network.input_size(),
        }
        .into());
    }
    Ok(image)
}

/// The box `[lo, hi]^n`, intersected with `[img_j - r, img_j + r]` per input when a radius is
/// given. Any point within L1 or Linf distance `r` of the image lies in that smaller box, so the
/// bounds pass over it is sound for both norms, and tighter than over the whole box.
pub(crate) fn region_around(
    n: usize,
    (lo, hi): (f64, f64),
    near: Option<(&[f64], f64)>,
) -> Result<InputBox, TaskError> {
    let mut region = InputBox::uniform(n, lo, hi);
    if let Some((img, r)) = near {
        if !(r.is_finite() && r >= 0.0) {
            return Err(TaskError::BadDistance { value: r });
        }
        for (j, &v) in img.iter().enumerate() {
            region.lo[j] = region.lo[j].max(v - r);
            region.hi[j] = region.hi[j].min(v + r);
            if region.lo[j] > region.hi[j] {
                return Err(TaskError::EmptyBall {
                    input: j,
                    value: v,
                    radius: r,
                    lo,
                    hi,
                });
            }
        }
    }
    Ok(region)
}

/// The input the solver found, clamped into the region: solvers return values up to a
/// feasibility tolerance outside their bounds, and the forward pass must see a point of the box.
pub(crate) fn solver_input(values: &[f64], inputs: &[Col], region: &InputBox) -> Vec<f64> {
    inputs
        .iter()
        .enumerate()
        .map(|(j, c)| values[c.index()].clamp(region.lo[j], region.hi[j]))
        .collect()
}

/// Fails unless the solver's objective and the replayed value agree within
/// [`REPLAY_TOLERANCE`].
pub(crate) fn check_replay(what: &str, solver: f64, replayed: f64) -> Result<(), TaskError> {
    let diff = (solver - replayed).abs();
    if diff <= REPLAY_TOLERANCE * (1.0 + replayed.abs()) {
        Ok(())
    } else {
        Err(TaskError::ObjectiveMismatch {
            what: what.to_string(),
            solver,
            replayed,
            tolerance: REPLAY_TOLERANCE,
        })
    }
}

/// One unit of the network: a layer and a flat index into its value.
#[derive(Clone, Debug, Serialize)]
pub struct UnitInfo {
    /// Layer number (handle), as `nnmilp inspect` lists it.
    pub layer: usize,
    /// Layer label (`L2`, `N5`), as in column names.
    pub label: String,
    /// Name of the layer in the source file.
    pub name: String,
    pub index: usize,
}

/// An optimum of one unit's value, solved and replayed.
#[derive(Clone, Debug, Serialize)]
pub struct Optimum {
    /// `maximize` or `minimize`.
    pub sense: &'static str,
    pub status: Status,
    pub status_text: String,
    /// The solver's objective (the unit's value in the MILP), when a point was found.
    pub objective: Option<f64>,
    pub dual_bound: Option<f64>,
    pub gap: Option<f64>,
    pub seconds: f64,
    /// The point found, replayed through the forward pass.
    pub point: Option<Point>,
}

/// A solver's input replayed through the network.
#[derive(Clone, Debug, Serialize)]
pub struct Point {
    /// The unit's value by the forward pass at `input` (what is reported; `objective` is the
    /// solver's claim, checked against this within [`REPLAY_TOLERANCE`]).
    pub value: f64,
    /// `|objective - value|`.
    pub objective_error: f64,
    /// Network outputs by the forward pass at `input`.
    pub outputs: Vec<f64>,
    pub predicted: usize,
    /// Distances from the image the input was kept near, when there is one.
    pub l1_distance: Option<f64>,
    pub linf_distance: Option<f64>,
    pub input: Vec<f64>,
}

pub(crate) fn sense_name(sense: ObjSense) -> &'static str {
    match sense {
        ObjSense::Maximize => "maximize",
        ObjSense::Minimize => "minimize",
    }
}

/// `opts` with HiGHS's relative MIP gap 0 unless one was asked for: HiGHS stops at a 1e-4
/// relative gap by default and calls that optimal, but a unit's optimum is the answer itself
/// (an exact range, the maximising input), not a means to an example.
pub(crate) fn exact(opts: &SolveOptions) -> SolveOptions {
    SolveOptions {
        mip_rel_gap: opts.mip_rel_gap.or(Some(0.0)),
        ..opts.clone()
    }
}

/// An optimisation of single units over a region, optionally near an image: what `visualize`
/// and `range` share.
pub(crate) struct UnitProblem<'a> {
    pub net: &'a Network,
    pub region: InputBox,
    /// `(image, norm, max distance)`: the input stays within that distance of the image. The
    /// region is already clipped to the Linf ball of that radius; L1 adds distance columns.
    pub near: Option<(&'a [f64], Norm, f64)>,
    pub bounds: bounds::Method,
    pub bounds_options: bounds::BoundsOptions,
}

/// A unit query before its objective: the model as written, a big-M copy for HiGHS when the
/// written model has indicator constraints only, and the seconds spent so far.
pub struct Prepared {
    pub pipe: Pipeline,
    pub base: Milp,
    pub bigm: Option<(Pipeline, Milp)>,
    pub timing: Timing,
}

impl UnitProblem<'_> {
    /// [`UnitProblem::base`] in `encoding`, and in big-M too when it is to be solved but the
    /// written model has indicators only (HiGHS ignores indicator constraints).
    pub fn prepare(&self, encoding: Encoding, solve: bool, load_seconds: f64) -> Result<Prepared, crate::Error> {
        let (pipe, base) = self.base(encoding)?;
        let timing = Timing {
            load_seconds,
            bounds_seconds: pipe.bounds_seconds,
            lower_seconds: pipe.lower_seconds,
            ..Timing::default()
        };
        let bigm = match (solve, encoding) {
            (true, Encoding::Indicator) => Some(self.base(Encoding::BigM)?),
            _ => None,
        };
        Ok(Prepared {
            pipe,
            base,
            bigm,
            timing,
        })
    }

    /// The lowered network over the region, plus the L1 distance budget when there is one; no
    /// objective yet.
    pub fn base(&self, encoding: Encoding) -> Result<(Pipeline, Milp), crate::Error> {
        // Near an image in L1, the bounds pass runs over box ∩ the L1 ball itself.
        let region = bounds::Region {
            input_box: self.region.clone(),
            l1: match self.near {
                Some((img, Norm::L1, max)) => Some(bounds::L1Ball {
                    center: img.to_vec(),
                    radius: max,
                }),
                _ => None,
            },
        };
        let pipe = Pipeline::run(self.net, &region, self.bounds, &self.bounds_options, encoding)?;
        let mut milp = pipe.lowered.milp.clone();
        if let Some((img, Norm::L1, max)) = self.near {
            add_distance(&mut milp, &pipe.lowered.inputs, img, &self.region, Norm::L1, Some(max));
        }
        Ok((pipe, milp))
    }

    /// `base` with the objective `sense` of the unit's value.
    pub fn with_objective(pipe: &Pipeline, base: &Milp, unit: &UnitInfo, sense: ObjSense) -> Milp {
        let mut milp = base.clone();
        milp.set_objective(sense, pipe.lowered.values[unit.layer][unit.index].clone());
        milp
    }

    /// Solves `milp` (whose objective is `unit`'s value; `inputs` are its input columns) and
    /// replays the answer: the unit's value by the forward pass must equal the solver's
    /// objective, and the input must keep within the distance of the image.
    pub fn optimize(
        &self,
        milp: &Milp,
        inputs: &[Col],
        unit: &UnitInfo,
        opts: &SolveOptions,
    ) -> Result<Optimum, crate::Error> {
        let sol: Solution = solve::solve(milp, opts)?;
        let point = match (&sol.values, sol.objective) {
            (Some(v), Some(obj)) => Some(self.replay(v, obj, inputs, unit)?),
            _ => None,
        };
        Ok(Optimum {
            sense: sense_name(milp.objective().sense),
            status: sol.status,
            status_text: sol.status_text,
            objective: sol.objective,
            dual_bound: sol.dual_bound,
            gap: sol.gap,
            seconds: sol.seconds,
            point,
        })
    }

    fn replay(&self, values: &[f64], objective: f64, inputs: &[Col], unit: &UnitInfo) -> Result<Point, crate::Error> {
        let x = solver_input(values, inputs, &self.region);
        let all = self.net.forward_all(&x)?;
        let value = all[unit.layer][unit.index];
        let what = format!("layer {} ({}) unit {}", unit.label, unit.name, unit.index);
        check_replay(&what, objective, value)?;
        let outputs = all[self.net.output().index()].clone();
        let (l1, linf) = match self.near {
            Some((img, norm, max)) => {
                let d = norm.distance(&x, img);
                if d > max + REPLAY_TOLERANCE * (1.0 + max) {
                    return Err(TaskError::DistanceExceeded {
                        norm: norm.name(),
                        distance: d,
                        max,
                    }
                    .into());
                }
                (Some(Norm::L1.distance(&x, img)), Some(Norm::Linf.distance(&x, img)))
            }
            None => (None, None),
        };
        Ok(Point {
            value,
            objective_error: (objective - value).abs(),
            predicted: crate::ir::argmax(&outputs),
            outputs,
            l1_distance: l1,
            linf_distance: linf,
            input: x,
        })
    }
}

/// The model HiGHS solves for a query lowered with `encoding`: HiGHS ignores indicator
/// constraints, so `both` drops them and `indicator` needs the big-M lowering (`None` here: the
/// caller lowers again).
pub(crate) fn for_highs(milp: &Milp, encoding: Encoding) -> Option<Milp> {
    match encoding {
        Encoding::BigM => Some(milp.clone()),
        Encoding::Both => Some(milp.without_indicators()),
        Encoding::Indicator => None,
    }
}

/// `path` with `.tag` inserted before its model extension: `out.mps.gz` -> `out.max.mps.gz`
/// (so solvers still pick their reader from the name). Names without a known extension get the
/// tag appended.
pub fn tagged_path(path: &str, tag: &str) -> String {
    let lower = path.to_ascii_lowercase();
    for ext in [".mps.gz", ".lp.gz", ".mps", ".lp"] {
        if lower.ends_with(ext) {
            let cut = path.len() - ext.len();
            return format!("{}.{tag}{}", &path[..cut], &path[cut..]);
        }
    }
    format!("{path}.{tag}")
}

/// Writes a model with a header; returns the seconds it took.
pub(crate) fn write_model(
    milp: &Milp,
    path: &str,
    format: Option<back::Format>,
    header: Vec<String>,
) -> Result<f64, crate::Error> {
    let start = Instant::now();
    back::write_file(milp, path, format, &WriteOptions { header })?;
    Ok(start.elapsed().as_secs_f64())
}

/// The first header lines of every written model: the tool and the network's identity.
pub(crate) fn header_intro(src: &NetworkSource) -> Vec<String> {
    vec![
        format!(
            "nnmilp {} - Fischetti & Jo 0-1 MILP of a ReLU network",
            env!("CARGO_PKG_VERSION")
        ),
        format!("network: {} sha256 {}", src.file_name(), src.sha256),
    ]
}

/// How pictures of the network's input are laid out: the image's own size, else a guess from
/// the input layer's shape.
pub(crate) fn picture_dims(net: &Network, image: Option<&data::Image>) -> Option<(usize, usize)> {
    match image.map(|i| (i.width, i.height)) {
        Some((Some(w), Some(h))) => Some((w, h)),
        _ => data::image_dims(&net.layer(net.input()).shape),
    }
}

pub(crate) fn write_report<T: Serialize>(path: &Path, report: &T) -> Result<(), TaskError> {
    let text = serde_json::to_string_pretty(report).expect("report serialises") + "\n";
    write_text_atomic(path, &text)
}

/// Output `k` of the network as a unit.
pub(crate) fn output_unit(src: &NetworkSource, k: usize) -> Result<UnitInfo, TaskError> {
    let net = &src.network;
    if k >= net.output_size() {
        return Err(TaskError::OutputIndex {
            what: "output",
            value: k,
            count: net.output_size(),
        });
    }
    let h = net.output().index();
    Ok(UnitInfo {
        layer: h,
        label: net.info().labels()[h].clone(),
        name: net.layer(net.output()).name.clone(),
        index: k,
    })
}

/// The unit named `LAYER:INDEX`, where `LAYER` is a layer label (`L2`, `N5`, as `nnmilp inspect`
/// shows them and column names use), else the layer's name in the source file, else the layer
/// number; `INDEX` is a flat index into the layer's value. Labels win over names because they
/// are unique by construction; names need not be.
pub(crate) fn find_unit(src: &NetworkSource, spec: &str) -> Result<UnitInfo, TaskError> {
    let net = &src.network;
    let labels = net.info().labels();
    let listing = || {
        net.handles()
            .map(|h| {
                format!(
                    "{} {} {} {}",
                    h.index(),
                    labels[h.index()],
                    net.layer(h).name,
                    net.layer(h).size()
                )
            })
            .collect::<Vec<_>>()
            .join(", ")
    };
    let fail = |reason: String| TaskError::UnknownUnit {
        spec: spec.to_string(),
        network: src.file_name(),
        reason,
        layers: listing(),
    };
    let (layer, index) = spec
        .rsplit_once(':')
        .ok_or_else(|| fail("expected LAYER:INDEX".to_string()))?;
    let index: usize = index
        .trim()
        .parse()
        .map_err(|_| fail(format!("index {index:?} is not a number")))?;
    let h = labels
        .iter()
        .position(|l| l == layer)
        .or_else(|| net.layers().iter().position(|l| l.name == layer))
        .or_else(|| layer.parse::<usize>().ok().filter(|&i| i < labels.len()))
        .ok_or_else(|| fail(format!("no layer is labelled, named or numbered {layer:?}")))?;
    let size = net.layers()[h].size();
    if index >= size {
        return Err(fail(format!("layer {} has {size} units (0..{size})", labels[h])));
    }
    Ok(UnitInfo {
        layer: h,
        label: labels[h].clone(),
        name: net.layers()[h].name.clone(),
        index,
    })
}

/// Seconds spent in each stage of a task (the `timing` object of every report).
#[derive(Clone, Debug, Default, Serialize)]
pub struct Timing {
    pub load_seconds: f64,
    pub bounds_seconds: f64,
    pub lower_seconds: f64,
    pub write_seconds: f64,
    pub solve_seconds: f64,
}
