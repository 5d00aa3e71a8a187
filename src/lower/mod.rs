//! Lowering: a network plus bounds becomes a 0-1 MILP whose feasible set is exactly the graph
//! of the network over the input box.
//!
//! The formulation is Fischetti & Jo's. Each unstable ReLU unit `j` of nonlinear layer `k`
//! gets columns `x_Lk_j, s_Lk_j >= 0` and a binary `z_Lk_j` with
//!
//! ```text
//! relu_Lk_j:  x_Lk_j - s_Lk_j - (w·prev) = b
//! big-M:      x_Lk_j <= U·(1 - z_Lk_j)          s_Lk_j <= -L·z_Lk_j
//! indicator:  z_Lk_j = 1 -> x_Lk_j <= 0          z_Lk_j = 0 -> s_Lk_j <= 0
//! ```
//!
//! where `[L, U]` bounds the pre-activation. Stable units need no binary: `U <= 0` makes the
//! unit the constant 0, `L >= 0` makes it an affine copy. A max-pool output `m` over inputs
//! `v_i` gets `m >= v_i` for every input that can be the maximum, one binary per such input
//! with `sum z = 1`, and `m <= v_i + M_i·(1 - z_i)` (or `z_i = 1 -> m <= v_i`).
//!
//! Affine layers get no columns of their own when a single ReLU layer reads them: their
//! expression is substituted into that layer's rows, exactly as in the paper. They are
//! materialised as columns (`a_Nh_j`, with an equality row) when anything else reads them, and
//! the output always is (`y_j`).

mod distance;
pub mod hygiene;
pub mod presolve;

pub use distance::{add_distance, with_distance, DistanceForm, Norm, WithDistance};

use crate::bounds::Bounds;
use crate::ir::{Drain, Handle, Network, Op};
use crate::milp::{name, Col, ColKind, LinExpr, Milp, Sense};
use rayon::prelude::*;
use std::borrow::Borrow;
use std::ops::Range;
use thiserror::Error;

/// How ReLU and max-pool disjunctions are written.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Encoding {
    /// Big-M rows from the bounds; read by every solver.
    #[default]
    BigM,
    /// Indicator constraints only, with the bounds as column bounds (SCIP, Gurobi, CPLEX).
    Indicator,
    /// Both, so indicator-aware solvers may use either.
    Both,
}

impl Encoding {
    pub fn name(self) -> &'static str {
        match self {
            Encoding::BigM => "bigm",
            Encoding::Indicator => "indicator",
            Encoding::Both => "both",
        }
    }
    fn bigm(self) -> bool {
        matches!(self, Encoding::BigM | Encoding::Both)
    }
    fn indicator(self) -> bool {
        matches!(self, Encoding::Indicator | Encoding::Both)
    }
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LowerOptions {
    pub encoding: Encoding,
}

#[derive(Debug, Error, PartialEq)]
pub enum LowerError {
    #[error(
        "layer {layer} unit {unit}: pre-activation bounds [{lo}, {hi}] are not finite, so no big-M exists; \
         bound the input (--box) or use --relu indicator"
    )]
    Unbounded {
        layer: String,
        unit: usize,
        lo: f64,
        hi: f64,
    },
}

/// Counts reported by `inspect` and in file headers.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct LowerStats {
    pub relu_units: usize,
    pub relu_stable_active: usize,
    pub relu_stable_inactive: usize,
    pub relu_unstable: usize,
    pub pool_units: usize,
    pub pool_binaries: usize,
}

/// A lowered network: the MILP and where each network value lives in it.
#[derive(Clone, Debug)]
pub struct Lowered {
    pub milp: Milp,
    /// One column per network input (`in_j`), bounded by the input box.
    pub inputs: Vec<Col>,
    /// One column per network output (`y_j`).
    pub outputs: Vec<Col>,
    /// The value of every unit of every layer as an expression over columns (indexed by layer
    /// handle), empty for an affine or sum layer whose readers are all lowered (see
    /// [`Lowered::value`]).
    values: Vec<Vec<LinExpr>>,
    /// Every binary column and what it decides, so that a point of the network (an
    /// adversarial example found by a heuristic) can be turned into a fixing of all binaries.
    pub binaries: Vec<(Col, Binary)>,
    pub stats: LowerStats,
}

impl Lowered {
    /// The value of unit `i` of layer `h` of `net` (the network this was lowered from) as an
    /// expression over columns, for tasks that put a hidden unit in the objective. The
    /// expressions of affine and sum layers of more than one term are not kept (they would hold
    /// every weight a second time) but rebuilt here from their inputs' values.
    pub fn value(&self, net: &Network, h: Handle, i: usize) -> LinExpr {
        match self.values[h.index()].get(i) {
            Some(e) => e.clone(),
            None => linear_unit(&net.layer(h).op, i, |g, k| self.value(net, g, k))
                .expect("only affine and sum values are dropped"),
        }
    }
}

/// What one binary column of the lowering means.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Binary {
    /// `z = 1` makes unit `unit` of ReLU layer `relu` inactive (`x = 0`, its input `<= 0`).
    ReluInactive { relu: Handle, unit: usize },
    /// `z = 1` makes window input `input` (an index into the pooled layer) the maximum of
    /// output `unit` of max-pool layer `pool`.
    PoolPick { pool: Handle, unit: usize, input: usize },
}

impl Binary {
    /// The binary's value at a point whose layer values are `values`
    /// ([`Network::forward_all`]), or `None` for a ReLU whose input is within `tie` of 0, where
    /// both values are (nearly) feasible. A max-pool picks the first input attaining the maximum.
    pub fn value_at(&self, net: &Network, values: &[Vec<f64>], tie: f64) -> Option<f64> {
        match *self {
            Binary::ReluInactive { relu, unit } => {
                let Op::Relu { input } = net.layer(relu).op else {
                    unreachable!("ReluInactive names a ReLU layer")
                };
                let pre = values[input.index()][unit];
                (pre.abs() > tie).then_some(if pre < 0.0 { 1.0 } else { 0.0 })
            }
            Binary::PoolPick { pool, unit, input } => {
                let Op::MaxPool { input: pooled, windows } = &net.layer(pool).op else {
                    unreachable!("PoolPick names a max-pool layer")
                };
                let v = &values[pooled.index()];
                let first_max =
                    windows[unit]
                        .iter()
                        .map(|&k| k as usize)
                        .fold(None, |best: Option<usize>, k| match best {
                            Some(b) if v[b] >= v[k] => Some(b),
                            _ => Some(k),
                        });
                Some(if first_max == Some(input) { 1.0 } else { 0.0 })
            }
        }
    }
}

/// Lowers `net` with `bounds` (which must be sound for the input box the MILP should
/// describe: the input columns take the input layer's bounds).
pub fn lower(net: &Network, bounds: &Bounds, options: LowerOptions) -> Result<Lowered, LowerError> {
    lower_from(net, bounds, options)
}

/// [`lower`] for a network that nothing reads after its lowering (a model that is only
/// written): the network is drained ([`Drain`]), each affine layer's matrix and bias freed as
/// soon as that layer's expressions are built, so a dense net's matrices do not sit beside the
/// rows made from them (784-1024³-10: 35 MB of matrices against 50 MB of rows). The MILP is the
/// one [`lower`] makes, term for term. [`Lowered::value`] needs the network, so a task that
/// optimises a hidden unit lowers with [`lower`].
pub fn lower_consuming(net: Network, bounds: &Bounds, options: LowerOptions) -> Result<Lowered, LowerError> {
    lower_from(Drain::new(net), bounds, options)
}

/// The network a lowering reads: borrowed (read again after), or drained layer by layer.
trait Source {
    fn net(&self) -> &Network;
    /// Layer `h` is lowered: its weights are not read again.
    fn lowered(&mut self, h: Handle);
}

impl Source for &Network {
    fn net(&self) -> &Network {
        self
    }
    fn lowered(&mut self, _: Handle) {}
}

impl Source for Drain {
    fn net(&self) -> &Network {
        self.network()
    }
    fn lowered(&mut self, h: Handle) {
        self.release(h);
    }
}

fn lower_from(mut src: impl Source, bounds: &Bounds, options: LowerOptions) -> Result<Lowered, LowerError> {
    let mut milp = Milp::with_generated_names("nnmilp");
    let mut stats = LowerStats::default();
    let n_layers = src.net().layers().len();
    let (input_layer, output_layer) = (src.net().input(), src.net().output());
    let mut values: Vec<Vec<LinExpr>> = Vec::with_capacity(n_layers);
    let mut binaries: Vec<(Col, Binary)> = Vec::new();
    let enc = options.encoding;

    for h in (0..n_layers).map(Handle::from_index) {
        // Only layer `h` has its weights read, and only here (a linear unit is built from its
        // own layer's matrix); the other layers are asked about their kind and readers.
        let net = src.net();
        let layer = net.layer(h);
        let label = net.info().label(h);
        let (lo, hi) = bounds.layer(h);
        // Layers whose expressions this one took over (see the ReLU case).
        let mut consumed: Vec<Handle> = Vec::new();
        let value: Vec<LinExpr> = match &layer.op {
            Op::Input => (0..layer.size())
                .map(|j| LinExpr::var(milp.add_col(name("in", [&j]), lo[j], hi[j], ColKind::Continuous)))
                .collect(),
            // Each unit on its own, on rayon's threads (a dense layer's units are the bulk of
            // the lowering); each is built term by term as on one thread, so the expressions
            // do not depend on the thread count.
            Op::Affine { .. } | Op::Sum { .. } => (0..layer.size())
                .into_par_iter()
                .map(|i| linear_unit(&layer.op, i, |g, k| &values[g.index()][k]).expect("a linear op"))
                .collect(),
            Op::Relu { input } => {
                let (pl, pu) = bounds.layer(*input);
                // When this layer is the last reader of expressions that are dropped after it
                // (see below), each unit's row is made in its expression's own buffer instead
                // of a copy: a dense layer's expressions are as large as its rows.
                let consume = dropped_after(net, &values, *input, h);
                if consume {
                    consumed.push(*input);
                    // Negated where they are, on rayon's threads, before the units take them.
                    values[input.index()]
                        .par_iter_mut()
                        .for_each(|e| e.terms.iter_mut().for_each(|t| t.1 = -t.1));
                }
                // The model grows by a known amount: reserved at once, the name tables are
                // not rehashed on the way (a conv layer adds hundreds of thousands of names).
                let count = |k: UnitKind| (0..layer.size()).filter(|&j| unit_kind(pl[j], pu[j]) == k).count();
                let (unstable, active) = (count(UnitKind::Unstable), count(UnitKind::Active));
                milp.reserve(
                    3 * unstable + active,
                    active + unstable * if enc.bigm() { 3 } else { 1 },
                    if enc.indicator() { 2 * unstable } else { 0 },
                );
                let mut out = Vec::with_capacity(layer.size());
                // The units' names are made on rayon's threads, a block ahead of the units
                // that take them: spelling and allocating them was half of this serial loop
                // on a conv layer. The names are the same, claimed in the same order.
                let names_of = |units: &Range<usize>| -> Vec<UnitNames> {
                    (units.clone().into_par_iter())
                        .map(|j| UnitNames::new(enc, label, j, pl[j], pu[j]))
                        .collect()
                };
                let blocks: Vec<Range<usize>> = (0..layer.size())
                    .step_by(NAME_BLOCK)
                    .map(|s| s..(s + NAME_BLOCK).min(layer.size()))
                    .collect();
                let mut names = blocks.first().map(names_of).unwrap_or_default();
                for (k, block) in blocks.iter().enumerate() {
                    let (done, next) = rayon::join(
                        || -> Result<(), LowerError> {
                            for (j, unit) in block.clone().zip(names.drain(..)) {
                                stats.relu_units += 1;
                                // `-pre`'s terms with room for the unit's own columns, and
                                // `pre`'s constant.
                                let neg = |values: &mut Vec<Vec<LinExpr>>| {
                                    let pre = &mut values[input.index()][j];
                                    if consume {
                                        // Negated above.
                                        let mut terms = std::mem::take(&mut pre.terms);
                                        terms.reserve_exact(2);
                                        (terms, pre.constant)
                                    } else {
                                        (negated(pre, 2), pre.constant)
                                    }
                                };
                                let (l, u) = (pl[j], pu[j]);
                                out.push(match unit_kind(l, u) {
                                    UnitKind::Inactive => {
                                        stats.relu_stable_inactive += 1;
                                        LinExpr::constant(0.0)
                                    }
                                    UnitKind::Active => {
                                        stats.relu_stable_active += 1;
                                        materialize_negated(&mut milp, unit.x, unit.relu, neg(&mut values), l, u)
                                    }
                                    UnitKind::Unstable => {
                                        stats.relu_unstable += 1;
                                        if enc.bigm() && !(l.is_finite() && u.is_finite()) {
                                            return Err(LowerError::Unbounded {
                                                layer: label.to_string(),
                                                unit: j,
                                                lo: l,
                                                hi: u,
                                            });
                                        }
                                        let (x, z) = lower_relu_unit(&mut milp, enc, unit, neg(&mut values), l, u);
                                        binaries.push((z, Binary::ReluInactive { relu: h, unit: j }));
                                        x
                                    }
                                });
                            }
                            Ok(())
                        },
                        || blocks.get(k + 1).map(names_of).unwrap_or_default(),
                    );
                    done?;
                    names = next;
                }
                out
            }
            Op::MaxPool { input, windows } => {
                let (il, iu) = bounds.layer(*input);
                let mut out = Vec::with_capacity(layer.size());
                for (j, w) in windows.iter().enumerate() {
                    stats.pool_units += 1;
                    let ins: Vec<(&LinExpr, f64, f64)> = w
                        .iter()
                        .map(|&k| (&values[input.index()][k as usize], il[k as usize], iu[k as usize]))
                        .collect();
                    let (m_lo, m_hi) = (lo[j], hi[j]);
                    // Inputs whose upper bound is below the output's lower bound are never the max.
                    let cands: Vec<usize> = (0..ins.len()).filter(|&i| ins[i].2 >= m_lo).collect();
                    if enc.bigm() && !(m_lo.is_finite() && m_hi.is_finite()) {
                        return Err(LowerError::Unbounded {
                            layer: label.to_string(),
                            unit: j,
                            lo: m_lo,
                            hi: m_hi,
                        });
                    }
                    if cands.len() == 1 {
                        let (e, _, _) = ins[cands[0]];
                        out.push(materialize(
                            &mut milp,
                            name("m", [&label, &j]),
                            name("pool", [&label, &j]),
                            e,
                            m_lo,
                            m_hi,
                        ));
                        continue;
                    }
                    stats.pool_binaries += cands.len();
                    let m = milp.add_col(name("m", [&label, &j]), m_lo, m_hi, ColKind::Continuous);
                    let mut sum = Vec::with_capacity(cands.len());
                    for &i in &cands {
                        let (v, l_i, _) = ins[i];
                        let z = milp.add_col(name("zp", [&label, &j, &i]), 0.0, 1.0, ColKind::Binary);
                        binaries.push((
                            z,
                            Binary::PoolPick {
                                pool: h,
                                unit: j,
                                input: w[i] as usize,
                            },
                        ));
                        sum.push((z, 1.0));
                        // m - v
                        let mut diff = LinExpr::var(m);
                        diff.add_scaled(v, -1.0);
                        milp.add_expr_row(name("pge", [&label, &j, &i]), diff.clone(), Sense::Ge, 0.0);
                        if enc.bigm() {
                            // m - v <= M (1 - z) with M = U_out - l_i.
                            let big_m = m_hi - l_i;
                            let mut row = diff.clone();
                            row.add_term(z, big_m);
                            milp.add_expr_row(name("ple", [&label, &j, &i]), row, Sense::Le, big_m);
                        }
                        if enc.indicator() {
                            milp.add_indicator(
                                name("ip", [&label, &j, &i]),
                                z,
                                true,
                                diff.terms.clone(),
                                Sense::Le,
                                -diff.constant,
                            );
                        }
                    }
                    milp.add_row(name("psum", [&label, &j]), sum, Sense::Eq, 1.0);
                    out.push(LinExpr::var(m));
                }
                out
            }
        };
        let value = if h == net.output() {
            (0..value.len())
                .map(|j| materialize(&mut milp, name("y", [&j]), name("out", [&j]), &value[j], lo[j], hi[j]))
                .collect()
        } else if needs_columns(net, net.info().consumers(h), &layer.op) {
            (0..value.len())
                .map(|j| {
                    materialize(
                        &mut milp,
                        name("a", [&label, &j]),
                        name("aff", [&label, &j]),
                        &value[j],
                        lo[j],
                        hi[j],
                    )
                })
                .collect()
        } else {
            value
        };
        values.push(value);
        // An affine or sum layer's expressions are dropped once its last reader is lowered: a
        // dense layer's hold every weight again, which the rows already hold. Kept when every
        // unit is one term (its own column when materialised, or a selection): those cost what
        // columns cost. `Lowered::value` rebuilds a dropped unit on demand.
        for input in layer.op.inputs() {
            if consumed.contains(&input) || dropped_after(net, &values, input, h) {
                values[input.index()] = Vec::new();
            }
        }
        src.lowered(h);
    }

    let inputs = cols_of(&values[input_layer.index()]);
    let outputs = cols_of(&values[output_layer.index()]);
    Ok(Lowered {
        milp,
        inputs,
        outputs,
        values,
        binaries,
        stats,
    })
}

/// An affine or sum layer keeps its value as an expression only when exactly one ReLU layer
/// reads it; anything else (max-pool, several readers) would repeat the expression.
fn needs_columns(net: &Network, consumers: &[Handle], op: &Op) -> bool {
    if !matches!(op, Op::Affine { .. } | Op::Sum { .. }) {
        return false;
    }
    !(consumers.len() == 1 && matches!(net.layer(consumers[0]).op, Op::Relu { .. }))
}

/// Unit `i` of an affine or sum layer `op` as an expression over the values of its inputs
/// (`input(h, k)` is unit `k` of layer `h`); `None` for the other ops. Lowering and
/// [`Lowered::value`] both build expressions here, so a rebuilt value is the one the rows were
/// made from, term for term.
fn linear_unit<E: Borrow<LinExpr>>(op: &Op, i: usize, mut input: impl FnMut(Handle, usize) -> E) -> Option<LinExpr> {
    match op {
        Op::Affine {
            input: x,
            weights,
            bias,
        } => {
            let row = weights.row(i);
            // Sized for inputs that are single columns (a dense layer on units or pixels), with
            // room for the two columns of a ReLU unit whose row is made in this buffer.
            let mut e = LinExpr {
                terms: Vec::with_capacity(row.len() + 2),
                constant: bias[i],
            };
            for (c, w) in row {
                e.add_scaled(input(*x, c).borrow(), w);
            }
            Some(e)
        }
        Op::Sum { inputs } => {
            let mut e = LinExpr::default();
            for h in inputs {
                e.add_scaled(input(*h, i).borrow(), 1.0);
            }
            Some(e)
        }
        _ => None,
    }
}

/// A new column `name` in `[lo, hi]` equal to `e` (row `row: col - e = 0`).
fn materialize(milp: &mut Milp, name: String, row: String, e: &LinExpr, lo: f64, hi: f64) -> LinExpr {
    materialize_negated(milp, name, row, (negated(e, 1), e.constant), lo, hi)
}

/// [`materialize`] of `e` given as its negated terms (from [`negated`]) and its constant.
fn materialize_negated(
    milp: &mut Milp,
    name: String,
    row: String,
    (mut neg, constant): (Vec<(Col, f64)>, f64),
    lo: f64,
    hi: f64,
) -> LinExpr {
    let c = milp.add_col(name, lo, hi, ColKind::Continuous);
    neg.push((c, 1.0));
    milp.add_row(row, neg, Sense::Eq, constant);
    LinExpr::var(c)
}

/// The terms of `-e`, with room for `extra` more: a unit's new columns, made after every column
/// of `e`, are appended, so a row whose terms come sorted (as `e`'s do) is stored without
/// sorting, and it is sized exactly.
fn negated(e: &LinExpr, extra: usize) -> Vec<(Col, f64)> {
    let mut terms = Vec::with_capacity(e.terms.len() + extra);
    terms.extend(e.terms.iter().map(|&(c, v)| (c, -v)));
    terms
}

/// Whether the expressions of layer `input` are dropped once `reader` is lowered: `reader` is
/// their last reader, the layer is affine or sum, and some unit has more than one term (one-term
/// expressions cost what columns cost and are kept).
fn dropped_after(net: &Network, values: &[Vec<LinExpr>], input: Handle, reader: Handle) -> bool {
    let last_reader = net.info().consumers(input).last() == Some(&reader);
    let linear = matches!(net.layer(input).op, Op::Affine { .. } | Op::Sum { .. });
    last_reader && linear && values[input.index()].iter().any(|e| e.terms.len() > 1)
}

/// ReLU units lowered per block of names made ahead (see the ReLU case of [`lower_from`]).
const NAME_BLOCK: usize = 2048;

/// What a ReLU unit is over its input's bounds `[l, u]`: always off, always on, or either.
#[derive(Clone, Copy, PartialEq, Eq)]
enum UnitKind {
    Inactive,
    Active,
    Unstable,
}

fn unit_kind(l: f64, u: f64) -> UnitKind {
    if u <= 0.0 {
        UnitKind::Inactive
    } else if l >= 0.0 {
        UnitKind::Active
    } else {
        UnitKind::Unstable
    }
}

/// The names of a ReLU unit's columns and rows, as many as its kind has (none for a unit that
/// is always inactive, `x` and `relu` for one always active).
#[derive(Default)]
struct UnitNames {
    x: String,
    s: String,
    z: String,
    relu: String,
    ub: String,
    lb: String,
    ix: String,
    is: String,
}

impl UnitNames {
    fn new(enc: Encoding, label: &str, j: usize, l: f64, u: f64) -> Self {
        let n = |kind: &str| name(kind, [&label, &j]);
        let when = |on: bool, kind: &str| if on { n(kind) } else { String::new() };
        match unit_kind(l, u) {
            UnitKind::Inactive => UnitNames::default(),
            UnitKind::Active => UnitNames {
                x: n("x"),
                relu: n("relu"),
                ..UnitNames::default()
            },
            UnitKind::Unstable => UnitNames {
                x: n("x"),
                s: n("s"),
                z: n("z"),
                relu: n("relu"),
                ub: when(enc.bigm(), "ub"),
                lb: when(enc.bigm(), "lb"),
                ix: when(enc.indicator(), "ix"),
                is: when(enc.indicator(), "is"),
            },
        }
    }
}

/// The paper's unit: `x - s = pre`, `x in [0, U]`, `s in [0, -L]`, binary `z` (1 = inactive),
/// `pre` given as its negated terms (from [`negated`]) and its constant. Returns `x` and `z`.
fn lower_relu_unit(
    milp: &mut Milp,
    enc: Encoding,
    names: UnitNames,
    (mut row, constant): (Vec<(Col, f64)>, f64),
    l: f64,
    u: f64,
) -> (LinExpr, Col) {
    let x = milp.add_col(names.x, 0.0, u, ColKind::Continuous);
    let s = milp.add_col(names.s, 0.0, -l, ColKind::Continuous);
    let z = milp.add_col(names.z, 0.0, 1.0, ColKind::Binary);
    // x - s - pre = 0.
    row.extend_from_slice(&[(x, 1.0), (s, -1.0)]);
    milp.add_row(names.relu, row, Sense::Eq, constant);
    if enc.bigm() {
        milp.add_row(names.ub, vec![(x, 1.0), (z, u)], Sense::Le, u);
        milp.add_row(names.lb, vec![(s, 1.0), (z, l)], Sense::Le, 0.0);
    }
    if enc.indicator() {
        milp.add_indicator(names.ix, z, true, vec![(x, 1.0)], Sense::Le, 0.0);
        milp.add_indicator(names.is, z, false, vec![(s, 1.0)], Sense::Le, 0.0);
    }
    (LinExpr::var(x), z)
}

/// The columns of a layer that was materialised (input, output).
fn cols_of(v: &[LinExpr]) -> Vec<Col> {
    v.iter()
        .map(|e| {
            debug_assert!(e.terms.len() == 1 && e.terms[0].1 == 1.0 && e.constant == 0.0);
            e.terms[0].0
        })
        .collect()
}
