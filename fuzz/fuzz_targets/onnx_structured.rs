//! Structure-aware: the input chooses up to eight mutations of a valid `ModelProto` (dimensions,
//! attributes, initializer sizes, op types, value names, node order, opset, element types), so
//! that executions reach the builders instead of failing in protobuf decoding.
#![no_main]
use libfuzzer_sys::fuzz_target;
use nnmilp::front::onnx::load_bytes_with;
use nnmilp_fuzz::{mutate, to_bytes, Choices, LIMITS};

fuzz_target!(|data: &[u8]| {
    let model = mutate(&mut Choices(data));
    if let Ok(net) = load_bytes_with(&to_bytes(&model), "fuzz.onnx", &LIMITS) {
        let x = vec![0.5; net.input_size()];
        let y = net.forward(&x).expect("a loaded network evaluates");
        assert_eq!(y.len(), net.output_size());
    }
});
