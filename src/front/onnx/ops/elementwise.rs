//! `Add`, `Sub`, `Mul`, `Div` (numpy broadcasting) and `Neg`. With one constant operand each is
//! an elementwise affine map `coef·x + bias`; two variables may only be added or subtracted.

use std::iter::once;

use super::{Node, NodeError, Value};
use crate::front::onnx::tensor::{broadcast_index, broadcast_shape, Tensor};
use crate::ir::{Handle, Op, SparseMatrix};

#[derive(Clone, Copy, PartialEq, Debug)]
enum Arith {
    Add,
    Sub,
    Mul,
    Div,
}

pub fn add(n: &mut Node<'_>) -> Result<Value, NodeError> {
    binary(n, Arith::Add)
}
pub fn sub(n: &mut Node<'_>) -> Result<Value, NodeError> {
    binary(n, Arith::Sub)
}
pub fn mul(n: &mut Node<'_>) -> Result<Value, NodeError> {
    binary(n, Arith::Mul)
}
pub fn div(n: &mut Node<'_>) -> Result<Value, NodeError> {
    binary(n, Arith::Div)
}

pub fn neg(n: &mut Node<'_>) -> Result<Value, NodeError> {
    let x = n.input(0)?;
    n.reserve("the negated tensor", &[x.shape().iter().product(), 2])?;
    match x {
        Value::Const(t) => Ok(Value::Const(Tensor::new(
            t.shape.clone(),
            t.iter().map(|v| -v).collect(),
            t.int,
        ))),
        Value::Var { layer, shape } => Ok(Value::Var {
            layer: scaled(n, *layer, shape, shape, &vec![-1.0; t_len(shape)], None),
            shape: shape.clone(),
        }),
    }
}

fn t_len(shape: &[usize]) -> usize {
    shape.iter().product()
}

fn binary(n: &mut Node<'_>, op: Arith) -> Result<Value, NodeError> {
    let (a, b) = (n.input(0)?, n.input(1)?);
    let out = broadcast_shape(a.shape(), b.shape())
        .ok_or_else(|| NodeError::Shape(format!("cannot broadcast {:?} with {:?}", a.shape(), b.shape())))?;
    // A constant result, or per variable operand a broadcast matrix and a bias.
    let mut factors = out.clone();
    factors.push(3);
    n.reserve("the broadcast result", &factors)?;
    match (a, b) {
        (Value::Const(x), Value::Const(y)) => {
            let int = x.int && y.int;
            let (xi, yi) = (broadcast_index(&x.shape, &out), broadcast_index(&y.shape, &out));
            let data = xi
                .iter()
                .zip(&yi)
                .map(|(&i, &j)| apply(op, x.get(i), y.get(j), int))
                .collect::<Result<_, _>>()?;
            Ok(Value::Const(Tensor::new(out, data, int)))
        }
        (Value::Var { layer, shape }, Value::Const(c)) | (Value::Const(c), Value::Var { layer, shape }) => {
            let var_first = matches!(a, Value::Var { .. });
            let (coef, bias): (Vec<f64>, Vec<f64>) = broadcast_index(&c.shape, &out)
                .iter()
                .map(|&j| affine_coefficients(op, var_first, c.get(j)))
                .collect::<Result<Vec<_>, _>>()?
                .into_iter()
                .unzip();
            let layer = scaled(n, *layer, shape, &out, &coef, Some(bias));
            Ok(Value::Var { layer, shape: out })
        }
        (Value::Var { layer: xa, shape: sa }, Value::Var { layer: xb, shape: sb }) => {
            let sign = match op {
                Arith::Add => 1.0,
                Arith::Sub => -1.0,
                Arith::Mul | Arith::Div => {
                    return Err(NodeError::Unsupported(format!(
                        "{op:?} of two values computed from the network input is not linear"
                    )))
                }
            };
            let len = t_len(&out);
            let x = if *sa == out {
                *xa
            } else {
                scaled(n, *xa, sa, &out, &vec![1.0; len], None)
            };
            let y = scaled(n, *xb, sb, &out, &vec![sign; len], None);
            Ok(n.push(Op::Sum { inputs: vec![x, y] }, out))
        }
    }
}

/// `(coef, bias)` of `x op c` (or `c op x` when the variable comes second) as `coef·x + bias`.
fn affine_coefficients(op: Arith, var_first: bool, c: f64) -> Result<(f64, f64), NodeError> {
    match (op, var_first) {
        (Arith::Add, _) => Ok((1.0, c)),
        (Arith::Sub, true) => Ok((1.0, -c)),
        (Arith::Sub, false) => Ok((-1.0, c)),
        (Arith::Mul, _) => Ok((c, 0.0)),
        (Arith::Div, true) if c != 0.0 => Ok((1.0 / c, 0.0)),
        (Arith::Div, true) => Err(NodeError::Invalid("division by a constant zero".into())),
        (Arith::Div, false) => Err(NodeError::Unsupported(
            "dividing a constant by a value computed from the network input is not linear".into(),
        )),
    }
}

fn apply(op: Arith, x: f64, y: f64, int: bool) -> Result<f64, NodeError> {
    Ok(match op {
        Arith::Add => x + y,
        Arith::Sub => x - y,
        Arith::Mul => x * y,
        Arith::Div if int && y == 0.0 => return Err(NodeError::Invalid("integer division by zero".into())),
        Arith::Div if int => (x / y).trunc(),
        Arith::Div => x / y,
    })
}

/// A layer `coef[i] · x[j(i)] + bias[i]` where `j(i)` broadcasts `x` (shape `x_shape`) to `out`.
fn scaled(
    n: &mut Node<'_>,
    x: Handle,
    x_shape: &[usize],
    out: &[usize],
    coef: &[f64],
    bias: Option<Vec<f64>>,
) -> Handle {
    let src = broadcast_index(x_shape, out);
    let weights = SparseMatrix::from_rows(t_len(x_shape), src.iter().zip(coef).map(|(&j, &c)| once((j, c))));
    let bias = bias.unwrap_or_else(|| vec![0.0; src.len()]);
    n.layer(
        Op::Affine {
            input: x,
            weights,
            bias,
        },
        out,
    )
}
