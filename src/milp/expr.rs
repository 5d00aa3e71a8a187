//! Linear expressions over columns, the currency of lowering.

use super::Col;

/// `sum(coef · col) + constant`. Terms may be unsorted and repeat a column until they are
/// handed to [`super::Milp`], which normalises them.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LinExpr {
    pub terms: Vec<(Col, f64)>,
    pub constant: f64,
}

impl LinExpr {
    pub fn constant(c: f64) -> Self {
        LinExpr {
            terms: Vec::new(),
            constant: c,
        }
    }

    pub fn var(c: Col) -> Self {
        LinExpr {
            terms: vec![(c, 1.0)],
            constant: 0.0,
        }
    }

    /// `self += k · other`.
    pub fn add_scaled(&mut self, other: &LinExpr, k: f64) {
        if k == 0.0 {
            return;
        }
        self.terms.extend(other.terms.iter().map(|&(c, v)| (c, v * k)));
        self.constant += k * other.constant;
    }

    pub fn add_term(&mut self, c: Col, k: f64) {
        self.terms.push((c, k));
    }

    /// Value at a point given by column values.
    pub fn eval(&self, x: &[f64]) -> f64 {
        self.constant + self.terms.iter().map(|&(c, v)| v * x[c.index()]).sum::<f64>()
    }
}
