//! ONNX front end: an `.onnx` (or `.onnx.gz`) file in, a simplified [`Network`] out.
//!
//! The loader ([`load_bytes`]) parses the protobuf, turns initializers into constant tensors
//! and walks the nodes in file order. Every value is either a constant (folded on the spot:
//! a node whose inputs are all constants is evaluated, so exporters' shape subgraphs disappear)
//! or a variable held by an IR layer. One builder per operator (`ops/`, registered in
//! `ops::REGISTRY`) expands ONNX operators into IR primitives.
//!
//! Conventions: the network has one input and one output; shapes carry ONNX's batch dimension,
//! taken as 1 when it is symbolic or 0; IR shape labels drop it (`[1, 1, 28, 28]` →
//! `[1, 28, 28]`). Nothing is ever allocated beyond [`MAX_ENTRIES`] entries.

mod ops;
mod tensor;

use std::collections::HashMap;
use std::io::Read;
use std::path::Path;

use onnx_protobuf::tensor_proto::DataType;
use onnx_protobuf::type_proto;
use onnx_protobuf::{Message, ModelProto, NodeProto, ValueInfoProto};
use thiserror::Error;

use crate::ir::{IrError, Network, Op};
pub use ops::NodeError;
use ops::{ir_shape, lookup, Build, Fold, Net, Node, Value};
pub use tensor::MAX_ENTRIES;
use tensor::{element_count, Tensor};

/// Largest file accepted (after gunzipping): protobuf itself cannot go past 2 GiB.
const MAX_FILE_BYTES: u64 = 2 << 30;

/// Why a file could not be turned into a network. Every message names the file and, where one
/// is to blame, the node (its name, or `#index 'first output'` when unnamed) and its op type.
#[derive(Debug, Error)]
pub enum OnnxError {
    #[error("file {file}: cannot read: {error}")]
    Io { file: String, error: std::io::Error },
    #[error("file {file}: not a valid ONNX model: {message}")]
    Malformed { file: String, message: String },
    #[error("file {file}: initializer {tensor}: {message}")]
    Initializer {
        file: String,
        tensor: String,
        message: String,
    },
    #[error(
        "file {file}: the graph must have exactly one input besides its initializers, it has {}: [{}]",
        names.len(), names.join(", ")
    )]
    Inputs { file: String, names: Vec<String> },
    #[error("file {file}: graph input {name}: {message}")]
    InputType {
        file: String,
        name: String,
        message: String,
    },
    #[error(
        "file {file}: the graph must have exactly one output, it has {}: [{}]",
        names.len(), names.join(", ")
    )]
    Outputs { file: String, names: Vec<String> },
    #[error("file {file}: graph output {name}: {message}")]
    Output {
        file: String,
        name: String,
        message: String,
    },
    #[error(
        "file {file}: unsupported operators in {}; supported operators: {}",
        nodes.iter().map(|(n, op)| format!("node {n} ({op})")).collect::<Vec<_>>().join(", "),
        supported_ops().join(", ")
    )]
    Unsupported {
        file: String,
        /// `(node, op type)` of every unsupported node, in file order.
        nodes: Vec<(String, String)>,
    },
    #[error(
        "file {file}: node {node} ({op}) reads {name}, which no earlier node, initializer or graph input produces"
    )]
    MissingValue {
        file: String,
        node: String,
        op: String,
        name: String,
    },
    #[error("file {file}: node {node} ({op}) reads {name}, an extra output of node {producer} that is not supported")]
    ExtraOutput {
        file: String,
        node: String,
        op: String,
        name: String,
        producer: String,
    },
    #[error(
        "file {file}: tensor {tensor}, read by node {node} ({op}), holds the non-finite value {value} at index {index}"
    )]
    NonFinite {
        file: String,
        tensor: String,
        node: String,
        op: String,
        value: f64,
        index: usize,
    },
    #[error("file {file}: node {node} ({op}): {error}")]
    Node {
        file: String,
        node: String,
        op: String,
        error: NodeError,
    },
    #[error("file {file}: the translated network is invalid: {error}")]
    Ir { file: String, error: IrError },
}

/// The operator types the front end translates, sorted.
pub fn supported_ops() -> Vec<&'static str> {
    ops::REGISTRY.iter().map(|(name, ..)| *name).collect()
}

/// Reads an ONNX file (gunzipped first when its name ends in `.gz`) and translates it.
pub fn load(path: &Path) -> Result<Network, OnnxError> {
    let file = path.display().to_string();
    let io = |error| OnnxError::Io {
        file: file.clone(),
        error,
    };
    let mut bytes = Vec::new();
    let reader = std::fs::File::open(path).map_err(io)?;
    let gz = path.extension().is_some_and(|e| e == "gz");
    let read = if gz {
        flate2::read::GzDecoder::new(reader)
            .take(MAX_FILE_BYTES + 1)
            .read_to_end(&mut bytes)
    } else {
        reader.take(MAX_FILE_BYTES + 1).read_to_end(&mut bytes)
    };
    read.map_err(|e| match gz {
        true => OnnxError::Malformed {
            file: file.clone(),
            message: format!("cannot gunzip: {e}"),
        },
        false => io(e),
    })?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(OnnxError::Malformed {
            file,
            message: format!("larger than {MAX_FILE_BYTES} bytes"),
        });
    }
    load_bytes(&bytes, &file)
}

/// Translates the bytes of an ONNX model; `source` names it in messages.
pub fn load_bytes(bytes: &[u8], source: &str) -> Result<Network, OnnxError> {
    let model = ModelProto::parse_from_bytes(bytes).map_err(|e| OnnxError::Malformed {
        file: source.to_string(),
        message: e.to_string(),
    })?;
    translate(&model, source)
}

/// How messages name a node: its name, or its index and first output when it has none.
fn node_label(index: usize, node: &NodeProto) -> String {
    match node.name.is_empty() {
        false => node.name.clone(),
        true => format!("#{index} '{}'", node.output.first().map_or("", String::as_str)),
    }
}

fn op_label(node: &NodeProto) -> String {
    match node.domain.as_str() {
        "" | "ai.onnx" => node.op_type.clone(),
        d => format!("{d}.{}", node.op_type),
    }
}

fn translate(model: &ModelProto, file: &str) -> Result<Network, OnnxError> {
    let file_s = || file.to_string();
    let graph = model.graph.as_ref().ok_or_else(|| OnnxError::Malformed {
        file: file_s(),
        message: "no graph".into(),
    })?;

    let unsupported: Vec<(String, String)> = (graph.node.iter().enumerate())
        .filter(|(_, n)| lookup(&n.domain, &n.op_type).is_none())
        .map(|(i, n)| (node_label(i, n), op_label(n)))
        .collect();
    if !unsupported.is_empty() {
        return Err(OnnxError::Unsupported {
            file: file_s(),
            nodes: unsupported,
        });
    }

    let mut values: HashMap<&str, Value> = HashMap::new();
    for t in &graph.initializer {
        let tensor = Tensor::from_proto(t).map_err(|message| OnnxError::Initializer {
            file: file_s(),
            tensor: t.name.clone(),
            message,
        })?;
        values.insert(&t.name, Value::Const(tensor));
    }
    // Older exporters also list initializers as graph inputs: those are constants.
    let inputs: Vec<&ValueInfoProto> = graph
        .input
        .iter()
        .filter(|i| !values.contains_key(i.name.as_str()))
        .collect();
    let [input] = inputs[..] else {
        return Err(OnnxError::Inputs {
            file: file_s(),
            names: inputs.iter().map(|i| i.name.clone()).collect(),
        });
    };
    if graph.output.len() != 1 {
        return Err(OnnxError::Outputs {
            file: file_s(),
            names: graph.output.iter().map(|o| o.name.clone()).collect(),
        });
    }
    let shape = input_shape(input).map_err(|message| OnnxError::InputType {
        file: file_s(),
        name: input.name.clone(),
        message,
    })?;
    let mut net = Net::default();
    let layer = net.push(&input.name, Op::Input, &shape);
    values.insert(&input.name, Value::Var { layer, shape });

    // Extra outputs (MaxPool's indices, BatchNormalization's running statistics, Dropout's
    // mask) are not computed; reading one is an error naming its producer.
    let mut extra_outputs: HashMap<&str, String> = HashMap::new();
    for (i, proto) in graph.node.iter().enumerate() {
        let (node, op) = (node_label(i, proto), op_label(proto));
        let (build, fold) = lookup(&proto.domain, &proto.op_type).expect("unsupported nodes were rejected above");
        let inputs = read_inputs(proto, (&node, &op), &values, &extra_outputs, file)?;
        let Some(output) = proto.output.first().filter(|o| !o.is_empty()) else {
            return Err(OnnxError::Malformed {
                file: file_s(),
                message: format!("node {node} ({op}) has no output"),
            });
        };
        let layer_name = if proto.name.is_empty() { output } else { &proto.name };
        let all_const = inputs.iter().flatten().all(|v| matches!(v, Value::Const(_)));
        let result = match inputs.first() {
            Some(Some(Value::Const(first))) if all_const && fold == Fold::ViaIr => {
                fold_via_ir(build, proto, layer_name, first, inputs.clone())
            }
            _ => build(&mut Node {
                proto,
                layer_name,
                inputs,
                net: &mut net,
            }),
        };
        let value = result.map_err(|error| OnnxError::Node {
            file: file_s(),
            node: node.clone(),
            op,
            error,
        })?;
        for extra in proto.output.iter().skip(1).filter(|o| !o.is_empty()) {
            extra_outputs.insert(extra, node.clone());
        }
        values.insert(output, value);
    }

    let out_name = &graph.output[0].name;
    let output_error = |message: &str| OnnxError::Output {
        file: file_s(),
        name: out_name.clone(),
        message: message.into(),
    };
    match values.get(out_name.as_str()) {
        None => Err(output_error("no node, initializer or input produces it")),
        Some(Value::Const(_)) => Err(output_error("it does not depend on the network input")),
        Some(Value::Var { layer, shape }) => {
            // Relabel the output layer with the graph's output shape (a trailing Flatten or
            // Reshape only changed the label).
            net.layers[layer.index()].shape = ir_shape(shape);
            let network = Network::new(net.layers, *layer).map_err(|error| OnnxError::Ir { file: file_s(), error })?;
            Ok(network.simplify())
        }
    }
}

/// The values node `proto` (labelled `node`, `op`) reads, `None` for an absent optional input;
/// constants are checked to be finite here, where the message can name tensor and reader.
fn read_inputs<'v>(
    proto: &NodeProto,
    (node, op): (&str, &str),
    values: &'v HashMap<&str, Value>,
    extra_outputs: &HashMap<&str, String>,
    file: &str,
) -> Result<Vec<Option<&'v Value>>, OnnxError> {
    let (file, node, op) = (file.to_string(), node.to_string(), op.to_string());
    let mut inputs = Vec::with_capacity(proto.input.len());
    for name in &proto.input {
        if name.is_empty() {
            inputs.push(None);
            continue;
        }
        let name_s = name.clone();
        let Some(v) = values.get(name.as_str()) else {
            return Err(match extra_outputs.get(name.as_str()) {
                Some(producer) => OnnxError::ExtraOutput {
                    file,
                    node,
                    op,
                    name: name_s,
                    producer: producer.clone(),
                },
                None => OnnxError::MissingValue {
                    file,
                    node,
                    op,
                    name: name_s,
                },
            });
        };
        if let Value::Const(t) = v {
            if let Some(index) = t.data.iter().position(|x| !x.is_finite()) {
                let value = t.data[index];
                return Err(OnnxError::NonFinite {
                    file,
                    tensor: name_s,
                    node,
                    op,
                    value,
                    index,
                });
            }
        }
        inputs.push(Some(v));
    }
    Ok(inputs)
}

/// Evaluates a node whose inputs are all constants by building it over a scratch network whose
/// input stands for the first constant, then running that network on it.
fn fold_via_ir<'a>(
    build: Build,
    proto: &'a NodeProto,
    layer_name: &'a str,
    first: &'a Tensor,
    inputs: Vec<Option<&'a Value>>,
) -> Result<Value, NodeError> {
    let mut scratch = Net::default();
    let x = Value::Var {
        layer: scratch.push("constant", Op::Input, &first.shape),
        shape: first.shape.clone(),
    };
    let mut inputs: Vec<Option<&Value>> = inputs;
    inputs[0] = Some(&x);
    let out = build(&mut Node {
        proto,
        layer_name,
        inputs,
        net: &mut scratch,
    })?;
    let Value::Var { layer, shape } = out else {
        return Ok(out);
    };
    let invalid = |e: IrError| NodeError::Invalid(format!("folding constants: {e}"));
    let data = Network::new(scratch.layers, layer)
        .and_then(|net| net.forward(&first.data))
        .map_err(invalid)?;
    Ok(Value::Const(Tensor::new(shape, data, false)))
}

/// The ONNX shape of the graph input: fixed dimensions, except a symbolic or zero batch (first)
/// dimension, read as 1.
fn input_shape(v: &ValueInfoProto) -> Result<Vec<usize>, String> {
    let Some(type_proto::Value::TensorType(t)) = v.type_.as_ref().and_then(|t| t.value.as_ref()) else {
        return Err("not a tensor".into());
    };
    if t.elem_type != DataType::FLOAT as i32 && t.elem_type != DataType::DOUBLE as i32 {
        return Err(format!(
            "element type {} (only float inputs are supported)",
            tensor::type_name(t.elem_type)
        ));
    }
    let dims = &t.shape.as_ref().ok_or("no shape given")?.dim;
    use onnx_protobuf::tensor_shape_proto::dimension::Value as Dim;
    let shape = (dims.iter().enumerate())
        .map(|(i, d)| match (&d.value, i) {
            (Some(Dim::DimValue(v)), _) if *v > 0 => Ok(*v as usize),
            (Some(Dim::DimValue(0)) | Some(Dim::DimParam(_)) | None, 0) => Ok(1),
            (v, _) => Err(format!("dimension {i} is {v:?}, not a fixed size")),
        })
        .collect::<Result<Vec<_>, _>>()?;
    if element_count(&shape).is_none() {
        return Err(tensor::too_large("input", &shape));
    }
    Ok(shape)
}
