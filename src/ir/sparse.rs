//! Compressed sparse row matrices: the one representation of every linear map in the IR.
//!
//! Dense `Gemm`, convolutions, pooling averages, batch-norm scalings and index permutations all
//! become a `SparseMatrix`, so bounds, lowering and evaluation need one code path. Entries of a
//! row are kept sorted by column with no duplicates and no explicit zeros, which keeps the rows
//! the lowering emits (and hence the written files) deterministic.

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

    /// [`SparseMatrix::from_rows`] with room reserved for `entries` entries, the caller's
    /// bound on their number: a large matrix grown by doubling is copied at each step (glibc
    /// serves such sizes from its heap once large blocks have been freed) and overshoots the
    /// memory it needs by up to half.
    pub fn from_rows_with_capacity<I, R>(n_cols: usize, rows: I, entries: usize) -> Self
    where
        I: IntoIterator<Item = R>,
        R: IntoIterator<Item = (usize, f64)>,
    {
        let rows = rows.into_iter();
        let mut row_start = Vec::with_capacity(rows.size_hint().0 + 1);
        row_start.push(0);
        let mut cols = Vec::with_capacity(entries);
        let mut vals = Vec::with_capacity(entries);
        let mut scratch: Vec<(usize, f64)> = Vec::new();
        for row in rows {
            scratch.clear();
            scratch.extend(row);
            scratch.sort_by_key(|&(c, _)| c);
            let mut k = 0;
            while k < scratch.len() {
                let c = scratch[k].0;
                assert!(c < n_cols, "column {c} out of range {n_cols}");
                let mut v = 0.0;
                while k < scratch.len() && scratch[k].0 == c {
                    v += scratch[k].1;
                    k += 1;
                }
                if v != 0.0 {
                    cols.push(c as u32);
                    vals.push(v);
                }
            }
            row_start.push(cols.len());
        }
        SparseMatrix {
            n_rows: row_start.len() - 1,
            n_cols,
            row_start,
            cols,
            vals,
        }
    }

    /// A dense row-major `n_rows × n_cols` matrix.
    pub fn from_dense(n_rows: usize, n_cols: usize, data: &[f64]) -> Self {
        assert_eq!(data.len(), n_rows * n_cols);
        Self::from_rows(
            n_cols,
            (0..n_rows).map(|i| (0..n_cols).map(move |j| (j, data[i * n_cols + j]))),
        )
    }

    pub fn diagonal(d: &[f64]) -> Self {
        Self::from_rows(d.len(), d.iter().enumerate().map(|(i, &v)| std::iter::once((i, v))))
    }

    /// Row `i` of the result reads input `perm[i]` (a selection or permutation of the input).
    pub fn selection(n_cols: usize, perm: &[usize]) -> Self {
        Self::from_rows(n_cols, perm.iter().map(|&j| std::iter::once((j, 1.0))))
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

    /// The product `self · inner`, i.e. the map "apply `inner`, then `self`".
    pub fn compose(&self, inner: &SparseMatrix) -> SparseMatrix {
        assert_eq!(self.n_cols, inner.n_rows);
        let mut acc = vec![0.0; inner.n_cols];
        let mut touched: Vec<usize> = Vec::new();
        let mut mark = vec![false; inner.n_cols];
        let rows = (0..self.n_rows).map(|i| {
            for (k, a) in self.row(i) {
                for (j, b) in inner.row(k) {
                    if !mark[j] {
                        mark[j] = true;
                        touched.push(j);
                    }
                    acc[j] += a * b;
                }
            }
            let out: Vec<(usize, f64)> = touched
                .drain(..)
                .map(|j| {
                    mark[j] = false;
                    let v = acc[j];
                    acc[j] = 0.0;
                    (j, v)
                })
                .collect();
            out
        });
        let rows: Vec<Vec<(usize, f64)>> = rows.collect();
        SparseMatrix::from_rows(inner.n_cols, rows)
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

#[cfg(test)]
mod tests {
    use super::*;

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
    fn from_rows_merges_duplicates_and_drops_zeros() {
        let m = SparseMatrix::from_rows(3, vec![vec![(2, 1.0), (0, 1.0), (2, 2.0), (1, 0.0)]]);
        assert_eq!(m.row(0).collect::<Vec<_>>(), vec![(0, 1.0), (2, 3.0)]);
        assert_eq!(m.transpose().n_rows(), 3);
    }
}
