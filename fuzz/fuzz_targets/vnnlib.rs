//! The VNN-LIB front end on arbitrary bytes: the parser, the pretty-printer's round trip, the
//! interpretation and the shape checks against a small network (2 inputs, 3 outputs). A file
//! is refused with an error or accepted; what is accepted must print to text that parses to the
//! same tree and means the same property, and a property that fits the network must have finite,
//! non-empty boxes of the network's width that the forward pass can be checked against.
#![no_main]
use libfuzzer_sys::fuzz_target;
use nnmilp::front::onnx::load_bytes;
use nnmilp::front::vnnlib::{interpret, parse_script, print};
use nnmilp_fuzz::build::{bytes, dense};

fuzz_target!(|data: &[u8]| {
    // `read_text` refuses what is not UTF-8 before the parser sees it.
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(script) = parse_script("p.vnnlib", text) else {
        return;
    };
    let printed = print(&script);
    let again = parse_script("printed", &printed).expect("printed text parses");
    assert_eq!(script, again, "the printed text parses to another tree");
    let Ok(property) = interpret("p.vnnlib", &script) else {
        return;
    };
    assert_eq!(
        Some(&property),
        interpret("printed", &again).ok().as_ref(),
        "meaning changed by the round trip"
    );
    let net = load_bytes(&bytes(dense(2, 3, 5)), "net.onnx").unwrap();
    if property
        .check_shape("p.vnnlib", net.input_size(), net.output_size())
        .is_err()
    {
        return;
    }
    for case in &property.cases {
        assert_eq!(case.lo.len(), 2);
        assert!(case
            .lo
            .iter()
            .zip(&case.hi)
            .all(|(l, h)| l.is_finite() && h.is_finite() && l <= h));
        for rows in &case.disjuncts {
            assert!(rows.iter().all(|r| r.coeffs.iter().all(|&(j, _)| j < 3)));
        }
        let center: Vec<f64> = case.lo.iter().zip(&case.hi).map(|(l, h)| l / 2.0 + h / 2.0).collect();
        let y = net.forward(&center).unwrap();
        let _ = property.violated_by(&center, &y, |_| 0.0);
    }
});
