//! `nnmilp compile`: the network's exact MILP alone, for embedding in one's own model (a
//! surrogate inside a larger optimisation, the main use of gurobi-machinelearning and OMLT).
//!
//! The file has the lowering's columns and rows and a zero objective; the input columns are
//! `{prefix}in_j` and the output columns `{prefix}y_j` (every other name gets the prefix too, so
//! two networks compiled with different prefixes can share one model). The interface file
//! (JSON, `nnmilp-interface/1`) lists those columns with the input and output shapes and
//! bounds, the encoding, the bounds method and the network's SHA-256, so a user's script looks
//! columns up by name instead of guessing, and can check it has the file of the right network.

use super::output::{release, write_model, Header};
use super::report::{tool, NetworkInfo};
use super::{write_text_atomic, InputRange, NetworkSource, Pipeline, TaskError};
use crate::back::target::{self, Target};
use crate::back::{self, Format};
use crate::bounds::{self, BoundsOptions, InputBox};
use crate::front::onnx::LoadOptions;
use crate::lower::Encoding;
use crate::milp::{Col, Milp};
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

#[derive(Clone, Debug)]
pub struct Config {
    pub network: PathBuf,
    /// What the network file may make the loader allocate.
    pub load: LoadOptions,
    /// `[lo, hi]` for every input, unless `input_bounds` gives them one by one.
    pub input_box: InputRange,
    /// JSON `{"lo": [...], "hi": [...]}`, one entry per input.
    pub input_bounds: Option<PathBuf>,
    pub bounds: bounds::Method,
    pub bounds_options: BoundsOptions,
    pub encoding: Encoding,
    /// Put before every column and row name.
    pub prefix: String,
    pub target: Target,
    /// Model file (`.mps`, `.lp`, optionally `.gz`; `-` = stdout with `format`).
    pub output: String,
    pub format: Option<Format>,
    /// Interface file to write.
    pub interface: Option<PathBuf>,
}

/// The interface file.
#[derive(Clone, Debug, Serialize)]
pub struct Interface {
    pub format: &'static str,
    pub tool: String,
    pub network: NetworkInfo,
    pub model: InterfaceModel,
    pub prefix: String,
    pub inputs: Port,
    pub outputs: Port,
}

#[derive(Clone, Debug, Serialize)]
pub struct InterfaceModel {
    pub file: String,
    pub encoding: &'static str,
    pub bounds: &'static str,
    pub target: String,
    pub columns: usize,
    pub rows: usize,
    pub binaries: usize,
    pub indicators: usize,
    /// Always `zero`: the user adds the objective.
    pub objective: &'static str,
}

/// Input or output columns: flat, row-major over `shape`.
#[derive(Clone, Debug, Serialize)]
pub struct Port {
    pub shape: Vec<usize>,
    pub columns: Vec<String>,
    /// The columns' bounds in the file (inputs: the box; outputs: the bounds pass's).
    pub lo: Vec<f64>,
    pub hi: Vec<f64>,
}

#[derive(Deserialize)]
struct InputBoundsFile {
    lo: Vec<f64>,
    hi: Vec<f64>,
}

fn input_region(cfg: &Config, n: usize) -> Result<InputBox, TaskError> {
    let Some(path) = &cfg.input_bounds else {
        return Ok(cfg.input_box.input_box(n));
    };
    let bad = |reason: String| TaskError::InputBounds {
        path: path.clone(),
        reason,
    };
    let text = std::fs::read_to_string(path).map_err(|source| TaskError::Read {
        path: path.clone(),
        source,
    })?;
    let f: InputBoundsFile =
        serde_json::from_str(&text).map_err(|e| bad(format!("expected {{\"lo\": [...], \"hi\": [...]}}: {e}")))?;
    if f.lo.len() != n || f.hi.len() != n {
        return Err(bad(format!(
            "{} lower and {} upper bounds, but the network has {n} inputs",
            f.lo.len(),
            f.hi.len()
        )));
    }
    if let Some(j) = (0..n).find(|&j| !(f.lo[j].is_finite() && f.hi[j].is_finite() && f.lo[j] <= f.hi[j])) {
        return Err(bad(format!(
            "input {j}: [{}, {}] is not a finite interval",
            f.lo[j], f.hi[j]
        )));
    }
    Ok(InputBox { lo: f.lo, hi: f.hi })
}

/// `milp` with `prefix` before every column, row and indicator name.
fn prefixed(milp: Milp, prefix: &str) -> Milp {
    if prefix.is_empty() {
        return milp;
    }
    // Taken apart and rebuilt row by row, each row's terms moved: a copy of a dense net's
    // model would double the run's peak memory.
    let parts = milp.into_parts();
    let mut out = Milp::new(parts.name);
    for c in parts.cols {
        out.add_col(format!("{prefix}{}", c.name), c.lo, c.hi, c.kind);
    }
    for r in parts.rows {
        out.add_row(format!("{prefix}{}", r.name), r.terms, r.sense, r.rhs);
    }
    for i in parts.indicators {
        out.add_indicator(
            format!("{prefix}{}", i.name),
            i.binary,
            i.value,
            i.terms,
            i.sense,
            i.rhs,
        );
    }
    out.set_objective(
        parts.objective.sense,
        crate::milp::LinExpr {
            terms: parts.objective.terms,
            constant: parts.objective.offset,
        },
    );
    out
}

pub fn run(cfg: &Config) -> Result<Interface, TaskError> {
    let src = NetworkSource::load_with(&cfg.network, &cfg.load)?;
    let net = &src.network;
    let region = input_region(cfg, net.input_size())?;
    let (b, bounds_seconds) = src.bounds(&region.into(), cfg.bounds, None, &cfg.bounds_options, None)?;
    // What the header and the interface state about the network, taken before it is given to
    // the lowering, which frees its weights layer by layer (nothing reads them after).
    let network = NetworkInfo::of(&src);
    let shapes = (
        net.layer(net.input()).shape.clone(),
        net.layer(net.output()).shape.clone(),
    );
    let mut header = Header::new(&src);
    let mut pipe = Pipeline::lower_consuming(src.network, b, bounds_seconds, cfg.encoding)?;
    // The network's model becomes the file's (nothing reads it after this).
    let milp = prefixed(
        std::mem::replace(&mut pipe.lowered.milp, Milp::new("taken")),
        &cfg.prefix,
    );
    let format =
        cfg.format
            .or_else(|| Format::from_path(&cfg.output))
            .ok_or_else(|| back::WriteError::UnknownFormat {
                path: cfg.output.clone(),
            })?;
    target::check_model(cfg.target, &milp, format).map_err(|e| TaskError::Target {
        path: cfg.output.clone(),
        reason: e.to_string(),
    })?;
    header
        .line(format!(
            "task: compile - the network alone, zero objective; inputs {p}in_j, outputs {p}y_j (flat, row-major)",
            p = cfg.prefix
        ))
        .line(format!(
            "options: relu {} bounds {} for {}{}",
            cfg.encoding.name(),
            cfg.bounds.name(),
            cfg.target,
            match &cfg.input_bounds {
                Some(p) => format!(
                    " input-bounds {}",
                    p.file_name()
                        .map(|n| n.to_string_lossy().into_owned())
                        .unwrap_or_default()
                ),
                None => format!(" box {}", cfg.input_box),
            }
        ))
        .line(format!(
            "columns: {p}in_j inputs, {p}y_j outputs, {p}x/s/z_Lk_j ReLU unit j of nonlinear layer k (z=1: inactive)",
            p = cfg.prefix
        ));
    write_model(&milp, &cfg.output, cfg.format, header)?;
    let port = |cols: &[Col], shape: Vec<usize>| Port {
        shape,
        columns: cols.iter().map(|&c| milp.col(c).name.clone()).collect(),
        lo: cols.iter().map(|&c| milp.col(c).lo).collect(),
        hi: cols.iter().map(|&c| milp.col(c).hi).collect(),
    };
    let interface = Interface {
        format: "nnmilp-interface/1",
        tool: tool(),
        network,
        model: InterfaceModel {
            file: cfg.output.clone(),
            encoding: cfg.encoding.name(),
            bounds: cfg.bounds.name(),
            target: cfg.target.to_string(),
            columns: milp.cols().len(),
            rows: milp.rows().len(),
            binaries: milp.n_integer(),
            indicators: milp.indicators().len(),
            objective: "zero",
        },
        prefix: cfg.prefix.clone(),
        inputs: port(&pipe.lowered.inputs, shapes.0),
        outputs: port(&pipe.lowered.outputs, shapes.1),
    };
    release((milp, pipe));
    if let Some(path) = &cfg.interface {
        let text = serde_json::to_string_pretty(&interface).expect("interface serialises") + "\n";
        write_text_atomic(path, &text)?;
    }
    Ok(interface)
}
