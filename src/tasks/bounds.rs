//! `bounds`: run a bounds pass once and keep the result in a file for later tasks
//! (`--bounds-file`), with a per-method, per-layer report.

use super::query::{check_box, load_image_for, region_around};
use super::{write_text_atomic, NetworkSource, Norm};
use crate::bounds::{self, BoundsFile, BoundsOptions, L1Ball, Region};
use std::path::PathBuf;

#[derive(Clone, Debug)]
pub struct Config {
    pub network: PathBuf,
    pub input_box: (f64, f64),
    /// Bounds over the ball of this radius and norm around an image (clipped to the box)
    /// instead of the whole box: `(image spec, radius, norm)`.
    pub around: Option<(String, f64, Norm)>,
    pub method: bounds::Method,
    pub options: BoundsOptions,
    /// Where the bounds file goes (`-` = stdout).
    pub output: PathBuf,
}

/// Computes the bounds, writes the file and returns its contents.
pub fn run(cfg: &Config) -> Result<BoundsFile, crate::Error> {
    let src = NetworkSource::load(&cfg.network)?;
    let net = &src.network;
    check_box(cfg.input_box)?;
    let region = match &cfg.around {
        None => Region::from(region_around(net.input_size(), cfg.input_box, None)?),
        Some((spec, radius, norm)) => {
            let image = load_image_for(&src, spec)?;
            Region {
                input_box: region_around(net.input_size(), cfg.input_box, Some((&image.pixels[..], *radius)))?,
                l1: (*norm == Norm::L1).then(|| L1Ball {
                    center: image.pixels.clone(),
                    radius: *radius,
                }),
            }
        }
    };
    let (b, report) = crate::tighten::compute(net, &region, cfg.method, &cfg.options)?;
    let file = BoundsFile::new(net, &src.file_name(), &src.sha256, &region, &b, report);
    write_text_atomic(&cfg.output, &file.to_json())?;
    Ok(file)
}

/// The table `nnmilp bounds` prints: per method, time and unstable ReLUs, then per layer.
pub fn summary(file: &BoundsFile) -> String {
    let mut s = format!("{} (sha256 {}), {} bounds\n", file.network, file.sha256, file.method);
    if let Some(b) = &file.l1_ball {
        s += &format!(
            "region: the box cut by the L1 ball of radius {} around the image\n",
            b.radius
        );
    }
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
