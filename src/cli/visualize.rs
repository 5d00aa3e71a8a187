//! `nnmilp visualize`: the input that maximises (or minimises) one unit.

use super::args::{LoadArgs, NormArg, UnitQueryArgs};
use super::{CliError, Output};
use crate::milp::ObjSense;
use crate::tasks::visualize::{self, Near, Units};
use std::path::PathBuf;

/// `--output K|all`.
#[derive(Clone, Copy, Debug)]
pub enum ClassArg {
    One(usize),
    All,
}

fn parse_class(s: &str) -> Result<ClassArg, String> {
    if s == "all" {
        return Ok(ClassArg::All);
    }
    s.parse()
        .map(ClassArg::One)
        .map_err(|_| format!("expected an output index or `all`, got {s:?}"))
}

/// `--unit LAYER:INDEX` or `--output K|all`: exactly one.
#[derive(Debug, clap::Args)]
#[group(required = true, multiple = false)]
pub struct UnitArgs {
    /// Unit LAYER:INDEX, LAYER a label (L2, N5), a layer number or an ONNX node name.
    ///
    /// Labels and numbers as `nnmilp inspect` lists them, then names in the source file;
    /// INDEX is a flat index into the layer's value. An unknown unit is an error that lists
    /// the layers.
    #[arg(long, value_name = "LAYER:INDEX")]
    pub unit: Option<String>,
    /// Output column K, or `all` (one problem per class; with --png the paper's figure).
    ///
    /// With `all`, -o OUT writes OUT with .y<K> inserted before the extension.
    #[arg(long = "output", value_name = "K|all", value_parser = parse_class)]
    pub class: Option<ClassArg>,
}

/// `--near IMG --max-dist D`: both or neither (see [`super::args::BallArgs`]).
#[derive(Debug, clap::Args)]
pub struct NearArgs {
    /// Keep the input near this image (with --max-dist).
    ///
    /// An 8-bit grayscale PNG, a .npy array, or IDX_FILE:N; named in the header and report
    /// by file name and SHA-256.
    #[arg(long, value_name = "IMG", required = false, requires = "max_dist")]
    pub near: String,
    /// Largest distance from the --near image.
    ///
    /// In the norm of --norm; the bounds pass runs over the box clipped to the ball.
    #[arg(long, value_name = "D", required = false, requires = "near")]
    pub max_dist: f64,
}

#[derive(Debug, clap::Args)]
pub struct Args {
    /// ONNX network (.onnx or .onnx.gz).
    ///
    /// Named in the header and report by file name and SHA-256.
    pub network: PathBuf,
    #[command(flatten)]
    pub load: LoadArgs,
    #[command(flatten)]
    pub unit: UnitArgs,
    #[command(flatten)]
    pub near: Option<NearArgs>,
    /// Distance used with --near.
    ///
    /// linf: the box clipped to the ball. l1: distance columns d_j and sum_j d_j <= D over that
    /// box.
    #[arg(long, value_enum, default_value_t = NormArg::Linf, requires = "near")]
    pub norm: NormArg,
    /// Maximise the unit (the default).
    ///
    /// The model stores the sense; the written file minimises the negated objective, and its
    /// header says so.
    #[arg(long, conflicts_with = "minimize")]
    pub maximize: bool,
    /// Minimise the unit instead of maximising it.
    ///
    /// The least value the unit takes over the region, and an input attaining it.
    #[arg(long)]
    pub minimize: bool,
    #[command(flatten)]
    pub query: UnitQueryArgs,
    /// Draw the optimising inputs as a grid of images.
    ///
    /// Five per row, black where no point was found; needs --solve and an image-shaped input.
    #[arg(long, value_name = "P.png", requires = "solve")]
    pub png: Option<PathBuf>,
}

impl Args {
    pub fn run(self) -> Result<Output, CliError> {
        let q = &self.query;
        let m = &q.model;
        let units = match (self.unit.class, self.unit.unit) {
            (Some(ClassArg::One(k)), _) => Units::Output(k),
            (Some(ClassArg::All), _) => Units::AllOutputs,
            (None, unit) => Units::Unit(unit.expect("clap requires --unit or --output")),
        };
        m.check(units != Units::AllOutputs)?;
        let cfg = visualize::Config {
            network: self.network,
            load: self.load.options(),
            units,
            sense: if self.minimize {
                ObjSense::Minimize
            } else {
                ObjSense::Maximize
            },
            input_box: q.input_box.input_box,
            near: self.near.map(|n| Near {
                image: n.near,
                max_dist: n.max_dist,
                norm: self.norm.into(),
            }),
            encoding: m.relu.into(),
            bounds: q.bounds.into(),
            bounds_options: q.tightening.options(),
            output: m.output.clone(),
            format: m.format(),
            solve: m.solve,
            solve_options: m.solve_options(),
            report: m.report.clone(),
            start: q.start_formats()?,
            png: self.png,
        };
        let report = visualize::run(&cfg)?;
        Ok(Output {
            text: report.to_string(),
            to_stderr: m.stdout_taken(),
        })
    }
}
