//! Activations: only ReLU is piecewise linear with one breakpoint, which is what the MILP encodes.

use super::{Node, NodeError, Value};
use crate::ir::Op;

pub fn relu(n: &mut Node<'_>) -> Result<Value, NodeError> {
    match n.input(0)? {
        Value::Const(t) => {
            let mut t = t.clone();
            t.data.iter_mut().for_each(|v| *v = v.max(0.0));
            Ok(Value::Const(t))
        }
        Value::Var { layer, shape } => {
            let (input, shape) = (*layer, shape.clone());
            Ok(n.push(Op::Relu { input }, shape))
        }
    }
}
