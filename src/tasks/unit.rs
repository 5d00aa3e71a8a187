//! Optimising one unit of the network over a region, optionally near an image: what
//! `visualize` and `range` share. Units are named as `nnmilp inspect` lists them.

use super::region::ball_region;
use super::replay::{check_replay, solver_input, REPLAY_TOLERANCE};
use super::source::{Lowering, Pipeline};
use super::start::{StartFormat, StartInfo};
use super::{NetworkSource, TaskError, Timing};
use crate::bounds::{self, InputBox};
use crate::ir::{Handle, Network};
use crate::lower::{add_distance, Encoding, Norm};
use crate::milp::{Col, Milp, ObjSense};
use crate::solve::{self, SolveOptions, Status};
use serde::Serialize;
use std::time::Instant;

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
    /// The start file of the solver's point (`--start`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start: Option<StartInfo>,
}

impl Optimum {
    /// One line of text: `what`, the status, the replayed value, the bound and gap.
    pub fn summary(&self, what: &str) -> String {
        let mut s = format!("{what}: {} in {:.2}s", self.status_text, self.seconds);
        if let Some(p) = &self.point {
            s += &format!(
                ", value {:.6} (replayed; solver {:.6}), predicted class {}",
                p.value,
                self.objective.unwrap_or(f64::NAN),
                p.predicted
            );
        }
        if let (Some(b), Some(g)) = (self.dual_bound, self.gap) {
            s += &format!(", bound {b:.6}, gap {:.2}%", 100.0 * g);
        }
        if let Some(st) = &self.start {
            s += &format!("\n{st}");
        }
        s + "\n"
    }
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

/// An optimisation of single units over a region, optionally near an image.
pub(crate) struct UnitProblem<'a> {
    pub net: &'a Network,
    pub region: InputBox,
    /// `(image, norm, max distance)`: the input stays within that distance of the image. The
    /// region is already clipped to the Linf ball of that radius; L1 adds distance columns.
    pub near: Option<(&'a [f64], Norm, f64)>,
    pub bounds: bounds::Method,
    pub bounds_options: bounds::BoundsOptions,
}

/// A unit query before its objective: the lowering, the model without objective (the network
/// plus the L1 distance budget when there is one) and the seconds spent so far.
pub(crate) struct Prepared {
    pub lowering: Lowering,
    pub base: Milp,
    pub timing: Timing,
}

impl UnitProblem<'_> {
    /// Bounds over the region (near an image in L1: box ∩ the L1 ball itself), computed once,
    /// and the lowering in `encoding` (plus what HiGHS needs when `solve`).
    pub fn prepare(&self, encoding: Encoding, solve: bool, load_seconds: f64) -> Result<Prepared, TaskError> {
        let region = match self.near {
            Some((img, norm, max)) => ball_region(&self.region, img, norm, Some(max)),
            None => self.region.clone().into(),
        };
        let start = Instant::now();
        let (bounds, _) = crate::tighten::compute(self.net, &region, self.bounds, &self.bounds_options)?;
        let lowering = Lowering::new(self.net, bounds, start.elapsed().as_secs_f64(), encoding, solve)?;
        let base = self.base(&lowering.written);
        let timing = Timing {
            load_seconds,
            bounds_seconds: lowering.written.bounds_seconds,
            lower_seconds: lowering.written.lower_seconds,
            ..Timing::default()
        };
        Ok(Prepared { lowering, base, timing })
    }

    /// The lowered network plus the L1 distance budget when there is one; no objective yet.
    fn base(&self, pipe: &Pipeline) -> Milp {
        let mut milp = pipe.lowered.milp.clone();
        if let Some((img, Norm::L1, max)) = self.near {
            add_distance(&mut milp, &pipe.lowered.inputs, img, &self.region, Norm::L1, Some(max));
        }
        milp
    }

    /// Solves `unit`'s model in `sense` (as HiGHS takes it, see [`Lowering::for_highs`]) and
    /// replays the answer: the unit's value by the forward pass must equal the solver's
    /// objective, and the input must keep within the distance of the image. With `start`
    /// (the written model's path and the start files wanted), the solver's point is written
    /// beside it as a start for `written` ([`super::start`]).
    pub fn optimize(
        &self,
        prepared: &Prepared,
        written: &Milp,
        unit: &UnitInfo,
        sense: ObjSense,
        opts: &SolveOptions,
        start: Option<(&str, &[StartFormat])>,
    ) -> Result<Optimum, TaskError> {
        let milp = prepared
            .lowering
            .for_highs(written, |p| with_objective(self.net, p, &self.base(p), unit, sense));
        let sol = solve::solve(&milp, opts)?;
        let inputs = &prepared.lowering.solved().lowered.inputs;
        let point = match (&sol.values, sol.objective) {
            (Some(v), Some(obj)) => Some(self.replay(v, obj, inputs, unit)?),
            _ => None,
        };
        let start = match (start, &sol.values) {
            (Some((path, formats)), Some(v)) => {
                let values = super::start::by_name(&milp, v, written).map_err(|reason| TaskError::Start {
                    path: super::start::start_path(path, formats[0]),
                    reason,
                })?;
                Some(super::start::write(path, written, values, formats, "solver")?)
            }
            (Some((path, formats)), None) => {
                return Err(TaskError::Start {
                    path: super::start::start_path(path, formats[0]),
                    reason: format!("the solver found no point ({})", sol.status_text),
                })
            }
            (None, _) => None,
        };
        Ok(Optimum {
            sense: sense_name(sense),
            status: sol.status,
            status_text: sol.status_text,
            objective: sol.objective,
            dual_bound: sol.dual_bound,
            gap: sol.gap,
            seconds: sol.seconds,
            point,
            start,
        })
    }

    fn replay(&self, values: &[f64], objective: f64, inputs: &[Col], unit: &UnitInfo) -> Result<Point, TaskError> {
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
                    });
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

impl UnitProblem<'_> {
    /// The written model of `unit`'s value in `sense`.
    pub fn model(&self, prepared: &Prepared, unit: &UnitInfo, sense: ObjSense) -> Milp {
        with_objective(self.net, &prepared.lowering.written, &prepared.base, unit, sense)
    }
}

/// `base` (a model on `pipe`, lowered from `net`) with the objective `sense` of the unit's value.
fn with_objective(net: &Network, pipe: &Pipeline, base: &Milp, unit: &UnitInfo, sense: ObjSense) -> Milp {
    let mut milp = base.clone();
    let value = pipe.lowered.value(net, Handle::from_index(unit.layer), unit.index);
    milp.set_objective(sense, value);
    milp
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
