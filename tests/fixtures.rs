//! Checks the committed fixtures (made by `fixtures/make_fixtures.py`) against a second runtime:
//! tract-onnx must load every ONNX file and reproduce the logits onnxruntime recorded in
//! `fixtures/reference_outputs.json`. This guards the files themselves (IR version, opset, weight
//! storage) before any nnmilp code reads them.

use std::fs::File;
use std::io::BufReader;
use std::path::PathBuf;

use serde_json::Value;
use tract_onnx::prelude::*;

/// Both runtimes compute in f32; their results differ by summation order only (~1e-5 observed).
const LOGIT_TOLERANCE: f64 = 1e-4;

fn fixture(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures").join(rel)
}

fn reference() -> Value {
    let file = File::open(fixture("reference_outputs.json")).expect("open reference_outputs.json");
    serde_json::from_reader(BufReader::new(file)).expect("parse reference_outputs.json")
}

fn as_f64s(v: &Value) -> Vec<f64> {
    v.as_array()
        .expect("array")
        .iter()
        .map(|x| x.as_f64().expect("number"))
        .collect()
}

fn as_usizes(v: &Value) -> Vec<usize> {
    v.as_array()
        .expect("array")
        .iter()
        .map(|x| x.as_u64().expect("integer") as usize)
        .collect()
}

fn read_npy(rel: &str) -> Vec<f32> {
    let file = File::open(fixture(rel)).unwrap_or_else(|e| panic!("open {rel}: {e}"));
    let npy = npyz::NpyFile::new(BufReader::new(file)).unwrap_or_else(|e| panic!("read {rel}: {e}"));
    assert_eq!(npy.shape(), &[784], "{rel}");
    npy.into_vec::<f32>().unwrap_or_else(|e| panic!("decode {rel}: {e}"))
}

fn run_tract(rel: &str, shape: &[usize], input: &[f32]) -> Vec<f64> {
    let model = tract_onnx::onnx()
        .model_for_path(fixture(rel))
        .and_then(|m| m.into_optimized())
        .and_then(|m| m.into_runnable())
        .unwrap_or_else(|e| panic!("tract cannot load {rel}: {e:?}"));
    let tensor = Tensor::from_shape(shape, input).expect("input tensor");
    let outputs = model
        .run(tvec!(tensor.into_tvalue()))
        .unwrap_or_else(|e| panic!("tract run {rel}: {e:?}"));
    let view = outputs[0].to_plain_array_view::<f32>().expect("f32 output");
    view.iter().map(|&v| f64::from(v)).collect()
}

fn assert_close(what: &str, got: &[f64], want: &[f64], tol: f64) {
    assert_eq!(got.len(), want.len(), "{what}: length");
    for (k, (g, w)) in got.iter().zip(want).enumerate() {
        assert!((g - w).abs() <= tol, "{what}[{k}]: tract {g} vs onnxruntime {w}");
    }
}

#[test]
fn mnist_nets_run_in_tract_like_in_onnxruntime() {
    let reference = reference();
    let images = reference["images"].as_array().expect("images");
    assert_eq!(images.len(), 10);
    let nets = reference["nets"].as_object().expect("nets");
    for name in [
        "mnist_8x3",
        "mnist_8x3_matmul",
        "mnist_20-10-8-8",
        "mnist_20x3",
        "mnist_conv_tiny",
    ] {
        let net = &nets[name];
        let file = net["file"].as_str().expect("file");
        let shape = as_usizes(&net["input_shape"]);
        let logits = net["logits"].as_array().expect("logits");
        for (i, image) in images.iter().enumerate() {
            let pixels = read_npy(image["npy"].as_str().expect("npy"));
            let got = run_tract(file, &shape, &pixels);
            assert_close(
                &format!("{name} image {i}"),
                &got,
                &as_f64s(&logits[i]),
                LOGIT_TOLERANCE,
            );
        }
        let accuracy = net["test_accuracy"].as_f64().expect("accuracy");
        assert!(accuracy > 0.85, "{name}: test accuracy {accuracy}");
    }
}

#[test]
fn png_images_hold_the_npy_pixels() {
    let reference = reference();
    for image in reference["images"].as_array().expect("images") {
        let png_rel = image["png"].as_str().expect("png");
        let label = image["label"].as_u64().expect("label");
        assert!(
            png_rel.ends_with(&format!("_label{label}.png")),
            "{png_rel} vs label {label}"
        );
        let decoder = png::Decoder::new(File::open(fixture(png_rel)).expect("open png"));
        let mut reader = decoder.read_info().expect("png header");
        let mut buf = vec![0; reader.output_buffer_size()];
        let info = reader.next_frame(&mut buf).expect("png frame");
        assert_eq!((info.width, info.height), (28, 28), "{png_rel}");
        assert_eq!(info.color_type, png::ColorType::Grayscale, "{png_rel}");
        assert_eq!(info.bit_depth, png::BitDepth::Eight, "{png_rel}");
        let pixels = read_npy(image["npy"].as_str().expect("npy"));
        for (k, (&byte, &value)) in buf[..784].iter().zip(&pixels).enumerate() {
            assert_eq!(f32::from(byte) / 255.0, value, "{png_rel} pixel {k}");
        }
    }
}

/// The tiny net's outputs at the box corners follow by hand from the weights documented in
/// `fixtures/make_fixtures.py` (W1 = [[1,1],[1,-1],[.5,.5]], b1 = [-1,0,.25],
/// W2 = [[1,-1,1],[-1,2,-1]], b2 = [0,.5]); tract must agree, and so must onnxruntime's record.
#[test]
fn tiny_net_matches_its_documented_weights() {
    let hand = [
        ([0.0f32, 0.0], [0.25, 0.25]),  // h = (0, 0, 0.25)
        ([1.0, 0.0], [-0.25, 1.75]),    // h = (0, 1, 0.75)
        ([0.0, 1.0], [0.75, -0.25]),    // h = (0, 0, 0.75)
        ([1.0, 1.0], [2.25, -1.75]),    // h = (1, 0, 1.25)
        ([0.875, 0.625], [1.25, -0.5]), // h = (0.5, 0.25, 1)
    ];
    for (x, want) in hand {
        assert_close(
            &format!("tiny {x:?}"),
            &run_tract("tiny_2-3-2.onnx", &[1, 2], &x),
            &want,
            1e-6,
        );
    }
    let reference = reference();
    let tiny = &reference["tiny_2-3-2"];
    let points = tiny["points"].as_array().expect("points");
    let outputs = tiny["outputs"].as_array().expect("outputs");
    assert_eq!(points.len(), outputs.len());
    for (p, y) in points.iter().zip(outputs) {
        let x: Vec<f32> = as_f64s(p).iter().map(|&v| v as f32).collect();
        assert_close(
            &format!("tiny {x:?}"),
            &run_tract("tiny_2-3-2.onnx", &[1, 2], &x),
            &as_f64s(y),
            1e-6,
        );
    }
}
