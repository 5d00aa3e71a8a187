//! Tasks: thin layers over the compile pipeline. Each loads a network, runs a bounds pass,
//! lowers it, then adds its own objective and constraints to the lowered MILP, and optionally
//! writes, solves and replays. Tasks take validated config structs, never CLI types, so they are
//! the library API that compiler pipelines call; every task returns a report that renders
//! itself as text (`Display`) and serialises to JSON.
//!
//! Shared pieces, by topic: [`source`] (the network and image read once, with their
//! identities, and the lowering), [`region`] (the input box and the region around an image),
//! [`unit`] (single-unit optimisation for `visualize` and `range`), [`replay`] (checking solver
//! answers against the forward pass), [`output`] (model files and their headers) and [`report`]
//! (what every report shares).

pub mod adversarial;
mod attack;
pub mod bounds_file;
pub mod compile;
pub mod inspect;
pub mod output;
pub mod range;
pub mod region;
pub mod replay;
pub mod replay_file;
pub mod report;
pub mod source;
pub mod start;
pub mod unit;
pub mod verify;
pub mod visualize;

pub use crate::lower::Norm;
pub use output::tagged_path;
pub use region::InputRange;
pub use replay::REPLAY_TOLERANCE;
pub use report::{ModelInfo, NetworkInfo, Timing};
pub use source::{ImageSource, NetworkSource, Pipeline};
pub use unit::{Optimum, Point, UnitInfo};

use std::path::PathBuf;
use thiserror::Error;

/// Everything a task can fail with: its own checks, and the errors of the modules it drives.
#[derive(Debug, Error)]
pub enum TaskError {
    #[error(transparent)]
    Ir(#[from] crate::ir::IrError),
    #[error(transparent)]
    Onnx(#[from] crate::front::onnx::OnnxError),
    #[error(transparent)]
    Bounds(#[from] crate::bounds::BoundsError),
    #[error(transparent)]
    BoundsFile(#[from] crate::bounds::BoundsFileError),
    #[error(transparent)]
    Tighten(#[from] crate::tighten::TightenError),
    #[error(transparent)]
    Lower(#[from] crate::lower::LowerError),
    #[error(transparent)]
    Hygiene(#[from] crate::lower::hygiene::HygieneError),
    #[error(transparent)]
    Data(#[from] crate::data::DataError),
    #[error(transparent)]
    Solve(#[from] crate::solve::SolveError),
    #[error(transparent)]
    Write(#[from] crate::back::WriteError),
    #[error("cannot read {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("image {image} has {got} values, but network {network} takes {expected} inputs")]
    ImageSize {
        image: String,
        network: String,
        got: usize,
        expected: usize,
    },
    #[error("{what} {value} is out of range: the network has {count} outputs (0..{count})")]
    OutputIndex {
        what: &'static str,
        value: usize,
        count: usize,
    },
    #[error("the network has {count} output(s); an adversarial target needs at least 2 classes")]
    TooFewOutputs { count: usize },
    #[error("invalid input box [{lo}, {hi}]: the box must be finite with LO <= HI")]
    BadBox { lo: f64, hi: f64 },
    #[error(
        "replay failed: the solver's input gives class {predicted} (margin {margin:.3e}) through the network's \
         forward pass, not {wanted} with the required margin; the solver's outputs differ from the forward \
         pass by up to {max_diff:.3e}"
    )]
    ReplayMismatch {
        /// `target 3`, or `a class other than 7`.
        wanted: String,
        predicted: usize,
        margin: f64,
        max_diff: f64,
    },
    #[error(
        "replay failed: the solver's objective {solver} for {what} differs from the forward pass's {replayed} \
         by more than the tolerance {tolerance} (relative to 1 + |value|)"
    )]
    ObjectiveMismatch {
        what: String,
        solver: f64,
        replayed: f64,
        tolerance: f64,
    },
    #[error("replay failed: the solver's input lies at {norm} distance {distance} from the image, beyond {max}")]
    DistanceExceeded {
        norm: &'static str,
        distance: f64,
        max: f64,
    },
    #[error("distance {value} must be a finite number >= 0")]
    BadDistance { value: f64 },
    #[error(
        "no input is within distance {radius} of the image and inside the box [{lo}, {hi}]: input {input} is {value}"
    )]
    EmptyBall {
        input: usize,
        value: f64,
        radius: f64,
        lo: f64,
        hi: f64,
    },
    #[error("network {network} has no unit {spec}; {reason}. Layers (number, label, name, size): {layers}")]
    UnknownUnit {
        spec: String,
        network: String,
        reason: String,
        /// `0 N0 input 784, 1 N1 fc1 8, ...`.
        layers: String,
    },
    #[error("cannot draw {path}: the network's input (shape {shape:?}) is not an image")]
    NoPicture { path: PathBuf, shape: Vec<usize> },
    #[error("{summary}replay failed: the point does not satisfy the network or the model's goal (see above)")]
    ReplayFailed { summary: String },
    #[error("input bounds file {path}: {reason}")]
    InputBounds { path: PathBuf, reason: String },
    #[error("cannot write {path}: {reason}")]
    Target { path: String, reason: String },
    #[error("cannot write start file {path}: {reason}")]
    Start { path: String, reason: String },
    #[error("cannot replay {path}: {reason}")]
    Replay { path: PathBuf, reason: String },
    #[error("cannot write report {path}: {source}")]
    Report { path: PathBuf, source: std::io::Error },
    #[error(transparent)]
    Vnnlib(#[from] crate::front::vnnlib::VnnlibError),
    #[error(transparent)]
    Batch(#[from] verify::batch::BatchError),
    /// A setting of a task's config out of its range (`--jobs 0`, a negative time limit).
    #[error("{0}")]
    BadSetting(String),
}

/// Writes `text` to `path` atomically (a temporary file in the same directory, then a rename), or
/// to stdout when `path` is `-`.
pub fn write_text_atomic(path: &std::path::Path, text: &str) -> Result<(), TaskError> {
    use std::io::Write;
    let err = |source| TaskError::Report {
        path: path.to_path_buf(),
        source,
    };
    if path.as_os_str() == "-" {
        return std::io::stdout().write_all(text.as_bytes()).map_err(err);
    }
    crate::back::atomic::write_bytes(path, text.as_bytes()).map_err(err)
}
