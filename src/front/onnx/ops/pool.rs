//! Pooling: `MaxPool` becomes max windows (padded positions simply absent), `AveragePool` an
//! affine layer; the global variants are windows over the whole spatial extent.

use super::conv::{axes, padded_counts, windows, Axis};
use super::{checked_product, Node, NodeError, Value};
use crate::ir::{Handle, Op, SparseMatrix};

/// The pooled variable, its channel count and spatial size, and the window geometry.
struct Pool {
    x: Handle,
    channels: usize,
    in_size: usize,
    axes: Vec<Axis>,
}

impl Pool {
    fn read(n: &mut Node<'_>, global: bool) -> Result<Self, NodeError> {
        let (x, xs) = n.var(0)?;
        if xs.len() < 3 {
            return Err(NodeError::Shape(format!(
                "pooling needs an input [N, C, spatial...], got {xs:?}"
            )));
        }
        if xs[0] != 1 {
            return Err(NodeError::Unsupported(format!("batch size {} (only 1)", xs[0])));
        }
        let spatial = &xs[2..];
        let axes = if global {
            axes(n, spatial, spatial, false)?
        } else {
            let kernel = match n.ints("kernel_shape")? {
                Some(k) if k.len() == spatial.len() && k.iter().all(|&v| v >= 1) => {
                    k.iter().map(|&v| v as usize).collect::<Vec<_>>()
                }
                k => {
                    return Err(n.bad_attr(
                        "kernel_shape",
                        format!("expected {} values >= 1, got {k:?}", spatial.len()),
                    ))
                }
            };
            axes(n, spatial, &kernel, n.flag("ceil_mode", false)?)?
        };
        // Checked: a product that wraps would pass as tiny and then loop over the real kernel.
        let out_size = checked_product(axes.iter().map(|a| a.output)).unwrap_or(usize::MAX);
        let k_size = checked_product(axes.iter().map(|a| a.kernel)).unwrap_or(usize::MAX);
        n.reserve("the pooling windows", &[out_size, k_size, 2])?;
        n.reserve("the pooled layer", &[xs[1], out_size, k_size])?;
        Ok(Pool {
            x,
            channels: xs[1],
            in_size: spatial.iter().product(),
            axes,
        })
    }

    fn out_shape(&self) -> Vec<usize> {
        [1, self.channels]
            .into_iter()
            .chain(self.axes.iter().map(|a| a.output))
            .collect()
    }
}

pub fn max_pool(n: &mut Node<'_>) -> Result<Value, NodeError> {
    max(n, false)
}
pub fn global_max_pool(n: &mut Node<'_>) -> Result<Value, NodeError> {
    max(n, true)
}
pub fn average_pool(n: &mut Node<'_>) -> Result<Value, NodeError> {
    average(n, false)
}
pub fn global_average_pool(n: &mut Node<'_>) -> Result<Value, NodeError> {
    average(n, true)
}

fn max(n: &mut Node<'_>, global: bool) -> Result<Value, NodeError> {
    let p = Pool::read(n, global)?;
    let wins = windows(&p.axes);
    if let Some(i) = wins.iter().position(|w| w.is_empty()) {
        return Err(NodeError::Shape(format!(
            "pooling window {i} lies entirely in the padding"
        )));
    }
    let windows = (0..p.channels)
        .flat_map(|c| {
            wins.iter()
                .map(move |w| w.iter().map(|&(_, xf)| (c * p.in_size + xf) as u32).collect())
        })
        .collect();
    Ok(n.push(Op::MaxPool { input: p.x, windows }, p.out_shape()))
}

fn average(n: &mut Node<'_>, global: bool) -> Result<Value, NodeError> {
    let p = Pool::read(n, global)?;
    let include_pad = n.flag("count_include_pad", false)?;
    let wins = windows(&p.axes);
    let padded = padded_counts(&p.axes);
    let rows = (0..p.channels).flat_map(|c| {
        wins.iter().zip(&padded).map(move |(w, &np)| {
            let div = if include_pad { np } else { w.len() } as f64;
            w.iter().map(move |&(_, xf)| (c * p.in_size + xf, 1.0 / div))
        })
    });
    let weights = SparseMatrix::from_rows(p.channels * p.in_size, rows);
    let bias = vec![0.0; weights.n_rows()];
    Ok(n.affine(p.x, weights, bias, p.out_shape()))
}
