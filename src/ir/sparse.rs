//! Compressed sparse row matrices: the one representation of every linear map in the IR.
//!
//! Dense `Gemm`, convolutions, pooling averages, batch-norm scalings and index permutations all
//! become a `SparseMatrix`, so bounds, lowering and evaluation need one code path. Entries of a
//! row are kept sorted by column with no duplicates and no explicit zeros, which keeps the rows
//! the lowering emits (and hence the written files) deterministic.

use rayon::prelude::*;

/// An `n_rows × n_cols` matrix in CSR form.
#[derive(Clone, Debug, PartialEq)]
pub struct SparseMatrix {
    n_rows: usize,
    n_cols: usize,
    /// `row_start[i]..row_start[i + 1]` indexes the entries of row `i`; length `n_rows + 1`.
    row_start: Vec<usize>,
    /// Column of each entry, strictly increasing within a row.
    cols: Vec<u32>,
    vals: Vec<f64>,
}

impl SparseMatrix {
    /// Builds a matrix from rows of `(column, value)` pairs in any order; duplicates are summed
    /// and zeros dropped. Panics if a column is out of range (a bug in the caller, not bad input).
    pub fn from_rows<I, R>(n_cols: usize, rows: I) -> Self
    where
        I: IntoIterator<Item = R>,
        R: IntoIterator<Item = (usize, f64)>,
    {
        Self::from_rows_with_capacity(n_cols, rows, 0)
    }

    /// [`SparseMatrix::from_rows`] with room reserved for `entries` entries (see
    /// [`CsrBuilder::new`]).
    pub fn from_rows_with_capacity<I, R>(n_cols: usize, rows: I, entries: usize) -> Self
    where
        I: IntoIterator<Item = R>,
        R: IntoIterator<Item = (usize, f64)>,
    {
        let rows = rows.into_iter();
        let mut m = CsrBuilder::new(n_cols, rows.size_hint().0, entries);
        for row in rows {
            for (c, v) in row {
                m.push(c, v);
            }
            m.end_row();
        }
        m.finish()
    }

    /// A dense row-major `n_rows × n_cols` matrix.
    pub fn from_dense(n_rows: usize, n_cols: usize, data: &[f64]) -> Self {
        assert_eq!(data.len(), n_rows * n_cols);
        Self::from_rows(
            n_cols,
            (0..n_rows).map(|i| (0..n_cols).map(move |j| (j, data[i * n_cols + j]))),
        )
    }

    /// A matrix of `n_rows` rows of at most `max_row` entries each, built in blocks of `block`
    /// rows on rayon's threads straight into its arrays: `fill(i, row)` pushes the entries of
    /// row `i` into `row`, a [`CsrBuilder`] of that row alone (which sorts, merges and drops
    /// zeros as always), and the finished row is copied into its block's part of the arrays.
    /// The blocks are then moved together (nothing moves when every row has `max_row`
    /// entries). Each row is built as on one thread, so the matrix does not depend on the
    /// thread count. Blocks built apart and then stacked copied the whole matrix once more,
    /// into fresh pages: 6 ms of the load of 784-1024³-10, on the main thread.
    ///
    /// Panics if a row has more than `max_row` entries (a bug in the caller's bound).
    pub fn from_row_blocks(
        n_cols: usize,
        n_rows: usize,
        max_row: usize,
        block: usize,
        fill: impl Fn(usize, &mut CsrBuilder) + Sync,
    ) -> Self {
        let cap = n_rows.checked_mul(max_row).expect("the matrix's entries fit in memory");
        let region = block.max(1) * max_row;
        if cap == 0 {
            // No entries: every row is empty, or there is none.
            let mut m = CsrBuilder::new(n_cols, n_rows, 0);
            for i in 0..n_rows {
                fill(i, &mut m);
                m.end_row();
            }
            return m.finish();
        }
        let mut cols: Vec<u32> = Vec::with_capacity(cap);
        let mut vals: Vec<f64> = Vec::with_capacity(cap);
        // Per block: its entries, and the end of each of its rows within them.
        let blocks: Vec<(usize, Vec<usize>)> = (cols.spare_capacity_mut()[..cap].par_chunks_mut(region))
            .zip(vals.spare_capacity_mut()[..cap].par_chunks_mut(region))
            .enumerate()
            .map(|(b, (cs, vs))| {
                let rows = b * block.max(1)..((b + 1) * block.max(1)).min(n_rows);
                let mut row = CsrBuilder::new(n_cols, 1, max_row);
                let mut ends = Vec::with_capacity(rows.len());
                let mut n = 0;
                for i in rows {
                    fill(i, &mut row);
                    row.end_row();
                    assert!(row.cols.len() <= max_row, "row {i} has more than {max_row} entries");
                    for (d, &c) in cs[n..].iter_mut().zip(&row.cols) {
                        d.write(c);
                    }
                    for (d, &v) in vs[n..].iter_mut().zip(&row.vals) {
                        d.write(v);
                    }
                    n += row.cols.len();
                    ends.push(n);
                    row.clear();
                }
                (n, ends)
            })
            .collect();
        let mut row_start = Vec::with_capacity(n_rows + 1);
        row_start.push(0);
        let mut len = 0;
        let (cs, vs) = (cols.spare_capacity_mut(), vals.spare_capacity_mut());
        for (b, (n, ends)) in blocks.iter().enumerate() {
            let from = b * region;
            if from != len {
                cs.copy_within(from..from + n, len);
                vs.copy_within(from..from + n, len);
            }
            row_start.extend(ends.iter().map(|e| len + e));
            len += n;
        }
        // SAFETY: the first `len` elements of both arrays are initialised: block `b` wrote its
        // first `n` entries from `b * region` on, and the blocks were moved down in order, each
        // to the end of the ones before it.
        unsafe {
            cols.set_len(len);
            vals.set_len(len);
        }
        // Many zeros (a pruned net): give back the room of the dense bound.
        if len <= cap / 2 {
            cols.shrink_to_fit();
            vals.shrink_to_fit();
        }
        SparseMatrix {
            n_rows,
            n_cols,
            row_start,
            cols,
            vals,
        }
    }

    pub fn diagonal(d: &[f64]) -> Self {
        let rows = d.iter().enumerate().map(|(i, &v)| std::iter::once((i, v)));
        Self::from_rows_with_capacity(d.len(), rows, d.len())
    }

    /// Row `i` of the result reads input `perm[i]` (a selection or permutation of the input).
    pub fn selection(n_cols: usize, perm: &[usize]) -> Self {
        Self::from_rows_with_capacity(n_cols, perm.iter().map(|&j| std::iter::once((j, 1.0))), perm.len())
    }

    pub fn n_rows(&self) -> usize {
        self.n_rows
    }
    pub fn n_cols(&self) -> usize {
        self.n_cols
    }

    /// The entries of row `i` as `(column, value)`, sorted by column.
    pub fn row(&self, i: usize) -> impl ExactSizeIterator<Item = (usize, f64)> + '_ {
        let r = self.row_start[i]..self.row_start[i + 1];
        self.cols[r.clone()]
            .iter()
            .map(|&c| c as usize)
            .zip(self.vals[r].iter().copied())
    }

    /// All values, for checks such as finiteness.
    pub fn values(&self) -> &[f64] {
        &self.vals
    }

    /// `self · x`.
    pub fn mul_vec(&self, x: &[f64]) -> Vec<f64> {
        assert_eq!(x.len(), self.n_cols);
        (0..self.n_rows)
            .map(|i| self.row(i).map(|(c, v)| v * x[c]).sum())
            .collect()
    }

    /// The product `self · inner`, i.e. the map "apply `inner`, then `self`", with room for
    /// `entries` entries (the caller's bound on their number, see [`CsrBuilder::new`]). Each
    /// row is accumulated densely and written straight into the result: no row is listed twice.
    pub fn compose_with_capacity(&self, inner: &SparseMatrix, entries: usize) -> SparseMatrix {
        assert_eq!(self.n_cols, inner.n_rows);
        let mut acc = vec![0.0; inner.n_cols];
        let mut touched: Vec<usize> = Vec::new();
        let mut mark = vec![false; inner.n_cols];
        let mut out = CsrBuilder::new(inner.n_cols, self.n_rows, entries);
        for i in 0..self.n_rows {
            for (k, a) in self.row(i) {
                for (j, b) in inner.row(k) {
                    if !mark[j] {
                        mark[j] = true;
                        touched.push(j);
                    }
                    acc[j] += a * b;
                }
            }
            for j in touched.drain(..) {
                mark[j] = false;
                out.push(j, acc[j]);
                acc[j] = 0.0;
            }
            out.end_row();
        }
        out.finish()
    }

    /// [`SparseMatrix::compose_with_capacity`] with no room reserved.
    pub fn compose(&self, inner: &SparseMatrix) -> SparseMatrix {
        self.compose_with_capacity(inner, 0)
    }

    /// The 0×0 matrix.
    pub fn empty() -> Self {
        CsrBuilder::new(0, 0, 0).finish()
    }

    /// Whether the matrix is square with exactly one entry per row, on the diagonal (its
    /// [`SparseMatrix::values`] are then the diagonal).
    pub fn is_diagonal(&self) -> bool {
        self.n_rows == self.n_cols
            && self.cols.len() == self.n_rows
            && self.row_start.iter().enumerate().all(|(i, &s)| s == i)
            && self.cols.iter().enumerate().all(|(i, &c)| c as usize == i)
    }

    /// Multiplies row `i` by `d[i]` in place (`diag(d) · self`, the entries `compose` would
    /// make: each is `d[i] · a`); entries that underflow to zero are dropped.
    pub fn scale_rows(&mut self, d: &[f64]) {
        assert_eq!(d.len(), self.n_rows);
        for (i, &s) in d.iter().enumerate() {
            let r = self.row_start[i]..self.row_start[i + 1];
            self.vals[r].iter_mut().for_each(|v| *v *= s);
        }
        self.drop_zeros();
    }

    /// Multiplies column `j` by `d[j]` in place (`self · diag(d)`, the entries `compose` would
    /// make: each is `a · d[j]`); entries that underflow to zero are dropped.
    pub fn scale_cols(&mut self, d: &[f64]) {
        assert_eq!(d.len(), self.n_cols);
        for (v, &c) in self.vals.iter_mut().zip(&self.cols) {
            *v *= d[c as usize];
        }
        self.drop_zeros();
    }

    /// Removes zero entries in place, keeping the order of the others.
    fn drop_zeros(&mut self) {
        if self.vals.iter().all(|&v| v != 0.0) {
            return;
        }
        let mut kept = 0;
        for i in 0..self.n_rows {
            let r = self.row_start[i]..self.row_start[i + 1];
            self.row_start[i] = kept;
            for k in r {
                if self.vals[k] != 0.0 {
                    self.cols[kept] = self.cols[k];
                    self.vals[kept] = self.vals[k];
                    kept += 1;
                }
            }
        }
        self.row_start[self.n_rows] = kept;
        self.cols.truncate(kept);
        self.vals.truncate(kept);
    }

    /// The transpose (used by back-substitution bounds and by frontends).
    pub fn transpose(&self) -> SparseMatrix {
        let mut rows: Vec<Vec<(usize, f64)>> = vec![Vec::new(); self.n_cols];
        for i in 0..self.n_rows {
            for (c, v) in self.row(i) {
                rows[c].push((i, v));
            }
        }
        SparseMatrix::from_rows(self.n_rows, rows)
    }
}

/// Writes a [`SparseMatrix`] row by row, straight into its CSR arrays: the one way every
/// matrix is built. Entries pushed in increasing column order (what dense layers,
/// convolutions and selections produce) are stored as they come; a row that arrives out of
/// order or with a repeated column is sorted (stably) and merged when it ends, its duplicates
/// summed in the order they were pushed. Zeros are never stored.
pub struct CsrBuilder {
    n_cols: usize,
    row_start: Vec<usize>,
    cols: Vec<u32>,
    vals: Vec<f64>,
    /// Whether the current row needs sorting and merging when it ends.
    unordered: bool,
    /// One past the last column pushed to the current row (0 at its start): a column below it
    /// makes the row unordered.
    next: u32,
}

impl CsrBuilder {
    /// A builder for a matrix of `n_cols` columns, with room for `rows` rows and `entries`
    /// entries: the caller's count or bound. Reserving a bound costs no memory beyond the
    /// entries written (pages of a large allocation become resident when first written), while
    /// a matrix grown by doubling is copied at each step and overshoots by up to half.
    pub fn new(n_cols: usize, rows: usize, entries: usize) -> Self {
        assert!(n_cols < u32::MAX as usize, "{n_cols} columns do not fit u32 indices");
        let mut row_start = Vec::with_capacity(rows + 1);
        row_start.push(0);
        CsrBuilder {
            n_cols,
            row_start,
            cols: Vec::with_capacity(entries),
            vals: Vec::with_capacity(entries),
            unordered: false,
            next: 0,
        }
    }

    /// Adds `value` at `col` to the current row. Panics if `col` is out of range (a bug in
    /// the caller, not bad input).
    #[inline]
    pub fn push(&mut self, col: usize, value: f64) {
        assert!(col < self.n_cols, "column {col} out of range {}", self.n_cols);
        if value == 0.0 {
            return;
        }
        let c = col as u32;
        self.unordered |= c < self.next;
        self.next = c + 1;
        self.cols.push(c);
        self.vals.push(value);
    }

    /// Closes the current row.
    pub fn end_row(&mut self) {
        let begin = *self.row_start.last().expect("row_start is never empty");
        if self.unordered {
            let mut row: Vec<(u32, f64)> = (self.cols[begin..].iter().copied())
                .zip(self.vals[begin..].iter().copied())
                .collect();
            row.sort_by_key(|&(c, _)| c);
            self.cols.truncate(begin);
            self.vals.truncate(begin);
            let mut k = 0;
            while k < row.len() {
                let c = row[k].0;
                let mut v = 0.0;
                while k < row.len() && row[k].0 == c {
                    v += row[k].1;
                    k += 1;
                }
                if v != 0.0 {
                    self.cols.push(c);
                    self.vals.push(v);
                }
            }
            self.unordered = false;
        }
        self.next = 0;
        self.row_start.push(self.cols.len());
    }

    /// Empties the builder, keeping its room (for a builder of one row at a time).
    fn clear(&mut self) {
        self.cols.clear();
        self.vals.clear();
        self.row_start.truncate(1);
        self.unordered = false;
        self.next = 0;
    }

    pub fn finish(self) -> SparseMatrix {
        SparseMatrix {
            n_rows: self.row_start.len() - 1,
            n_cols: self.n_cols,
            row_start: self.row_start,
            cols: self.cols,
            vals: self.vals,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Built in blocks, the matrix is the one built row by row: for every block size, with
    /// zeros dropped, rows pushed out of order and with repeated columns merged, empty rows, and
    /// on 1, 2 and 3 threads.
    #[test]
    fn a_matrix_built_in_blocks_is_the_one_built_row_by_row() {
        let (n_rows, n_cols, max_row) = (37, 11, 6);
        // Row i: up to `max_row` pushes, some zero, some out of order, some repeated.
        let entries = |i: usize| -> Vec<(usize, f64)> {
            (0..(i * 7) % (max_row + 1))
                .map(|t| ((i * 5 + t * 3) % n_cols, [0.0, 1.5, -2.0, 0.25][(i + t) % 4]))
                .collect()
        };
        let whole = SparseMatrix::from_rows(n_cols, (0..n_rows).map(entries));
        assert!(
            whole.cols.len() < n_rows * max_row / 2,
            "the test has rows shorter than the bound"
        );
        for threads in [1, 2, 3] {
            let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
            for block in [1, 2, 5, 36, 37, 100] {
                let m = pool.install(|| {
                    SparseMatrix::from_row_blocks(n_cols, n_rows, max_row, block, |i, row| {
                        for (c, v) in entries(i) {
                            row.push(c, v);
                        }
                    })
                });
                assert_eq!(m, whole, "block {block}, {threads} threads");
            }
        }
        let none = SparseMatrix::from_row_blocks(n_cols, 4, 0, 2, |_, _| {});
        assert_eq!(none, SparseMatrix::from_rows(n_cols, (0..4).map(|_| Vec::new())));
    }

    #[test]
    fn compose_matches_dense_product() {
        let a = SparseMatrix::from_dense(2, 3, &[1.0, 0.0, 2.0, 0.0, -1.0, 3.0]);
        let b = SparseMatrix::from_dense(3, 2, &[1.0, 2.0, 0.0, 1.0, 4.0, 0.0]);
        let c = a.compose(&b);
        let x = [0.5, -2.0];
        assert_eq!(c.mul_vec(&x), a.mul_vec(&b.mul_vec(&x)));
        assert_eq!(c.row(0).collect::<Vec<_>>(), vec![(0, 9.0), (1, 2.0)]);
    }

    #[test]
    fn diagonal_scaling_in_place_matches_compose() {
        let a = SparseMatrix::from_dense(2, 3, &[1.5, 0.0, -2.0, 1e-300, 4.0, 3.0]);
        let rows = SparseMatrix::diagonal(&[3.0, 1e-300]);
        let cols = SparseMatrix::diagonal(&[1e-300, -7.0, 0.5]);
        assert!(rows.is_diagonal() && cols.is_diagonal() && !a.is_diagonal());
        // 1e-300 · 1e-300 underflows to zero: that entry is dropped, as `compose` drops it.
        let mut scaled = a.clone();
        scaled.scale_rows(rows.values());
        assert_eq!(scaled, rows.compose(&a));
        assert_eq!(scaled.row(1).collect::<Vec<_>>(), vec![(1, 4e-300), (2, 3e-300)]);
        let mut scaled = a.clone();
        scaled.scale_cols(cols.values());
        assert_eq!(scaled, a.compose(&cols));
        assert_eq!(scaled.values().len(), 4);
    }

    #[test]
    fn from_rows_merges_duplicates_and_drops_zeros() {
        let m = SparseMatrix::from_rows(3, vec![vec![(2, 1.0), (0, 1.0), (2, 2.0), (1, 0.0)]]);
        assert_eq!(m.row(0).collect::<Vec<_>>(), vec![(0, 1.0), (2, 3.0)]);
        // Rows in order, out of order, with duplicates that cancel, and empty.
        let rows = vec![
            vec![(0, 1.0), (2, 2.0)],
            vec![(1, 4.0), (0, -1.0), (1, -4.0), (2, 0.5)],
            vec![],
            vec![(2, 0.0), (1, 3.0)],
        ];
        let m = SparseMatrix::from_rows(3, rows);
        let got: Vec<Vec<_>> = (0..m.n_rows()).map(|i| m.row(i).collect()).collect();
        assert_eq!(
            got,
            vec![
                vec![(0, 1.0), (2, 2.0)],
                vec![(0, -1.0), (2, 0.5)],
                vec![],
                vec![(1, 3.0)]
            ]
        );
        assert_eq!(m.transpose().n_rows(), 3);
    }
}
