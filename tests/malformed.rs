//! The malformed-input suite: one hostile input per class of failure of issue 9 (panics, memory
//! blow-ups from small files, hangs, silent wrong answers), each generated here rather than
//! shipped. Every case runs the real binary under `ulimit -v 4000000` (4 GB of address space)
//! and `timeout 60`, so that a blow-up or a hang fails the test instead of the machine, and
//! asserts a non-zero exit, an error naming the file and the node or field at fault, no panic
//! text, and no file left behind in the folder the command writes to.
//!
//! Cases that are valid (a slice step of `i64::MAX`, a long chain of relabelled constants) must
//! instead load and compute the right function; the two that load in this process are run again
//! in a child process under the same cap (`in_process_cases_under_the_memory_cap`).

use crate::common::onnx_build::*;
use nnmilp::front::onnx::load_bytes;
use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

/// Runs the binary in `dir` under a 4 GB address-space cap and a 60 s timeout.
fn nnmilp(dir: &Path, args: &[&str]) -> Run {
    let out = Command::new("sh")
        .arg("-c")
        .arg("ulimit -v 4000000 && exec timeout 60 \"$@\"")
        .arg("sh")
        .arg(env!("CARGO_BIN_EXE_nnmilp"))
        .args(args)
        .current_dir(dir)
        .output()
        .expect("run nnmilp under sh");
    Run {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn listing(dir: &Path) -> BTreeSet<String> {
    (std::fs::read_dir(dir).unwrap().flatten())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect()
}

/// Runs `args` in `dir` and checks a clean refusal: exit 1, every `needle` in the message
/// (which names `file`), no panic, no file added to `dir`.
fn refused(dir: &Path, args: &[&str], file: &str, needles: &[&str]) -> String {
    let before = listing(dir);
    let r = nnmilp(dir, args);
    let msg = r.stderr.clone();
    assert_ne!(r.code, Some(124), "timed out: {args:?}\n{msg}");
    assert_eq!(
        r.code,
        Some(1),
        "{args:?} must fail with exit 1 (killed by memory if None)\n{msg}{}",
        r.stdout
    );
    assert!(!msg.contains("panicked"), "{args:?} panicked:\n{msg}");
    assert!(msg.contains(file), "the message does not name {file}:\n{msg}");
    for n in needles {
        assert!(msg.contains(n), "the message lacks {n:?}:\n{msg}");
    }
    assert_eq!(listing(dir), before, "{args:?} left files behind");
    msg
}

/// Writes the network `bytes` as `name` in a fresh folder and checks that `nnmilp bounds` (which
/// would write `b.json`) refuses it naming the file and `needles`.
fn net_refused(name: &str, bytes: &[u8], needles: &[&str]) -> String {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join(name), bytes).unwrap();
    refused(dir.path(), &["bounds", name, "-o", "b.json"], name, needles)
}

/// The cases that load in this process (valid files that must load and compute the right
/// function) run again in a child test process under the same 4 GB address-space cap as the
/// binary, so that no case of the suite runs uncapped.
#[test]
fn in_process_cases_under_the_memory_cap() {
    const CASES: [&str; 2] = [
        "malformed::slice_with_step_i64_max_takes_one_element",
        "malformed::opset_decides_where_squeeze_reads_its_axes",
    ];
    let out = Command::new("sh")
        .arg("-c")
        .arg("ulimit -v 4000000 && exec timeout 60 \"$@\"")
        .arg("sh")
        .arg(std::env::current_exe().unwrap())
        .args(CASES)
        .args(["--exact", "--test-threads", "1"])
        .output()
        .expect("run the test binary under sh");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.contains(&format!("{} passed", CASES.len())),
        "under the cap: {:?}\n{stdout}{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
}

// ---- panics ------------------------------------------------------------------------------

#[test]
fn slice_with_negative_step_over_an_empty_axis() {
    // Once `clamp(0, -1)`: a negative step over a zero-length axis panicked.
    let g = graph(
        &[1, 2],
        vec![
            node("Slice", &["E", "s", "e", "a", "st"], "z", vec![]),
            node("Add", &["x", "z"], "y", vec![]),
        ],
        vec![
            floats("E", &[0], &[]),
            int64s("s", &[1], &[0]),
            int64s("e", &[1], &[-1]),
            int64s("a", &[1], &[0]),
            int64s("st", &[1], &[-1]),
        ],
        &[1, 2],
    );
    net_refused(
        "slice_empty.onnx",
        &bytes(g),
        &["node y (Add)", "cannot broadcast [1, 2] with [0]"],
    );
}

#[test]
fn slice_with_step_i64_max_takes_one_element() {
    // Once `i + step` wrapped. Valid: the slice takes element 0 of each row.
    let g = graph(
        &[1, 4],
        vec![node("Slice", &["x", "s", "e", "a", "st"], "y", vec![])],
        vec![
            int64s("s", &[1], &[0]),
            int64s("e", &[1], &[i64::MAX]),
            int64s("a", &[1], &[1]),
            int64s("st", &[1], &[i64::MAX]),
        ],
        &[1, 1],
    );
    let net = load_bytes(&bytes(g), "step.onnx").unwrap();
    assert_eq!(net.forward(&[3.0, 4.0, 5.0, 6.0]).unwrap(), vec![3.0]);
}

#[test]
fn empty_constant_with_huge_dimensions() {
    // Zero elements are not exempt from the size check: `[2^40, 0]` once hit `capacity overflow`.
    let g = graph(
        &[1, 2],
        vec![node("Slice", &["E", "s", "e"], "y", vec![])],
        vec![
            floats("E", &[1 << 40, 0], &[]),
            int64s("s", &[1], &[0]),
            int64s("e", &[1], &[1]),
        ],
        &[1, 2],
    );
    net_refused("empty_huge.onnx", &bytes(g), &["initializer E", "non-zero dimensions"]);
}

#[test]
fn affine_chain_overflowing_f64() {
    // Ten `MatMul`s by f32::MAX fuse to a weight of (3.4e38)^10 = inf: once `expect` in simplify.
    let nodes = (0..10)
        .map(|k| {
            let input = if k == 0 { "x".to_string() } else { format!("h{k}") };
            let output = if k == 9 { "y".to_string() } else { format!("h{}", k + 1) };
            node("MatMul", &[&input, "W"], &output, vec![])
        })
        .collect();
    let g = graph(&[1, 1], nodes, vec![floats("W", &[1, 1], &[f32::MAX])], &[1, 1]);
    net_refused(
        "overflow.onnx",
        &bytes(g),
        &["fusing it with affine layer", "overflows f64"],
    );
}

#[test]
fn npy_whose_shape_product_wraps() {
    // 2^32 · 2^32 wraps to 0 in npyz's element count; once an out-of-bounds index.
    let dir = tempfile::tempdir().unwrap();
    let header = "{'descr': '<f4', 'fortran_order': False, 'shape': (4294967296, 4294967296), }";
    std::fs::write(dir.path().join("wrap.npy"), npy(header, &[0, 0])).unwrap();
    let msg = image_refused(dir.path(), "wrap.npy");
    assert!(msg.contains("more than 16777216 values"), "{msg}");
}

#[test]
fn gzipped_idx_with_huge_items() {
    // rows × cols of 65536² in a gzipped header: once `vec![0u8; item_len]`.
    let dir = tempfile::tempdir().unwrap();
    let mut header = Vec::new();
    for w in [0x0000_0803u32, 1, 65536, 65536] {
        header.extend(w.to_be_bytes());
    }
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    std::io::Write::write_all(&mut enc, &header).unwrap();
    std::fs::write(dir.path().join("big-images-idx3-ubyte.gz"), enc.finish().unwrap()).unwrap();
    let msg = image_refused(dir.path(), "big-images-idx3-ubyte.gz:0");
    assert!(
        msg.contains("IDX header") && msg.contains("more than 16777216 values"),
        "{msg}"
    );
}

// ---- memory blow-ups from small files ------------------------------------------------------

#[test]
fn conv_pads_whose_output_size_wraps() {
    // Pads of 2^62: an output size of 2^63 per axis, whose product once wrapped to 0.
    let conv = |pad: i64| {
        let g = graph(
            &[1, 1, 4, 4],
            vec![node("Conv", &["x", "W"], "y", vec![ints("pads", &[pad; 4])])],
            vec![floats("W", &[1, 1, 1, 1], &[1.0])],
            &[1, 1, 4, 4],
        );
        bytes(g)
    };
    net_refused(
        "conv_pads.onnx",
        &conv(1 << 62),
        &["node y (Conv)", "the convolution matrix would need"],
    );
    // Pads of i64::MAX: the padded size itself overflows.
    net_refused(
        "conv_pads.onnx",
        &conv(i64::MAX),
        &["node y (Conv)", "the padded input size on spatial axis 0 overflows"],
    );
}

#[test]
fn pool_kernel_whose_size_product_wraps() {
    // kernel 2^32 × 2^32 with pads large enough to fit it: the product wraps to 0. Once a hang.
    let big = 1i64 << 32;
    let g = graph(
        &[1, 1, 2, 2],
        vec![node(
            "MaxPool",
            &["x"],
            "y",
            vec![ints("kernel_shape", &[big, big]), ints("pads", &[big, big, big, big])],
        )],
        vec![],
        &[1, 1, 2, 2],
    );
    net_refused(
        "pool_kernel.onnx",
        &bytes(g),
        &["node y (MaxPool)", "the pooling windows would need"],
    );
}

#[test]
fn conv_dilations_whose_kernel_extent_wraps() {
    // (5 - 1) · (2^63 - 1) + 1 wraps: the taps once aliased and the run exited 0.
    let g = graph(
        &[1, 1, 5, 5],
        vec![node("Conv", &["x", "W"], "y", vec![ints("dilations", &[i64::MAX, 1])])],
        vec![floats("W", &[1, 1, 5, 1], &[1.0; 5])],
        &[1, 1, 3, 3],
    );
    net_refused(
        "dilations.onnx",
        &bytes(g),
        &["node y (Conv)", "the kernel extent", "overflows"],
    );
}

#[test]
fn constant_broadcast_past_the_budget() {
    // [585,1,1] + [1,585,1] + [1,1,585]: a few KB folding to 2·10^8 entries.
    let v: Vec<f32> = (0..585).map(|i| i as f32).collect();
    let g = graph(
        &[1, 1],
        vec![
            node("Add", &["A", "B"], "ab", vec![]),
            node("Add", &["ab", "C"], "abc", vec![]),
            node("Add", &["x", "abc"], "y", vec![]),
        ],
        vec![
            floats("A", &[585, 1, 1], &v),
            floats("B", &[1, 585, 1], &v),
            floats("C", &[1, 1, 585], &v),
        ],
        &[585, 585, 585],
    );
    net_refused("broadcast.onnx", &bytes(g), &["node abc (Add)", "--max-nonzeros"]);
}

#[test]
fn relabelled_constants_are_shared_not_copied() {
    // A 10^5-entry constant through 6,000 Identity/Reshape links: 4.8 GB if each copied it.
    let n = 100_000;
    let mut nodes = Vec::new();
    let mut prev = "C".to_string();
    for k in 0..6000 {
        let out = format!("c{k}");
        nodes.push(match k % 2 {
            0 => node("Identity", &[&prev], &out, vec![]),
            _ => node("Reshape", &[&prev, "shape"], &out, vec![]),
        });
        prev = out;
    }
    nodes.push(node("Add", &["x", &prev], "y", vec![]));
    let g = graph(
        &[1, n],
        nodes,
        vec![
            floats("C", &[1, n], &vec![0.5; n as usize]),
            int64s("shape", &[2], &[1, n]),
        ],
        &[1, n],
    );
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("chain.onnx"), bytes(g)).unwrap();
    let r = nnmilp(dir.path(), &["inspect", "chain.onnx", "--json"]);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
}

#[test]
fn rank_one_chain_that_would_compose_densely() {
    // [1, 20000] · [20000, 1] · [1, 20000]: fusing gives 4·10^8 weights from a 160 KB file.
    let n = 20_000;
    let g = graph(
        &[1, n],
        vec![
            node("MatMul", &["x", "A"], "h", vec![]),
            node("MatMul", &["h", "B"], "y", vec![]),
        ],
        vec![
            floats("A", &[n, 1], &vec![1.0; n as usize]),
            floats("B", &[1, n], &vec![1.0; n as usize]),
        ],
        &[1, n],
    );
    net_refused(
        "rank_one.onnx",
        &bytes(g),
        &["layer", "would need up to 400000000 weights", "--max-nonzeros"],
    );
}

#[test]
fn concat_of_a_thousand_copies_of_the_input() {
    let names: Vec<&str> = vec!["x"; 1000];
    let g = graph(
        &[1, 1000],
        vec![node("Concat", &names, "y", vec![int("axis", 1)])],
        vec![],
        &[1, 1_000_000],
    );
    net_refused(
        "concat.onnx",
        &bytes(g),
        &["node y (Concat)", "the concatenation would need", "--max-nonzeros"],
    );
}

#[test]
fn tiny_file_declaring_a_huge_input() {
    let g = graph(
        &[1, 200_000_000],
        vec![node("Relu", &["x"], "y", vec![])],
        vec![],
        &[1, 200_000_000],
    );
    let b = bytes(g);
    assert!(b.len() < 100, "{} bytes", b.len());
    net_refused("huge_input.onnx", &b, &["graph input x", "more than"]);
}

#[test]
fn png_declaring_a_huge_picture() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("huge.png"), png_header(1 << 20, 1 << 20)).unwrap();
    let msg = image_refused(dir.path(), "huge.png");
    assert!(msg.contains("1048576x1048576: more than 16777216 pixels"), "{msg}");
}

#[test]
fn devices_and_huge_files_are_not_read_whole() {
    let dir = tempfile::tempdir().unwrap();
    // A sparse 5 GiB file: refused by its size, before a byte is read.
    let big = std::fs::File::create(dir.path().join("big.onnx")).unwrap();
    big.set_len(5 << 30).unwrap();
    drop(big);
    let msg = refused(
        dir.path(),
        &["bounds", "big.onnx", "-o", "b.json"],
        "big.onnx",
        &["more than the limit of"],
    );
    assert!(msg.contains("5368709120 bytes"), "{msg}");
    // /dev/zero has no size: read up to the cap, then refused (zeros are not a model).
    refused(
        dir.path(),
        &["bounds", "/dev/zero", "-o", "b.json"],
        "/dev/zero",
        &["file /dev/zero"],
    );
    // A bounds file that is a device or huge is refused by the same reader.
    std::fs::write(dir.path().join("net.onnx"), bytes(dense(2, 2, 1))).unwrap();
    let big = std::fs::File::create(dir.path().join("big.json")).unwrap();
    big.set_len(5 << 30).unwrap();
    drop(big);
    refused(
        dir.path(),
        &["inspect", "net.onnx", "--bounds-file", "big.json"],
        "big.json",
        &["more than the limit of"],
    );
}

#[test]
fn load_caps_come_from_the_command_line() {
    // `--max-units` / `--max-nonzeros` set the load's budget on every command that reads a
    // network: a small cap refuses a real network naming the flag, a large one accepts it.
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::copy(
        crate::common::root().join("fixtures/mnist_20x3.onnx"),
        d.join("net.onnx"),
    )
    .unwrap();
    let bounds = |extra: &[&'static str]| [&["bounds", "net.onnx", "-o", "b.json"][..], extra].concat();
    // 784 inputs alone are more than 500 units; 15,680 first-layer weights more than 10,000.
    refused(
        d,
        &bounds(&["--max-units", "500"]),
        "net.onnx",
        &["more than the limit of 500 (--max-units)"],
    );
    refused(
        d,
        &bounds(&["--max-nonzeros", "10000"]),
        "net.onnx",
        &["budget of 10000 (--max-nonzeros)"],
    );
    let r = nnmilp(d, &bounds(&["--max-units", "2000", "--max-nonzeros", "100000"]));
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    assert!(d.join("b.json").is_file());
    // Every command that loads a network takes both flags (clap would exit 2 on an unknown one).
    for cmd in [
        "inspect",
        "adversarial",
        "visualize",
        "range",
        "bounds",
        "verify",
        "batch",
        "replay",
        "compile",
    ] {
        let help = nnmilp(d, &[cmd, "--help"]);
        assert_eq!(help.code, Some(0), "{cmd} --help: {}", help.stderr);
        for flag in ["--max-units <N>", "--max-nonzeros <N>"] {
            assert!(
                help.stdout.contains(flag),
                "{cmd} --help lacks {flag}:\n{}",
                help.stdout
            );
        }
    }
}

// ---- silent wrong results ------------------------------------------------------------------

#[test]
fn a_node_output_shadowing_the_graph_input() {
    let g = graph(
        &[1, 2],
        vec![node("Relu", &["x"], "x", vec![]), node("Relu", &["x"], "y", vec![])],
        vec![],
        &[1, 2],
    );
    net_refused("shadow.onnx", &bytes(g), &["node x (Relu) defines x", "one definition"]);
}

#[test]
fn two_nodes_defining_one_value() {
    let g = graph(
        &[1, 2],
        vec![
            node("Relu", &["x"], "h", vec![]),
            node("Neg", &["x"], "h", vec![]),
            node("Relu", &["h"], "y", vec![]),
        ],
        vec![],
        &[1, 2],
    );
    net_refused("twice.onnx", &bytes(g), &["node h (Neg) defines h", "already defined"]);
}

#[test]
fn nodes_out_of_topological_order() {
    let g = graph(
        &[1, 2],
        vec![node("Relu", &["h"], "y", vec![]), node("Neg", &["x"], "h", vec![])],
        vec![],
        &[1, 2],
    );
    net_refused(
        "order.onnx",
        &bytes(g),
        &["node y (Relu) reads h, which the later node h defines", "topological"],
    );
}

#[test]
fn transpose_perm_with_a_negative_entry() {
    let g = graph(
        &[2, 3],
        vec![node("Transpose", &["x"], "y", vec![ints("perm", &[-1, 0, 1])])],
        vec![],
        &[3, 2],
    );
    net_refused(
        "perm.onnx",
        &bytes(g),
        &["node y (Transpose)", "attribute perm", "[-1, 0, 1]"],
    );
}

#[test]
fn opset_decides_where_squeeze_reads_its_axes() {
    let squeeze = |opset| {
        let g = graph(
            &[1, 1, 3],
            vec![node("Squeeze", &["x"], "y", vec![ints("axes", &[1])])],
            vec![],
            &[1, 3],
        );
        protobuf::Message::write_to_bytes(&model_at(g, opset)).unwrap()
    };
    // Opset 11: the attribute is the way.
    assert_eq!(load_bytes(&squeeze(11), "s11.onnx").unwrap().output_size(), 3);
    // Opset 13: axes are an input; an attribute is refused rather than guessed.
    net_refused(
        "s13.onnx",
        &squeeze(13),
        &["node y (Squeeze)", "attribute axes", "opset 13"],
    );
}

#[test]
fn npy_claiming_more_values_than_it_holds() {
    // 2^64 values in 2 bytes: once read as an image.
    let dir = tempfile::tempdir().unwrap();
    let header = "{'descr': '<u1', 'fortran_order': False, 'shape': (18446744073709551615,), }";
    std::fs::write(dir.path().join("lie.npy"), npy(header, &[1, 2])).unwrap();
    image_refused(dir.path(), "lie.npy");
    // A header length beyond the file: once a 4 GiB buffer.
    let mut b = b"\x93NUMPY\x02\x00".to_vec();
    b.extend(u32::MAX.to_le_bytes());
    std::fs::write(dir.path().join("hdr.npy"), &b).unwrap();
    let msg = image_refused(dir.path(), "hdr.npy");
    assert!(msg.contains("the header claims 4294967295 bytes"), "{msg}");
}

/// Writes the tiny net and its bounds file (via `nnmilp bounds`), then lets `edit` change the
/// file's JSON; `adversarial --solve` must refuse the edited file with `needles`.
fn bounds_file_refused(edit: impl FnOnce(&mut serde_json::Value), needles: &[&str]) {
    let dir = tempfile::tempdir().unwrap();
    let net = crate::common::root().join("fixtures/tiny_2-3-2.onnx");
    std::fs::copy(&net, dir.path().join("net.onnx")).unwrap();
    std::fs::write(dir.path().join("img.npy"), npy_f64(&[0.2, 0.6])).unwrap();
    let r = nnmilp(dir.path(), &["bounds", "net.onnx", "-o", "b.json"]);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    let mut v: serde_json::Value = serde_json::from_slice(&std::fs::read(dir.path().join("b.json")).unwrap()).unwrap();
    edit(&mut v);
    std::fs::write(dir.path().join("b.json"), serde_json::to_vec(&v).unwrap()).unwrap();
    let args = [
        "adversarial",
        "net.onnx",
        "--image",
        "img.npy",
        "--bounds-file",
        "b.json",
        "--solve",
        "-o",
        "m.mps",
        "--report",
        "r.json",
    ];
    let msg = refused(dir.path(), &args, "b.json", needles);
    assert!(!msg.contains("infeasible"), "{msg}");
}

#[test]
fn bounds_file_with_lo_above_hi() {
    bounds_file_refused(
        |v| {
            let l = &mut v["layers"][1];
            l["lo"][0] = 5.0.into();
            l["hi"][0] = 4.0.into();
        },
        &["unit 0: lower bound 5 above upper bound 4"],
    );
}

#[test]
fn bounds_file_excluding_the_true_values() {
    // Tight but wrong bounds once made `adversarial --solve` report "infeasible" (optimum 1/15).
    bounds_file_refused(
        |v| {
            let layers = v["layers"].as_array_mut().unwrap();
            let last = layers.last_mut().unwrap();
            let n = last["lo"].as_array().unwrap().len();
            last["lo"] = serde_json::json!(vec![100.0; n]);
            last["hi"] = serde_json::json!(vec![101.0; n]);
        },
        &[
            "at the center of the region lies outside the file's bounds",
            "not sound",
        ],
    );
}

#[test]
fn bounds_file_with_null_or_missing_bounds() {
    bounds_file_refused(
        |v| v["layers"][1]["hi"][0] = serde_json::Value::Null,
        &["entry 0 is null", "\"inf\""],
    );
    bounds_file_refused(
        |v| {
            v["layers"][2]["lo"].as_array_mut().unwrap().pop();
        },
        &["layer 2: 2 lower and 3 upper bounds"],
    );
}

#[test]
fn numbers_beyond_what_highs_accepts_are_refused_not_infeasible() {
    // A weight of 1e16 makes big-M coefficients beyond HiGHS's large_matrix_value (1e15).
    let g = graph(
        &[1, 2],
        vec![
            node("Gemm", &["x", "W", "b"], "h", vec![int("transB", 1)]),
            node("Relu", &["h"], "y", vec![]),
        ],
        vec![
            floats("W", &[2, 2], &[1e16, -1e16, -1e16, 1e16]),
            floats("b", &[2], &[0.0, 0.0]),
        ],
        &[1, 2],
    );
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("big.onnx"), bytes(g)).unwrap();
    let msg = refused(
        dir.path(),
        &[
            "range",
            "big.onnx",
            "--output",
            "0",
            "--maximize",
            "--solve",
            "--report",
            "r.json",
        ],
        "",
        &["numbers out of HiGHS's range", "large_matrix_value"],
    );
    assert!(!msg.contains("infeasible"), "{msg}");
}

// ---- interrupts ------------------------------------------------------------------------------

/// Starts `nnmilp adversarial` on the tiny net writing `m.mps` (with the global flags `flags`),
/// paused before the rename; sends `signal` once the temporary file exists; returns the
/// folder's listing afterwards.
fn interrupted(signal: &str, flags: &[&str]) -> (BTreeSet<String>, Option<i32>) {
    let dir = tempfile::tempdir().unwrap();
    let net = crate::common::root().join("fixtures/tiny_2-3-2.onnx");
    std::fs::copy(&net, dir.path().join("net.onnx")).unwrap();
    std::fs::write(dir.path().join("img.npy"), npy_f64(&[0.2, 0.6])).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_nnmilp"))
        .args(flags)
        .args(["adversarial", "net.onnx", "--image", "img.npy", "-o", "m.mps"])
        .env(nnmilp::back::atomic::TEST_PAUSE_ENV, "20000")
        .current_dir(dir.path())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let start = std::time::Instant::now();
    while !listing(dir.path()).iter().any(|n| n.ends_with(".tmp")) {
        assert!(start.elapsed().as_secs() < 20, "no temporary file appeared");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let st = Command::new("kill")
        .args([signal, &child.id().to_string()])
        .status()
        .unwrap();
    assert!(st.success());
    let status = child.wait().unwrap();
    assert!(start.elapsed().as_secs() < 20, "the signal did not end the run");
    let mut names = listing(dir.path());
    names.remove("net.onnx");
    names.remove("img.npy");
    (names, std::os::unix::process::ExitStatusExt::signal(&status))
}

#[test]
fn sigint_and_sigterm_remove_the_temporary_file() {
    for (signal, number) in [("-INT", 2), ("-TERM", 15)] {
        // Synced or not, the pause comes after the file is complete and before its rename.
        for flags in [&[][..], &["--fsync"]] {
            let (left, by) = interrupted(signal, flags);
            assert!(left.is_empty(), "{signal} {flags:?} left {left:?}");
            assert_eq!(by, Some(number), "ended by the signal's default action");
        }
    }
}

#[test]
fn sigkill_leaves_nothing_under_the_final_name() {
    let (left, _) = interrupted("-KILL", &[]);
    assert!(!left.contains("m.mps"), "{left:?}");
    assert!(
        left.iter().all(|n| n.starts_with(".nnmilp-") && n.ends_with(".tmp")),
        "{left:?}"
    );
}

// ---- helpers for images ------------------------------------------------------------------------

/// `adversarial` on a tiny net with the image `spec` in `dir`: refused naming the image.
fn image_refused(dir: &Path, spec: &str) -> String {
    std::fs::write(dir.join("net.onnx"), bytes(dense(2, 2, 3))).unwrap();
    let file = spec.rsplit_once(':').map_or(spec, |(f, _)| f);
    refused(
        dir,
        &["adversarial", "net.onnx", "--image", spec, "-o", "m.mps"],
        file,
        &[],
    )
}

/// A version-1 `.npy` file with header text `header` and data `data`.
fn npy(header: &str, data: &[u8]) -> Vec<u8> {
    let mut h = header.to_string();
    while (10 + h.len() + 1) % 64 != 0 {
        h.push(' ');
    }
    h.push('\n');
    let mut b = b"\x93NUMPY\x01\x00".to_vec();
    b.extend((h.len() as u16).to_le_bytes());
    b.extend(h.as_bytes());
    b.extend(data);
    b
}

fn npy_f64(values: &[f64]) -> Vec<u8> {
    let header = format!(
        "{{'descr': '<f8', 'fortran_order': False, 'shape': ({},), }}",
        values.len()
    );
    npy(
        &header,
        &values.iter().flat_map(|v| v.to_le_bytes()).collect::<Vec<_>>(),
    )
}

/// A PNG signature and IHDR chunk for an 8-bit grayscale `width × height` picture, then an
/// empty IDAT and IEND (CRCs correct, so only the size is wrong).
fn png_header(width: u32, height: u32) -> Vec<u8> {
    fn chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
        out.extend((data.len() as u32).to_be_bytes());
        let mut crc = flate2::Crc::new();
        crc.update(kind);
        crc.update(data);
        out.extend(kind);
        out.extend(data);
        out.extend(crc.sum().to_be_bytes());
    }
    let mut b = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut ihdr = Vec::new();
    ihdr.extend(width.to_be_bytes());
    ihdr.extend(height.to_be_bytes());
    ihdr.extend([8, 0, 0, 0, 0]); // 8-bit, grayscale, deflate, adaptive filter, no interlace
    chunk(&mut b, b"IHDR", &ihdr);
    chunk(&mut b, b"IDAT", &[0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01]);
    chunk(&mut b, b"IEND", &[]);
    b
}

#[test]
fn bad_options_and_paths_are_refused_before_anything_is_written() {
    // Once the model file was written and then the run failed.
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::copy(
        crate::common::root().join("fixtures/tiny_2-3-2.onnx"),
        d.join("net.onnx"),
    )
    .unwrap();
    std::fs::write(d.join("img.npy"), npy_f64(&[0.2, 0.6])).unwrap();
    let base = ["adversarial", "net.onnx", "--image", "img.npy", "-o", "m.mps"];
    let with = |extra: &[&'static str]| base.iter().copied().chain(extra.iter().copied()).collect::<Vec<_>>();
    // The command line refuses `nan` itself now (exit 2); the library checks it too
    // (`SolveOptions::validate`) before a task writes anything.
    let before = listing(d);
    let r = nnmilp(d, &with(&["--solve", "--time-limit", "nan"]));
    assert_eq!(r.code, Some(2), "{}", r.stderr);
    assert!(
        r.stderr.contains("nan") && !r.stderr.contains("panicked"),
        "{}",
        r.stderr
    );
    assert_eq!(listing(d), before);
    refused(d, &with(&["--solve", "--png", "missing/p.png"]), "missing/p.png", &[]);
    refused(d, &with(&["--report", "missing/r.json"]), "missing/r.json", &[]);
    // A HiGHS option HiGHS does not know, or a value of the wrong type, is refused by name
    // before the model file is written; a flag that is not NAME=VALUE is a usage error.
    refused(
        d,
        &with(&["--solve", "--highs-option", "no_such_option=1"]),
        "no_such_option",
        &[],
    );
    refused(
        d,
        &with(&["--solve", "--highs-option", "threads=many"]),
        "threads",
        &["many"],
    );
    let r = nnmilp(d, &with(&["--solve", "--highs-option", "presolve"]));
    assert_eq!(r.code, Some(2), "{}", r.stderr);
    assert!(r.stderr.contains("NAME=VALUE"), "{}", r.stderr);
    assert_eq!(listing(d), before);
}
