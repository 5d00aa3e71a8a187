use super::Options;
use crate::back::{file_objective, header_lines, invalid_input, validate, writes_as_binary, Num, Sink, OBJ_ROW};
use crate::milp::{ColKind, Column, Milp, Sense};
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
        let senses = rows.iter().map(|r| r.sense).chain(inds.iter().map(|r| r.sense));
        for (name, sense) in row_names[1..].iter().zip(senses) {
            let t = match sense {
                Sense::Le => 'L',
                Sense::Ge => 'G',
                Sense::Eq => 'E',
            };
            sink.line(format_args!(" {t} {name}"))?;
        }

        // The matrix by column. Entries are generated in row-position order and the sort is
        // stable, so each column's entries stay in row order. A row without terms (and an empty
        // objective) gets an explicit 0 in the first column, as the LP writer writes
        // `0 <first column>`.
        let objective = file_objective(milp);
        let mut entries: Vec<(usize, usize, f64)> = Vec::new();
        let all_terms = std::iter::once(&objective[..])
            .chain(rows.iter().map(|r| &r.terms[..]))
            .chain(inds.iter().map(|r| &r.terms[..]));
        for (pos, terms) in all_terms.enumerate() {
            if terms.is_empty() {
                entries.push((0, pos, 0.0));
            }
            entries.extend(terms.iter().map(|&(c, v)| (c.index(), pos, v)));
        }
        entries.sort_by_key(|e| e.0);

        sink.text("COLUMNS")?;
        let mut next = 0;
        let mut in_marker = false;
        for (j, col) in cols.iter().enumerate() {
            let integer = col.kind != ColKind::Continuous;
            if integer != in_marker {
                let kind = if integer { "INTORG" } else { "INTEND" };
                sink.line(format_args!("    MARKER 'MARKER' '{kind}'"))?;
                in_marker = integer;
            }
            let start = next;
            while next < entries.len() && entries[next].0 == j {
                let (_, pos, v) = entries[next];
                sink.line(format_args!("    {} {} {}", col.name, row_names[pos], Num(v)))?;
                next += 1;
            }
            if next == start {
                // Every column must appear in COLUMNS to exist at all.
                sink.line(format_args!("    {} {OBJ_ROW} 0", col.name))?;
            }
        }
        if in_marker {
            sink.text("    MARKER 'MARKER' 'INTEND'")?;
        }

        // Always present (SCIP and CBC reject a file without it); never on the objective row,
        // whose right-hand side GLPK reads with the opposite sign.
        sink.text("RHS")?;
        let rhs = rows.iter().map(|r| r.rhs).chain(inds.iter().map(|r| r.rhs));
        for (name, v) in row_names[1..].iter().zip(rhs) {
            if v != 0.0 {
                sink.line(format_args!("    RHS {name} {}", Num(v)))?;
            }
        }

        sink.text("BOUNDS")?;
        for col in cols {
            for (kind, value) in bound_entries(col) {
                match value {
                    Some(v) => sink.line(format_args!(" {kind} BND {} {}", col.name, Num(v)))?,
                    None => sink.line(format_args!(" {kind} BND {}", col.name))?,
                }
            }
        }

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

/// The BOUNDS entries of a column: at most one per side, since CPLEX, CBC and GLPK reject a
/// repeated side and HiGHS and Gurobi keep the first (README §1).
fn bound_entries(col: &Column) -> Vec<BoundEntry> {
    let (lo, hi) = (col.lo, col.hi);
    if writes_as_binary(col) {
        return vec![("BV", None)];
    }
    if lo == hi {
        return vec![("FX", Some(lo))];
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
        return vec![lower, upper];
    }
    if lo == f64::NEG_INFINITY && hi == f64::INFINITY {
        return vec![("FR", None)];
    }
    let mut out = Vec::with_capacity(2);
    // A negative upper bound alone makes CPLEX, Gurobi and CBC set the lower bound to -inf
    // while HiGHS, SCIP and GLPK keep 0: name the lower side then, even when it is 0.
    if lo != 0.0 || hi < 0.0 {
        out.push(lower);
    }
    if hi != f64::INFINITY {
        out.push(upper);
    }
    out
}
