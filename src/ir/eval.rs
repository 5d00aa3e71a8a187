//! The f64 forward pass: the reference every lowering, replay and test is checked against.

use super::{IrError, Network, Op};

impl Network {
    /// Values of every layer (indexed like [`Network::layers`]) for one input.
    pub fn forward_all(&self, input: &[f64]) -> Result<Vec<Vec<f64>>, IrError> {
        if input.len() != self.input_size() {
            return Err(IrError::InputSize {
                expected: self.input_size(),
                got: input.len(),
            });
        }
        let mut values: Vec<Vec<f64>> = Vec::with_capacity(self.layers().len());
        for layer in self.layers() {
            let v = match &layer.op {
                Op::Input => input.to_vec(),
                Op::Affine { input, weights, bias } => {
                    let mut y = weights.mul_vec(&values[input.index()]);
                    y.iter_mut().zip(bias).for_each(|(y, b)| *y += b);
                    y
                }
                Op::Sum { inputs } => {
                    let mut y = vec![0.0; layer.size()];
                    for h in inputs {
                        y.iter_mut().zip(&values[h.index()]).for_each(|(y, x)| *y += x);
                    }
                    y
                }
                Op::Relu { input } => values[input.index()].iter().map(|&x| x.max(0.0)).collect(),
                Op::MaxPool { input, windows } => {
                    let x = &values[input.index()];
                    windows
                        .iter()
                        .map(|w| w.iter().map(|&k| x[k as usize]).fold(f64::NEG_INFINITY, f64::max))
                        .collect()
                }
            };
            values.push(v);
        }
        Ok(values)
    }

    /// The network's output for one input.
    pub fn forward(&self, input: &[f64]) -> Result<Vec<f64>, IrError> {
        let mut all = self.forward_all(input)?;
        Ok(all.swap_remove(self.output().index()))
    }
}

impl Network {
    /// The gradient of `g · output` with respect to the input at the point whose layer values
    /// are `values` (from [`Network::forward_all`]): one backward pass. The network is piecewise
    /// linear, so this is exact inside the point's linear piece. A ReLU at exactly 0 passes no
    /// gradient; a max-pool passes it to the first input attaining the maximum.
    pub fn input_gradient(&self, values: &[Vec<f64>], g: &[f64]) -> Vec<f64> {
        let mut grads: Vec<Option<Vec<f64>>> = vec![None; self.layers().len()];
        grads[self.output().index()] = Some(g.to_vec());
        let add_into = |grads: &mut Vec<Option<Vec<f64>>>, h: super::Handle, size: usize| -> Vec<f64> {
            grads[h.index()].take().unwrap_or_else(|| vec![0.0; size])
        };
        for hi in (1..self.layers().len()).rev() {
            let Some(gy) = grads[hi].take() else { continue };
            let layer = &self.layers()[hi];
            let size = |h: super::Handle| self.layer(h).size();
            match &layer.op {
                Op::Input => {}
                Op::Affine { input, weights, .. } => {
                    let mut acc = add_into(&mut grads, *input, size(*input));
                    for (i, &gi) in gy.iter().enumerate() {
                        if gi != 0.0 {
                            for (c, w) in weights.row(i) {
                                acc[c] += gi * w;
                            }
                        }
                    }
                    grads[input.index()] = Some(acc);
                }
                Op::Sum { inputs } => {
                    for input in inputs {
                        let mut acc = add_into(&mut grads, *input, size(*input));
                        acc.iter_mut().zip(&gy).for_each(|(a, g)| *a += g);
                        grads[input.index()] = Some(acc);
                    }
                }
                Op::Relu { input } => {
                    let mut acc = add_into(&mut grads, *input, size(*input));
                    for (j, &gj) in gy.iter().enumerate() {
                        if values[input.index()][j] > 0.0 {
                            acc[j] += gj;
                        }
                    }
                    grads[input.index()] = Some(acc);
                }
                Op::MaxPool { input, windows } => {
                    let mut acc = add_into(&mut grads, *input, size(*input));
                    let x = &values[input.index()];
                    for (j, w) in windows.iter().enumerate() {
                        let best = w
                            .iter()
                            .map(|&k| k as usize)
                            .fold(w[0] as usize, |b, k| if x[k] > x[b] { k } else { b });
                        acc[best] += gy[j];
                    }
                    grads[input.index()] = Some(acc);
                }
            }
        }
        grads[self.input().index()]
            .take()
            .unwrap_or_else(|| vec![0.0; self.input_size()])
    }
}

/// Index of the largest entry (the first one on ties): the predicted class.
pub fn argmax(v: &[f64]) -> usize {
    let mut best = 0;
    for (i, &x) in v.iter().enumerate() {
        if x > v[best] {
            best = i;
        }
    }
    best
}
