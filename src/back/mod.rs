//! Back ends: writers from [`crate::milp::Milp`] to free MPS ([`mps`]) and CPLEX LP ([`lp`]).
//!
//! Both writers emit only the "common subset" of `shared/formats/README.md` §4, the constructs
//! that HiGHS, SCIP, Gurobi, CPLEX, CBC and GLPK were all seen to read identically. The choices
//! that subset forces, and that both writers therefore share:
//! - the file always *minimises*: a maximisation is written negated, and the objective offset
//!   is never written (several readers drop or flip it); both facts are stated in the header
//!   comment so a reader of the file can recover the true optimum;
//! - numbers use [`format_number`] (shortest round trip, exponent form for tiny and huge
//!   values), infinite bounds are expressed structurally (`MI`/`PL`/`FR`, `-inf <=`, `free`);
//! - the objective and every row carry at least one term (`0 <first column>` when empty),
//!   because GLPK refuses an empty LP expression;
//! - names are checked by [`validate`] against the portable name rules before anything is
//!   written, so a file is never half right.
//!
//! Output is deterministic: the same [`Milp`] always gives the same bytes (columns and rows in
//! model order, terms sorted by column, one number format). [`write_file`] replaces its target
//! atomically and never leaves a partial or temporary file behind.

pub mod atomic;
mod chunks;
mod cursor;
pub mod gzip;
pub mod lp;
pub mod mps;
mod names;
mod num;
pub mod read;
pub mod target;

use crate::milp::{Col, ColKind, Column, Indicator, Milp, ObjSense, Row};
use rayon::prelude::*;
use std::collections::HashSet;
use std::fmt;
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::Path;
use thiserror::Error;

/// The two text formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// Free MPS (`NAME <model> FREE`).
    Mps,
    /// CPLEX LP.
    Lp,
}

impl Format {
    /// The format a file name asks for: `.mps`, `.mps.gz`, `.lp`, `.lp.gz` (any letter case).
    /// Solvers pick their reader from the same inner extension, so the name and the content
    /// must agree.
    pub fn from_path(path: &str) -> Option<Format> {
        let lower = path.to_ascii_lowercase();
        let inner = lower.strip_suffix(".gz").unwrap_or(&lower);
        if inner.ends_with(".mps") {
            Some(Format::Mps)
        } else if inner.ends_with(".lp") {
            Some(Format::Lp)
        } else {
            None
        }
    }

    /// The usual file extension, without the dot.
    pub fn extension(self) -> &'static str {
        match self {
            Format::Mps => "mps",
            Format::Lp => "lp",
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Format::Mps => "MPS",
            Format::Lp => "LP",
        })
    }
}

/// Options shared by both formats.
#[derive(Clone, Debug, Default)]
pub struct WriteOptions {
    /// Comment lines put at the top of the file before the writer's own (model size, objective
    /// sense and offset), e.g. the tool version, the source file's sha256 and the options used.
    /// A line containing line breaks becomes several comment lines.
    pub header: Vec<String>,
}

/// Why a model cannot be written portably. Raised before any byte is written.
#[derive(Debug, Error, PartialEq)]
pub enum ModelError {
    #[error("the model has no columns (a file needs at least one to carry the objective)")]
    NoColumns,
    #[error("{what} name `{name}` {reason}")]
    BadName {
        what: String,
        name: String,
        reason: &'static str,
    },
    #[error("{what} name `{name}` is used twice")]
    DuplicateName { what: &'static str, name: String },
    #[error("{what}: refers to column {index}, but the model has {n_cols} columns")]
    ColumnOutOfRange { what: String, index: usize, n_cols: usize },
    #[error("{what}: value {value} is not finite")]
    NotFinite { what: String, value: f64 },
    #[error(
        "column `{name}`: bounds [{lo}, {hi}] cannot be written (NaN, a lower bound of +inf or an upper bound of -inf)"
    )]
    BadBounds { name: String, lo: f64, hi: f64 },
    #[error("indicator `{name}`: its switch `{col}` is not a binary column")]
    IndicatorNotBinary { name: String, col: String },
}

/// Errors of [`write_file`]; each names the file it concerns.
#[derive(Debug, Error)]
pub enum WriteError {
    #[error(
        "cannot tell the format of {path}: the name should end in .mps, .mps.gz, .lp or .lp.gz (or give the format)"
    )]
    UnknownFormat { path: String },
    #[error("writing to standard output (-) needs an explicit format (MPS or LP)")]
    StdoutNeedsFormat,
    #[error("cannot write {path} as {format}: solvers would read it as {implied} because of its extension")]
    FormatMismatch {
        path: String,
        format: Format,
        implied: Format,
    },
    #[error("cannot write {path}: {error}")]
    InvalidModel { path: String, error: ModelError },
    #[error("cannot write {path}: {error}")]
    Io { path: String, error: io::Error },
}

/// Longest name the writers accept (CoinLpIO's limit; every other reader takes more).
pub const MAX_NAME_LEN: usize = 100;

/// Longest text [`format_number`] produces (`-1.2345678901234567e-308`); the LP writer's line
/// wrapping relies on it.
pub const MAX_NUMBER_LEN: usize = 24;

/// Names a reader could take for a keyword: LP section and bound keywords, MPS section names
/// and the MARKER card. Compared without regard to case.
const RESERVED: &[&str] = &[
    "min",
    "max",
    "minimize",
    "maximize",
    "minimise",
    "maximise",
    "minimum",
    "maximum",
    "subject",
    "such",
    "that",
    "to",
    "st",
    "bound",
    "bounds",
    "gen",
    "general",
    "generals",
    "int",
    "integer",
    "integers",
    "bin",
    "binary",
    "binaries",
    "semi",
    "semis",
    "semicontinuous",
    "sos",
    "sos1",
    "sos2",
    "end",
    "free",
    "inf",
    "infinity",
    "name",
    "rows",
    "columns",
    "rhs",
    "ranges",
    "endata",
    "indicators",
    "objsense",
    "objsence",
    "marker",
];

/// Why `name` is not in the portable subset (README §4), or `None` when it is.
fn name_problem(name: &str) -> Option<&'static str> {
    let Some(&first) = name.as_bytes().first() else {
        return Some("is empty");
    };
    if name.len() > MAX_NAME_LEN {
        return Some("is longer than 100 characters");
    }
    if !first.is_ascii_alphabetic() || first == b'e' || first == b'E' {
        return Some("must start with an ASCII letter other than e/E (CPLEX reads `2 e1` as a number)");
    }
    let mut underscore = false;
    if !name.bytes().all(|b| {
        underscore |= b == b'_';
        b.is_ascii_alphanumeric() || b == b'_'
    }) {
        return Some("may contain only ASCII letters, digits and `_`");
    }
    // No keyword has a `_`, and every generated name does: the list is read only for the rest.
    if !underscore && RESERVED.iter().any(|k| k.eq_ignore_ascii_case(name)) {
        return Some("is a keyword of the MPS or LP format");
    }
    None
}

/// The objective row's name in both formats; no row may use it.
pub(crate) const OBJ_ROW: &str = "obj";

/// Checks everything the writers rely on: portable, unique names (columns; rows and indicators
/// together, which share the row namespace with the objective row `obj`), column indices in
/// range, finite coefficients and right-hand sides, writable bounds, binary indicator switches.
pub fn validate(milp: &Milp) -> Result<(), ModelError> {
    let cols = milp.cols();
    if cols.is_empty() {
        return Err(ModelError::NoColumns);
    }
    let n_cols = cols.len();
    if let Some(reason) = name_problem(&milp.name) {
        return Err(ModelError::BadName {
            what: "model".into(),
            name: milp.name.clone(),
            reason,
        });
    }
    // Generated names refused each repeat as they were added ([`Milp::with_generated_names`]):
    // hashing every name again was a fifth of the serial start of a conv net's write. With no
    // set to fill, every item is checked on its own, on rayon's threads, and the first failure
    // in model order is the one reported, as in the serial check of hand-built models.
    let unique = milp.names_are_unique();
    if unique {
        let first = cols
            .par_iter()
            .enumerate()
            .find_map_first(|(j, col)| check_col(j, col, false).err());
        first.map_or(Ok(()), Err)?;
    } else {
        let mut seen: HashSet<&str> = HashSet::with_capacity(n_cols);
        for (j, col) in cols.iter().enumerate() {
            check_col(j, col, !seen.insert(&col.name))?;
        }
    }
    check_terms(cols, &|| "objective".to_string(), &milp.objective().terms)?;
    // Numbered within their own kind, as the messages say "row 3" or "indicator 0".
    fn rows((i, r): (usize, &Row)) -> Item<'_> {
        ("row", i, &r.name, &r.terms, r.rhs)
    }
    fn inds((i, r): (usize, &Indicator)) -> Item<'_> {
        ("indicator", i, &r.name, &r.terms, r.rhs)
    }
    if unique {
        // The objective's name is still not theirs to take.
        let row =
            |(kind, i, name, terms, rhs): Item<'_>| check_row(cols, kind, i, name, terms, rhs, name == OBJ_ROW).err();
        let first = (milp.rows().par_iter().enumerate().map(rows).find_map_first(row))
            .or_else(|| milp.indicators().par_iter().enumerate().map(inds).find_map_first(row));
        first.map_or(Ok(()), Err)?;
    } else {
        let mut seen: HashSet<&str> = HashSet::with_capacity(milp.rows().len() + milp.indicators().len() + 1);
        seen.insert(OBJ_ROW);
        let all = (milp.rows().iter().enumerate().map(rows)).chain(milp.indicators().iter().enumerate().map(inds));
        for (kind, i, name, terms, rhs) in all {
            check_row(cols, kind, i, name, terms, rhs, !seen.insert(name))?;
        }
    }
    for ind in milp.indicators() {
        let b = ind.binary.index();
        if b >= n_cols {
            return Err(ModelError::ColumnOutOfRange {
                what: format!("indicator `{}`", ind.name),
                index: b,
                n_cols,
            });
        }
        if cols[b].kind != ColKind::Binary {
            return Err(ModelError::IndicatorNotBinary {
                name: ind.name.clone(),
                col: cols[b].name.clone(),
            });
        }
    }
    Ok(())
}

/// A row or an indicator as [`check_row`] reads it: kind, index, name, terms, right-hand side.
type Item<'a> = (&'static str, usize, &'a String, &'a [(Col, f64)], f64);

/// Column `j`'s name and bounds; `repeat`: its name is an earlier column's.
fn check_col(j: usize, col: &Column, repeat: bool) -> Result<(), ModelError> {
    if let Some(reason) = name_problem(&col.name) {
        return Err(ModelError::BadName {
            what: format!("column {j}"),
            name: col.name.clone(),
            reason,
        });
    }
    if repeat {
        return Err(ModelError::DuplicateName {
            what: "column",
            name: col.name.clone(),
        });
    }
    if col.lo.is_nan() || col.hi.is_nan() || col.lo == f64::INFINITY || col.hi == f64::NEG_INFINITY {
        return Err(ModelError::BadBounds {
            name: col.name.clone(),
            lo: col.lo,
            hi: col.hi,
        });
    }
    Ok(())
}

/// Row or indicator `i` (of `kind`): its name, terms and right-hand side; `repeat`: its name is
/// taken (by an earlier row or indicator, or the objective).
fn check_row(
    cols: &[Column],
    kind: &str,
    i: usize,
    name: &str,
    terms: &[(Col, f64)],
    rhs: f64,
    repeat: bool,
) -> Result<(), ModelError> {
    let what = || format!("{kind} {i} `{name}`");
    if let Some(reason) = name_problem(name) {
        return Err(ModelError::BadName {
            what: format!("{kind} {i}"),
            name: name.to_string(),
            reason,
        });
    }
    if repeat {
        return Err(ModelError::DuplicateName {
            what: "row",
            name: name.to_string(),
        });
    }
    check_terms(cols, &what, terms)?;
    if !rhs.is_finite() {
        return Err(ModelError::NotFinite {
            what: format!("{}, right-hand side", what()),
            value: rhs,
        });
    }
    Ok(())
}

/// Every term names a column of the model and has a finite coefficient.
fn check_terms(cols: &[Column], what: &dyn Fn() -> String, terms: &[(Col, f64)]) -> Result<(), ModelError> {
    let n_cols = cols.len();
    for &(c, v) in terms {
        if c.index() >= n_cols {
            return Err(ModelError::ColumnOutOfRange {
                what: what(),
                index: c.index(),
                n_cols,
            });
        }
        if !v.is_finite() {
            return Err(ModelError::NotFinite {
                what: format!("{}, coefficient of `{}`", what(), cols[c.index()].name),
                value: v,
            });
        }
    }
    Ok(())
}

/// Shortest text that reads back as exactly `v`, in exponent form (Rust `{:e}`, e.g. `1e-30`,
/// `1.5e15`) when `|v| < 1e-4` or `|v| >= 1e15` and plain otherwise (`0.1`, `123.456`, `-3`).
/// CoinMpsIO fails on plain decimals with ~25 fraction digits, and every tested reader takes
/// Rust's exponent form (README §3.9). Both zeros print as `0`. Infinite values have no text:
/// the writers express infinite bounds structurally, and [`validate`] rejects infinite
/// coefficients.
pub fn format_number(v: f64) -> String {
    Num(v).to_string()
}

/// [`format_number`] without the allocation.
#[derive(Clone, Copy)]
pub(crate) struct Num(pub f64);

impl fmt::Display for Num {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut text = Vec::with_capacity(MAX_NUMBER_LEN);
        num::push_num(&mut text, self.0);
        f.write_str(std::str::from_utf8(&text).expect("numbers are ASCII"))
    }
}

/// True when a column is written as a binary (`BV` / `Binaries`). A binary column whose bounds
/// were changed away from `[0, 1]` (fixed by a task, say) is written as a general integer with
/// explicit bounds instead, because a binary declaration would reset its bounds to `[0, 1]`.
pub(crate) fn writes_as_binary(col: &Column) -> bool {
    col.kind == ColKind::Binary && col.lo == 0.0 && col.hi == 1.0
}

/// The objective as the file states it (its terms sorted by column, as [`Milp`] keeps them),
/// negated for a maximisation.
pub(crate) fn file_objective(milp: &Milp) -> Vec<(Col, f64)> {
    let mut terms = milp.objective().terms.clone();
    if milp.objective().sense == ObjSense::Maximize {
        for t in &mut terms {
            t.1 = -t.1;
        }
    }
    terms
}

/// The comment lines at the top of a file (without the comment marker): the caller's lines,
/// then the model's size and, when the file's optimum is not the model's, how to recover it.
pub(crate) fn header_lines(milp: &Milp, user: &[String]) -> Vec<String> {
    let mut lines: Vec<String> = user
        .iter()
        .flat_map(|l| l.split('\n'))
        .map(|l| l.trim_end().to_string())
        .collect();
    let n_bin = milp.cols().iter().filter(|c| writes_as_binary(c)).count();
    let n_int = milp.cols().iter().filter(|c| c.kind != ColKind::Continuous).count() - n_bin;
    lines.push(format!(
        "model {}: {} columns ({} binary, {} general integer), {} rows, {} indicator constraints",
        milp.name,
        milp.cols().len(),
        n_bin,
        n_int,
        milp.rows().len(),
        milp.indicators().len()
    ));
    let offset = milp.objective().offset;
    match (milp.objective().sense, offset == 0.0) {
        (ObjSense::Minimize, true) => {}
        (ObjSense::Minimize, false) => lines.push(format!(
            "objective: minimize; offset {} not written: optimum = file optimum + {}",
            Num(offset),
            Num(offset)
        )),
        (ObjSense::Maximize, true) => {
            lines.push("objective: maximize, written negated as minimize: optimum = -(file optimum)".into())
        }
        (ObjSense::Maximize, false) => lines.push(format!(
            "objective: maximize, written negated as minimize; offset {} not written: optimum = {} - (file optimum)",
            Num(offset),
            Num(offset)
        )),
    }
    if !milp.indicators().is_empty() {
        lines.push("indicator constraints are read by SCIP, Gurobi and CPLEX (not HiGHS, CBC or GLPK)".into());
    }
    lines
}

/// The output sink both writers emit through: buffered, one line per call, `\n` endings.
pub(crate) struct Sink<'a> {
    out: BufWriter<&'a mut (dyn Write + Send)>,
}

impl<'a> Sink<'a> {
    pub(crate) fn new(out: &'a mut (dyn Write + Send)) -> Self {
        Sink {
            out: BufWriter::with_capacity(1 << 16, out),
        }
    }

    /// Writes one non-empty line (GLPK's MPS reader rejects blank lines).
    pub(crate) fn line(&mut self, args: fmt::Arguments<'_>) -> io::Result<()> {
        self.out.write_fmt(args)?;
        self.out.write_all(b"\n")
    }

    /// Writes bytes that are whole lines already (a chunk of a section).
    pub(crate) fn bytes(&mut self, text: &[u8]) -> io::Result<()> {
        debug_assert!(text.is_empty() || text.ends_with(b"\n"));
        self.out.write_all(text)
    }

    /// Writes an already built line.
    pub(crate) fn text(&mut self, line: &str) -> io::Result<()> {
        debug_assert!(!line.is_empty() && !line.contains('\n'));
        self.out.write_all(line.as_bytes())?;
        self.out.write_all(b"\n")
    }

    /// Writes the header as whole-line comments starting with `marker` (`*` or `\`).
    pub(crate) fn comments(&mut self, marker: char, lines: &[String]) -> io::Result<()> {
        for l in lines {
            if l.is_empty() {
                self.line(format_args!("{marker}"))?;
            } else {
                self.line(format_args!("{marker} {l}"))?;
            }
        }
        Ok(())
    }

    pub(crate) fn finish(mut self) -> io::Result<()> {
        self.out.flush()
    }
}

/// Turns a [`validate`] failure into the `io::Error` that [`write()`] returns.
pub(crate) fn invalid_input(e: ModelError) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, e)
}

/// Writes `milp` in `format` to `out`. The model is checked with [`validate`] first; a failure
/// is returned as an `InvalidInput` error before anything is written. `out` is `Send` because
/// the sections are written from rayon's threads, by whichever is free (see [`chunks`]).
pub fn write(milp: &Milp, format: Format, opts: &WriteOptions, out: &mut (dyn Write + Send)) -> io::Result<()> {
    validate(milp).map_err(invalid_input)?;
    write_validated(milp, format, opts, out)
}

/// [`write()`] of a model already validated.
fn write_validated(milp: &Milp, format: Format, opts: &WriteOptions, out: &mut (dyn Write + Send)) -> io::Result<()> {
    match format {
        Format::Mps => mps::Writer::new(mps::Options {
            header: opts.header.clone(),
        })
        .write_validated(milp, out),
        Format::Lp => lp::Writer::new(lp::Options {
            header: opts.header.clone(),
            ..lp::Options::default()
        })
        .write_validated(milp, out),
    }
}

/// The text [`write()`] would produce.
///
/// # Panics
/// If `milp` fails [`validate`]: models come from the lowering, which generates valid names
/// and finite numbers, so this is a bug in the code that built the model. Use [`write()`] or
/// [`write_file`] to get the error as a value.
pub fn write_string(milp: &Milp, format: Format, opts: &WriteOptions) -> String {
    let mut buf = Vec::new();
    if let Err(e) = write(milp, format, opts, &mut buf) {
        panic!("cannot write the model as {format}: {e}");
    }
    String::from_utf8(buf).expect("the writers emit UTF-8 (ASCII names, UTF-8 header lines)")
}

/// Writes `milp` to `path`, or to standard output when `path` is `-` (then `format` must be
/// given). Otherwise the format is `format` or, when `None`, the one the name asks for
/// ([`Format::from_path`]); a name ending in `.gz` is gzip-compressed.
///
/// The write is atomic: the text goes to a temporary file in the target's directory, which is
/// flushed (and synced, when outputs are [`atomic::durable`]) and then renamed over `path`. On any error nothing is left behind: no
/// partial file, no temporary file, and an existing file at `path` is untouched.
pub fn write_file(milp: &Milp, path: &str, format: Option<Format>, opts: &WriteOptions) -> Result<(), WriteError> {
    if path == "-" {
        let format = format.ok_or(WriteError::StdoutNeedsFormat)?;
        let stdout_err = |error| WriteError::Io {
            path: "standard output".into(),
            error,
        };
        validate(milp).map_err(|error| WriteError::InvalidModel {
            path: "standard output".into(),
            error,
        })?;
        // `Stdout` itself, not its lock, which must stay on the thread that took it.
        let mut stdout = io::stdout();
        write_validated(milp, format, opts, &mut stdout).map_err(stdout_err)?;
        return stdout.flush().map_err(stdout_err);
    }
    let format = match (format, Format::from_path(path)) {
        (Some(format), Some(implied)) if format != implied => {
            return Err(WriteError::FormatMismatch {
                path: path.into(),
                format,
                implied,
            })
        }
        (Some(format), _) | (None, Some(format)) => format,
        (None, None) => return Err(WriteError::UnknownFormat { path: path.into() }),
    };
    validate(milp).map_err(|error| WriteError::InvalidModel {
        path: path.into(),
        error,
    })?;
    let io_err = |error| WriteError::Io {
        path: path.into(),
        error,
    };
    // From here on, dropping `tmp` (on any early return) deletes the temporary file, and so
    // does SIGINT / SIGTERM ([`atomic`]).
    let mut tmp = atomic::TempOutput::create(Path::new(path)).map_err(io_err)?;
    let gzip = path.to_ascii_lowercase().ends_with(".gz");
    write_into(milp, format, opts, tmp.file_mut(), gzip).map_err(io_err)?;
    tmp.commit().map_err(io_err)
}

/// The body of [`write_file`]: the text of a validated model, gzip-compressed or not, flushed
/// into `file`.
fn write_into(milp: &Milp, format: Format, opts: &WriteOptions, file: &mut File, gzip: bool) -> io::Result<()> {
    let mut file = atomic::GrowingFile::new(file);
    if gzip {
        let mut enc = gzip::ParallelGz::new(BufWriter::new(&mut file));
        write_validated(milp, format, opts, &mut enc)?;
        enc.finish()?.flush()?;
    } else {
        let mut out = BufWriter::new(&mut file);
        write_validated(milp, format, opts, &mut out)?;
        out.flush()?;
    }
    file.finish()
}
