//! `nnmilp replay`: the way back from a solver. A solution file written by any of the six
//! solvers (for a model nnmilp wrote, or one the user built around a `compile`d network) is
//! read, its input columns `in_j` are mapped back to an input, the `f64` forward pass runs,
//! and the report says what the network really does there: the outputs, the predicted class,
//! how far the solver's own output columns `y_j` are from the forward pass, the largest
//! violation of any row of the model (with `--model`), and, for a model whose header says it is
//! an adversarial problem, whether the goal (target or untargeted margin, distance budget)
//! holds on the forward pass.
//!
//! The point *violates* the network when the solver's outputs differ from the forward pass, or a
//! row of the model is violated, by more than [`REPLAY_TOLERANCE`] relative to the magnitudes
//! involved; the CLI then exits non-zero, as it does when the goal does not hold.

use super::output::{picture_dims, write_report};
use super::report::{tool, NetworkInfo};
use super::verify::PropertySource;
use super::{ImageSource, NetworkSource, Norm, TaskError, REPLAY_TOLERANCE};
use crate::back::read as model;
use crate::data;
use crate::front::onnx::LoadOptions;
use crate::front::solution::{self, Values};
use crate::ir::argmax;
use crate::milp::Milp;
use serde::Serialize;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

#[derive(Clone, Debug)]
pub struct Config {
    pub network: PathBuf,
    /// What the network file may make the loader allocate.
    pub load: LoadOptions,
    pub solution: PathBuf,
    /// The solver's format; `None` detects it from the file.
    pub format: Option<solution::SolutionFormat>,
    /// The model file the solution belongs to (needed for GLPK, whose solutions number the columns).
    pub model: Option<PathBuf>,
    /// The image of an adversarial model, when the path in its header does not lead to it.
    pub image: Option<String>,
    /// The property of a `verify` model, when the file name in its header does not lead to it.
    pub property: Option<PathBuf>,
    /// Prefix of the network's column names (`compile --prefix`); empty for nnmilp's own models.
    pub prefix: String,
    /// A picture of the input (original | replayed | difference when the image is known).
    pub png: Option<PathBuf>,
    pub report: Option<PathBuf>,
}

#[derive(Clone, Debug, Serialize)]
pub struct Report {
    pub tool: String,
    pub task: &'static str,
    pub network: NetworkInfo,
    pub solution: SolutionInfo,
    pub model: Option<ModelCheck>,
    /// The input read from the solution's `in_j` columns.
    pub input: Vec<f64>,
    /// The forward pass at `input`.
    pub outputs: Vec<f64>,
    pub predicted: usize,
    /// `max_j |y_j (solver) - y_j (forward pass)|`, when the solution has output columns.
    pub output_error: Option<f64>,
    pub goal: Option<GoalCheck>,
    /// The point disagrees with the network (outputs or rows) beyond the tolerance.
    pub violates: bool,
    pub tolerance: f64,
    pub png: Option<String>,
}

#[derive(Clone, Debug, Serialize)]
pub struct SolutionInfo {
    pub file: String,
    pub format: &'static str,
    pub status: Option<String>,
    /// The objective the solver states (of the file's model, which nnmilp always minimises).
    pub objective: Option<f64>,
}

#[derive(Clone, Debug, Serialize)]
pub struct ModelCheck {
    pub file: String,
    pub columns: usize,
    pub rows: usize,
    pub indicators: usize,
    /// The largest violation of a row, an active indicator or a column bound, with its name
    /// (`None` when nothing is violated at all).
    pub max_violation: f64,
    pub max_violation_at: Option<String>,
    /// `max_violation` relative to `1 + ` the largest term of that row (what the tolerance is
    /// compared with).
    pub max_relative_violation: f64,
    /// Integer columns whose value is off an integer by more than 1e-5.
    pub fractional_integers: usize,
}

/// The goal an nnmilp model's header states, checked on the forward pass; `compile`'s models
/// have none (the network alone: the report's outputs are the whole answer).
#[derive(Clone, Debug, Serialize)]
#[serde(untagged)]
pub enum GoalCheck {
    Adversarial(AdversarialCheck),
    /// `visualize` (a unit's value) and `range` (an output's value).
    Unit(UnitCheck),
    Verify(VerifyCheck),
}

impl GoalCheck {
    pub fn holds(&self) -> bool {
        match self {
            GoalCheck::Adversarial(g) => g.holds,
            GoalCheck::Unit(g) => g.holds,
            GoalCheck::Verify(g) => g.holds,
        }
    }
}

/// `visualize` / `range`: the unit (or output) whose extreme the model asks for, its value on
/// the forward pass, and whether the point lies in the model's region and the solver's
/// objective is that value.
#[derive(Clone, Debug, Serialize)]
pub struct UnitCheck {
    /// `visualize` or `range`.
    pub task: &'static str,
    /// `maximize` or `minimize`.
    pub sense: &'static str,
    /// `unit 3 of layer N5 (fc3)`, `output y_1`.
    pub unit: String,
    /// The layer's number (as `nnmilp inspect` lists them) and the flat index in it.
    pub layer: usize,
    pub index: usize,
    /// The unit's value on the forward pass at the point.
    pub value: f64,
    /// The solver's objective in the model's sense, offset included (the header says how the
    /// file's minimised objective maps back), when the solution states one.
    pub objective: Option<f64>,
    /// `|objective - value|`.
    pub objective_error: Option<f64>,
    /// How far the point lies outside the input box (0 inside).
    pub box_violation: f64,
    /// Near an image (`visualize --near`, `range --image --eps`): the norm, the radius, the image
    /// when it was found, and the point's distance from it.
    pub near: Option<NearCheck>,
    pub holds: bool,
}

#[derive(Clone, Debug, Serialize)]
pub struct NearCheck {
    pub norm: Norm,
    pub max_dist: f64,
    pub image: Option<String>,
    pub distance: Option<f64>,
}

/// `verify`: whether the point is a counterexample to the property in the model's case: the
/// input in the case's box and the outputs meeting one of its disjuncts.
#[derive(Clone, Debug, Serialize)]
pub struct VerifyCheck {
    pub task: &'static str,
    /// The property's file name as the header gives it, and where it was found.
    pub property: String,
    pub property_file: Option<String>,
    pub case: usize,
    /// How far the input lies outside the case's box (0 inside); `None` without the property.
    pub box_violation: Option<f64>,
    /// The disjunct met best (largest smallest slack of its rows) and that slack (>= 0 up to
    /// the tolerance: met).
    pub disjunct: Option<usize>,
    pub slack: Option<f64>,
    /// The point is a counterexample: the property is violated (`sat`).
    pub holds: bool,
}

/// The adversarial goal stated in an nnmilp model's header, checked on the forward pass.
#[derive(Clone, Debug, Serialize)]
pub struct AdversarialCheck {
    pub task: &'static str,
    /// `targeted` or `untargeted`.
    pub mode: &'static str,
    pub target: Option<usize>,
    pub true_class: Option<usize>,
    pub margin: f64,
    /// `relative`, `absolute` or `magnitude`.
    pub margin_kind: &'static str,
    /// Targeted: the smallest slack over all other classes; untargeted: the largest over the
    /// classes that may win. Non-negative (up to the tolerance) when the margin holds.
    pub margin_slack: f64,
    pub norm: Norm,
    /// The image the distance is measured from, when it could be loaded.
    pub image: Option<String>,
    pub distance: Option<f64>,
    /// The distance budget of the model (`--max-dist`, region tightening's radius).
    pub budget: Option<f64>,
    /// `|solver objective - distance|`.
    pub objective_error: Option<f64>,
    pub holds: bool,
}

/// The goal as the header of an adversarial model states it.
#[derive(Clone, Debug, PartialEq)]
struct Goal {
    norm: Norm,
    /// The image's file name as the header gives it (`mnist_7.png`, `t10k-images-idx3-ubyte.gz:17`).
    image: String,
    /// Its SHA-256, when the header states it.
    image_sha256: Option<String>,
    /// `(winner, loser)` pattern: targeted `T` beats all `j`, or some `j` beats `c`.
    targeted: bool,
    class: usize,
    relative: bool,
    /// `y_W >= y_L + m * |y_L|` (`--margin-kind magnitude`).
    magnitude: bool,
    margin: f64,
    budget: Option<f64>,
    /// The L1 distance in split form: `in_j = img_j + p_j - n_j` substituted, no `in_j` columns.
    split: bool,
}

/// The header's lines with wrapped lines (continuations start with two spaces) joined.
fn join_header(header: &[String]) -> Vec<String> {
    let mut joined: Vec<String> = Vec::new();
    for l in header {
        match (l.strip_prefix("  "), joined.last_mut()) {
            (Some(rest), Some(last)) => {
                last.push(' ');
                last.push_str(rest.trim_start());
            }
            _ => joined.push(l.clone()),
        }
    }
    joined
}

/// A `visualize` or `range` model as its header states it.
#[derive(Clone, Debug, PartialEq)]
struct UnitGoal {
    task: &'static str,
    maximize: bool,
    /// `None`: the network's output layer (`range`).
    layer: Option<usize>,
    index: usize,
    unit: String,
    lo: f64,
    hi: f64,
    /// `(norm, radius, image file name, its SHA-256)`.
    near: Option<(Norm, f64, String, Option<String>)>,
}

/// A `verify` model as its header states it.
#[derive(Clone, Debug, PartialEq)]
struct VerifyGoal {
    property: String,
    property_sha256: Option<String>,
    case: usize,
}

/// `name sha256 HEX` -> `(name, Some(HEX))`.
fn name_and_sha(s: &str) -> (String, Option<String>) {
    match s.trim().split_once(" sha256 ") {
        Some((name, sha)) => (name.trim().to_string(), Some(sha.trim().to_string())),
        None => (s.trim().to_string(), None),
    }
}

/// `[lo, hi]` at the start of `s`.
fn parse_box(s: &str) -> Option<(f64, f64)> {
    let (lo, rest) = s.trim_start().strip_prefix('[')?.split_once(',')?;
    let hi = rest.split_once(']')?.0;
    Some((lo.trim().parse().ok()?, hi.trim().parse().ok()?))
}

/// `maximize REST` / `minimize REST` -> `(maximize, REST)`.
fn sense(s: &str) -> Option<(bool, &str)> {
    if let Some(r) = s.strip_prefix("maximize ") {
        Some((true, r))
    } else {
        s.strip_prefix("minimize ").map(|r| (false, r))
    }
}

/// Reads the task line `visualize` and `range` write (see their `header`s).
fn parse_unit(header: &[String]) -> Option<UnitGoal> {
    let header = join_header(header);
    if let Some(t) = header.iter().find_map(|l| l.strip_prefix("task: visualize, ")) {
        // `maximize unit 3 of layer N5 (fc3, number 5)`
        let (maximize, rest) = sense(t)?;
        let (index, rest) = rest.strip_prefix("unit ")?.split_once(" of layer ")?;
        let (label_name, number) = rest.rsplit_once(", number ")?;
        let layer = number.trim_end_matches(')').parse().ok()?;
        let options = header.iter().find_map(|l| l.strip_prefix("options: box "))?;
        let (lo, hi) = parse_box(options)?;
        // `within l1 distance 0.5 of image x.npy sha256 ab12 relu ...`
        let near = match options.split_once(" within ") {
            Some((_, w)) => {
                let (norm, rest) = w.split_once(" distance ")?;
                let (d, rest) = rest.split_once(" of image ")?;
                let image = rest.rsplit_once(" relu ")?.0;
                let (image, sha) = name_and_sha(image);
                Some((Norm::from_name(norm)?, d.parse().ok()?, image, sha))
            }
            None => None,
        };
        return Some(UnitGoal {
            task: "visualize",
            maximize,
            layer: Some(layer),
            index: index.parse().ok()?,
            unit: format!("unit {index} of layer {label_name})"),
            lo,
            hi,
            near,
        });
    }
    // `maximize output y_1 over the input box [0, 1]`, or `... over the Linf ball of radius
    // 0.1 around image x.npy sha256 ab12, clipped to box [0, 1]`
    let t = header.iter().find_map(|l| l.strip_prefix("task: range, "))?;
    let (maximize, rest) = sense(t)?;
    let (index, rest) = rest.strip_prefix("output y_")?.split_once(" over the ")?;
    let (near, bx) = match rest.strip_prefix("Linf ball of radius ") {
        Some(r) => {
            let (eps, r) = r.split_once(" around image ")?;
            let (image, bx) = r.split_once(", clipped to box ")?;
            let (image, sha) = name_and_sha(image);
            (Some((Norm::Linf, eps.parse().ok()?, image, sha)), bx)
        }
        None => (None, rest.strip_prefix("input box ")?),
    };
    let (lo, hi) = parse_box(bx)?;
    Some(UnitGoal {
        task: "range",
        maximize,
        layer: None,
        index: index.parse().ok()?,
        unit: format!("output y_{index}"),
        lo,
        hi,
        near,
    })
}

/// Reads `verify`'s provenance lines: the property and the case.
fn parse_verify(header: &[String]) -> Option<VerifyGoal> {
    let header = join_header(header);
    let (property, property_sha256) = name_and_sha(header.iter().find_map(|l| l.strip_prefix("property: "))?);
    let case = header
        .iter()
        .find_map(|l| l.strip_prefix("case "))?
        .split_once(" of ")?
        .0
        .parse()
        .ok()?;
    Some(VerifyGoal {
        property,
        property_sha256,
        case,
    })
}

/// How the file's (minimised, offset-free) objective maps back to the model's, from the
/// writer's `objective:` header line: `(negated, offset)`, model = offset ± file.
fn objective_map(header: &[String]) -> (bool, f64) {
    let header = join_header(header);
    let Some(l) = header.iter().find_map(|l| l.strip_prefix("objective: ")) else {
        return (false, 0.0);
    };
    let offset = l
        .split_once("offset ")
        .and_then(|(_, r)| r.split_whitespace().next()?.parse().ok())
        .unwrap_or(0.0);
    (l.starts_with("maximize"), offset)
}

/// Reads the goal lines `adversarial`'s header writes; `None` for other models.
fn parse_goal(header: &[String]) -> Option<Goal> {
    let joined = join_header(header);
    let header = &joined[..];
    let task = header
        .iter()
        .find_map(|l| l.strip_prefix("task: adversarial, minimize "))?;
    let (distance, image) = task.split_once(" to image ")?;
    let norm = if distance.starts_with("L1 ") {
        Norm::L1
    } else if distance.starts_with("Linf ") {
        Norm::Linf
    } else {
        return None;
    };
    let split = distance.contains("p_j + n_j");
    // `y_W >= (1 + m) * y_L`, `y_W >= y_L + m * |y_L| (rows ...)` or `y_W >= y_L + m`.
    let beats = |s: &str| -> Option<(bool, bool, f64)> {
        let rhs = s.split_once(">= ")?.1;
        if let Some((lhs, _)) = rhs.split_once(" * |") {
            Some((false, true, lhs.rsplit_once(" + ")?.1.trim().parse().ok()?))
        } else if let Some(r) = rhs.strip_prefix("(1 + ") {
            Some((true, false, r.split_once(')')?.0.parse().ok()?))
        } else {
            Some((false, false, rhs.rsplit_once(" + ")?.1.trim().parse().ok()?))
        }
    };
    let (targeted, class, (relative, magnitude, margin)) =
        if let Some(l) = header.iter().find_map(|l| l.strip_prefix("target class ")) {
            let (t, rest) = l.split_once(' ')?;
            let inner = rest.strip_prefix("(margin ")?.split(" for all").next()?;
            (true, t.parse().ok()?, beats(inner)?)
        } else {
            let l = header
                .iter()
                .find_map(|l| l.strip_prefix("untargeted away from class "))?;
            let (c, rest) = l.split_once(':')?;
            let inner = rest.split_once(" with ")?.1.split(" (big-M").next()?;
            (false, c.parse().ok()?, beats(inner)?)
        };
    let max_dist = header
        .iter()
        .find_map(|l| l.strip_prefix("options: "))
        .and_then(|o| o.split("max-dist ").nth(1))
        .and_then(|d| d.trim().parse::<f64>().ok());
    let radius = header
        .iter()
        .find_map(|l| l.split_once("inside the ball of radius "))
        .and_then(|(_, r)| r.split_whitespace().next()?.parse::<f64>().ok());
    let budget = match (max_dist, radius) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    };
    let (image, image_sha256) = match image.trim().split_once(" sha256 ") {
        Some((name, sha)) => (name.trim().to_string(), Some(sha.trim().to_string())),
        None => (image.trim().to_string(), None),
    };
    Some(Goal {
        norm,
        image,
        image_sha256,
        targeted,
        class,
        relative,
        magnitude,
        margin,
        budget,
        split,
    })
}

/// The solution's values by column name (GLPK's numbers through the model's column order).
fn named_values(
    sol: &solution::SolutionFile,
    milp: Option<&Milp>,
    path: &Path,
) -> Result<HashMap<String, f64>, TaskError> {
    match &sol.values {
        Values::Named(m) => Ok(m.clone()),
        Values::Numbered(m) => {
            let milp = milp.ok_or_else(|| TaskError::Replay {
                path: path.to_path_buf(),
                reason: "a GLPK solution numbers the columns without names: give the model file with --model".into(),
            })?;
            let cols = milp.cols();
            m.iter()
                .map(|(&j, &v)| match j.checked_sub(1).and_then(|i| cols.get(i)) {
                    Some(c) => Ok((c.name.clone(), v)),
                    None => Err(TaskError::Replay {
                        path: path.to_path_buf(),
                        reason: format!("column {j} does not exist in the model ({} columns)", cols.len()),
                    }),
                })
                .collect()
        }
    }
}

/// The largest violation of `milp`'s rows, active indicators and bounds at `values` (absent = 0).
fn check_model(milp: &Milp, values: &HashMap<String, f64>, file: String) -> ModelCheck {
    let x: Vec<f64> = milp
        .cols()
        .iter()
        .map(|c| values.get(&c.name).copied().unwrap_or(0.0))
        .collect();
    let worst = milp.worst_violation(&x);
    ModelCheck {
        file,
        columns: milp.cols().len(),
        rows: milp.rows().len(),
        indicators: milp.indicators().len(),
        max_violation: worst.absolute,
        max_violation_at: worst.at,
        max_relative_violation: worst.relative,
        fractional_integers: worst.fractional_integers,
    }
}

/// Loads the goal's image: `--image`, else the header's file name next to the model, next to
/// the network, else in the working directory; a file whose SHA-256 differs from the header's
/// is not the image.
fn goal_image(cfg: &Config, name: &str, sha256: Option<&str>, src: &NetworkSource) -> Option<(String, data::Image)> {
    if let Some(i) = &cfg.image {
        return ImageSource::load_for(src, i).ok().map(|img| (i.clone(), img.image));
    }
    candidates(cfg, name).into_iter().find_map(|c| {
        let img = ImageSource::load_for(src, &c).ok()?;
        let same = sha256.map_or(true, |s| s == img.sha256);
        same.then(|| (c, img.image))
    })
}

/// Where a file the header names may be: next to the model, next to the network, then in the
/// working directory.
fn candidates(cfg: &Config, name: &str) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(dir) = cfg.model.as_deref().and_then(Path::parent) {
        out.push(dir.join(name).to_string_lossy().into_owned());
    }
    if let Some(dir) = cfg.network.parent() {
        out.push(dir.join(name).to_string_lossy().into_owned());
    }
    out.push(name.to_string());
    out
}

/// Loads the property a `verify` model names: `--property`, else by file name like the image,
/// used only if its SHA-256 matches the header's.
fn goal_property(cfg: &Config, goal: &VerifyGoal) -> Option<(String, PropertySource)> {
    if let Some(p) = &cfg.property {
        return PropertySource::load(p).ok().map(|s| (p.display().to_string(), s));
    }
    candidates(cfg, &goal.property).into_iter().find_map(|c| {
        let prop = PropertySource::load(Path::new(&c)).ok()?;
        let same = goal.property_sha256.as_deref().map_or(true, |s| s == prop.sha256);
        same.then_some((c, prop))
    })
}

/// The largest distance of `x` outside the box `[lo, hi]` per input.
fn box_violation(x: &[f64], lo: impl Fn(usize) -> f64, hi: impl Fn(usize) -> f64) -> f64 {
    x.iter()
        .enumerate()
        .map(|(j, &v)| (lo(j) - v).max(v - hi(j)).max(0.0))
        .fold(0.0, f64::max)
}

pub fn run(cfg: &Config) -> Result<Report, TaskError> {
    let src = NetworkSource::load_with(&cfg.network, &cfg.load)?;
    let net = &src.network;
    let sol = solution::read(&cfg.solution, cfg.format).map_err(|e| TaskError::Replay {
        path: cfg.solution.clone(),
        reason: e.to_string(),
    })?;
    let model_file = match &cfg.model {
        Some(p) => Some(model::read(p).map_err(|e| TaskError::Replay {
            path: p.clone(),
            reason: e.to_string(),
        })?),
        None => None,
    };
    let values = named_values(&sol, model_file.as_ref().map(|m| &m.milp), &cfg.solution)?;
    let n_in = net.input_size();
    let col = |kind: &str, j: usize| format!("{}{kind}_{j}", cfg.prefix);
    let goal_def = model_file.as_ref().and_then(|m| parse_goal(&m.header));
    // A split-form L1 model has no `in_j`: the input is `img_j + p_j - n_j`.
    let split_image = goal_def
        .as_ref()
        .filter(|g| g.split)
        .and_then(|g| goal_image(cfg, &g.image, g.image_sha256.as_deref(), &src))
        .map(|(_, img)| img.pixels);
    if split_image.is_some() {
        // The input comes from the image and p_j / n_j: there are no in_j to look for.
    } else if let Some(m) = &model_file {
        let names: std::collections::HashSet<&str> = m.milp.cols().iter().map(|c| c.name.as_str()).collect();
        if let Some(j) = (0..n_in).find(|&j| !names.contains(col("in", j).as_str())) {
            return Err(TaskError::Replay {
                path: cfg.model.clone().unwrap_or_default(),
                reason: format!(
                    "the model has no column {} although the network has {n_in} inputs: is it a model of this network?",
                    col("in", j)
                ),
            });
        }
    } else if !(0..n_in).any(|j| values.contains_key(&col("in", j))) && !values.is_empty() {
        return Err(TaskError::Replay {
            path: cfg.solution.clone(),
            reason: format!(
                "no column {}..{} in the solution: is it a solution of an nnmilp model of this network?",
                col("in", 0),
                col("in", n_in - 1)
            ),
        });
    }
    let input: Vec<f64> = (0..n_in)
        .map(|j| match (values.get(&col("in", j)), &split_image) {
            (Some(&v), _) => v,
            (None, Some(img)) => {
                let get = |k: &str| values.get(&col(k, j)).copied().unwrap_or(0.0);
                img[j] + get("p") - get("n")
            }
            (None, None) => 0.0,
        })
        .collect();
    let outputs = net.forward(&input)?;
    let predicted = argmax(&outputs);
    let scale = 1.0 + outputs.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    let output_error = (0..outputs.len()).any(|k| values.contains_key(&col("y", k))).then(|| {
        (0..outputs.len())
            .map(|k| (values.get(&col("y", k)).copied().unwrap_or(0.0) - outputs[k]).abs())
            .fold(0.0, f64::max)
    });
    let model = model_file.as_ref().map(|m| {
        check_model(
            &m.milp,
            &values,
            cfg.model.as_ref().map(|p| p.display().to_string()).unwrap_or_default(),
        )
    });
    let violates = output_error.is_some_and(|e| e > REPLAY_TOLERANCE * scale)
        || model
            .as_ref()
            .is_some_and(|m| m.max_relative_violation > REPLAY_TOLERANCE);

    let goal = goal_def.map(|g| {
        let others = |c: usize| (0..outputs.len()).filter(move |&j| j != c);
        let beat = |w: usize, l: usize| {
            if g.magnitude {
                outputs[w] - outputs[l] - g.margin * outputs[l].abs()
            } else if g.relative {
                outputs[w] - (1.0 + g.margin) * outputs[l]
            } else {
                outputs[w] - outputs[l] - g.margin
            }
        };
        let slack = if g.targeted {
            others(g.class).map(|j| beat(g.class, j)).fold(f64::INFINITY, f64::min)
        } else {
            others(g.class)
                .map(|j| beat(j, g.class))
                .fold(f64::NEG_INFINITY, f64::max)
        };
        let wins = if g.targeted {
            predicted == g.class
        } else {
            predicted != g.class
        };
        let image = goal_image(cfg, &g.image, g.image_sha256.as_deref(), &src);
        let distance = image.as_ref().map(|(_, img)| g.norm.distance(&input, &img.pixels));
        let within = match (distance, g.budget) {
            (Some(d), Some(b)) => d <= b + REPLAY_TOLERANCE * (1.0 + b),
            _ => true,
        };
        let tol = REPLAY_TOLERANCE * scale;
        GoalCheck::Adversarial(AdversarialCheck {
            task: "adversarial",
            mode: if g.targeted { "targeted" } else { "untargeted" },
            target: g.targeted.then_some(g.class),
            true_class: (!g.targeted).then_some(g.class),
            margin: g.margin,
            margin_kind: if g.magnitude {
                "magnitude"
            } else if g.relative {
                "relative"
            } else {
                "absolute"
            },
            margin_slack: slack,
            norm: g.norm,
            image: image.as_ref().map(|(s, _)| s.clone()),
            distance,
            budget: g.budget,
            objective_error: distance.zip(sol.objective).map(|(d, o)| (d - o).abs()),
            holds: slack >= -tol && (wins || g.margin <= 0.0) && within,
        })
    });
    let header = model_file.as_ref().map_or(&[][..], |m| &m.header[..]);
    let goal = goal.or_else(|| {
        let g = parse_unit(header)?;
        let (negated, offset) = objective_map(header);
        let layer = g.layer.unwrap_or(net.output().index());
        let value = net.forward_all(&input).ok()?.get(layer)?.get(g.index).copied()?;
        let objective = sol.objective.map(|f| if negated { offset - f } else { offset + f });
        let objective_error = objective.map(|o| (o - value).abs());
        let near = g.near.as_ref().map(|(norm, max_dist, name, sha)| {
            let image = goal_image(cfg, name, sha.as_deref(), &src);
            NearCheck {
                norm: *norm,
                max_dist: *max_dist,
                distance: image.as_ref().map(|(_, img)| norm.distance(&input, &img.pixels)),
                image: image.map(|(s, _)| s),
            }
        });
        let bv = box_violation(&input, |_| g.lo, |_| g.hi);
        let within = near.as_ref().and_then(|n| n.distance.map(|d| (d, n.max_dist)));
        let holds = objective_error.is_none_or(|e| e <= REPLAY_TOLERANCE * (1.0 + value.abs()))
            && bv <= REPLAY_TOLERANCE * (1.0 + g.lo.abs().max(g.hi.abs()))
            && within.is_none_or(|(d, m)| d <= m + REPLAY_TOLERANCE * (1.0 + m));
        Some(GoalCheck::Unit(UnitCheck {
            task: g.task,
            sense: if g.maximize { "maximize" } else { "minimize" },
            unit: g.unit,
            layer,
            index: g.index,
            value,
            objective,
            objective_error,
            box_violation: bv,
            near,
            holds,
        }))
    });
    let goal = goal.or_else(|| {
        let g = parse_verify(header)?;
        let found = goal_property(cfg, &g);
        let case = found.as_ref().and_then(|(_, p)| p.property.cases.get(g.case));
        let bv = case.map(|c| box_violation(&input, |j| c.lo[j], |j| c.hi[j]));
        // The disjunct met best: the largest over disjuncts of its rows' smallest slack.
        let best = case.and_then(|c| {
            c.disjuncts
                .iter()
                .map(|d| d.iter().map(|r| r.slack(&outputs)).fold(f64::INFINITY, f64::min))
                .enumerate()
                .max_by(|a, b| a.1.total_cmp(&b.1))
        });
        let tol = REPLAY_TOLERANCE * scale;
        let holds = bv.is_some_and(|v| v <= REPLAY_TOLERANCE) && best.is_some_and(|(_, s)| s >= -tol);
        Some(GoalCheck::Verify(VerifyCheck {
            task: "verify",
            property: g.property,
            property_file: found.map(|(f, _)| f),
            case: g.case,
            box_violation: bv,
            disjunct: best.map(|b| b.0),
            slack: best.map(|b| b.1).filter(|s| s.is_finite()),
            holds,
        }))
    });

    let png = match &cfg.png {
        Some(path) => {
            let image = goal.as_ref().and_then(|_| {
                let g = parse_goal(&model_file.as_ref()?.header)?;
                goal_image(cfg, &g.image, g.image_sha256.as_deref(), &src)
            });
            let dims = picture_dims(net, image.as_ref().map(|(_, i)| i)).ok_or_else(|| TaskError::NoPicture {
                path: path.clone(),
                shape: net.layer(net.input()).shape.clone(),
            })?;
            match &image {
                Some((_, img)) => data::write_comparison_png(path, &img.pixels, &input, dims.0, dims.1)?,
                None => data::write_grid_png(path, std::slice::from_ref(&input), dims.0, dims.1, 1)?,
            }
            Some(path.display().to_string())
        }
        None => None,
    };

    let report = Report {
        tool: tool(),
        task: "replay",
        network: NetworkInfo::of(&src),
        solution: SolutionInfo {
            file: cfg.solution.display().to_string(),
            format: sol.format.id(),
            status: sol.status.clone(),
            objective: sol.objective,
        },
        model,
        input,
        outputs,
        predicted,
        output_error,
        goal,
        violates,
        tolerance: REPLAY_TOLERANCE,
        png,
    };
    if let Some(path) = &cfg.report {
        write_report(path, &report)?;
    }
    Ok(report)
}

fn verdict(holds: bool) -> &'static str {
    if holds {
        "holds"
    } else {
        "DOES NOT HOLD"
    }
}

impl Report {
    /// The human summary the CLI prints.
    pub fn to_text(&self) -> String {
        let mut s = format!(
            "replay of {} ({} solution{}{}) through {}\n",
            self.solution.file,
            self.solution.format,
            self.solution
                .status
                .as_ref()
                .map_or(String::new(), |st| format!(", status {st}")),
            self.solution
                .objective
                .map_or(String::new(), |o| format!(", objective {o}")),
            self.network.file
        );
        s += &format!("predicted class {}; outputs {:?}\n", self.predicted, self.outputs);
        if let Some(e) = self.output_error {
            s += &format!("solver's outputs differ from the forward pass by up to {e:.3e}\n");
        }
        if let Some(m) = &self.model {
            s += &match &m.max_violation_at {
                Some(at) => format!(
                    "model {}: largest violation {:.3e} at {at} ({:.3e} relative){}\n",
                    m.file,
                    m.max_violation,
                    m.max_relative_violation,
                    if m.fractional_integers > 0 {
                        format!("; {} fractional integer columns", m.fractional_integers)
                    } else {
                        String::new()
                    }
                ),
                None => format!("model {}: every row and bound holds\n", m.file),
            };
        }
        match &self.goal {
            Some(GoalCheck::Adversarial(g)) => {
                let who = match (g.target, g.true_class) {
                    (Some(t), _) => format!("target {t}"),
                    (_, Some(c)) => format!("away from {c}"),
                    _ => String::new(),
                };
                s += &format!(
                    "goal ({who}, {} margin {}): margin slack {:.3e}{}{} -> {}\n",
                    g.margin_kind,
                    g.margin,
                    g.margin_slack,
                    g.distance
                        .map_or(" (image not found: distance unknown)".to_string(), |d| format!(
                            ", {} distance {d:.6}",
                            g.norm.name()
                        )),
                    g.budget.map_or(String::new(), |b| format!(" (budget {b})")),
                    verdict(g.holds)
                );
            }
            Some(GoalCheck::Unit(g)) => {
                s += &format!(
                    "goal ({}, {} {}): value {:.6} on the forward pass{}{}{} -> {}\n",
                    g.task,
                    g.sense,
                    g.unit,
                    g.value,
                    g.objective
                        .map_or(String::new(), |o| format!(", solver's objective {o:.6}")),
                    if g.box_violation > 1e-9 {
                        format!(", {:.3e} outside the box", g.box_violation)
                    } else {
                        String::new()
                    },
                    g.near.as_ref().map_or(String::new(), |n| match n.distance {
                        Some(d) => format!(", {} distance {d:.6} (at most {})", n.norm.name(), n.max_dist),
                        None => " (image not found: distance unknown)".to_string(),
                    }),
                    verdict(g.holds)
                );
            }
            Some(GoalCheck::Verify(g)) => {
                s += &match (&g.property_file, g.disjunct, g.slack) {
                    (None, _, _) => format!(
                        "goal (verify {} case {}): property file not found (give --property) -> {}\n",
                        g.property,
                        g.case,
                        verdict(g.holds)
                    ),
                    (Some(f), d, slack) => format!(
                        "goal (verify {f} case {}): input {:.3e} outside the case's box, best disjunct {} with slack {} -> {}\n",
                        g.case,
                        g.box_violation.unwrap_or(f64::NAN),
                        d.map_or("none".to_string(), |d| d.to_string()),
                        slack.map_or("none".to_string(), |s| format!("{s:.3e}")),
                        if g.holds {
                            "a counterexample (the property is violated)"
                        } else {
                            "NOT a counterexample"
                        }
                    ),
                };
            }
            None => {}
        }
        if self.violates {
            s += "the point VIOLATES the network beyond the tolerance\n";
        }
        if let Some(p) = &self.png {
            s += &format!("wrote {p}\n");
        }
        s
    }

    /// Whether the CLI should exit with an error: the point violates the network, or the goal
    /// of the model does not hold on the forward pass.
    pub fn failed(&self) -> bool {
        self.violates || self.goal.as_ref().is_some_and(|g| !g.holds())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_goals_are_read() {
        let h = |lines: &[&str]| lines.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let g = parse_goal(&h(&[
            "task: adversarial, minimize L1 distance sum d_j to image tests/in/tiny_point.npy",
            "target class 0 (margin y_0 >= y_j + 0.2 for all j != 0)",
            "options: box [0, 1] relu bigm bounds interval max-dist none",
        ]))
        .unwrap();
        assert_eq!(
            (
                g.norm,
                g.image.as_str(),
                g.targeted,
                g.class,
                g.relative,
                g.margin,
                g.budget
            ),
            (Norm::L1, "tests/in/tiny_point.npy", true, 0, false, 0.2, None)
        );
        let g = parse_goal(&h(&[
            "task: adversarial, minimize Linf distance dmax to image x.png",
            "untargeted away from class 7: binary t_j picks one j != 7 with y_j >= (1 + 0.25) * y_7 (big-M rows beat_j, sum t_j = 1)",
            "options: box [0, 1] relu bigm bounds region-lp max-dist 3",
            "region tightening: an example at linf distance 0.5 (first-order search + LP polishing) bounds the optimum, so bounds were tightened inside the ball of radius 0.5000005 around the image and the model has that distance budget; unstable ReLUs 3 -> 1",
        ]))
        .unwrap();
        assert_eq!(
            (g.norm, g.targeted, g.class, g.relative, g.margin, g.budget),
            (Norm::Linf, false, 7, true, 0.25, Some(0.5000005))
        );
        // Main's headers: the image by file name and SHA-256, long lines wrapped.
        let g = parse_goal(&h(&[
            "task: adversarial, minimize Linf distance dmax to image x.png sha256 ab12",
            "untargeted away from class 7: binary t_j picks one j != 7 with y_j >= y_7 + 0.1 (big-M rows beat_j, sum t_j = 1)",
            "options: box [0, 1] relu bigm bounds region-lp max-dist none",
            "region tightening: an example at linf distance 0.5 (first-order search + LP polishing) bounds the optimum, so bounds were tightened inside the ball of",
            "  radius 0.25 around the image and the model has that distance budget; unstable ReLUs 3 -> 1",
        ]))
        .unwrap();
        assert_eq!(
            (g.image.as_str(), g.image_sha256.as_deref(), g.margin, g.budget),
            ("x.png", Some("ab12"), 0.1, Some(0.25))
        );
        assert_eq!(parse_goal(&h(&["task: range of y_1"])), None);
    }

    #[test]
    fn unit_and_verify_headers_are_read() {
        let h = |lines: &[&str]| lines.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let v = parse_unit(&h(&[
            "task: visualize, minimize unit 3 of layer L2 (relu2, number 4)",
            "options: box [0, 1] within l1 distance 0.5 of image p.npy sha256 ab12 relu bigm bounds interval",
        ]))
        .unwrap();
        assert_eq!(
            (v.task, v.maximize, v.layer, v.index, v.unit.as_str(), v.lo, v.hi),
            ("visualize", false, Some(4), 3, "unit 3 of layer L2 (relu2)", 0.0, 1.0)
        );
        assert_eq!(v.near, Some((Norm::L1, 0.5, "p.npy".into(), Some("ab12".into()))));
        let r = parse_unit(&h(&[
            "task: range, maximize output y_1 over the Linf ball of radius 0.1 around image p.npy sha256 ab12,",
            "  clipped to box [-1, 2]",
        ]))
        .unwrap();
        assert_eq!(
            (r.task, r.maximize, r.layer, r.index, r.lo, r.hi),
            ("range", true, None, 1, -1.0, 2.0)
        );
        assert_eq!(r.near, Some((Norm::Linf, 0.1, "p.npy".into(), Some("ab12".into()))));
        let r = parse_unit(&h(&["task: range, minimize output y_0 over the input box [0, 1]"])).unwrap();
        assert_eq!((r.index, r.near), (0, None));
        assert_eq!(
            objective_map(&h(&[
                "objective: maximize, written negated as minimize: optimum = -(file optimum)"
            ])),
            (true, 0.0)
        );
        assert_eq!(
            objective_map(&h(&[
                "objective: maximize, written negated as minimize; offset 0.25 not written: optimum = 0.25 - (file optimum)"
            ])),
            (true, 0.25)
        );
        assert_eq!(objective_map(&h(&["model m: 3 columns"])), (false, 0.0));
        let g = parse_verify(&h(&[
            "property: prop_6.vnnlib sha256 194f",
            "case 1 of 2: inputs in the case's box, 4 disjunct(s) over the outputs (0 ruled out by symbolic bounds)",
        ]))
        .unwrap();
        assert_eq!(
            g,
            VerifyGoal {
                property: "prop_6.vnnlib".into(),
                property_sha256: Some("194f".into()),
                case: 1
            }
        );
        assert_eq!(parse_unit(&h(&["task: compile - the network alone"])), None);
    }
}
