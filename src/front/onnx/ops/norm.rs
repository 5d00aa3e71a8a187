//! `BatchNormalization` in inference mode: per channel `scale·(x - mean)/sqrt(var + eps) + B`,
//! a diagonal affine layer.

use super::{Node, NodeError, Value};
use crate::ir::SparseMatrix;

pub fn batch_norm(n: &mut Node<'_>) -> Result<Value, NodeError> {
    let (x, xs) = n.var(0)?;
    if n.flag("training_mode", false)? {
        return Err(NodeError::Unsupported("training_mode = 1".into()));
    }
    if xs.len() < 2 || xs[0] != 1 {
        return Err(NodeError::Shape(format!("input must be [1, C, ...], got {xs:?}")));
    }
    let channels = xs[1];
    let params = (1..5)
        .map(|i| {
            let t = n.constant(i)?;
            match t.len() == channels {
                true => Ok(t.to_vec()),
                false => Err(NodeError::Shape(format!(
                    "input {i} has {} entries for {channels} channels",
                    t.len()
                ))),
            }
        })
        .collect::<Result<Vec<_>, _>>()?;
    let (scale, shift, mean, var) = (&params[0], &params[1], &params[2], &params[3]);
    let eps = n.float("epsilon", 1e-5)? as f64;
    let per_channel: usize = xs[2..].iter().product();
    n.reserve("the batch normalisation", &[channels, per_channel, 2])?;
    let mut diag = Vec::with_capacity(channels * per_channel);
    let mut bias = Vec::with_capacity(channels * per_channel);
    for c in 0..channels {
        let s = scale[c] / (var[c] + eps).sqrt();
        if !s.is_finite() {
            return Err(NodeError::Invalid(format!(
                "channel {c}: variance {} + epsilon is not positive",
                var[c]
            )));
        }
        diag.extend(std::iter::repeat_n(s, per_channel));
        bias.extend(std::iter::repeat_n(shift[c] - mean[c] * s, per_channel));
    }
    Ok(n.affine(x, SparseMatrix::diagonal(&diag), bias, xs.to_vec()))
}
