//! The embedded solver: a [`Milp`] (or an MPS / LP file) solved in-process by HiGHS.
//!
//! HiGHS reads the same solver-neutral [`Milp`] that the file writers read, so an in-process
//! solve and a written file describe one model. Results come back in the MILP's own terms:
//! column values in its column order, objective and bound in its sense with its offset added.
//!
//! Runs are reproducible: HiGHS's random seed is fixed, and with a fixed thread count HiGHS's
//! MIP solver is deterministic.

pub mod highs;

use crate::milp::Milp;
use highs::Highs;
use std::path::{Path, PathBuf};
use thiserror::Error;

/// The seed HiGHS gets on every run (its default, stated so that a change upstream cannot change
/// our results).
const RANDOM_SEED: i32 = 0;

/// Largest [`Milp::max_violation`] the debug build accepts in a point HiGHS calls feasible. HiGHS
/// works to `1e-6` integrality and `1e-7` primal feasibility tolerances on its scaled model;
/// anything far beyond means the model handed over differs from the one checked.
const DEBUG_VIOLATION_TOLERANCE: f64 = 1e-4;

/// How to run HiGHS. The default is HiGHS's own behaviour, without its console output.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SolveOptions {
    /// Seconds before HiGHS stops with [`Status::TimeLimit`].
    pub time_limit: Option<f64>,
    /// HiGHS's `threads` option (`None`: HiGHS decides).
    pub threads: Option<usize>,
    /// Relative MIP gap at which HiGHS stops (`None`: HiGHS's default, 1e-4).
    pub mip_rel_gap: Option<f64>,
    /// Show HiGHS's log on the console.
    pub verbose: bool,
    /// Further HiGHS options by name and text value (`--highs-option NAME=VALUE`), applied
    /// after the ones above in this order, so a later one overrides an earlier one. A task's
    /// own tuned settings go first and a user's after them.
    pub highs_options: Vec<(String, String)>,
}

impl SolveOptions {
    /// Checks the options without a solver, so that a task can refuse them before it writes
    /// anything (`--time-limit nan` must not leave a model file behind).
    pub fn validate(&self) -> Result<(), SolveError> {
        if let Some(t) = self.time_limit.filter(|t| t.is_nan() || *t < 0.0) {
            return Err(SolveError::Option(format!(
                "time limit {t} is not a number of seconds >= 0"
            )));
        }
        if let Some(n) = self.threads.filter(|&n| i32::try_from(n).is_err()) {
            return Err(SolveError::Option(format!("{n} threads")));
        }
        if let Some(g) = self.mip_rel_gap.filter(|g| g.is_nan() || *g < 0.0) {
            return Err(SolveError::Option(format!("relative MIP gap {g} is not >= 0")));
        }
        if !self.highs_options.is_empty() {
            // Only HiGHS knows its option names and types: ask a throw-away instance.
            let mut h = Highs::new()?;
            for (name, value) in &self.highs_options {
                h.set_option_text(name, value)?;
            }
        }
        Ok(())
    }

    /// These options with `tuned` (a task's measured settings) applied before the caller's own
    /// `highs_options`, which therefore still win.
    pub fn with_tuning(&self, tuned: &[(&str, &str)]) -> SolveOptions {
        let mut highs_options: Vec<(String, String)> =
            tuned.iter().map(|&(k, v)| (k.to_string(), v.to_string())).collect();
        highs_options.extend(self.highs_options.iter().cloned());
        SolveOptions {
            highs_options,
            ..self.clone()
        }
    }
}

/// What became of a solve, condensed from HiGHS's model statuses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Optimal,
    /// HiGHS proved that no point satisfies the model.
    Infeasible,
    Unbounded,
    TimeLimit,
    /// Anything else (including "infeasible or unbounded", which proves neither); the exact
    /// HiGHS status is in [`Solution::status_text`].
    Other,
}

#[derive(Clone, Debug)]
pub struct Solution {
    pub status: Status,
    /// HiGHS's model status in words.
    pub status_text: String,
    /// Column values in [`Milp`] column order, when a feasible point is known (also at a limit).
    pub values: Option<Vec<f64>>,
    /// Objective value of `values`, in the model's sense, offset included.
    pub objective: Option<f64>,
    /// Best proven bound on the objective (MIP: HiGHS's dual bound; LP: the optimum), in the
    /// model's sense, offset included.
    pub dual_bound: Option<f64>,
    /// Relative gap between `objective` and `dual_bound` as HiGHS computes it.
    pub gap: Option<f64>,
    /// Wall-clock seconds of the run.
    pub seconds: f64,
    /// Branch-and-bound nodes (MIP) and simplex iterations of the run: the solver's work,
    /// which, unlike seconds, does not depend on the machine's load, so that settings can be
    /// compared on a shared machine (and two runs of one model with one option set match).
    pub nodes: Option<i64>,
    pub lp_iterations: Option<i64>,
}

#[derive(Debug, Error)]
pub enum SolveError {
    #[error(
        "the model has {count} indicator constraints, which HiGHS ignores; lower it with big-M rows \
         (--relu bigm) to solve it with HiGHS, or write it to a file for an indicator-aware solver"
    )]
    Indicators { count: usize },
    #[error("HiGHS: {0}")]
    Highs(String),
    #[error("numbers out of HiGHS's range: {0}")]
    Numbers(String),
    #[error("{}: {message}", path.display())]
    File { path: PathBuf, message: String },
    #[error("the model has {count} {what}, more than HiGHS's 32-bit indices can address")]
    TooLarge { what: String, count: usize },
    #[error("invalid solver option: {0}")]
    Option(String),
}

impl Highs {
    /// Applies the options that [`solve`] and [`solve_file`] honour, plus the fixed seed.
    pub fn apply_options(&mut self, opts: &SolveOptions) -> Result<(), SolveError> {
        opts.validate()?;
        self.set_bool_option("output_flag", opts.verbose)?;
        self.set_int_option("random_seed", RANDOM_SEED)?;
        if let Some(t) = opts.time_limit {
            self.set_double_option("time_limit", t)?;
        }
        if let Some(n) = opts.threads {
            self.set_int_option("threads", n as i32)?;
        }
        if let Some(g) = opts.mip_rel_gap {
            self.set_double_option("mip_rel_gap", g)?;
        }
        for (name, value) in &opts.highs_options {
            self.set_option_text(name, value)?;
        }
        Ok(())
    }

    /// The result of the last [`Highs::run`], in the loaded model's terms.
    pub fn solution(&self) -> Result<Solution, SolveError> {
        let model_status = self.model_status();
        let status = model_status.condensed();
        let finite = |v: f64| v.is_finite().then_some(v);
        let values = if self.has_feasible_point()? {
            Some(self.col_values()?)
        } else {
            None
        };
        let objective = match values {
            Some(_) => finite(self.double_info("objective_function_value")?),
            None => None,
        };
        let (dual_bound, gap) = if self.is_mip()? {
            let known = values.is_some() || status == Status::Optimal || status == Status::TimeLimit;
            if known {
                (
                    finite(self.double_info("mip_dual_bound")?),
                    finite(self.double_info("mip_gap")?),
                )
            } else {
                (None, None)
            }
        } else if status == Status::Optimal {
            (objective, Some(0.0))
        } else {
            (None, None)
        };
        let mip = self.is_mip()?;
        Ok(Solution {
            status,
            status_text: model_status.text(),
            values,
            objective,
            dual_bound,
            gap,
            seconds: self.last_run_seconds(),
            nodes: if mip {
                self.int64_info("mip_node_count").ok()
            } else {
                None
            },
            lp_iterations: self.int_info("simplex_iteration_count").ok().map(i64::from),
        })
    }
}

/// Solves `milp` with HiGHS. Refuses models with indicator constraints, which HiGHS would
/// silently drop (solving a relaxation instead).
pub fn solve(milp: &Milp, opts: &SolveOptions) -> Result<Solution, SolveError> {
    solve_from(milp, opts, None)
}

/// [`solve`], starting from `start` (one value per column) when given: a feasible start is
/// HiGHS's first incumbent.
pub fn solve_from(milp: &Milp, opts: &SolveOptions, start: Option<&[f64]>) -> Result<Solution, SolveError> {
    if !milp.indicators().is_empty() {
        return Err(SolveError::Indicators {
            count: milp.indicators().len(),
        });
    }
    let mut h = Highs::new()?;
    h.apply_options(opts)?;
    h.pass_milp(milp)?;
    if let Some(x) = start {
        h.set_solution(x)?;
    }
    h.run()?;
    let sol = h.solution()?;
    if let Some(x) = &sol.values {
        debug_assert!(
            milp.max_violation(x) <= DEBUG_VIOLATION_TOLERANCE,
            "HiGHS returned a point violating the model by {}",
            milp.max_violation(x)
        );
    }
    Ok(sol)
}

/// Reads an MPS/LP file with HiGHS's own reader and solves it (the round-trip tests check our
/// files this way). Values are in the file's column order.
pub fn solve_file(path: &Path, opts: &SolveOptions) -> Result<Solution, SolveError> {
    let mut h = Highs::new()?;
    h.apply_options(opts)?;
    h.read_model(path)?;
    h.run()?;
    h.solution()
}
