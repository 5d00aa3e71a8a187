//! `Conv` (any spatial rank, groups, pads, strides, dilations, `auto_pad`) as one sparse affine
//! layer, and the sliding-window geometry that pooling shares.

use super::{checked_product, Node, NodeError, Value};
use crate::ir::CsrBuilder;

/// Sliding-window geometry along one spatial axis.
pub struct Axis {
    pub input: usize,
    pub kernel: usize,
    stride: usize,
    dilation: usize,
    pad_begin: usize,
    pad_end: usize,
    pub output: usize,
}

impl Axis {
    /// `(kernel index, input index)` of the taps of window `o` that land inside the input.
    fn taps(&self, o: usize) -> Vec<(usize, usize)> {
        (0..self.kernel)
            .filter_map(|k| {
                // Saturating: [`axes`] bounded every window's extent, so saturation only ever
                // pushes a position further outside the input.
                let p = (o.saturating_mul(self.stride))
                    .saturating_add(k.saturating_mul(self.dilation))
                    .checked_sub(self.pad_begin)?;
                (p < self.input).then_some((k, p))
            })
            .collect()
    }

    /// Taps of window `o` inside the padded input (the `count_include_pad` divisor: with
    /// `ceil_mode` a last window can run past the explicit padding).
    fn padded_taps(&self, o: usize) -> usize {
        let end = self.pad_begin.saturating_add(self.input).saturating_add(self.pad_end);
        (0..self.kernel)
            .filter(|k| {
                o.saturating_mul(self.stride)
                    .saturating_add(k.saturating_mul(self.dilation))
                    < end
            })
            .count()
    }
}

/// The window geometry of a Conv or pooling node over spatial input dims `input` with
/// `kernel`, from its `strides`, `dilations`, `pads` and `auto_pad` attributes. All of it is
/// computed with checked arithmetic: a kernel extent, padded size or output size that
/// overflows is an error, never a wrapped (aliasing or tiny) window.
pub fn axes(n: &Node<'_>, input: &[usize], kernel: &[usize], ceil_mode: bool) -> Result<Vec<Axis>, NodeError> {
    let r = input.len();
    let list = |name: &str, len: usize, default: usize, min: usize| -> Result<Vec<usize>, NodeError> {
        match n.ints(name)? {
            None => Ok(vec![default; len]),
            Some(v) if v.len() == len && v.iter().all(|&x| x >= min as i64) => {
                Ok(v.iter().map(|&x| x as usize).collect())
            }
            Some(v) => Err(n.bad_attr(name, format!("expected {len} values >= {min}, got {v:?}"))),
        }
    };
    let strides = list("strides", r, 1, 1)?;
    let dilations = list("dilations", r, 1, 1)?;
    let pads = list("pads", 2 * r, 0, 0)?;
    let auto_pad = n.string("auto_pad", "NOTSET")?;
    (0..r)
        .map(|d| {
            let (input, kernel, stride, dilation) = (input[d], kernel[d], strides[d], dilations[d]);
            let overflow = |what: &str| NodeError::Shape(format!("{what} on spatial axis {d} overflows"));
            let field = (kernel.saturating_sub(1).checked_mul(dilation))
                .and_then(|f| f.checked_add(1))
                .ok_or_else(|| overflow("the kernel extent (kernel - 1) * dilation + 1"))?;
            let (pad_begin, pad_end, output) = match auto_pad.as_str() {
                "SAME_UPPER" | "SAME_LOWER" => {
                    let output = input.div_ceil(stride);
                    let total = (output.saturating_sub(1).checked_mul(stride))
                        .and_then(|v| v.checked_add(field))
                        .ok_or_else(|| overflow("the padded extent"))?
                        .saturating_sub(input);
                    let half = total / 2;
                    match auto_pad.as_str() {
                        "SAME_UPPER" => (half, total - half, output),
                        _ => (total - half, half, output),
                    }
                }
                "NOTSET" | "VALID" => {
                    let (pb, pe) = if auto_pad == "VALID" {
                        (0, 0)
                    } else {
                        (pads[d], pads[d + r])
                    };
                    let padded = (input.checked_add(pb))
                        .and_then(|v| v.checked_add(pe))
                        .ok_or_else(|| overflow("the padded input size"))?;
                    let span = padded.checked_sub(field).ok_or_else(|| {
                        NodeError::Shape(format!(
                            "kernel extent {field} exceeds the padded input {padded} on spatial axis {d}"
                        ))
                    })?;
                    let mut output = if ceil_mode {
                        span.div_ceil(stride)
                    } else {
                        span / stride
                    } + 1;
                    // In ceil mode the last window must still start inside the input or its left padding.
                    if ceil_mode && (output - 1).saturating_mul(stride) >= input.saturating_add(pb) {
                        output -= 1;
                    }
                    (pb, pe, output)
                }
                other => return Err(n.bad_attr("auto_pad", format!("unknown value {other}"))),
            };
            Ok(Axis {
                input,
                kernel,
                stride,
                dilation,
                pad_begin,
                pad_end,
                output,
            })
        })
        .collect()
}

/// For each output position (row-major over the spatial output), its taps inside the input as
/// `(kernel offset, input offset)`, both row-major over the spatial dims.
pub fn windows(axes: &[Axis]) -> Vec<Vec<(usize, usize)>> {
    let mut wins = vec![vec![(0, 0)]];
    for a in axes {
        let taps: Vec<_> = (0..a.output).map(|o| a.taps(o)).collect();
        wins = wins
            .iter()
            .flat_map(|w| {
                taps.iter().map(move |t| {
                    w.iter()
                        .flat_map(|&(kf, xf)| t.iter().map(move |&(k, x)| (kf * a.kernel + k, xf * a.input + x)))
                        .collect()
                })
            })
            .collect();
    }
    wins
}

/// For each output position, the number of its taps inside the padded input.
pub fn padded_counts(axes: &[Axis]) -> Vec<usize> {
    axes.iter().fold(vec![1], |acc, a| {
        acc.iter()
            .flat_map(|&c| (0..a.output).map(move |o| c * a.padded_taps(o)))
            .collect()
    })
}

pub fn conv(n: &mut Node<'_>) -> Result<Value, NodeError> {
    let (x, xs) = n.var(0)?;
    let w = n.constant(1)?;
    if xs.len() < 3 || w.shape.len() != xs.len() {
        return Err(NodeError::Shape(format!(
            "Conv needs an input [N, C, spatial...] and weights of the same rank, got {xs:?} and {:?}",
            w.shape
        )));
    }
    if xs[0] != 1 {
        return Err(NodeError::Unsupported(format!("batch size {} (only 1)", xs[0])));
    }
    if w.shape.contains(&0) {
        return Err(NodeError::Shape(format!("empty weights {:?}", w.shape)));
    }
    let group = n.int("group", 1)?;
    let (c, m, cg) = (xs[1], w.shape[0], w.shape[1]);
    let fits = usize::try_from(group)
        .ok()
        .filter(|&g| g >= 1)
        .is_some_and(|g| cg.checked_mul(g) == Some(c) && m % g == 0);
    if !fits {
        return Err(NodeError::Shape(format!(
            "weights {:?} with group {group} do not fit an input with {c} channels",
            w.shape
        )));
    }
    let kernel = &w.shape[2..];
    if let Some(k) = n.ints("kernel_shape")? {
        if !k.iter().map(|&v| v as usize).eq(kernel.iter().copied()) {
            return Err(n.bad_attr("kernel_shape", format!("{k:?} differs from the weights' {kernel:?}")));
        }
    }
    let axes = axes(n, &xs[2..], kernel, false)?;
    let in_size: usize = xs[2..].iter().product();
    let k_size = checked_product(kernel.iter().copied()).unwrap_or(usize::MAX);
    let out_size = checked_product(axes.iter().map(|a| a.output)).unwrap_or(usize::MAX);
    n.reserve("the convolution matrix", &[m, out_size, cg, k_size])?;
    n.reserve("the convolution windows", &[out_size, k_size, 2])?;
    let bias = match n.opt_input(2) {
        None => vec![0.0; m],
        Some(_) => n.constant(2)?.to_vec(),
    };
    if bias.len() != m {
        return Err(NodeError::Shape(format!(
            "bias has {} entries for {m} output channels",
            bias.len()
        )));
    }
    let wins = windows(&axes);
    let per_group = m / group as usize;
    // Row (oc, window) reads, per input channel of its group, the window's taps in increasing
    // input order: the matrix is written in order, with room for exactly its taps.
    let taps: usize = wins.iter().map(Vec::len).sum();
    // The kernel as `f64`s: it is small next to the matrix, which repeats it once per window.
    let kernels = w.to_vec();
    let mut weights = CsrBuilder::new(c * in_size, m * out_size, m * cg * taps);
    for oc in 0..m {
        let first_in = oc / per_group * cg;
        for win in &wins {
            for ic in 0..cg {
                let (col, kernel) = ((first_in + ic) * in_size, &kernels[(oc * cg + ic) * k_size..]);
                for &(kf, xf) in win {
                    weights.push(col + xf, kernel[kf]);
                }
            }
            weights.end_row();
        }
    }
    let weights = weights.finish();
    let bias = bias.iter().flat_map(|&b| std::iter::repeat_n(b, out_size)).collect();
    let mut shape = vec![1, m];
    shape.extend(axes.iter().map(|a| a.output));
    Ok(n.affine(x, weights, bias, shape))
}
