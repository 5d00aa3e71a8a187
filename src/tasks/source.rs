//! What a task reads once: the network and the image, each with the identity that file headers
//! and reports state (file name and SHA-256, never the path as typed, so that the same inputs
//! give the same bytes wherever they sit), and the network's lowering.

use super::TaskError;
use crate::bounds::{self, Bounds, BoundsOptions, Region};
use crate::data;
use crate::front::onnx::{self, LoadOptions};
use crate::ir::Network;
use crate::lower::{self, Encoding, LowerOptions, Lowered};
use crate::milp::Milp;
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
    /// Reads the file once (size-capped), hashes that buffer and translates it within `opts`.
    pub fn load_with(path: &Path, opts: &LoadOptions) -> Result<Self, TaskError> {
        let start = Instant::now();
        let bytes = onnx::read_file(path, opts)?;
        let (network, sha256) = onnx::load_file_bytes_while(path, bytes, opts, |b| format!("{:x}", Sha256::digest(b)))?;
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
        file_name(&self.path)
    }

    /// The task's bounds over `region` and the seconds they took: read from `file` (refused for
    /// another network or a region it does not contain) or computed with `method`, from the
    /// `interval` bounds over `region` when the task has them already (their seconds counted).
    pub fn bounds(
        &self,
        region: &Region,
        method: bounds::Method,
        file: Option<&Path>,
        options: &BoundsOptions,
        interval: Option<crate::tighten::IntervalStage>,
    ) -> Result<(Bounds, f64), TaskError> {
        let start = Instant::now();
        let before = interval.as_ref().map_or(0.0, |i| i.1);
        let b = match file {
            Some(path) => bounds::BoundsFile::read(path)?.bounds_for(path, &self.network, &self.sha256, region)?,
            None => crate::tighten::compute_after(&self.network, region, method, options, interval)?.0,
        };
        Ok((b, before + start.elapsed().as_secs_f64()))
    }
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// An input image checked against the network, with its identity: the file's name (with the
/// `:N` of an IDX spec) and the SHA-256 of the file's bytes.
pub struct ImageSource {
    pub image: data::Image,
    /// `mnist_test_0_label7.png`, `t10k-images-idx3-ubyte.gz:17`.
    pub name: String,
    pub sha256: String,
}

impl ImageSource {
    /// Loads the image `spec` (see [`data::load_image`]) and checks that it fits `src`'s input.
    pub fn load_for(src: &NetworkSource, spec: &str) -> Result<Self, TaskError> {
        let image = Self::load(spec)?;
        image.check_fits(src, spec)?;
        Ok(image)
    }

    /// The network `path` and the image `spec` for it, read at the same time on two threads
    /// (an MNIST IDX image means unpacking the whole gzip file to check it, about as long as
    /// loading a small network). The errors come as if read one after the other: the
    /// network's first, then the image's, then whether the image fits.
    pub fn load_with_network(path: &Path, opts: &LoadOptions, spec: &str) -> Result<(NetworkSource, Self), TaskError> {
        let (src, image) = std::thread::scope(|scope| {
            let image = scope.spawn(|| Self::load(spec));
            let src = NetworkSource::load_with(path, opts);
            (
                src,
                image.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic)),
            )
        });
        let (src, image) = (src?, image?);
        image.check_fits(&src, spec)?;
        Ok((src, image))
    }

    fn check_fits(&self, src: &NetworkSource, spec: &str) -> Result<(), TaskError> {
        if self.image.pixels.len() != src.network.input_size() {
            return Err(TaskError::ImageSize {
                image: spec.to_string(),
                network: src.file_name(),
                got: self.image.pixels.len(),
                expected: src.network.input_size(),
            });
        }
        Ok(())
    }

    /// The image `spec` and its identity, for any network.
    fn load(spec: &str) -> Result<Self, TaskError> {
        let image = data::load_image(spec)?;
        let file = data::spec_file(spec);
        let read = |source| TaskError::Read {
            path: file.to_path_buf(),
            source,
        };
        let mut hasher = Sha256::new();
        std::io::copy(&mut std::fs::File::open(file).map_err(read)?, &mut hasher).map_err(read)?;
        let index = &spec[file.as_os_str().len()..];
        Ok(ImageSource {
            image,
            name: format!("{}{index}", file_name(file)),
            sha256: format!("{:x}", hasher.finalize()),
        })
    }

    pub fn pixels(&self) -> &[f64] {
        &self.image.pixels
    }
}

/// Bounds and lowering of one network over one region, timed.
pub struct Pipeline {
    pub bounds: Bounds,
    pub bounds_seconds: f64,
    pub lowered: Lowered,
    pub lower_seconds: f64,
}

impl Pipeline {
    /// Lowers `net` with bounds computed (or read) before.
    pub fn lower(net: &Network, bounds: Bounds, bounds_seconds: f64, encoding: Encoding) -> Result<Self, TaskError> {
        Self::timed(bounds, bounds_seconds, |b| {
            lower::lower(net, b, LowerOptions { encoding })
        })
    }

    /// [`Pipeline::lower`] of a network that nothing reads after (a model that is only
    /// written): the network is consumed, each layer's weights freed once lowered
    /// ([`lower::lower_consuming`]).
    pub fn lower_consuming(
        net: Network,
        bounds: Bounds,
        bounds_seconds: f64,
        encoding: Encoding,
    ) -> Result<Self, TaskError> {
        Self::timed(bounds, bounds_seconds, |b| {
            lower::lower_consuming(net, b, LowerOptions { encoding })
        })
    }

    /// Runs one of the lowerings above, timed.
    fn timed(
        bounds: Bounds,
        bounds_seconds: f64,
        lower: impl FnOnce(&Bounds) -> Result<Lowered, lower::LowerError>,
    ) -> Result<Self, TaskError> {
        let start = Instant::now();
        let lowered = lower(&bounds)?;
        Ok(Pipeline {
            bounds,
            bounds_seconds,
            lowered,
            lower_seconds: start.elapsed().as_secs_f64(),
        })
    }
}

/// A query's network lowered in the encoding its model is written in, and the model HiGHS
/// solves. HiGHS ignores indicator constraints: `bigm` needs nothing more, `both` drops its
/// indicators, and only `indicator` needs a second lowering (big-M, from the same bounds).
pub struct Lowering {
    pub written: Pipeline,
    /// The big-M lowering, for `indicator` when the query is solved.
    bigm: Option<Pipeline>,
}

impl Lowering {
    pub fn new(
        net: &Network,
        bounds: Bounds,
        bounds_seconds: f64,
        encoding: Encoding,
        solve: bool,
    ) -> Result<Self, TaskError> {
        let bigm = match (solve, encoding) {
            (true, Encoding::Indicator) => Some(Pipeline::lower(net, bounds.clone(), bounds_seconds, Encoding::BigM)?),
            _ => None,
        };
        let written = Pipeline::lower(net, bounds, bounds_seconds, encoding)?;
        Ok(Lowering { written, bigm })
    }

    /// The lowering the solved model is built on (its columns are the solution's).
    pub fn solved(&self) -> &Pipeline {
        self.bigm.as_ref().unwrap_or(&self.written)
    }

    /// The model HiGHS solves for `written`, the task's model on [`Lowering::written`]; `build`
    /// makes the same task model on another lowering.
    pub(crate) fn for_highs<M: TaskModel>(&self, written: &M, build: impl FnOnce(&Pipeline) -> M) -> M {
        match &self.bigm {
            Some(p) => build(p),
            None => written.without_indicators(),
        }
    }
}

impl Lowering {
    /// [`Lowering::for_highs`] for a task whose `build` can fail.
    pub(crate) fn try_for_highs<M: TaskModel, E>(
        &self,
        written: &M,
        build: impl FnOnce(&Pipeline) -> Result<M, E>,
    ) -> Result<M, E> {
        match &self.bigm {
            Some(p) => build(p),
            None => Ok(written.without_indicators()),
        }
    }
}

/// A task's model, which HiGHS takes once its indicator constraints are gone.
pub(crate) trait TaskModel {
    fn without_indicators(&self) -> Self;
}

impl TaskModel for Milp {
    fn without_indicators(&self) -> Self {
        Milp::without_indicators(self)
    }
}
