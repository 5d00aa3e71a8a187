use super::Options;
use crate::back::{
    file_objective, header_lines, invalid_input, validate, writes_as_binary, Num, Sink, MAX_NAME_LEN, MAX_NUMBER_LEN,
    OBJ_ROW,
};
use crate::milp::{Col, ColKind, Column, Milp, Sense};
use std::fmt::Write as _;
use std::io::{self, Write};

/// Writes a [`Milp`] as CPLEX LP.
#[derive(Clone, Debug, Default)]
pub struct Writer {
    options: Options,
}

/// Hard limit on a line's length: Gurobi and GLPK refuse longer names and lines (README §3.7).
const MAX_LINE: usize = 254;
/// Longest right-hand side text: ` <= ` and a number.
const MAX_TAIL: usize = 4 + MAX_NUMBER_LEN;
/// Name of the always-true row written for a model without rows.
const NO_ROWS: &str = "no_rows";
/// Indentation of continuation lines.
const CONTINUATION: &str = "   ";
/// Longest term text: `- <number> <name>`.
const MAX_TERM: usize = 2 + MAX_NUMBER_LEN + 1 + MAX_NAME_LEN;
/// Range of `Options::line_width`; at the maximum, a full line plus the longest right-hand
/// side still stays within `MAX_LINE`.
const MIN_WIDTH: usize = 40;
const MAX_WIDTH: usize = 200;

// A continuation line always holds its first term and the right-hand side.
const _: () = assert!(CONTINUATION.len() + 1 + MAX_TERM + 1 + MAX_TAIL <= MAX_LINE);
const _: () = assert!(MAX_WIDTH + 1 + MAX_TAIL <= MAX_LINE);

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
            panic!("cannot write the model as LP: {e}");
        }
        String::from_utf8(buf).expect("the writer emits UTF-8")
    }

    fn write_model(&self, milp: &Milp, sink: &mut Sink<'_>) -> io::Result<()> {
        let cols = milp.cols();
        let wrap = Wrap {
            cols,
            width: self.options.line_width.clamp(MIN_WIDTH, MAX_WIDTH),
        };

        sink.comments('\\', &header_lines(milp, &self.options.header))?;
        sink.text("Minimize")?;
        wrap.expr(sink, format!(" {OBJ_ROW}:"), &file_objective(milp), None)?;

        sink.text("Subject To")?;
        for r in milp.rows() {
            wrap.expr(sink, format!(" {}:", r.name), &r.terms, Some((r.sense, r.rhs)))?;
        }
        for ind in milp.indicators() {
            let head = format!(
                " {}: {} = {} ->",
                ind.name,
                cols[ind.binary.index()].name,
                u8::from(ind.value)
            );
            wrap.expr(sink, head, &ind.terms, Some((ind.sense, ind.rhs)))?;
        }
        if milp.rows().is_empty() && milp.indicators().is_empty() {
            // GLPK refuses an empty `Subject To`; this row holds for every point.
            wrap.expr(sink, format!(" {NO_ROWS}:"), &[], Some((Sense::Ge, 0.0)))?;
        }

        let bounds: Vec<String> = cols.iter().filter_map(bound_line).collect();
        if !bounds.is_empty() {
            sink.text("Bounds")?;
            for b in &bounds {
                sink.text(b)?;
            }
        }
        let generals: Vec<&Column> = cols
            .iter()
            .filter(|c| c.kind != ColKind::Continuous && !writes_as_binary(c))
            .collect();
        if !generals.is_empty() {
            sink.text("Generals")?;
            for c in generals {
                sink.line(format_args!(" {}", c.name))?;
            }
        }
        let binaries: Vec<&Column> = cols.iter().filter(|c| writes_as_binary(c)).collect();
        if !binaries.is_empty() {
            sink.text("Binaries")?;
            for c in binaries {
                sink.line(format_args!(" {}", c.name))?;
            }
        }
        sink.text("End")
    }
}

/// Writes linear expressions over several lines when they are long.
struct Wrap<'a> {
    cols: &'a [Column],
    width: usize,
}

impl Wrap<'_> {
    /// Writes `head terms [sense rhs]`. Terms fill a line up to `width`; each further line is a
    /// continuation line starting with the next term's sign. The first term moves off the head
    /// line only when the head is so long (long names) that the line could not hold it and the
    /// right-hand side within `MAX_LINE`. No terms is written `0 <first column>`, which every
    /// reader takes (GLPK rejects an empty expression).
    fn expr(
        &self,
        sink: &mut Sink<'_>,
        head: String,
        terms: &[(Col, f64)],
        rhs: Option<(Sense, f64)>,
    ) -> io::Result<()> {
        let mut line = head;
        let mut term = String::with_capacity(MAX_TERM);
        let named = terms.iter().map(|&(c, v)| (self.cols[c.index()].name.as_str(), v));
        let zero = (terms.is_empty()).then_some((self.cols[0].name.as_str(), 0.0));
        for (k, (name, v)) in zero.into_iter().chain(named).enumerate() {
            term.clear();
            if v == 0.0 {
                term.push('0');
            } else {
                term.push(if v < 0.0 { '-' } else { '+' });
                if v.abs() != 1.0 {
                    let _ = write!(term, " {}", Num(v.abs()));
                }
            }
            let _ = write!(term, " {name}");
            let wrap = if k == 0 {
                line.len() + 1 + term.len() + MAX_TAIL > MAX_LINE
            } else {
                line.len() + 1 + term.len() > self.width
            };
            if wrap {
                sink.text(&line)?;
                line.clear();
                line.push_str(CONTINUATION);
                line.push_str(&term);
            } else {
                line.push(' ');
                line.push_str(&term);
            }
        }
        if let Some((sense, v)) = rhs {
            let op = match sense {
                Sense::Le => "<=",
                Sense::Ge => ">=",
                Sense::Eq => "=",
            };
            let _ = write!(line, " {op} {}", Num(v));
        }
        debug_assert!(line.len() <= MAX_LINE, "LP line of {} characters", line.len());
        sink.text(&line)
    }
}

/// The Bounds line of a column, if it needs one. Absent means `[0, +inf)` (also for Generals,
/// unlike MPS markers); the lower bound is written whenever it is not 0, because an upper
/// bound alone never changes the lower one in LP files.
fn bound_line(col: &Column) -> Option<String> {
    if writes_as_binary(col) {
        return None;
    }
    let (lo, hi, name) = (col.lo, col.hi, &col.name);
    let inf = f64::INFINITY;
    Some(if lo == -inf && hi == inf {
        format!(" {name} free")
    } else if lo == hi {
        format!(" {name} = {}", Num(lo))
    } else if lo == -inf {
        format!(" -inf <= {name} <= {}", Num(hi))
    } else if lo != 0.0 && hi == inf {
        format!(" {name} >= {}", Num(lo))
    } else if lo != 0.0 {
        format!(" {} <= {name} <= {}", Num(lo), Num(hi))
    } else if hi == inf {
        return None;
    } else {
        format!(" {name} <= {}", Num(hi))
    })
}
