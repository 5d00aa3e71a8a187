//! What a bounds computation did, per method and layer (printed by `nnmilp bounds`, kept in
//! bounds files).

use super::{Bounds, Method};
use crate::ir::{Network, Op};
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct BoundsReport {
    /// One entry per method run, in order (interval first).
    pub stages: Vec<StageReport>,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct StageReport {
    pub method: String,
    pub seconds: f64,
    /// Unstable ReLUs (input bounds straddling zero) after this stage.
    pub relu_unstable: usize,
    pub layers: Vec<LayerReport>,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct LayerReport {
    pub index: usize,
    pub name: String,
    pub kind: String,
    pub seconds: f64,
    /// Units whose bounds straddle zero (`L < 0 < U`) before and after the stage; for a layer
    /// read by ReLUs, its unstable ReLUs.
    pub unstable_before: usize,
    pub unstable_after: usize,
    /// Mean of `U - L` over the layer's units after the stage.
    pub mean_width: f64,
}

fn straddling(lo: &[f64], hi: &[f64]) -> usize {
    lo.iter().zip(hi).filter(|(l, h)| **l < 0.0 && **h > 0.0).count()
}

impl BoundsReport {
    pub(crate) fn push_stage(
        &mut self,
        net: &Network,
        method: Method,
        before: Option<&Bounds>,
        after: &Bounds,
        seconds: f64,
        layer_seconds: Vec<f64>,
    ) {
        let layers = net
            .handles()
            .filter(|h| !matches!(net.layer(*h).op, Op::Input))
            .map(|h| {
                let l = net.layer(h);
                let (lo, hi) = after.layer(h);
                let unstable_after = straddling(lo, hi);
                LayerReport {
                    index: h.index(),
                    name: l.name.clone(),
                    kind: l.op.kind().to_string(),
                    seconds: layer_seconds.get(h.index()).copied().unwrap_or(0.0),
                    unstable_before: before.map_or(unstable_after, |b| {
                        let (lo, hi) = b.layer(h);
                        straddling(lo, hi)
                    }),
                    unstable_after,
                    mean_width: lo.iter().zip(hi).map(|(l, h)| h - l).sum::<f64>() / lo.len() as f64,
                }
            })
            .collect();
        self.stages.push(StageReport {
            method: method.name().to_string(),
            seconds,
            relu_unstable: after.relu_stability(net).1,
            layers,
        });
    }
}
