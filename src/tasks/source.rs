//! Loading a network once for a task, with what file headers and reports say about it.

use super::TaskError;
use crate::bounds::{self, Bounds, BoundsOptions, Region};
use crate::ir::Network;
use crate::lower::{self, Encoding, LowerOptions, Lowered};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::time::Instant;

/// A network together with the identity of the file it came from.
pub struct NetworkSource {
    pub path: PathBuf,
    /// SHA-256 of the file's bytes as stored (so a `.onnx.gz` and its content differ).
    pub sha256: String,
    pub network: Network,
    pub load_seconds: f64,
}

impl NetworkSource {
    pub fn load(path: &Path) -> Result<Self, crate::Error> {
        let start = Instant::now();
        let bytes = std::fs::read(path).map_err(|source| TaskError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        let sha256 = format!("{:x}", Sha256::digest(&bytes));
        let network = crate::front::onnx::load(path)?;
        Ok(NetworkSource {
            path: path.to_path_buf(),
            sha256,
            network,
            load_seconds: start.elapsed().as_secs_f64(),
        })
    }

    /// The file name without directories: headers must not depend on where the file sat, so that
    /// the same input gives byte-identical output on every machine.
    pub fn file_name(&self) -> String {
        self.path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default()
    }
}

/// Bounds and lowering of one network over one box, timed.
pub struct Pipeline {
    pub bounds: Bounds,
    pub bounds_seconds: f64,
    pub lowered: Lowered,
    pub lower_seconds: f64,
}

impl NetworkSource {
    /// The task's bounds over `region` and the seconds they took: read from `file` (refused for
    /// another network or a region it does not contain) or computed with `method`.
    pub fn bounds(
        &self,
        region: &Region,
        method: bounds::Method,
        file: Option<&Path>,
        options: &BoundsOptions,
    ) -> Result<(Bounds, f64), crate::Error> {
        let start = Instant::now();
        let b = match file {
            Some(path) => bounds::BoundsFile::read(path)?.bounds_for(path, &self.network, &self.sha256, region)?,
            None => crate::tighten::compute(&self.network, region, method, options)?.0,
        };
        Ok((b, start.elapsed().as_secs_f64()))
    }
}

impl Pipeline {
    /// Lowers `net` with bounds computed (or read) before.
    pub fn lower(net: &Network, bounds: Bounds, bounds_seconds: f64, encoding: Encoding) -> Result<Self, crate::Error> {
        let start = Instant::now();
        let lowered = lower::lower(net, &bounds, LowerOptions { encoding })?;
        Ok(Pipeline {
            bounds,
            bounds_seconds,
            lowered,
            lower_seconds: start.elapsed().as_secs_f64(),
        })
    }

    /// Computes the bounds over `region` with `method`, then lowers.
    pub fn run(
        net: &Network,
        region: &Region,
        method: bounds::Method,
        options: &BoundsOptions,
        encoding: Encoding,
    ) -> Result<Self, crate::Error> {
        let start = Instant::now();
        let (bounds, _) = crate::tighten::compute(net, region, method, options)?;
        Self::lower(net, bounds, start.elapsed().as_secs_f64(), encoding)
    }
}
