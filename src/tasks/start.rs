//! Start files (`--start`): the feasible point nnmilp knows when it writes a model, written
//! beside it so that an external solver starts from it instead of searching for a first
//! incumbent (Gurobi found none in 180 s on a region-tightened 784-40-40-40-10 model that
//! nnmilp had a point for).
//!
//! No one format is read by all four solvers that take starts, so the point goes into one
//! file per family (tested in `tests/start.rs`, each solver reading its file through its own
//! API and saying it accepted the point as feasible):
//!
//! | file | layout | read by |
//! | --- | --- | --- |
//! | `MODEL.mst` | `name value` lines, nothing else | Gurobi (`read`, MST), SCIP (`readSol`) |
//! | `MODEL.cplex.mst` | CPLEX's XML `<CPLEXSolutions>` with one start | CPLEX (`MIP_starts.read`) |
//! | `MODEL.highs.sol` | HiGHS's solution file (`Model status`, `# Columns N`, `name value`) | HiGHS (`readSolution`) |
//!
//! The plain file has no comment line: SCIP's reader takes `#` for a column name. Gurobi refuses
//! CPLEX's XML, CPLEX reads only XML, HiGHS refuses a bare `name value` list. `--for` picks
//! the one file its solver reads; `any` writes all three.
//!
//! Every column is valued (binaries from the point's activation pattern, split deviations,
//! slacks: the LP of the model with the binaries fixed gives them, so they satisfy the rows by
//! construction, not by guessing), and the point is checked against the written model's rows,
//! indicators and bounds before anything is written: a start that a solver would reject is an
//! error, not a file.

use super::TaskError;
use crate::back::format_number;
use crate::back::target::{Solver, Target};
use crate::milp::{ColKind, Milp};
use serde::Serialize;
use std::collections::HashMap;
use std::path::Path;

/// The largest violation a start may have, relative to `1 +` the largest term of the row:
/// the primal feasibility tolerance (1e-6) of Gurobi, CPLEX, SCIP and HiGHS. A point beyond it
/// would be repaired or rejected by the solver, so it is refused here.
pub const START_TOLERANCE: f64 = 1e-6;

/// One kind of start file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StartFormat {
    /// `name value` lines: Gurobi's MST, SCIP's solution file.
    Mst,
    /// CPLEX's XML MIP start.
    CplexMst,
    /// HiGHS's solution file.
    HighsSol,
}

impl StartFormat {
    pub const ALL: [StartFormat; 3] = [StartFormat::Mst, StartFormat::CplexMst, StartFormat::HighsSol];

    /// What replaces the model file's extension.
    pub fn suffix(self) -> &'static str {
        match self {
            StartFormat::Mst => ".mst",
            StartFormat::CplexMst => ".cplex.mst",
            StartFormat::HighsSol => ".highs.sol",
        }
    }

    /// The start files a model for `target` gets; CBC and GLPK get none (no start format of
    /// theirs is tested), which is an error naming the solver. SCIP gets none for a model with
    /// indicator constraints (`indicators`): its readers add a slack column per indicator
    /// (`indslack_...`, named differently by its MPS and LP readers) that is not in the file, a
    /// start cannot value it, and SCIP then takes it as 0 and rejects the point (tested).
    pub fn for_target(target: Target, indicators: bool) -> Result<Vec<StartFormat>, String> {
        match target {
            Target::One(Solver::Scip) if indicators => Err(
                "--start: SCIP adds its own slack column for every indicator constraint it reads, which no start \
                 file can value, so it rejects such a start; write big-M rows (--relu bigm) for a SCIP start"
                    .to_string(),
            ),
            Target::Any => Ok(StartFormat::ALL.to_vec()),
            Target::One(Solver::Gurobi | Solver::Scip) => Ok(vec![StartFormat::Mst]),
            Target::One(Solver::Cplex) => Ok(vec![StartFormat::CplexMst]),
            Target::One(Solver::Highs) => Ok(vec![StartFormat::HighsSol]),
            Target::One(s @ (Solver::Cbc | Solver::Glpk)) => Err(format!(
                "--start: nnmilp writes no start file for {s} (start files are tested with Gurobi, SCIP, CPLEX and \
                 HiGHS); drop --start or use --for gurobi|scip|cplex|highs|any"
            )),
        }
    }
}

/// The start file of `format` beside the model `model`: its extension (`.mps`, `.lp`, with
/// `.gz`) replaced, `adv.mps.gz` -> `adv.mst`.
pub fn start_path(model: &str, format: StartFormat) -> String {
    let lower = model.to_ascii_lowercase();
    let stem = [".mps.gz", ".lp.gz", ".mps", ".lp"]
        .iter()
        .find(|ext| lower.ends_with(*ext))
        .map_or(model, |ext| &model[..model.len() - ext.len()]);
    format!("{stem}{}", format.suffix())
}

/// What `--start` wrote, for the report.
#[derive(Clone, Debug, Serialize)]
pub struct StartInfo {
    /// Where the point comes from: `solver` (the embedded HiGHS's incumbent), `first_order`
    /// (the first-order example, LP-polished), `counterexample` (`verify`'s).
    pub source: &'static str,
    pub files: Vec<String>,
    /// The file's objective at the point, as a solver reading the file states it: minimised (a
    /// maximisation is written negated) and without the constant offset (the header gives it).
    pub objective: f64,
    /// The point's worst violation of the written model, relative (at most [`START_TOLERANCE`]).
    pub max_relative_violation: f64,
    pub max_violation_at: Option<String>,
}

impl std::fmt::Display for StartInfo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "wrote start {} ({} point, objective {:.6}, largest row violation {:.1e} relative)",
            self.files.join(", "),
            match self.source {
                "solver" => "the solver's",
                "counterexample" => "the counterexample's",
                _ => "the first-order example's",
            },
            self.objective,
            self.max_relative_violation
        )
    }
}

/// `values` of `from`'s columns as values of `to`'s columns, matched by name: the solved
/// (big-M) model and the written one (indicators) share their columns but not their rows.
pub(crate) fn by_name(from: &Milp, values: &[f64], to: &Milp) -> Result<Vec<f64>, String> {
    let index: HashMap<&str, usize> = from
        .cols()
        .iter()
        .enumerate()
        .map(|(j, c)| (c.name.as_str(), j))
        .collect();
    to.cols()
        .iter()
        .map(|c| {
            index
                .get(c.name.as_str())
                .and_then(|&j| values.get(j).copied())
                .ok_or_else(|| format!("the point has no value for column {}", c.name))
        })
        .collect()
}

/// Every column's value at a point given by its inputs (`in_j` columns and their values): the
/// model solved with those columns fixed, on one thread for at most 10 s. With the input fixed
/// the network's columns are determined (a ReLU's binary is forced unless the unit sits on its
/// kink, where either value is right), so this evaluates the model's rows rather than guessing
/// them; what is left (a property's disjunct binaries, its margin) is the solver's choice. `milp`
/// must be a model HiGHS reads (big-M: no indicators).
pub(crate) fn complete(milp: &Milp, inputs: &[(String, f64)]) -> Result<Vec<f64>, String> {
    let mut fixed = milp.clone();
    let index: HashMap<&str, crate::milp::Col> = milp.col_handles().map(|(c, col)| (col.name.as_str(), c)).collect();
    for (name, v) in inputs {
        let c = *index
            .get(name.as_str())
            .ok_or_else(|| format!("the model has no input column {name}"))?;
        fixed.set_col_bounds(c, *v, *v);
    }
    let opts = crate::solve::SolveOptions {
        time_limit: Some(10.0),
        threads: Some(1),
        ..Default::default()
    };
    let sol = crate::solve::solve(&fixed, &opts).map_err(|e| e.to_string())?;
    sol.values.ok_or_else(|| {
        format!(
            "with the inputs fixed at the point, HiGHS found no solution ({})",
            sol.status_text
        )
    })
}

/// Checks `values` (one per column of `milp`, the model written to `model`) and writes the start
/// files `formats` beside the model. Integer columns are rounded first (a solver's 0.9999999
/// becomes 1, and the rows are then checked at the rounded point).
pub(crate) fn write(
    model: &str,
    milp: &Milp,
    mut values: Vec<f64>,
    formats: &[StartFormat],
    source: &'static str,
) -> Result<StartInfo, TaskError> {
    let err = |reason: String| TaskError::Start {
        path: start_path(model, formats.first().copied().unwrap_or(StartFormat::Mst)),
        reason,
    };
    if values.len() != milp.cols().len() {
        return Err(err(format!(
            "the point has {} values for {} columns",
            values.len(),
            milp.cols().len()
        )));
    }
    for (v, c) in values.iter_mut().zip(milp.cols()) {
        if c.kind != ColKind::Continuous {
            *v = v.round();
        }
        if !v.is_finite() {
            return Err(err(format!("column {} has no finite value", c.name)));
        }
    }
    let worst = milp.worst_violation(&values);
    if worst.relative > START_TOLERANCE {
        return Err(err(format!(
            "the {source} point violates {} by {:.3e} ({:.3e} relative, tolerance {START_TOLERANCE:e}); no start \
             file written",
            worst.at.as_deref().unwrap_or("the model"),
            worst.absolute,
            worst.relative
        )));
    }
    // What a solver reading the file states: minimised, without the offset the header gives.
    let objective: f64 = crate::back::file_objective(milp)
        .iter()
        .map(|&(c, a)| a * values[c.index()])
        .sum();
    let mut files = Vec::new();
    for &f in formats {
        let path = start_path(model, f);
        let text = render(milp, &values, objective, f);
        crate::back::atomic::write_bytes(Path::new(&path), text.as_bytes()).map_err(|e| TaskError::Start {
            path: path.clone(),
            reason: e.to_string(),
        })?;
        files.push(path);
    }
    Ok(StartInfo {
        source,
        files,
        objective,
        max_relative_violation: worst.relative,
        max_violation_at: worst.at,
    })
}

/// The text of one start file.
fn render(milp: &Milp, values: &[f64], objective: f64, format: StartFormat) -> String {
    let pairs = milp
        .cols()
        .iter()
        .zip(values)
        .map(|(c, &v)| (c.name.as_str(), format_number(v)));
    let mut s = String::new();
    match format {
        StartFormat::Mst => {
            for (name, v) in pairs {
                s += &format!("{name} {v}\n");
            }
        }
        StartFormat::CplexMst => {
            // MIPStartEffortLevel 1 = CheckFeas: CPLEX checks the complete point as it is and
            // says whether it is feasible, rather than repairing it silently.
            s += "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n<CPLEXSolutions version=\"1.2\">\n";
            s += &format!(
                " <CPLEXSolution version=\"1.2\">\n  <header problemName=\"{}\" solutionName=\"nnmilp\" \
                 MIPStartEffortLevel=\"1\"/>\n  <variables>\n",
                xml_escape(&milp.name)
            );
            for (j, (name, v)) in pairs.enumerate() {
                s += &format!(
                    "   <variable name=\"{}\" index=\"{j}\" value=\"{v}\"/>\n",
                    xml_escape(name)
                );
            }
            s += "  </variables>\n </CPLEXSolution>\n</CPLEXSolutions>\n";
        }
        StartFormat::HighsSol => {
            // The primal part of what `Highs::writeSolution(path, 0)` writes, which is all
            // `readSolution` needs; the status line says nothing was solved.
            s += &format!(
                "Model status\nNot Set\n\n# Primal solution values\nFeasible\nObjective {}\n# Columns {}\n",
                format_number(objective),
                values.len()
            );
            for (name, v) in pairs {
                s += &format!("{name} {v}\n");
            }
        }
    }
    s
}

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::milp::Sense;

    #[test]
    fn start_files_sit_beside_the_model() {
        assert_eq!(start_path("out/adv.mps.gz", StartFormat::Mst), "out/adv.mst");
        assert_eq!(start_path("r.max.LP", StartFormat::CplexMst), "r.max.cplex.mst");
        assert_eq!(start_path("model", StartFormat::HighsSol), "model.highs.sol");
        assert!(StartFormat::for_target(Target::One(Solver::Cbc), false)
            .unwrap_err()
            .contains("CBC"));
        assert_eq!(
            StartFormat::for_target(Target::One(Solver::Scip), false),
            Ok(vec![StartFormat::Mst])
        );
        assert!(StartFormat::for_target(Target::One(Solver::Scip), true)
            .unwrap_err()
            .contains("SCIP"));
    }

    #[test]
    fn an_infeasible_point_is_refused_and_nothing_written() {
        let mut m = Milp::new("m");
        let x = m.add_col("x", 0.0, 10.0, ColKind::Continuous);
        let z = m.add_col("z", 0.0, 1.0, ColKind::Binary);
        m.add_row("r", vec![(x, 1.0), (z, 5.0)], Sense::Le, 5.0);
        let dir = tempfile::tempdir().unwrap();
        let model = dir.path().join("m.mps").to_string_lossy().into_owned();
        let e = write(&model, &m, vec![1.0, 1.0], &StartFormat::ALL, "solver").unwrap_err();
        assert!(e.to_string().contains("violates r"), "{e}");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
        // 0.9999999 is rounded to 1; x = 0 then meets the row exactly.
        let info = write(&model, &m, vec![0.0, 0.9999999], &StartFormat::ALL, "solver").unwrap();
        assert_eq!(info.files.len(), 3);
        let plain = std::fs::read_to_string(dir.path().join("m.mst")).unwrap();
        assert_eq!(plain, "x 0\nz 1\n");
        let highs = std::fs::read_to_string(dir.path().join("m.highs.sol")).unwrap();
        assert!(highs.starts_with("Model status\n") && highs.contains("# Columns 2\nx 0\nz 1\n"));
        let cplex = std::fs::read_to_string(dir.path().join("m.cplex.mst")).unwrap();
        assert!(cplex.contains("<variable name=\"z\" index=\"1\" value=\"1\"/>"));
    }
}
