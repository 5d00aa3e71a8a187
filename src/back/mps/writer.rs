use super::Options;
use crate::back::chunks::{write_items, write_staged};
use crate::back::cursor::Cursor;
use crate::back::names::{Names, PAD};
use crate::back::num::{push_num, write_num};
use crate::back::{
    file_objective, header_lines, invalid_input, validate, writes_as_binary, Sink, MAX_NUMBER_LEN, OBJ_ROW,
};
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
        let mut matrix = ByColumn::new(
            cols.len(),
            std::iter::once(&objective[..])
                .chain(rows.iter().map(|r| &r.terms[..]))
                .chain(inds.iter().map(|r| &r.terms[..]))
                .collect(),
        );
        let col_names = Names::new(cols.iter().map(|c| c.name.as_str()));
        let matrix_rows = Names::new(row_names.iter().copied());
        let row_room = matrix_rows.max_len().max(PAD);

        sink.text("COLUMNS")?;
        let integer = |j: usize| cols[j].kind != ColKind::Continuous;
        let counts = matrix.count.clone();
        let cost = |j: usize| (counts[j].max(1)) * (cols[j].name.len() + 26);
        write_staged(
            sink,
            cols.len(),
            cost,
            [Block::default(), Block::default()],
            |columns, block| matrix.load(columns, block),
            |block, j, out| {
                // A column's MARKER line depends only on its own kind and its
                // predecessor's, so every column formats on its own.
                let before = j > 0 && integer(j - 1);
                if integer(j) != before {
                    let kind: &[u8] = if integer(j) { b"INTORG" } else { b"INTEND" };
                    out.extend_from_slice(b"    MARKER 'MARKER' '");
                    out.extend_from_slice(kind);
                    out.extend_from_slice(b"'\n");
                }
                let (pos, vals) = block.column(j);
                // Every entry line starts `    COLUMN `: laid out once per column, then
                // copied as one block per entry.
                let prefix = LinePrefix::new(&col_names, j);
                // The room of the column's longest possible lines, reserved once.
                let line = prefix.room() + row_room + 2 + MAX_NUMBER_LEN;
                let mut out = Cursor::new(out, line * pos.len().max(1));
                if pos.is_empty() {
                    // Every column must appear in COLUMNS to exist at all.
                    prefix.write(&mut out, &col_names);
                    out.bytes(OBJ_ROW.as_bytes());
                    out.bytes(b" 0\n");
                }
                for (&p, &v) in pos.iter().zip(vals) {
                    prefix.write(&mut out, &col_names);
                    matrix_rows.write(&mut out, p as usize);
                    out.byte(b' ');
                    write_num(&mut out, v);
                    out.byte(b'\n');
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

/// `    COLUMN ` (four spaces, the column's name, a space), the start of each of its entry lines.
struct LinePrefix {
    /// The text, then padding up to [`LinePrefix::BLOCK`] bytes (when it fits).
    text: [u8; LinePrefix::BLOCK],
    len: usize,
    /// The column, for names too long for the block (up to 100 bytes).
    col: usize,
}

impl LinePrefix {
    /// Prefixes up to this long are copied as one fixed-size block and cut back.
    const BLOCK: usize = 40;

    fn new(names: &Names, col: usize) -> Self {
        let mut text = [b' '; Self::BLOCK];
        let name = names.get(col);
        let len = name.len() + 5;
        if len <= Self::BLOCK {
            text[4..4 + name.len()].copy_from_slice(name);
        }
        LinePrefix { text, len, col }
    }

    /// The most [`LinePrefix::write`] needs.
    fn room(&self) -> usize {
        self.len.max(Self::BLOCK)
    }

    #[inline]
    fn write(&self, out: &mut Cursor<'_>, names: &Names) {
        if self.len <= Self::BLOCK {
            out.block(&self.text, self.len);
        } else {
            out.bytes(b"    ");
            names.write(out, self.col);
            out.byte(b' ');
        }
    }
}

/// The matrix by column, one block of consecutive columns at a time: the rows are row-major
/// and sorted by column, so a cursor per row (`u32`) walks them left to right and each block
/// takes the next entries of the rows that have any in it. Memory is a block's entries (a
/// `u32` row position and the `f64` value each, in a [`Block`]) plus a cursor and a link per
/// row and a count and a list head per column, not a transposed copy of the whole matrix.
/// Entries of a column are in row-position order. A row without terms (and an empty
/// objective) gets an explicit 0 in the first column, as the LP writer writes
/// `0 <first column>`.
struct ByColumn<'a> {
    /// The objective, the rows and the indicators' rows, by row position.
    lists: Vec<&'a [(Col, f64)]>,
    /// Entries per column.
    count: Vec<usize>,
    /// Per row position: its first term not yet loaded.
    cursor: Vec<u32>,
    /// Per column: the first of the rows whose next term not yet loaded is in that column
    /// ([`NONE`] when none), linked through `link`. A block visits only the rows waiting in
    /// its columns: scanning every row per block cost rows × blocks, which on a conv net
    /// (hundreds of thousands of short rows, hundreds of blocks) was a tenth of the write.
    head: Vec<u32>,
    /// Per row position: the next row waiting in the same column.
    link: Vec<u32>,
    /// One bit per row position, set for the rows of the block being loaded: read word by
    /// word, they come out in row-position order without a sort (a conv net's first blocks
    /// hold nearly every row), at a cost of one word per 64 rows per block.
    waiting: Vec<u64>,
    /// First column of the next block.
    loaded: usize,
}

/// The entries of consecutive columns: columns `first..first + start.len() - 1`, column
/// `first + i` at `start[i]..start[i + 1]` of `pos` and `val`.
#[derive(Default)]
struct Block {
    first: usize,
    start: Vec<usize>,
    pos: Vec<u32>,
    val: Vec<f64>,
}

/// The end of a list of rows.
const NONE: u32 = u32::MAX;

impl<'a> ByColumn<'a> {
    fn new(n_cols: usize, lists: Vec<&'a [(Col, f64)]>) -> Self {
        let mut count = vec![0usize; n_cols];
        // Row positions fit: the model holds fewer than 2^32 rows and indicators (their
        // handles are u32), and the objective is one more.
        assert!(lists.len() < NONE as usize, "fewer than 2^32 rows");
        let mut head = vec![NONE; n_cols.max(1)];
        let mut link = vec![NONE; lists.len()];
        for (p, terms) in lists.iter().enumerate() {
            if terms.is_empty() {
                count[0] += 1;
            }
            for &(c, _) in *terms {
                count[c.index()] += 1;
            }
            // A row without terms gets its explicit 0 in column 0, so it waits there too.
            let first = terms.first().map_or(0, |t| t.0.index());
            link[p] = head[first];
            head[first] = p as u32;
        }
        ByColumn {
            cursor: vec![0; lists.len()],
            head,
            link,
            waiting: vec![0; lists.len().div_ceil(64)],
            lists,
            count,
            loaded: 0,
        }
    }

    /// Loads the columns `columns`, which must follow the previous block's, into `block`.
    fn load(&mut self, columns: std::ops::Range<usize>, block: &mut Block) {
        assert_eq!(columns.start, self.loaded, "blocks in column order");
        self.loaded = columns.end;
        block.first = columns.start;
        block.start.clear();
        block.start.push(0);
        let mut nnz = 0;
        for j in columns.clone() {
            nnz += self.count[j];
            block.start.push(nnz);
        }
        // Sized to the block's entries, keeping the previous block's (every entry is written
        // below, once): clearing first zeroed 12 bytes per matrix entry for nothing.
        block.pos.resize(nnz, 0);
        block.val.resize(nnz, 0.0);
        // The rows with entries here, taken off their columns' lists and visited in
        // row-position order (each column's entries must come out in that order).
        for j in columns.clone() {
            let mut p = std::mem::replace(&mut self.head[j], NONE);
            while p != NONE {
                self.waiting[p as usize / 64] |= 1 << (p % 64);
                p = self.link[p as usize];
            }
        }
        let mut next = block.start.clone();
        for w in 0..self.waiting.len() {
            let mut bits = std::mem::take(&mut self.waiting[w]);
            while bits != 0 {
                let p = w * 64 + bits.trailing_zeros() as usize;
                bits &= bits - 1;
                self.load_row(p, &columns, block, &mut next);
            }
        }
    }

    /// Moves row `p`'s entries in `columns` into `block` (at `next`, per column) and puts the
    /// row on the list of the column of its next entry.
    fn load_row(&mut self, p: usize, columns: &std::ops::Range<usize>, block: &mut Block, next: &mut [usize]) {
        let p32 = p as u32;
        let terms = self.lists[p];
        if terms.is_empty() {
            // Waiting in column 0 only, so loaded once.
            let k = &mut next[0];
            block.pos[*k] = p32;
            block.val[*k] = 0.0;
            *k += 1;
            return;
        }
        let mut t = self.cursor[p] as usize;
        while t < terms.len() && terms[t].0.index() < columns.end {
            let k = &mut next[terms[t].0.index() - columns.start];
            block.pos[*k] = p32;
            block.val[*k] = terms[t].1;
            *k += 1;
            t += 1;
        }
        self.cursor[p] = t as u32;
        if let Some(&(c, _)) = terms.get(t) {
            // Waits in a later block's column (in no particular order among the rows there:
            // that block visits them by position).
            self.link[p] = self.head[c.index()];
            self.head[c.index()] = p32;
        }
    }
}

impl Block {
    fn column(&self, j: usize) -> (&[u32], &[f64]) {
        let r = self.start[j - self.first]..self.start[j - self.first + 1];
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
