//! Bounds files: the result of `nnmilp bounds`, kept so that an expensive pass (lp, milp) runs
//! once and is reused by later `inspect` / `adversarial` runs with `--bounds-file`.
//!
//! A file names the network by the SHA-256 of its bytes and the region it was computed over (a
//! box, and the L1 ball that cut it, if any); it is only accepted for that same network and for
//! a region inside that one (bounds sound over a region are sound over every part of it). JSON,
//! with every layer's bounds in full; an infinite bound is written as the string `"inf"` or
//! `"-inf"` (JSON has no number for it), so that every file reads back.
//!
//! A file is checked, not trusted: a wrong bound would make the MILP cut off the network's
//! true values and a solver report "infeasible" for a feasible problem. Read once through a
//! size-capped reader; every bound a number or `"inf"`/`"-inf"` (never `null` or NaN), `lo <= hi`,
//! one pair per unit of every layer, and the network's forward pass at the region's center
//! inside every layer's bounds.

use super::{Bounds, BoundsReport, InputBox, L1Ball, Method, Region};
use crate::ir::Network;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use thiserror::Error;

/// Written in every file, checked on reading.
pub const FORMAT: &str = "nnmilp-bounds/1";

/// Largest bounds file read: about 10⁷ bound pairs at the digits `f64` needs.
pub const MAX_BOUNDS_FILE_BYTES: u64 = 512 << 20;

/// How far (relative, `tol·(1 + |v|)`) the forward pass may sit outside a file's bounds before
/// the file is refused: the passes widen every solver optimum by far more than this, so a sound
/// file never comes near it.
const CENTER_TOLERANCE: f64 = 1e-9;

/// Bound values in JSON: finite numbers as numbers, infinities as `"inf"` / `"-inf"`.
mod values {
    use serde::de::Error as _;
    use serde::ser::{Error as _, SerializeSeq};
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(v: &[f64], s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(v.len()))?;
        for &x in v {
            match x {
                x if x.is_finite() => seq.serialize_element(&x)?,
                f64::INFINITY => seq.serialize_element("inf")?,
                f64::NEG_INFINITY => seq.serialize_element("-inf")?,
                _ => return Err(S::Error::custom("a bound is NaN")),
            }
        }
        seq.end()
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<f64>, D::Error> {
        let raw = Vec::<serde_json::Value>::deserialize(d)?;
        (raw.iter().enumerate())
            .map(|(i, v)| match v {
                serde_json::Value::Number(n) => n
                    .as_f64()
                    .ok_or_else(|| D::Error::custom(format!("entry {i}: {n} is not a number"))),
                serde_json::Value::String(s) if s == "inf" => Ok(f64::INFINITY),
                serde_json::Value::String(s) if s == "-inf" => Ok(f64::NEG_INFINITY),
                other => Err(D::Error::custom(format!(
                    "entry {i} is {other}: a bound is a number, \"inf\" or \"-inf\""
                ))),
            })
            .collect()
    }
}

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
    #[serde(with = "values")]
    pub input_lo: Vec<f64>,
    #[serde(with = "values")]
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
    #[serde(with = "values")]
    pub lo: Vec<f64>,
    #[serde(with = "values")]
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
        let bytes = crate::data::read_capped(path, MAX_BOUNDS_FILE_BYTES).map_err(|source| BoundsFileError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        let file: BoundsFile = serde_json::from_slice(&bytes).map_err(|e| BoundsFileError::Parse {
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
                    "layer {}: {} lower and {} upper bounds, the network's layer {} has {n} units",
                    l.index,
                    l.lo.len(),
                    l.hi.len(),
                    h.index()
                )));
            }
            if let Some(j) = (0..n).find(|&j| l.lo[j] > l.hi[j]) {
                return Err(parse(format!(
                    "layer {} ({}), unit {j}: lower bound {} above upper bound {}",
                    l.index, l.name, l.lo[j], l.hi[j]
                )));
            }
        }
        let rb = &region.input_box;
        let n = self.input_lo.len();
        let ball_size = self.l1_ball.as_ref().map_or(n, |b| b.center.len());
        if rb.lo.len() != n || rb.hi.len() != n || self.input_hi.len() != n || ball_size != n {
            return Err(parse(format!("box of {n} inputs, the region has {}", rb.lo.len())));
        }
        if let Some(j) = (0..n).find(|&j| self.input_lo[j] > self.input_hi[j]) {
            return Err(parse(format!(
                "input {j}: lower bound {} above upper bound {}",
                self.input_lo[j], self.input_hi[j]
            )));
        }
        if let Some(b) = &self.l1_ball {
            if !(b.radius >= 0.0 && b.radius.is_finite() && b.center.iter().all(|c| c.is_finite())) {
                return Err(parse(
                    "l1_ball: a finite center and a finite radius >= 0 are needed".into(),
                ));
            }
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
        self.check_center(net, region).map_err(parse)?;
        let mut bounds = Bounds {
            lo: self.layers.iter().map(|l| l.lo.clone()).collect(),
            hi: self.layers.iter().map(|l| l.hi.clone()).collect(),
            method,
        };
        bounds.lo[0] = region.input_box.lo.clone();
        bounds.hi[0] = region.input_box.hi.clone();
        Ok(bounds)
    }

    /// Whether the network's values at a point of `region` (the L1 ball's center, or the box's
    /// center, clipped to the box; a point of the region whenever it is not empty) lie inside
    /// every layer's bounds. Bounds that exclude a value the network takes are not sound.
    fn check_center(&self, net: &Network, region: &Region) -> Result<(), String> {
        let b = &region.input_box;
        let point: Vec<f64> = (0..b.lo.len())
            .map(|j| {
                let mid = match region.l1.as_ref() {
                    Some(ball) => ball.center[j],
                    None if b.lo[j].is_finite() && b.hi[j].is_finite() => 0.5 * (b.lo[j] + b.hi[j]),
                    None => 0.0,
                };
                mid.max(b.lo[j]).min(b.hi[j])
            })
            .collect();
        let values = net.forward_all(&point).map_err(|e| e.to_string())?;
        for (l, v) in self.layers.iter().zip(&values) {
            for (j, &x) in v.iter().enumerate() {
                let tol = CENTER_TOLERANCE * (1.0 + x.abs());
                if !(x >= l.lo[j] - tol && x <= l.hi[j] + tol) {
                    return Err(format!(
                        "layer {} ({}), unit {j}: the network's value {x} at the center of the region lies outside the file's bounds [{}, {}], so they are not sound",
                        l.index, l.name, l.lo[j], l.hi[j]
                    ));
                }
            }
        }
        Ok(())
    }
}
