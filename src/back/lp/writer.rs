use super::Options;
use crate::back::chunks::write_items;
use crate::back::cursor::Cursor;
use crate::back::names::{Names, PAD};
use crate::back::num::{push_num, write_num};
use crate::back::{
    file_objective, header_lines, invalid_input, validate, writes_as_binary, Sink, MAX_NAME_LEN, MAX_NUMBER_LEN,
    OBJ_ROW,
};
use crate::milp::{Col, ColKind, Column, Milp, Sense};
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
    pub fn write(&self, milp: &Milp, out: &mut (dyn Write + Send)) -> io::Result<()> {
        validate(milp).map_err(invalid_input)?;
        self.write_validated(milp, out)
    }

    /// [`Writer::write`] of a model the caller has just validated (a second pass over every
    /// name and number of a large model is not free).
    pub(crate) fn write_validated(&self, milp: &Milp, out: &mut (dyn Write + Send)) -> io::Result<()> {
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
        let names = Names::new(cols.iter().map(|c| c.name.as_str()));
        let wrap = Wrap {
            term_room: 3 + MAX_NUMBER_LEN + names.max_len().max(PAD),
            names,
            width: self.options.line_width.clamp(MIN_WIDTH, MAX_WIDTH),
        };

        sink.comments('\\', &header_lines(milp, &self.options.header))?;
        sink.text("Minimize")?;
        let mut out = Vec::new();
        wrap.expr(&mut out, label(OBJ_ROW), &file_objective(milp), None);
        sink.bytes(&out)?;

        sink.text("Subject To")?;
        let rows = milp.rows();
        // A term is at most a sign, a number, a name and three blanks.
        let term_cost = |terms: &[(Col, f64)]| 16 + terms.len() * 24;
        write_items(
            sink,
            rows.len(),
            |i| rows[i].name.len() + term_cost(&rows[i].terms),
            |i, out| {
                let r = &rows[i];
                wrap.expr(out, label(&r.name), &r.terms, Some((r.sense, r.rhs)));
            },
        )?;
        let inds = milp.indicators();
        write_items(
            sink,
            inds.len(),
            |i| inds[i].name.len() + term_cost(&inds[i].terms),
            |i, out| {
                let ind = &inds[i];
                let head = |out: &mut Vec<u8>| {
                    label(&ind.name)(out);
                    out.push(b' ');
                    out.extend_from_slice(cols[ind.binary.index()].name.as_bytes());
                    out.extend_from_slice(if ind.value { b" = 1 ->" } else { b" = 0 ->" });
                };
                wrap.expr(out, head, &ind.terms, Some((ind.sense, ind.rhs)));
            },
        )?;
        if milp.rows().is_empty() && milp.indicators().is_empty() {
            // GLPK refuses an empty `Subject To`; this row holds for every point.
            let mut out = Vec::new();
            wrap.expr(&mut out, label(NO_ROWS), &[], Some((Sense::Ge, 0.0)));
            sink.bytes(&out)?;
        }

        if cols.iter().any(needs_bound_line) {
            sink.text("Bounds")?;
            write_items(
                sink,
                cols.len(),
                |j| cols[j].name.len() + 60,
                |j, out| bound_line(&cols[j], out),
            )?;
        }
        let general = |c: &Column| c.kind != ColKind::Continuous && !writes_as_binary(c);
        for (title, wanted) in [
            ("Generals", &general as &(dyn Fn(&Column) -> bool + Sync)),
            ("Binaries", &writes_as_binary),
        ] {
            if cols.iter().any(wanted) {
                sink.text(title)?;
                write_items(
                    sink,
                    cols.len(),
                    |j| cols[j].name.len() + 2,
                    |j, out| {
                        if wanted(&cols[j]) {
                            out.push(b' ');
                            out.extend_from_slice(cols[j].name.as_bytes());
                            out.push(b'\n');
                        }
                    },
                )?;
            }
        }
        sink.text("End")
    }
}

/// The head ` name:` of a row or of the objective.
fn label(name: &str) -> impl FnOnce(&mut Vec<u8>) + '_ {
    move |out| {
        out.push(b' ');
        out.extend_from_slice(name.as_bytes());
        out.push(b':');
    }
}

/// Writes linear expressions over several lines when they are long.
struct Wrap {
    names: Names,
    width: usize,
    /// The most one term (`- <number> <name>`) takes through a cursor.
    term_room: usize,
}

impl Wrap {
    /// Appends `head terms [sense rhs]` as whole lines. Terms fill a line up to `width`; each
    /// further line is a continuation line starting with the next term's sign. The first term
    /// moves off the head line only when the head is so long (long names) that the line could
    /// not hold it and the right-hand side within `MAX_LINE`. No terms is written
    /// `0 <first column>`, which every reader takes (GLPK rejects an empty expression).
    fn expr(
        &self,
        out: &mut Vec<u8>,
        head: impl FnOnce(&mut Vec<u8>),
        terms: &[(Col, f64)],
        rhs: Option<(Sense, f64)>,
    ) {
        let mut line_start = out.len();
        head(out);
        // Room for every term on a continuation line of its own, and the right-hand side.
        let room = (terms.len() + 1) * (CONTINUATION.len() + 1 + self.term_room) + MAX_TAIL + 1;
        let mut out = Cursor::new(out, room);
        let named = terms.iter().map(|&(c, v)| (c.index(), v));
        let zero = (terms.is_empty()).then_some((0, 0.0));
        for (k, (col, v)) in zero.into_iter().chain(named).enumerate() {
            // ` term`, laid out in place; moved to a continuation line below if it does not fit.
            let blank = out.len();
            out.byte(b' ');
            if v == 0.0 {
                out.byte(b'0');
            } else {
                out.byte(if v < 0.0 { b'-' } else { b'+' });
                if v.abs() != 1.0 {
                    out.byte(b' ');
                    write_num(&mut out, v.abs());
                }
            }
            out.byte(b' ');
            self.names.write(&mut out, col);
            let (line_len, term_len) = (blank - line_start, out.len() - blank - 1);
            let wrap = if k == 0 {
                line_len + 1 + term_len + MAX_TAIL > MAX_LINE
            } else {
                line_len + 1 + term_len > self.width
            };
            if wrap {
                out.set(blank, b'\n');
                out.insert(blank + 1, CONTINUATION.as_bytes());
                line_start = blank + 1;
            }
        }
        if let Some((sense, v)) = rhs {
            let op: &[u8] = match sense {
                Sense::Le => b" <= ",
                Sense::Ge => b" >= ",
                Sense::Eq => b" = ",
            };
            out.bytes(op);
            write_num(&mut out, v);
        }
        debug_assert!(
            out.len() - line_start <= MAX_LINE,
            "LP line of {} characters",
            out.len() - line_start
        );
        out.byte(b'\n');
    }
}

/// True when a column needs a Bounds line: absent means `[0, +inf)` (also for Generals, unlike
/// MPS markers), and binaries are declared in `Binaries`.
fn needs_bound_line(col: &Column) -> bool {
    !writes_as_binary(col) && (col.lo != 0.0 || col.hi != f64::INFINITY)
}

/// Appends the Bounds line of a column, if it needs one. The lower bound is written whenever it
/// is not 0, because an upper bound alone never changes the lower one in LP files.
fn bound_line(col: &Column, out: &mut Vec<u8>) {
    if !needs_bound_line(col) {
        return;
    }
    let (lo, hi, name) = (col.lo, col.hi, col.name.as_bytes());
    let inf = f64::INFINITY;
    out.push(b' ');
    if lo == -inf && hi == inf {
        out.extend_from_slice(name);
        out.extend_from_slice(b" free");
    } else if lo == hi {
        out.extend_from_slice(name);
        out.extend_from_slice(b" = ");
        push_num(out, lo);
    } else if lo == -inf {
        out.extend_from_slice(b"-inf <= ");
        out.extend_from_slice(name);
        out.extend_from_slice(b" <= ");
        push_num(out, hi);
    } else if hi == inf {
        out.extend_from_slice(name);
        out.extend_from_slice(b" >= ");
        push_num(out, lo);
    } else if lo != 0.0 {
        push_num(out, lo);
        out.extend_from_slice(b" <= ");
        out.extend_from_slice(name);
        out.extend_from_slice(b" <= ");
        push_num(out, hi);
    } else {
        out.extend_from_slice(name);
        out.extend_from_slice(b" <= ");
        push_num(out, hi);
    }
    out.push(b'\n');
}
