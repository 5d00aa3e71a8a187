//! Building small ONNX models in code: hostile files for the malformed-input suite and seeds for
//! the structure-aware fuzz target (`fuzz/` includes this file by path), so that no hostile
//! file needs to be shipped.

#![allow(dead_code)] // each user takes what it needs

use onnx_protobuf::attribute_proto::AttributeType;
use onnx_protobuf::tensor_shape_proto::{dimension, Dimension};
use onnx_protobuf::{
    type_proto, AttributeProto, GraphProto, Message, ModelProto, NodeProto, OperatorSetIdProto, TensorProto,
    TensorShapeProto, TypeProto, ValueInfoProto,
};
use protobuf::{EnumOrUnknown, MessageField};

/// A float tensor `name` of shape `dims` holding `data` (raw little-endian bytes).
pub fn floats(name: &str, dims: &[i64], data: &[f32]) -> TensorProto {
    let mut t = TensorProto::new();
    t.name = name.into();
    t.dims = dims.to_vec();
    t.data_type = 1; // FLOAT
    t.raw_data = data.iter().flat_map(|v| v.to_le_bytes()).collect();
    t
}

/// An int64 tensor (shapes, axes, slice bounds).
pub fn int64s(name: &str, dims: &[i64], data: &[i64]) -> TensorProto {
    let mut t = TensorProto::new();
    t.name = name.into();
    t.dims = dims.to_vec();
    t.data_type = 7; // INT64
    t.int64_data = data.to_vec();
    t
}

/// A float tensor value of fixed shape (graph inputs and outputs).
pub fn value(name: &str, dims: &[i64]) -> ValueInfoProto {
    let mut shape = TensorShapeProto::new();
    shape.dim = (dims.iter())
        .map(|&d| {
            let mut dim = Dimension::new();
            dim.value = Some(dimension::Value::DimValue(d));
            dim
        })
        .collect();
    let mut tt = type_proto::Tensor::new();
    tt.elem_type = 1;
    tt.shape = MessageField::some(shape);
    let mut tp = TypeProto::new();
    tp.value = Some(type_proto::Value::TensorType(tt));
    let mut v = ValueInfoProto::new();
    v.name = name.into();
    v.type_ = MessageField::some(tp);
    v
}

pub fn ints(name: &str, v: &[i64]) -> AttributeProto {
    let mut a = AttributeProto::new();
    a.name = name.into();
    a.type_ = EnumOrUnknown::new(AttributeType::INTS);
    a.ints = v.to_vec();
    a
}

pub fn int(name: &str, v: i64) -> AttributeProto {
    let mut a = AttributeProto::new();
    a.name = name.into();
    a.type_ = EnumOrUnknown::new(AttributeType::INT);
    a.i = v;
    a
}

/// A node named after its (first) output.
pub fn node(op: &str, inputs: &[&str], output: &str, attrs: Vec<AttributeProto>) -> NodeProto {
    let mut n = NodeProto::new();
    n.op_type = op.into();
    n.name = output.into();
    n.input = inputs.iter().map(|s| s.to_string()).collect();
    n.output = vec![output.into()];
    n.attribute = attrs;
    n
}

/// A graph with input `x` of shape `input` and output `y` of shape `output`.
pub fn graph(input: &[i64], nodes: Vec<NodeProto>, inits: Vec<TensorProto>, output: &[i64]) -> GraphProto {
    let mut g = GraphProto::new();
    g.name = "g".into();
    g.input = vec![value("x", input)];
    g.node = nodes;
    g.initializer = inits;
    g.output = vec![value("y", output)];
    g
}

/// A model of `graph` at default-domain opset `opset`.
pub fn model_at(graph: GraphProto, opset: i64) -> ModelProto {
    let mut m = ModelProto::new();
    m.ir_version = 8;
    let mut op = OperatorSetIdProto::new();
    op.version = opset;
    m.opset_import = vec![op];
    m.graph = MessageField::some(graph);
    m
}

/// The bytes of `graph` as a model at opset 13.
pub fn bytes(graph: GraphProto) -> Vec<u8> {
    model_at(graph, 13).write_to_bytes().expect("serialise")
}

/// `y = relu(W x + b)` for `x` of shape `[1, n]`, `W` `m×n`: a valid little network.
pub fn dense(n: usize, m: usize, seed: u64) -> GraphProto {
    let mut s = seed | 1;
    let mut next = move || {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        (s >> 40) as f32 / (1u64 << 24) as f32 * 2.0 - 1.0
    };
    let w: Vec<f32> = (0..n * m).map(|_| next()).collect();
    let b: Vec<f32> = (0..m).map(|_| next()).collect();
    graph(
        &[1, n as i64],
        vec![
            node("Gemm", &["x", "W", "b"], "h", vec![int("transB", 1)]),
            node("Relu", &["h"], "y", vec![]),
        ],
        vec![floats("W", &[m as i64, n as i64], &w), floats("b", &[m as i64], &b)],
        &[1, m as i64],
    )
}
