//! Which solver reads which construct of our files: the capability table behind `--for`.
//!
//! Both writers emit the common subset of `shared/formats/README.md` §4, which all six solvers
//! read identically, plus one construct outside it: indicator constraints (`--relu
//! indicator|both`; MPS `INDICATORS`, LP `z = 1 -> ...`). A solver meets that construct in one of
//! three ways, and the difference matters: a refusal is an error message the user sees, a
//! misreading is a wrong answer without a warning (CBC 2.10 takes the LP arrow `->` for a row
//! `z = 1` plus a column named `>` and answers "infeasible"). So a model is checked against the
//! solver it is meant for *before* it is written, and `--for any` (the default) allows only what
//! every one of the six reads the same way.
//!
//! The table is not a belief: `tests/solver_matrix.rs` has each solver read files with and
//! without every construct, asserts that each one behaves as [`reading`] says (right optimum,
//! refusal, or a different answer), and writes the outcome to `docs/solvers.md`.

use super::Format;
use crate::milp::Milp;
use std::fmt;
use thiserror::Error;

/// The solvers whose readers are tested against our files.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Solver {
    Highs,
    Scip,
    Gurobi,
    Cplex,
    Cbc,
    Glpk,
}

impl Solver {
    pub const ALL: [Solver; 6] = [
        Solver::Highs,
        Solver::Scip,
        Solver::Gurobi,
        Solver::Cplex,
        Solver::Cbc,
        Solver::Glpk,
    ];

    /// The lower-case name used on the command line and in test results.
    pub fn id(self) -> &'static str {
        match self {
            Solver::Highs => "highs",
            Solver::Scip => "scip",
            Solver::Gurobi => "gurobi",
            Solver::Cplex => "cplex",
            Solver::Cbc => "cbc",
            Solver::Glpk => "glpk",
        }
    }

    pub fn from_id(id: &str) -> Option<Solver> {
        Solver::ALL.into_iter().find(|s| s.id().eq_ignore_ascii_case(id))
    }
}

impl fmt::Display for Solver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Solver::Highs => "HiGHS",
            Solver::Scip => "SCIP",
            Solver::Gurobi => "Gurobi",
            Solver::Cplex => "CPLEX",
            Solver::Cbc => "CBC",
            Solver::Glpk => "GLPK",
        })
    }
}

/// The solver a written model is meant for (`--for`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Target {
    /// Whatever reads the file must read it right: only constructs all six read identically.
    #[default]
    Any,
    One(Solver),
}

impl Target {
    /// `any` or a solver's [`Solver::id`].
    pub fn from_id(id: &str) -> Option<Target> {
        if id.eq_ignore_ascii_case("any") {
            Some(Target::Any)
        } else {
            Solver::from_id(id).map(Target::One)
        }
    }

    fn solvers(self) -> Vec<Solver> {
        match self {
            Target::Any => Solver::ALL.to_vec(),
            Target::One(s) => vec![s],
        }
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Target::Any => f.write_str("any"),
            Target::One(s) => f.write_str(s.id()),
        }
    }
}

/// A construct of our files outside the common subset.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Construct {
    /// Indicator constraints (`--relu indicator|both`).
    Indicators,
}

impl Construct {
    pub const ALL: [Construct; 1] = [Construct::Indicators];

    /// The constructs `milp` would put into a file.
    pub fn used_by(milp: &Milp) -> Vec<Construct> {
        let mut used = Vec::new();
        if !milp.indicators().is_empty() {
            used.push(Construct::Indicators);
        }
        used
    }
}

impl fmt::Display for Construct {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Construct::Indicators => "indicator constraints",
        })
    }
}

/// How a solver's reader takes a construct.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reading {
    /// Read as meant: the file's optimum.
    Reads,
    /// The reader stops with an error.
    Refuses,
    /// The reader accepts the file and solves a different model, without an error.
    Misreads,
}

/// The capability table (`shared/formats/README.md` §2, §3.11; confirmed on our own files by
/// `tests/solver_matrix.rs`).
pub fn reading(solver: Solver, construct: Construct, format: Format) -> Reading {
    match (construct, solver, format) {
        (Construct::Indicators, Solver::Scip | Solver::Gurobi | Solver::Cplex, _) => Reading::Reads,
        (Construct::Indicators, Solver::Highs | Solver::Glpk, _) => Reading::Refuses,
        (Construct::Indicators, Solver::Cbc, Format::Mps) => Reading::Refuses,
        (Construct::Indicators, Solver::Cbc, Format::Lp) => Reading::Misreads,
    }
}

/// A model that the target solver(s) would not read as meant.
#[derive(Debug, Error, PartialEq)]
pub enum TargetError {
    #[error(
        "{construct} in {format} form are misread by {solver} (it solves a different model without an error); \
         write big-M rows (--relu bigm) or a file for another solver (--for scip|gurobi|cplex)"
    )]
    Misread {
        solver: Solver,
        construct: Construct,
        format: Format,
    },
    #[error(
        "{construct} in {format} form are not read by {solver}; write big-M rows (--relu bigm) or a file for \
         a solver that reads them (--for scip|gurobi|cplex)"
    )]
    Unread {
        solver: Solver,
        construct: Construct,
        format: Format,
    },
    #[error(
        "{construct} are not read the same way by every solver (--for any): {who}; write big-M rows (--relu bigm) \
         or name the solver the file is for (--for scip|gurobi|cplex)"
    )]
    NotPortable {
        construct: Construct,
        format: Format,
        /// `HiGHS refuses them, CBC misreads them, ...`.
        who: String,
    },
}

/// Checks that `target` reads every construct in `used` as meant in `format`. A misreading is
/// reported before a refusal: it is the worse failure.
pub fn check(target: Target, used: &[Construct], format: Format) -> Result<(), TargetError> {
    for &construct in used {
        let bad: Vec<(Solver, Reading)> = target
            .solvers()
            .into_iter()
            .map(|s| (s, reading(s, construct, format)))
            .filter(|&(_, r)| r != Reading::Reads)
            .collect();
        match (target, bad.as_slice()) {
            (_, []) => {}
            (Target::One(solver), [(_, Reading::Misreads)]) => {
                return Err(TargetError::Misread {
                    solver,
                    construct,
                    format,
                })
            }
            (Target::One(solver), _) => {
                return Err(TargetError::Unread {
                    solver,
                    construct,
                    format,
                })
            }
            (Target::Any, _) => {
                let who = bad
                    .iter()
                    .map(|(s, r)| match r {
                        Reading::Misreads => format!("{s} misreads them in {format} form"),
                        _ => format!("{s} refuses them"),
                    })
                    .collect::<Vec<_>>()
                    .join(", ");
                return Err(TargetError::NotPortable { construct, format, who });
            }
        }
    }
    Ok(())
}

/// [`check`] for the constructs `milp` uses.
pub fn check_model(target: Target, milp: &Milp, format: Format) -> Result<(), TargetError> {
    check(target, &Construct::used_by(milp), format)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cbc_lp_indicators_are_refused_as_a_misreading() {
        let e = check(Target::One(Solver::Cbc), &[Construct::Indicators], Format::Lp).unwrap_err();
        assert!(matches!(e, TargetError::Misread { .. }), "{e}");
        assert!(
            e.to_string().contains("CBC") && e.to_string().contains("indicator"),
            "{e}"
        );
    }

    #[test]
    fn indicator_readers_and_any() {
        for s in [Solver::Scip, Solver::Gurobi, Solver::Cplex] {
            for f in [Format::Mps, Format::Lp] {
                assert_eq!(check(Target::One(s), &[Construct::Indicators], f), Ok(()));
            }
        }
        let e = check(Target::Any, &[Construct::Indicators], Format::Mps).unwrap_err();
        for s in ["HiGHS", "CBC", "GLPK"] {
            assert!(e.to_string().contains(s), "{e}");
        }
        assert_eq!(check(Target::Any, &[], Format::Lp), Ok(()));
        assert_eq!(Target::from_id("GUROBI"), Some(Target::One(Solver::Gurobi)));
        assert_eq!(Target::from_id("xpress"), None);
    }
}
