//! `verify`: a network and a VNN-LIB property in; MILP files per case and/or a verdict out.
//!
//! The property's unsafe set is a union of cases (an input box with a disjunction of output
//! conjunctions, [`crate::front::vnnlib`]). `-o` writes one MILP per case ([`encode`]) and a
//! manifest. `--solve` decides, in this order, stopping at the first answer:
//!
//! 1. **falsifier**: sampling and projected gradient steps on the `f64` forward pass
//!    ([`falsify`]), at most [`FALSIFY_SHARE`] of the time limit;
//! 2. **bounds**: symbolic bounds of each case's spec layer over its box ([`spec`]);
//! 3. **split** (inputs up to [`split::MAX_SPLIT_INPUTS`]): halve boxes, re-bound each, MILPs on
//!    boxes with few unstable ReLUs ([`split`]); else
//! 4. **milp**: the case's MILP with the margin objective, seeded with the falsifier's best point.
//!
//! Verdicts: `sat` only with a counterexample replayed through the forward pass and re-checked
//! against every row of the property with VNN-COMP's tolerances as margin; `unsat` only when
//! every case is proved safe (bounds or a MILP dual bound below zero); `timeout` when the time
//! limit stopped an undecided run; `unknown` otherwise. A time-out is never `unsat`.

pub mod batch;
pub mod certify;
mod decide;
mod encode;
pub mod falsify;
mod spec;
pub mod split;

pub use decide::Outcome;
pub use encode::Objective;
pub use spec::SpecNet;

use super::output::{write_model, write_report, Header};
use super::{write_text_atomic, ModelInfo, NetworkInfo, NetworkSource, TaskError};
use crate::back::Format;
use crate::bounds::Method;
use crate::front::onnx::LoadOptions;
use crate::front::vnnlib::{self, Property};
use crate::lower::Encoding;
use falsify::Candidate;
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::path::PathBuf;
use std::time::Instant;

/// Largest share of the time limit the falsifier may use before the proofs start.
pub const FALSIFY_SHARE: f64 = 0.1;

#[derive(Clone, Debug)]
pub struct Config {
    pub network: PathBuf,
    /// What the network file may make the loader allocate.
    pub load: LoadOptions,
    pub property: PathBuf,
    /// Model file(s): with several cases, `.cK` is inserted before the extension.
    pub output: Option<String>,
    pub format: Option<Format>,
    pub encoding: Encoding,
    pub objective: Objective,
    /// Bounds for the written files' big-Ms (`interval` or `symbolic`).
    pub bounds: Method,
    pub solve: bool,
    /// Seconds for the whole decision.
    pub time_limit: f64,
    /// HiGHS threads for a whole-box MILP (splitting runs one single-threaded MILP per box and
    /// uses rayon's pool for the boxes).
    pub threads: Option<usize>,
    pub falsify: falsify::Settings,
    pub split: split::Settings,
    /// Use input splitting when the input is small enough (default on).
    pub allow_split: bool,
    /// VNN-COMP result file.
    pub result: Option<PathBuf>,
    pub report: Option<PathBuf>,
    /// Start files of the counterexample beside its case's model (`--start`; needs `output`
    /// and `solve`; empty: none).
    pub start: Vec<crate::tasks::start::StartFormat>,
}

impl Config {
    pub fn new(network: impl Into<PathBuf>, property: impl Into<PathBuf>) -> Self {
        Config {
            network: network.into(),
            load: LoadOptions::default(),
            property: property.into(),
            output: None,
            format: None,
            encoding: Encoding::BigM,
            objective: Objective::Margin,
            bounds: Method::Symbolic,
            solve: false,
            time_limit: 60.0,
            threads: None,
            falsify: falsify::Settings::default(),
            split: split::Settings::default(),
            allow_split: true,
            result: None,
            report: None,
            start: Vec::new(),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Sat,
    Unsat,
    Timeout,
    Unknown,
    Error,
}

impl Verdict {
    pub fn name(self) -> &'static str {
        match self {
            Verdict::Sat => "sat",
            Verdict::Unsat => "unsat",
            Verdict::Timeout => "timeout",
            Verdict::Unknown => "unknown",
            Verdict::Error => "error",
        }
    }
    pub fn from_name(s: &str) -> Option<Verdict> {
        [
            Verdict::Sat,
            Verdict::Unsat,
            Verdict::Timeout,
            Verdict::Unknown,
            Verdict::Error,
        ]
        .into_iter()
        .find(|v| v.name() == s)
    }
}

/// Which stage decided.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    Falsifier,
    Bounds,
    Split,
    Milp,
}

impl Stage {
    pub fn name(self) -> &'static str {
        match self {
            Stage::Falsifier => "falsifier",
            Stage::Bounds => "bounds",
            Stage::Split => "split",
            Stage::Milp => "milp",
        }
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct PropertyInfo {
    pub file: String,
    pub sha256: String,
    pub cases: usize,
    pub disjuncts: usize,
    pub rows: usize,
}

#[derive(Clone, Debug, Serialize)]
pub struct Counterexample {
    pub case: usize,
    pub disjunct: usize,
    pub x: Vec<f64>,
    pub y: Vec<f64>,
    /// Smallest `slack - required` over the met disjunct's rows (`>= 0`).
    pub margin_over_tolerance: f64,
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct StageSeconds {
    pub load: f64,
    pub write: f64,
    pub falsify: f64,
    pub bounds: f64,
    /// Of `bounds` (and inside `split`, summed over its threads): certifying LP bounds.
    pub certify: f64,
    pub split: f64,
    pub milp: f64,
    pub total: f64,
}

#[derive(Clone, Debug, Serialize)]
pub struct CaseReport {
    pub case: usize,
    /// `safe`, `violated` or `open`.
    pub outcome: &'static str,
    pub decided_by: Option<Stage>,
    pub reason: Option<String>,
    /// HiGHS's dual bound on the margin when a whole-box MILP ran (below 0: safe).
    pub margin_bound: Option<f64>,
    pub relu_unstable: Option<usize>,
    pub split: Option<split::Stats>,
}

#[derive(Clone, Debug, Serialize)]
pub struct FileInfo {
    pub case: usize,
    pub model: ModelInfo,
}

#[derive(Clone, Debug, Serialize)]
pub struct Report {
    pub tool: String,
    pub task: &'static str,
    pub network: NetworkInfo,
    pub property: PropertyInfo,
    pub verdict: Option<Verdict>,
    pub decided_by: Option<Stage>,
    pub counterexample: Option<Counterexample>,
    /// The falsifier's best score when it found nothing (`< 0`).
    pub falsifier_best_score: Option<f64>,
    pub cases: Vec<CaseReport>,
    pub files: Vec<FileInfo>,
    pub manifest: Option<String>,
    pub time_limit: f64,
    pub seconds: StageSeconds,
    /// The counterexample's start file (`--start`), when there was one to write.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start: Option<crate::tasks::start::StartInfo>,
}

/// What [`decide`] found.
#[derive(Clone, Debug, Default)]
pub struct Decision {
    pub verdict: Option<Verdict>,
    pub decided_by: Option<Stage>,
    pub counterexample: Option<Counterexample>,
    pub falsifier_best_score: Option<f64>,
    pub cases: Vec<CaseReport>,
    pub seconds: StageSeconds,
}

/// Decides `prop` on `net` (falsifier, bounds, splitting, MILP) within `cfg.time_limit`.
pub fn decide(net: &crate::ir::Network, prop: &Property, cfg: &Config) -> Decision {
    let specs: Vec<Option<SpecNet>> = prop.cases.iter().map(|c| SpecNet::new(net, c)).collect();
    let mut d = Decision::default();
    decide_all(cfg, net, prop, &specs, &mut d);
    d
}

/// The MILP of one case (what `-o` writes): the network over the case's box, with `method`'s
/// bounds, and the case's output disjunction.
pub fn case_model(
    net: &crate::ir::Network,
    case: &vnnlib::Case,
    encoding: Encoding,
    objective: Objective,
    method: Method,
) -> Result<(crate::milp::Milp, crate::lower::LowerStats, usize), TaskError> {
    match SpecNet::new(net, case) {
        Some(spec) => {
            let b = spec.bounds(&case.lo, &case.hi, method)?;
            let model = encode::encode(&spec, &b, encoding, objective, false, None)?;
            let ruled = spec.disjunct_rows.len() - model.live.len();
            Ok((model.lowered.milp, model.lowered.stats, ruled))
        }
        None => {
            let region = crate::bounds::Region::from(crate::bounds::InputBox {
                lo: case.lo.clone(),
                hi: case.hi.clone(),
            });
            let b = crate::tighten::compute(net, &region, method, &crate::bounds::BoundsOptions::default())?.0;
            let lowered = crate::lower::lower(net, &b, crate::lower::LowerOptions { encoding })?;
            Ok((lowered.milp, lowered.stats, 0))
        }
    }
}

/// A property file read and interpreted, with its identity.
pub struct PropertySource {
    pub path: PathBuf,
    pub sha256: String,
    pub property: Property,
}

impl PropertySource {
    pub fn load(path: &std::path::Path) -> Result<Self, TaskError> {
        let text = vnnlib::read_text(path)?;
        let file = path.display().to_string();
        let property = vnnlib::interpret(&file, &vnnlib::parse_script(&file, &text)?)?;
        Ok(PropertySource {
            path: path.to_path_buf(),
            sha256: format!("{:x}", Sha256::digest(text.as_bytes())),
            property,
        })
    }
    fn file_name(&self) -> String {
        self.path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default()
    }
}

/// VNN-COMP's result file: the verdict, and for `sat` the counterexample as
/// `((X_0 v) ... (Y_0 v))` (values printed so that they parse back to the same `f64`).
pub fn result_text(verdict: Verdict, ce: Option<&Counterexample>) -> String {
    let mut s = format!("{}\n", verdict.name());
    if let (Verdict::Sat, Some(ce)) = (verdict, ce) {
        let mut parts: Vec<String> = ce.x.iter().enumerate().map(|(i, v)| format!("(X_{i} {v:?})")).collect();
        parts.extend(ce.y.iter().enumerate().map(|(j, v)| format!("(Y_{j} {v:?})")));
        s.push('(');
        s.push_str(&parts.join("\n "));
        s.push_str(")\n");
    }
    s
}

/// Runs the task: writes the files, decides, writes result and report.
pub fn run(cfg: &Config) -> Result<Report, TaskError> {
    let start = Instant::now();
    let src = NetworkSource::load_with(&cfg.network, &cfg.load)?;
    let prop = PropertySource::load(&cfg.property)?;
    let net = &src.network;
    prop.property
        .check_shape(&cfg.property.display().to_string(), net.input_size(), net.output_size())?;
    if !(cfg.time_limit >= 0.0) {
        return Err(TaskError::BadSetting(format!(
            "time limit {} is not a number of seconds >= 0",
            cfg.time_limit
        )));
    }
    let mut seconds = StageSeconds {
        load: start.elapsed().as_secs_f64(),
        ..StageSeconds::default()
    };
    let p = &prop.property;
    let mut report = Report {
        tool: format!("nnmilp {}", env!("CARGO_PKG_VERSION")),
        task: "verify",
        network: NetworkInfo::of(&src),
        property: PropertyInfo {
            file: prop.file_name(),
            sha256: prop.sha256.clone(),
            cases: p.cases.len(),
            disjuncts: p.cases.iter().map(|c| c.disjuncts.len()).sum(),
            rows: p.cases.iter().flat_map(|c| &c.disjuncts).map(Vec::len).sum(),
        },
        verdict: None,
        decided_by: None,
        counterexample: None,
        falsifier_best_score: None,
        cases: Vec::new(),
        files: Vec::new(),
        manifest: None,
        time_limit: cfg.time_limit,
        seconds: StageSeconds::default(),
        start: None,
    };
    if let Some(out) = &cfg.output {
        let t0 = Instant::now();
        write_files(cfg, out, &src, &prop, &mut report)?;
        seconds.write = t0.elapsed().as_secs_f64();
    }
    if cfg.solve {
        let d = decide(net, p, cfg);
        seconds.falsify = d.seconds.falsify;
        seconds.bounds = d.seconds.bounds;
        seconds.split = d.seconds.split;
        seconds.milp = d.seconds.milp;
        seconds.certify = d.seconds.certify;
        report.verdict = d.verdict;
        report.decided_by = d.decided_by;
        report.counterexample = d.counterexample;
        report.falsifier_best_score = d.falsifier_best_score;
        report.cases = d.cases;
        let verdict = report.verdict.unwrap_or(Verdict::Unknown);
        if let Some(path) = &cfg.result {
            write_text_atomic(path, &result_text(verdict, report.counterexample.as_ref()))?;
        }
        if let (Some(out), Some(ce), false) = (&cfg.output, &report.counterexample, cfg.start.is_empty()) {
            report.start = Some(counterexample_start(cfg, out, net, p, ce)?);
        }
    }
    seconds.total = start.elapsed().as_secs_f64();
    report.seconds = seconds;
    if let Some(path) = &cfg.report {
        write_report(path, &report)?;
    }
    Ok(report)
}

/// The model file of case `k` of `n`: `OUT` itself for one case (or stdout), else `OUT.cK.mps`.
fn case_path(out: &str, k: usize, n: usize) -> String {
    if n == 1 || out == "-" {
        out.to_string()
    } else {
        super::tagged_path(out, &format!("c{k}"))
    }
}

/// The start file of a counterexample for its case's model: the case's model built again (the
/// same bytes as written), every column valued by solving it with the inputs fixed at the
/// counterexample (big-M: HiGHS takes no indicators; mapped by name onto the written model),
/// checked against the written model and written beside it.
fn counterexample_start(
    cfg: &Config,
    out: &str,
    net: &crate::ir::Network,
    p: &Property,
    ce: &Counterexample,
) -> Result<crate::tasks::start::StartInfo, TaskError> {
    use crate::tasks::start;
    let path = case_path(out, ce.case, p.cases.len());
    let case = &p.cases[ce.case];
    let (written, _, _) = case_model(net, case, cfg.encoding, cfg.objective, cfg.bounds)?;
    let solvable = match cfg.encoding {
        Encoding::BigM => written.clone(),
        _ => case_model(net, case, Encoding::BigM, cfg.objective, cfg.bounds)?.0,
    };
    let inputs: Vec<(String, f64)> = ce.x.iter().enumerate().map(|(j, &v)| (format!("in_{j}"), v)).collect();
    let err = |reason: String| TaskError::Start {
        path: start::start_path(&path, cfg.start[0]),
        reason,
    };
    let values = start::complete(&solvable, &inputs).map_err(err)?;
    let values = start::by_name(&solvable, &values, &written).map_err(err)?;
    start::write(&path, &written, values, &cfg.start, "counterexample")
}

/// One model file per case and a manifest (`OUT.manifest.json`) naming them.
fn write_files(
    cfg: &Config,
    out: &str,
    src: &NetworkSource,
    prop: &PropertySource,
    report: &mut Report,
) -> Result<(), TaskError> {
    let p = &prop.property;
    let mut entries = Vec::new();
    for (k, case) in p.cases.iter().enumerate() {
        let path = case_path(out, k, p.cases.len());
        let (milp, stats, ruled) = case_model(&src.network, case, cfg.encoding, cfg.objective, cfg.bounds)?;
        let mut header = Header::new(src);
        header.line(format!("property: {} sha256 {}", prop.file_name(), prop.sha256));
        header.line(format!(
            "case {k} of {}: inputs in the case's box, {} disjunct(s) over the outputs ({ruled} ruled out by {} bounds)",
            p.cases.len(),
            case.disjuncts.len(),
            cfg.bounds.name()
        ));
        header.line(if case.disjuncts.iter().any(Vec::is_empty) {
            "the case has an empty disjunct: every input of its box violates the property".to_string()
        } else {
            match cfg.objective {
                Objective::Margin => "maximise vmargin (the smallest slack of the chosen disjunct q_d's rows): \
                                      the property is violated in this case iff the optimum is >= 0"
                    .to_string(),
                Objective::Feasibility => "feasible iff the property is violated in this case".to_string(),
            }
        });
        write_model(&milp, &path, cfg.format, header)?;
        report.files.push(FileInfo {
            case: k,
            model: ModelInfo::of(&milp, &stats, cfg.encoding, cfg.bounds, Some(path.clone())),
        });
        entries.push(serde_json::json!({
            "case": k,
            "file": path,
            "input_lo": case.lo,
            "input_hi": case.hi,
            "disjuncts": case.disjuncts.len(),
            "ruled_out_by_bounds": ruled,
        }));
    }
    if out != "-" {
        let manifest = format!("{out}.manifest.json");
        let body = serde_json::json!({
            "tool": format!("nnmilp {}", env!("CARGO_PKG_VERSION")),
            "network": {"file": src.file_name(), "sha256": src.sha256},
            "property": {"file": prop.file_name(), "sha256": prop.sha256},
            "objective": cfg.objective.name(),
            "meaning": match cfg.objective {
                Objective::Margin => "the property is violated iff some case's model has an optimum vmargin >= 0",
                Objective::Feasibility => "the property is violated iff some case's model is feasible",
            },
            "encoding": cfg.encoding.name(),
            "bounds": cfg.bounds.name(),
            "cases": entries,
        });
        write_text_atomic(
            std::path::Path::new(&manifest),
            &(serde_json::to_string_pretty(&body).expect("json") + "\n"),
        )?;
        report.manifest = Some(manifest);
    }
    Ok(())
}

/// Re-checks a counterexample against the whole property: the input in a case's box, the
/// forward pass meeting every row of one of its disjuncts with VNN-COMP's tolerance as margin.
fn confirm(net: &crate::ir::Network, p: &Property, c: &Candidate) -> Option<Counterexample> {
    let y = net.forward(&c.x).ok()?;
    if y != c.y || !p.violated_by(&c.x, &y, |r| falsify::required_slack(r, &y)) {
        return None;
    }
    Some(Counterexample {
        case: c.case,
        disjunct: c.disjunct,
        x: c.x.clone(),
        y,
        margin_over_tolerance: c.score,
    })
}

fn decide_all(cfg: &Config, net: &crate::ir::Network, p: &Property, specs: &[Option<SpecNet>], report: &mut Decision) {
    let begin = Instant::now();
    let deadline = begin + std::time::Duration::from_secs_f64(cfg.time_limit.min(1e9));
    let sat = |report: &mut Decision, c: &Candidate, stage: Stage| -> bool {
        match confirm(net, p, c) {
            Some(ce) => {
                report.verdict = Some(Verdict::Sat);
                report.decided_by = Some(stage);
                report.counterexample = Some(ce);
                true
            }
            None => false,
        }
    };
    // 1. falsifier
    let t0 = Instant::now();
    let f_deadline = begin + std::time::Duration::from_secs_f64((cfg.time_limit * FALSIFY_SHARE).min(1e9));
    let best = falsify::falsify(net, p, &cfg.falsify, f_deadline);
    report.seconds.falsify = t0.elapsed().as_secs_f64();
    if let Some(c) = best.as_ref().filter(|c| c.is_counterexample()) {
        if sat(report, c, Stage::Falsifier) {
            return;
        }
    }
    report.falsifier_best_score = best.as_ref().map(|c| c.score);
    if p.cases.is_empty() {
        report.verdict = Some(Verdict::Unsat);
        report.decided_by = Some(Stage::Bounds);
        return;
    }
    let mut all_safe = true;
    let mut last_stage = Stage::Bounds;
    let mut timed_out = false;
    for (k, (case, spec)) in p.cases.iter().zip(specs).enumerate() {
        let mut cr = CaseReport {
            case: k,
            outcome: "open",
            decided_by: None,
            reason: None,
            margin_bound: None,
            relu_unstable: None,
            split: None,
        };
        let Some(spec) = spec else {
            // An empty disjunct makes every point of the box unsafe; the falsifier's centre
            // point is one, so reaching here means its replay failed.
            cr.reason = Some("empty disjunct but no replayable point".into());
            report.cases.push(cr);
            all_safe = false;
            continue;
        };
        // 2. bounds
        let t0 = Instant::now();
        let problem = decide::BoxProblem {
            spec,
            case,
            case_index: k,
            lo: case.lo.clone(),
            hi: case.hi.clone(),
        };
        let bounds = problem.bounds();
        report.seconds.bounds += t0.elapsed().as_secs_f64();
        let bounds = match bounds {
            Ok(b) => b,
            Err(e) => {
                cr.reason = Some(e.to_string());
                report.cases.push(cr);
                all_safe = false;
                continue;
            }
        };
        cr.relu_unstable = Some(spec.base_bounds(&bounds).relu_stability(net).1);
        let mut ruled = spec.ruled_out(&bounds);
        if !ruled.iter().all(|r| *r) && cfg.split.lp {
            let t0 = Instant::now();
            let (_, cert) = problem.lp_rule_out(&bounds, &mut ruled);
            report.seconds.bounds += t0.elapsed().as_secs_f64();
            report.seconds.certify += cert;
        }
        if ruled.iter().all(|r| *r) {
            cr.outcome = "safe";
            cr.decided_by = Some(Stage::Bounds);
            report.cases.push(cr);
            continue;
        }
        // 3. split, or 4. MILP
        let outcome = if cfg.allow_split && net.input_size() <= split::MAX_SPLIT_INPUTS {
            let t0 = Instant::now();
            let (o, stats) = split::run(spec, case, k, &cfg.split, best.as_ref(), ruled.clone(), deadline);
            report.seconds.split += t0.elapsed().as_secs_f64();
            report.seconds.certify += stats.certify_seconds;
            cr.split = Some(stats);
            cr.decided_by = Some(Stage::Split);
            o
        } else {
            let t0 = Instant::now();
            let threads = cfg.threads.unwrap_or_else(rayon::current_num_threads);
            let o = problem
                .milp(&bounds, &ruled, decide::remaining(deadline), threads, best.as_ref())
                .unwrap_or_else(|e| Outcome::Open {
                    reason: e.to_string(),
                    margin_bound: None,
                });
            report.seconds.milp += t0.elapsed().as_secs_f64();
            cr.decided_by = Some(Stage::Milp);
            o
        };
        match outcome {
            Outcome::Safe => {
                cr.outcome = "safe";
                last_stage = last_stage.max_stage(cr.decided_by.unwrap_or(Stage::Bounds));
                report.cases.push(cr);
            }
            Outcome::Violated(c) => {
                let stage = cr.decided_by.unwrap_or(Stage::Milp);
                if sat(report, &c, stage) {
                    cr.outcome = "violated";
                    report.cases.push(cr);
                    return;
                }
                cr.decided_by = None;
                cr.reason = Some("a candidate failed the final re-check".into());
                all_safe = false;
                report.cases.push(cr);
            }
            Outcome::Open { reason, margin_bound } => {
                timed_out |= reason == "time limit" || decide::remaining(deadline) <= 0.0;
                cr.decided_by = None;
                cr.reason = Some(reason);
                cr.margin_bound = margin_bound;
                all_safe = false;
                report.cases.push(cr);
            }
        }
    }
    report.verdict = Some(if all_safe {
        report.decided_by = Some(last_stage);
        Verdict::Unsat
    } else if timed_out {
        Verdict::Timeout
    } else {
        Verdict::Unknown
    });
}

impl Stage {
    /// The later of two stages (a verdict is credited to the last stage any case needed).
    fn max_stage(self, other: Stage) -> Stage {
        let rank = |s: Stage| s as u8;
        if rank(other) > rank(self) {
            other
        } else {
            self
        }
    }
}

/// One-paragraph human summary.
pub fn summary(r: &Report) -> String {
    let mut s = format!(
        "verify {} against {}: {} case(s), {} disjunct(s)",
        r.network.file, r.property.file, r.property.cases, r.property.disjuncts
    );
    for f in &r.files {
        s.push_str(&format!(
            "\n  wrote {} (case {}): {} columns, {} rows, {} binaries",
            f.model.file.as_deref().unwrap_or("-"),
            f.case,
            f.model.columns,
            f.model.rows,
            f.model.binaries
        ));
    }
    if let Some(st) = &r.start {
        s.push_str(&format!("\n  {st}"));
    }
    if let Some(v) = r.verdict {
        s.push_str(&format!(
            "\n  verdict: {}{} in {:.2} s (falsify {:.2}, bounds {:.2}, split {:.2}, milp {:.2})",
            v.name(),
            r.decided_by.map_or(String::new(), |d| format!(" (by {})", d.name())),
            r.seconds.total,
            r.seconds.falsify,
            r.seconds.bounds,
            r.seconds.split,
            r.seconds.milp
        ));
    }
    s.push('\n');
    s
}
