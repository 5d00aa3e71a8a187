//! The VNN-LIB front end: every fixture property parses, interprets as documented and
//! round-trips through the pretty-printer; malformed and hostile files give errors with a
//! line and column.

use crate::common::shared;
use nnmilp::front::vnnlib::{self, interpret, parse_script, print, VnnlibError};
use std::path::PathBuf;

/// Every `.vnnlib` file under the shared VNN-COMP fixtures.
fn fixture_properties() -> Vec<PathBuf> {
    let mut out = Vec::new();
    let root = shared().join("fixtures/vnncomp");
    for bench in ["test", "acasxu", "mnist_fc"] {
        for dir in [root.join(bench), root.join(bench).join("vnnlib")] {
            let Ok(rd) = std::fs::read_dir(&dir) else { continue };
            for e in rd.flatten() {
                let p = e.path();
                if p.to_string_lossy().ends_with(".vnnlib") {
                    out.push(p);
                }
            }
        }
    }
    out.sort();
    out
}

#[test]
fn every_fixture_parses_and_round_trips() {
    let files = fixture_properties();
    assert!(files.len() >= 11, "fixtures missing: {files:?}");
    for f in &files {
        let text = vnnlib::read_text(f).unwrap();
        let name = f.display().to_string();
        let ast = parse_script(&name, &text).unwrap_or_else(|e| panic!("{e}"));
        let printed = print(&ast);
        let again = parse_script("printed", &printed).unwrap_or_else(|e| panic!("{name} printed: {e}\n{printed}"));
        assert_eq!(ast, again, "{name}: the printed text parses to another tree");
        assert_eq!(print(&again), printed, "{name}: printing is not a fixed point");
        let p = interpret(&name, &ast).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            p,
            interpret("printed", &again).unwrap(),
            "{name}: meaning changed by the round trip"
        );
        assert!(!p.cases.is_empty(), "{name}: no case");
        for c in &p.cases {
            assert!(c
                .lo
                .iter()
                .zip(&c.hi)
                .all(|(l, h)| l <= h && l.is_finite() && h.is_finite()));
        }
    }
}

#[test]
fn fixture_shapes_are_as_documented() {
    let root = shared().join("fixtures/vnncomp");
    // ACAS Xu property 6: an `or` of two input boxes, each with the four-way output disjunction.
    let p6 = vnnlib::load(&root.join("acasxu/vnnlib/prop_6.vnnlib")).unwrap();
    assert_eq!((p6.inputs, p6.outputs, p6.cases.len()), (5, 5, 2));
    for c in &p6.cases {
        assert_eq!(c.disjuncts.len(), 4);
        assert!(c.disjuncts.iter().all(|d| d.len() == 1));
    }
    assert_eq!(p6.cases[0].lo[1], 0.11140846);
    assert_eq!(p6.cases[1].hi[1], -0.11140846);
    // Property 3: one box, one conjunction of four rows Y_0 <= Y_k, i.e. Y_0 - Y_k <= 0.
    let p3 = vnnlib::load(&root.join("acasxu/vnnlib/prop_3.vnnlib")).unwrap();
    assert_eq!(p3.cases.len(), 1);
    assert_eq!(p3.cases[0].disjuncts.len(), 1);
    let rows = &p3.cases[0].disjuncts[0];
    assert_eq!(rows.len(), 4);
    assert_eq!(rows[0].coeffs, vec![(0, 1.0), (1, -1.0)]);
    assert_eq!(rows[0].rhs, 0.0);
    assert_eq!(p3.cases[0].lo[0], -0.303531156);
    // mnist_fc: an L∞ ball of 784 inputs and nine ways to beat the label.
    let m = vnnlib::load(&root.join("mnist_fc/vnnlib/prop_0_0.03.vnnlib")).unwrap();
    assert_eq!(
        (m.inputs, m.outputs, m.cases.len(), m.cases[0].disjuncts.len()),
        (784, 10, 1, 9)
    );
    // `(>= Y_0 Y_4)`: Y_4 - Y_0 <= 0.
    assert_eq!(m.cases[0].disjuncts[0][0].coeffs, vec![(0, -1.0), (4, 1.0)]);
}

#[test]
fn gzipped_properties_read_like_plain_ones() {
    let src = shared().join("fixtures/vnncomp/acasxu/vnnlib/prop_6.vnnlib");
    let dir = tempfile::tempdir().unwrap();
    let gz = dir.path().join("prop_6.vnnlib.gz");
    let mut enc = flate2::write::GzEncoder::new(std::fs::File::create(&gz).unwrap(), flate2::Compression::default());
    std::io::Write::write_all(&mut enc, &std::fs::read(&src).unwrap()).unwrap();
    enc.finish().unwrap();
    assert_eq!(vnnlib::load(&gz).unwrap(), vnnlib::load(&src).unwrap());
}

const HEAD: &str = "(declare-const X_0 Real)\n(declare-const Y_0 Real)\n(declare-const Y_1 Real)\n";

fn parse(body: &str) -> Result<vnnlib::Property, VnnlibError> {
    let text = format!("{HEAD}{body}");
    interpret("p.vnnlib", &parse_script("p.vnnlib", &text)?)
}

/// The error and its position (line, column) for a body placed after the three declarations.
fn error_at(body: &str) -> (String, u32, u32) {
    let e = parse(body).expect_err(body);
    let (l, c) = e.position().unwrap_or_else(|| panic!("no position in `{e}`"));
    (e.to_string(), l, c)
}

#[test]
fn linear_terms_comparisons_and_numerals() {
    let p = parse(
        "(assert (>= X_0 -1.5e-1)) (assert (<= X_0 +.5)) ; a comment\n\
         (assert (<= (+ (* 2 Y_0) (- Y_1) 1) (* Y_1 3)))\n\
         (assert (= Y_0 0.25))",
    )
    .unwrap();
    let c = &p.cases[0];
    assert_eq!((c.lo[0], c.hi[0]), (-0.15, 0.5));
    let rows = &c.disjuncts[0];
    // 2 Y_0 - Y_1 + 1 - 3 Y_1 <= 0, then Y_0 = 0.25 as two rows.
    assert_eq!(rows[0].coeffs, vec![(0, 2.0), (1, -4.0)]);
    assert_eq!(rows[0].rhs, -1.0);
    assert_eq!(rows.len(), 3);
    assert_eq!((rows[1].coeffs.clone(), rows[1].rhs), (vec![(0, -1.0)], -0.25));
    assert_eq!((rows[2].coeffs.clone(), rows[2].rhs), (vec![(0, 1.0)], 0.25));
}

#[test]
fn disjunctions_become_cases_and_disjuncts() {
    let p = parse(
        "(assert (or (and (>= X_0 0) (<= X_0 1)) (and (>= X_0 2) (<= X_0 3))))\n\
         (assert (or (<= Y_0 Y_1) (and (>= Y_0 1) (<= Y_1 0))))",
    )
    .unwrap();
    assert_eq!(p.cases.len(), 2);
    assert_eq!((p.cases[1].lo[0], p.cases[1].hi[0]), (2.0, 3.0));
    for c in &p.cases {
        assert_eq!(c.disjuncts.len(), 2);
        assert_eq!(c.disjuncts[1].len(), 2);
    }
    // An empty box (lower above upper) drops its conjunction.
    let q = parse("(assert (or (and (>= X_0 1) (<= X_0 0)) (and (>= X_0 0) (<= X_0 1)))) (assert (<= Y_0 0))").unwrap();
    assert_eq!(q.cases.len(), 1);
}

#[test]
fn malformed_files_give_line_column_and_text() {
    let cases: [(&str, &str, u32, u32); 10] = [
        ("(assert (<= X_0 1)", "never closed", 4, 1),
        ("(assert (<= X_0 1)))", "unbalanced ')'", 4, 20),
        (
            "(assert (>= X_0 0))\n(assert (<= X_9 1))",
            "unknown variable X_9",
            5,
            13,
        ),
        ("(assert (>= X_0 0))\n(assert (<= X_0 1.2.3))", "bad number", 5, 17),
        ("(assert (>= X_0 0))\n(assert (<= X_0 1e))", "bad number", 5, 17),
        (
            "(assert (>= X_0 0))\n(assert (< X_0 1))",
            "operator < is not supported",
            5,
            10,
        ),
        (
            "(assert (>= X_0 0)) (assert (<= X_0 1)) (assert (<= (* Y_0 Y_1) 0))",
            "not linear",
            4,
            53,
        ),
        ("(check-sat)", "command check-sat is not supported", 4, 1),
        ("(assert (>= X_0 0) (<= X_0 1))", "one formula", 4, 1),
        ("(assert X_0)", "expected a formula", 4, 9),
    ];
    for (body, want, line, col) in cases {
        let (msg, l, c) = error_at(body);
        assert!(msg.contains(want), "`{body}`: `{msg}` does not say `{want}`");
        assert!(msg.contains("p.vnnlib:"), "`{msg}` does not name the file");
        assert_eq!((l, c), (line, col), "`{body}`: `{msg}`");
        assert!(msg.contains("(at `"), "`{msg}` does not show the offending text");
    }
}

#[test]
fn unsupported_meanings_are_errors_that_say_so() {
    let unbounded = parse("(assert (>= X_0 0)) (assert (<= Y_0 0))")
        .unwrap_err()
        .to_string();
    assert!(unbounded.contains("X_0 has no upper bound"), "{unbounded}");
    let mixed = parse("(assert (>= X_0 0)) (assert (<= X_0 1)) (assert (<= X_0 Y_0))")
        .unwrap_err()
        .to_string();
    assert!(mixed.contains("mixes inputs and outputs"), "{mixed}");
    let general = parse("(assert (>= X_0 0)) (assert (<= (* 2 X_0) 1))")
        .unwrap_err()
        .to_string();
    assert!(general.contains("not a bound on one input"), "{general}");
    let e = parse_script("p", "(declare-const X_0 Int)").unwrap_err().to_string();
    assert!(e.contains("only the sort Real"), "{e}");
    let name = parse_script("p", "(declare-const Z_0 Real)")
        .map(|s| interpret("p", &s))
        .unwrap()
        .unwrap_err();
    assert!(name.to_string().contains("names inputs X_i and outputs Y_j"), "{name}");
    let twice = parse_script("p", "(declare-const X_0 Real)(declare-const X_0 Real)").map(|s| interpret("p", &s));
    assert!(twice.unwrap().unwrap_err().to_string().contains("declared twice"));
}

#[test]
fn shape_is_checked_against_the_network() {
    let p = parse("(assert (>= X_0 0)) (assert (<= X_0 1)) (assert (<= Y_1 0))").unwrap();
    assert!(p.check_shape("p", 1, 2).is_ok());
    let e = p.check_shape("p", 1, 1).unwrap_err().to_string();
    assert!(e.contains("Y_1 is beyond the network's 1 outputs"), "{e}");
    let e = p.check_shape("p", 2, 2).unwrap_err().to_string();
    assert!(e.contains("X_1 is not bounded"), "{e}");
}

#[test]
fn hostile_input_is_bounded() {
    // Deep nesting: refused at the limit, not by a stack overflow.
    let deep = format!("(assert {}(<= X_0 1){})", "(and ".repeat(200), ")".repeat(200));
    let e = parse(&deep).unwrap_err().to_string();
    assert!(e.contains("nested deeper than 64"), "{e}");
    // A product of disjunctions that would explode: refused before allocating it.
    let mut blowup = String::from("(assert (>= X_0 0)) (assert (<= X_0 1))");
    for _ in 0..40 {
        blowup.push_str("(assert (or (<= Y_0 0) (<= Y_1 0)))");
    }
    let e = parse(&blowup).unwrap_err().to_string();
    assert!(e.contains("exceeds 100000 conjunctions"), "{e}");
    // A huge index is not an allocation.
    let e = parse_script("p", "(declare-const X_99999999999 Real)")
        .map(|s| interpret("p", &s))
        .unwrap()
        .unwrap_err();
    assert!(e.to_string().contains("names inputs X_i"), "{e}");
    // Binary garbage and an empty file.
    assert!(parse_script("p", "\u{1}\u{2}(((").is_err());
    assert_eq!(interpret("p", &parse_script("p", "").unwrap()).unwrap().cases.len(), 1);
}
