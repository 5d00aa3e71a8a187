//! `inspect`: what a network is made of and what its MILP would look like over a box.

use super::{InputRange, NetworkSource, Pipeline, TaskError};
use crate::bounds;
use crate::front::onnx::LoadOptions;
use crate::ir::Op;
use crate::lower::Encoding;
use serde::Serialize;
use std::fmt;
use std::path::PathBuf;

#[derive(Clone, Debug)]
pub struct Config {
    pub network: PathBuf,
    /// What the network file may make the loader allocate.
    pub load: LoadOptions,
    pub input_box: InputRange,
    pub bounds: bounds::Method,
    /// Read the bounds from this file (from `nnmilp bounds`) instead of computing them.
    pub bounds_file: Option<PathBuf>,
    /// Settings of the lp / milp bounds passes.
    pub bounds_options: bounds::BoundsOptions,
}

#[derive(Clone, Debug, Serialize)]
pub struct Report {
    pub file: String,
    pub sha256: String,
    pub input_shape: Vec<usize>,
    pub output_shape: Vec<usize>,
    pub input_box: [f64; 2],
    pub bounds: &'static str,
    pub layers: Vec<LayerInfo>,
    pub relu_units: usize,
    pub relu_stable: usize,
    pub relu_unstable: usize,
    pub pool_units: usize,
    pub pool_binaries: usize,
    /// Size of the big-M model of the network alone (no task constraints).
    pub milp_columns: usize,
    pub milp_rows: usize,
    pub milp_binaries: usize,
}

#[derive(Clone, Debug, Serialize)]
pub struct LayerInfo {
    pub index: usize,
    /// Label used in column names (`L2` in `x_L2_17`).
    pub label: String,
    /// Name in the source file.
    pub name: String,
    pub kind: &'static str,
    pub shape: Vec<usize>,
    pub inputs: Vec<usize>,
    /// For ReLU layers: units whose pre-activation bounds straddle zero.
    pub unstable: Option<usize>,
    /// Smallest lower and largest upper bound over the layer's units.
    pub bounds: [f64; 2],
}

pub fn run(cfg: &Config) -> Result<Report, TaskError> {
    let src = NetworkSource::load_with(&cfg.network, &cfg.load)?;
    let net = &src.network;
    let (b, seconds) = src.bounds(
        &cfg.input_box.input_box(net.input_size()).into(),
        cfg.bounds,
        cfg.bounds_file.as_deref(),
        &cfg.bounds_options,
        None,
    )?;
    let pipe = Pipeline::lower(net, b, seconds, Encoding::BigM)?;
    let labels = net.info().labels();
    let layers = net
        .handles()
        .map(|h| {
            let l = net.layer(h);
            let (lo, hi) = pipe.bounds.layer(h);
            let unstable = match l.op {
                Op::Relu { input } => {
                    let (pl, pu) = pipe.bounds.layer(input);
                    Some(pl.iter().zip(pu).filter(|(a, b)| **a < 0.0 && **b > 0.0).count())
                }
                _ => None,
            };
            LayerInfo {
                index: h.index(),
                label: labels[h.index()].clone(),
                name: l.name.clone(),
                kind: l.op.kind(),
                shape: l.shape.clone(),
                inputs: l.op.inputs().iter().map(|i| i.index()).collect(),
                unstable,
                bounds: [
                    lo.iter().copied().fold(f64::INFINITY, f64::min),
                    hi.iter().copied().fold(f64::NEG_INFINITY, f64::max),
                ],
            }
        })
        .collect();
    let s = pipe.lowered.stats;
    let milp = &pipe.lowered.milp;
    Ok(Report {
        file: src.file_name(),
        sha256: src.sha256.clone(),
        input_shape: net.layer(net.input()).shape.clone(),
        output_shape: net.layer(net.output()).shape.clone(),
        input_box: cfg.input_box.into(),
        bounds: pipe.bounds.method.name(),
        layers,
        relu_units: s.relu_units,
        relu_stable: s.relu_stable_active + s.relu_stable_inactive,
        relu_unstable: s.relu_unstable,
        pool_units: s.pool_units,
        pool_binaries: s.pool_binaries,
        milp_columns: milp.cols().len(),
        milp_rows: milp.rows().len(),
        milp_binaries: milp.n_integer(),
    })
}

/// The table `nnmilp inspect` prints.
impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut s = format!(
            "{} (sha256 {})\ninput shape {:?}, output shape {:?}, box [{}, {}], {} bounds\n\n",
            self.file,
            self.sha256,
            self.input_shape,
            self.output_shape,
            self.input_box[0],
            self.input_box[1],
            self.bounds
        );
        s += &format!(
            "{:>3}  {:<6} {:<8} {:<14} {:>8}  {:>9}  {:<24} {}\n",
            "#", "label", "kind", "shape", "units", "unstable", "bounds", "source node"
        );
        for l in &self.layers {
            s += &format!(
                "{:>3}  {:<6} {:<8} {:<14} {:>8}  {:>9}  [{:<10.4}, {:>10.4}] {}\n",
                l.index,
                l.label,
                l.kind,
                format!("{:?}", l.shape),
                l.shape.iter().product::<usize>(),
                l.unstable.map_or(String::new(), |u| u.to_string()),
                l.bounds[0],
                l.bounds[1],
                l.name
            );
        }
        s += &format!(
            "\nReLU units: {} ({} stable, {} unstable); max-pool units: {} ({} binaries)\n\
             big-M MILP of the network alone: {} columns, {} rows, {} binaries\n",
            self.relu_units,
            self.relu_stable,
            self.relu_unstable,
            self.pool_units,
            self.pool_binaries,
            self.milp_columns,
            self.milp_rows,
            self.milp_binaries
        );
        f.write_str(&s)
    }
}
