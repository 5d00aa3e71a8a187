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
