use super::Options;
use crate::back::chunks::write_items;
use crate::back::names::Names;
use crate::back::num::push_num;
use crate::back::{file_objective, header_lines, invalid_input, validate, writes_as_binary, Sink, OBJ_ROW};
use crate::milp::{Col, ColKind, Column, Milp, Sense};
use std::io::{self, Write};

/// Writes a [`Milp`] as free MPS.
#[derive(Clone, Debug, Default)]
pub struct Writer {
    options: Options,
}

/// One side of a column's bounds as a BOUNDS entry: the type and, for most types, a value.
type BoundEntry = (&'static str, Option<f64>);

impl Writer {
    pub fn new(options: Options) -> Self {
        Writer { options }
    }

    /// Writes `milp` to `out`; a model that fails [`validate`] is an `InvalidInput` error and
    /// nothing is written.
    pub fn write(&self, milp: &Milp, out: &mut dyn Write) -> io::Result<()> {
        validate(milp).map_err(invalid_input)?;
        let mut sink = Sink::new(out);
        self.write_model(milp, &mut sink)?;
        sink.finish()
    }

    /// The text [`Writer::write`] produces.
    ///
    /// # Panics
    /// If `milp` fails [`validate`] (see [`crate::back::write_string`]).
    pub fn write_string(&self, milp: &Milp) -> String {
        let mut buf = Vec::new();
        if let Err(e) = self.write(milp, &mut buf) {
            panic!("cannot write the model as MPS: {e}");
        }
        String::from_utf8(buf).expect("the writer emits UTF-8")
    }

    fn write_model(&self, milp: &Milp, sink: &mut Sink<'_>) -> io::Result<()> {
        let cols = milp.cols();
        let rows = milp.rows();
        let inds = milp.indicators();

        sink.comments('*', &header_lines(milp, &self.options.header))?;
        sink.line(format_args!("NAME {} FREE", milp.name))?;

        // Row positions: 0 is the objective, then the linear rows, then one row per indicator
        // (the INDICATORS section turns those into the indicators' linear parts).
        sink.text("ROWS")?;
        sink.line(format_args!(" N {OBJ_ROW}"))?;
        let row_names: Vec<&str> = std::iter::once(OBJ_ROW)
            .chain(rows.iter().map(|r| r.name.as_str()))
            .chain(inds.iter().map(|r| r.name.as_str()))
            .collect();
        let senses: Vec<Sense> = rows
            .iter()
            .map(|r| r.sense)
            .chain(inds.iter().map(|r| r.sense))
            .collect();
        let n_rows = senses.len();
        write_items(
            sink,
            n_rows,
            |i| row_names[i + 1].len() + 4,
            |i, out| {
                out.push(b' ');
                out.push(match senses[i] {
                    Sense::Le => b'L',
                    Sense::Ge => b'G',
                    Sense::Eq => b'E',
                });
                out.push(b' ');
                out.extend_from_slice(row_names[i + 1].as_bytes());
                out.push(b'\n');
            },
        )?;

        let objective = file_objective(milp);
        let matrix = ByColumn::new(
            cols.len(),
            std::iter::once(&objective[..])
                .chain(rows.iter().map(|r| &r.terms[..]))
                .chain(inds.iter().map(|r| &r.terms[..])),
        );
        drop(objective);
        let col_names = Names::new(cols.iter().map(|c| c.name.as_str()));
        let matrix_rows = Names::new(row_names.iter().copied());

        sink.text("COLUMNS")?;
        let integer = |j: usize| cols[j].kind != ColKind::Continuous;
        write_items(
            sink,
            cols.len(),
            |j| (matrix.len(j).max(1)) * (cols[j].name.len() + 26),
            |j, out| {
                // A column's MARKER line depends only on its own kind and its predecessor's,
                // so every column formats on its own.
                let before = j > 0 && integer(j - 1);
                if integer(j) != before {
                    let kind: &[u8] = if integer(j) { b"INTORG" } else { b"INTEND" };
                    out.extend_from_slice(b"    MARKER 'MARKER' '");
                    out.extend_from_slice(kind);
                    out.extend_from_slice(b"'\n");
                }
                let (pos, vals) = matrix.column(j);
                if pos.is_empty() {
                    // Every column must appear in COLUMNS to exist at all.
                    out.extend_from_slice(b"    ");
                    col_names.push(out, j);
                    out.push(b' ');
                    out.extend_from_slice(OBJ_ROW.as_bytes());
                    out.extend_from_slice(b" 0\n");
                }
                for (&p, &v) in pos.iter().zip(vals) {
                    out.extend_from_slice(b"    ");
                    col_names.push(out, j);
                    out.push(b' ');
                    matrix_rows.push(out, p as usize);
                    out.push(b' ');
                    push_num(out, v);
                    out.push(b'\n');
                }
            },
        )?;
        if cols.last().is_some_and(|c| c.kind != ColKind::Continuous) {
            sink.text("    MARKER 'MARKER' 'INTEND'")?;
        }
        drop((matrix, col_names, matrix_rows));

        // Always present (SCIP and CBC reject a file without it); never on the objective row,
        // whose right-hand side GLPK reads with the opposite sign.
        sink.text("RHS")?;
        let rhs: Vec<f64> = rows.iter().map(|r| r.rhs).chain(inds.iter().map(|r| r.rhs)).collect();
        write_items(
            sink,
            n_rows,
            |i| row_names[i + 1].len() + 30,
            |i, out| {
                if rhs[i] != 0.0 {
                    out.extend_from_slice(b"    RHS ");
                    out.extend_from_slice(row_names[i + 1].as_bytes());
                    out.push(b' ');
                    push_num(out, rhs[i]);
                    out.push(b'\n');
                }
            },
        )?;

        sink.text("BOUNDS")?;
        write_items(
            sink,
            cols.len(),
            |j| 2 * (cols[j].name.len() + 34),
            |j, out| {
                let col = &cols[j];
                for (kind, value) in bound_entries(col).into_iter().flatten() {
                    out.push(b' ');
                    out.extend_from_slice(kind.as_bytes());
                    out.extend_from_slice(b" BND ");
                    out.extend_from_slice(col.name.as_bytes());
                    if let Some(v) = value {
                        out.push(b' ');
                        push_num(out, v);
                    }
                    out.push(b'\n');
                }
            },
        )?;

        if !inds.is_empty() {
            sink.text("INDICATORS")?;
            for ind in inds {
                let value = u8::from(ind.value);
                sink.line(format_args!(
                    " IF {} {} {value}",
                    ind.name,
                    cols[ind.binary.index()].name
                ))?;
            }
        }
        sink.text("ENDATA")
    }
}

/// The matrix by column (CSC), built by a counting sort of the row-major terms: per entry a
/// `u32` row position and the `f64` value, 12 bytes, no per-entry objects. Entries of a column
/// are in row-position order. A row without terms (and an empty objective) gets an explicit 0
/// in the first column, as the LP writer writes `0 <first column>`.
struct ByColumn {
    /// `start[j]..start[j + 1]` are column `j`'s entries.
    start: Vec<usize>,
    pos: Vec<u32>,
    val: Vec<f64>,
}

impl ByColumn {
    fn new<'a>(n_cols: usize, lists: impl Iterator<Item = &'a [(Col, f64)]> + Clone) -> Self {
        let mut start = vec![0usize; n_cols + 1];
        for terms in lists.clone() {
            if terms.is_empty() {
                start[1] += 1;
            }
            for &(c, _) in terms {
                start[c.index() + 1] += 1;
            }
        }
        for j in 0..n_cols {
            start[j + 1] += start[j];
        }
        let nnz = start[n_cols];
        let mut pos = vec![0u32; nnz];
        let mut val = vec![0f64; nnz];
        let mut next = start.clone();
        for (p, terms) in lists.enumerate() {
            // Row positions fit: the model holds fewer than 2^32 rows and indicators (their
            // handles are u32), and the objective is one more.
            let p = u32::try_from(p).expect("fewer than 2^32 rows");
            let mut put = |c: usize, v: f64| {
                let k = &mut next[c];
                pos[*k] = p;
                val[*k] = v;
                *k += 1;
            };
            if terms.is_empty() {
                put(0, 0.0);
            }
            for &(c, v) in terms {
                put(c.index(), v);
            }
        }
        ByColumn { start, pos, val }
    }

    fn len(&self, j: usize) -> usize {
        self.start[j + 1] - self.start[j]
    }

    fn column(&self, j: usize) -> (&[u32], &[f64]) {
        let r = self.start[j]..self.start[j + 1];
        (&self.pos[r.clone()], &self.val[r])
    }
}

/// The BOUNDS entries of a column: at most one per side, since CPLEX, CBC and GLPK reject a
/// repeated side and HiGHS and Gurobi keep the first (README §1).
fn bound_entries(col: &Column) -> [Option<BoundEntry>; 2] {
    let (lo, hi) = (col.lo, col.hi);
    if writes_as_binary(col) {
        return [Some(("BV", None)), None];
    }
    if lo == hi {
        return [Some(("FX", Some(lo))), None];
    }
    let lower = if lo == f64::NEG_INFINITY {
        ("MI", None)
    } else {
        ("LO", Some(lo))
    };
    let upper = if hi == f64::INFINITY {
        ("PL", None)
    } else {
        ("UP", Some(hi))
    };
    if col.kind != ColKind::Continuous {
        // Integers between MARKER lines default to binary everywhere, and GLPK replaces only
        // the side that is written: both sides, always.
        return [Some(lower), Some(upper)];
    }
    if lo == f64::NEG_INFINITY && hi == f64::INFINITY {
        return [Some(("FR", None)), None];
    }
    // A negative upper bound alone makes CPLEX, Gurobi and CBC set the lower bound to -inf
    // while HiGHS, SCIP and GLPK keep 0: name the lower side then, even when it is 0.
    [
        (lo != 0.0 || hi < 0.0).then_some(lower),
        (hi != f64::INFINITY).then_some(upper),
    ]
}
