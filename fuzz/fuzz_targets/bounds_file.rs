//! The bounds-file reader and its checks against a small network: refused with a reason or
//! accepted, and bounds accepted are never below / above the forward pass at the center.
#![no_main]
use libfuzzer_sys::fuzz_target;
use nnmilp::bounds::{BoundsFile, InputBox, Region};
use nnmilp::front::onnx::load_bytes;
use nnmilp_fuzz::build::{bytes, dense};

fuzz_target!(|data: &[u8]| {
    let path = std::env::temp_dir().join(format!("nnmilp-fuzz-bounds-{}.json", std::process::id()));
    std::fs::write(&path, data).unwrap();
    let Ok(file) = BoundsFile::read(&path) else {
        return;
    };
    let net = load_bytes(&bytes(dense(2, 3, 5)), "net.onnx").unwrap();
    let region = Region::from(InputBox::uniform(2, 0.0, 1.0));
    // The file's own hash stands for the network's, so that the checks after it are reached.
    if let Ok(b) = file.bounds_for(&path, &net, &file.sha256, &region) {
        let values = net.forward_all(&[0.5, 0.5]).unwrap();
        for (l, v) in values.iter().enumerate() {
            for (j, &x) in v.iter().enumerate() {
                assert!(b.lo[l][j] <= b.hi[l][j]);
                assert!(b.lo[l][j] - 1e-6 <= x && x <= b.hi[l][j] + 1e-6);
            }
        }
        let _ = file.to_json();
    }
});
