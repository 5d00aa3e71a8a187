//! Activations: only ReLU is piecewise linear with one breakpoint, which is what the MILP encodes.

use super::{Node, NodeError, Value};
use crate::front::onnx::tensor::Tensor;
use crate::ir::Op;

pub fn relu(n: &mut Node<'_>) -> Result<Value, NodeError> {
    match n.input(0)? {
        Value::Const(t) => {
            n.reserve("the rectified constant", &[t.len()])?;
            let data = t.iter().map(|v| v.max(0.0)).collect();
            Ok(Value::Const(Tensor::new(t.shape.clone(), data, t.int)))
        }
        Value::Var { layer, shape } => {
            let (input, shape) = (*layer, shape.clone());
            Ok(n.push(Op::Relu { input }, shape))
        }
    }
}
