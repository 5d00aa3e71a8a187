//! What the fuzz targets share: small load limits, seed models, and the structure-aware
//! mutation of a valid `ModelProto`.

#[path = "../../tests/common/onnx_build.rs"]
pub mod build;

use build::*;
use nnmilp::front::onnx::LoadOptions;
use onnx_protobuf::{AttributeProto, Message, ModelProto};

/// Limits small enough that every execution stays fast and far below libFuzzer's memory limit;
/// a file that needs more is refused, which is itself the behaviour under test.
pub const LIMITS: LoadOptions = LoadOptions {
    max_units: 100_000,
    max_nonzeros: 1_000_000,
};

/// The operator types a mutation may swap in (the supported ones and two that are not).
const OPS: &[&str] = &[
    "Add",
    "AveragePool",
    "BatchNormalization",
    "Cast",
    "Concat",
    "Constant",
    "Conv",
    "Div",
    "Dropout",
    "Flatten",
    "Gather",
    "Gemm",
    "GlobalAveragePool",
    "GlobalMaxPool",
    "Identity",
    "MatMul",
    "MaxPool",
    "Mul",
    "Neg",
    "Relu",
    "Reshape",
    "Shape",
    "Slice",
    "Squeeze",
    "Sub",
    "Transpose",
    "Unsqueeze",
    "Sigmoid",
    "Loop",
];

/// Integers a mutation writes into dimensions and attributes: edges of every range that the
/// loader's arithmetic could get wrong.
const INTERESTING: &[i64] = &[
    0,
    1,
    2,
    3,
    -1,
    -2,
    7,
    255,
    256,
    65535,
    1 << 31,
    (1 << 31) - 1,
    1 << 32,
    1 << 40,
    1 << 62,
    i64::MAX,
    i64::MIN,
    i64::MIN + 1,
    -(1 << 32),
];

/// Seed models: one of each family of operators (dense, conv + pool, shape folding, slices and
/// concatenation, broadcasting constants).
pub fn seeds() -> Vec<ModelProto> {
    let dense_net = dense(3, 4, 7);
    let conv = graph(
        &[1, 1, 4, 4],
        vec![
            node(
                "Conv",
                &["x", "W", "B"],
                "c",
                vec![ints("pads", &[1, 1, 1, 1]), ints("strides", &[1, 1])],
            ),
            node("Relu", &["c"], "r", vec![]),
            node(
                "MaxPool",
                &["r"],
                "p",
                vec![ints("kernel_shape", &[2, 2]), ints("strides", &[2, 2])],
            ),
            node("AveragePool", &["p"], "q", vec![ints("kernel_shape", &[1, 1])]),
            node("Flatten", &["q"], "y", vec![int("axis", 1)]),
        ],
        vec![floats("W", &[2, 1, 3, 3], &[0.5; 18]), floats("B", &[2], &[0.1, -0.1])],
        &[1, 8],
    );
    let shapes = graph(
        &[1, 2, 3],
        vec![
            node("Shape", &["x"], "s", vec![]),
            node("Gather", &["s", "zero"], "n", vec![int("axis", 0)]),
            node("Unsqueeze", &["n", "zero1"], "n1", vec![]),
            node("Concat", &["n1", "minus1"], "spec", vec![int("axis", 0)]),
            node("Reshape", &["x", "spec"], "flat", vec![]),
            node("Transpose", &["flat"], "t", vec![ints("perm", &[1, 0])]),
            node("Slice", &["t", "st", "en", "ax", "sp"], "sl", vec![]),
            node("Squeeze", &["sl", "one"], "y", vec![]),
        ],
        vec![
            int64s("zero", &[], &[0]),
            int64s("zero1", &[1], &[0]),
            int64s("minus1", &[1], &[-1]),
            int64s("st", &[1], &[4]),
            int64s("en", &[1], &[0]),
            int64s("ax", &[1], &[0]),
            int64s("sp", &[1], &[-2]),
            int64s("one", &[1], &[1]),
        ],
        &[2],
    );
    let broadcast = graph(
        &[1, 3],
        vec![
            node("Add", &["A", "B"], "ab", vec![]),
            node("Mul", &["x", "ab"], "m", vec![]),
            node("Sub", &["m", "x"], "d", vec![]),
            node("Concat", &["d", "x"], "y", vec![int("axis", 1)]),
        ],
        vec![
            floats("A", &[3, 1], &[1.0, 2.0, 3.0]),
            floats("B", &[1, 3], &[0.5, 0.25, 0.125]),
        ],
        &[3, 6],
    );
    [dense_net, conv, shapes, broadcast]
        .into_iter()
        .map(|g| model_at(g, 13))
        .collect()
}

/// Reads bytes as choices, returning zeros once they run out (so every input is a program).
pub struct Choices<'a>(pub &'a [u8]);

impl Choices<'_> {
    pub fn byte(&mut self) -> u8 {
        match self.0.split_first() {
            Some((&b, rest)) => {
                self.0 = rest;
                b
            }
            None => 0,
        }
    }
    pub fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            return 0;
        }
        (u16::from_le_bytes([self.byte(), self.byte()]) as usize) % n
    }
    pub fn int(&mut self) -> i64 {
        match self.byte() % 4 {
            0 => i64::from(self.byte() as i8),
            1 => i64::from_le_bytes(std::array::from_fn(|_| self.byte())),
            _ => INTERESTING[self.below(INTERESTING.len())],
        }
    }
}

/// Applies up to 8 mutations chosen by `c` to one of the seed models: dimensions, attributes,
/// initializer sizes, op types and value names.
pub fn mutate(c: &mut Choices<'_>) -> ModelProto {
    let mut seeds = seeds();
    let mut m = seeds.swap_remove(c.below(seeds.len()));
    let steps = c.below(9);
    for _ in 0..steps {
        let g = m.graph.as_mut().expect("seeds have graphs");
        match c.byte() % 10 {
            0 => {
                // A dimension of an initializer.
                let k = c.below(g.initializer.len());
                if let Some(t) = g.initializer.get_mut(k) {
                    let d = c.below(t.dims.len() + 1);
                    match t.dims.get_mut(d) {
                        Some(v) => *v = c.int(),
                        None => t.dims.push(c.int()),
                    }
                }
            }
            1 => {
                // A dimension of the graph input or output.
                use onnx_protobuf::tensor_shape_proto::dimension::Value as Dim;
                let v = if c.byte() % 2 == 0 { &mut g.input } else { &mut g.output };
                if let Some(onnx_protobuf::type_proto::Value::TensorType(t)) = v
                    .first_mut()
                    .and_then(|v| v.type_.as_mut().and_then(|t| t.value.as_mut()))
                {
                    let n = t.shape.dim.len();
                    if let Some(d) = t.shape.as_mut().and_then(|s| s.dim.get_mut(c.below(n))) {
                        d.value = Some(Dim::DimValue(c.int()));
                    }
                }
            }
            2 => {
                // An attribute value, or a new attribute.
                let k = c.below(g.node.len());
                if let Some(n) = g.node.get_mut(k) {
                    let a = c.below(n.attribute.len() + 1);
                    if a == n.attribute.len() {
                        let name = [
                            "axis",
                            "axes",
                            "perm",
                            "pads",
                            "strides",
                            "dilations",
                            "kernel_shape",
                            "group",
                        ][c.below(8)];
                        n.attribute.push(match c.byte() % 2 {
                            0 => int(name, c.int()),
                            _ => ints(name, &(0..c.below(5)).map(|_| c.int()).collect::<Vec<_>>()),
                        });
                    } else {
                        let attr: &mut AttributeProto = &mut n.attribute[a];
                        attr.i = c.int();
                        let len = attr.ints.len();
                        match attr.ints.get_mut(c.below(len + 1)) {
                            Some(v) => *v = c.int(),
                            None => attr.ints.push(c.int()),
                        }
                    }
                }
            }
            3 => {
                // An initializer's size: data truncated, grown or its values replaced.
                let k = c.below(g.initializer.len());
                if let Some(t) = g.initializer.get_mut(k) {
                    match c.byte() % 4 {
                        0 => t.raw_data.truncate(c.below(t.raw_data.len() + 1)),
                        1 => t.raw_data.extend((0..c.below(64)).map(|_| c.byte())),
                        2 => t.int64_data = (0..c.below(6)).map(|_| c.int()).collect(),
                        _ => {
                            let v = f32::from_bits(u32::from_le_bytes(std::array::from_fn(|_| c.byte())));
                            let at = c.below(t.raw_data.len() / 4 + 1) * 4;
                            if at + 4 <= t.raw_data.len() {
                                t.raw_data[at..at + 4].copy_from_slice(&v.to_le_bytes());
                            }
                        }
                    }
                }
            }
            4 => {
                let k = c.below(g.node.len());
                if let Some(n) = g.node.get_mut(k) {
                    n.op_type = OPS[c.below(OPS.len())].into();
                }
            }
            5 => {
                // A value name: a node's input or output renamed to another name in the graph.
                let names: Vec<String> = (g.node.iter())
                    .flat_map(|n| n.input.iter().chain(&n.output).cloned())
                    .chain(g.initializer.iter().map(|t| t.name.clone()))
                    .chain(["x".to_string(), "y".to_string(), String::new()])
                    .collect();
                let name = names[c.below(names.len())].clone();
                let k = c.below(g.node.len());
                if let Some(n) = g.node.get_mut(k) {
                    let list = if c.byte() % 2 == 0 { &mut n.input } else { &mut n.output };
                    let i = c.below(list.len() + 1);
                    match list.get_mut(i) {
                        Some(v) => *v = name,
                        None => list.push(name),
                    }
                }
            }
            6 => {
                // Nodes duplicated, dropped or swapped (order and definitions).
                let (i, j) = (c.below(g.node.len()), c.below(g.node.len()));
                match c.byte() % 3 {
                    0 if i < g.node.len() => {
                        let n = g.node[i].clone();
                        g.node.insert(j, n);
                    }
                    1 if i < g.node.len() => {
                        g.node.remove(i);
                    }
                    _ if i < g.node.len() && j < g.node.len() => g.node.swap(i, j),
                    _ => {}
                }
            }
            7 => {
                if let Some(o) = m.opset_import.first_mut() {
                    o.version = [1, 5, 9, 10, 11, 12, 13, 17, 21, 0, -1][c.below(11)];
                }
            }
            8 => {
                // An initializer's element type.
                let k = c.below(g.initializer.len());
                if let Some(t) = g.initializer.get_mut(k) {
                    t.data_type = [1, 6, 7, 11, 0, 3, 16][c.below(7)];
                }
            }
            _ => {
                // An input read twice as a graph input, or a second graph output.
                if c.byte() % 2 == 0 {
                    let v = g.input[0].clone();
                    g.input.push(v);
                } else if let Some(n) = g.node.first() {
                    let mut v = g.output[0].clone();
                    v.name = n.output.first().cloned().unwrap_or_default();
                    g.output.push(v);
                }
            }
        }
    }
    m
}

/// The serialised bytes of `m` (what the loader reads).
pub fn to_bytes(m: &ModelProto) -> Vec<u8> {
    m.write_to_bytes().unwrap_or_default()
}
