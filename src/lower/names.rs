//! Layer labels used in column and row names.

use crate::ir::{Network, Op};

/// A label per layer: `Lk` for the k-th nonlinear layer (ReLU or max-pool, counted from 1 as in
/// the paper's hidden layers), `Nh` (the layer's handle) for the others.
pub fn layer_labels(net: &Network) -> Vec<String> {
    let mut k = 0;
    net.layers()
        .iter()
        .enumerate()
        .map(|(h, l)| match l.op {
            Op::Relu { .. } | Op::MaxPool { .. } => {
                k += 1;
                format!("L{k}")
            }
            _ => format!("N{h}"),
        })
        .collect()
}
