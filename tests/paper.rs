//! The paper's problem (issue 10): the split L1 formulation against the textbook `d_j` rows,
//! the compiler's presolve, margins the replay can always meet, and coefficient hygiene.
//!
//! Networks are written as ONNX files here (Gemm + Relu, float64 or float32 initializers, as
//! scikit-learn and numpy exports are), so every test runs the real task end to end.

use crate::common::nets::Rng;
use crate::common::{scip, write_npy};
use nnmilp::lower::presolve::presolve;
use nnmilp::lower::DistanceForm;
use nnmilp::milp::{ColKind, Milp, ObjSense, Sense};
use nnmilp::solve::{self, SolveOptions, Status};
use nnmilp::tasks::adversarial::{self, MarginKind, Report};
use nnmilp::tasks::Norm;
use onnx_protobuf::tensor_proto::DataType;
use onnx_protobuf::{
    tensor_shape_proto, type_proto, AttributeProto, GraphProto, Message, ModelProto, NodeProto, OperatorSetIdProto,
    TensorProto, TensorShapeProto, TypeProto, ValueInfoProto,
};
use std::path::{Path, PathBuf};

/// One dense layer: `weights[o][i]`, `bias[o]`.
struct Dense {
    weights: Vec<Vec<f64>>,
    bias: Vec<f64>,
}

fn value_info(name: &str, n: usize, elem: DataType) -> ValueInfoProto {
    let mut shape = TensorShapeProto::new();
    for d in [1, n] {
        let mut dim = tensor_shape_proto::Dimension::new();
        dim.value = Some(tensor_shape_proto::dimension::Value::DimValue(d as i64));
        shape.dim.push(dim);
    }
    let mut t = type_proto::Tensor::new();
    t.elem_type = elem as i32;
    t.shape = Some(shape).into();
    let mut ty = TypeProto::new();
    ty.value = Some(type_proto::Value::TensorType(t));
    let mut v = ValueInfoProto::new();
    v.name = name.into();
    v.type_ = Some(ty).into();
    v
}

fn tensor(name: &str, dims: &[usize], data: &[f64], elem: DataType) -> TensorProto {
    let mut t = TensorProto::new();
    t.name = name.into();
    t.dims = dims.iter().map(|&d| d as i64).collect();
    t.data_type = elem as i32;
    match elem {
        DataType::DOUBLE => t.double_data = data.to_vec(),
        _ => t.float_data = data.iter().map(|&v| v as f32).collect(),
    }
    t
}

/// Writes `Gemm (+ Relu)` per layer, ReLU after every layer but the last.
fn write_mlp(path: &Path, layers: &[Dense], elem: DataType) {
    let mut g = GraphProto::new();
    g.name = "mlp".into();
    let n_in = layers[0].weights[0].len();
    g.input.push(value_info("x", n_in, elem));
    let mut cur = "x".to_string();
    for (k, l) in layers.iter().enumerate() {
        let (n_out, n_prev) = (l.weights.len(), l.weights[0].len());
        let flat: Vec<f64> = l.weights.iter().flatten().copied().collect();
        g.initializer
            .push(tensor(&format!("W{k}"), &[n_out, n_prev], &flat, elem));
        g.initializer.push(tensor(&format!("B{k}"), &[n_out], &l.bias, elem));
        let mut gemm = NodeProto::new();
        gemm.op_type = "Gemm".into();
        gemm.name = format!("gemm{k}");
        gemm.input = vec![cur.clone(), format!("W{k}"), format!("B{k}")];
        let last = k + 1 == layers.len();
        let out = if last { "y".to_string() } else { format!("g{k}") };
        gemm.output = vec![out.clone()];
        let mut trans = AttributeProto::new();
        trans.name = "transB".into();
        trans.i = 1;
        trans.type_ = onnx_protobuf::attribute_proto::AttributeType::INT.into();
        gemm.attribute.push(trans);
        g.node.push(gemm);
        cur = out;
        if !last {
            let mut relu = NodeProto::new();
            relu.op_type = "Relu".into();
            relu.name = format!("relu{k}");
            relu.input = vec![cur.clone()];
            cur = format!("r{k}");
            relu.output = vec![cur.clone()];
            g.node.push(relu);
        }
        if last {
            g.output.push(value_info("y", n_out, elem));
        }
    }
    let mut m = ModelProto::new();
    m.ir_version = 8;
    let mut op = OperatorSetIdProto::new();
    op.version = 13;
    m.opset_import.push(op);
    m.graph = Some(g).into();
    std::fs::write(path, m.write_to_bytes().expect("encode ONNX")).expect("write ONNX");
}

fn random_mlp(rng: &mut Rng, sizes: &[usize]) -> Vec<Dense> {
    sizes
        .windows(2)
        .map(|w| Dense {
            weights: (0..w[1]).map(|_| (0..w[0]).map(|_| rng.weight()).collect()).collect(),
            bias: (0..w[1]).map(|_| rng.uniform(-0.5, 0.5)).collect(),
        })
        .collect()
}

/// An image with pixels at both box faces (directions the box fixes) and in between.
fn random_image(rng: &mut Rng, n: usize) -> Vec<f64> {
    (0..n)
        .map(|_| match rng.range(0, 3) {
            0 => 0.0,
            1 => 1.0,
            _ => rng.unit(),
        })
        .collect()
}

struct Case {
    _dir: tempfile::TempDir,
    net: PathBuf,
    image: PathBuf,
}

fn case(layers: &[Dense], image: &[f64], elem: DataType) -> Case {
    let dir = tempfile::tempdir().expect("temp dir");
    let net = dir.path().join("net.onnx");
    let img = dir.path().join("img.npy");
    write_mlp(&net, layers, elem);
    write_npy(&img, image);
    Case {
        net,
        image: img,
        _dir: dir,
    }
}

fn config(c: &Case) -> adversarial::Config {
    adversarial::Config {
        solve: true,
        solve_options: SolveOptions {
            mip_rel_gap: Some(0.0),
            threads: Some(1),
            ..SolveOptions::default()
        },
        ..adversarial::Config::new(&c.net, c.image.to_string_lossy().into_owned())
    }
}

fn optimum(r: &Report) -> Option<f64> {
    let s = r.solve.as_ref().expect("solved");
    match s.status {
        Status::Optimal => Some(s.objective.expect("objective")),
        Status::Infeasible => None,
        other => panic!("unexpected status {other:?}"),
    }
}

fn example_distance(r: &Report) -> f64 {
    r.solve
        .as_ref()
        .unwrap()
        .example
        .as_ref()
        .expect("replayed example")
        .distance
}

#[test]
fn split_and_rows_give_the_same_optimum_on_random_nets() {
    let mut solved = 0;
    for seed in 0..12u64 {
        let mut rng = Rng(seed);
        let n = rng.range(3, 6);
        let sizes = [n, rng.range(3, 6), rng.range(2, 5), 3];
        let layers = random_mlp(&mut rng, &sizes);
        let image = random_image(&mut rng, n);
        let c = case(&layers, &image, DataType::DOUBLE);
        let norm = if seed % 3 == 2 { Norm::Linf } else { Norm::L1 };
        let max_dist = (seed % 4 == 1).then_some(1.5);
        let run = |form| {
            adversarial::run(&adversarial::Config {
                norm,
                max_dist,
                margin_kind: Some(MarginKind::Absolute),
                margin: 0.1,
                distance_form: form,
                ..config(&c)
            })
            .unwrap_or_else(|e| panic!("seed {seed} {form:?}: {e}"))
        };
        let (split, rows) = (run(DistanceForm::Split), run(DistanceForm::Rows));
        let (a, b) = (optimum(&split), optimum(&rows));
        match (a, b) {
            (Some(a), Some(b)) => {
                assert!((a - b).abs() <= 1e-6 * (1.0 + b), "seed {seed}: split {a} vs rows {b}");
                assert!((example_distance(&split) - a).abs() <= 1e-5 * (1.0 + a), "seed {seed}");
                solved += 1;
            }
            (None, None) => {}
            _ => panic!("seed {seed}: split {a:?} vs rows {b:?}"),
        }
        // The split form has no d_j columns and no distance rows: 2n rows fewer for L1; Linf
        // keeps a row only for a direction the box lets an input move in.
        if norm == Norm::L1 {
            assert_eq!(split.model.rows + 2 * n, rows.model.rows, "seed {seed}");
            let moving = image
                .iter()
                .map(|&v| (v < 1.0) as usize + (v > 0.0) as usize)
                .sum::<usize>();
            assert_eq!(split.presolve.split_columns, moving, "seed {seed}");
            assert_eq!(split.model.columns + 2 * n, rows.model.columns + moving, "seed {seed}");
        } else {
            assert!(split.model.rows < rows.model.rows, "seed {seed}");
        }
    }
    assert!(solved >= 4, "only {solved} of 12 random cases had an example");
}

#[test]
fn split_and_rows_agree_with_indicators_in_scip() {
    // SCIP reads the indicator encoding (HiGHS does not); both forms, written as MPS.
    for seed in [3u64, 7] {
        let mut rng = Rng(seed);
        let layers = random_mlp(&mut rng, &[4, 5, 4, 3]);
        let image = random_image(&mut rng, 4);
        let c = case(&layers, &image, DataType::DOUBLE);
        let mut optima = Vec::new();
        for form in [DistanceForm::Split, DistanceForm::Rows] {
            let file = c.net.with_file_name(format!("ind_{}.mps", form.name()));
            let r = adversarial::run(&adversarial::Config {
                encoding: nnmilp::lower::Encoding::Indicator,
                margin_kind: Some(MarginKind::Absolute),
                margin: 0.1,
                distance_form: form,
                output: Some(file.to_string_lossy().into_owned()),
                ..config(&c)
            })
            .unwrap();
            let highs = optimum(&r).expect("these cases have an example");
            let s = scip(&file).objective;
            assert!(
                (s - highs).abs() <= 1e-6 * (1.0 + highs),
                "seed {seed} {form:?}: SCIP {s} vs HiGHS {highs}"
            );
            optima.push(s);
        }
        assert!(
            (optima[0] - optima[1]).abs() <= 1e-6 * (1.0 + optima[1]),
            "seed {seed}: {optima:?}"
        );
    }
}

/// A model with one of each reduction: a fixed column, a row left empty by it, and an input
/// split around a point.
#[test]
fn presolve_reductions_keep_the_optimum() {
    let mut m = Milp::new("p");
    let x = m.add_col("x", 0.0, 4.0, ColKind::Continuous);
    let f = m.add_col("f", 2.5, 2.5, ColKind::Continuous);
    let z = m.add_col("z", 0.0, 1.0, ColKind::Binary);
    m.add_row("r1", vec![(x, 1.0), (f, 1.0), (z, 2.0)], Sense::Ge, 4.0);
    m.add_row("empty", vec![(f, 2.0)], Sense::Le, 6.0);
    m.add_row("r2", vec![(x, 1.0), (z, -3.0)], Sense::Le, 0.5);
    m.set_objective(
        ObjSense::Minimize,
        nnmilp::milp::LinExpr {
            terms: vec![(x, 1.0), (f, 1.0), (z, 0.25)],
            constant: 0.0,
        },
    );
    let opts = SolveOptions {
        mip_rel_gap: Some(0.0),
        ..SolveOptions::default()
    };
    let before = solve::solve(&m, &opts).unwrap();
    let p = presolve(m.clone(), None);
    assert_eq!((p.stats.fixed_columns, p.stats.empty_rows), (1, 1));
    assert_eq!((p.milp.cols().len(), p.milp.rows().len()), (2, 2));
    let after = solve::solve(&p.milp, &opts).unwrap();
    let (a, b) = (after.objective.unwrap(), before.objective.unwrap());
    assert!((a - b).abs() < 1e-9, "presolved {a} vs original {b}");
    // A violated constant row is kept, so that the solver reports the infeasibility.
    m.add_row("violated", vec![(f, 1.0)], Sense::Ge, 3.0);
    let p = presolve(m.clone(), None);
    assert_eq!(p.stats.empty_rows, 1);
    assert_eq!(solve::solve(&p.milp, &opts).unwrap().status, Status::Infeasible);
}

/// A net whose logits are negative: `y0 = -1`, `y1 = -3 + 4 x0` (through a ReLU of `x0`). From
/// the image (0, 0) (class 0), target 1 with the relative margin 0.2: `y1 >= 1.2 y0 = -1.2`
/// holds from `x0 = 0.45`, where `y1 = -1.2 < y0`, so class 0 still wins; the magnitude margin
/// `y1 >= y0 + 0.2 |y0| = -0.8` needs `x0 = 0.55`, where class 1 wins.
fn negative_logits() -> Vec<Dense> {
    vec![
        Dense {
            weights: vec![vec![1.0, 0.0], vec![0.0, 1.0]],
            bias: vec![0.0, 0.0],
        },
        Dense {
            weights: vec![vec![0.0, 0.0], vec![4.0, 0.0]],
            bias: vec![-1.0, -3.0],
        },
    ]
}

#[test]
fn relative_margin_with_negative_logits_replays_and_says_who_wins() {
    let c = case(&negative_logits(), &[0.0, 0.0], DataType::FLOAT);
    for form in [DistanceForm::Split, DistanceForm::Rows] {
        let r = adversarial::run(&adversarial::Config {
            margin_kind: Some(MarginKind::Relative),
            distance_form: form,
            ..config(&c)
        })
        .unwrap_or_else(|e| panic!("{form:?}: a proven optimum must not end in an error: {e}"));
        assert_eq!(r.target, Some(1));
        let ex = r.solve.as_ref().unwrap().example.clone().expect("example");
        assert!((ex.distance - 0.45).abs() < 1e-6, "{form:?}: {}", ex.distance);
        assert!(ex.margin_slack >= -1e-9, "{form:?}: slack {}", ex.margin_slack);
        assert_eq!((ex.predicted, ex.goal_class_wins), (0, false), "{form:?}");
    }
}

#[test]
fn magnitude_margin_makes_the_target_win() {
    let c = case(&negative_logits(), &[0.0, 0.0], DataType::FLOAT);
    let r = adversarial::run(&adversarial::Config {
        margin_kind: Some(MarginKind::Magnitude),
        ..config(&c)
    })
    .unwrap();
    let ex = r.solve.as_ref().unwrap().example.clone().expect("example");
    assert!((ex.distance - 0.55).abs() < 1e-6, "{}", ex.distance);
    assert!(ex.margin_slack >= 0.0, "slack {}", ex.margin_slack);
    assert_eq!((ex.predicted, ex.goal_class_wins), (1, true));
    // The optimum lies on a margin row: whatever side of it the solver's point fell on, the
    // reported point meets it through the forward pass.
    let y = &ex.outputs;
    assert!(y[1] >= y[0] + 0.2 * y[0].abs(), "{y:?}");
}

#[test]
fn optima_on_margin_rows_replay_on_random_nets() {
    // Every optimum with the magnitude margin sits on a margin row; none may end in an error,
    // and every reported example meets its margins exactly through the forward pass.
    for seed in 20..28u64 {
        let mut rng = Rng(seed);
        let layers = random_mlp(&mut rng, &[5, 6, 5, 4]);
        let image = random_image(&mut rng, 5);
        let c = case(&layers, &image, DataType::DOUBLE);
        let r = adversarial::run(&adversarial::Config {
            margin_kind: Some(MarginKind::Magnitude),
            ..config(&c)
        })
        .unwrap_or_else(|e| panic!("seed {seed}: {e}"));
        if let Some(ex) = r.solve.as_ref().unwrap().example.as_ref() {
            assert!(
                ex.goal_class_wins && ex.margin_slack >= 0.0 || ex.margin_slack >= -1e-9,
                "seed {seed}"
            );
        }
    }
}

/// HiGHS's status on reading `file` (0 = kOk, 1 = warning, -1 = error), through the C API the
/// embedded solver uses.
fn highs_read_status(file: &Path) -> i32 {
    let path = std::ffi::CString::new(file.to_str().unwrap()).unwrap();
    // SAFETY: a fresh instance, a NUL-terminated path, destroyed before returning.
    unsafe {
        let h = highs_sys::Highs_create();
        highs_sys::Highs_setBoolOptionValue(h, c"output_flag".as_ptr(), 0);
        let st = highs_sys::Highs_readModel(h, path.as_ptr());
        highs_sys::Highs_destroy(h);
        st
    }
}

/// What gurobipy prints on reading `file`.
fn gurobi_read_log(file: &Path) -> String {
    let script = "import sys, gurobipy as gp\nm = gp.read(sys.argv[1])\n";
    let out = crate::common::run(
        crate::common::python().to_str().expect("utf-8 path"),
        &["-c", script, file.to_str().unwrap()],
        "gurobipy (pip install gurobipy)",
    );
    assert!(
        out.status.success(),
        "gurobipy failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr)
}

/// A 6-input net whose first layer carries subnormal and tiny weights on some inputs (as
/// scikit-learn leaves on always-0 pixels), and whose second layer multiplies tiny values.
fn tiny_weights() -> Vec<Dense> {
    let mut rng = Rng(5);
    let mut layers = random_mlp(&mut rng, &[6, 6, 5, 3]);
    for (o, row) in layers[0].weights.iter_mut().enumerate() {
        row[0] = 4e-320 * (o as f64 + 1.0);
        row[1] = -3e-12;
        row[2] = 7.1e-11 * if o % 2 == 0 { 1.0 } else { -1.0 };
    }
    layers[1].weights[0][0] = 2e-14;
    layers
}

#[test]
fn tiny_and_subnormal_weights_are_dropped_soundly_and_files_load_cleanly() {
    let layers = tiny_weights();
    let c = case(&layers, &[0.0, 0.0, 0.3, 0.6, 0.1, 0.9], DataType::DOUBLE);
    let file = c.net.with_file_name("tiny.mps");
    let r = adversarial::run(&adversarial::Config {
        margin_kind: Some(MarginKind::Absolute),
        margin: 0.05,
        output: Some(file.to_string_lossy().into_owned()),
        ..config(&c)
    })
    .unwrap();
    assert!(r.hygiene.dropped >= 18, "{:?}", r.hygiene);
    assert!(
        r.hygiene.largest_dropped > 7e-11 && r.hygiene.largest_dropped <= 1e-9,
        "{:?}",
        r.hygiene
    );
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(text.contains("coefficients: "), "header states the hygiene");
    assert_eq!(highs_read_status(&file), 0, "HiGHS reads the file with status kOk");
    let log = gurobi_read_log(&file);
    assert!(!log.to_lowercase().contains("small"), "gurobi warns: {log}");
    // The optimum replays (checked by the task) and is the optimum of the net without the tiny
    // weights, up to their effect.
    let clean: Vec<Dense> = layers
        .iter()
        .map(|l| Dense {
            weights: l
                .weights
                .iter()
                .map(|r| r.iter().map(|&w| if w.abs() < 1e-9 { 0.0 } else { w }).collect())
                .collect(),
            bias: l.bias.clone(),
        })
        .collect();
    let c2 = case(&clean, &[0.0, 0.0, 0.3, 0.6, 0.1, 0.9], DataType::DOUBLE);
    let r2 = adversarial::run(&adversarial::Config {
        margin_kind: Some(MarginKind::Absolute),
        margin: 0.05,
        ..config(&c2)
    })
    .unwrap();
    let (a, b) = (optimum(&r), optimum(&r2));
    match (a, b) {
        (Some(a), Some(b)) => assert!((a - b).abs() < 1e-6, "{a} vs {b}"),
        _ => assert_eq!(a, b),
    }
}

#[test]
fn a_net_scaled_by_1e12_is_refused_with_a_clear_error() {
    let mut rng = Rng(9);
    let mut layers = random_mlp(&mut rng, &[4, 5, 3]);
    for l in &mut layers {
        for row in &mut l.weights {
            for w in row {
                *w *= 1e12;
            }
        }
    }
    let c = case(&layers, &[0.2, 0.4, 0.6, 0.8], DataType::DOUBLE);
    let e = adversarial::run(&adversarial::Config {
        margin_kind: Some(MarginKind::Relative),
        ..config(&c)
    })
    .expect_err("no solver can answer this model");
    let msg = e.to_string();
    assert!(msg.contains("magnitude") && msg.contains("beyond 1e9"), "{msg}");
}

/// The embedded solve and HiGHS reading the written file are one model under one option set:
/// with the same options (the task's tuning included) and no start point, HiGHS does exactly
/// the same work on both (nodes and simplex iterations), so a difference in seconds between
/// them is the machine's load, not nnmilp.
#[test]
fn embedded_solve_and_solve_file_do_the_same_work() {
    let (mut compared, mut branched) = (0, 0);
    for seed in 0..12u64 {
        let mut rng = Rng(100 + seed);
        let sizes = [8, 8, 8, 6, 4];
        let layers = random_mlp(&mut rng, &sizes);
        let image = random_image(&mut rng, 8);
        let c = case(&layers, &image, DataType::DOUBLE);
        let file = c.net.with_file_name("model.mps");
        let cfg = adversarial::Config {
            margin_kind: Some(MarginKind::Relative),
            output: Some(file.to_string_lossy().into_owned()),
            ..config(&c)
        };
        let r = adversarial::run(&cfg).unwrap_or_else(|e| panic!("seed {seed}: {e}"));
        let emb = r.solve.as_ref().expect("solved");
        assert!(!emb.warm_started, "seed {seed}: no start point was asked for");
        let tuned = cfg.solve_options.with_tuning(adversarial::HIGHS_TUNING);
        assert_eq!(emb.highs_options, tuned.highs_options, "seed {seed}");
        let from_file = solve::solve_file(&file, &tuned).expect("solve the file");
        assert_eq!(from_file.status, emb.status, "seed {seed}");
        assert_eq!(
            (from_file.nodes, from_file.lp_iterations),
            (emb.nodes, emb.lp_iterations),
            "seed {seed}: the file's solve did other work than the embedded one"
        );
        assert!(emb.lp_iterations.is_some() && emb.nodes.is_some(), "seed {seed}");
        if let (Some(a), Some(b)) = (emb.objective, from_file.objective) {
            assert!((a - b).abs() <= 1e-9 * (1.0 + a.abs()), "seed {seed}: {a} vs {b}");
            compared += 1;
        }
        branched += usize::from(emb.nodes > Some(1));
    }
    assert!(compared >= 4, "only {compared} of 12 cases had an optimum to compare");
    assert!(branched >= 1, "no case branched, so the node counts compared nothing");
}

/// `--highs-option` settings reach HiGHS after the task's tuning (so they override it), and
/// one HiGHS does not know is refused before anything is written.
#[test]
fn highs_options_override_the_tuning_and_unknown_ones_are_refused() {
    let mut rng = Rng(7);
    let layers = random_mlp(&mut rng, &[5, 6, 4, 3]);
    let image = random_image(&mut rng, 5);
    let c = case(&layers, &image, DataType::DOUBLE);
    let base = config(&c);
    let with = |opts: &[(&str, &str)]| adversarial::Config {
        solve_options: SolveOptions {
            highs_options: opts.iter().map(|&(k, v)| (k.to_string(), v.to_string())).collect(),
            ..base.solve_options.clone()
        },
        ..config(&c)
    };
    let r = adversarial::run(&with(&[("mip_heuristic_run_rins", "true")])).expect("solve");
    let used = &r.solve.as_ref().unwrap().highs_options;
    let last_rins = used.iter().rev().find(|(k, _)| k == "mip_heuristic_run_rins").unwrap();
    assert_eq!(last_rins.1, "true", "the user's setting must come last: {used:?}");
    assert_eq!(used.len(), adversarial::HIGHS_TUNING.len() + 1);

    let file = c.net.with_file_name("never.mps");
    for bad in [("no_such_option", "1"), ("threads", "many")] {
        let cfg = adversarial::Config {
            output: Some(file.to_string_lossy().into_owned()),
            ..with(&[bad])
        };
        let err = adversarial::run(&cfg)
            .expect_err("an unknown option must be refused")
            .to_string();
        assert!(err.contains(bad.0), "the error must name {}: {err}", bad.0);
        assert!(!file.exists(), "nothing may be written before the options are checked");
    }
}
