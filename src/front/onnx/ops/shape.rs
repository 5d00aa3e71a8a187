//! Shape and data-movement operators. On a variable, `Reshape`, `Flatten`, `Squeeze`,
//! `Unsqueeze`, `Identity`, `Dropout` and `Cast` only relabel the shape (values are flat in the
//! IR); `Transpose`, `Gather`, `Slice` and `Concat` select entries. On constants all of them
//! compute, which folds shape subgraphs such as PyTorch's `Shape → Gather → Unsqueeze → Concat →
//! Reshape` flatten.

use super::{normalize_axis, Node, NodeError, Value};
use crate::front::onnx::tensor::{element_count, offsets, strides, too_large, type_name, Tensor};
use crate::ir::{Op, SparseMatrix};
use onnx_protobuf::tensor_proto::DataType;

/// The same flat values under a new shape.
fn relabel(v: &Value, shape: Vec<usize>) -> Value {
    match v {
        Value::Const(t) => Value::Const(t.reshaped(shape)),
        Value::Var { layer, .. } => Value::Var { layer: *layer, shape },
    }
}

fn size(shape: &[usize]) -> Result<usize, NodeError> {
    element_count(shape).ok_or_else(|| NodeError::Invalid(too_large("a tensor", shape)))
}

/// Squeeze's and Unsqueeze's `axes`: an attribute before opset 13, input 1 since.
fn raw_axes(n: &Node<'_>) -> Result<Option<Vec<i64>>, NodeError> {
    n.ints_attr_or_input("axes", 1, 13)
}

/// [`raw_axes`] normalised to `rank`, sorted, without repeats.
fn axes(n: &Node<'_>, rank: usize) -> Result<Option<Vec<usize>>, NodeError> {
    let Some(axes) = raw_axes(n)? else {
        return Ok(None);
    };
    let mut norm = axes
        .iter()
        .map(|&a| normalize_axis(a, rank))
        .collect::<Option<Vec<_>>>()
        .ok_or_else(|| NodeError::Shape(format!("axes {axes:?} out of range for rank {rank}")))?;
    norm.sort_unstable();
    if norm.windows(2).any(|w| w[0] == w[1]) {
        return Err(NodeError::Shape(format!("repeated axis in {axes:?}")));
    }
    Ok(Some(norm))
}

pub fn identity(n: &mut Node<'_>) -> Result<Value, NodeError> {
    Ok(n.input(0)?.clone())
}

/// Inference-mode dropout is the identity; training mode (random masks) is refused.
pub fn dropout(n: &mut Node<'_>) -> Result<Value, NodeError> {
    if n.opt_input(2).is_some() && n.constant(2)?.iter().any(|v| v != 0.0) {
        return Err(NodeError::Unsupported("training_mode = true".into()));
    }
    identity(n)
}

pub fn constant(n: &mut Node<'_>) -> Result<Value, NodeError> {
    let t = if let Some(t) = n.tensor("value")? {
        t
    } else if n.has("value_float") {
        Tensor::new(vec![], vec![n.float("value_float", 0.0)? as f64], false)
    } else if let Some(v) = n.floats("value_floats")? {
        Tensor::new(vec![v.len()], v.iter().map(|&x| x as f64).collect(), false)
    } else if n.has("value_int") {
        Tensor::ints(&[n.int("value_int", 0)?]).reshaped(vec![])
    } else if let Some(v) = n.ints("value_ints")? {
        Tensor::ints(&v)
    } else {
        return Err(NodeError::Unsupported(
            "a Constant without value, value_float(s) or value_int(s)".into(),
        ));
    };
    Ok(Value::Const(t))
}

pub fn reshape(n: &mut Node<'_>) -> Result<Value, NodeError> {
    let x = n.input(0)?;
    let spec = n
        .ints_attr_or_input("shape", 1, 5)?
        .ok_or(NodeError::MissingInput { index: 1 })?;
    let allow_zero = n.flag("allowzero", false)?;
    let total = size(x.shape())?;
    let bad = || NodeError::Shape(format!("cannot reshape {:?} to {spec:?}", x.shape()));
    let mut shape = Vec::with_capacity(spec.len());
    let mut inferred = None;
    for (i, &d) in spec.iter().enumerate() {
        shape.push(match d {
            0 if !allow_zero => *x.shape().get(i).ok_or_else(bad)?,
            -1 if inferred.is_none() => {
                inferred = Some(i);
                1
            }
            d => usize::try_from(d).map_err(|_| bad())?,
        });
    }
    let known = size(&shape)?;
    if let Some(i) = inferred {
        if known == 0 || total % known != 0 {
            return Err(bad());
        }
        shape[i] = total / known;
    }
    if size(&shape)? != total {
        return Err(bad());
    }
    Ok(relabel(x, shape))
}

pub fn flatten(n: &mut Node<'_>) -> Result<Value, NodeError> {
    let x = n.input(0)?;
    let rank = x.shape().len();
    let a = n.int("axis", 1)?;
    let axis = if a < 0 { a + rank as i64 } else { a };
    if !(0..=rank as i64).contains(&axis) {
        return Err(n.bad_attr("axis", format!("{a} out of range for rank {rank}")));
    }
    let (outer, inner) = x.shape().split_at(axis as usize);
    Ok(relabel(x, vec![outer.iter().product(), inner.iter().product()]))
}

pub fn squeeze(n: &mut Node<'_>) -> Result<Value, NodeError> {
    let x = n.input(0)?;
    let s = x.shape();
    let shape = match axes(n, s.len())? {
        None => s.iter().copied().filter(|&d| d != 1).collect(),
        Some(axes) => {
            if let Some(&a) = axes.iter().find(|&&a| s[a] != 1) {
                return Err(NodeError::Shape(format!("cannot squeeze axis {a} of {s:?}")));
            }
            s.iter()
                .enumerate()
                .filter(|(i, _)| !axes.contains(i))
                .map(|(_, &d)| d)
                .collect()
        }
    };
    Ok(relabel(x, shape))
}

pub fn unsqueeze(n: &mut Node<'_>) -> Result<Value, NodeError> {
    let x = n.input(0)?;
    let count = raw_axes(n)?.map_or(0, |a| a.len());
    let rank = x.shape().len() + count;
    let axes = axes(n, rank)?.ok_or(NodeError::MissingInput { index: 1 })?;
    let mut dims = x.shape().iter();
    let shape = (0..rank)
        .map(|i| {
            if axes.contains(&i) {
                1
            } else {
                *dims.next().expect("rank counts the axes")
            }
        })
        .collect();
    Ok(relabel(x, shape))
}

pub fn transpose(n: &mut Node<'_>) -> Result<Value, NodeError> {
    let x = n.input(0)?;
    let s = x.shape();
    let perm = match n.ints("perm")? {
        None => (0..s.len()).rev().collect::<Vec<_>>(),
        Some(p) => {
            // Every entry must be an axis: negative entries are not dropped (that would let
            // `[-1, 0, 1]` pass as a permutation of two axes), they make the perm invalid.
            let not_perm = || n.bad_attr("perm", format!("{p:?} is not a permutation of the {} axes", s.len()));
            let perm = (p.iter())
                .map(|&a| usize::try_from(a).ok().filter(|&a| a < s.len()))
                .collect::<Option<Vec<usize>>>()
                .ok_or_else(not_perm)?;
            let mut sorted = perm.clone();
            sorted.sort_unstable();
            if !sorted.iter().copied().eq(0..s.len()) {
                return Err(not_perm());
            }
            perm
        }
    };
    n.reserve("the transposed tensor", &[size(s)?])?;
    let shape: Vec<usize> = perm.iter().map(|&a| s[a]).collect();
    let st = strides(s);
    let src = offsets(&shape, &perm.iter().map(|&a| st[a]).collect::<Vec<_>>(), &shape);
    Ok(n.rearrange(x, shape, &src))
}

pub fn shape(n: &mut Node<'_>) -> Result<Value, NodeError> {
    let s = n.input(0)?.shape();
    let rank = s.len() as i64;
    let clamp = |v: i64| (if v < 0 { v + rank } else { v }).clamp(0, rank) as usize;
    let (start, end) = (clamp(n.int("start", 0)?), clamp(n.int("end", rank)?));
    let dims: Vec<i64> = s.iter().map(|&d| d as i64).collect();
    Ok(Value::Const(Tensor::ints(&dims[start..end.max(start)])))
}

pub fn gather(n: &mut Node<'_>) -> Result<Value, NodeError> {
    let x = n.input(0)?;
    let s = x.shape();
    let idx = n.constant(1)?;
    let axis = n.axis("axis", 0, s.len())?;
    let dim = s[axis];
    let indices = idx
        .to_i64s()
        .and_then(|v| v.iter().map(|&i| normalize_axis(i, dim)).collect::<Option<Vec<_>>>())
        .ok_or_else(|| NodeError::Shape(format!("indices {:?} out of range for dimension {dim}", idx.to_vec())))?;
    let outer: usize = s[..axis].iter().product();
    let inner: usize = s[axis + 1..].iter().product();
    let shape: Vec<usize> = s[..axis]
        .iter()
        .chain(&idx.shape)
        .chain(&s[axis + 1..])
        .copied()
        .collect();
    n.reserve("the gathered tensor", &[outer, indices.len(), inner])?;
    let src: Vec<usize> = (0..outer)
        .flat_map(|o| {
            indices
                .iter()
                .flat_map(move |&i| (0..inner).map(move |j| (o * dim + i) * inner + j))
        })
        .collect();
    Ok(n.rearrange(x, shape, &src))
}

pub fn slice(n: &mut Node<'_>) -> Result<Value, NodeError> {
    let x = n.input(0)?;
    let s = x.shape();
    // Attributes before opset 10, inputs since (and `steps` only exists as an input).
    let starts = n
        .ints_attr_or_input("starts", 1, 10)?
        .ok_or(NodeError::MissingInput { index: 1 })?;
    let ends = n
        .ints_attr_or_input("ends", 2, 10)?
        .ok_or(NodeError::MissingInput { index: 2 })?;
    let axes = n
        .ints_attr_or_input("axes", 3, 10)?
        .unwrap_or_else(|| (0..starts.len() as i64).collect());
    let steps = n.opt_ints_input(4)?.unwrap_or_else(|| vec![1; starts.len()]);
    if ends.len() != starts.len() || axes.len() != starts.len() || steps.len() != starts.len() {
        return Err(NodeError::Shape("starts, ends, axes and steps differ in length".into()));
    }
    size(s)?;
    let mut picks: Vec<Vec<usize>> = s.iter().map(|&d| (0..d).collect()).collect();
    let mut sliced = vec![false; s.len()];
    for k in 0..starts.len() {
        let axis = normalize_axis(axes[k], s.len())
            .ok_or_else(|| NodeError::Shape(format!("axis {} out of range for rank {}", axes[k], s.len())))?;
        if std::mem::replace(&mut sliced[axis], true) {
            return Err(NodeError::Shape(format!("axis {} is sliced twice", axes[k])));
        }
        let (dim, step) = (s[axis] as i64, steps[k]);
        if step == 0 {
            return Err(NodeError::Shape("slice step 0".into()));
        }
        if dim == 0 {
            continue; // nothing to pick on an empty axis, whatever the bounds say
        }
        let wrap = |v: i64| if v < 0 { v.saturating_add(dim) } else { v };
        let (start, end) = match step {
            1.. => (wrap(starts[k]).clamp(0, dim), wrap(ends[k]).clamp(0, dim)),
            _ => (wrap(starts[k]).clamp(0, dim - 1), wrap(ends[k]).clamp(-1, dim - 1)),
        };
        // `checked_add` ends the walk where `i + step` would overflow (`steps = [i64::MAX]`).
        picks[axis] = std::iter::successors(Some(start), |&i| i.checked_add(step))
            .take_while(|&i| if step > 0 { i < end } else { i > end })
            .map(|i| i as usize)
            .collect();
    }
    n.reserve("the sliced tensor", &picks.iter().map(Vec::len).collect::<Vec<_>>())?;
    let st = strides(s);
    let src = picks.iter().zip(&st).fold(vec![0], |acc, (p, &stride)| {
        acc.iter()
            .flat_map(|&o| p.iter().map(move |&i| o + i * stride))
            .collect()
    });
    Ok(n.rearrange(x, picks.iter().map(Vec::len).collect(), &src))
}

pub fn concat(n: &mut Node<'_>) -> Result<Value, NodeError> {
    let parts: Vec<&Value> = n.inputs.iter().flatten().copied().collect();
    let first = parts.first().ok_or(NodeError::MissingInput { index: 0 })?.shape();
    if !n.has("axis") {
        return Err(n.bad_attr("axis", "missing".into()));
    }
    let axis = n.axis("axis", 0, first.len())?;
    let fits = |s: &[usize]| s.len() == first.len() && (0..s.len()).all(|d| d == axis || s[d] == first[d]);
    if let Some(p) = parts.iter().find(|p| !fits(p.shape())) {
        return Err(NodeError::Shape(format!(
            "cannot concatenate {:?} with {first:?} on axis {axis}",
            p.shape()
        )));
    }
    let mut shape = first.to_vec();
    shape[axis] = (parts.iter())
        .try_fold(0usize, |acc, p| acc.checked_add(p.shape()[axis]))
        .ok_or_else(|| NodeError::Shape(format!("the concatenated axis {axis} overflows")))?;
    let total = size(&shape)?;
    // The source map, and per variable part a selection matrix and a bias of the whole size.
    let var_parts = parts.iter().filter(|p| matches!(p, Value::Var { .. })).count();
    n.reserve("the concatenation", &[total, 1 + 2 * var_parts])?;
    // Where each output entry comes from: (part, flat index in that part).
    let outer: usize = first[..axis].iter().product();
    let blocks: Vec<usize> = parts.iter().map(|p| p.shape()[axis..].iter().product()).collect();
    let source: Vec<(usize, usize)> = (0..outer)
        .flat_map(|o| {
            blocks
                .iter()
                .enumerate()
                .flat_map(move |(k, &b)| (0..b).map(move |j| (k, o * b + j)))
        })
        .collect();
    let vars: Vec<usize> = (0..parts.len())
        .filter(|&k| matches!(parts[k], Value::Var { .. }))
        .collect();
    let constant = |k: usize, j: usize| match parts[k] {
        Value::Const(t) => t.get(j),
        Value::Var { .. } => 0.0,
    };
    if vars.is_empty() {
        let int = parts.iter().all(|p| matches!(p, Value::Const(t) if t.int));
        let data = source.iter().map(|&(k, j)| constant(k, j)).collect();
        return Ok(Value::Const(Tensor::new(shape, data, int)));
    }
    // Each variable part is placed into the output by its own selection layer (the constant
    // parts ride in the first one's bias); a sum joins them.
    let mut layers = Vec::new();
    for (v, &k) in vars.iter().enumerate() {
        let Value::Var { layer, shape: ks } = parts[k] else {
            unreachable!("vars holds variables")
        };
        let rows = source.iter().map(|&(p, j)| (p == k).then_some((j, 1.0)).into_iter());
        let weights = SparseMatrix::from_rows(ks.iter().product(), rows);
        let bias = match v {
            0 => source.iter().map(|&(p, j)| constant(p, j)).collect(),
            _ => vec![0.0; total],
        };
        layers.push(n.layer(
            Op::Affine {
                input: *layer,
                weights,
                bias,
            },
            &shape,
        ));
    }
    Ok(match layers.len() {
        1 => Value::Var {
            layer: layers[0],
            shape,
        },
        _ => n.push(Op::Sum { inputs: layers }, shape),
    })
}

pub fn cast(n: &mut Node<'_>) -> Result<Value, NodeError> {
    let to = n.int("to", 0)? as i32;
    let x = n.input(0)?;
    let is = |t: DataType| to == t as i32;
    let float = [DataType::FLOAT, DataType::DOUBLE, DataType::FLOAT16, DataType::BFLOAT16];
    let int = [
        DataType::INT8,
        DataType::INT16,
        DataType::INT32,
        DataType::INT64,
        DataType::UINT8,
        DataType::UINT16,
        DataType::UINT32,
        DataType::UINT64,
    ];
    match x {
        _ if !float.iter().chain(&int).any(|&t| is(t)) && !is(DataType::BOOL) => {
            Err(n.bad_attr("to", format!("casting to {} is not supported", type_name(to))))
        }
        Value::Var { .. } if float.iter().any(|&t| is(t)) => Ok(x.clone()),
        Value::Var { .. } => Err(NodeError::Unsupported(format!(
            "casting a value computed from the network input to {}",
            type_name(to)
        ))),
        Value::Const(t) if float.iter().any(|&t| is(t)) => {
            let mut t = t.clone(); // shares the values
            t.int = false;
            Ok(Value::Const(t))
        }
        Value::Const(t) => {
            n.reserve("the cast tensor", &[t.len()])?;
            let conv = |v: f64| {
                if is(DataType::BOOL) {
                    (v != 0.0) as u8 as f64
                } else {
                    v.trunc()
                }
            };
            Ok(Value::Const(Tensor::new(
                t.shape.clone(),
                t.iter().map(conv).collect(),
                true,
            )))
        }
    }
}
