//! The crate's top-level error: every module's error, for library users who drive several
//! modules and want one type. The binary's own usage errors live in [`crate::cli`].

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
    Hygiene(#[from] crate::lower::hygiene::HygieneError),
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
    #[error(transparent)]
    Vnnlib(#[from] crate::front::vnnlib::VnnlibError),
}
