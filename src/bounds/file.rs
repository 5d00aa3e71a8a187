//! Bounds files: the result of `nnmilp bounds`, kept so that an expensive pass (lp, milp) runs
//! once and is reused by later `inspect` / `adversarial` runs with `--bounds-file`.
//!
//! A file names the network by the SHA-256 of its bytes and the region it was computed over (a
//! box, and the L1 ball that cut it, if any); it is only accepted for that same network and for
//! a region inside that one (bounds sound over a region are sound over every part of it). JSON,
//! with every layer's bounds in full.

use super::{Bounds, BoundsReport, InputBox, L1Ball, Method, Region};
use crate::ir::Network;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use thiserror::Error;

/// Written in every file, checked on reading.
pub const FORMAT: &str = "nnmilp-bounds/1";

#[derive(Debug, Error)]
pub enum BoundsFileError {
    #[error("cannot read bounds file {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("bounds file {path}: {message}")]
    Parse { path: PathBuf, message: String },
    /// `detail` names the file's network and both SHA-256 sums.
    #[error("bounds file {path} was computed for {detail}")]
    OtherNetwork { path: PathBuf, detail: String },
    /// `detail` says where the requested region leaves the file's.
    #[error("bounds file {path} holds bounds over a region that does not contain the requested one ({detail})")]
    RegionNotContained { path: PathBuf, detail: String },
}

/// The file's contents.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct BoundsFile {
    pub format: String,
    pub tool: String,
    /// File name of the network (for messages; identity is `sha256`).
    pub network: String,
    pub sha256: String,
    pub method: String,
    /// The input box, per input.
    pub input_lo: Vec<f64>,
    pub input_hi: Vec<f64>,
    /// The L1 ball that cuts the box, when the bounds hold only inside it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub l1_ball: Option<FileBall>,
    /// Unstable ReLUs under these bounds.
    pub relu_unstable: usize,
    pub report: BoundsReport,
    pub layers: Vec<LayerBounds>,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct FileBall {
    pub center: Vec<f64>,
    pub radius: f64,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct LayerBounds {
    pub index: usize,
    pub name: String,
    pub lo: Vec<f64>,
    pub hi: Vec<f64>,
}

impl BoundsFile {
    /// The file for `bounds`, computed over `region`.
    pub fn new(
        net: &Network,
        network: &str,
        sha256: &str,
        region: &Region,
        bounds: &Bounds,
        report: BoundsReport,
    ) -> Self {
        BoundsFile {
            format: FORMAT.to_string(),
            tool: format!("nnmilp {}", env!("CARGO_PKG_VERSION")),
            network: network.to_string(),
            sha256: sha256.to_string(),
            method: bounds.method.name().to_string(),
            input_lo: bounds.lo[0].clone(),
            input_hi: bounds.hi[0].clone(),
            l1_ball: region.l1.as_ref().map(|b| FileBall {
                center: b.center.clone(),
                radius: b.radius,
            }),
            relu_unstable: bounds.relu_stability(net).1,
            report,
            layers: net
                .handles()
                .map(|h| LayerBounds {
                    index: h.index(),
                    name: net.layer(h).name.clone(),
                    lo: bounds.lo[h.index()].clone(),
                    hi: bounds.hi[h.index()].clone(),
                })
                .collect(),
        }
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("bounds file serialises") + "\n"
    }

    /// Reads a file (no checks against a network yet: see [`BoundsFile::bounds_for`]).
    pub fn read(path: &Path) -> Result<Self, BoundsFileError> {
        let text = std::fs::read_to_string(path).map_err(|source| BoundsFileError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        let file: BoundsFile = serde_json::from_str(&text).map_err(|e| BoundsFileError::Parse {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?;
        if file.format != FORMAT {
            return Err(BoundsFileError::Parse {
                path: path.to_path_buf(),
                message: format!("format {:?}, expected {FORMAT:?}", file.format),
            });
        }
        Ok(file)
    }

    /// The bounds for `net` (whose file has SHA-256 `sha256`) over `region`: refused for
    /// another network or a region the file's region (box, and ball if any) does not contain. The input layer takes
    /// `region` itself, every other layer the file's (sound, since `region` lies inside).
    pub fn bounds_for(
        &self,
        path: &Path,
        net: &Network,
        sha256: &str,
        region: &Region,
    ) -> Result<Bounds, BoundsFileError> {
        let parse = |message: String| BoundsFileError::Parse {
            path: path.to_path_buf(),
            message,
        };
        if self.sha256 != sha256 {
            return Err(BoundsFileError::OtherNetwork {
                path: path.to_path_buf(),
                detail: format!(
                    "network {} (sha256 {}), not for this one (sha256 {sha256})",
                    self.network, self.sha256
                ),
            });
        }
        let method =
            Method::from_name(&self.method).ok_or_else(|| parse(format!("unknown method {:?}", self.method)))?;
        if self.layers.len() != net.layers().len() {
            return Err(parse(format!(
                "{} layers, the network has {}",
                self.layers.len(),
                net.layers().len()
            )));
        }
        for (h, l) in net.handles().zip(&self.layers) {
            let n = net.layer(h).size();
            if l.index != h.index() || l.lo.len() != n || l.hi.len() != n {
                return Err(parse(format!(
                    "layer {}: {} bounds, the network's layer {} has {n} units",
                    l.index,
                    l.lo.len(),
                    h.index()
                )));
            }
        }
        let rb = &region.input_box;
        let n = self.input_lo.len();
        let ball_size = self.l1_ball.as_ref().map_or(n, |b| b.center.len());
        if rb.lo.len() != n || rb.hi.len() != n || self.input_hi.len() != n || ball_size != n {
            return Err(parse(format!("box of {n} inputs, the region has {}", rb.lo.len())));
        }
        let file_region = Region {
            input_box: InputBox {
                lo: self.input_lo.clone(),
                hi: self.input_hi.clone(),
            },
            l1: self.l1_ball.as_ref().map(|b| L1Ball {
                center: b.center.clone(),
                radius: b.radius,
            }),
        };
        if let Some(detail) = file_region.contains_region(region) {
            return Err(BoundsFileError::RegionNotContained {
                path: path.to_path_buf(),
                detail,
            });
        }
        let mut bounds = Bounds {
            lo: self.layers.iter().map(|l| l.lo.clone()).collect(),
            hi: self.layers.iter().map(|l| l.hi.clone()).collect(),
            method,
        };
        bounds.lo[0] = region.input_box.lo.clone();
        bounds.hi[0] = region.input_box.hi.clone();
        Ok(bounds)
    }
}
