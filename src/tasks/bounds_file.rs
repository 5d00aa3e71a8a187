//! `nnmilp bounds`: run a bounds pass once and keep the result in a file for later tasks
//! (`--bounds-file`), with a per-method, per-layer report.

use super::region::{ball_region, region_around};
use super::{write_text_atomic, ImageSource, InputRange, NetworkSource, Norm, TaskError};
use crate::bounds::{self, BoundsFile, BoundsOptions};
use crate::front::onnx::LoadOptions;
use std::fmt;
use std::path::PathBuf;

#[derive(Clone, Debug)]
pub struct Config {
    pub network: PathBuf,
    /// What the network file may make the loader allocate.
    pub load: LoadOptions,
    pub input_box: InputRange,
    /// Bounds over the ball of this radius and norm around an image (clipped to the box)
    /// instead of the whole box: `(image spec, radius, norm)`.
    pub around: Option<(String, f64, Norm)>,
    pub method: bounds::Method,
    pub options: BoundsOptions,
    /// Where the bounds file goes (`-` = stdout).
    pub output: PathBuf,
}

/// What `nnmilp bounds` wrote.
#[derive(Clone, Debug)]
pub struct Report {
    pub file: BoundsFile,
}

/// Computes the bounds, writes the file and returns its contents.
pub fn run(cfg: &Config) -> Result<Report, TaskError> {
    let src = NetworkSource::load_with(&cfg.network, &cfg.load)?;
    let net = &src.network;
    let region = match &cfg.around {
        None => cfg.input_box.input_box(net.input_size()).into(),
        Some((spec, radius, norm)) => {
            let image = ImageSource::load_for(&src, spec)?;
            let input_box = region_around(net.input_size(), cfg.input_box, Some((image.pixels(), *radius)))?;
            ball_region(&input_box, image.pixels(), *norm, Some(*radius))
        }
    };
    let (b, report) = crate::tighten::compute(net, &region, cfg.method, &cfg.options)?;
    let file = BoundsFile::new(net, &src.file_name(), &src.sha256, &region, &b, report);
    write_text_atomic(&cfg.output, &file.to_json())?;
    Ok(Report { file })
}

/// The table `nnmilp bounds` prints: per method, time and unstable ReLUs, then per layer.
impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let file = &self.file;
        writeln!(f, "{} (sha256 {}), {} bounds", file.network, file.sha256, file.method)?;
        if let Some(b) = &file.l1_ball {
            writeln!(
                f,
                "region: the box cut by the L1 ball of radius {} around the image",
                b.radius
            )?;
        }
        for st in &file.report.stages {
            writeln!(
                f,
                "{:<9} {:>9.3}s  {} unstable ReLUs",
                st.method, st.seconds, st.relu_unstable
            )?;
            for l in &st.layers {
                writeln!(
                    f,
                    "    {:>3} {:<8} {:<16} {:>8.3}s  unstable {:>5} -> {:<5} mean width {:.4}",
                    l.index, l.kind, l.name, l.seconds, l.unstable_before, l.unstable_after, l.mean_width
                )?;
            }
        }
        Ok(())
    }
}
