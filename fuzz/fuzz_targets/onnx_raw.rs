//! The ONNX loader on raw bytes: any input is an error or a network, never a panic, an abort
//! or an allocation beyond the limits; a network computes finite outputs at zero.
#![no_main]
use libfuzzer_sys::fuzz_target;
use nnmilp::front::onnx::load_bytes_with;
use nnmilp_fuzz::LIMITS;

fuzz_target!(|data: &[u8]| {
    if let Ok(net) = load_bytes_with(data, "fuzz.onnx", &LIMITS) {
        let x = vec![0.0; net.input_size()];
        let y = net.forward(&x).expect("a loaded network evaluates");
        assert_eq!(y.len(), net.output_size());
    }
});
