//! The crate's top-level error: every module's error, shown once by the binary.

use thiserror::Error;

#[derive(Debug, Error)]
pub enum Error {
    #[error(transparent)]
    Ir(#[from] crate::ir::IrError),
    #[error(transparent)]
    Bounds(#[from] crate::bounds::BoundsError),
    #[error(transparent)]
    BoundsFile(#[from] crate::bounds::BoundsFileError),
    #[error(transparent)]
    Tighten(#[from] crate::tighten::TightenError),
    #[error(transparent)]
    Lower(#[from] crate::lower::LowerError),
    #[error(transparent)]
    Task(#[from] crate::tasks::TaskError),
    #[error(transparent)]
    Data(#[from] crate::data::DataError),
    #[error(transparent)]
    Solve(#[from] crate::solve::SolveError),
    #[error(transparent)]
    Write(#[from] crate::back::WriteError),
    #[error(transparent)]
    Onnx(#[from] crate::front::onnx::OnnxError),
    /// Errors of the command line's own checks (a combination of flags that makes no sense).
    #[error("{0}")]
    Usage(String),
}
