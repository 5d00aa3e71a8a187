//! Free MPS writer.
//!
//! The file is the README §4 common subset: `NAME <model> FREE` (CBC needs `FREE`), `ROWS` with
//! `N obj` first, `COLUMNS` grouped by column with one entry per line and integer columns
//! between `MARKER` lines, an `RHS` header even when empty (SCIP and CBC reject a file without
//! one), `BOUNDS` with at most one entry per column side, `ENDATA`; no blank lines (GLPK), no
//! `OBJSENSE` (CBC 2.10 ignores it, GLPK rejects it), no `RANGES`. Indicator constraints add an
//! `INDICATORS` section, which only SCIP, Gurobi and CPLEX read.

mod writer;

pub use writer::Writer;

/// Options of the MPS writer.
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// Comment lines written first, each as `* <line>`; the writer adds the model's size and,
    /// for a maximisation or an objective offset, how to recover the true optimum.
    pub header: Vec<String>,
}
