//! Graph clean-up after a front end: fuse chains of affine maps and drop unreachable layers.
//!
//! Front ends expand each source operator on its own (a `MatMul`, then an `Add` of a bias, then
//! a `Div` by a normalisation constant), which leaves chains of affine layers. Lowering would
//! give each link its own rows; composing them first keeps the MILP as small as the paper's
//! formulation, where every unit has exactly one row `w·x + b = x - s`.

use super::{Handle, IrError, Layer, Network, Op, SparseMatrix};

impl Network {
    /// Composes every affine layer whose input is an affine layer read by nobody else (and not
    /// the output), then removes layers the output does not depend on. The function computed is
    /// unchanged. Fusions may create at most `max_new_nonzeros` matrix entries in all (a rank-1
    /// chain `[n×1]·[1×n]` has `n²`); one beyond that, or one whose weights overflow `f64`
    /// (`1e200 · 1e200`), is an error naming the layer, not a panic or an abort.
    pub fn simplify(self, max_new_nonzeros: u64) -> Result<Network, IrError> {
        let mut new_nonzeros = 0u64;
        // The layers are moved, not cloned: a copy would hold every weight twice.
        let Network {
            layers: source,
            output,
            info,
        } = self;
        let mut layers: Vec<Layer> = Vec::with_capacity(source.len());
        for (i, mut layer) in source.into_iter().enumerate() {
            if let Op::Affine { input, weights, bias } = &mut layer.op {
                let inner = &mut layers[input.index()];
                let fusable = info.consumers(*input).len() == 1 && *input != output;
                if let (
                    true,
                    Op::Affine {
                        input: inner_in,
                        weights: w_in,
                        bias: b_in,
                    },
                ) = (fusable, &mut inner.op)
                {
                    let bad = |message: String| IrError::Invalid {
                        index: i,
                        name: layer.name.clone(),
                        message,
                    };
                    // An upper bound on the product's entries, from the rows it sums.
                    let bound: u64 = (0..weights.n_rows())
                        .flat_map(|r| weights.row(r))
                        .map(|(c, _)| w_in.row(c).len() as u64)
                        .sum();
                    new_nonzeros = new_nonzeros.saturating_add(bound);
                    if new_nonzeros > max_new_nonzeros {
                        return Err(bad(format!(
                            "fusing it with affine layer {} ({}) would need up to {bound} weights, beyond the load's budget (--max-nonzeros)",
                            input.index(),
                            inner.name
                        )));
                    }
                    let mut b = weights.mul_vec(b_in);
                    b.iter_mut().zip(bias.iter()).for_each(|(b, c)| *b += c);
                    // A diagonal on either side (a bias `Add`, a `Mul`, a batch normalisation)
                    // scales the other matrix in place, which nobody else reads: fusing it costs
                    // no second copy of a large layer. The entries are those `compose` makes.
                    let w = if weights.is_diagonal() {
                        let mut w = std::mem::replace(w_in, SparseMatrix::empty());
                        w.scale_rows(weights.values());
                        w
                    } else if w_in.is_diagonal() {
                        let mut w = std::mem::replace(weights, SparseMatrix::empty());
                        w.scale_cols(w_in.values());
                        w
                    } else {
                        // No more entries than products summed, nor than a dense result has.
                        let dense = weights.n_rows().saturating_mul(w_in.n_cols());
                        weights.compose_with_capacity(w_in, (bound as usize).min(dense))
                    };
                    if let Some(v) = w.values().iter().chain(&b).find(|v| !v.is_finite()) {
                        return Err(bad(format!(
                            "fusing it with affine layer {} ({}) overflows f64 (a fused weight is {v})",
                            input.index(),
                            inner.name
                        )));
                    }
                    layer.op = Op::Affine {
                        input: *inner_in,
                        weights: w,
                        bias: b,
                    };
                }
            }
            debug_assert_eq!(layers.len(), i);
            layers.push(layer);
        }
        // Keep only what the output depends on, renumbering handles.
        let mut live = vec![false; layers.len()];
        live[0] = true;
        live[output.index()] = true;
        for i in (0..layers.len()).rev() {
            if live[i] {
                for h in layers[i].op.inputs() {
                    live[h.index()] = true;
                }
            }
        }
        let mut new_index = vec![usize::MAX; layers.len()];
        let mut kept = Vec::new();
        for (i, mut layer) in layers.into_iter().enumerate() {
            if !live[i] {
                continue;
            }
            let remap = |h: &mut Handle| *h = Handle::from_index(new_index[h.index()]);
            match &mut layer.op {
                Op::Input => {}
                Op::Affine { input, .. } | Op::Relu { input } | Op::MaxPool { input, .. } => remap(input),
                Op::Sum { inputs } => inputs.iter_mut().for_each(remap),
            }
            new_index[i] = kept.len();
            kept.push(layer);
        }
        let out = Handle::from_index(new_index[output.index()]);
        Network::new(kept, out)
    }
}

#[cfg(test)]
mod tests {
    use super::super::SparseMatrix;
    use super::*;

    #[test]
    fn affine_chain_is_fused_and_function_kept() {
        let layers = vec![
            Layer {
                name: "x".into(),
                op: Op::Input,
                shape: vec![2],
            },
            Layer {
                name: "a".into(),
                op: Op::Affine {
                    input: Handle::from_index(0),
                    weights: SparseMatrix::from_dense(3, 2, &[1.0, 2.0, -1.0, 0.5, 0.0, 3.0]),
                    bias: vec![0.1, 0.2, 0.3],
                },
                shape: vec![3],
            },
            Layer {
                name: "b".into(),
                op: Op::Affine {
                    input: Handle::from_index(1),
                    weights: SparseMatrix::diagonal(&[2.0, -1.0, 0.5]),
                    bias: vec![1.0, 1.0, 1.0],
                },
                shape: vec![3],
            },
            Layer {
                name: "r".into(),
                op: Op::Relu {
                    input: Handle::from_index(2),
                },
                shape: vec![3],
            },
        ];
        let net = Network::new(layers, Handle::from_index(3)).unwrap();
        let s = net.clone().simplify(u64::MAX).unwrap();
        assert_eq!(s.layers().len(), 3);
        for x in [[0.3, -0.7], [1.0, 2.0], [-4.0, 0.25]] {
            let (a, b) = (net.forward(&x).unwrap(), s.forward(&x).unwrap());
            for (a, b) in a.iter().zip(&b) {
                assert!((a - b).abs() < 1e-12);
            }
        }
    }
}
