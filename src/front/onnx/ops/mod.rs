//! One builder per ONNX operator, registered by name in [`REGISTRY`].
//!
//! A builder reads its node's attributes (with the ONNX defaults, handling opset differences
//! itself) and inputs, and expands the operator into IR primitives through [`Node`]. Later
//! passes never see ONNX names.

mod activation;
mod conv;
mod elementwise;
mod linear;
mod norm;
mod pool;
mod shape;

use onnx_protobuf::attribute_proto::AttributeType;
use onnx_protobuf::{AttributeProto, NodeProto};
use thiserror::Error;

use super::tensor::Tensor;
use super::LoadOptions;
use crate::ir::{Handle, Layer, Op, SparseMatrix};

/// A value flowing along a graph edge while the graph is translated.
#[derive(Clone, Debug)]
pub enum Value {
    /// Known before the network runs: initializers and what is folded from them.
    Const(Tensor),
    /// Computed by IR layer `layer`; `shape` is the ONNX shape, batch dimension (= 1) included.
    Var { layer: Handle, shape: Vec<usize> },
}

impl Value {
    pub fn shape(&self) -> &[usize] {
        match self {
            Value::Const(t) => &t.shape,
            Value::Var { shape, .. } => shape,
        }
    }
}

/// What a builder can go wrong on; the loader adds the file, node name and op type.
#[derive(Debug, Error, PartialEq)]
pub enum NodeError {
    #[error("input {index} is missing")]
    MissingInput { index: usize },
    #[error("input {index} must be a constant (weights, shapes and axes cannot depend on the network input)")]
    NotConstant { index: usize },
    #[error("attribute {name}: {message}")]
    Attribute { name: String, message: String },
    #[error("shape mismatch: {0}")]
    Shape(String),
    #[error("not supported: {0}")]
    Unsupported(String),
    #[error("{0}")]
    Invalid(String),
    #[error(
        "{what} would need {count} entries, more than the {left} left of the load's budget of {limit} (--max-nonzeros)"
    )]
    TooLarge {
        what: String,
        count: u64,
        left: u64,
        limit: u64,
    },
    #[error("the network would have {count} units, more than the limit of {limit} (--max-units)")]
    TooManyUnits { count: u64, limit: u64 },
}

pub type Build = fn(&mut Node<'_>) -> Result<Value, NodeError>;

/// What the loader does with a node whose inputs are all constants.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Fold {
    /// The builder computes constant results itself.
    Native,
    /// The builder is run with input 0 as the input of a scratch network, which is then
    /// evaluated on the constant (one code path for constants and variables).
    ViaIr,
}

/// Every supported operator (default ONNX domain), sorted by name.
pub const REGISTRY: &[(&str, Build, Fold)] = &[
    ("Add", elementwise::add, Fold::Native),
    ("AveragePool", pool::average_pool, Fold::ViaIr),
    ("BatchNormalization", norm::batch_norm, Fold::ViaIr),
    ("Cast", shape::cast, Fold::Native),
    ("Concat", shape::concat, Fold::Native),
    ("Constant", shape::constant, Fold::Native),
    ("Conv", conv::conv, Fold::ViaIr),
    ("Div", elementwise::div, Fold::Native),
    ("Dropout", shape::dropout, Fold::Native),
    ("Flatten", shape::flatten, Fold::Native),
    ("Gather", shape::gather, Fold::Native),
    ("Gemm", linear::gemm, Fold::ViaIr),
    ("GlobalAveragePool", pool::global_average_pool, Fold::ViaIr),
    ("GlobalMaxPool", pool::global_max_pool, Fold::ViaIr),
    ("Identity", shape::identity, Fold::Native),
    ("MatMul", linear::matmul, Fold::ViaIr),
    ("MaxPool", pool::max_pool, Fold::ViaIr),
    ("Mul", elementwise::mul, Fold::Native),
    ("Neg", elementwise::neg, Fold::Native),
    ("Relu", activation::relu, Fold::Native),
    ("Reshape", shape::reshape, Fold::Native),
    ("Shape", shape::shape, Fold::Native),
    ("Slice", shape::slice, Fold::Native),
    ("Squeeze", shape::squeeze, Fold::Native),
    ("Sub", elementwise::sub, Fold::Native),
    ("Transpose", shape::transpose, Fold::Native),
    ("Unsqueeze", shape::unsqueeze, Fold::Native),
];

pub fn lookup(domain: &str, op: &str) -> Option<(Build, Fold)> {
    if !domain.is_empty() && domain != "ai.onnx" {
        return None;
    }
    REGISTRY.iter().find(|(name, ..)| *name == op).map(|&(_, b, f)| (b, f))
}

/// What a whole load may still allocate. One budget for the load, not one per operator: a file
/// of many small expansions (1,000 `Concat`s of the input) is as refused as one huge expansion.
#[derive(Clone, Copy, Debug)]
pub struct Budget {
    pub limits: LoadOptions,
    /// Entries (constant elements, matrix non-zeros, window taps) reserved so far.
    pub entries: u64,
    /// Units of every layer pushed so far.
    pub units: u64,
}

impl Budget {
    pub fn new(limits: LoadOptions) -> Self {
        Budget {
            limits,
            entries: 0,
            units: 0,
        }
    }

    /// Entries still available.
    pub fn left(&self) -> u64 {
        (self.limits.max_nonzeros as u64).saturating_sub(self.entries)
    }

    /// Reserves the product of `factors` entries for `what`, before it is allocated. The
    /// product saturates, so factors that overflow any integer type are simply too many.
    pub fn reserve(&mut self, what: &str, factors: &[usize]) -> Result<(), NodeError> {
        let count = factors.iter().fold(1u64, |acc, &f| acc.saturating_mul(f as u64));
        if count > self.left() {
            return Err(NodeError::TooLarge {
                what: what.to_string(),
                count,
                left: self.left(),
                limit: self.limits.max_nonzeros as u64,
            });
        }
        self.entries += count;
        Ok(())
    }

    /// Whether the layers pushed so far stay within `max_units`.
    pub fn check_units(&self) -> Result<(), NodeError> {
        match self.units > self.limits.max_units as u64 {
            true => Err(NodeError::TooManyUnits {
                count: self.units,
                limit: self.limits.max_units as u64,
            }),
            false => Ok(()),
        }
    }
}

/// The IR being built: layers in topological order, layer 0 the input.
pub struct Net {
    pub layers: Vec<Layer>,
    pub budget: Budget,
}

impl Net {
    pub fn new(budget: Budget) -> Self {
        Net {
            layers: Vec::new(),
            budget,
        }
    }

    /// Appends a layer. Its units are counted against the budget, which the loader checks after
    /// every node ([`Budget::check_units`]): the layer's own storage was reserved by its builder.
    pub fn push(&mut self, name: &str, op: Op, onnx_shape: &[usize]) -> Handle {
        let shape = ir_shape(onnx_shape);
        self.budget.units = (self.budget.units).saturating_add(shape.iter().product::<usize>() as u64);
        self.layers.push(Layer {
            name: name.to_string(),
            op,
            shape,
        });
        Handle::from_index(self.layers.len() - 1)
    }
}

/// The IR shape label of an ONNX shape: the leading batch dimension dropped when it is 1 and
/// the rank is at least 2 (a leading dimension above 1 is data, so it stays).
pub fn ir_shape(onnx: &[usize]) -> Vec<usize> {
    match onnx {
        [1, rest @ ..] if !rest.is_empty() => rest.to_vec(),
        _ => onnx.to_vec(),
    }
}

/// A node being built: its proto, resolved inputs (`None` for an absent optional input) and the
/// network its layers go to.
pub struct Node<'a> {
    pub proto: &'a NodeProto,
    /// Name given to the layers this node creates.
    pub layer_name: &'a str,
    pub inputs: Vec<Option<&'a Value>>,
    pub net: &'a mut Net,
    /// The model's opset for the default ONNX domain; `None` when the model declares none
    /// (then either form of an operator that changed between opsets is read).
    pub opset: Option<i64>,
}

impl<'a> Node<'a> {
    /// Reserves the product of `factors` entries for `what` in the load's budget before the
    /// builder allocates it ([`Budget::reserve`]).
    pub fn reserve(&mut self, what: &str, factors: &[usize]) -> Result<(), NodeError> {
        self.net.budget.reserve(what, factors)
    }

    /// Reads a list of integers that opset `since` moved from attribute `attr` to input
    /// `input`: below it only the attribute is accepted, from it on only the input, and with no
    /// declared opset either.
    pub fn ints_attr_or_input(&self, attr: &str, input: usize, since: i64) -> Result<Option<Vec<i64>>, NodeError> {
        let from_attr = self.ints(attr)?;
        let has_input = self.opt_input(input).is_some();
        match self.opset {
            Some(o) if o < since && has_input => Err(NodeError::Unsupported(format!(
                "input {input} at opset {o}: before opset {since} `{attr}` is an attribute"
            ))),
            Some(o) if o >= since && from_attr.is_some() => Err(self.bad_attr(
                attr,
                format!("not an attribute at opset {o}: since opset {since} it is input {input}"),
            )),
            _ => match from_attr {
                Some(v) => Ok(Some(v)),
                None => self.opt_ints_input(input),
            },
        }
    }

    pub fn input(&self, index: usize) -> Result<&'a Value, NodeError> {
        self.inputs
            .get(index)
            .copied()
            .flatten()
            .ok_or(NodeError::MissingInput { index })
    }

    pub fn opt_input(&self, index: usize) -> Option<&'a Value> {
        self.inputs.get(index).copied().flatten()
    }

    pub fn constant(&self, index: usize) -> Result<&'a Tensor, NodeError> {
        match self.input(index)? {
            Value::Const(t) => Ok(t),
            Value::Var { .. } => Err(NodeError::NotConstant { index }),
        }
    }

    /// An optional constant input given as integers (axes, shapes, slice bounds).
    pub fn opt_ints_input(&self, index: usize) -> Result<Option<Vec<i64>>, NodeError> {
        match self.opt_input(index) {
            None => Ok(None),
            Some(_) => {
                let t = self.constant(index)?;
                let v = t.to_i64s().ok_or_else(|| {
                    NodeError::Shape(format!("input {index} must hold integers, got {:?}", t.to_vec()))
                })?;
                Ok(Some(v))
            }
        }
    }

    /// The layer and ONNX shape of a variable input.
    pub fn var(&self, index: usize) -> Result<(Handle, &'a [usize]), NodeError> {
        match self.input(index)? {
            Value::Var { layer, shape } => Ok((*layer, shape)),
            Value::Const(_) => Err(NodeError::Unsupported(format!(
                "input {index} is a constant where this builder expects a value computed from the network input"
            ))),
        }
    }

    /// Adds a layer for this node computing a value of ONNX shape `shape`.
    pub fn layer(&mut self, op: Op, shape: &[usize]) -> Handle {
        self.net.push(self.layer_name, op, shape)
    }

    /// [`Node::layer`], as a value.
    pub fn push(&mut self, op: Op, shape: Vec<usize>) -> Value {
        let layer = self.layer(op, &shape);
        Value::Var { layer, shape }
    }

    /// An affine layer `weights · x + bias` over the variable `x`.
    pub fn affine(&mut self, x: Handle, weights: SparseMatrix, bias: Vec<f64>, shape: Vec<usize>) -> Value {
        self.push(
            Op::Affine {
                input: x,
                weights,
                bias,
            },
            shape,
        )
    }

    /// `out[i] = v[src[i]]`: transposes, gathers, slices and broadcasts. A constant is gathered;
    /// a variable gets a selection layer, or just a new shape label when `src` is the identity.
    pub fn rearrange(&mut self, v: &Value, shape: Vec<usize>, src: &[usize]) -> Value {
        match v {
            Value::Const(t) => Value::Const(t.gather(shape, src)),
            Value::Var { layer, shape: old } => {
                let n: usize = old.iter().product();
                if src.len() == n && src.iter().enumerate().all(|(i, &j)| i == j) {
                    return Value::Var { layer: *layer, shape };
                }
                let len = src.len();
                self.affine(*layer, SparseMatrix::selection(n, src), vec![0.0; len], shape)
            }
        }
    }

    fn attribute(&self, name: &str) -> Option<&AttributeProto> {
        self.proto.attribute.iter().find(|a| a.name == name)
    }

    fn typed(&self, name: &str, want: AttributeType) -> Result<Option<&AttributeProto>, NodeError> {
        match self.attribute(name) {
            None => Ok(None),
            // Very old exporters leave the type out; trust the field the builder reads.
            Some(a) if matches!(a.type_.enum_value(), Ok(t) if t == want || t == AttributeType::UNDEFINED) => {
                Ok(Some(a))
            }
            Some(a) => Err(self.bad_attr(name, format!("expected {want:?}, found {:?}", a.type_))),
        }
    }

    pub fn bad_attr(&self, name: &str, message: String) -> NodeError {
        NodeError::Attribute {
            name: name.to_string(),
            message,
        }
    }

    pub fn int(&self, name: &str, default: i64) -> Result<i64, NodeError> {
        Ok(self.typed(name, AttributeType::INT)?.map_or(default, |a| a.i))
    }

    pub fn float(&self, name: &str, default: f32) -> Result<f32, NodeError> {
        Ok(self.typed(name, AttributeType::FLOAT)?.map_or(default, |a| a.f))
    }

    pub fn ints(&self, name: &str) -> Result<Option<Vec<i64>>, NodeError> {
        Ok(self.typed(name, AttributeType::INTS)?.map(|a| a.ints.clone()))
    }

    /// A tensor attribute, decoded (and its entries reserved in the budget).
    pub fn tensor(&mut self, name: &str) -> Result<Option<Tensor>, NodeError> {
        match self.typed(name, AttributeType::TENSOR)?.map(|a| a.t.as_ref()) {
            None => Ok(None),
            Some(None) => Err(self.bad_attr(name, "tensor attribute without a tensor".into())),
            Some(Some(t)) => {
                let t = Tensor::from_proto(t).map_err(|m| self.bad_attr(name, m))?;
                self.reserve(&format!("attribute {name}"), &[t.len()])?;
                Ok(Some(t))
            }
        }
    }

    pub fn floats(&self, name: &str) -> Result<Option<Vec<f32>>, NodeError> {
        Ok(self.typed(name, AttributeType::FLOATS)?.map(|a| a.floats.clone()))
    }

    /// Whether the node has attribute `name` at all.
    pub fn has(&self, name: &str) -> bool {
        self.attribute(name).is_some()
    }

    pub fn string(&self, name: &str, default: &str) -> Result<String, NodeError> {
        Ok(self
            .typed(name, AttributeType::STRING)?
            .map_or(default.to_string(), |a| String::from_utf8_lossy(&a.s).into_owned()))
    }

    /// A boolean-valued integer attribute (0 or 1).
    pub fn flag(&self, name: &str, default: bool) -> Result<bool, NodeError> {
        match self.int(name, default as i64)? {
            0 => Ok(false),
            1 => Ok(true),
            v => Err(self.bad_attr(name, format!("must be 0 or 1, got {v}"))),
        }
    }

    /// An `axis` attribute normalised against `rank` (negative counts from the end).
    pub fn axis(&self, name: &str, default: i64, rank: usize) -> Result<usize, NodeError> {
        let a = self.int(name, default)?;
        normalize_axis(a, rank).ok_or_else(|| self.bad_attr(name, format!("axis {a} out of range for rank {rank}")))
    }
}

/// `axis` in `-rank..rank` as an index in `0..rank`.
pub fn normalize_axis(axis: i64, rank: usize) -> Option<usize> {
    let r = rank as i64;
    (-r..r)
        .contains(&axis)
        .then_some(if axis < 0 { axis + r } else { axis } as usize)
}

/// The product of `factors`, `None` when it overflows: sizes computed from a file's attributes.
pub fn checked_product(factors: impl IntoIterator<Item = usize>) -> Option<usize> {
    factors.into_iter().try_fold(1usize, |acc, f| acc.checked_mul(f))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attr(name: &str, ty: AttributeType, ints: &[i64]) -> AttributeProto {
        let mut a = AttributeProto::new();
        a.name = name.into();
        a.type_ = ty.into();
        match ty {
            AttributeType::INT => a.i = ints[0],
            _ => a.ints = ints.to_vec(),
        }
        a
    }

    /// Runs the builder of `op` on a node with attributes `attrs` over `inputs`.
    fn run(op: &str, attrs: &[AttributeProto], inputs: &[Value]) -> Result<Value, NodeError> {
        let mut proto = NodeProto::new();
        proto.op_type = op.into();
        proto.attribute = attrs.to_vec();
        let (build, _) = lookup("", op).expect("a registered op");
        build(&mut Node {
            proto: &proto,
            layer_name: "n",
            inputs: inputs.iter().map(Some).collect(),
            net: &mut Net::new(Budget::new(LoadOptions::default())),
            opset: None,
        })
    }

    fn var(shape: &[usize]) -> Value {
        Value::Var {
            layer: Handle::from_index(0),
            shape: shape.to_vec(),
        }
    }

    fn ints(v: &[i64]) -> Value {
        Value::Const(Tensor::ints(v))
    }

    fn folded(v: Result<Value, NodeError>) -> Vec<i64> {
        match v.unwrap() {
            Value::Const(t) => t.to_i64s().unwrap(),
            Value::Var { .. } => panic!("not folded"),
        }
    }

    #[test]
    fn squeeze_without_axes_drops_every_unit_axis() {
        let v = run("Squeeze", &[], &[var(&[1, 3, 1, 2])]).unwrap();
        assert_eq!(v.shape(), [3, 2]);
        let e = run("Squeeze", &[attr("axes", AttributeType::INTS, &[1])], &[var(&[1, 3])]).unwrap_err();
        assert_eq!(e.to_string(), "shape mismatch: cannot squeeze axis 1 of [1, 3]");
    }

    #[test]
    fn reshape_infers_minus_one_and_refuses_bad_sizes() {
        let v = run("Reshape", &[], &[var(&[1, 2, 3, 4]), ints(&[0, 3, -1])]).unwrap();
        assert_eq!(v.shape(), [1, 3, 8]);
        let e = run("Reshape", &[], &[var(&[1, 2, 3, 4]), ints(&[5, -1])]).unwrap_err();
        assert!(matches!(e, NodeError::Shape(_)), "{e}");
    }

    #[test]
    fn nonlinear_combinations_are_refused() {
        let e = run("Mul", &[], &[var(&[1, 3]), var(&[1, 3])]).unwrap_err();
        assert!(e
            .to_string()
            .contains("Mul of two values computed from the network input is not linear"));
        let c = Value::Const(Tensor::new(vec![3], vec![1.0, 2.0, 3.0], false));
        let e = run("Div", &[], &[c, var(&[1, 3])]).unwrap_err();
        assert!(e
            .to_string()
            .contains("dividing a constant by a value computed from the network input"));
        let e = run("Gemm", &[], &[var(&[1, 3]), var(&[3, 2])]).unwrap_err();
        assert!(matches!(e, NodeError::Unsupported(_)), "{e}");
    }

    #[test]
    fn constant_shape_arithmetic_is_folded() {
        // PyTorch's flatten: Shape -> Gather(0) -> Unsqueeze -> Concat with [-1].
        let shape = run("Shape", &[], &[var(&[1, 4, 2, 2])]).unwrap();
        let scalar_zero = Value::Const(Tensor::ints(&[0]).reshaped(vec![]));
        let n = run("Gather", &[], &[shape, scalar_zero]).unwrap();
        assert!(n.shape().is_empty());
        let n = run("Unsqueeze", &[attr("axes", AttributeType::INTS, &[0])], &[n]).unwrap();
        let e = run("Concat", &[], &[n.clone(), ints(&[-1])]).unwrap_err();
        assert_eq!(e.to_string(), "attribute axis: missing");
        let axis0 = attr("axis", AttributeType::INT, &[0]);
        assert_eq!(folded(run("Concat", &[axis0], &[n, ints(&[-1])])), [1, -1]);
        // Integer division truncates; Shape's start/end slice the dimensions.
        assert_eq!(folded(run("Div", &[], &[ints(&[7, -7]), ints(&[2])])), [3, -3]);
        let start = attr("start", AttributeType::INT, &[-2]);
        assert_eq!(folded(run("Shape", &[start], &[var(&[1, 4, 2, 3])])), [2, 3]);
    }
}
