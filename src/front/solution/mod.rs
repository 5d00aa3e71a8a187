//! Solution files, as the six solvers write them, read back (for `nnmilp replay`). The model
//! files they belong to are read by `back::read`, beside the writers.
//!
//! | solver | written by | shape |
//! | --- | --- | --- |
//! | Gurobi | `model.write("x.sol")`, `ResultFile` | `# Objective value = v`, then `name value` lines |
//! | CPLEX | `solution.write`, interactive `write x.sol` | XML `<CPLEXSolution>`, `<variable name=".." value=".."/>` |
//! | SCIP | `writeSol`/`writeBestSol`, `write solution` | `objective value: v`, then `name value (obj:c)`; zeros left out |
//! | HiGHS | `writeSolution(path, 0)` | `Model status`, `# Primal solution values`, `# Columns N`, `name value` |
//! | CBC | `-solu FILE` | `Optimal - objective value v`, then `index name value reduced-cost`; zeros left out |
//! | GLPK | `glpsol -w FILE` (raw) | `s mip ROWS COLS STATUS OBJ`, then `j INDEX value`: by column number, no names |
//!
//! A column a file does not list is 0 (SCIP and CBC leave zeros out). GLPK's columns are numbered
//! in the order its reader met them, which is the order of `back::read::ModelFile`'s columns, so
//! a GLPK solution needs the model file.

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};
use thiserror::Error;

/// The solvers' native solution formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SolutionFormat {
    Gurobi,
    Cplex,
    Scip,
    Highs,
    Cbc,
    Glpk,
}

impl SolutionFormat {
    pub fn id(self) -> &'static str {
        match self {
            SolutionFormat::Gurobi => "gurobi",
            SolutionFormat::Cplex => "cplex",
            SolutionFormat::Scip => "scip",
            SolutionFormat::Highs => "highs",
            SolutionFormat::Cbc => "cbc",
            SolutionFormat::Glpk => "glpk",
        }
    }

    /// Tells the format from the file's first meaningful line; `None` when it matches none.
    /// Gurobi's comment-and-pairs form is the fallback for a plain `name value` list.
    pub fn detect(text: &str) -> Option<SolutionFormat> {
        let first = text.lines().map(str::trim).find(|l| !l.is_empty())?;
        let f = if first.starts_with("<?xml") || first.starts_with("<CPLEXSolution") {
            SolutionFormat::Cplex
        } else if first == "Model status" {
            SolutionFormat::Highs
        } else if first.starts_with("solution status:") || first.starts_with("objective value:") {
            SolutionFormat::Scip
        } else if first.starts_with("c ") || first == "c" || first.starts_with("s mip ") || first.starts_with("s bas ")
        {
            SolutionFormat::Glpk
        } else if first.contains(" - objective value ") {
            SolutionFormat::Cbc
        } else if first.starts_with('#') || first.split_whitespace().count() == 2 {
            SolutionFormat::Gurobi
        } else {
            return None;
        };
        Some(f)
    }
}

impl fmt::Display for SolutionFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}

/// Column values: by name, or (GLPK) by 1-based column number.
#[derive(Clone, Debug, PartialEq)]
pub enum Values {
    Named(HashMap<String, f64>),
    Numbered(HashMap<usize, f64>),
}

/// What a solution file says.
#[derive(Clone, Debug, PartialEq)]
pub struct SolutionFile {
    pub format: SolutionFormat,
    /// The solver's status words, when the file has them (`Optimal`, `integer optimal solution`).
    pub status: Option<String>,
    /// The objective the solver reports (of the file's model, which nnmilp always minimises).
    pub objective: Option<f64>,
    pub values: Values,
}

#[derive(Debug, Error)]
pub enum SolutionError {
    #[error("cannot read solution file {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("cannot tell which solver wrote {path}; give --format gurobi|cplex|scip|highs|cbc|glpk")]
    Unknown { path: PathBuf },
    #[error("{path}, line {line}: {message} (reading it as a {format} solution file)")]
    Syntax {
        path: PathBuf,
        line: usize,
        format: SolutionFormat,
        message: String,
    },
    #[error("{path} has no column values (reading it as a {format} solution file)")]
    Empty { path: PathBuf, format: SolutionFormat },
}

/// Reads `path` in `format`, or the format [`SolutionFormat::detect`] finds.
pub fn read(path: &Path, format: Option<SolutionFormat>) -> Result<SolutionFile, SolutionError> {
    let text = std::fs::read_to_string(path).map_err(|source| SolutionError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let format = match format.or_else(|| SolutionFormat::detect(&text)) {
        Some(f) => f,
        None => {
            return Err(SolutionError::Unknown {
                path: path.to_path_buf(),
            })
        }
    };
    parse(&text, format).map_err(|(line, message)| match message {
        None => SolutionError::Empty {
            path: path.to_path_buf(),
            format,
        },
        Some(message) => SolutionError::Syntax {
            path: path.to_path_buf(),
            line,
            format,
            message,
        },
    })
}

/// A parse failure: the 1-based line and what is wrong, or `None` when there were no values.
type Failure = (usize, Option<String>);

fn number(s: &str, line: usize) -> Result<f64, Failure> {
    let v: f64 = s.parse().map_err(|_| (line, Some(format!("`{s}` is not a number"))))?;
    if v.is_finite() {
        Ok(v)
    } else {
        Err((line, Some(format!("value `{s}` is not finite"))))
    }
}

/// Parses the text of a solution file in `format`.
pub fn parse(text: &str, format: SolutionFormat) -> Result<SolutionFile, Failure> {
    let mut named = HashMap::new();
    let mut numbered = HashMap::new();
    let mut status = None;
    let mut objective = None;
    let put = |map: &mut HashMap<String, f64>, name: &str, v: f64, line: usize| {
        if map.insert(name.to_string(), v).is_some() {
            return Err((line, Some(format!("column `{name}` is listed twice"))));
        }
        Ok(())
    };
    let lines = text.lines().enumerate().map(|(i, l)| (i + 1, l.trim()));
    match format {
        SolutionFormat::Gurobi => {
            for (n, l) in lines {
                if let Some(c) = l.strip_prefix('#') {
                    if let Some(v) = c.trim().strip_prefix("Objective value =") {
                        objective = Some(number(v.trim(), n)?);
                    }
                    continue;
                }
                if l.is_empty() {
                    continue;
                }
                let f: Vec<&str> = l.split_whitespace().collect();
                if f.len() != 2 {
                    return Err((n, Some(format!("expected `name value`, found `{l}`"))));
                }
                put(&mut named, f[0], number(f[1], n)?, n)?;
            }
        }
        SolutionFormat::Scip => {
            for (n, l) in lines {
                if let Some(s) = l.strip_prefix("solution status:") {
                    status = Some(s.trim().to_string());
                } else if let Some(v) = l.strip_prefix("objective value:") {
                    objective = Some(number(v.trim(), n)?);
                } else if !l.is_empty() {
                    let f: Vec<&str> = l.split_whitespace().collect();
                    if f.len() < 2 || (f.len() == 3 && !f[2].starts_with("(obj:")) || f.len() > 3 {
                        return Err((n, Some(format!("expected `name value (obj:c)`, found `{l}`"))));
                    }
                    put(&mut named, f[0], number(f[1], n)?, n)?;
                }
            }
        }
        SolutionFormat::Highs => {
            // Only the primal part: `# Columns N` up to `# Rows`.
            let mut in_columns = false;
            for (n, l) in lines {
                if n == 2 {
                    status = Some(l.to_string());
                }
                if let Some(v) = l.strip_prefix("Objective ") {
                    objective = Some(number(v.trim(), n)?);
                } else if l.starts_with("# Columns") {
                    in_columns = true;
                } else if l.starts_with('#') || l.is_empty() {
                    in_columns = false;
                } else if in_columns {
                    let f: Vec<&str> = l.split_whitespace().collect();
                    if f.len() != 2 {
                        return Err((n, Some(format!("expected `name value`, found `{l}`"))));
                    }
                    put(&mut named, f[0], number(f[1], n)?, n)?;
                }
            }
        }
        SolutionFormat::Cbc => {
            for (n, l) in lines {
                if n == 1 {
                    let (s, v) = l
                        .split_once(" - objective value ")
                        .ok_or((n, Some(format!("expected `STATUS - objective value V`, found `{l}`"))))?;
                    status = Some(s.to_string());
                    objective = Some(number(v.trim(), n)?);
                    continue;
                }
                if l.is_empty() {
                    continue;
                }
                // `index name value reduced-cost`, the index prefixed by `**` when infeasible.
                let f: Vec<&str> = l.trim_start_matches('*').split_whitespace().collect();
                if f.len() != 4 {
                    return Err((
                        n,
                        Some(format!("expected `index name value reduced-cost`, found `{l}`")),
                    ));
                }
                put(&mut named, f[1], number(f[2], n)?, n)?;
            }
        }
        SolutionFormat::Glpk => {
            for (n, l) in lines {
                let f: Vec<&str> = l.split_whitespace().collect();
                match f.first().copied() {
                    Some("s") if f.len() >= 6 => {
                        status = Some(f[1..f.len() - 1].join(" "));
                        objective = Some(number(f[f.len() - 1], n)?);
                    }
                    Some("j") if f.len() >= 3 => {
                        let j: usize = f[1]
                            .parse()
                            .map_err(|_| (n, Some(format!("`{}` is not a column number", f[1]))))?;
                        // MIP: `j N value`; basic: `j N status value dual`.
                        let v = if f.len() == 3 { f[2] } else { f[3] };
                        if numbered.insert(j, number(v, n)?).is_some() {
                            return Err((n, Some(format!("column {j} is listed twice"))));
                        }
                    }
                    Some("c" | "i" | "e") | None => {}
                    _ => return Err((n, Some(format!("unexpected line `{l}`")))),
                }
            }
        }
        SolutionFormat::Cplex => {
            for (n, l) in lines {
                if l.starts_with("objectiveValue=") {
                    objective = Some(number(&xml_attr(l, "objectiveValue").unwrap_or_default(), n)?);
                } else if l.starts_with("solutionStatusString=") {
                    status = xml_attr(l, "solutionStatusString");
                } else if l.starts_with("<variable ") {
                    let name = xml_attr(l, "name").ok_or((n, Some("a <variable> without a name".to_string())))?;
                    let value = xml_attr(l, "value").ok_or((n, Some(format!("variable `{name}` has no value"))))?;
                    put(&mut named, &name, number(&value, n)?, n)?;
                }
            }
        }
    }
    let values = if format == SolutionFormat::Glpk {
        if numbered.is_empty() {
            return Err((0, None));
        }
        Values::Numbered(numbered)
    } else {
        if named.is_empty() && !matches!(format, SolutionFormat::Scip | SolutionFormat::Cbc) {
            return Err((0, None));
        }
        Values::Named(named)
    };
    Ok(SolutionFile {
        format,
        status,
        objective,
        values,
    })
}

/// The value of `key="..."` in one XML line, with the five predefined entities decoded.
fn xml_attr(line: &str, key: &str) -> Option<String> {
    let start = line.find(&format!("{key}=\""))? + key.len() + 2;
    let end = start + line[start..].find('"')?;
    Some(
        line[start..end]
            .replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&quot;", "\"")
            .replace("&apos;", "'")
            .replace("&amp;", "&"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_format_is_detected_and_read() {
        let cases = [
            ("# Solution for model m\n# Objective value = 1.5\nin_0 0.25\nz 1\n", SolutionFormat::Gurobi),
            (
                "<?xml version = \"1.0\"?>\n<CPLEXSolution version=\"1.2\">\n <header\n   objectiveValue=\"1.5\"\n   \
                 solutionStatusString=\"integer optimal solution\"/>\n <variables>\n  \
                 <variable name=\"in_0\" index=\"0\" value=\"0.25\"/>\n  <variable name=\"z\" index=\"1\" value=\"1\"/>\n \
                 </variables>\n</CPLEXSolution>\n",
                SolutionFormat::Cplex,
            ),
            (
                "solution status: optimal solution found\nobjective value:   1.5\nin_0   0.25 \t(obj:0)\nz 1 \t(obj:1)\n",
                SolutionFormat::Scip,
            ),
            (
                "Model status\nOptimal\n\n# Primal solution values\nFeasible\nObjective 1.5\n# Columns 2\nin_0 0.25\nz 1\n# Rows 1\nr 3\n",
                SolutionFormat::Highs,
            ),
            ("Optimal - objective value 1.5\n      0 in_0   0.25   0\n      1 z  1  0\n", SolutionFormat::Cbc),
        ];
        for (text, format) in cases {
            assert_eq!(SolutionFormat::detect(text), Some(format), "{text}");
            let s = parse(text, format).unwrap_or_else(|e| panic!("{format}: {e:?}"));
            assert_eq!(s.objective, Some(1.5), "{format}");
            let Values::Named(v) = &s.values else { panic!("named") };
            assert_eq!((v["in_0"], v["z"], v.len()), (0.25, 1.0, 2), "{format}");
        }
        let glpk = "c Problem: m\nc\ns mip 1 2 o 1.5\ni 1 3\nj 1 0.25\nj 2 1\ne o f\n";
        assert_eq!(SolutionFormat::detect(glpk), Some(SolutionFormat::Glpk));
        let s = parse(glpk, SolutionFormat::Glpk).unwrap();
        assert_eq!(s.values, Values::Numbered(HashMap::from([(1, 0.25), (2, 1.0)])));
    }

    #[test]
    fn bad_lines_name_their_line() {
        let e = parse("# Objective value = 1\nin_0 zero\n", SolutionFormat::Gurobi).unwrap_err();
        assert_eq!(e.0, 2);
        assert!(e.1.unwrap().contains("zero"));
        let e = parse("in_0 1\nin_0 2\n", SolutionFormat::Gurobi).unwrap_err();
        assert!(e.1.unwrap().contains("twice"));
        assert_eq!(SolutionFormat::detect("hello world again\n"), None);
    }
}
