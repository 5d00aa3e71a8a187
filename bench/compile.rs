//! Per-phase seconds and peak RSS of compiling one network to one file, for `bench/compile.py`.
//!
//! ```sh
//! cargo build --release --features bench-tools --bins
//! target/release/compile-phases NET.onnx OUT.(mps|lp)[.gz] [--repeat N] [--until load]
//! ```
//!
//! `--until load` stops after the load (no bounds, lowering or file): the front end alone, on
//! nets whose MILP would take minutes to write.
//!
//! Phases: read (the file's bytes), decode (the protobuf decoder alone, for reference: the
//! floor of `load`), load (decode + translation into the IR, as the CLI does it), bounds
//! (interval), lower (big-M, network only: no task objective; from the network by value, as
//! the CLI lowers a model it only writes), write (`back::write_file`, atomic, not synced: the CLI's default). Before
//! each phase the kernel's peak-RSS counter is reset
//! (`/proc/self/clear_refs`, Linux), so each phase's `peak_rss_mb` is the largest resident set
//! *during* that phase, including what earlier phases still hold. Then the formatting limit:
//! the same numbers the file holds, formatted by `zmij` (the fastest shortest round-trip
//! formatter found) into a reused buffer, no layout, no names, no I/O; and the matrix limit:
//! writing fresh memory the size of the network's matrices (12 bytes per weight), the floor of
//! `load`. One JSON object per repetition on stdout.

use nnmilp::back::{self, Format, WriteOptions};
use nnmilp::bounds::{interval, InputBox};
use nnmilp::lower::{lower_consuming, LowerOptions};
use protobuf::Message;
use std::time::Instant;

/// Peak resident set (VmHWM) in MB since the last reset, from `/proc/self/status`.
fn peak_rss_mb() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

/// Resets the peak to the current resident set (Linux ≥ 4.0; a no-op elsewhere).
fn reset_peak() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

/// Seconds the calling thread has run on a CPU (`CLOCK_THREAD_CPUTIME_ID`): on a shared
/// machine, where wall time includes waiting for a core, this is the steadier measure of a
/// single-threaded phase (page faults and zeroing are counted, as system time of the thread).
fn thread_cpu_seconds() -> f64 {
    let mut t = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: `t` is a valid, writable timespec; the call only writes it.
    match unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut t) } {
        0 => t.tv_sec as f64 + t.tv_nsec as f64 * 1e-9,
        _ => f64::NAN,
    }
}

/// `"name": {"seconds": …, "cpu_seconds": …, "peak_rss_mb": …}`.
fn phase_json((n, s, c, m): &(&'static str, f64, f64, f64)) -> String {
    format!("\"{n}\": {{\"seconds\": {s:.6}, \"cpu_seconds\": {c:.6}, \"peak_rss_mb\": {m:.1}}}")
}

/// Per phase: name, wall seconds, CPU seconds of the main thread, peak RSS MB.
struct Phases(Vec<(&'static str, f64, f64, f64)>);

impl Phases {
    fn run<T>(&mut self, name: &'static str, f: impl FnOnce() -> T) -> T {
        reset_peak();
        let (t, cpu) = (Instant::now(), thread_cpu_seconds());
        let out = f();
        let (wall, cpu) = (t.elapsed().as_secs_f64(), thread_cpu_seconds() - cpu);
        self.0.push((name, wall, cpu, peak_rss_mb()));
        out
    }
}

fn main() {
    // The process set up as the CLI's, so that the phases are the CLI's.
    nnmilp::cli::tune_allocator();
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (net_path, out_path) = match &args[..] {
        [n, o, ..] => (n.clone(), o.clone()),
        _ => {
            eprintln!("usage: compile-phases NET.onnx OUT.(mps|lp)[.gz] [--repeat N] [--until load]");
            std::process::exit(2);
        }
    };
    let repeat: usize = args
        .iter()
        .position(|a| a == "--repeat")
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(1);
    let load_only = match args.iter().position(|a| a == "--until").map(|i| args.get(i + 1)) {
        None => false,
        Some(Some(p)) if p == "load" => true,
        Some(other) => {
            eprintln!("--until takes `load`, got {other:?}");
            std::process::exit(2);
        }
    };
    for _ in 0..repeat {
        let mut p = Phases(Vec::new());
        let bytes = p.run("read", || std::fs::read(&net_path).expect("read the network"));
        p.run("decode", || {
            onnx_protobuf::ModelProto::parse_from_bytes(&bytes).expect("decode")
        });
        // As the CLI loads: the file's bytes are handed over and freed once decoded.
        let net = p.run("load", || {
            let opts = nnmilp::front::onnx::LoadOptions::default();
            nnmilp::front::onnx::load_file_bytes(std::path::Path::new(&net_path), bytes, &opts).expect("load")
        });
        // The matrix limit: writing as many fresh bytes as the network's matrices hold (a `u32`
        // column and an `f64` value per weight), with no decoding: first-touch page faults and
        // zeroing alone, the floor of building them.
        let weights: usize = (net.layers().iter())
            .map(|l| match &l.op {
                nnmilp::ir::Op::Affine { weights, .. } => weights.values().len(),
                _ => 0,
            })
            .sum();
        let mut limit = Phases(Vec::new());
        limit.run("matrix_limit", || {
            std::hint::black_box((vec![1u32; weights], vec![1.0f64; weights]));
        });
        let matrix_limit = phase_json(&limit.0[0]);
        if load_only {
            let phases: Vec<String> = p.0.iter().map(phase_json).collect();
            println!(
                "{{\"net\": \"{net_path}\", \"weights\": {weights}, {matrix_limit}, \"phases\": {{{}}}}}",
                phases.join(", ")
            );
            continue;
        }
        let bounds = p.run("bounds", || {
            interval(&net, &InputBox::uniform(net.input_size(), 0.0, 1.0))
        });
        // As the CLI lowers a model that is only written: the network is consumed, each
        // layer's weights freed once lowered.
        let lowered = p.run("lower", || {
            lower_consuming(net, &bounds, LowerOptions::default()).expect("lower")
        });
        drop(bounds);
        let milp = &lowered.milp;
        p.run("write", || {
            back::write_file(milp, &out_path, None, &WriteOptions::default()).expect("write")
        });
        let file_bytes = std::fs::metadata(&out_path).map_or(0, |m| m.len());

        // The numbers of the file: matrix entries, right-hand sides, finite bounds.
        let mut numbers: Vec<f64> = milp.objective().terms.iter().map(|t| t.1).collect();
        for r in milp.rows() {
            numbers.extend(r.terms.iter().map(|t| t.1));
            numbers.push(r.rhs);
        }
        for c in milp.cols() {
            numbers.extend([c.lo, c.hi].into_iter().filter(|v| v.is_finite() && *v != 0.0));
        }
        let mut text = Vec::with_capacity(1 << 16);
        let t = Instant::now();
        let mut formatted = 0usize;
        for &v in &numbers {
            let mut b = zmij::Buffer::new();
            text.extend_from_slice(b.format_finite(v).as_bytes());
            if text.len() > (1 << 16) - 32 {
                formatted += text.len();
                text.clear();
            }
        }
        formatted += text.len();
        let format_seconds = t.elapsed().as_secs_f64();

        let phases: Vec<String> = p.0.iter().map(phase_json).collect();
        let nnz: usize = milp.rows().iter().map(|r| r.terms.len()).sum();
        println!(
            "{{\"net\": \"{net_path}\", \"out\": \"{out_path}\", \"format\": \"{:?}\", \"file_bytes\": {file_bytes}, \
             \"columns\": {}, \"rows\": {}, \"nonzeros\": {nnz}, \"numbers\": {}, \
             \"format_limit\": {{\"seconds\": {format_seconds:.6}, \"bytes\": {formatted}}}, {matrix_limit}, \"phases\": {{{}}}}}",
            Format::from_path(&out_path),
            milp.cols().len(),
            milp.rows().len(),
            numbers.len(),
            phases.join(", ")
        );
    }
}
