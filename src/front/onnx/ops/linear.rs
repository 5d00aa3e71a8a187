//! `MatMul` (numpy semantics, batch axes broadcast) and `Gemm` (`alpha·A'·B' + beta·C`), with
//! a constant on either side of a variable: both become one affine layer.

use super::{checked_product, Node, NodeError, Value};
use crate::front::onnx::tensor::{broadcast_index, broadcast_shape, offsets, strides, Tensor};
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

/// The entries of `l · r` per numpy matmul on views of rank >= 2: the result shape and, for
/// each result entry, the `(offset in l, offset in r)` pairs whose products it sums.
type Terms = (Vec<usize>, Vec<Vec<(usize, usize)>>);

fn product_terms(n: &mut Node<'_>, l: &View, r: &View) -> Result<Terms, NodeError> {
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
    // The terms, then the matrix (or constant) made from them.
    n.reserve("the matrix product", &[batches, m, cols, k.max(1), 2])?;
    let l_base = offsets(&l.shape[..lb], &l.strides[..lb], &out);
    let r_base = offsets(&r.shape[..rb], &r.strides[..rb], &out);
    let (lm, lk, rk, rn) = (l.strides[lb], l.strides[lb + 1], r.strides[rb], r.strides[rb + 1]);
    let mut rows = Vec::with_capacity(batches * m * cols);
    for (lo, ro) in l_base.into_iter().zip(r_base) {
        for i in 0..m {
            for j in 0..cols {
                rows.push((0..k).map(|t| (lo + i * lm + t * lk, ro + t * rk + j * rn)).collect());
            }
        }
    }
    out.extend([m, cols]);
    Ok((out, rows))
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
    let (mut out, terms) = product_terms(n, &View::of(l), &View::of(r))?;
    if sb.len() == 1 {
        out.pop();
    }
    if sa.len() == 1 {
        out.remove(out.len() - if sb.len() == 1 { 1 } else { 2 });
    }
    let bias = vec![0.0; terms.len()];
    combine(n, a, b, terms, 1.0, bias, out)
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
    let (out, terms) = product_terms(n, &la, &lb)?;
    let (alpha, beta) = (n.float("alpha", 1.0)? as f64, n.float("beta", 1.0)? as f64);
    let bias = match n.opt_input(2) {
        None => vec![0.0; terms.len()],
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
                .map(|&j| beta * c.data[j])
                .collect()
        }
    };
    combine(n, a, b, terms, alpha, bias, out)
}

/// `scale · (a · b) + bias` from the product terms, where at most one of `a`, `b` is a variable.
fn combine(
    n: &mut Node<'_>,
    a: &Value,
    b: &Value,
    terms: Vec<Vec<(usize, usize)>>,
    scale: f64,
    bias: Vec<f64>,
    out: Vec<usize>,
) -> Result<Value, NodeError> {
    let (layer, x_len, rows): (_, usize, Vec<Vec<(usize, f64)>>) = match (a, b) {
        (Value::Var { layer, shape }, Value::Const(w)) => (
            *layer,
            shape.iter().product(),
            terms
                .iter()
                .map(|row| row.iter().map(|&(i, j)| (i, scale * w.data[j])).collect())
                .collect(),
        ),
        (Value::Const(w), Value::Var { layer, shape }) => (
            *layer,
            shape.iter().product(),
            terms
                .iter()
                .map(|row| row.iter().map(|&(i, j)| (j, scale * w.data[i])).collect())
                .collect(),
        ),
        (Value::Const(x), Value::Const(y)) => {
            let data = terms
                .iter()
                .zip(&bias)
                .map(|(row, c)| scale * row.iter().map(|&(i, j)| x.data[i] * y.data[j]).sum::<f64>() + c)
                .collect();
            return Ok(Value::Const(Tensor::new(out, data, false)));
        }
        (Value::Var { .. }, Value::Var { .. }) => {
            return Err(NodeError::Unsupported(
                "the product of two values computed from the network input is not linear".into(),
            ))
        }
    };
    Ok(n.affine(layer, SparseMatrix::from_rows(x_len, rows), bias, out))
}
