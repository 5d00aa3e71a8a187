//! The MPS and LP writers: exact text for hand-checked models, snapshots of lowered networks,
//! round trips through the external solvers (CBC, GLPK, SCIP) against optima computed here
//! without any MILP machinery, atomic and gzip file output, number formatting.
//!
//! The solver tests need `cbc` (coinor-cbc), `glpsol` (glpk-utils) and python3 with pyscipopt;
//! when one is missing they fail and say what to install.

use crate::common::{cbc, check_snapshot, glpsol, scip, Answer};
use nnmilp::back::{self, format_number, Format, ModelError, WriteError, WriteOptions};
use nnmilp::bounds::{self, InputBox};
use nnmilp::ir::{Handle, Layer, Network, Op, SparseMatrix};
use nnmilp::lower::{self, Encoding, LowerOptions};
use nnmilp::milp::{Col, ColKind, LinExpr, Milp, ObjSense, Sense};
use std::fs;
use std::io::{self, Read, Write};
use std::path::Path;

const INF: f64 = f64::INFINITY;

fn opts(lines: &[&str]) -> WriteOptions {
    WriteOptions {
        header: lines.iter().map(|s| s.to_string()).collect(),
    }
}

// ---------------------------------------------------------------------------------------------
// Models

/// Four columns, one of each bound shape the writers treat differently, three row senses.
fn tiny() -> Milp {
    tiny_cols().0
}

/// [`tiny`] and its columns `x, y, b, n`.
fn tiny_cols() -> (Milp, [Col; 4]) {
    let mut m = Milp::new("tiny");
    let x = m.add_col("x", 0.0, 4.0, ColKind::Continuous);
    let y = m.add_col("y", -INF, INF, ColKind::Continuous);
    let b = m.add_col("b", 0.0, 1.0, ColKind::Binary);
    let n = m.add_col("n", -2.0, 3.0, ColKind::Integer);
    m.add_row("c1", vec![(x, 1.0), (y, 2.0), (b, -3.0)], Sense::Le, 4.0);
    m.add_row("c2", vec![(y, 1.0), (n, -1.0)], Sense::Ge, -1.5);
    m.add_row("c3", vec![(x, 1.0), (n, 1.0)], Sense::Eq, 2.0);
    let mut obj = LinExpr::var(x);
    obj.add_term(y, -1.0);
    obj.add_term(n, 0.5);
    m.set_objective(ObjSense::Minimize, obj);
    (m, [x, y, b, n])
}

/// The text of `tiny()` in free MPS, written by hand from README §4 (not from the writer).
const TINY_MPS: &str = "\
* written by hand
* model tiny: 4 columns (1 binary, 1 general integer), 3 rows, 0 indicator constraints
NAME tiny FREE
ROWS
 N obj
 L c1
 G c2
 E c3
COLUMNS
    x obj 1
    x c1 1
    x c3 1
    y obj -1
    y c1 2
    y c2 1
    MARKER 'MARKER' 'INTORG'
    b c1 -3
    n obj 0.5
    n c2 -1
    n c3 1
    MARKER 'MARKER' 'INTEND'
RHS
    RHS c1 4
    RHS c2 -1.5
    RHS c3 2
BOUNDS
 UP BND x 4
 FR BND y
 BV BND b
 LO BND n -2
 UP BND n 3
ENDATA
";

/// The text of `tiny()` in CPLEX LP, written by hand from README §4.
const TINY_LP: &str = "\
\\ written by hand
\\ model tiny: 4 columns (1 binary, 1 general integer), 3 rows, 0 indicator constraints
Minimize
 obj: + x - y + 0.5 n
Subject To
 c1: + x + 2 y - 3 b <= 4
 c2: + y - n >= -1.5
 c3: + x + n = 2
Bounds
 x <= 4
 y free
 -2 <= n <= 3
Generals
 n
Binaries
 b
End
";

/// A 2-2-1 ReLU network, given by its weights so tests can evaluate it without the IR.
struct Net221 {
    w1: [[f64; 2]; 2],
    b1: [f64; 2],
    w2: [f64; 2],
    b2: f64,
}

/// Both hidden units are unstable over `[-1, 1]^2` (pre-activations `[-1.5, 2.5]` and
/// `[-1.75, 1.25]`), so both get a binary.
const NET: Net221 = Net221 {
    w1: [[1.0, -1.0], [0.5, 1.0]],
    b1: [0.5, -0.25],
    w2: [1.0, -2.0],
    b2: 0.25,
};
const BOX: (f64, f64) = (-1.0, 1.0);

impl Net221 {
    fn eval(&self, x: [f64; 2]) -> f64 {
        let h: Vec<f64> = (0..2)
            .map(|i| (self.w1[i][0] * x[0] + self.w1[i][1] * x[1] + self.b1[i]).max(0.0))
            .collect();
        self.w2[0] * h[0] + self.w2[1] * h[1] + self.b2
    }

    fn network(&self) -> Network {
        let layer = |name: &str, op: Op, n: usize| Layer {
            name: name.into(),
            op,
            shape: vec![n],
        };
        let w1: Vec<f64> = self.w1.iter().flatten().copied().collect();
        Network::new(
            vec![
                layer("x", Op::Input, 2),
                layer(
                    "fc1",
                    Op::Affine {
                        input: Handle::from_index(0),
                        weights: SparseMatrix::from_dense(2, 2, &w1),
                        bias: self.b1.to_vec(),
                    },
                    2,
                ),
                layer(
                    "relu1",
                    Op::Relu {
                        input: Handle::from_index(1),
                    },
                    2,
                ),
                layer(
                    "fc2",
                    Op::Affine {
                        input: Handle::from_index(2),
                        weights: SparseMatrix::from_dense(1, 2, &self.w2),
                        bias: vec![self.b2],
                    },
                    1,
                ),
            ],
            Handle::from_index(3),
        )
        .expect("valid network")
    }

    /// The exact optimum of the output over the box, without a MILP: the network is linear on
    /// each cell of the arrangement of the hidden units' lines `w_i·x + b_i = 0` inside the box,
    /// so an optimum sits at a cell vertex: a box corner, a line meeting a box edge, or the two
    /// lines meeting.
    fn optimum(&self, sense: ObjSense) -> f64 {
        let (lo, hi) = BOX;
        let mut pts = vec![[lo, lo], [lo, hi], [hi, lo], [hi, hi]];
        for i in 0..2 {
            let ([a, b], c) = (self.w1[i], self.b1[i]);
            for t in [lo, hi] {
                if b != 0.0 {
                    pts.push([t, -(a * t + c) / b]);
                }
                if a != 0.0 {
                    pts.push([-(b * t + c) / a, t]);
                }
            }
        }
        let det = self.w1[0][0] * self.w1[1][1] - self.w1[0][1] * self.w1[1][0];
        if det != 0.0 {
            let (c0, c1) = (-self.b1[0], -self.b1[1]);
            pts.push([
                (c0 * self.w1[1][1] - self.w1[0][1] * c1) / det,
                (self.w1[0][0] * c1 - c0 * self.w1[1][0]) / det,
            ]);
        }
        let vals = pts
            .iter()
            .filter(|p| p.iter().all(|&v| (lo - 1e-12..=hi + 1e-12).contains(&v)))
            .map(|&p| self.eval(p));
        match sense {
            ObjSense::Maximize => vals.fold(-INF, f64::max),
            ObjSense::Minimize => vals.fold(INF, f64::min),
        }
    }

    /// The lowered network with the objective `sense y_0`.
    fn lowered(&self, encoding: Encoding, sense: ObjSense) -> Milp {
        let net = self.network();
        let b = bounds::interval(&net, &InputBox::uniform(2, BOX.0, BOX.1));
        let mut low = lower::lower(&net, &b, LowerOptions { encoding }).expect("lowering");
        low.milp.set_objective(sense, LinExpr::var(low.outputs[0]));
        low.milp
    }
}

/// A maximisation with an objective offset, every bound shape of both formats (binary, fixed
/// binary, integer with finite / half-infinite / infinite bounds, free, `MI` with a negative
/// upper bound, negative box, fixed, default), an empty row, a tiny coefficient in exponent
/// form and several MARKER blocks. Returns the model and its optimum computed by
/// [`brute_force`].
fn hand_model() -> (Milp, f64) {
    let mut m = Milp::new("hand");
    let c = ColKind::Continuous;
    // Continuous and integer columns interleave, so the writer needs several MARKER blocks.
    let c1 = m.add_col("c1", -INF, INF, c);
    let b1 = m.add_col("b1", 0.0, 1.0, ColKind::Binary);
    let b2 = m.add_col("b2", 0.0, 1.0, ColKind::Binary);
    let c2 = m.add_col("c2", -INF, -1.0, c);
    let b3 = m.add_col("b3", 0.0, 1.0, ColKind::Binary);
    let b4 = m.add_col("b4", 0.0, 1.0, ColKind::Binary);
    m.set_col_bounds(b4, 1.0, 1.0);
    let i1 = m.add_col("i1", -2.0, 3.0, ColKind::Integer);
    let i2 = m.add_col("i2", 0.0, 4.0, ColKind::Integer);
    let i3 = m.add_col("i3", -3.0, -1.0, ColKind::Integer);
    let i4 = m.add_col("i4", -INF, INF, ColKind::Integer);
    let i5 = m.add_col("i5", 2.0, INF, ColKind::Integer);
    let c3 = m.add_col("c3", 2.0, INF, c);
    let c4 = m.add_col("c4", -5.0, -2.0, c);
    let c5 = m.add_col("c5", 1.5, 1.5, c);
    let c6 = m.add_col("c6", 0.0, INF, c);
    m.add_row("r1", vec![(c1, 1.0), (i1, -3.0), (b1, 2.0)], Sense::Ge, -5.0);
    m.add_row(
        "r2",
        vec![(c2, 1.0), (i2, -1.0), (b2, -1.0), (i1, -1.0)],
        Sense::Ge,
        -4.0,
    );
    m.add_row("r3", vec![(c3, 1.0), (b3, -1.0), (i2, -1.0)], Sense::Ge, 0.0);
    m.add_row("r4", vec![(c4, 1.0), (i3, -1.0)], Sense::Le, -0.5);
    m.add_row("r5", vec![(c5, 1.0), (i1, 1.0), (i2, 1.0)], Sense::Le, 6.5);
    m.add_row("r6", vec![(c6, 1.0), (i2, -1.0), (b1, -1.0)], Sense::Eq, 0.0);
    m.add_row("r7", vec![(i4, 1.0), (i1, -1.0), (i3, -1.0)], Sense::Eq, 0.0);
    m.add_row("r8", vec![(i5, 1.0), (b3, -2.0)], Sense::Ge, 1.0);
    m.add_row("card", vec![(b1, 1.0), (b2, 1.0), (b3, 1.0)], Sense::Ge, 1.0);
    m.add_row("xcl", vec![(b4, 1.0), (b1, 1.0), (b2, 1.0)], Sense::Le, 2.0);
    m.add_row("mix", vec![(i1, 2.0), (i2, -1.0), (b2, 3.0)], Sense::Le, 4.0);
    m.add_row("void", vec![], Sense::Le, 3.0);
    let mut obj = LinExpr::constant(10.0);
    for (col, k) in [
        (c1, -1.0),
        (c2, -2.0),
        (c3, -1.0),
        (c4, 1.0),
        (c5, -1.0),
        (c6, -1e-5),
        (i4, -0.5),
        (i5, -1.0),
        (b1, 2.0),
        (b2, -1.0),
        (b3, 0.25),
        (b4, 3.0),
        (i1, -0.75),
        (i2, 1.5),
        (i3, 0.5),
    ] {
        obj.add_term(col, k);
    }
    m.set_objective(ObjSense::Maximize, obj);
    (m, brute_force())
}

/// The optimum of [`hand_model`], by enumerating its bounded integers. Each remaining column
/// is pushed by the objective against exactly one row or bound, so its optimal value is a
/// closed form of the integers (or the combination is infeasible).
fn brute_force() -> f64 {
    let mut best = -INF;
    for b1 in 0..=1 {
        for b2 in 0..=1 {
            for b3 in 0..=1 {
                for i1 in -2..=3 {
                    for i2 in 0..=4 {
                        for i3 in -3..=-1 {
                            let b4 = 1;
                            if b1 + b2 + b3 < 1 || b4 + b1 + b2 > 2 || 2 * i1 - i2 + 3 * b2 > 4 {
                                continue;
                            }
                            let c5 = 1.5;
                            if c5 + f64::from(i1 + i2) > 6.5 {
                                continue;
                            }
                            // Each continuous column at the end of its interval the objective prefers.
                            let c1 = f64::from(3 * i1 - 2 * b1 - 5); // min c1, c1 >= .., free
                            let c2 = f64::from(i2 + b2 + i1 - 4); // min c2, c2 >= .., c2 <= -1
                            if c2 > -1.0 {
                                continue;
                            }
                            let c3 = f64::from(b3 + i2).max(2.0); // min c3, c3 >= .., c3 >= 2
                            let c4 = (f64::from(i3) - 0.5).min(-2.0); // max c4, c4 <= .., c4 in [-5, -2]
                            assert!(c4 >= -5.0);
                            let c6 = f64::from(i2 + b1); // fixed by r6
                            let i4 = f64::from(i1 + i3); // fixed by r7
                            let i5 = f64::from(1 + 2 * b3).max(2.0); // min i5, i5 >= .., i5 >= 2
                            let f = |k: i32| f64::from(k);
                            let v = 10.0 - c1 - 2.0 * c2 - c3 + c4 - c5 - 1e-5 * c6 - 0.5 * i4 - i5 + 2.0 * f(b1)
                                - f(b2)
                                + 0.25 * f(b3)
                                + 3.0 * f(b4)
                                - 0.75 * f(i1)
                                + 1.5 * f(i2)
                                + 0.5 * f(i3);
                            best = best.max(v);
                        }
                    }
                }
            }
        }
    }
    best
}

/// Many terms and the longest names and numbers the writers allow: maximise the last column
/// `v_59` subject to `1.2345678901234568e-5 v_0 + v_1 + ... + v_58 + 0.30000000000000004 v_59
/// <= 0.15`, all columns in `[0, 1]`. With `indicator`, a binary `w` forced to 1 switches on
/// `v_59 <= 0.125`. Returns the model and its optimum (`v_59` takes the whole budget, up to
/// the indicator's cap).
fn wide_model(indicator: bool) -> (Milp, f64) {
    let long = |c: char, i: usize| format!("{c}{i:0>99}");
    let mut m = Milp::new(long('m', 0));
    let n = 60;
    let v: Vec<_> = (0..n)
        .map(|i| m.add_col(long('v', i), 0.0, 1.0, ColKind::Continuous))
        .collect();
    let a_first = 1.2345678901234568e-5;
    let a_last = 0.30000000000000004;
    let terms = v
        .iter()
        .enumerate()
        .map(|(i, &c)| {
            (
                c,
                if i == 0 {
                    a_first
                } else if i == n - 1 {
                    a_last
                } else {
                    1.0
                },
            )
        })
        .collect();
    m.add_row(long('c', 0), terms, Sense::Le, 0.15);
    let mut opt = 0.15 / a_last;
    if indicator {
        let w = m.add_col(long('w', 0), 0.0, 1.0, ColKind::Binary);
        m.add_row(long('f', 0), vec![(w, 1.0)], Sense::Ge, 1.0);
        m.add_indicator(long('j', 0), w, true, vec![(v[n - 1], 1.0)], Sense::Le, 0.125);
        opt = opt.min(0.125);
    }
    m.set_objective(ObjSense::Maximize, LinExpr::var(v[n - 1]));
    (m, opt)
}

// ---------------------------------------------------------------------------------------------
// Exact text

#[test]
fn tiny_model_is_written_exactly_as_the_readme_subset() {
    let m = tiny();
    let o = opts(&["written by hand"]);
    assert_eq!(back::write_string(&m, Format::Mps, &o), TINY_MPS);
    assert_eq!(back::write_string(&m, Format::Lp, &o), TINY_LP);
}

#[test]
fn maximisation_is_written_negated_and_the_offset_only_in_the_header() {
    let (mut m, [x, y, _, _]) = tiny_cols();
    let mut obj = LinExpr::constant(7.5);
    obj.add_term(x, 2.0);
    obj.add_term(y, -1.0);
    m.set_objective(ObjSense::Maximize, obj);
    let mps = back::write_string(&m, Format::Mps, &WriteOptions::default());
    let lp = back::write_string(&m, Format::Lp, &WriteOptions::default());
    let note = "objective: maximize, written negated as minimize; offset 7.5 not written: \
                optimum = 7.5 - (file optimum)";
    assert!(mps.contains(&format!("* {note}\n")), "{mps}");
    assert!(lp.contains(&format!("\\ {note}\n")), "{lp}");
    assert!(mps.contains("    x obj -2\n") && mps.contains("    y obj 1\n"), "{mps}");
    assert!(lp.contains("Minimize\n obj: - 2 x + y\n"), "{lp}");
    for bad in ["OBJSENSE", "MAX", "7.5\n", " obj 7.5", "RHS obj"] {
        assert!(!mps.replace(note, "").contains(bad), "MPS contains {bad:?}:\n{mps}");
    }
    assert!(
        !lp.contains("Maximize") && !lp.replace(note, "").contains("7.5"),
        "{lp}"
    );
}

#[test]
fn empty_objective_and_empty_rows_get_an_explicit_zero_term() {
    let mut m = Milp::new("z");
    let a = m.add_col("a", 0.0, 1.0, ColKind::Continuous);
    let _b = m.add_col("b", 0.0, 1.0, ColKind::Continuous);
    m.add_row("r", vec![(a, 1.0)], Sense::Le, 1.0);
    m.add_row("nothing", vec![], Sense::Ge, -2.0);
    let mps = back::write_string(&m, Format::Mps, &WriteOptions::default());
    let lp = back::write_string(&m, Format::Lp, &WriteOptions::default());
    let cols = section(&mps, "COLUMNS", "RHS");
    assert_eq!(
        cols,
        ["    a obj 0", "    a r 1", "    a nothing 0", "    b obj 0"],
        "{mps}"
    );
    assert!(
        lp.contains(" obj: 0 a\n") && lp.contains(" nothing: 0 a >= -2\n"),
        "{lp}"
    );
}

/// Lines of `text` strictly between the line `from` and the line `to`.
fn section<'a>(text: &'a str, from: &str, to: &str) -> Vec<&'a str> {
    text.lines()
        .skip_while(|l| *l != from)
        .skip(1)
        .take_while(|l| *l != to)
        .collect()
}

#[test]
fn bounds_follow_the_one_entry_per_side_rules() {
    let (m, _) = hand_model();
    let mps = back::write_string(&m, Format::Mps, &WriteOptions::default());
    let lp = back::write_string(&m, Format::Lp, &WriteOptions::default());
    // Expected entries derived from README §4, column by column.
    let mps_bounds = [
        " FR BND c1",
        " BV BND b1",
        " BV BND b2",
        " MI BND c2", // negative upper bound: the lower side is always named
        " UP BND c2 -1",
        " BV BND b3",
        " FX BND b4 1", // a fixed binary is a fixed integer, not BV
        " LO BND i1 -2",
        " UP BND i1 3",
        " LO BND i2 0", // integers: both sides, even a lower bound of 0
        " UP BND i2 4",
        " LO BND i3 -3",
        " UP BND i3 -1",
        " MI BND i4",
        " PL BND i4",
        " LO BND i5 2",
        " PL BND i5",
        " LO BND c3 2",
        " LO BND c4 -5",
        " UP BND c4 -2",
        " FX BND c5 1.5",
    ];
    assert_eq!(section(&mps, "BOUNDS", "ENDATA"), mps_bounds, "{mps}");
    let lp_bounds = [
        " c1 free",
        " -inf <= c2 <= -1",
        " b4 = 1",
        " -2 <= i1 <= 3",
        " i2 <= 4",
        " -3 <= i3 <= -1",
        " i4 free",
        " i5 >= 2",
        " c3 >= 2",
        " -5 <= c4 <= -2",
        " c5 = 1.5",
    ];
    assert_eq!(section(&lp, "Bounds", "Generals"), lp_bounds, "{lp}");
    assert_eq!(
        section(&lp, "Generals", "Binaries"),
        [" b4", " i1", " i2", " i3", " i4", " i5"]
    );
    assert_eq!(section(&lp, "Binaries", "End"), [" b1", " b2", " b3"]);
    // Integer columns in two MARKER blocks: b1 b2 | b3 b4 i1..i5 (c2 splits them).
    assert_eq!(mps.matches("'INTORG'").count(), 2, "{mps}");
    assert_eq!(mps.matches("'INTEND'").count(), 2, "{mps}");
    assert!(
        mps.contains("    c6 obj 1e-5\n"),
        "tiny coefficient in exponent form:\n{mps}"
    );
}

#[test]
fn files_have_no_blank_lines_and_no_forbidden_sections() {
    let (m, _) = hand_model();
    for model in [m, NET.lowered(Encoding::Both, ObjSense::Maximize), wide_model(true).0] {
        let mps = back::write_string(&model, Format::Mps, &WriteOptions::default());
        let lp = back::write_string(&model, Format::Lp, &WriteOptions::default());
        for text in [&mps, &lp] {
            assert!(text.ends_with('\n') && !text.contains("\n\n"), "blank line");
            assert!(text.lines().all(|l| !l.ends_with(' ')), "trailing blank");
            assert!(text.lines().all(|l| l.len() < 255), "line of 255 characters or more");
        }
        for bad in ["OBJSENSE", "RANGES", "RHS obj", "1e30", "inf\n", "nan", "NaN"] {
            assert!(!mps.contains(bad), "MPS contains {bad:?}");
        }
        for bad in ["infinity", "<= inf", "+inf", "Maximize", "nan", "NaN"] {
            assert!(!lp.contains(bad), "LP contains {bad:?}");
        }
        // The MPS sections, in order, each exactly once.
        let heads: Vec<&str> = mps.lines().filter(|l| !l.starts_with([' ', '*'])).collect();
        let mut expected = vec!["ROWS", "COLUMNS", "RHS", "BOUNDS", "INDICATORS", "ENDATA"];
        if model.indicators().is_empty() {
            expected.retain(|s| *s != "INDICATORS");
        }
        assert_eq!(heads[0], format!("NAME {} FREE", model.name));
        assert_eq!(&heads[1..], expected);
        let first_row = section(&mps, "ROWS", "COLUMNS")[0];
        assert_eq!(first_row, " N obj");
    }
}

#[test]
fn long_lp_rows_are_wrapped_with_continuation_lines_starting_with_a_sign() {
    let (m, _) = wide_model(true);
    let lp = back::write_string(&m, Format::Lp, &WriteOptions::default());
    let rows = section(&lp, "Subject To", "Bounds");
    assert!(rows.len() > 3, "the 60-term row should take many lines:\n{lp}");
    for l in &rows {
        assert!(l.len() < 255, "line of {} characters", l.len());
        let cont = l.starts_with("   ");
        assert!(
            !cont || l.starts_with("   + ") || l.starts_with("   - "),
            "continuation line {l:?}"
        );
    }
    // The 100-character row name and the 21-character first coefficient do not fit on one
    // line with the right-hand side, so the row's terms start on the next line.
    assert_eq!(rows[0], format!(" c{:0>99}:", 0));
    assert_eq!(rows[1], format!("   + 1.2345678901234568e-5 v{:0>99}", 0));
    // Every term appears once, the last one followed by the right-hand side.
    let text = rows.join(" ");
    for i in 0..60 {
        // v_59 also appears in the indicator.
        let want = if i == 59 { 2 } else { 1 };
        assert_eq!(text.matches(&format!("v{i:0>99}")).count(), want, "v_{i}");
    }
    assert!(
        text.contains(&format!("+ 0.30000000000000004 v{:0>99} <= 0.15", 59)),
        "{text}"
    );
}

#[test]
fn lp_line_width_option_is_honoured_and_clamped() {
    let mut m = Milp::new("w");
    let cols: Vec<Col> = (0..100)
        .map(|i| m.add_col(format!("x{i}"), 0.0, 1.0, ColKind::Continuous))
        .collect();
    m.add_row("r", cols.iter().map(|&c| (c, 2.5)).collect(), Sense::Le, 7.0);
    let text = |width: usize| {
        let w = back::lp::Writer::new(back::lp::Options {
            line_width: width,
            ..Default::default()
        });
        let t = w.write_string(&m);
        let rows: Vec<String> = section(&t, "Subject To", "Bounds")
            .iter()
            .map(|l| l.to_string())
            .collect();
        rows
    };
    for (width, limit) in [(10, 40), (40, 40), (80, 80), (120, 120), (1000, 200)] {
        let rows = text(width);
        let (last, full) = rows.split_last().expect("rows");
        assert!(full.iter().all(|l| l.len() <= limit), "width {width}: {rows:?}");
        assert!(last.len() <= limit + " <= 7".len(), "{last}");
        // Filled: the next term ("+ 2.5 x99", at most 9 characters) would not have fit.
        assert!(full.iter().all(|l| l.len() + 1 + 9 > limit), "width {width}: {rows:?}");
    }
    assert_eq!(back::lp::Options::default().line_width, 80);
}

#[test]
fn indicators_use_the_case_file_syntax() {
    let m = NET.lowered(Encoding::Indicator, ObjSense::Maximize);
    let mps = back::write_string(&m, Format::Mps, &WriteOptions::default());
    let lp = back::write_string(&m, Format::Lp, &WriteOptions::default());
    // From src/lower: z = 1 -> x <= 0 and z = 0 -> s <= 0 for each unstable unit.
    let ind = section(&mps, "INDICATORS", "ENDATA");
    assert_eq!(
        ind,
        [
            " IF ix_L1_0 z_L1_0 1",
            " IF is_L1_0 z_L1_0 0",
            " IF ix_L1_1 z_L1_1 1",
            " IF is_L1_1 z_L1_1 0"
        ]
    );
    let rows = section(&mps, "ROWS", "COLUMNS");
    assert!(rows.contains(&" L ix_L1_0") && rows.contains(&" L is_L1_1"), "{mps}");
    assert!(
        mps.contains("    x_L1_0 ix_L1_0 1\n") && mps.contains("    s_L1_1 is_L1_1 1\n"),
        "{mps}"
    );
    assert!(lp.contains(" ix_L1_0: z_L1_0 = 1 -> + x_L1_0 <= 0\n"), "{lp}");
    assert!(lp.contains(" is_L1_1: z_L1_1 = 0 -> + s_L1_1 <= 0\n"), "{lp}");
    assert!(
        !mps.contains(" ub_L1_") && !lp.contains(" ub_L1_"),
        "no big-M rows in indicator mode"
    );
}

// ---------------------------------------------------------------------------------------------
// Snapshots

#[test]
fn snapshots_of_hand_models_and_lowered_networks() {
    let o = opts(&["nnmilp snapshot test", "second header line"]);
    let cases = [
        ("tiny", tiny()),
        ("hand", hand_model().0),
        ("relu_2_2_1_bigm", NET.lowered(Encoding::BigM, ObjSense::Maximize)),
        (
            "relu_2_2_1_indicator",
            NET.lowered(Encoding::Indicator, ObjSense::Maximize),
        ),
    ];
    for (name, m) in &cases {
        for format in [Format::Mps, Format::Lp] {
            let text = back::write_string(m, format, &o);
            // Same model, same bytes: twice, and from a copy.
            assert_eq!(text, back::write_string(m, format, &o));
            assert_eq!(text, back::write_string(&m.clone(), format, &o));
            let ext = format.extension();
            check_snapshot(&format!("{ext}/{name}.{ext}"), &text);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Round trips through external solvers

/// The model's optimum from a file's optimum, by the header's rule (negated for a
/// maximisation, offset added back).
fn true_optimum(m: &Milp, file_optimum: f64) -> f64 {
    let o = m.objective().offset;
    match m.objective().sense {
        ObjSense::Minimize => file_optimum + o,
        ObjSense::Maximize => o - file_optimum,
    }
}

fn assert_close(what: &str, got: f64, want: f64) {
    assert!((got - want).abs() <= 1e-6, "{what}: optimum {got}, expected {want}");
}

/// Checks a solver's point against the model itself: every column named, the point feasible
/// and worth the expected optimum. SCIP adds a slack column `indslack_..<name>` per indicator.
fn check_point(what: &str, m: &Milp, a: &Answer, want: f64, tol: f64) {
    let slack = |n: &str| n.starts_with("indslack_") && m.indicators().iter().any(|d| n.ends_with(&d.name));
    for name in a.values.keys().filter(|n| !slack(n)) {
        assert!(
            m.cols().iter().any(|c| &c.name == name),
            "{what}: unknown column {name}"
        );
    }
    let x: Vec<f64> = m
        .cols()
        .iter()
        .map(|c| a.values.get(&c.name).copied().unwrap_or(0.0))
        .collect();
    assert!(
        m.max_violation(&x) <= tol,
        "{what}: point violates the model by {}",
        m.max_violation(&x)
    );
    assert!(
        (m.objective_value(&x) - want).abs() <= tol,
        "{what}: point is worth {}",
        m.objective_value(&x)
    );
}

/// Writes `m` as MPS and LP (and a gzipped MPS) and checks every reader's optimum.
fn round_trip(name: &str, m: &Milp, want: f64) {
    let dir = tempfile::tempdir().expect("temp dir");
    let o = WriteOptions::default();
    let path = |ext: &str| dir.path().join(format!("{name}.{ext}"));
    let (mps, lp, gz) = (path("mps"), path("lp"), path("mps.gz"));
    for p in [&mps, &lp, &gz] {
        back::write_file(m, p.to_str().expect("utf-8"), None, &o).expect("write");
    }
    if m.indicators().is_empty() {
        for file in [&mps, &lp, &gz] {
            let what = format!("cbc {}", file.display());
            let a = cbc(file);
            assert_close(&what, true_optimum(m, a.objective), want);
            check_point(&what, m, &a, want, 1e-5);
        }
        assert_close(
            "glpsol --freemps",
            true_optimum(m, glpsol(&mps, Format::Mps, None)),
            want,
        );
        assert_close("glpsol --cpxlp", true_optimum(m, glpsol(&lp, Format::Lp, None)), want);
    }
    for file in [&mps, &lp] {
        let what = format!("SCIP {}", file.display());
        let a = scip(file);
        assert_close(&what, true_optimum(m, a.objective), want);
        check_point(&what, m, &a, want, 1e-6);
    }
}

#[test]
fn relu_net_big_m_files_solve_to_the_true_optimum() {
    for sense in [ObjSense::Maximize, ObjSense::Minimize] {
        let want = NET.optimum(sense);
        round_trip(
            &format!("relu_bigm_{sense:?}"),
            &NET.lowered(Encoding::BigM, sense),
            want,
        );
    }
}

#[test]
fn relu_net_indicator_files_solve_to_the_true_optimum_in_scip() {
    for sense in [ObjSense::Maximize, ObjSense::Minimize] {
        let want = NET.optimum(sense);
        let m = NET.lowered(Encoding::Indicator, sense);
        assert!(!m.indicators().is_empty());
        round_trip(&format!("relu_ind_{sense:?}"), &m, want);
    }
}

#[test]
fn hand_model_solves_to_the_brute_force_optimum() {
    let (m, want) = hand_model();
    round_trip("hand", &m, want);
}

#[test]
fn model_without_rows_solves_in_every_reader() {
    let mut m = Milp::new("free_standing");
    let x = m.add_col("x", 1.5, 4.0, ColKind::Continuous);
    let n = m.add_col("n", -3.0, 2.0, ColKind::Integer);
    let mut obj = LinExpr::var(x);
    obj.add_term(n, -2.0);
    m.set_objective(ObjSense::Minimize, obj);
    let lp = back::write_string(&m, Format::Lp, &WriteOptions::default());
    assert!(lp.contains("Subject To\n no_rows: 0 x >= 0\nBounds\n"), "{lp}");
    // x at its lower bound, n at its upper bound.
    round_trip("norows", &m, 1.5 - 2.0 * 2.0);
}

#[test]
fn wide_model_with_long_names_solves_in_every_reader() {
    let (m, want) = wide_model(false);
    round_trip("wide", &m, want);
    let (m, want) = wide_model(true);
    round_trip("wide_ind", &m, want);
}

// ---------------------------------------------------------------------------------------------
// Files: atomicity, gzip, errors

/// Names of the entries of a directory, sorted.
fn listing(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = fs::read_dir(dir)
        .expect("read dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

#[test]
fn writing_into_a_missing_directory_fails_naming_the_path_and_creates_nothing() {
    let dir = tempfile::tempdir().expect("temp dir");
    let target = dir.path().join("missing/x.mps");
    let t = target.to_str().expect("utf-8");
    let err = back::write_file(&tiny(), t, None, &WriteOptions::default()).expect_err("must fail");
    assert!(matches!(err, WriteError::Io { .. }), "{err:?}");
    let msg = err.to_string();
    assert!(msg.starts_with(&format!("cannot write {t}: ")), "{msg}");
    assert!(!msg.contains(".nnmilp-"), "no temporary name in {msg}");
    assert!(listing(dir.path()).is_empty());
    // The error converts into the crate's error.
    let top: nnmilp::Error = err.into();
    assert_eq!(top.to_string(), msg);
}

#[test]
fn a_write_that_fails_at_the_rename_leaves_no_temporary_file() {
    let dir = tempfile::tempdir().expect("temp dir");
    // A directory where the file should go: the text is written, the rename fails.
    let target = dir.path().join("out.lp");
    fs::create_dir(&target).expect("mkdir");
    let t = target.to_str().expect("utf-8");
    let err = back::write_file(&tiny(), t, None, &WriteOptions::default()).expect_err("must fail");
    assert!(err.to_string().starts_with(&format!("cannot write {t}: ")), "{err}");
    assert_eq!(listing(dir.path()), ["out.lp"]);
    assert!(listing(&target).is_empty());
}

#[test]
fn a_failing_write_keeps_the_existing_file() {
    let dir = tempfile::tempdir().expect("temp dir");
    let target = dir.path().join("keep.mps");
    fs::write(&target, "old").expect("write");
    let mut bad = tiny();
    bad.name = "e bad".into();
    let t = target.to_str().expect("utf-8");
    let err = back::write_file(&bad, t, None, &WriteOptions::default()).expect_err("must fail");
    assert!(matches!(err, WriteError::InvalidModel { .. }), "{err:?}");
    assert_eq!(fs::read_to_string(&target).expect("read"), "old");
    assert_eq!(listing(dir.path()), ["keep.mps"]);
    // And a good write replaces it, leaving only the file.
    back::write_file(&tiny(), t, None, &WriteOptions::default()).expect("write");
    assert_eq!(
        fs::read_to_string(&target).expect("read"),
        back::write_string(&tiny(), Format::Mps, &WriteOptions::default())
    );
    assert_eq!(listing(dir.path()), ["keep.mps"]);
    // Permissions as for any new file (umask applied), not the temporary file's private 0600.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let plain = dir.path().join("plain");
        fs::write(&plain, "x").expect("write");
        let mode = |p: &Path| fs::metadata(p).expect("metadata").permissions().mode() & 0o777;
        assert_eq!(mode(&target), mode(&plain));
    }
}

/// A sink that fails after `left` bytes, as a full disk would.
struct FailAfter {
    left: usize,
}

impl Write for FailAfter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.left < buf.len() {
            return Err(io::Error::other("disk full"));
        }
        self.left -= buf.len();
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[test]
fn write_reports_a_failing_sink() {
    for format in [Format::Mps, Format::Lp] {
        let err = back::write(&tiny(), format, &WriteOptions::default(), &mut FailAfter { left: 100 })
            .expect_err("must fail");
        assert_eq!(err.to_string(), "disk full");
    }
}

#[test]
fn gzip_output_decompresses_to_the_plain_text() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (m, _) = hand_model();
    let o = opts(&["gzip"]);
    for format in [Format::Mps, Format::Lp] {
        let ext = format.extension();
        let gz = dir.path().join(format!("m.{ext}.gz"));
        let plain = dir.path().join(format!("m.{ext}"));
        back::write_file(&m, gz.to_str().expect("utf-8"), None, &o).expect("write gz");
        back::write_file(&m, plain.to_str().expect("utf-8"), None, &o).expect("write");
        let bytes = fs::read(&gz).expect("read gz");
        assert_eq!(&bytes[..2], [0x1f, 0x8b], "gzip magic");
        let mut text = String::new();
        flate2::read::GzDecoder::new(&bytes[..])
            .read_to_string(&mut text)
            .expect("gunzip");
        assert_eq!(text, fs::read_to_string(&plain).expect("read"));
        assert_eq!(text, back::write_string(&m, format, &o));
        // Deterministic compressed bytes too (no timestamp in the gzip header).
        back::write_file(&m, gz.to_str().expect("utf-8"), None, &o).expect("write gz");
        assert_eq!(fs::read(&gz).expect("read gz"), bytes);
    }
}

#[test]
fn formats_come_from_the_extension_or_must_be_given() {
    for (p, f) in [
        ("a.mps", Some(Format::Mps)),
        ("dir.lp/a.MPS.GZ", Some(Format::Mps)),
        ("a.Lp", Some(Format::Lp)),
        ("out/a.lp.gz", Some(Format::Lp)),
        ("a.gz", None),
        ("a.mps.txt", None),
        ("mps", None),
        ("-", None),
    ] {
        assert_eq!(Format::from_path(p), f, "{p}");
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let o = WriteOptions::default();
    let unknown = dir.path().join("model.txt");
    let u = unknown.to_str().expect("utf-8");
    let err = back::write_file(&tiny(), u, None, &o).expect_err("unknown extension");
    assert!(
        matches!(err, WriteError::UnknownFormat { .. }) && err.to_string().contains(u),
        "{err}"
    );
    let mismatch = dir.path().join("model.lp");
    let mm = mismatch.to_str().expect("utf-8");
    let err = back::write_file(&tiny(), mm, Some(Format::Mps), &o).expect_err("mismatch");
    assert!(
        matches!(err, WriteError::FormatMismatch { .. }) && err.to_string().contains(mm),
        "{err}"
    );
    assert!(listing(dir.path()).is_empty());
    // An explicit format for a name without a known extension.
    back::write_file(&tiny(), u, Some(Format::Lp), &o).expect("write");
    assert_eq!(
        fs::read_to_string(&unknown).expect("read"),
        TINY_LP.replace("\\ written by hand\n", "")
    );
    let err = back::write_file(&tiny(), "-", None, &o).expect_err("stdout without format");
    assert!(matches!(err, WriteError::StdoutNeedsFormat), "{err:?}");
}

#[test]
fn a_generated_model_reports_its_first_fault_in_model_order() {
    // Generated names are checked item by item on rayon's threads: the fault reported must
    // still be the first one, as a serial check finds it, whatever the split.
    let build = |bad_cols: &[usize], bad_rows: &[usize]| {
        let mut m = Milp::with_generated_names("ok");
        let cols: Vec<_> = (0..3000)
            .map(|j| {
                let name = if bad_cols.contains(&j) {
                    format!("e_{j}")
                } else {
                    format!("c_{j}")
                };
                m.add_col(name, 0.0, 1.0, ColKind::Continuous)
            })
            .collect();
        for i in 0..2000 {
            let rhs = if bad_rows.contains(&i) { f64::NAN } else { 1.0 };
            m.add_row(
                format!("r_{i}"),
                vec![(cols[i], 1.0), (cols[i + 1], 1.0)],
                Sense::Le,
                rhs,
            );
        }
        m
    };
    let err = back::validate(&build(&[2100, 1500, 2999], &[3])).expect_err("bad columns");
    assert!(err.to_string().contains("column 1500 name `e_1500`"), "{err}");
    let err = back::validate(&build(&[], &[1900, 700, 1999])).expect_err("bad rows");
    assert!(err.to_string().contains("row 700 `r_700`"), "{err}");
    back::validate(&build(&[], &[])).expect("a sound model");
}

#[test]
fn invalid_models_are_refused_with_the_offending_name() {
    let build_cols = |col: &str, row: &str| {
        let mut m = Milp::new("ok");
        let a = m.add_col("a", 0.0, 1.0, ColKind::Continuous);
        let b = m.add_col(col, 0.0, 1.0, ColKind::Continuous);
        m.add_row(row, vec![(a, 1.0), (b, 1.0)], Sense::Le, 1.0);
        (m, a)
    };
    let build = |col: &str, row: &str| build_cols(col, row).0;
    // Generated names are unique by construction, so the writer does not hash them again;
    // the objective's name is still theirs to avoid.
    let generated_obj = {
        let mut m = Milp::with_generated_names("ok");
        let a = m.add_col("a", 0.0, 1.0, ColKind::Continuous);
        m.add_row("obj", vec![(a, 1.0)], Sense::Le, 1.0);
        m
    };
    let cases: Vec<(Milp, &str)> = vec![
        (generated_obj, "row name `obj` is used twice"),
        (
            build("e1", "r"),
            "column 1 name `e1` must start with an ASCII letter other than e/E",
        ),
        (build("x y", "r"), "column 1 name `x y` may contain only"),
        (build("x[0]", "r"), "column 1 name `x[0]` may contain only"),
        (build("Free", "r"), "column 1 name `Free` is a keyword"),
        (build("_x", "r"), "column 1 name `_x` must start"),
        (build("a", "r"), "column name `a` is used twice"),
        (build("b", "obj"), "row name `obj` is used twice"),
        (build("b", "st"), "row 0 name `st` is a keyword"),
        (
            build(&format!("x{}", "1".repeat(100)), "r"),
            "is longer than 100 characters",
        ),
        (Milp::new("nothing"), "the model has no columns"),
    ];
    let dir = tempfile::tempdir().expect("temp dir");
    for (m, want) in cases {
        let err = back::validate(&m).expect_err(want);
        assert!(err.to_string().contains(want), "{err} / {want}");
        let mut out = Vec::new();
        let io_err = back::write(&m, Format::Lp, &WriteOptions::default(), &mut out).expect_err(want);
        assert_eq!(io_err.kind(), io::ErrorKind::InvalidInput);
        assert!(out.is_empty(), "nothing written before the check");
        let target = dir.path().join("bad.mps");
        let t = target.to_str().expect("utf-8");
        let err = back::write_file(&m, t, None, &WriteOptions::default()).expect_err(want);
        assert!(err.to_string().starts_with(&format!("cannot write {t}: ")) && err.to_string().contains(want));
        assert!(listing(dir.path()).is_empty());
    }
    let (mut m, a) = build_cols("b", "r");
    m.add_row("nan", vec![(a, f64::NAN)], Sense::Le, 1.0);
    assert!(matches!(back::validate(&m), Err(ModelError::NotFinite { .. })));
    let (mut m, a) = build_cols("b", "r");
    let z = m.add_col("z", 0.0, 1.0, ColKind::Binary);
    m.add_indicator("e_ind", z, true, vec![(a, 1.0)], Sense::Le, 0.0);
    let err = back::validate(&m).expect_err("indicator name");
    assert!(
        err.to_string().starts_with("indicator 0 name `e_ind` must start"),
        "{err}"
    );
    let mut m = build("b", "r");
    m.add_row("big", vec![(a, 1.0)], Sense::Le, INF);
    let err = back::validate(&m).expect_err("infinite rhs");
    assert!(err.to_string().contains("row 1 `big`, right-hand side"), "{err}");
    let mut m = build("b", "r");
    m.set_col_bounds(a, INF, INF);
    assert!(matches!(back::validate(&m), Err(ModelError::BadBounds { .. })));
}

#[test]
fn header_lines_are_comments_even_with_line_breaks() {
    let o = opts(&["nnmilp 0.1.0", "source sha256 abc\noptions: --relu bigm", ""]);
    let mps = back::write_string(&tiny(), Format::Mps, &o);
    let lp = back::write_string(&tiny(), Format::Lp, &o);
    assert!(mps.starts_with("* nnmilp 0.1.0\n* source sha256 abc\n* options: --relu bigm\n*\n* model tiny"));
    assert!(lp.starts_with("\\ nnmilp 0.1.0\n\\ source sha256 abc\n\\ options: --relu bigm\n\\\n\\ model tiny"));
}

// ---------------------------------------------------------------------------------------------
// Numbers

#[test]
fn numbers_are_shortest_round_trip_with_exponents_outside_1e_minus4_to_1e15() {
    for (v, s) in [
        (1e-30, "1e-30"),
        (0.1, "0.1"),
        (-0.0, "0"),
        (0.0, "0"),
        (1e15, "1e15"),
        (123.456, "123.456"),
        (-3.0, "-3"),
        (1e-4, "0.0001"),
        (9.99e-5, "9.99e-5"),
        (999999999999999.0, "999999999999999"),
        (-1.5e16, "-1.5e16"),
        (0.30000000000000004, "0.30000000000000004"),
        (f64::MIN_POSITIVE, "2.2250738585072014e-308"),
        (-f64::MAX, "-1.7976931348623157e308"),
    ] {
        assert_eq!(format_number(v), s, "{v:?}");
        assert_eq!(s.parse::<f64>().expect("parse"), v);
        assert!(s.len() <= back::MAX_NUMBER_LEN);
    }
}

proptest::proptest! {
    #[test]
    fn numbers_read_back_exactly(bits in proptest::prelude::any::<u64>()) {
        let v = f64::from_bits(bits);
        proptest::prop_assume!(v.is_finite());
        let s = format_number(v);
        proptest::prop_assert_eq!(s.parse::<f64>().unwrap(), if v == 0.0 { 0.0 } else { v });
        proptest::prop_assert!(s.len() <= back::MAX_NUMBER_LEN, "{} has {} characters", s, s.len());
        let exp = v != 0.0 && (v.abs() < 1e-4 || v.abs() >= 1e15);
        proptest::prop_assert_eq!(s.contains('e'), exp, "{}", s);
        proptest::prop_assert!(!s.contains("inf") && !s.contains("NaN"));
    }
}

// ---------------------------------------------------------------------------------------------
// Parallel chunks

/// A model whose files span many parallel chunks: 3,000 columns whose kinds change every few
/// columns (so MARKER lines fall at chunk boundaries), varied bounds, 2,500 rows of 0 to 80
/// terms (some empty), indicators, and an objective.
fn large_model() -> Milp {
    let mut rng = crate::common::nets::Rng(77);
    let mut m = Milp::new("large");
    let cols: Vec<Col> = (0..3000)
        .map(|j| {
            let kind = match j % 11 {
                3 | 4 => ColKind::Binary,
                7 => ColKind::Integer,
                _ => ColKind::Continuous,
            };
            let (lo, hi) = match j % 5 {
                0 => (0.0, INF),
                1 => (-INF, INF),
                2 => (-rng.uniform(0.0, 1e3), rng.uniform(0.0, 1e-3)),
                3 => (0.0, rng.uniform(1.0, 1e17)),
                _ => (-INF, -rng.uniform(1e-9, 1.0)),
            };
            m.add_col(format!("c_{j}"), lo, hi, kind)
        })
        .collect();
    for i in 0..2500 {
        let n = rng.range(0, 80);
        let terms = (0..n)
            .map(|_| (cols[rng.range(0, 2999)], rng.uniform(-1e3, 1e3) * rng.unit().powi(8)))
            .collect();
        let sense = [Sense::Le, Sense::Ge, Sense::Eq][i % 3];
        m.add_row(format!("r_{i}"), terms, sense, rng.uniform(-10.0, 10.0));
    }
    for i in 0..50 {
        let terms = (0..rng.range(1, 30))
            .map(|_| (cols[rng.range(0, 2999)], rng.weight()))
            .collect();
        m.add_indicator(format!("ind_{i}"), cols[3 + 11 * i], i % 2 == 0, terms, Sense::Le, 0.5);
    }
    let obj = LinExpr {
        terms: (0..400).map(|k| (cols[k * 7], rng.weight())).collect(),
        constant: 0.0,
    };
    m.set_objective(ObjSense::Minimize, obj);
    m
}

#[test]
fn parallel_writes_are_byte_identical_for_every_thread_count() {
    let m = large_model();
    let o = opts(&["threads"]);
    for format in [Format::Mps, Format::Lp] {
        let texts: Vec<String> = [1, 2, 4]
            .iter()
            .map(|&n| {
                let pool = rayon::ThreadPoolBuilder::new().num_threads(n).build().expect("pool");
                pool.install(|| back::write_string(&m, format, &o))
            })
            .collect();
        assert!(
            texts[0].len() > 1 << 20,
            "{format}: {} bytes, too few for several chunks",
            texts[0].len()
        );
        assert_eq!(texts[0], texts[1], "{format}: 1 vs 2 threads");
        assert_eq!(texts[0], texts[2], "{format}: 1 vs 4 threads");
    }
}

/// The MPS matrix and the LP rows of the large model, rebuilt here line by line from the model
/// (by column for MPS, by row for LP with continuation lines joined), equal the written text:
/// the chunks are concatenated in order, none lost or repeated.
#[test]
fn parallel_sections_hold_every_entry_in_order() {
    let m = large_model();
    let mps = back::write_string(&m, Format::Mps, &WriteOptions::default());
    let mut want = Vec::new();
    let mut by_col: Vec<Vec<(&str, f64)>> = vec![Vec::new(); m.cols().len()];
    for &(c, v) in &m.objective().terms {
        by_col[c.index()].push(("obj", v));
    }
    for r in m.rows() {
        for &(c, v) in &r.terms {
            by_col[c.index()].push((&r.name, v));
        }
        if r.terms.is_empty() {
            by_col[0].push((&r.name, 0.0));
        }
    }
    for r in m.indicators() {
        for &(c, v) in &r.terms {
            by_col[c.index()].push((&r.name, v));
        }
    }
    // Pushed in row-position order (objective, rows, indicators), as the writer sorts.
    for (col, entries) in m.cols().iter().zip(&by_col) {
        for (row, v) in entries {
            want.push(format!("    {} {row} {}", col.name, format_number(*v)));
        }
    }
    let got: Vec<&str> = section(&mps, "COLUMNS", "RHS")
        .into_iter()
        .filter(|l| !l.contains("MARKER"))
        .collect();
    assert_eq!(got, want);

    let lp = back::write_string(&m, Format::Lp, &WriteOptions::default());
    let joined = section(&lp, "Subject To", "Bounds").join("\n").replace("\n   ", " ");
    for (line, r) in joined.lines().zip(m.rows()) {
        let mut want = format!(" {}:", r.name);
        for &(c, v) in &r.terms {
            let sign = if v < 0.0 { '-' } else { '+' };
            want += &match v.abs() == 1.0 {
                true => format!(" {sign} {}", m.cols()[c.index()].name),
                false => format!(" {sign} {} {}", format_number(v.abs()), m.cols()[c.index()].name),
            };
        }
        if r.terms.is_empty() {
            want += " 0 c_0";
        }
        let op = match r.sense {
            Sense::Le => "<=",
            Sense::Ge => ">=",
            Sense::Eq => "=",
        };
        want += &format!(" {op} {}", format_number(r.rhs));
        assert_eq!(line, want);
    }
    assert_eq!(joined.lines().count(), m.rows().len() + m.indicators().len());
}
