//! The embedded HiGHS on models small enough to solve by hand (or by enumeration in the test).

use nnmilp::milp::{ColKind, LinExpr, Milp, ObjSense, Sense};
use nnmilp::solve::highs::{Highs, GENERIC_READ_FAILURE};
use nnmilp::solve::{solve, solve_file, SolveError, SolveOptions, Status};

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-7 * (1.0 + a.abs().max(b.abs()))
}

fn expr(terms: &[(nnmilp::milp::Col, f64)], constant: f64) -> LinExpr {
    LinExpr {
        terms: terms.to_vec(),
        constant,
    }
}

/// max 3x + 2y + 5  s.t.  x + y <= 4,  x + 3y <= 6,  0 <= x <= 3,  y >= 0.
/// The vertex (3, 1) is optimal: the constraints x <= 3 and x + y <= 4 are tight there, and the
/// objective gradient (3, 2) is a non-negative combination of their normals (1, 0) and (1, 1).
fn tiny_lp() -> Milp {
    let mut m = Milp::new("lp");
    let x = m.add_col("x", 0.0, 3.0, ColKind::Continuous);
    let y = m.add_col("y", 0.0, f64::INFINITY, ColKind::Continuous);
    m.add_row("c1", vec![(x, 1.0), (y, 1.0)], Sense::Le, 4.0);
    m.add_row("c2", vec![(x, 1.0), (y, 3.0)], Sense::Le, 6.0);
    m.set_objective(ObjSense::Maximize, expr(&[(x, 3.0), (y, 2.0)], 5.0));
    m
}

#[test]
fn lp_optimum_with_offset_in_the_models_sense() {
    let m = tiny_lp();
    let sol = solve(&m, &SolveOptions::default()).unwrap();
    assert_eq!(sol.status, Status::Optimal, "{}", sol.status_text);
    let v = sol.values.expect("optimal point");
    assert!(close(v[0], 3.0) && close(v[1], 1.0), "{v:?}");
    assert!(close(sol.objective.unwrap(), 3.0 * 3.0 + 2.0 * 1.0 + 5.0));
    assert!(close(sol.dual_bound.unwrap(), 16.0));
    assert_eq!(sol.gap, Some(0.0));
    assert!(m.max_violation(&v) <= 1e-9);
}

/// max 5x + 4y - 7  s.t.  6x + 4y <= 24,  x + 2y <= 6,  x, y in {0..10} integer; plus a binary b
/// with cost -1 that nothing forces up.
fn tiny_mip(sense: ObjSense) -> Milp {
    let mut m = Milp::new("mip");
    let x = m.add_col("x", 0.0, 10.0, ColKind::Integer);
    let y = m.add_col("y", 0.0, 10.0, ColKind::Integer);
    let b = m.add_col("b", 0.0, 1.0, ColKind::Binary);
    m.add_row("c1", vec![(x, 6.0), (y, 4.0)], Sense::Le, 24.0);
    m.add_row("c2", vec![(x, 1.0), (y, 2.0)], Sense::Le, 6.0);
    m.add_row("c3", vec![(x, 1.0), (y, -1.0)], Sense::Ge, -3.0);
    m.set_objective(sense, expr(&[(x, 5.0), (y, 4.0), (b, -1.0)], -7.0));
    m
}

/// The optimum of `tiny_mip` by enumerating every integer point.
fn enumerate_mip(sense: ObjSense) -> f64 {
    let m = tiny_mip(sense);
    let mut best: Option<f64> = None;
    for x in 0..=10 {
        for y in 0..=10 {
            for b in 0..=1 {
                let p = [x as f64, y as f64, b as f64];
                if m.max_violation(&p) > 0.0 {
                    continue;
                }
                let v = m.objective_value(&p);
                best = Some(match (best, sense) {
                    (None, _) => v,
                    (Some(o), ObjSense::Maximize) => o.max(v),
                    (Some(o), ObjSense::Minimize) => o.min(v),
                });
            }
        }
    }
    best.expect("feasible")
}

#[test]
fn mip_optimum_matches_enumeration_in_both_senses() {
    // By hand for the maximum: the LP optimum (3, 1.5) is fractional; (4, 0) gives 20 - 7 = 13,
    // the best integer point. The minimum is (0, 0) with b = 1: -8.
    assert_eq!(enumerate_mip(ObjSense::Maximize), 13.0);
    assert_eq!(enumerate_mip(ObjSense::Minimize), -8.0);
    for sense in [ObjSense::Maximize, ObjSense::Minimize] {
        let m = tiny_mip(sense);
        let sol = solve(&m, &SolveOptions::default()).unwrap();
        assert_eq!(sol.status, Status::Optimal, "{sense:?}: {}", sol.status_text);
        let want = enumerate_mip(sense);
        let v = sol.values.clone().unwrap();
        assert!(m.max_violation(&v) <= 1e-9, "{v:?}");
        assert!(close(m.objective_value(&v), want), "{sense:?}: {v:?}");
        assert!(close(sol.objective.unwrap(), want), "{sense:?}: {:?}", sol.objective);
        assert!(close(sol.dual_bound.unwrap(), want), "{sense:?}: {:?}", sol.dual_bound);
        assert!(sol.gap.unwrap() <= 1e-9);
    }
}

#[test]
fn infeasible_lp_and_mip_are_reported_infeasible() {
    let mut lp = Milp::new("inf_lp");
    let x = lp.add_col("x", 0.0, 2.0, ColKind::Continuous);
    let y = lp.add_col("y", 0.0, 2.0, ColKind::Continuous);
    lp.add_row("c", vec![(x, 1.0), (y, 1.0)], Sense::Ge, 5.0);
    lp.set_objective(ObjSense::Minimize, LinExpr::var(x));

    // Feasible as an LP (x = y = 0.75), infeasible for binaries.
    let mut mip = Milp::new("inf_mip");
    let a = mip.add_col("a", 0.0, 1.0, ColKind::Binary);
    let b = mip.add_col("b", 0.0, 1.0, ColKind::Binary);
    mip.add_row("c", vec![(a, 1.0), (b, 1.0)], Sense::Eq, 1.5);
    mip.set_objective(ObjSense::Maximize, LinExpr::var(a));

    for m in [lp, mip] {
        let sol = solve(&m, &SolveOptions::default()).unwrap();
        assert_eq!(sol.status, Status::Infeasible, "{}: {}", m.name, sol.status_text);
        assert!(sol.values.is_none() && sol.objective.is_none(), "{}", m.name);
    }
}

#[test]
fn unbounded_lp_is_not_reported_optimal() {
    let mut m = Milp::new("unb");
    let x = m.add_col("x", 0.0, f64::INFINITY, ColKind::Continuous);
    let y = m.add_col("y", f64::NEG_INFINITY, f64::INFINITY, ColKind::Continuous);
    m.add_row("c", vec![(x, 1.0), (y, -1.0)], Sense::Le, 1.0);
    m.set_objective(ObjSense::Maximize, expr(&[(x, 1.0), (y, 1.0)], 0.0));
    let sol = solve(&m, &SolveOptions::default()).unwrap();
    // HiGHS may only know "unbounded or infeasible" after presolve; that must not pass for a
    // proof of infeasibility.
    assert!(
        matches!(sol.status, Status::Unbounded | Status::Other),
        "{:?} {}",
        sol.status,
        sol.status_text
    );
    assert!(sol.dual_bound.is_none());
}

/// A multi-dimensional knapsack over 60 binaries with awkward coefficients: not solved at the
/// root, so a near-zero time limit stops HiGHS early.
fn hard_knapsack() -> Milp {
    let mut m = Milp::new("knap");
    let mut state: u64 = 12345;
    let mut next = || {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((state >> 33) % 1000) as f64 + 1.0
    };
    let cols: Vec<_> = (0..60)
        .map(|i| m.add_col(format!("b{i}"), 0.0, 1.0, ColKind::Binary))
        .collect();
    for r in 0..5 {
        let terms: Vec<_> = cols.iter().map(|&c| (c, next())).collect();
        let cap = terms.iter().map(|t| t.1).sum::<f64>() / 2.0;
        m.add_row(format!("cap{r}"), terms, Sense::Le, cap.floor());
    }
    let obj: Vec<_> = cols.iter().map(|&c| (c, next())).collect();
    m.set_objective(ObjSense::Maximize, expr(&obj, 0.0));
    m
}

#[test]
fn tiny_time_limit_stops_with_a_consistent_answer() {
    let m = hard_knapsack();
    let opts = SolveOptions {
        time_limit: Some(1e-3),
        ..SolveOptions::default()
    };
    let sol = solve(&m, &opts).unwrap();
    // Whether HiGHS got anywhere in a millisecond depends on the machine; what it reports must
    // be coherent either way.
    assert!(
        matches!(sol.status, Status::TimeLimit | Status::Optimal),
        "{:?} {}",
        sol.status,
        sol.status_text
    );
    assert!(sol.seconds < 5.0, "ran {} s", sol.seconds);
    if let Some(v) = &sol.values {
        assert!(m.max_violation(v) <= 1e-6);
        assert!(close(sol.objective.unwrap(), m.objective_value(v)));
        if let Some(bound) = sol.dual_bound {
            // Maximising: the bound is above every feasible value.
            assert!(
                bound >= sol.objective.unwrap() - 1e-6,
                "bound {bound} < {:?}",
                sol.objective
            );
        }
    }
    if sol.status == Status::TimeLimit {
        assert!(sol.gap.is_none_or(|g| g >= 0.0));
    }
}

#[test]
fn indicators_are_refused() {
    let mut m = Milp::new("ind");
    let x = m.add_col("x", 0.0, 5.0, ColKind::Continuous);
    let z = m.add_col("z", 0.0, 1.0, ColKind::Binary);
    m.add_indicator("i1", z, true, vec![(x, 1.0)], Sense::Le, 0.0);
    m.add_indicator("i2", z, false, vec![(x, 1.0)], Sense::Ge, 1.0);
    m.set_objective(ObjSense::Maximize, LinExpr::var(x));
    match solve(&m, &SolveOptions::default()) {
        Err(e @ SolveError::Indicators { count: 2 }) => assert!(e.to_string().contains("big-M"), "{e}"),
        other => panic!("expected an indicator refusal, got {other:?}"),
    }
    // Without them it is an ordinary (unconstrained) MIP: x = 5.
    let sol = solve(&m.without_indicators(), &SolveOptions::default()).unwrap();
    assert!(close(sol.objective.unwrap(), 5.0));
}

#[test]
fn bad_options_are_errors_not_panics() {
    let m = tiny_lp();
    for opts in [
        SolveOptions {
            time_limit: Some(-1.0),
            ..SolveOptions::default()
        },
        SolveOptions {
            mip_rel_gap: Some(f64::NAN),
            ..SolveOptions::default()
        },
    ] {
        assert!(matches!(solve(&m, &opts), Err(SolveError::Option(_))), "{opts:?}");
    }
}

#[test]
fn changing_thread_counts_on_one_thread_works() {
    // HiGHS's per-thread scheduler refuses a second, different thread count unless restarted.
    let m = tiny_mip(ObjSense::Maximize);
    for threads in [Some(1), Some(2), None, Some(1)] {
        let opts = SolveOptions {
            threads,
            ..SolveOptions::default()
        };
        let sol = solve(&m, &opts).unwrap_or_else(|e| panic!("threads {threads:?}: {e}"));
        assert!(close(sol.objective.unwrap(), 13.0), "threads {threads:?}");
    }
}

#[test]
fn repeated_solves_give_identical_answers() {
    let m = hard_knapsack();
    let opts = SolveOptions {
        threads: Some(1),
        ..SolveOptions::default()
    };
    let a = solve(&m, &opts).unwrap();
    let b = solve(&m, &opts).unwrap();
    assert_eq!(a.status, Status::Optimal);
    assert_eq!(a.values, b.values);
    assert_eq!(a.objective, b.objective);
}

#[test]
fn instance_can_be_changed_and_rerun() {
    // The bound-tightening pattern: one model, several objectives and bounds.
    let m = tiny_lp();
    let mut h = Highs::new().unwrap();
    h.pass_milp(&m).unwrap();
    h.run().unwrap();
    assert!(close(h.solution().unwrap().objective.unwrap(), 16.0));

    // Minimise y alone (cost of x to 0): y = 0, objective = the offset 5.
    h.change_col_cost(0, 0.0).unwrap();
    h.change_col_cost(1, 1.0).unwrap();
    h.set_objective_sense(ObjSense::Minimize).unwrap();
    h.run().unwrap();
    let s = h.solution().unwrap();
    assert_eq!(s.status, Status::Optimal);
    assert!(close(s.objective.unwrap(), 5.0), "{:?}", s.objective);

    // Maximise y with x fixed to 0: x + 3y <= 6 gives y = 2.
    h.set_objective_sense(ObjSense::Maximize).unwrap();
    h.change_col_bounds(0, 0.0, 0.0).unwrap();
    h.run().unwrap();
    let s = h.solution().unwrap();
    assert!(close(s.values.unwrap()[1], 2.0));

    // An infinite bound passes as HiGHS's infinity: with x free below, x + y <= 4 and
    // x + 3y <= 6 let y grow without bound as x falls.
    h.change_col_bounds(0, f64::NEG_INFINITY, 0.0).unwrap();
    h.run().unwrap();
    let s = h.solution().unwrap();
    assert!(
        matches!(s.status, Status::Unbounded | Status::Other),
        "{}",
        s.status_text
    );
    assert!(matches!(h.change_col_cost(7, 1.0), Err(SolveError::Highs(_))));
}

#[test]
fn file_round_trip_matches_in_process_solve() {
    // Free MPS written by hand for tiny_mip(Maximize) without its offset (files carry none).
    let mps = "NAME mip\nOBJSENSE\n    MAX\nROWS\n N obj\n L c1\n L c2\n G c3\nCOLUMNS\n \
               MARKER 'MARKER' 'INTORG'\n x obj 5 c1 6\n x c2 1 c3 1\n y obj 4 c1 4\n y c2 2 c3 -1\n \
               b obj -1\n MARKER 'MARKER' 'INTEND'\nRHS\n rhs c1 24 c2 6\n rhs c3 -3\nBOUNDS\n \
               UP bnd x 10\n UP bnd y 10\n UP bnd b 1\nENDATA\n";
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("mip.mps");
    std::fs::write(&path, mps).unwrap();
    let sol = solve_file(&path, &SolveOptions::default()).unwrap();
    assert_eq!(sol.status, Status::Optimal, "{}", sol.status_text);
    let want = enumerate_mip(ObjSense::Maximize) + 7.0;
    assert!(close(sol.objective.unwrap(), want), "{:?}", sol.objective);
    assert!(close(sol.dual_bound.unwrap(), want));

    match solve_file(&dir.path().join("missing.mps"), &SolveOptions::default()) {
        Err(SolveError::File { path, .. }) => assert!(path.ends_with("missing.mps")),
        other => panic!("expected a file error, got {other:?}"),
    }
    // An LP file cut off in a row: HiGHS's reader says where, and that reaches the error.
    let bad = dir.path().join("bad.lp");
    std::fs::write(&bad, "Maximize\n obj: x + y\nSubject To\n c1: x + y <=\nEnd\n").unwrap();
    match solve_file(&bad, &SolveOptions::default()) {
        Err(e @ SolveError::File { .. }) => {
            let msg = e.to_string();
            assert!(msg.starts_with(&bad.display().to_string()), "{msg}");
            assert!(!msg.contains(GENERIC_READ_FAILURE) && msg.contains("bad.lp:5"), "{msg}");
        }
        other => panic!("expected a file error, got {other:?}"),
    }
}

#[test]
fn a_start_point_is_the_first_incumbent() {
    // Stopped at once, HiGHS still holds the feasible start (all items left out, value 0).
    let m = hard_knapsack();
    let zero = vec![0.0; m.cols().len()];
    let opts = SolveOptions {
        time_limit: Some(1e-3),
        ..SolveOptions::default()
    };
    let sol = nnmilp::solve::solve_from(&m, &opts, Some(&zero)).unwrap();
    let v = sol.values.expect("the start is a feasible point");
    assert!(m.max_violation(&v) <= 1e-6);
    assert!(sol.objective.unwrap() >= -1e-9);
    // Started from the optimum, the answer is the enumerated optimum.
    let tiny = tiny_mip(ObjSense::Maximize);
    let best = solve(&tiny, &SolveOptions::default()).unwrap().values.unwrap();
    let again = nnmilp::solve::solve_from(&tiny, &SolveOptions::default(), Some(&best)).unwrap();
    assert_eq!(again.status, Status::Optimal);
    assert!(close(again.objective.unwrap(), enumerate_mip(ObjSense::Maximize)));
    // A start of the wrong size is an error, not a crash.
    let err = nnmilp::solve::solve_from(&tiny, &SolveOptions::default(), Some(&[1.0])).unwrap_err();
    assert!(err.to_string().contains("start point"), "{err}");
}
