//! The property as part of the network: one more affine layer whose units are the rows'
//! violations `coeffs · y - rhs` (a row holds where its unit is `<= 0`).
//!
//! Bounding that layer bounds each row *with* the correlations between outputs that bounds on
//! the outputs alone lose (`Y_0 - Y_1` over a box is often far narrower than the difference of
//! the two outputs' ranges). A disjunct is ruled out over a box when one of its rows has a
//! positive lower bound; a case is proved safe when every disjunct is ruled out.

use crate::bounds::{Bounds, BoundsOptions, InputBox, Method, Region};
use crate::front::vnnlib::{Case, OutRow};
use crate::ir::{Handle, Layer, Network, Op, SparseMatrix};

/// A lower bound must exceed this (relative to `1 + |bound|`) to rule a row out: the bounds
/// passes round in `f64` over long sums, and a proof must not rest on the last bits.
const PROOF_MARGIN: f64 = 1e-9;

/// The network extended by the spec layer of one case.
pub struct SpecNet {
    pub net: Network,
    /// The original network.
    pub base: Network,
    /// Number of layers of the original network (the spec layer is the last one).
    pub base_layers: usize,
    /// Index range of each disjunct's rows in the spec layer.
    pub disjunct_rows: Vec<std::ops::Range<usize>>,
    pub rows: Vec<OutRow>,
}

impl SpecNet {
    /// `None` when the case has no row at all (every disjunct is empty: every input is unsafe).
    pub fn new(net: &Network, case: &Case) -> Option<SpecNet> {
        let mut rows = Vec::new();
        let mut disjunct_rows = Vec::new();
        for d in &case.disjuncts {
            let start = rows.len();
            rows.extend(d.iter().cloned());
            disjunct_rows.push(start..rows.len());
        }
        if rows.is_empty() {
            return None;
        }
        let weights = SparseMatrix::from_rows(net.output_size(), rows.iter().map(|r| r.coeffs.clone()));
        let bias = rows.iter().map(|r| -r.rhs).collect();
        let mut layers = net.layers().to_vec();
        layers.push(Layer {
            name: "vnnlib_property".into(),
            op: Op::Affine {
                input: net.output(),
                weights,
                bias,
            },
            shape: vec![rows.len()],
        });
        let out = Handle::from_index(layers.len() - 1);
        let spec = Network::new(layers, out).expect("an affine layer over the output keeps the network valid");
        Some(SpecNet {
            net: spec,
            base: net.clone(),
            base_layers: net.layers().len(),
            disjunct_rows,
            rows,
        })
    }

    /// Bounds of every layer over the box by `method`.
    pub fn bounds(&self, lo: &[f64], hi: &[f64], method: Method) -> Result<Bounds, crate::tasks::TaskError> {
        let region = Region::from(InputBox {
            lo: lo.to_vec(),
            hi: hi.to_vec(),
        });
        // No thread pool of its own: splitting calls this from rayon's workers.
        let options = BoundsOptions::default();
        Ok(crate::tighten::compute(&self.net, &region, method, &options)?.0)
    }

    /// The bounds of the original network's layers only (for lowering it).
    pub fn base_bounds(&self, b: &Bounds) -> Bounds {
        Bounds {
            lo: b.lo[..self.base_layers].to_vec(),
            hi: b.hi[..self.base_layers].to_vec(),
            method: b.method,
        }
    }

    /// `[lo, hi]` of every row's violation under `b`.
    pub fn row_bounds<'b>(&self, b: &'b Bounds) -> (&'b [f64], &'b [f64]) {
        b.layer(self.net.output())
    }

    /// Rules out more of the open disjuncts with several rows: a disjunct holds only where all
    /// its rows are `<= 0`, so a combination `Σ λ_r row_r` (`λ >= 0`) with a positive lower
    /// bound over the box rules it out even when every row alone can be met. Tries the rows'
    /// mean and every pair's (for up to 6 rows), each one back-substitution over the
    /// relaxations of `b`. Returns whether anything was ruled out.
    pub fn rule_out_jointly(&self, lo: &[f64], hi: &[f64], b: &Bounds, ruled: &mut [bool]) -> bool {
        let n = self.rows.len();
        let mut cs = Vec::new();
        let mut owner = Vec::new();
        for (d, range) in self.disjunct_rows.iter().enumerate() {
            if ruled[d] || range.len() < 2 {
                continue;
            }
            let mut mean = vec![0.0; n];
            range.clone().for_each(|r| mean[r] = 1.0 / range.len() as f64);
            cs.push(mean);
            owner.push(d);
            if range.len() <= 6 {
                for r in range.clone() {
                    for q in r + 1..range.end {
                        let mut c = vec![0.0; n];
                        c[r] = 0.5;
                        c[q] = 0.5;
                        cs.push(c);
                        owner.push(d);
                    }
                }
            }
        }
        if cs.is_empty() {
            return false;
        }
        let region = Region::from(InputBox {
            lo: lo.to_vec(),
            hi: hi.to_vec(),
        });
        let lows = crate::bounds::lower_bounds_of(&self.net, &region, b, self.net.output(), &cs);
        let mut any = false;
        for (d, l) in owner.into_iter().zip(lows) {
            if !ruled[d] && l > PROOF_MARGIN * (1.0 + l.abs()) {
                ruled[d] = true;
                any = true;
            }
        }
        any
    }

    /// For each disjunct, whether the bounds rule it out (one row certainly violated).
    pub fn ruled_out(&self, b: &Bounds) -> Vec<bool> {
        let (lo, _) = self.row_bounds(b);
        self.disjunct_rows
            .iter()
            .map(|r| r.clone().any(|i| lo[i] > PROOF_MARGIN * (1.0 + lo[i].abs())))
            .collect()
    }
}
