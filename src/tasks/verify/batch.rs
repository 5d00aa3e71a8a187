//! `batch`: every instance of a VNN-COMP `instances.csv` (`onnx,vnnlib,timeout`), one result
//! line each, resumable and shardable with no coordination.
//!
//! - **Resumable**: the results file is read first and every instance already in it is
//!   skipped. Each line is appended with one `write` on a file opened in append mode and
//!   synced; a last line without its newline (a run killed mid-write) counts as not done and
//!   is cut off before appending, so killing and rerunning loses nothing finished and does
//!   nothing twice.
//! - **Sharded**: `--shard I/N` takes the rows whose index (0-based, in file order) is `I`
//!   modulo `N`: N machines with the same file split it exactly, and `--merge` joins their
//!   result files (sorted by instance, refusing two different verdicts for one instance).
//! - **Parallel**: `--jobs N` runs instances on N rayon workers (splitting inside an instance
//!   shares the same pool).

use super::{Config as VerifyConfig, Verdict};
use crate::tasks::TaskError;
use rayon::prelude::*;
use std::collections::BTreeMap;
use std::fs::OpenOptions;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Instant;

/// The header of a results file.
pub const RESULTS_HEADER: &str = "onnx,vnnlib,verdict,seconds,stage";

#[derive(Clone, Debug)]
pub struct Config {
    pub instances: PathBuf,
    /// Folder the csv's paths are relative to (default: the csv's folder).
    pub root: Option<PathBuf>,
    pub results: PathBuf,
    pub jobs: usize,
    /// `(I, N)`: rows with index `I mod N`.
    pub shard: Option<(usize, usize)>,
    /// Each instance's time limit is its csv timeout times this.
    pub time_limit_scale: f64,
    /// Write every instance's MILP files (and manifest) under this folder.
    pub archive: Option<PathBuf>,
    /// Settings every instance's `verify` starts from (paths and time limit are replaced).
    pub verify: VerifyConfig,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Instance {
    pub onnx: String,
    pub vnnlib: String,
    pub timeout: f64,
}

#[derive(Debug, thiserror::Error)]
pub enum BatchError {
    #[error("{file}:{line}: {message}")]
    Csv { file: String, line: usize, message: String },
    #[error("{file}: {message}")]
    Io { file: String, message: String },
    #[error("{message}")]
    Usage { message: String },
    #[error("instance {onnx},{vnnlib}: {first} in one results file, {second} in another")]
    Conflict {
        onnx: String,
        vnnlib: String,
        first: String,
        second: String,
    },
}

fn io_err(path: &Path) -> impl Fn(std::io::Error) -> BatchError + '_ {
    move |e| BatchError::Io {
        file: path.display().to_string(),
        message: e.to_string(),
    }
}

/// Reads an `instances.csv` (an optional header line is skipped).
pub fn read_instances(path: &Path) -> Result<Vec<Instance>, BatchError> {
    let text = std::fs::read_to_string(path).map_err(io_err(path))?;
    let file = path.display().to_string();
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let f: Vec<&str> = line.split(',').map(str::trim).collect();
        let bad = |message: String| BatchError::Csv {
            file: file.clone(),
            line: n + 1,
            message,
        };
        if f.len() < 3 {
            return Err(bad(format!("expected onnx,vnnlib,timeout, found `{line}`")));
        }
        let timeout = match f[2].parse::<f64>() {
            Ok(t) if t.is_finite() && t >= 0.0 => t,
            _ if out.is_empty() && n == 0 => continue, // a header line
            _ => return Err(bad(format!("timeout `{}` is not a number of seconds", f[2]))),
        };
        out.push(Instance {
            onnx: f[0].to_string(),
            vnnlib: f[1].to_string(),
            timeout,
        });
    }
    Ok(out)
}

/// Parses `I/N` with `0 <= I < N`.
pub fn parse_shard(s: &str) -> Result<(usize, usize), String> {
    let (i, n) = s.split_once('/').ok_or_else(|| format!("shard `{s}` is not I/N"))?;
    let i: usize = i
        .trim()
        .parse()
        .map_err(|_| format!("shard index `{i}` is not a number"))?;
    let n: usize = n
        .trim()
        .parse()
        .map_err(|_| format!("shard count `{n}` is not a number"))?;
    if n == 0 || i >= n {
        return Err(format!("shard {i}/{n}: need 0 <= I < N"));
    }
    Ok((i, n))
}

/// One line of a results file.
#[derive(Clone, Debug, PartialEq)]
pub struct ResultLine {
    pub onnx: String,
    pub vnnlib: String,
    pub verdict: String,
    pub seconds: f64,
    pub stage: String,
}

impl ResultLine {
    fn to_line(&self) -> String {
        format!(
            "{},{},{},{:.3},{}\n",
            self.onnx, self.vnnlib, self.verdict, self.seconds, self.stage
        )
    }
}

/// The complete lines of a results file (a missing file has none; the header and a last line
/// cut short are ignored).
pub fn read_results(path: &Path) -> Result<Vec<ResultLine>, BatchError> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(io_err(path)(e)),
    };
    let complete = match text.rfind('\n') {
        Some(end) => &text[..end],
        None => "",
    };
    let mut out = Vec::new();
    for (n, line) in complete.lines().enumerate() {
        if line.trim().is_empty() || line == RESULTS_HEADER {
            continue;
        }
        let f: Vec<&str> = line.split(',').collect();
        let parsed = (f.len() == 5)
            .then(|| f[3].parse::<f64>().ok())
            .flatten()
            .filter(|_| Verdict::from_name(f[2]).is_some());
        let Some(seconds) = parsed else {
            return Err(BatchError::Csv {
                file: path.display().to_string(),
                line: n + 1,
                message: format!("not a results line ({RESULTS_HEADER}): `{line}`"),
            });
        };
        out.push(ResultLine {
            onnx: f[0].into(),
            vnnlib: f[1].into(),
            verdict: f[2].into(),
            seconds,
            stage: f[4].into(),
        });
    }
    Ok(out)
}

/// Cuts a last line without its newline (a run killed mid-write) off the results file, so that
/// appending starts on a fresh line.
fn drop_partial_line(path: &Path) -> Result<(), BatchError> {
    let err = io_err(path);
    let Ok(bytes) = std::fs::read(path) else { return Ok(()) };
    if bytes.is_empty() || bytes.last() == Some(&b'\n') {
        return Ok(());
    }
    let keep = bytes.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
    let f = OpenOptions::new().write(true).open(path).map_err(&err)?;
    f.set_len(keep as u64).map_err(&err)?;
    f.sync_all().map_err(&err)
}

/// Appends one line with a single write (the header first into an empty file) and syncs it.
fn append_line(path: &Path, line: &str) -> Result<(), BatchError> {
    let err = io_err(path);
    let empty = std::fs::metadata(path).map_or(true, |m| m.len() == 0);
    let mut f = OpenOptions::new().create(true).append(true).open(path).map_err(&err)?;
    let mut text = String::new();
    if empty {
        text.push_str(RESULTS_HEADER);
        text.push('\n');
    }
    text.push_str(line);
    f.write_all(text.as_bytes()).map_err(&err)?;
    f.sync_all().map_err(&err)
}

/// What a batch run did.
#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct Summary {
    pub instances: usize,
    pub in_shard: usize,
    pub skipped: usize,
    pub run: usize,
    pub verdicts: BTreeMap<String, usize>,
    pub seconds: f64,
    /// Seconds per stage over the instances run (falsify, bounds, split, milp).
    pub stage_seconds: BTreeMap<String, f64>,
}

/// A file-name-safe id of an instance for its archive folder.
fn archive_name(inst: &Instance) -> String {
    let stem = |p: &str| {
        let name = Path::new(p)
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        name.split('.').next().unwrap_or("").to_string()
    };
    format!("{}__{}", stem(&inst.onnx), stem(&inst.vnnlib))
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

pub fn run(cfg: &Config) -> Result<Summary, TaskError> {
    let start = Instant::now();
    let usage = |message: String| TaskError::BadSetting(message);
    if cfg.jobs == 0 {
        return Err(usage("--jobs must be at least 1".into()));
    }
    if !(cfg.time_limit_scale > 0.0 && cfg.time_limit_scale.is_finite()) {
        return Err(usage(format!(
            "--time-limit-scale {} must be a positive number",
            cfg.time_limit_scale
        )));
    }
    let instances = read_instances(&cfg.instances)?;
    let root = cfg.root.clone().unwrap_or_else(|| {
        cfg.instances
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .map_or_else(|| PathBuf::from("."), Path::to_path_buf)
    });
    let mine: Vec<&Instance> = instances
        .iter()
        .enumerate()
        .filter(|(i, _)| cfg.shard.is_none_or(|(k, n)| i % n == k))
        .map(|(_, inst)| inst)
        .collect();
    drop_partial_line(&cfg.results)?;
    let done: std::collections::HashSet<(String, String)> = read_results(&cfg.results)?
        .into_iter()
        .map(|r| (r.onnx, r.vnnlib))
        .collect();
    let todo: Vec<&Instance> = mine
        .iter()
        .copied()
        .filter(|i| !done.contains(&(i.onnx.clone(), i.vnnlib.clone())))
        .collect();
    let summary = Mutex::new(Summary {
        instances: instances.len(),
        in_shard: mine.len(),
        skipped: mine.len() - todo.len(),
        ..Summary::default()
    });
    let write_lock = Mutex::new(());
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(cfg.jobs)
        .build()
        .map_err(|e| BatchError::Usage {
            message: format!("cannot start {} threads: {e}", cfg.jobs),
        })?;
    let results: Vec<Result<(), BatchError>> = pool.install(|| {
        todo.par_iter()
            .with_max_len(1)
            .map(|inst| {
                let t0 = Instant::now();
                let mut v = cfg.verify.clone();
                v.network = root.join(&inst.onnx);
                v.property = root.join(&inst.vnnlib);
                v.time_limit = inst.timeout * cfg.time_limit_scale;
                v.solve = true;
                v.report = None;
                v.result = None;
                v.output = cfg.archive.as_ref().map(|dir| {
                    let d = dir.join(archive_name(inst));
                    let _ = std::fs::create_dir_all(&d);
                    d.join("model.mps.gz").display().to_string()
                });
                let outcome = super::run(&v);
                let seconds = t0.elapsed().as_secs_f64();
                let (verdict, stage, stages) = match &outcome {
                    Ok(r) => (
                        r.verdict.unwrap_or(Verdict::Unknown),
                        r.decided_by.map_or("-", |s| s.name()),
                        Some(r.seconds.clone()),
                    ),
                    Err(_) => (Verdict::Error, "-", None),
                };
                if let (Some(dir), Ok(r)) = (&cfg.archive, &outcome) {
                    let d = dir.join(archive_name(inst));
                    let _ = super::write_text_atomic(
                        &d.join("RESULT.txt"),
                        &super::result_text(verdict, r.counterexample.as_ref()),
                    );
                }
                let line = ResultLine {
                    onnx: inst.onnx.clone(),
                    vnnlib: inst.vnnlib.clone(),
                    verdict: verdict.name().into(),
                    seconds,
                    stage: stage.into(),
                };
                {
                    let _guard = write_lock.lock().unwrap_or_else(|e| e.into_inner());
                    append_line(&cfg.results, &line.to_line())?;
                }
                let mut s = summary.lock().unwrap_or_else(|e| e.into_inner());
                s.run += 1;
                *s.verdicts.entry(verdict.name().into()).or_insert(0) += 1;
                if let Some(t) = stages {
                    for (k, v) in [
                        ("falsify", t.falsify),
                        ("bounds", t.bounds),
                        ("split", t.split),
                        ("milp", t.milp),
                    ] {
                        *s.stage_seconds.entry(k.into()).or_insert(0.0) += v;
                    }
                }
                if let Err(e) = &outcome {
                    eprintln!("nnmilp batch: {},{}: error: {e}", inst.onnx, inst.vnnlib);
                }
                Ok(())
            })
            .collect()
    });
    for r in results {
        r?;
    }
    let mut s = summary.into_inner().unwrap_or_else(|e| e.into_inner());
    s.seconds = start.elapsed().as_secs_f64();
    Ok(s)
}

/// Joins shard result files into one, sorted by instance; refuses two verdicts for one instance.
pub fn merge(inputs: &[PathBuf], output: &Path) -> Result<usize, TaskError> {
    let mut all: BTreeMap<(String, String), ResultLine> = BTreeMap::new();
    for path in inputs {
        for line in read_results(path)? {
            let key = (line.onnx.clone(), line.vnnlib.clone());
            match all.get(&key) {
                Some(prev) if prev.verdict != line.verdict => {
                    return Err(BatchError::Conflict {
                        onnx: key.0,
                        vnnlib: key.1,
                        first: prev.verdict.clone(),
                        second: line.verdict,
                    }
                    .into())
                }
                Some(_) => {}
                None => {
                    all.insert(key, line);
                }
            }
        }
    }
    let mut text = format!("{RESULTS_HEADER}\n");
    for line in all.values() {
        text.push_str(&line.to_line());
    }
    super::write_text_atomic(output, &text)?;
    Ok(all.len())
}

/// Text summary of a batch run.
pub fn summary_text(s: &Summary) -> String {
    let verdicts: Vec<String> = s.verdicts.iter().map(|(k, v)| format!("{k} {v}")).collect();
    let stages: Vec<String> = s.stage_seconds.iter().map(|(k, v)| format!("{k} {v:.1}")).collect();
    format!(
        "batch: {} instance(s), {} in this shard, {} already done, {} run: {} in {:.1} s (stage seconds: {})\n",
        s.instances,
        s.in_shard,
        s.skipped,
        s.run,
        if verdicts.is_empty() {
            "-".into()
        } else {
            verdicts.join(", ")
        },
        s.seconds,
        stages.join(", ")
    )
}
