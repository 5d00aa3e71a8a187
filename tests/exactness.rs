//! The core claim of nnmilp: over the input box, the lowered MILP's feasible set is exactly the
//! graph of the network. Checked on random small networks built directly in the IR:
//!
//! - with the inputs fixed to a point, minimising and maximising each output with HiGHS both
//!   give the forward pass (so the feasible output is unique and correct), and every hidden
//!   value HiGHS finds is the forward pass's;
//! - the point built from the forward pass (x = max(pre, 0), s = max(-pre, 0), z = [pre <= 0],
//!   pool binaries at the argmax) satisfies the big-M, indicator and combined models;
//! - interval bounds contain every sampled forward pass.

use crate::common::nets::{build, point_in, Family, Rng};
use nnmilp::bounds::{interval, Bounds, InputBox};
use nnmilp::ir::{Handle, Network, Op};
use nnmilp::lower::{lower, lower_consuming, Encoding, LowerOptions, Lowered};
use nnmilp::milp::{LinExpr, ObjSense};
use nnmilp::solve::{solve, SolveOptions, Status};
use proptest::prelude::*;
use std::collections::BTreeMap;

fn close(a: f64, b: f64, tol: f64) -> bool {
    (a - b).abs() <= tol * (1.0 + a.abs().max(b.abs()))
}

fn lowered(net: &Network, bounds: &Bounds, encoding: Encoding) -> Lowered {
    lower(net, bounds, LowerOptions { encoding }).expect("finite interval bounds over a finite box")
}

/// Fixes the inputs to a point of the box, then minimises and maximises every output with HiGHS:
/// both must be the forward pass, and so must every layer value of the solutions.
fn check_bigm_exact(net: &Network, region: &InputBox, seed: u64) -> Result<(), TestCaseError> {
    let bounds = interval(net, region);
    let low = lowered(net, &bounds, Encoding::BigM);
    let mut rng = Rng(seed ^ 0xA5A5_A5A5);
    let input = point_in(&mut rng, region);
    let truth = net.forward_all(&input).unwrap();
    let out = &truth[net.output().index()];
    let mut milp = low.milp.clone();
    for (&c, &v) in low.inputs.iter().zip(&input) {
        milp.set_col_bounds(c, v, v);
    }
    let labels = net.info().labels();
    let opts = SolveOptions {
        threads: Some(1),
        ..SolveOptions::default()
    };
    for (j, &y) in low.outputs.iter().enumerate() {
        for sense in [ObjSense::Minimize, ObjSense::Maximize] {
            milp.set_objective(sense, LinExpr::var(y));
            let sol = solve(&milp, &opts).map_err(|e| TestCaseError::fail(e.to_string()))?;
            prop_assert_eq!(sol.status, Status::Optimal, "{:?} y_{}: {}", sense, j, sol.status_text);
            let got = sol.objective.unwrap();
            prop_assert!(
                close(got, out[j], 1e-6),
                "{:?} y_{} = {} but the network gives {} at {:?}",
                sense,
                j,
                got,
                out[j],
                input
            );
            let x = sol.values.unwrap();
            prop_assert!(milp.max_violation(&x) <= 1e-6);
            // Every layer's value, read back through the lowering's expressions.
            for h in net.handles() {
                for (k, e) in (0..net.layer(h).size()).map(|k| (k, low.value(net, h, k))) {
                    let v = e.eval(&x);
                    let want = truth[h.index()][k];
                    prop_assert!(
                        close(v, want, 1e-6),
                        "layer {} unit {}: MILP {} vs network {}",
                        h.index(),
                        k,
                        v,
                        want
                    );
                }
            }
            // And the unstable ReLUs by their column names.
            for h in net.handles() {
                if let Op::Relu { input: pre } = net.layer(h).op {
                    let (lo, hi) = bounds.layer(pre);
                    for k in 0..net.layer(h).size() {
                        if lo[k] < 0.0 && hi[k] > 0.0 {
                            let name = format!("x_{}_{k}", labels[h.index()]);
                            let c = milp.cols().iter().position(|c| c.name == name);
                            prop_assert!(c.is_some(), "no column {}", name);
                            let v = x[c.unwrap()];
                            let want = truth[h.index()][k];
                            prop_assert!(close(v, want, 1e-6), "{} = {} vs network {}", name, v, want);
                        }
                    }
                }
            }
        }
    }
    Ok(())
}

/// The values of every column at the forward pass of `input`, from the column names.
pub(crate) fn columns_from_forward(net: &Network, low: &Lowered, input: &[f64]) -> Vec<f64> {
    let truth = net.forward_all(input).unwrap();
    let labels = net.info().labels();
    let by_label: BTreeMap<&str, Handle> = net.handles().map(|h| (labels[h.index()].as_str(), h)).collect();
    let layer = |label: &str| *by_label.get(label).unwrap_or_else(|| panic!("no layer {label}"));
    let pre_of = |h: Handle, k: usize| match net.layer(h).op {
        Op::Relu { input } => truth[input.index()][k],
        ref op => panic!("{} is not a ReLU", op.kind()),
    };
    let num = |s: &str| s.parse::<usize>().unwrap();
    low.milp
        .cols()
        .iter()
        .map(|c| {
            let parts: Vec<&str> = c.name.split('_').collect();
            match parts.as_slice() {
                ["in", j] => input[num(j)],
                ["y", j] => truth[net.output().index()][num(j)],
                ["x", l, j] | ["m", l, j] | ["a", l, j] => truth[layer(l).index()][num(j)],
                ["s", l, j] => (-pre_of(layer(l), num(j))).max(0.0),
                ["z", l, j] => f64::from(u8::from(pre_of(layer(l), num(j)) <= 0.0)),
                ["zp", l, j, i] => {
                    let h = layer(l);
                    let Op::MaxPool { input: src, windows } = &net.layer(h).op else {
                        panic!("{l} is not a max-pool");
                    };
                    let w = &windows[num(j)];
                    let vals: Vec<f64> = w.iter().map(|&k| truth[src.index()][k as usize]).collect();
                    let first_max = (0..vals.len()).find(|&p| vals[p] == truth[h.index()][num(j)]).unwrap();
                    f64::from(u8::from(num(i) == first_max))
                }
                _ => panic!("unexpected column name {}", c.name),
            }
        })
        .collect()
}

/// The forward pass, written as a MILP point, satisfies the model of every encoding (so no
/// encoding cuts off the true behaviour), and agrees with the lowering's value expressions.
fn check_forward_point_feasible(net: &Network, region: &InputBox, seed: u64) -> Result<(), TestCaseError> {
    let bounds = interval(net, region);
    let mut rng = Rng(seed ^ 0x5A5A_5A5A);
    for encoding in [Encoding::BigM, Encoding::Indicator, Encoding::Both] {
        let low = lowered(net, &bounds, encoding);
        if encoding == Encoding::Indicator {
            prop_assert!(low.milp.indicators().len() >= low.stats.relu_unstable * 2);
        }
        for _ in 0..4 {
            let input = point_in(&mut rng, region);
            let x = columns_from_forward(net, &low, &input);
            let viol = low.milp.max_violation(&x);
            prop_assert!(viol <= 1e-9, "{:?}: violation {} at {:?}", encoding, viol, input);
            let truth = net.forward_all(&input).unwrap();
            for h in net.handles() {
                for (k, e) in (0..net.layer(h).size()).map(|k| (k, low.value(net, h, k))) {
                    prop_assert!(close(e.eval(&x), truth[h.index()][k], 1e-9));
                }
            }
        }
    }
    Ok(())
}

fn family() -> impl Strategy<Value = Family> {
    prop_oneof![
        Just(Family::Mlp),
        Just(Family::Conv),
        Just(Family::Pool),
        Just(Family::Residual),
        Just(Family::BatchNorm),
        Just(Family::InputRelu),
        Just(Family::Mixed),
    ]
}

macro_rules! exact_family {
    ($name:ident, $family:expr) => {
        proptest! {
            #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]
            #[test]
            fn $name(seed in any::<u64>()) {
                let (net, region) = build($family, seed);
                check_bigm_exact(&net, &region, seed)?;
            }
        }
    };
}

exact_family!(bigm_exact_dense_mlp, Family::Mlp);
exact_family!(bigm_exact_conv, Family::Conv);
exact_family!(bigm_exact_maxpool, Family::Pool);
exact_family!(bigm_exact_residual_sum, Family::Residual);
exact_family!(bigm_exact_batchnorm_diagonal, Family::BatchNorm);
exact_family!(bigm_exact_relu_on_input, Family::InputRelu);
exact_family!(bigm_exact_mixed, Family::Mixed);

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn forward_point_satisfies_every_encoding(fam in family(), seed in any::<u64>()) {
        let (net, region) = build(fam, seed);
        check_forward_point_feasible(&net, &region, seed)?;
    }

    #[test]
    fn interval_bounds_contain_sampled_forward_passes(fam in family(), seed in any::<u64>()) {
        let (net, region) = build(fam, seed);
        let bounds = interval(&net, &region);
        let mut rng = Rng(seed ^ 0x0F0F_0F0F);
        for _ in 0..200 {
            let input = point_in(&mut rng, &region);
            let values = net.forward_all(&input).unwrap();
            prop_assert!(bounds.contains(&values, 1e-9), "input {:?}", input);
        }
    }
}

/// Lowering a network by value (freeing each layer's weights once lowered, what a task that
/// only writes its model does) gives the model the borrowing lowering gives, in every encoding
/// and every family: the written bytes depend only on the model.
#[test]
fn consuming_lowering_is_the_borrowing_one() {
    for seed in 0..100u64 {
        for fam in Family::ALL {
            let (net, region) = build(fam, seed);
            let bounds = interval(&net, &region);
            for encoding in [Encoding::BigM, Encoding::Indicator, Encoding::Both] {
                let options = LowerOptions { encoding };
                let kept = lower(&net, &bounds, options).expect("finite bounds");
                let taken = lower_consuming(net.clone(), &bounds, options).expect("finite bounds");
                assert!(
                    kept.milp == taken.milp,
                    "{fam:?} seed {seed} {encoding:?}: models differ"
                );
                assert_eq!(
                    (&kept.inputs, &kept.outputs, &kept.binaries, kept.stats),
                    (&taken.inputs, &taken.outputs, &taken.binaries, taken.stats),
                    "{fam:?} seed {seed} {encoding:?}"
                );
            }
        }
    }
}

/// The generators cover what the properties claim to cover (unstable ReLUs, stable ones, pool
/// binaries, sums), so a property cannot pass by never meeting the hard case.
#[test]
fn generated_networks_exercise_every_construct() {
    let mut totals = [0usize; 5];
    for seed in 0..200u64 {
        for fam in Family::ALL {
            let (net, region) = build(fam, seed);
            let low = lowered(&net, &interval(&net, &region), Encoding::BigM);
            totals[0] += low.stats.relu_unstable;
            totals[1] += low.stats.relu_stable_active;
            totals[2] += low.stats.relu_stable_inactive;
            totals[3] += low.stats.pool_binaries;
            totals[4] += net.layers().iter().filter(|l| matches!(l.op, Op::Sum { .. })).count();
        }
    }
    assert!(
        totals[..4].iter().all(|&t| t > 1000) && totals[4] > 100,
        "unstable, active, inactive, pool binaries, sums: {totals:?}"
    );
}

/// The facts validation returns are the network's: each layer's readers are exactly the
/// layers whose op names it (once each, in order), labels count the nonlinear layers from 1,
/// and the unit counts add up the ReLU and max-pool sizes.
#[test]
fn network_info_states_the_facts_of_the_network() {
    for (f, &family) in Family::ALL.iter().enumerate() {
        for seed in 0..3u64 {
            let (net, _) = build(family, 4200 + 10 * f as u64 + seed);
            let info = net.info();
            let mut nonlinear = 0;
            let (mut relu, mut pool) = (0, 0);
            for h in net.handles() {
                let readers: Vec<Handle> = net
                    .handles()
                    .filter(|r| net.layer(*r).op.inputs().contains(&h))
                    .collect();
                assert_eq!(
                    info.consumers(h),
                    &readers[..],
                    "{family:?} {seed}: readers of layer {}",
                    h.index()
                );
                let op = &net.layer(h).op;
                let want = match op {
                    Op::Relu { .. } | Op::MaxPool { .. } => {
                        nonlinear += 1;
                        format!("L{nonlinear}")
                    }
                    _ => format!("N{}", h.index()),
                };
                assert_eq!(info.label(h), want);
                match op {
                    Op::Relu { .. } => relu += net.layer(h).size(),
                    Op::MaxPool { .. } => pool += net.layer(h).size(),
                    _ => {}
                }
            }
            assert_eq!(info.labels().len(), net.layers().len());
            assert_eq!(net.count_units(), (relu, pool));
        }
    }
}

/// Lowering spells every name with `milp::name`, and a model of generated names refuses a
/// repeat where it is added; the objective is kept sorted and merged whatever order it is given in.
#[test]
fn milp_keeps_its_invariants_where_the_model_is_built() {
    use nnmilp::milp::{name, ColKind, Milp, Sense};
    use std::panic::{catch_unwind, AssertUnwindSafe};
    assert_eq!(name("zp", [&"L3", &7, &0]), "zp_L3_7_0");
    let mut m = Milp::with_generated_names("t");
    let x = m.add_col(name("x", [&0]), 0.0, 1.0, ColKind::Continuous);
    let y = m.add_col(name("x", [&1]), 0.0, 1.0, ColKind::Continuous);
    m.add_row("r", vec![(y, 1.0), (x, 2.0)], Sense::Le, 1.0);
    let mut obj = LinExpr::var(y);
    obj.add_term(x, 1.0);
    obj.add_term(y, 2.0);
    obj.add_term(x, -1.0);
    m.set_objective(ObjSense::Maximize, obj);
    assert_eq!(m.objective().terms, [(y, 3.0)]);
    assert_eq!(m.rows()[0].terms, [(x, 2.0), (y, 1.0)]);

    let message = |f: &mut dyn FnMut()| -> String {
        let e = catch_unwind(AssertUnwindSafe(f)).expect_err("the model must refuse this");
        e.downcast_ref::<String>().cloned().unwrap_or_default()
    };
    let mut dup = m.clone();
    let e = message(&mut || {
        dup.add_col("x_1", 0.0, 1.0, ColKind::Continuous);
    });
    assert!(e.contains("a second column named x_1"), "{e}");
    let e = message(&mut || dup.add_row("r", vec![(x, 1.0)], Sense::Ge, 0.0));
    assert!(e.contains("a second row named r"), "{e}");
    let mut other = Milp::new("other");
    // A hand-built model takes a repeated name (the writers refuse it); a generated one not.
    let mut hand = Milp::new("hand");
    hand.add_col("x_0", 0.0, 1.0, ColKind::Continuous);
    hand.add_col("x_0", 0.0, 1.0, ColKind::Continuous);
    assert_eq!(hand.cols().len(), 2);
    let e = message(&mut || other.add_row("q", vec![(y, 1.0)], Sense::Ge, 0.0));
    assert!(e.contains("a column of another model"), "{e}");
    // Dropping indicators frees their names.
    let z = m.add_col("z", 0.0, 1.0, ColKind::Binary);
    m.add_indicator("ind", z, true, vec![(x, 1.0)], Sense::Le, 0.0);
    let mut plain = m.without_indicators();
    plain.add_row("ind", vec![(x, 1.0)], Sense::Le, 0.0);
    assert_eq!(plain.rows().len(), 2);
}
