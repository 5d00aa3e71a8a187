//! Compiler-side presolve: rewrites a finished model into a smaller one with the same optimum
//! before any solver sees it.
//!
//! Every reduction is a substitution of columns by expressions over new columns, so the new
//! model's feasible set is the old one's image and every objective value is kept:
//!
//! - **split inputs** (the L1 distance): `in_j = img_j + p_j - n_j` with `p_j` in
//!   `[0, hi_j - img_j]` and `n_j` in `[0, img_j - lo_j]`; the distance is `sum_j p_j + n_j`
//!   (at an optimum one of the two is 0, because the rows only read `p_j - n_j` and the
//!   objective charges both). A direction the box fixes at 0 gets no column. This replaces the
//!   `d_j` columns and the two rows `d_j >= ±(in_j - img_j)` per input: the distance lives in
//!   the columns the first layer's rows read anyway.
//! - **fixed columns**: a continuous column with `lo = hi` is that constant.
//! - **empty rows**: a row whose terms all vanished is dropped when the constant satisfies it
//!   (and kept, so that a solver reports the infeasibility, when it does not).
//!
//! Binary and integer columns are never substituted: a solver point's binaries are what the
//! polishing and replay read.

use crate::bounds::InputBox;
use crate::milp::{name, Col, ColKind, LinExpr, Milp, Row, Sense};
use rayon::prelude::*;

/// What the presolve did, for headers and reports.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct PresolveStats {
    /// Continuous columns with `lo = hi`, replaced by their value.
    pub fixed_columns: usize,
    /// Rows left without terms and satisfied by their constant.
    pub empty_rows: usize,
    /// Split deviation columns (`p_j`, `n_j`) written, and directions the box fixes at 0
    /// (no column).
    pub split_columns: usize,
    pub split_fixed_directions: usize,
}

/// What presolve made of one old column. Kept compact (no heap per column): a conv net's model
/// has hundreds of thousands of columns, and a `LinExpr` each was most of presolve's time.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Image {
    /// A column of the new model.
    Col(Col),
    /// A constant (a fixed column).
    Const(f64),
    /// `value + up - down` (a split input; a direction the box fixes has no column).
    Split {
        value: f64,
        up: Option<Col>,
        down: Option<Col>,
    },
}

/// The model after presolve, and what each old column became in it.
#[derive(Clone, Debug)]
pub struct Presolved {
    pub milp: Milp,
    /// Per old column, its image in the new model.
    map: Vec<Image>,
    /// The L1 distance of the input from the image, `sum_j p_j + n_j` (plus the distance of the
    /// image from the box), when inputs were split; else empty.
    pub split_distance: LinExpr,
    pub stats: PresolveStats,
}

impl Presolved {
    /// The new column of a binary (never substituted).
    pub fn binary(&self, c: Col) -> Col {
        match self.map[c.index()] {
            Image::Col(b) => b,
            other => panic!("binary column {} became {other:?}", c.index()),
        }
    }

    /// Old column `c` as an expression over the new model.
    pub fn expr(&self, c: Col) -> LinExpr {
        self.substitute(&[(c, 1.0)])
    }

    /// Old columns `cols` as expressions over the new model.
    pub fn exprs(&self, cols: &[Col]) -> Vec<LinExpr> {
        cols.iter().map(|&c| self.expr(c)).collect()
    }

    /// `sum a·c` over `terms` with every old column `c` replaced by its image.
    pub fn substitute(&self, terms: &[(Col, f64)]) -> LinExpr {
        substitute(&self.map, terms)
    }
}

/// Inputs to split around an image: the input columns and the image, inside `region`.
pub struct SplitInputs<'a> {
    pub inputs: &'a [Col],
    pub image: &'a [f64],
    pub region: &'a InputBox,
}

/// Presolves `milp`; with `split`, its input columns are replaced by deviations from the image
/// (see the module docs). The objective is carried over; a caller that minimises the split
/// distance sets it afterwards from [`Presolved::split_distance`].
///
/// The model is consumed row by row (each old row is freed once its replacement is made): a
/// dense network's model is tens of MB, and reading a borrowed one held both at once.
pub fn presolve(milp: Milp, split: Option<&SplitInputs>) -> Presolved {
    // A generated model stays one: its names come over, and the split columns' are generated
    // too, so the writer need not hash them all again to know they are unique.
    let generated = milp.names_are_unique();
    let milp = milp.into_parts();
    let mut out = match generated {
        true => Milp::with_generated_names(milp.name.clone()),
        false => Milp::new(milp.name.clone()),
    };
    let split_cols = split.map_or(0, |s| 2 * s.inputs.len());
    out.reserve(milp.cols.len() + split_cols, milp.rows.len(), milp.indicators.len());
    let mut stats = PresolveStats::default();
    let mut split_distance = LinExpr::default();
    let mut input_of = vec![None; milp.cols.len()];
    if let Some(s) = split {
        for (j, c) in s.inputs.iter().enumerate() {
            input_of[c.index()] = Some(j);
        }
    }
    let mut map = Vec::with_capacity(milp.cols.len());
    for (k, col) in milp.cols.into_iter().enumerate() {
        let e = match (split, input_of[k]) {
            (Some(s), Some(j)) => {
                // An image outside the box is first projected onto it: every point of the box
                // lies that much further away, a constant of the distance.
                let img = s.image[j].clamp(s.region.lo[j], s.region.hi[j]);
                split_distance.constant += (s.image[j] - img).abs();
                let mut direction = |kind: &str, room: f64| {
                    if room > 0.0 {
                        let c = out.add_col(name(kind, [&j]), 0.0, room, ColKind::Continuous);
                        split_distance.add_term(c, 1.0);
                        stats.split_columns += 1;
                        Some(c)
                    } else {
                        stats.split_fixed_directions += 1;
                        None
                    }
                };
                let up = direction("p", s.region.hi[j] - img);
                let down = direction("n", img - s.region.lo[j]);
                Image::Split { value: img, up, down }
            }
            _ if col.kind == ColKind::Continuous && col.lo == col.hi => {
                stats.fixed_columns += 1;
                Image::Const(col.lo)
            }
            _ => Image::Col(out.add_col(col.name, col.lo, col.hi, col.kind)),
        };
        map.push(e);
    }
    // Row by row on rayon's threads (each is a pass over its terms, independent of the
    // others), collected in order.
    let n_rows = milp.rows.len();
    let rows: Vec<Row> = milp
        .rows
        .into_par_iter()
        .filter_map(|row| {
            let e = substitute_in_place(&map, row.terms);
            let rhs = row.rhs - e.constant;
            // Each new column stands for one old column only, so no two terms merge: a row is
            // empty when every term it has left is 0.
            let terms = e.terms;
            if terms.iter().all(|t| t.1 == 0.0) && satisfied(row.sense, rhs) {
                return None;
            }
            Some(Row { terms, rhs, ..row })
        })
        .collect();
    stats.empty_rows += n_rows - rows.len();
    out.add_rows(rows);
    for ind in milp.indicators {
        let e = substitute(&map, &ind.terms);
        let Image::Col(binary) = map[ind.binary.index()] else {
            panic!("indicator {} is switched by a substituted column", ind.name)
        };
        out.add_indicator(ind.name, binary, ind.value, e.terms, ind.sense, ind.rhs - e.constant);
    }
    let mut obj = substitute(&map, &milp.objective.terms);
    obj.constant += milp.objective.offset;
    out.set_objective(milp.objective.sense, obj);
    Presolved {
        milp: out,
        map,
        split_distance,
        stats,
    }
}

/// [`substitute`] reusing the buffer of `terms` when no term is a split input (every row but
/// the first layer's): presolve then allocates nothing for most of the model, where a new
/// buffer per row held a second copy of it at the peak.
fn substitute_in_place(map: &[Image], mut terms: Vec<(Col, f64)>) -> LinExpr {
    if terms
        .iter()
        .any(|&(c, _)| matches!(map[c.index()], Image::Split { .. }))
    {
        return substitute(map, &terms);
    }
    // The same terms and the same sum of constants, in the same order, as `substitute`.
    let mut constant = 0.0;
    terms.retain_mut(|(c, a)| {
        if *a == 0.0 {
            return false;
        }
        match map[c.index()] {
            Image::Col(n) => {
                *c = n;
                true
            }
            Image::Const(v) => {
                constant += *a * v;
                false
            }
            Image::Split { .. } => unreachable!("rows with split inputs take `substitute`"),
        }
    });
    LinExpr { terms, constant }
}

/// `sum a·c` over `terms` with every column `c` replaced by its image in `map`. The terms come
/// out in the order of the old columns', so a sorted row stays sorted: images are made in
/// column order, a split input's `up` before its `down`.
fn substitute(map: &[Image], terms: &[(Col, f64)]) -> LinExpr {
    // Sized exactly: the rows of a dense layer are the model's bulk, and a grown buffer is
    // copied again when the model trims it.
    let len = terms
        .iter()
        .map(|&(c, _)| match map[c.index()] {
            Image::Col(_) => 1,
            Image::Const(_) => 0,
            Image::Split { up, down, .. } => usize::from(up.is_some()) + usize::from(down.is_some()),
        })
        .sum();
    let mut e = LinExpr {
        terms: Vec::with_capacity(len),
        constant: 0.0,
    };
    for &(c, a) in terms {
        if a == 0.0 {
            continue;
        }
        match map[c.index()] {
            Image::Col(n) => e.terms.push((n, a)),
            Image::Const(v) => e.constant += a * v,
            Image::Split { value, up, down } => {
                e.constant += a * value;
                e.terms.extend(up.map(|p| (p, a)));
                e.terms.extend(down.map(|n| (n, -a)));
            }
        }
    }
    e
}

/// How far a constant row may miss and still count as met: the constants of fused affine
/// chains carry rounding of this order, far below any solver's feasibility tolerance (dropping
/// such a row only relaxes the model by that much, and the replay checks the answer anyway).
const EMPTY_ROW_TOL: f64 = 1e-9;

/// Whether `0 <sense> rhs` holds (up to [`EMPTY_ROW_TOL`]).
fn satisfied(sense: Sense, rhs: f64) -> bool {
    match sense {
        Sense::Le => rhs >= -EMPTY_ROW_TOL,
        Sense::Ge => rhs <= EMPTY_ROW_TOL,
        Sense::Eq => rhs.abs() <= EMPTY_ROW_TOL,
    }
}
