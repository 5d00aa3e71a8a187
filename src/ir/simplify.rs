//! Graph clean-up after a front end: fuse chains of affine maps and drop unreachable layers.
//!
//! Front ends expand each source operator on its own (a `MatMul`, then an `Add` of a bias, then
//! a `Div` by a normalisation constant), which leaves chains of affine layers. Lowering would
//! give each link its own rows; composing them first keeps the MILP as small as the paper's
//! formulation, where every unit has exactly one row `w·x + b = x - s`.

use super::{Handle, Layer, Network, Op};

impl Network {
    /// Composes every affine layer whose input is an affine layer read by nobody else (and not
    /// the output), then removes layers the output does not depend on. The function computed is
    /// unchanged.
    pub fn simplify(self) -> Network {
        let info = self.info().clone();
        let output = self.output();
        let mut layers: Vec<Layer> = Vec::with_capacity(self.layers().len());
        for (i, layer) in self.layers().iter().enumerate() {
            let mut layer = layer.clone();
            if let Op::Affine { input, weights, bias } = &layer.op {
                let inner = &layers[input.index()];
                let fusable = info.consumers(*input).len() == 1 && *input != output;
                if let (
                    true,
                    Op::Affine {
                        input: inner_in,
                        weights: w_in,
                        bias: b_in,
                    },
                ) = (fusable, &inner.op)
                {
                    let w = weights.compose(w_in);
                    let mut b = weights.mul_vec(b_in);
                    b.iter_mut().zip(bias).for_each(|(b, c)| *b += c);
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
        Network::new(kept, out).expect("simplify keeps the invariants")
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
        let s = net.clone().simplify();
        assert_eq!(s.layers().len(), 3);
        for x in [[0.3, -0.7], [1.0, 2.0], [-4.0, 0.25]] {
            let (a, b) = (net.forward(&x).unwrap(), s.forward(&x).unwrap());
            for (a, b) in a.iter().zip(&b) {
                assert!((a - b).abs() < 1e-12);
            }
        }
    }
}
