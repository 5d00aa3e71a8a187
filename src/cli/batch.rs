//! `nnmilp batch`: every instance of a VNN-COMP instances.csv (resumable, shardable), or a merge
//! of shard result files.

use super::args::{DecideArgs, LoadArgs};
use super::{CliError, Output};
use crate::tasks::verify::{self, batch};
use std::path::PathBuf;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// VNN-COMP instances.csv (onnx,vnnlib,timeout per line).
    ///
    /// An optional header line is skipped. Not needed with --merge.
    #[arg(required_unless_present = "merge")]
    pub instances: Option<PathBuf>,
    /// Folder the csv's paths are relative to [default: the csv's folder].
    ///
    /// Every onnx and vnnlib path of the csv is joined to this folder.
    #[arg(long, value_name = "DIR")]
    pub root: Option<PathBuf>,
    /// Results file: one line per instance is appended; instances already in it are skipped.
    ///
    /// Each line (onnx,vnnlib,verdict,seconds,stage) is appended and synced, so a killed run
    /// resumes where it stopped; a half-written last line is cut off.
    #[arg(long, value_name = "RESULTS.csv", default_value = "results.csv")]
    pub results: PathBuf,
    /// Instances run in parallel.
    ///
    /// At least 1; splitting inside an instance shares the same thread pool.
    #[arg(long, value_name = "N", default_value_t = 1)]
    pub jobs: usize,
    /// Take the rows whose 0-based index is I modulo N.
    ///
    /// N machines with the same csv split it exactly; join their result files with --merge.
    #[arg(long, value_name = "I/N", value_parser = batch::parse_shard)]
    pub shard: Option<(usize, usize)>,
    /// Each instance's time limit is its csv timeout times F.
    ///
    /// A positive finite number.
    #[arg(long, value_name = "F", default_value_t = 1.0)]
    pub time_limit_scale: f64,
    /// Archive every instance's MILP files, manifest and RESULT.txt under DIR/<net>__<property>/.
    ///
    /// The files are what `verify -o` writes for the instance.
    #[arg(short = 'o', long = "out", value_name = "ARCHIVE_DIR")]
    pub archive: Option<PathBuf>,
    /// Join these shard result files into --results instead of running.
    ///
    /// Sorted by instance; two different verdicts for one instance are refused.
    #[arg(long, value_name = "SHARD.csv", num_args = 1.., conflicts_with_all = ["instances", "shard", "archive"])]
    pub merge: Option<Vec<PathBuf>>,
    #[command(flatten)]
    pub load: LoadArgs,
    #[command(flatten)]
    pub decide: DecideArgs,
}

impl Args {
    pub fn run(self) -> Result<Output, CliError> {
        if let Some(shards) = &self.merge {
            let n = batch::merge(shards, &self.results)?;
            return Ok(Output {
                text: format!(
                    "merged {} result file(s): {n} instance(s) in {}\n",
                    shards.len(),
                    self.results.display()
                ),
                to_stderr: false,
            });
        }
        if self.jobs == 0 {
            return Err(CliError::Usage("--jobs must be at least 1".into()));
        }
        if !(self.time_limit_scale > 0.0 && self.time_limit_scale.is_finite()) {
            return Err(CliError::Usage(format!(
                "--time-limit-scale {} must be a positive number",
                self.time_limit_scale
            )));
        }
        let instances = self.instances.expect("clap requires INSTANCES without --merge");
        let mut verify_cfg = verify::Config::new("", "");
        self.decide.apply(&mut verify_cfg)?;
        verify_cfg.load = self.load.options();
        let summary = batch::run(&batch::Config {
            instances,
            root: self.root,
            results: self.results,
            jobs: self.jobs,
            shard: self.shard,
            time_limit_scale: self.time_limit_scale,
            archive: self.archive,
            verify: verify_cfg,
        })?;
        Ok(Output {
            text: batch::summary_text(&summary),
            to_stderr: false,
        })
    }
}
