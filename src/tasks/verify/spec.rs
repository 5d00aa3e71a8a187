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

    /// For each disjunct, whether the bounds rule it out (one row certainly violated).
    pub fn ruled_out(&self, b: &Bounds) -> Vec<bool> {
        let (lo, _) = self.row_bounds(b);
        self.disjunct_rows
            .iter()
            .map(|r| r.clone().any(|i| lo[i] > PROOF_MARGIN * (1.0 + lo[i].abs())))
            .collect()
    }
}
