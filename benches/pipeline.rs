//! Compile-pipeline benchmark: parse, bounds, lowering and writing, per network.
//!
//! Networks: every ONNX file in `fixtures/`, a large generated dense net (784-1024-1024-1024-10)
//! and a generated conv net (two conv+relu+maxpool blocks, then dense). The generated ones are
//! built as ONNX bytes here, so the parse stage is measured on them too. Run with
//! `cargo bench --bench pipeline`; criterion prints the time per stage and MB/s for the writers.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use nnmilp::back::{self, Format, WriteOptions};
use nnmilp::bounds::{interval, symbolic, InputBox};
use nnmilp::lower::{lower, LowerOptions};
use onnx_protobuf::{
    tensor_shape_proto, type_proto, AttributeProto, GraphProto, ModelProto, NodeProto, OperatorSetIdProto, TensorProto,
    TensorShapeProto, TypeProto, ValueInfoProto,
};
use protobuf::{Message, MessageField};
use std::time::Duration;

/// A deterministic pseudo-random stream (xorshift), so every run benchmarks the same weights.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> f32 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        ((self.0 >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0) as f32
    }
}

fn tensor(name: &str, dims: &[i64], rng: &mut Rng, scale: f32) -> TensorProto {
    let n: i64 = dims.iter().product();
    let mut t = TensorProto::new();
    t.name = name.into();
    t.dims = dims.to_vec();
    t.data_type = 1; // FLOAT
    t.raw_data = (0..n).flat_map(|_| (rng.next() * scale).to_le_bytes()).collect();
    t
}

fn value_info(name: &str, dims: &[i64]) -> ValueInfoProto {
    let mut shape = TensorShapeProto::new();
    shape.dim = dims
        .iter()
        .map(|&d| {
            let mut dim = tensor_shape_proto::Dimension::new();
            dim.value = Some(tensor_shape_proto::dimension::Value::DimValue(d));
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

fn ints(name: &str, v: &[i64]) -> AttributeProto {
    let mut a = AttributeProto::new();
    a.name = name.into();
    a.type_ = protobuf::EnumOrUnknown::new(onnx_protobuf::attribute_proto::AttributeType::INTS);
    a.ints = v.to_vec();
    a
}

fn int(name: &str, v: i64) -> AttributeProto {
    let mut a = AttributeProto::new();
    a.name = name.into();
    a.type_ = protobuf::EnumOrUnknown::new(onnx_protobuf::attribute_proto::AttributeType::INT);
    a.i = v;
    a
}

fn node(op: &str, inputs: &[&str], output: &str, attrs: Vec<AttributeProto>) -> NodeProto {
    let mut n = NodeProto::new();
    n.op_type = op.into();
    n.name = output.into();
    n.input = inputs.iter().map(|s| s.to_string()).collect();
    n.output = vec![output.into()];
    n.attribute = attrs;
    n
}

fn model(graph: GraphProto) -> Vec<u8> {
    let mut m = ModelProto::new();
    m.ir_version = 7;
    let mut op = OperatorSetIdProto::new();
    op.version = 13;
    m.opset_import = vec![op];
    m.graph = MessageField::some(graph);
    m.write_to_bytes().expect("serialise")
}

/// `784 - hidden... - 10` with Gemm (transB) + Relu.
fn dense_onnx(hidden: &[i64]) -> Vec<u8> {
    let mut rng = Rng(0x9e3779b97f4a7c15);
    let mut g = GraphProto::new();
    g.name = "dense".into();
    g.input = vec![value_info("x", &[1, 784])];
    let mut prev = "x".to_string();
    let mut width = 784;
    let sizes: Vec<i64> = hidden.iter().copied().chain([10]).collect();
    for (k, &n) in sizes.iter().enumerate() {
        let scale = (2.0 / width as f32).sqrt();
        g.initializer
            .push(tensor(&format!("W{k}"), &[n, width], &mut rng, scale));
        g.initializer.push(tensor(&format!("b{k}"), &[n], &mut rng, 0.1));
        let out = format!("fc{k}");
        g.node.push(node(
            "Gemm",
            &[&prev, &format!("W{k}"), &format!("b{k}")],
            &out,
            vec![int("transB", 1)],
        ));
        prev = out;
        if k + 1 < sizes.len() {
            let r = format!("relu{k}");
            g.node.push(node("Relu", &[&prev], &r, vec![]));
            prev = r;
        }
        width = n;
    }
    g.output = vec![value_info(&prev, &[1, 10])];
    model(g)
}

/// conv(1->16,3x3,pad 1)-relu-maxpool2 - conv(16->32,3x3,pad 1)-relu-maxpool2 - dense 1568-100-10.
fn conv_onnx() -> Vec<u8> {
    let mut rng = Rng(0x2545f4914f6cdd1d);
    let mut g = GraphProto::new();
    g.name = "conv".into();
    g.input = vec![value_info("x", &[1, 1, 28, 28])];
    let conv_attrs = || vec![ints("kernel_shape", &[3, 3]), ints("pads", &[1, 1, 1, 1])];
    let pool_attrs = || vec![ints("kernel_shape", &[2, 2]), ints("strides", &[2, 2])];
    g.initializer.push(tensor("C1", &[16, 1, 3, 3], &mut rng, 0.5));
    g.initializer.push(tensor("c1", &[16], &mut rng, 0.1));
    g.initializer.push(tensor("C2", &[32, 16, 3, 3], &mut rng, 0.1));
    g.initializer.push(tensor("c2", &[32], &mut rng, 0.1));
    g.initializer.push(tensor("W1", &[100, 1568], &mut rng, 0.03));
    g.initializer.push(tensor("b1", &[100], &mut rng, 0.1));
    g.initializer.push(tensor("W2", &[10, 100], &mut rng, 0.1));
    g.initializer.push(tensor("b2", &[10], &mut rng, 0.1));
    g.node.push(node("Conv", &["x", "C1", "c1"], "conv1", conv_attrs()));
    g.node.push(node("Relu", &["conv1"], "relu1", vec![]));
    g.node.push(node("MaxPool", &["relu1"], "pool1", pool_attrs()));
    g.node.push(node("Conv", &["pool1", "C2", "c2"], "conv2", conv_attrs()));
    g.node.push(node("Relu", &["conv2"], "relu2", vec![]));
    g.node.push(node("MaxPool", &["relu2"], "pool2", pool_attrs()));
    g.node.push(node("Flatten", &["pool2"], "flat", vec![]));
    g.node
        .push(node("Gemm", &["flat", "W1", "b1"], "fc1", vec![int("transB", 1)]));
    g.node.push(node("Relu", &["fc1"], "relu3", vec![]));
    g.node
        .push(node("Gemm", &["relu3", "W2", "b2"], "fc2", vec![int("transB", 1)]));
    g.output = vec![value_info("fc2", &[1, 10])];
    model(g)
}

fn networks() -> Vec<(String, Vec<u8>)> {
    let mut nets = Vec::new();
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .map(|d| d.filter_map(|e| e.ok()).map(|e| e.path()).collect())
        .unwrap_or_default();
    files.retain(|p: &std::path::PathBuf| p.extension().is_some_and(|e| e == "onnx"));
    files.sort();
    for p in files {
        let name = p.file_stem().unwrap().to_string_lossy().into_owned();
        nets.push((name, std::fs::read(&p).expect("read fixture")));
    }
    nets.push(("dense_784-1024x3-10".into(), dense_onnx(&[1024, 1024, 1024])));
    nets.push(("conv_16-32-100".into(), conv_onnx()));
    nets
}

fn pipeline(c: &mut Criterion) {
    for (name, bytes) in networks() {
        let net = nnmilp::front::onnx::load_bytes(&bytes, &name).expect("benchmark network loads");
        let region = InputBox::uniform(net.input_size(), 0.0, 1.0);
        let bounds = interval(&net, &region);
        let lowered = lower(&net, &bounds, LowerOptions::default()).expect("lowers");
        let milp = &lowered.milp;
        let opts = WriteOptions::default();
        let mps_len = back::write_string(milp, Format::Mps, &opts).len();
        let lp_len = back::write_string(milp, Format::Lp, &opts).len();

        let mut g = c.benchmark_group(&name);
        g.sample_size(10)
            .warm_up_time(Duration::from_millis(500))
            .measurement_time(Duration::from_secs(3));
        g.throughput(Throughput::Bytes(bytes.len() as u64));
        g.bench_function("parse", |b| {
            b.iter(|| nnmilp::front::onnx::load_bytes(&bytes, &name).unwrap())
        });
        g.throughput(Throughput::Elements(net.layers().iter().map(|l| l.size() as u64).sum()));
        g.bench_function("bounds_interval", |b| b.iter(|| interval(&net, &region)));
        g.bench_function("bounds_symbolic", |b| b.iter(|| symbolic(&net, &region)));
        g.bench_function("lower_bigm", |b| {
            b.iter(|| lower(&net, &bounds, LowerOptions::default()).unwrap())
        });
        for (format, len) in [(Format::Mps, mps_len), (Format::Lp, lp_len)] {
            g.throughput(Throughput::Bytes(len as u64));
            g.bench_with_input(BenchmarkId::new("write", format!("{format:?}")), &format, |b, &f| {
                let mut buf = Vec::with_capacity(len);
                b.iter(|| {
                    buf.clear();
                    back::write(milp, f, &opts, &mut buf).unwrap();
                })
            });
        }
        g.finish();
    }
}

criterion_group!(benches, pipeline);
criterion_main!(benches);
