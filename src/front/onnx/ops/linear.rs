//! `MatMul` (numpy semantics, batch axes broadcast) and `Gemm` (`alpha·A'·B' + beta·C`), with
//! a constant on either side of a variable: both become one affine layer.

use super::{checked_product, Node, NodeError, Value};
use crate::front::onnx::tensor::{broadcast_index, broadcast_shape, offsets, strides, with_values, At, Tensor};
use crate::ir::SparseMatrix;

/// An operand seen through strides: `shape` is logical, `strides` index the flat storage, so a
/// transposed operand needs no copy.
struct View {
    shape: Vec<usize>,
    strides: Vec<usize>,
}

impl View {
    fn of(shape: Vec<usize>) -> Self {
        View {
            strides: strides(&shape),
            shape,
        }
    }

    /// A 2-D operand, transposed when `t`.
    fn matrix(shape: &[usize], t: bool) -> Self {
        match t {
            false => View::of(shape.to_vec()),
            true => View {
                shape: vec![shape[1], shape[0]],
                strides: vec![1, shape[1]],
            },
        }
    }
}

/// The entries of `l · r` per numpy matmul on views of rank >= 2, described rather than listed:
/// result entry `e` sums the products of the `(offset in l, offset in r)` pairs
/// [`Product::entry`] yields. Listing them (two `usize` per weight) and then the weighted rows
/// (two more) cost 32 bytes per weight of a dense layer before its matrix was built; walking
/// them lazily lets the matrix be built straight from the weights.
struct Product {
    /// The result shape (batch axes, then `m`, `cols`).
    out: Vec<usize>,
    /// Per broadcast batch, the flat offsets of its `l` and `r` matrices.
    base: Vec<(usize, usize)>,
    m: usize,
    cols: usize,
    k: usize,
    /// Strides of `l`'s rows and columns and of `r`'s rows and columns.
    lm: usize,
    lk: usize,
    rk: usize,
    rn: usize,
}

impl Product {
    fn new(n: &mut Node<'_>, l: &View, r: &View) -> Result<Self, NodeError> {
        let (lb, rb) = (l.shape.len() - 2, r.shape.len() - 2);
        let (m, k, k2, cols) = (l.shape[lb], l.shape[lb + 1], r.shape[rb], r.shape[rb + 1]);
        let batch = broadcast_shape(&l.shape[..lb], &r.shape[..rb]).filter(|_| k == k2);
        let Some(mut out) = batch else {
            return Err(NodeError::Shape(format!(
                "cannot multiply {:?} by {:?}",
                l.shape, r.shape
            )));
        };
        let batches = checked_product(out.iter().copied()).unwrap_or(usize::MAX);
        // Counted twice, as when the terms were listed before their matrix was built, so that
        // the load budget (`LoadOptions`) still refuses the same files.
        n.reserve("the matrix product", &[batches, m, cols, k.max(1), 2])?;
        let l_base = offsets(&l.shape[..lb], &l.strides[..lb], &out);
        let r_base = offsets(&r.shape[..rb], &r.strides[..rb], &out);
        out.extend([m, cols]);
        Ok(Product {
            out,
            base: l_base.into_iter().zip(r_base).collect(),
            m,
            cols,
            k,
            lm: l.strides[lb],
            lk: l.strides[lb + 1],
            rk: r.strides[rb],
            rn: r.strides[rb + 1],
        })
    }

    /// Number of result entries.
    fn len(&self) -> usize {
        self.base.len() * self.m * self.cols
    }

    /// The `(offset in l, offset in r)` pairs of result entry `e` (row-major), in `k` order.
    fn entry(&self, e: usize) -> impl ExactSizeIterator<Item = (usize, usize)> + '_ {
        let (b, ij) = (e / (self.m * self.cols), e % (self.m * self.cols));
        let (i, j) = (ij / self.cols, ij % self.cols);
        let (lo, ro) = self.base[b];
        let (l0, r0) = (lo + i * self.lm, ro + j * self.rn);
        (0..self.k).map(move |t| (l0 + t * self.lk, r0 + t * self.rk))
    }
}

pub fn matmul(n: &mut Node<'_>) -> Result<Value, NodeError> {
    let (a, b) = (n.input(0)?, n.input(1)?);
    let (sa, sb) = (a.shape(), b.shape());
    if sa.is_empty() || sb.is_empty() {
        return Err(NodeError::Shape("MatMul of a scalar".into()));
    }
    // numpy: a 1-D left operand is a row, a 1-D right one a column; the added axis is dropped.
    let l = if sa.len() == 1 { vec![1, sa[0]] } else { sa.to_vec() };
    let r = if sb.len() == 1 { vec![sb[0], 1] } else { sb.to_vec() };
    let product = Product::new(n, &View::of(l), &View::of(r))?;
    let mut out = product.out.clone();
    if sb.len() == 1 {
        out.pop();
    }
    if sa.len() == 1 {
        out.remove(out.len() - if sb.len() == 1 { 1 } else { 2 });
    }
    let bias = vec![0.0; product.len()];
    combine(n, a, b, &product, 1.0, bias, out)
}

pub fn gemm(n: &mut Node<'_>) -> Result<Value, NodeError> {
    let (a, b) = (n.input(0)?, n.input(1)?);
    if a.shape().len() != 2 || b.shape().len() != 2 {
        return Err(NodeError::Shape(format!(
            "Gemm needs 2-D operands, got {:?} and {:?}",
            a.shape(),
            b.shape()
        )));
    }
    let la = View::matrix(a.shape(), n.flag("transA", false)?);
    let lb = View::matrix(b.shape(), n.flag("transB", false)?);
    let product = Product::new(n, &la, &lb)?;
    let out = product.out.clone();
    let (alpha, beta) = (n.float("alpha", 1.0)? as f64, n.float("beta", 1.0)? as f64);
    let bias = match n.opt_input(2) {
        None => vec![0.0; product.len()],
        Some(_) => {
            let c = n.constant(2)?;
            if broadcast_shape(&c.shape, &out).as_ref() != Some(&out) {
                return Err(NodeError::Shape(format!(
                    "C of shape {:?} does not broadcast to {out:?}",
                    c.shape
                )));
            }
            broadcast_index(&c.shape, &out)
                .iter()
                .map(|&j| beta * c.get(j))
                .collect()
        }
    };
    combine(n, a, b, &product, alpha, bias, out)
}

/// `scale · (a · b) + bias` from the product terms, where at most one of `a`, `b` is a variable.
/// The weights go from the constant's storage (the file's `f32`s, for an initializer) straight
/// into the matrix: no copy of them is made besides the matrix itself.
fn combine(
    n: &mut Node<'_>,
    a: &Value,
    b: &Value,
    product: &Product,
    scale: f64,
    bias: Vec<f64>,
    out: Vec<usize>,
) -> Result<Value, NodeError> {
    let (layer, matrix) = match (a, b) {
        (Value::Var { layer, shape }, Value::Const(w)) => (
            *layer,
            with_values!(w, |v| weighted(product, shape.iter().product(), |i, j| (
                i,
                scale * v.at(j)
            ))),
        ),
        (Value::Const(w), Value::Var { layer, shape }) => (
            *layer,
            with_values!(w, |v| weighted(product, shape.iter().product(), |i, j| (
                j,
                scale * v.at(i)
            ))),
        ),
        (Value::Const(x), Value::Const(y)) => {
            let data = (0..product.len())
                .zip(&bias)
                .map(|(e, c)| scale * product.entry(e).map(|(i, j)| x.get(i) * y.get(j)).sum::<f64>() + c)
                .collect();
            return Ok(Value::Const(Tensor::new(out, data, false)));
        }
        (Value::Var { .. }, Value::Var { .. }) => {
            return Err(NodeError::Unsupported(
                "the product of two values computed from the network input is not linear".into(),
            ))
        }
    };
    Ok(n.affine(layer, matrix, bias, out))
}

/// The matrix over `n_cols` inputs whose row `e` holds, for each term `(i, j)` of result entry
/// `e`, the entry `term(i, j) = (column, weight)`. Room for every term is reserved up front
/// (the exact count for dense weights; zeros are dropped). A large product is built in blocks
/// of rows on rayon's threads, straight into the one matrix ([`SparseMatrix::from_row_blocks`]):
/// each row is built as on one thread, so the matrix does not depend on the thread count.
fn weighted(product: &Product, n_cols: usize, term: impl Fn(usize, usize) -> (usize, f64) + Sync) -> SparseMatrix {
    // Blocks of about 2^16 entries: a small product is one block.
    let block = ((1 << 16) / product.k.max(1)).max(1);
    SparseMatrix::from_row_blocks(n_cols, product.len(), product.k, block, |e, row| {
        for (i, j) in product.entry(e) {
            let (c, w) = term(i, j);
            row.push(c, w);
        }
    })
}
