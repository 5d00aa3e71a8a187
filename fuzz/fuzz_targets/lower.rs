//! Front end → validation → bounds → lowering → writing, on mutated small nets: nothing may
//! panic, interval bounds must hold the forward pass at sampled points of the box, and the
//! model must be written.
#![no_main]
use libfuzzer_sys::fuzz_target;
use nnmilp::back::{write_string, Format, WriteOptions};
use nnmilp::bounds::{interval, InputBox};
use nnmilp::front::onnx::load_bytes_with;
use nnmilp::lower::{lower, LowerOptions};
use nnmilp_fuzz::{mutate, to_bytes, Choices, LIMITS};

fuzz_target!(|data: &[u8]| {
    let mut c = Choices(data);
    let model = mutate(&mut c);
    let Ok(net) = load_bytes_with(&to_bytes(&model), "fuzz.onnx", &LIMITS) else {
        return;
    };
    // Lowering and writing are linear in the network, so a large one tests nothing a small one
    // does not, and only slows executions down: a broadcast to 62,000 outputs (within `LIMITS`)
    // took 1.4 s here, and on the loaded machine of the first run past libFuzzer's timeout.
    if net.input_size() > 64 || net.layers().iter().map(|l| l.size()).sum::<usize>() > 10_000 {
        return;
    }
    let n = net.input_size();
    let b = interval(&net, &InputBox::uniform(n, 0.0, 1.0));
    for _ in 0..4 {
        let x: Vec<f64> = (0..n).map(|_| c.byte() as f64 / 255.0).collect();
        let values = net.forward_all(&x).expect("evaluates");
        for (l, v) in values.iter().enumerate() {
            for (j, &x) in v.iter().enumerate() {
                let tol = 1e-9 * (1.0 + x.abs());
                assert!(
                    b.lo[l][j] - tol <= x && x <= b.hi[l][j] + tol,
                    "layer {l} unit {j}: {x} outside [{}, {}]",
                    b.lo[l][j],
                    b.hi[l][j]
                );
            }
        }
    }
    if let Ok(lowered) = lower(&net, &b, LowerOptions::default()) {
        let text = write_string(&lowered.milp, Format::Lp, &WriteOptions::default());
        assert!(!text.is_empty());
    }
});
