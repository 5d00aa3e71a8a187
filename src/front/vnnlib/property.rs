//! Meaning of a VNN-LIB 1.0 script: the unsafe set as a union of cases, each an input box with
//! a disjunction of conjunctions of linear rows over the outputs.
//!
//! The assertions are conjoined and brought into disjunctive normal form (bounded by
//! [`MAX_CONJUNCTIONS`]). In each conjunction, comparisons over one input with coefficient ±1
//! are bounds of the box, comparisons over outputs are rows; anything else (a linear
//! constraint over several inputs, one mixing inputs and outputs) is refused with a message
//! that says so. Conjunctions with the same box are grouped into one [`Case`], in order of
//! first appearance, so that ACAS Xu property 6 (an `or` of two boxes) gives two cases and an
//! output `or` gives one case with several disjuncts.

use super::ast::{Expr, Item, Op, Pos, Script};
use super::VnnlibError;
use std::collections::{BTreeMap, HashMap};

/// Largest disjunctive normal form accepted (conjunctions).
pub const MAX_CONJUNCTIONS: usize = 100_000;
/// Largest total size of the normal form (comparisons over all conjunctions, and inputs times
/// boxes), so that hostile input cannot make us allocate what it did not pay for.
pub const MAX_NORMAL_FORM: usize = 20_000_000;

/// A variable of the property.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Var {
    /// Input `X_i`.
    X(usize),
    /// Output `Y_j`.
    Y(usize),
}

impl std::fmt::Display for Var {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Var::X(i) => write!(f, "X_{i}"),
            Var::Y(j) => write!(f, "Y_{j}"),
        }
    }
}

/// `sum coeffs · y <= rhs` over the network's outputs.
#[derive(Clone, Debug, PartialEq)]
pub struct OutRow {
    /// `(output index, coefficient)`, sorted, no zeros.
    pub coeffs: Vec<(usize, f64)>,
    pub rhs: f64,
}

impl OutRow {
    /// `rhs - coeffs · y`: how far inside the row `y` is (negative: violated).
    pub fn slack(&self, y: &[f64]) -> f64 {
        self.rhs - self.coeffs.iter().map(|&(j, a)| a * y[j]).sum::<f64>()
    }
}

/// One part of the unsafe set: inputs in the box and outputs meeting one of the disjuncts (each
/// a conjunction of rows; an empty conjunction is always met).
#[derive(Clone, Debug, PartialEq)]
pub struct Case {
    pub lo: Vec<f64>,
    pub hi: Vec<f64>,
    pub disjuncts: Vec<Vec<OutRow>>,
}

/// The unsafe set: the union of the cases (none: the set is empty, the property holds).
#[derive(Clone, Debug, PartialEq)]
pub struct Property {
    /// Number of inputs the property speaks of (one more than the largest declared `X_i`).
    pub inputs: usize,
    /// Number of outputs (one more than the largest declared `Y_j`).
    pub outputs: usize,
    pub cases: Vec<Case>,
}

impl Property {
    /// Checks the property against a network's input and output sizes.
    pub fn check_shape(&self, file: &str, net_inputs: usize, net_outputs: usize) -> Result<(), VnnlibError> {
        let bad = |message: String| VnnlibError::Shape {
            file: file.to_string(),
            message,
        };
        if self.inputs > net_inputs {
            return Err(bad(format!(
                "X_{} is beyond the network's {net_inputs} inputs (X_0 .. X_{})",
                self.inputs - 1,
                net_inputs.saturating_sub(1)
            )));
        }
        if self.inputs < net_inputs {
            return Err(bad(format!(
                "the network has {net_inputs} inputs but the property declares only X_0 .. X_{}, so X_{} is not bounded",
                self.inputs.saturating_sub(1),
                self.inputs
            )));
        }
        if self.outputs > net_outputs {
            return Err(bad(format!(
                "Y_{} is beyond the network's {net_outputs} outputs (Y_0 .. Y_{})",
                self.outputs - 1,
                net_outputs.saturating_sub(1)
            )));
        }
        Ok(())
    }

    /// True when output vector `y` of input `x` lies in the unsafe set, each row met with slack
    /// at least `tol(row)`, and `x` in a case's box (exactly).
    pub fn violated_by(&self, x: &[f64], y: &[f64], tol: impl Fn(&OutRow) -> f64) -> bool {
        self.cases.iter().any(|c| {
            x.iter().zip(&c.lo).zip(&c.hi).all(|((x, lo), hi)| lo <= x && x <= hi)
                && c.disjuncts.iter().any(|d| d.iter().all(|r| r.slack(y) >= tol(r)))
        })
    }
}

/// A linear expression over the variables.
#[derive(Clone, Debug, Default)]
struct Lin {
    terms: BTreeMap<Var, f64>,
    constant: f64,
}

impl Lin {
    fn scale(mut self, k: f64) -> Lin {
        self.terms.values_mut().for_each(|v| *v *= k);
        self.constant *= k;
        self
    }
    fn add(mut self, other: Lin, k: f64) -> Lin {
        for (v, c) in other.terms {
            *self.terms.entry(v).or_insert(0.0) += k * c;
        }
        self.constant += k * other.constant;
        self.terms.retain(|_, c| *c != 0.0);
        self
    }
}

/// `lin <= 0` (or `= 0`) and where the comparison was written.
#[derive(Clone, Debug)]
struct Atom {
    lin: Lin,
    equal: bool,
    pos: Pos,
}

struct Builder<'a> {
    file: &'a str,
    declared: HashMap<String, Var>,
    atoms: Vec<Atom>,
}

fn parse_var(name: &str) -> Option<Var> {
    let (kind, idx) = name.split_once('_')?;
    if idx.is_empty()
        || idx.len() > 9
        || !idx.bytes().all(|b| b.is_ascii_digit())
        || (idx.len() > 1 && idx.starts_with('0'))
    {
        return None;
    }
    let i: usize = idx.parse().ok()?;
    match kind {
        "X" => Some(Var::X(i)),
        "Y" => Some(Var::Y(i)),
        _ => None,
    }
}

impl Builder<'_> {
    fn err(&self, pos: Pos, found: String, message: String) -> VnnlibError {
        VnnlibError::Unsupported {
            file: self.file.to_string(),
            line: pos.line,
            col: pos.col,
            found,
            message,
        }
    }

    fn term(&self, e: &Expr) -> Result<Lin, VnnlibError> {
        match e {
            Expr::Num { value, .. } => Ok(Lin {
                terms: BTreeMap::new(),
                constant: *value,
            }),
            Expr::Var { name, pos } => {
                let v = *self.declared.get(name).ok_or_else(|| VnnlibError::UnknownVariable {
                    file: self.file.to_string(),
                    line: pos.line,
                    col: pos.col,
                    name: name.clone(),
                })?;
                Ok(Lin {
                    terms: BTreeMap::from([(v, 1.0)]),
                    constant: 0.0,
                })
            }
            Expr::App { op, args, pos } => {
                let mut vals = args.iter().map(|a| self.term(a));
                match op {
                    Op::Add => vals.try_fold(Lin::default(), |acc, v| Ok(acc.add(v?, 1.0))),
                    Op::Sub if args.len() == 1 => Ok(vals.next().expect("one argument")?.scale(-1.0)),
                    Op::Sub => {
                        let first = vals.next().expect("two arguments")?;
                        vals.try_fold(first, |acc, v| Ok(acc.add(v?, -1.0)))
                    }
                    Op::Mul => {
                        let mut acc = Lin {
                            terms: BTreeMap::new(),
                            constant: 1.0,
                        };
                        for v in vals {
                            let v = v?;
                            if !acc.terms.is_empty() && !v.terms.is_empty() {
                                return Err(self.err(
                                    *pos,
                                    "*".into(),
                                    "a product of two variables is not linear (not supported)".into(),
                                ));
                            }
                            acc = if acc.terms.is_empty() {
                                v.scale(acc.constant)
                            } else {
                                acc.scale(v.constant)
                            };
                        }
                        Ok(acc)
                    }
                    logical => Err(self.err(
                        *pos,
                        logical.symbol().into(),
                        format!(
                            "expected a number or a linear term, found the formula ({} ...)",
                            logical.symbol()
                        ),
                    )),
                }
            }
        }
    }

    /// The formula's disjunctive normal form: a list of conjunctions of atom indices.
    fn dnf(&mut self, e: &Expr) -> Result<Vec<Vec<usize>>, VnnlibError> {
        let Expr::App { op, args, pos } = e else {
            let found = match e {
                Expr::Num { text, .. } => text.clone(),
                Expr::Var { name, .. } => name.clone(),
                Expr::App { .. } => unreachable!(),
            };
            return Err(self.err(
                e.pos(),
                found,
                "expected a formula (and, or, <=, >=, =), found a term".into(),
            ));
        };
        match op {
            Op::And => {
                let mut acc = vec![Vec::new()];
                for a in args {
                    let d = self.dnf(a)?;
                    acc = self.product(acc, d, *pos)?;
                }
                Ok(acc)
            }
            Op::Or => {
                let mut acc = Vec::new();
                for a in args {
                    acc.extend(self.dnf(a)?);
                    if acc.len() > MAX_CONJUNCTIONS {
                        return Err(self.too_large(*pos));
                    }
                }
                Ok(acc)
            }
            Op::Le | Op::Ge | Op::Eq => {
                if args.len() < 2 {
                    return Err(self.err(*pos, op.symbol().into(), format!("{} needs two terms", op.symbol())));
                }
                let terms = args.iter().map(|a| self.term(a)).collect::<Result<Vec<_>, _>>()?;
                let mut conj = Vec::new();
                for w in terms.windows(2) {
                    // a <= b: a - b <= 0; a >= b: b - a <= 0.
                    let lin = match op {
                        Op::Ge => w[1].clone().add(w[0].clone(), -1.0),
                        _ => w[0].clone().add(w[1].clone(), -1.0),
                    };
                    self.atoms.push(Atom {
                        lin,
                        equal: *op == Op::Eq,
                        pos: *pos,
                    });
                    conj.push(self.atoms.len() - 1);
                }
                Ok(vec![conj])
            }
            arith => Err(self.err(
                *pos,
                arith.symbol().into(),
                format!("expected a formula, found the term ({} ...)", arith.symbol()),
            )),
        }
    }

    fn too_large(&self, pos: Pos) -> VnnlibError {
        self.err(
            pos,
            "or".into(),
            format!("the property's disjunctive normal form exceeds {MAX_CONJUNCTIONS} conjunctions (not supported)"),
        )
    }

    fn product(&self, a: Vec<Vec<usize>>, b: Vec<Vec<usize>>, pos: Pos) -> Result<Vec<Vec<usize>>, VnnlibError> {
        if a.len().saturating_mul(b.len()) > MAX_CONJUNCTIONS {
            return Err(self.too_large(pos));
        }
        let size: usize =
            a.iter().map(Vec::len).sum::<usize>() * b.len() + b.iter().map(Vec::len).sum::<usize>() * a.len();
        if size > MAX_NORMAL_FORM {
            return Err(self.too_large(pos));
        }
        if a.len() == 1 && b.len() == 1 {
            // The common case (one more plain assertion): no copy of what is there.
            let mut t = a.into_iter().next().expect("one");
            t.extend(b.into_iter().next().expect("one"));
            return Ok(vec![t]);
        }
        if a.len() == 1 {
            let first = a.into_iter().next().expect("one");
            return Ok(b
                .into_iter()
                .map(|u| {
                    let mut t = first.clone();
                    t.extend(u);
                    t
                })
                .collect());
        }
        let mut out = Vec::with_capacity(a.len() * b.len());
        for t in &a {
            for u in &b {
                let mut c = t.clone();
                c.extend(u);
                out.push(c);
            }
        }
        Ok(out)
    }
}

/// Gives a parsed script its meaning.
pub fn interpret(file: &str, script: &Script) -> Result<Property, VnnlibError> {
    let mut b = Builder {
        file,
        declared: HashMap::new(),
        atoms: Vec::new(),
    };
    let (mut inputs, mut outputs) = (0usize, 0usize);
    let mut conj = vec![Vec::new()];
    let mut first_assert = Pos::default();
    for item in &script.items {
        match item {
            Item::Declare { name, pos, .. } => {
                let v = parse_var(name).ok_or_else(|| {
                    b.err(
                        *pos,
                        name.clone(),
                        format!("variable {name}: VNN-LIB 1.0 names inputs X_i and outputs Y_j"),
                    )
                })?;
                if b.declared.insert(name.clone(), v).is_some() {
                    return Err(b.err(*pos, name.clone(), format!("{name} is declared twice")));
                }
                match v {
                    Var::X(i) => inputs = inputs.max(i + 1),
                    Var::Y(j) => outputs = outputs.max(j + 1),
                }
            }
            Item::Assert { formula, pos } => {
                if first_assert.line == 0 {
                    first_assert = *pos;
                }
                let d = b.dnf(formula)?;
                conj = b.product(conj, d, *pos)?;
            }
        }
    }
    if conj.len().saturating_mul(inputs.max(1)) > MAX_NORMAL_FORM {
        return Err(b.too_large(first_assert));
    }
    let mut cases: Vec<Case> = Vec::new();
    let mut by_box: HashMap<Vec<u64>, usize> = HashMap::new();
    'conj: for (k, atoms) in conj.iter().enumerate() {
        let mut lo = vec![f64::NEG_INFINITY; inputs];
        let mut hi = vec![f64::INFINITY; inputs];
        let mut rows = Vec::new();
        for &a in atoms {
            let atom = &b.atoms[a];
            let has_x = atom.lin.terms.keys().any(|v| matches!(v, Var::X(_)));
            let has_y = atom.lin.terms.keys().any(|v| matches!(v, Var::Y(_)));
            let shown = |a: &Atom| {
                let t: Vec<String> = a.lin.terms.iter().map(|(v, c)| format!("{c}*{v}")).collect();
                format!(
                    "{} {} {}",
                    t.join(" + "),
                    if a.equal { "=" } else { "<=" },
                    -a.lin.constant
                )
            };
            if has_x && has_y {
                return Err(b.err(
                    atom.pos,
                    shown(atom),
                    "a comparison that mixes inputs and outputs is not supported".into(),
                ));
            }
            if has_x {
                let (&v, &c) = atom.lin.terms.iter().next().expect("an input term");
                if atom.lin.terms.len() > 1 || c.abs() != 1.0 {
                    return Err(b.err(
                        atom.pos,
                        shown(atom),
                        "a linear constraint over inputs that is not a bound on one input is not supported \
                         (inputs must lie in a box or a union of boxes)"
                            .into(),
                    ));
                }
                let Var::X(i) = v else { unreachable!() };
                // c x + k <= 0 with c = ±1: x <= -k or x >= k.
                let bound = -atom.lin.constant * c;
                if c > 0.0 || atom.equal {
                    hi[i] = hi[i].min(bound);
                }
                if c < 0.0 || atom.equal {
                    lo[i] = lo[i].max(bound);
                }
            } else if has_y {
                let coeffs: Vec<(usize, f64)> = atom
                    .lin
                    .terms
                    .iter()
                    .map(|(v, &c)| match v {
                        Var::Y(j) => (*j, c),
                        Var::X(_) => unreachable!(),
                    })
                    .collect();
                let rhs = -atom.lin.constant;
                if atom.equal {
                    rows.push(OutRow {
                        coeffs: coeffs.iter().map(|&(j, c)| (j, -c)).collect(),
                        rhs: -rhs,
                    });
                }
                rows.push(OutRow { coeffs, rhs });
            } else {
                let k = atom.lin.constant;
                if (atom.equal && k != 0.0) || k > 0.0 {
                    continue 'conj; // a false constant comparison: this conjunction is empty
                }
            }
        }
        if (0..inputs).any(|i| lo[i] > hi[i]) {
            continue; // an empty box
        }
        if let Some(i) = (0..inputs).find(|&i| !lo[i].is_finite() || !hi[i].is_finite()) {
            let side = if !lo[i].is_finite() { "lower" } else { "upper" };
            return Err(VnnlibError::Unbounded {
                file: file.to_string(),
                message: format!(
                    "input X_{i} has no {side} bound{} (every input must be bounded)",
                    if conj.len() > 1 {
                        format!(" in conjunction {} of the property's disjunctive normal form", k + 1)
                    } else {
                        String::new()
                    }
                ),
            });
        }
        let key: Vec<u64> = lo.iter().chain(&hi).map(|v| v.to_bits()).collect();
        let idx = *by_box.entry(key).or_insert_with(|| {
            cases.push(Case {
                lo,
                hi,
                disjuncts: Vec::new(),
            });
            cases.len() - 1
        });
        if !cases[idx].disjuncts.contains(&rows) {
            cases[idx].disjuncts.push(rows);
        }
    }
    Ok(Property { inputs, outputs, cases })
}
