//! CPLEX LP writer.
//!
//! The file is the README §4 common subset: whole-line `\` comments, `Minimize` (a maximisation
//! is written negated, as in the MPS writer, so both files state the same problem), `obj:`,
//! `Subject To` with `<=`, `>=`, `=` rows whose constants are only on the right-hand side,
//! terms written `+ 2.5 x_1` with blanks between sign, coefficient and name, long rows wrapped
//! onto continuation lines that begin with a sign, `Bounds` that name a lower bound whenever it
//! is not 0 and never use `infinity` or an unsigned `inf`, `Generals`, `Binaries`, `End`.
//! Indicator constraints (`name: z = 1 -> + x <= 0`) are read by SCIP, Gurobi and CPLEX only.
//! A model without rows gets the always-true row `no_rows: 0 <first column> >= 0`, because GLPK
//! refuses an empty `Subject To` section.

mod writer;

pub use writer::Writer;

/// Options of the LP writer.
#[derive(Clone, Debug)]
pub struct Options {
    /// Comment lines written first, each as `\ <line>`; the writer adds the model's size and,
    /// for a maximisation or an objective offset, how to recover the true optimum.
    pub header: Vec<String>,
    /// Rows and the objective are wrapped so that a line holds at most this many characters
    /// (a single term may exceed it). Clamped to `40..=200`, which keeps every line below the
    /// 255 characters some readers allow even with 100-character names.
    pub line_width: usize,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            header: Vec::new(),
            line_width: 80,
        }
    }
}
