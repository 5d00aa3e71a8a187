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
//! `[1, 28, 28]`).
//!
//! Hostile files: the file is read once, through a reader capped by [`LoadOptions`]; every size
//! computed from it is checked arithmetic; every expansion reserves its entries in one budget
//! for the whole load ([`LoadOptions::max_nonzeros`]) and every layer counts its units
//! ([`LoadOptions::max_units`]) *before* anything that large is allocated; a constant's
//! finiteness is checked once, when it is decoded or folded. The graph must be well formed:
//! every value defined once (initializers, the graph input and node outputs may not shadow each
//! other) and the nodes in topological order, as ONNX requires (the loader does not reorder; a
//! node reading a later node's output is an error naming both). The model's opset for the
//! default domain is read and decides where `Squeeze`/`Unsqueeze` (13), `Slice` (10) and
//! `Reshape` (5) take their axes, bounds and shape from.

mod ops;
mod tensor;

use std::collections::{HashMap, HashSet};
use std::io::Read;
use std::path::Path;

use onnx_protobuf::tensor_proto::DataType;
use onnx_protobuf::type_proto;
use onnx_protobuf::{Message, ModelProto, NodeProto, ValueInfoProto};
use thiserror::Error;

use crate::ir::{IrError, Network, Op};
pub use ops::NodeError;
use ops::{ir_shape, lookup, Budget, Build, Fold, Net, Node, Value};
pub use tensor::MAX_ENTRIES;
use tensor::{element_count, Tensor};

/// Largest file accepted (after gunzipping): protobuf itself cannot go past 2 GiB.
const MAX_FILE_BYTES: u64 = 2 << 30;

/// What a network file may make the loader allocate. The defaults take every network the
/// project ships or benchmarks (the largest, a 784-1024-1024-1024-10 net, has 3·10⁶ weights) with
/// a wide margin, and stay far below the memory of a small machine.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LoadOptions {
    /// Most units (scalar values) all layers of the translated network may have together
    /// before simplification (default 10⁷; the CLI's `--max-units`).
    pub max_units: usize,
    /// Most entries the whole load may create: constant tensor elements, weight-matrix
    /// non-zeros, pooling window taps and index maps, summed over every operator
    /// (default [`MAX_ENTRIES`] = 10⁸, about 1.2 GB of weights; the CLI's `--max-nonzeros`). It
    /// also caps the file's size ([`LoadOptions::max_file_bytes`]).
    pub max_nonzeros: usize,
}

impl Default for LoadOptions {
    fn default() -> Self {
        LoadOptions {
            max_units: 10_000_000,
            max_nonzeros: MAX_ENTRIES,
        }
    }
}

impl LoadOptions {
    /// Largest network file read (after gunzipping): eight bytes per allowed entry (an `f64`
    /// weight) plus 64 MiB of graph structure, and never beyond protobuf's 2 GiB.
    pub fn max_file_bytes(&self) -> u64 {
        (self.max_nonzeros as u64)
            .saturating_mul(8)
            .saturating_add(64 << 20)
            .min(MAX_FILE_BYTES)
    }
}

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
        "file {file}: node {node} ({op}) folds its constant inputs to the non-finite value {value} at index {index}"
    )]
    NonFinite {
        file: String,
        node: String,
        op: String,
        value: f64,
        index: usize,
    },
    #[error(
        "file {file}: node {node} ({op}) defines {name}, which is already defined (by an initializer, the graph input or an earlier output): every value must have one definition"
    )]
    Redefined {
        file: String,
        node: String,
        op: String,
        name: String,
    },
    #[error(
        "file {file}: node {node} ({op}) reads {name}, which the later node {producer} defines: the nodes are not in topological order (ONNX requires it; nnmilp does not reorder)"
    )]
    NotTopological {
        file: String,
        node: String,
        op: String,
        name: String,
        producer: String,
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

/// Reads an ONNX file (gunzipped first when its name ends in `.gz`) and translates it, with the
/// default [`LoadOptions`].
pub fn load(path: &Path) -> Result<Network, OnnxError> {
    let bytes = read_file(path, &LoadOptions::default())?;
    load_file_bytes(path, bytes, &LoadOptions::default())
}

/// The bytes of a network file as stored, read once through a reader capped at
/// [`LoadOptions::max_file_bytes`] (a regular file is refused by its size before reading;
/// `/dev/zero` or a pipe stops at the cap). Hash this buffer, then hand it to
/// [`load_file_bytes`]: the file is never read twice.
pub fn read_file(path: &Path, opts: &LoadOptions) -> Result<Vec<u8>, OnnxError> {
    let file = path.display().to_string();
    crate::data::read_capped(path, opts.max_file_bytes()).map_err(|error| match error.kind() {
        std::io::ErrorKind::FileTooLarge => OnnxError::Malformed {
            file,
            message: format!("{error} (8 per entry of --max-nonzeros, plus 64 MiB)"),
        },
        _ => OnnxError::Io { file, error },
    })
}

/// Translates the bytes of the file `path` (gunzipped first when its name ends in `.gz`, with
/// the unpacked size capped as the file's). The bytes are taken, not borrowed, so that they are
/// freed once decoded: the matrices are then built in the memory the file held, and the peak is
/// the file plus its weights, not the file twice plus its weights.
pub fn load_file_bytes(path: &Path, bytes: Vec<u8>, opts: &LoadOptions) -> Result<Network, OnnxError> {
    let file = path.display().to_string();
    let decoded = decode_stored(path, &bytes, &file, opts);
    drop(bytes);
    let (model, decoded) = decoded?;
    translate(&model, decoded, &file, opts)
}

/// [`load_file_bytes`], running `also` on the bytes as stored on another thread while they are
/// decoded (the CLI hashes them for the file header: on 784-1024³-10 the SHA-256 of the 12 MB
/// file costs as much as the protobuf decode, and the two share nothing). The bytes are freed
/// once both are done, as [`load_file_bytes`] frees them.
pub fn load_file_bytes_while<T: Send>(
    path: &Path,
    bytes: Vec<u8>,
    opts: &LoadOptions,
    also: impl FnOnce(&[u8]) -> T + Send,
) -> Result<(Network, T), OnnxError> {
    let file = path.display().to_string();
    let (decoded, extra) = std::thread::scope(|scope| {
        let stored = &bytes[..];
        let extra = scope.spawn(move || also(stored));
        let decoded = decode_stored(path, stored, &file, opts);
        let extra = extra.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        (decoded, extra)
    });
    drop(bytes);
    let (model, decoded) = decoded?;
    Ok((translate(&model, decoded, &file, opts)?, extra))
}

/// The decoded protobuf of a file's bytes as stored (gunzipped first when `path` ends in `.gz`,
/// the unpacked bytes freed once decoded).
fn decode_stored(path: &Path, stored: &[u8], file: &str, opts: &LoadOptions) -> Result<Decoded, OnnxError> {
    match path.extension().is_some_and(|e| e == "gz") {
        false => decode(stored, file),
        true => decode(&gunzip(stored, file, opts.max_file_bytes())?, file),
    }
}

/// The unpacked bytes of a gzipped file, at most `cap` of them.
fn gunzip(bytes: &[u8], file: &str, cap: u64) -> Result<Vec<u8>, OnnxError> {
    let mut unpacked = Vec::new();
    (flate2::read::GzDecoder::new(bytes).take(cap + 1))
        .read_to_end(&mut unpacked)
        .map_err(|e| OnnxError::Malformed {
            file: file.to_string(),
            message: format!("cannot gunzip: {e}"),
        })?;
    if unpacked.len() as u64 > cap {
        return Err(OnnxError::Malformed {
            file: file.to_string(),
            message: format!("unpacks to more than {cap} bytes (8 per entry of --max-nonzeros, plus 64 MiB)"),
        });
    }
    Ok(unpacked)
}

/// Translates the bytes of an ONNX model with the default [`LoadOptions`]; `source` names it in
/// messages.
pub fn load_bytes(bytes: &[u8], source: &str) -> Result<Network, OnnxError> {
    load_bytes_with(bytes, source, &LoadOptions::default())
}

/// Translates the bytes of an ONNX model within `opts`; `source` names it in messages.
pub fn load_bytes_with(bytes: &[u8], source: &str, opts: &LoadOptions) -> Result<Network, OnnxError> {
    let (model, decoded) = decode(bytes, source)?;
    translate(&model, decoded, source, opts)
}

/// The decoded model and its initializers' values, in order. Each initializer's values leave
/// the protobuf at once (raw `f32`/`f64` bytes moved, not copied), so the model never holds a
/// weight twice; `translate` reports a decoding failure where it would have decoded the tensor
/// itself.
type Decoded = (ModelProto, Vec<Result<Tensor, String>>);

fn decode(bytes: &[u8], source: &str) -> Result<Decoded, OnnxError> {
    let mut model = ModelProto::parse_from_bytes(bytes).map_err(|e| OnnxError::Malformed {
        file: source.to_string(),
        message: e.to_string(),
    })?;
    let decoded = match model.graph.as_mut() {
        None => Vec::new(),
        Some(graph) => (graph.initializer.iter_mut()).map(Tensor::take_from_proto).collect(),
    };
    Ok((model, decoded))
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

/// The model's opset for the default ONNX domain, if it declares one (twice is an error).
fn default_opset(model: &ModelProto, file: &str) -> Result<Option<i64>, OnnxError> {
    let mut found = (model.opset_import.iter()).filter(|o| o.domain.is_empty() || o.domain == "ai.onnx");
    match (found.next(), found.next()) {
        (Some(_), Some(_)) => Err(OnnxError::Malformed {
            file: file.to_string(),
            message: "opset_import lists the default domain twice".into(),
        }),
        (Some(o), None) if o.version < 1 => Err(OnnxError::Malformed {
            file: file.to_string(),
            message: format!("opset_import: version {} of the default domain", o.version),
        }),
        (o, _) => Ok(o.map(|o| o.version)),
    }
}

/// Builds the network from `model`, whose initializers' values are `decoded` (in order).
fn translate(
    model: &ModelProto,
    decoded: Vec<Result<Tensor, String>>,
    file: &str,
    opts: &LoadOptions,
) -> Result<Network, OnnxError> {
    let file_s = || file.to_string();
    let graph = model.graph.as_ref().ok_or_else(|| OnnxError::Malformed {
        file: file_s(),
        message: "no graph".into(),
    })?;
    let opset = default_opset(model, file)?;

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

    let mut budget = Budget::new(*opts);
    let mut values: HashMap<&str, Value> = HashMap::new();
    for (t, tensor) in graph.initializer.iter().zip(decoded) {
        let init_error = |message: String| OnnxError::Initializer {
            file: file_s(),
            tensor: t.name.clone(),
            message,
        };
        if t.name.is_empty() || values.contains_key(t.name.as_str()) {
            return Err(init_error(
                "defined twice (or unnamed): every value must have one definition".into(),
            ));
        }
        let tensor = tensor.map_err(init_error)?;
        (budget.reserve("the initializer", &[tensor.len()])).map_err(|e| init_error(e.to_string()))?;
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
    let mut net = Net::new(budget);
    let layer = net.push(&input.name, Op::Input, &shape);
    net.budget.check_units().map_err(|e| OnnxError::InputType {
        file: file_s(),
        name: input.name.clone(),
        message: e.to_string(),
    })?;
    values.insert(&input.name, Value::Var { layer, shape });
    // Who defines each node output, to tell a graph out of topological order from a missing value.
    let mut producers: HashMap<&str, String> = HashMap::new();
    for (i, proto) in graph.node.iter().enumerate() {
        for o in proto.output.iter().filter(|o| !o.is_empty()) {
            producers.entry(o).or_insert_with(|| node_label(i, proto));
        }
    }

    // Readers left per value name: a constant is dropped after its last reader (unless it is
    // the graph's output), so a layer's weights are freed once its matrix holds them. Its
    // name stays `retired`, so that a later node defining it again is still refused.
    let mut readers_left: HashMap<&str, usize> = HashMap::new();
    for name in graph.node.iter().flat_map(|n| &n.input).filter(|i| !i.is_empty()) {
        *readers_left.entry(name).or_default() += 1;
    }
    let mut retired: HashSet<&str> = HashSet::new();
    let graph_output = graph.output.first().map_or("", |o| o.name.as_str());

    // Extra outputs (MaxPool's indices, BatchNormalization's running statistics, Dropout's
    // mask) are not computed; reading one is an error naming its producer.
    let mut extra_outputs: HashMap<&str, String> = HashMap::new();
    for (i, proto) in graph.node.iter().enumerate() {
        let (node, op) = (node_label(i, proto), op_label(proto));
        let (build, fold) = lookup(&proto.domain, &proto.op_type).expect("unsupported nodes were rejected above");
        let inputs = read_inputs(proto, (&node, &op), &values, &extra_outputs, &producers, file)?;
        let Some(output) = proto.output.first().filter(|o| !o.is_empty()) else {
            return Err(OnnxError::Malformed {
                file: file_s(),
                message: format!("node {node} ({op}) has no output"),
            });
        };
        for (k, name) in proto.output.iter().enumerate().filter(|(_, o)| !o.is_empty()) {
            let twice = proto.output[..k].contains(name);
            let defined = values.contains_key(name.as_str()) || retired.contains(name.as_str());
            if twice || defined || extra_outputs.contains_key(name.as_str()) {
                return Err(OnnxError::Redefined {
                    file: file_s(),
                    node: node.clone(),
                    op,
                    name: name.clone(),
                });
            }
        }
        let layer_name = if proto.name.is_empty() { output } else { &proto.name };
        let all_const = inputs.iter().flatten().all(|v| matches!(v, Value::Const(_)));
        let result = match inputs.first() {
            Some(Some(Value::Const(first))) if all_const && fold == Fold::ViaIr => {
                fold_via_ir(build, proto, layer_name, first, inputs.clone(), &mut net.budget, opset)
            }
            _ => build(&mut Node {
                proto,
                layer_name,
                inputs,
                net: &mut net,
                opset,
            }),
        };
        let node_error = |error| OnnxError::Node {
            file: file_s(),
            node: node.clone(),
            op: op.clone(),
            error,
        };
        let value = result
            .and_then(|v| net.budget.check_units().map(|_| v))
            .map_err(node_error)?;
        // A new constant is checked once; one that shares its values with an input (a relabel)
        // was checked when those values were made.
        let fresh = matches!(&value, Value::Const(t) if !t.is_shared());
        if let (true, Value::Const(t)) = (fresh, &value) {
            if let Some((index, value)) = t.non_finite() {
                return Err(OnnxError::NonFinite {
                    file: file_s(),
                    node,
                    op,
                    value,
                    index,
                });
            }
        }
        for extra in proto.output.iter().skip(1).filter(|o| !o.is_empty()) {
            extra_outputs.insert(extra, node.clone());
        }
        values.insert(output, value);
        for name in proto.input.iter().filter(|i| !i.is_empty()) {
            let left = readers_left.get_mut(name.as_str()).expect("every input was counted");
            *left -= 1;
            let constant = matches!(values.get(name.as_str()), Some(Value::Const(_)));
            if *left == 0 && constant && name != graph_output {
                values.remove(name.as_str());
                retired.insert(name);
            }
        }
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
            let ir_error = |error| OnnxError::Ir { file: file_s(), error };
            let left = net.budget.left();
            Network::new(net.layers, *layer)
                .and_then(|n| n.simplify(left))
                .map_err(ir_error)
        }
    }
}

/// The values node `proto` (labelled `node`, `op`) reads, `None` for an absent optional input.
fn read_inputs<'v>(
    proto: &NodeProto,
    (node, op): (&str, &str),
    values: &'v HashMap<&str, Value>,
    extra_outputs: &HashMap<&str, String>,
    producers: &HashMap<&str, String>,
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
                None if producers.contains_key(name.as_str()) => OnnxError::NotTopological {
                    file,
                    node,
                    op,
                    name: name_s,
                    producer: producers[name.as_str()].clone(),
                },
                None => OnnxError::MissingValue {
                    file,
                    node,
                    op,
                    name: name_s,
                },
            });
        };
        inputs.push(Some(v));
    }
    Ok(inputs)
}

/// Evaluates a node whose inputs are all constants by building it over a scratch network whose
/// input stands for the first constant, then running that network on it. The scratch network
/// draws on the load's `budget`.
fn fold_via_ir<'a>(
    build: Build,
    proto: &'a NodeProto,
    layer_name: &'a str,
    first: &'a Tensor,
    inputs: Vec<Option<&'a Value>>,
    budget: &mut Budget,
    opset: Option<i64>,
) -> Result<Value, NodeError> {
    let mut scratch = Net::new(*budget);
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
        opset,
    });
    // Layers of the scratch network are not part of the network: only their entries count.
    *budget = Budget {
        units: budget.units,
        ..scratch.budget
    };
    let out = out?;
    let Value::Var { layer, shape } = out else {
        return Ok(out);
    };
    let invalid = |e: IrError| NodeError::Invalid(format!("folding constants: {e}"));
    let data = Network::new(scratch.layers, layer)
        .and_then(|net| net.forward(&first.to_vec()))
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
