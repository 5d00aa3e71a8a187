//! `bounds`: run a bounds pass once and keep the result in a file for later tasks
//! (`--bounds-file`), with a per-method, per-layer report.

use super::{write_text_atomic, NetworkSource};
use crate::bounds::{self, BoundsFile, BoundsOptions, InputBox};
use std::path::PathBuf;

#[derive(Clone, Debug)]
pub struct Config {
    pub network: PathBuf,
    pub input_box: (f64, f64),
    pub method: bounds::Method,
    pub options: BoundsOptions,
    /// Where the bounds file goes (`-` = stdout).
    pub output: PathBuf,
}

/// Computes the bounds, writes the file and returns its contents.
pub fn run(cfg: &Config) -> Result<BoundsFile, crate::Error> {
    let src = NetworkSource::load(&cfg.network)?;
    let net = &src.network;
    let (lo, hi) = cfg.input_box;
    if !(lo.is_finite() && hi.is_finite() && lo <= hi) {
        return Err(super::TaskError::BadBox { lo, hi }.into());
    }
    let region = InputBox::uniform(net.input_size(), lo, hi);
    let (b, report) = bounds::compute_with(net, &region, cfg.method, &cfg.options)?;
    let file = BoundsFile::new(net, &src.file_name(), &src.sha256, &b, report);
    write_text_atomic(&cfg.output, &file.to_json())?;
    Ok(file)
}

/// The table `nnmilp bounds` prints: per method, time and unstable ReLUs, then per layer.
pub fn summary(file: &BoundsFile) -> String {
    let mut s = format!("{} (sha256 {}), {} bounds\n", file.network, file.sha256, file.method);
    for st in &file.report.stages {
        s += &format!(
            "{:<9} {:>9.3}s  {} unstable ReLUs\n",
            st.method, st.seconds, st.relu_unstable
        );
        for l in &st.layers {
            s += &format!(
                "    {:>3} {:<8} {:<16} {:>8.3}s  unstable {:>5} -> {:<5} mean width {:.4}\n",
                l.index, l.kind, l.name, l.seconds, l.unstable_before, l.unstable_after, l.mean_width
            );
        }
    }
    s
}
