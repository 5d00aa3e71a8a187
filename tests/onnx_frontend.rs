//! The ONNX front end, checked against tract (an independent ONNX runtime computing in f32) on
//! random inputs: the VNN-COMP fixtures, every ONNX file under the repository's `fixtures/`,
//! and the op models of `tests/onnx_ops/` (written by `tests/onnx_ops/gen_models.py`). Then
//! the errors: each must name the file and what is wrong in it.

use std::io::Write;
use std::path::{Path, PathBuf};

use nnmilp::front::onnx::{load, load_bytes, load_file_bytes, LoadOptions, OnnxError};
use onnx_protobuf::tensor_shape_proto::dimension::Value as Dim;
use onnx_protobuf::{type_proto, Message, ModelProto};
use tract_onnx::prelude::*;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");
fn vnncomp() -> String {
    crate::common::shared()
        .join("fixtures/vnncomp")
        .to_string_lossy()
        .into_owned()
}

/// Every file under `dir` (recursively) whose name ends with one of `suffixes`, sorted.
fn files(dir: &Path, suffixes: &[&str]) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return out;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(files(&p, suffixes));
        } else if suffixes.iter().any(|s| p.to_string_lossy().ends_with(s)) {
            out.push(p);
        }
    }
    out.sort();
    out
}

/// Deterministic pseudo-random numbers in [-1, 1) (xorshift64*).
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> f32 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        let bits = self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 40;
        bits as f32 / (1u64 << 23) as f32 - 1.0
    }
}

fn read_model(path: &Path) -> Vec<u8> {
    let bytes = std::fs::read(path).unwrap();
    if path.extension().is_some_and(|e| e == "gz") {
        let mut out = Vec::new();
        std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(&bytes[..]), &mut out).unwrap();
        out
    } else {
        bytes
    }
}

/// The ONNX shape of the model's one real input (initializers listed as inputs skipped, a
/// symbolic batch dimension read as 1), straight from the protobuf.
pub(crate) fn input_shape(bytes: &[u8]) -> Vec<usize> {
    let model = ModelProto::parse_from_bytes(bytes).unwrap();
    let g = model.graph.as_ref().unwrap();
    let input = g
        .input
        .iter()
        .find(|i| !g.initializer.iter().any(|t| t.name == i.name))
        .unwrap();
    let Some(type_proto::Value::TensorType(t)) = &input.type_.value else {
        panic!("input is not a tensor")
    };
    (t.shape.dim.iter())
        .map(|d| match d.value {
            Some(Dim::DimValue(v)) if v > 0 => v as usize,
            _ => 1,
        })
        .collect()
}

/// Runs nnmilp's translation and tract on the same random inputs; returns the largest error
/// relative to the output's magnitude.
fn compare_with_tract(path: &Path, trials: usize) -> f64 {
    let bytes = read_model(path);
    let net = load(path).unwrap_or_else(|e| panic!("{e}"));
    let shape = input_shape(&bytes);
    let tract = tract_onnx::onnx()
        .model_for_read(&mut &bytes[..])
        .and_then(|m| m.with_input_fact(0, f32::fact(&shape).into()))
        .and_then(|m| m.into_optimized())
        .and_then(|m| m.into_runnable())
        .unwrap_or_else(|e| panic!("tract cannot run {}: {e:?}", path.display()));
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15 ^ bytes.len() as u64);
    let mut worst: f64 = 0.0;
    for _ in 0..trials {
        let x: Vec<f32> = (0..shape.iter().product::<usize>()).map(|_| rng.next()).collect();
        let input = tract_ndarray::ArrayD::from_shape_vec(shape.clone(), x.clone()).unwrap();
        let expected = tract.run(tvec!(Tensor::from(input).into())).unwrap();
        let expected: Vec<f64> = expected[0]
            .to_plain_array_view::<f32>()
            .unwrap()
            .iter()
            .map(|&v| v as f64)
            .collect();
        let got = net.forward(&x.iter().map(|&v| v as f64).collect::<Vec<_>>()).unwrap();
        assert_eq!(got.len(), expected.len(), "{}: output sizes differ", path.display());
        let scale = expected.iter().fold(1.0f64, |m, v| m.max(v.abs()));
        let err = got.iter().zip(&expected).fold(0.0f64, |m, (a, b)| m.max((a - b).abs()));
        worst = worst.max(err / scale);
    }
    assert!(
        worst <= 1e-5,
        "{}: nnmilp and tract differ by {worst:e} (relative)",
        path.display()
    );
    worst
}

#[test]
fn vnncomp_networks_agree_with_tract() {
    let mut nets = files(Path::new(&vnncomp()), &[".onnx"]);
    nets.retain(|p| p.parent().is_some_and(|d| d.ends_with("onnx") || d.ends_with("test")));
    assert!(nets.len() >= 9, "expected the 9 VNN-COMP fixtures, found {nets:?}");
    for p in &nets {
        compare_with_tract(p, 5);
    }
}

#[test]
fn op_models_and_repo_fixtures_agree_with_tract() {
    let ops = files(&Path::new(ROOT).join("tests/onnx_ops"), &[".onnx"]);
    let ops: Vec<_> = ops
        .into_iter()
        .filter(|p| !p.to_string_lossy().contains("/bad/"))
        .collect();
    assert!(
        ops.len() >= 35,
        "run tests/onnx_ops/gen_models.py: found only {}",
        ops.len()
    );
    let fixtures = files(&Path::new(ROOT).join("fixtures"), &[".onnx", ".onnx.gz"]);
    for p in ops.iter().chain(&fixtures) {
        compare_with_tract(p, 4);
    }
}

#[test]
fn published_architectures_come_out_as_expected() {
    // VNN-COMP's README: the MNIST net has 2 hidden layers of 256 ReLUs, ACAS Xu 6 of 50.
    let mnist = load(Path::new(&format!("{}/mnist_fc/onnx/mnist-net_256x2.onnx", vnncomp()))).unwrap();
    assert_eq!(mnist.count_units(), (512, 0));
    assert_eq!((mnist.input_size(), mnist.output_size()), (784, 10));
    let acas = load(Path::new(&format!(
        "{}/acasxu/onnx/ACASXU_run2a_1_1_batch_2000.onnx",
        vnncomp()
    )))
    .unwrap();
    assert_eq!(acas.count_units(), (300, 0));
    // Input, then (affine, relu) x 6, then the output affine: the input Sub, Flatten and each
    // MatMul + Add fuse into one affine layer.
    assert_eq!(acas.layers().len(), 14);
    assert_eq!(acas.layer(acas.output()).shape, vec![5]);
    // A convolution, batch-norm and ReLU: one affine (the batch-norm fused in) and one ReLU.
    let conv = load(&Path::new(ROOT).join("tests/onnx_ops/conv_batchnorm_relu.onnx")).unwrap();
    let kinds: Vec<_> = conv.layers().iter().map(|l| l.op.kind()).collect();
    assert_eq!(kinds, ["input", "affine", "relu"]);
    assert_eq!(conv.layer(conv.input()).shape, vec![2, 5, 5]);
    assert_eq!(conv.layer(conv.output()).shape, vec![3, 4, 4]);
}

#[test]
fn gzipped_model_loads_like_the_plain_one() {
    let plain = format!("{}/mnist_fc/onnx/mnist-net_256x2.onnx", vnncomp());
    let dir = tempfile::tempdir().unwrap();
    let gz = dir.path().join("mnist.onnx.gz");
    let mut enc = flate2::write::GzEncoder::new(std::fs::File::create(&gz).unwrap(), flate2::Compression::fast());
    enc.write_all(&std::fs::read(&plain).unwrap()).unwrap();
    enc.finish().unwrap();
    assert_eq!(load(&gz).unwrap(), load(Path::new(&plain)).unwrap());
}

fn error_of(path: &Path) -> (OnnxError, String) {
    let e = load(path).expect_err("the model must be rejected");
    let msg = e.to_string();
    assert!(
        msg.contains(&path.display().to_string()),
        "message does not name the file: {msg}"
    );
    (e, msg)
}

fn bad(name: &str) -> PathBuf {
    Path::new(ROOT).join("tests/onnx_ops/bad").join(name)
}

#[test]
fn truncated_and_garbage_files_are_rejected() {
    let bytes = std::fs::read(format!("{}/mnist_fc/onnx/mnist-net_256x2.onnx", vnncomp())).unwrap();
    let e = load_bytes(&bytes[..bytes.len() / 2], "half.onnx").unwrap_err();
    assert!(matches!(e, OnnxError::Malformed { .. }), "{e:?}");
    assert!(
        e.to_string().starts_with("file half.onnx: not a valid ONNX model"),
        "{e}"
    );

    let e = load_bytes(b"this is not an ONNX model\n\xff\xfe\x00", "text.onnx").unwrap_err();
    assert!(
        e.to_string().starts_with("file text.onnx: not a valid ONNX model"),
        "{e}"
    );
    let mut rng = Rng(7);
    for n in [1, 10, 1000] {
        let noise: Vec<u8> = (0..n).map(|_| (rng.next() * 127.0 + 128.0) as u8).collect();
        assert!(load_bytes(&noise, "noise.onnx").is_err());
    }
    // An empty file parses as an empty message, which has no graph.
    let e = load_bytes(&[], "empty.onnx").unwrap_err();
    assert_eq!(e.to_string(), "file empty.onnx: not a valid ONNX model: no graph");

    let missing = Path::new(ROOT).join("tests/onnx_ops/no_such_file.onnx");
    let (e, _) = error_of(&missing);
    assert!(matches!(e, OnnxError::Io { .. }), "{e:?}");
}

#[test]
fn unsupported_operators_are_all_named_at_once() {
    let (e, msg) = error_of(&bad("unsupported.onnx"));
    assert!(
        matches!(e, OnnxError::Unsupported { ref nodes, .. } if nodes.len() == 2),
        "{e:?}"
    );
    assert!(msg.contains("node act_sigmoid (Sigmoid)"), "{msg}");
    assert!(msg.contains("node act_tanh (Tanh)"), "{msg}");
    assert!(msg.contains("supported operators: Add, AveragePool,"), "{msg}");
    assert!(msg.contains("Relu"), "{msg}");
}

#[test]
fn non_finite_weights_name_the_tensor() {
    // Checked once, when the initializer is decoded (not at every node that reads it).
    let (e, msg) = error_of(&bad("nan_weight.onnx"));
    assert!(matches!(e, OnnxError::Initializer { .. }), "{e:?}");
    assert!(
        msg.contains("initializer fc1.weight: holds the non-finite value NaN at index 5"),
        "{msg}"
    );
}

#[test]
fn shape_mismatches_name_the_node() {
    let (e, msg) = error_of(&bad("conv_channels.onnx"));
    assert!(matches!(e, OnnxError::Node { .. }), "{e:?}");
    assert!(msg.contains("node conv_bad (Conv)"), "{msg}");
    assert!(
        msg.contains("weights [2, 4, 3, 3] with group 1 do not fit an input with 3 channels"),
        "{msg}"
    );
}

#[test]
fn graphs_with_several_inputs_are_rejected() {
    let (e, msg) = error_of(&bad("two_inputs.onnx"));
    assert!(matches!(e, OnnxError::Inputs { .. }), "{e:?}");
    assert!(msg.contains("exactly one input") && msg.contains("[x, z]"), "{msg}");
}

#[test]
fn expansions_too_large_for_memory_are_refused_before_allocating() {
    // A 32-channel 3x3 convolution of a 2x4000x4000 input: 32 * 4000^2 * 2 * 9 = 9.2e9 entries.
    // With the default max_units its 3.2e7 inputs are refused first.
    let (e, msg) = error_of(&bad("conv_too_large.onnx"));
    assert!(matches!(e, OnnxError::InputType { .. }), "{e:?}");
    assert!(
        msg.contains("32000000 units, more than the limit of 10000000 (--max-units)"),
        "{msg}"
    );
    let opts = LoadOptions {
        max_units: 100_000_000,
        ..LoadOptions::default()
    };
    let path = bad("conv_too_large.onnx");
    let e = load_file_bytes(&path, std::fs::read(&path).unwrap(), &opts).unwrap_err();
    let msg = e.to_string();
    assert!(matches!(e, OnnxError::Node { .. }), "{e:?}");
    assert!(
        msg.contains("node big (Conv): the convolution matrix would need 9216000000 entries"),
        "{msg}"
    );
}

#[test]
fn dangling_reads_and_constant_outputs_are_rejected() {
    let (e, msg) = error_of(&bad("missing_value.onnx"));
    assert!(matches!(e, OnnxError::MissingValue { .. }), "{e:?}");
    assert!(
        msg.contains("node adder (Add) reads nowhere, which no earlier node"),
        "{msg}"
    );
    let (e, msg) = error_of(&bad("extra_output.onnx"));
    assert!(matches!(e, OnnxError::ExtraOutput { .. }), "{e:?}");
    assert!(
        msg.contains("node use_idx (Identity) reads idx, an extra output of node pool"),
        "{msg}"
    );
    let (e, msg) = error_of(&bad("constant_output.onnx"));
    assert!(matches!(e, OnnxError::Output { .. }), "{e:?}");
    assert!(
        msg.contains("graph output y: it does not depend on the network input"),
        "{msg}"
    );
}
