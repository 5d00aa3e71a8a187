//! Reading a model file back (free MPS or CPLEX LP, optionally gzipped) into a [`Milp`], so that
//! `replay` can measure how far a solution is from satisfying every row, and so that GLPK's
//! numbered solution columns get their names.
//!
//! It sits with the writers because it is their inverse over the same formats ([`Format`], the
//! constructs they emit, the round trip its tests check), and because a front end (`front`,
//! which reads only `ir`) must not depend on `milp` or `back`.
//!
//! The readers take the constructs our writers emit (`shared/formats/README.md` §4) plus
//! indicators; anything else (RANGES, OBJSENSE, ranged LP rows, SOS, semi-continuous columns) is
//! an error naming the line. Columns come in the order GLPK numbers them: MPS in `COLUMNS`
//! order; LP in the order of first appearance (objective, rows, bounds, then the integer
//! sections), which is how `glpsol --cpxlp` creates them.

use super::Format;
use crate::milp::{Col, ColKind, Milp, ObjSense, Sense};
use std::collections::HashMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use thiserror::Error;

/// A model file as read: its leading comment lines and the model.
#[derive(Debug)]
pub struct ModelFile {
    /// The whole-line comments before the first section, without the marker (`*`, `\`).
    pub header: Vec<String>,
    pub milp: Milp,
}

#[derive(Debug, Error)]
pub enum ModelReadError {
    #[error("cannot read model file {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("cannot tell the format of model file {path}: the name should end in .mps or .lp (optionally .gz)")]
    UnknownFormat { path: PathBuf },
    #[error("{path}, line {line}: {message}")]
    Syntax {
        path: PathBuf,
        line: usize,
        message: String,
    },
}

/// Reads a model file; the format comes from the name (`.mps`, `.lp`, optionally `.gz`).
pub fn read(path: &Path) -> Result<ModelFile, ModelReadError> {
    let name = path.to_string_lossy();
    let format = Format::from_path(&name).ok_or_else(|| ModelReadError::UnknownFormat {
        path: path.to_path_buf(),
    })?;
    let io = |source| ModelReadError::Read {
        path: path.to_path_buf(),
        source,
    };
    let bytes = std::fs::read(path).map_err(io)?;
    let mut text = String::new();
    if name.to_ascii_lowercase().ends_with(".gz") {
        // Multi-member: nnmilp writes large files as several gzip members (`back::gzip`).
        flate2::read::MultiGzDecoder::new(&bytes[..])
            .read_to_string(&mut text)
            .map_err(io)?;
    } else {
        text = String::from_utf8(bytes).map_err(|e| io(std::io::Error::new(std::io::ErrorKind::InvalidData, e)))?;
    }
    let parsed = match format {
        Format::Mps => parse_mps(&text),
        Format::Lp => parse_lp(&text),
    };
    parsed.map_err(|(line, message)| ModelReadError::Syntax {
        path: path.to_path_buf(),
        line,
        message,
    })
}

type Failure = (usize, String);

fn num(s: &str, line: usize) -> Result<f64, Failure> {
    match s.to_ascii_lowercase().as_str() {
        "inf" | "+inf" | "infinity" | "+infinity" => return Ok(f64::INFINITY),
        "-inf" | "-infinity" => return Ok(f64::NEG_INFINITY),
        _ => {}
    }
    let v: f64 = s.parse().map_err(|_| (line, format!("`{s}` is not a number")))?;
    if v.is_nan() {
        return Err((line, format!("`{s}` is not a number")));
    }
    // 1e30 is infinity to every reader but GLPK.
    Ok(if v >= 1e30 {
        f64::INFINITY
    } else if v <= -1e30 {
        f64::NEG_INFINITY
    } else {
        v
    })
}

/// Columns, rows and indicators under construction, by name.
#[derive(Default)]
struct Builder {
    cols: Vec<(String, f64, f64, ColKind)>,
    col_index: HashMap<String, usize>,
    /// Linear rows (and indicators' linear parts) in file order.
    rows: Vec<(String, Vec<(usize, f64)>, Sense, f64)>,
    row_index: HashMap<String, usize>,
    objective: Vec<(usize, f64)>,
    sense: Option<ObjSense>,
    /// `(row, binary column, value)`.
    indicators: Vec<(usize, usize, bool)>,
    name: String,
}

impl Builder {
    fn col(&mut self, name: &str) -> usize {
        if let Some(&j) = self.col_index.get(name) {
            return j;
        }
        self.cols
            .push((name.to_string(), 0.0, f64::INFINITY, ColKind::Continuous));
        self.col_index.insert(name.to_string(), self.cols.len() - 1);
        self.cols.len() - 1
    }

    fn add_row(&mut self, name: &str, sense: Sense, line: usize) -> Result<usize, Failure> {
        if self.row_index.contains_key(name) {
            return Err((line, format!("row `{name}` is defined twice")));
        }
        self.rows.push((name.to_string(), Vec::new(), sense, 0.0));
        self.row_index.insert(name.to_string(), self.rows.len() - 1);
        Ok(self.rows.len() - 1)
    }

    fn finish(self) -> Milp {
        let mut milp = Milp::new(if self.name.is_empty() { "model" } else { &self.name });
        let cols: Vec<Col> = self
            .cols
            .iter()
            .map(|(n, lo, hi, kind)| milp.add_col(n.clone(), *lo, *hi, *kind))
            .collect();
        let terms = |t: &[(usize, f64)]| t.iter().map(|&(j, v)| (cols[j], v)).collect::<Vec<_>>();
        let ind_rows: HashMap<usize, (usize, bool)> = self.indicators.iter().map(|&(r, b, v)| (r, (b, v))).collect();
        for (i, (name, t, sense, rhs)) in self.rows.iter().enumerate() {
            match ind_rows.get(&i) {
                Some(&(b, v)) => milp.add_indicator(name.clone(), cols[b], v, terms(t), *sense, *rhs),
                None => {
                    milp.add_row(name.clone(), terms(t), *sense, *rhs);
                }
            }
        }
        let expr = crate::milp::LinExpr {
            terms: terms(&self.objective),
            constant: 0.0,
        };
        milp.set_objective(self.sense.unwrap_or(ObjSense::Minimize), expr);
        milp
    }
}

/// Free MPS.
pub fn parse_mps(text: &str) -> Result<ModelFile, Failure> {
    let mut b = Builder::default();
    let mut header = Vec::new();
    let mut section = "";
    let mut objective_row: Option<String> = None;
    let mut in_marker = false;
    // Integer columns whose bounds the file never touched are binary (MARKER default [0, 1]).
    let mut marker_cols: Vec<usize> = Vec::new();
    let mut bounded: Vec<bool> = Vec::new();
    let mut seen_section = false;
    for (i, raw) in text.lines().enumerate() {
        let n = i + 1;
        if let Some(c) = raw.strip_prefix('*') {
            if !seen_section {
                header.push(c.strip_prefix(' ').unwrap_or(c).to_string());
            }
            continue;
        }
        if raw.trim().is_empty() {
            continue;
        }
        let f: Vec<&str> = raw.split_whitespace().collect();
        if !raw.starts_with(' ') && !raw.starts_with('\t') {
            seen_section = true;
            section = match f[0] {
                "NAME" => {
                    b.name = f.get(1).copied().unwrap_or("").to_string();
                    "NAME"
                }
                "ROWS" | "COLUMNS" | "RHS" | "BOUNDS" | "INDICATORS" => f[0],
                "ENDATA" => break,
                other => return Err((n, format!("section {other} is not supported"))),
            };
            continue;
        }
        match section {
            "ROWS" => {
                let [kind, name] = f[..] else {
                    return Err((n, format!("expected `TYPE name`, found `{}`", raw.trim())));
                };
                match kind {
                    "N" if objective_row.is_none() => objective_row = Some(name.to_string()),
                    "N" => {} // further free rows are dropped, as by every reader
                    "L" | "G" | "E" => {
                        let s = match kind {
                            "L" => Sense::Le,
                            "G" => Sense::Ge,
                            _ => Sense::Eq,
                        };
                        b.add_row(name, s, n)?;
                    }
                    _ => return Err((n, format!("row type `{kind}` is not N, L, G or E"))),
                }
            }
            "COLUMNS" => {
                if f.len() == 3 && f[1] == "'MARKER'" {
                    in_marker = match f[2] {
                        "'INTORG'" => true,
                        "'INTEND'" => false,
                        m => return Err((n, format!("unknown marker {m}"))),
                    };
                    continue;
                }
                if f.len() != 3 && f.len() != 5 {
                    return Err((
                        n,
                        format!("expected `column row value [row value]`, found `{}`", raw.trim()),
                    ));
                }
                let fresh = !b.col_index.contains_key(f[0]);
                let j = b.col(f[0]);
                if fresh {
                    bounded.push(false);
                    if in_marker {
                        b.cols[j].3 = ColKind::Integer;
                        marker_cols.push(j);
                    }
                }
                for pair in f[1..].chunks(2) {
                    let v = num(pair[1], n)?;
                    if Some(pair[0]) == objective_row.as_deref() {
                        b.objective.push((j, v));
                    } else if let Some(&r) = b.row_index.get(pair[0]) {
                        b.rows[r].1.push((j, v));
                    } else {
                        return Err((n, format!("column `{}` refers to unknown row `{}`", f[0], pair[0])));
                    }
                }
            }
            "RHS" => {
                // `[set] row value [row value]`.
                let pairs = if f.len() % 2 == 1 { &f[1..] } else { &f[..] };
                for pair in pairs.chunks(2) {
                    let v = num(pair[1], n)?;
                    match b.row_index.get(pair[0]) {
                        Some(&r) => b.rows[r].3 = v,
                        None if Some(pair[0]) == objective_row.as_deref() => {
                            return Err((
                                n,
                                "an objective constant (RHS on the objective row) is not supported".into(),
                            ))
                        }
                        None => return Err((n, format!("RHS for unknown row `{}`", pair[0]))),
                    }
                }
            }
            "BOUNDS" => {
                if f.len() < 3 {
                    return Err((n, format!("expected `TYPE set column [value]`, found `{}`", raw.trim())));
                }
                let j = *b
                    .col_index
                    .get(f[2])
                    .ok_or((n, format!("bound on unknown column `{}`", f[2])))?;
                bounded[j] = true;
                let value = || {
                    f.get(3)
                        .ok_or((n, format!("bound {} needs a value", f[0])))
                        .and_then(|v| num(v, n))
                };
                let c = &mut b.cols[j];
                match f[0] {
                    "UP" => c.2 = value()?,
                    "LO" => c.1 = value()?,
                    "FX" => {
                        c.1 = value()?;
                        c.2 = c.1
                    }
                    "FR" => (c.1, c.2) = (f64::NEG_INFINITY, f64::INFINITY),
                    "MI" => c.1 = f64::NEG_INFINITY,
                    "PL" => c.2 = f64::INFINITY,
                    "BV" => (c.1, c.2, c.3) = (0.0, 1.0, ColKind::Binary),
                    "LI" => (c.1, c.3) = (value()?, ColKind::Integer),
                    "UI" => (c.2, c.3) = (value()?, ColKind::Integer),
                    t => return Err((n, format!("bound type `{t}` is not supported"))),
                }
            }
            "INDICATORS" => {
                let ["IF", row, col, v] = f[..] else {
                    return Err((n, format!("expected `IF row column 0|1`, found `{}`", raw.trim())));
                };
                let r = *b
                    .row_index
                    .get(row)
                    .ok_or((n, format!("indicator on unknown row `{row}`")))?;
                let j = *b
                    .col_index
                    .get(col)
                    .ok_or((n, format!("indicator switch `{col}` is not a column")))?;
                let v = match v {
                    "0" => false,
                    "1" => true,
                    _ => return Err((n, format!("indicator value `{v}` is not 0 or 1"))),
                };
                b.indicators.push((r, j, v));
            }
            _ => return Err((n, format!("data outside a section: `{}`", raw.trim()))),
        }
    }
    for j in marker_cols {
        if !bounded[j] {
            b.cols[j].2 = 1.0;
        }
    }
    for c in &mut b.cols {
        if c.3 == ColKind::Integer && c.1 == 0.0 && c.2 == 1.0 {
            c.3 = ColKind::Binary;
        }
    }
    for &(_, j, _) in &b.indicators {
        b.cols[j].3 = ColKind::Binary;
    }
    Ok(ModelFile {
        header,
        milp: b.finish(),
    })
}

/// The LP sections, by their keywords (any letter case).
fn lp_section(line: &str) -> Option<&'static str> {
    let l = line.trim().to_ascii_lowercase();
    Some(match l.as_str() {
        "minimize" | "minimise" | "minimum" | "min" => "min",
        "maximize" | "maximise" | "maximum" | "max" => "max",
        "subject to" | "such that" | "st" | "s.t." | "st." => "st",
        "bounds" | "bound" => "bounds",
        "binaries" | "binary" | "bin" => "bin",
        "generals" | "general" | "gen" | "integers" => "gen",
        "end" => "end",
        _ => return None,
    })
}

fn is_sense(t: &str) -> Option<Sense> {
    match t {
        "<=" | "=<" | "<" => Some(Sense::Le),
        ">=" | "=>" | ">" => Some(Sense::Ge),
        "=" => Some(Sense::Eq),
        _ => None,
    }
}

/// Reads `[+|-] [coef] name` terms from `toks` until a sense token; returns them and the index
/// of the sense (or `toks.len()`).
fn lp_terms(b: &mut Builder, toks: &[&str], line: usize) -> Result<(Vec<(usize, f64)>, usize), Failure> {
    let mut terms = Vec::new();
    let mut i = 0;
    let mut sign = 1.0;
    let mut coef: Option<f64> = None;
    while i < toks.len() {
        let t = toks[i];
        if is_sense(t).is_some() || t == "->" {
            break;
        }
        match t {
            "+" => {}
            "-" => sign = -sign,
            _ => {
                let first = t.as_bytes()[0];
                if first.is_ascii_digit() || first == b'.' || ((first == b'+' || first == b'-') && t.len() > 1) {
                    if coef.is_some() {
                        return Err((line, format!("two numbers in a row near `{t}`")));
                    }
                    coef = Some(num(t, line)?);
                } else {
                    let j = b.col(t);
                    terms.push((j, sign * coef.take().unwrap_or(1.0)));
                    sign = 1.0;
                }
            }
        }
        i += 1;
    }
    if coef.is_some() {
        return Err((line, "a constant among the terms is not supported".into()));
    }
    Ok((terms, i))
}

/// CPLEX LP.
pub fn parse_lp(text: &str) -> Result<ModelFile, Failure> {
    let mut b = Builder::default();
    let mut header = Vec::new();
    let mut section = "";
    // Objective and constraints span lines: gather their tokens (with the first line of each
    // statement) and parse them when the section ends.
    let mut stmt: Vec<(usize, String)> = Vec::new();
    let mut seen_section = false;
    let mut binaries = Vec::new();
    let mut generals = Vec::new();
    let flush = |b: &mut Builder, section: &str, stmt: &mut Vec<(usize, String)>| -> Result<(), Failure> {
        if stmt.is_empty() {
            return Ok(());
        }
        let line = stmt[0].0;
        let joined: String = stmt.iter().map(|(_, s)| s.as_str()).collect::<Vec<_>>().join(" ");
        stmt.clear();
        let mut toks: Vec<&str> = joined.split_whitespace().collect();
        let name = match toks.first() {
            Some(t) if t.ends_with(':') => {
                let n = t.trim_end_matches(':').to_string();
                toks.remove(0);
                Some(n)
            }
            _ => None,
        };
        if section == "obj" {
            let (terms, end) = lp_terms(b, &toks, line)?;
            if end != toks.len() {
                return Err((line, "the objective has a comparison".into()));
            }
            b.objective = terms;
            return Ok(());
        }
        let name = name.unwrap_or_else(|| format!("R{}", b.rows.len() + 1));
        // Indicator: `z = 1 -> terms sense rhs`.
        let mut switch = None;
        if toks.len() > 3 && toks[1] == "=" && toks[3] == "->" {
            let j = b.col(toks[0]);
            let v = match toks[2] {
                "0" => false,
                "1" => true,
                v => return Err((line, format!("indicator value `{v}` is not 0 or 1"))),
            };
            switch = Some((j, v));
            toks.drain(..4);
        }
        let (terms, at) = lp_terms(b, &toks, line)?;
        let sense = toks
            .get(at)
            .and_then(|t| is_sense(t))
            .ok_or((line, format!("row `{name}` has no <=, >= or =")))?;
        let rhs = match &toks[at + 1..] {
            [v] => num(v, line)?,
            [s, v] if *s == "-" || *s == "+" => num(v, line)? * if *s == "-" { -1.0 } else { 1.0 },
            _ => return Err((line, format!("row `{name}`: expected one number after the comparison"))),
        };
        let r = b.add_row(&name, sense, line)?;
        b.rows[r].1 = terms;
        b.rows[r].3 = rhs;
        if let Some((j, v)) = switch {
            b.indicators.push((r, j, v));
        }
        Ok(())
    };
    for (i, raw) in text.lines().enumerate() {
        let n = i + 1;
        let l = raw.trim();
        if let Some(c) = l.strip_prefix('\\') {
            if !seen_section {
                header.push(c.strip_prefix(' ').unwrap_or(c).to_string());
            }
            continue;
        }
        if l.is_empty() {
            continue;
        }
        if let Some(s) = lp_section(l) {
            flush(&mut b, section, &mut stmt)?;
            seen_section = true;
            section = match s {
                "min" | "max" => {
                    b.sense = Some(if s == "min" {
                        ObjSense::Minimize
                    } else {
                        ObjSense::Maximize
                    });
                    "obj"
                }
                other => other,
            };
            if section == "end" {
                break;
            }
            continue;
        }
        match section {
            "obj" => stmt.push((n, l.to_string())),
            "st" => {
                // A new statement starts with `name:`; continuation lines start with a sign.
                let continues = l.starts_with('+') || l.starts_with('-');
                if !continues {
                    flush(&mut b, section, &mut stmt)?;
                }
                stmt.push((n, l.to_string()));
            }
            "bounds" => lp_bound(&mut b, l, n)?,
            "bin" => binaries.extend(l.split_whitespace().map(|s| (n, s.to_string()))),
            "gen" => generals.extend(l.split_whitespace().map(|s| (n, s.to_string()))),
            _ => return Err((n, format!("text outside a section: `{l}`"))),
        }
    }
    flush(&mut b, section, &mut stmt)?;
    for (_, name) in generals {
        let j = b.col(&name);
        b.cols[j].3 = ColKind::Integer;
    }
    for (_, name) in binaries {
        let j = b.col(&name);
        b.cols[j] = (name, 0.0, 1.0, ColKind::Binary);
    }
    for &(_, j, _) in &b.indicators {
        b.cols[j].3 = ColKind::Binary;
    }
    Ok(ModelFile {
        header,
        milp: b.finish(),
    })
}

/// One line of the Bounds section: `x free`, `l <= x <= u`, `x >= l`, `x <= u`, `x = v`, or
/// `-inf <= x`.
fn lp_bound(b: &mut Builder, l: &str, n: usize) -> Result<(), Failure> {
    let toks: Vec<&str> = l.split_whitespace().collect();
    let bad = || (n, format!("cannot read the bound `{l}`"));
    match toks[..] {
        [x, free] if free.eq_ignore_ascii_case("free") => {
            let j = b.col(x);
            (b.cols[j].1, b.cols[j].2) = (f64::NEG_INFINITY, f64::INFINITY);
        }
        [lo, "<=", x, "<=", hi] => {
            let j = b.col(x);
            (b.cols[j].1, b.cols[j].2) = (num(lo, n)?, num(hi, n)?);
        }
        [a, s, c] => {
            let sense = is_sense(s).ok_or_else(bad)?;
            // `x op v` or `v op x`.
            let (x, v, sense) = if num(a, n).is_ok() && num(c, n).is_err() {
                let flipped = match sense {
                    Sense::Le => Sense::Ge,
                    Sense::Ge => Sense::Le,
                    Sense::Eq => Sense::Eq,
                };
                (c, num(a, n)?, flipped)
            } else {
                (a, num(c, n)?, sense)
            };
            let j = b.col(x);
            match sense {
                Sense::Le => b.cols[j].2 = v,
                Sense::Ge => b.cols[j].1 = v,
                Sense::Eq => (b.cols[j].1, b.cols[j].2) = (v, v),
            }
        }
        _ => return Err(bad()),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::back::{write_string, WriteOptions};
    use crate::milp::LinExpr;

    fn sample() -> Milp {
        let mut m = Milp::new("sample");
        let x = m.add_col("x", -1.0, 2.5, ColKind::Continuous);
        let y = m.add_col("y", f64::NEG_INFINITY, f64::INFINITY, ColKind::Continuous);
        let z = m.add_col("z", 0.0, 1.0, ColKind::Binary);
        let k = m.add_col("k", -3.0, 7.0, ColKind::Integer);
        m.add_row("r1", vec![(x, 1.0), (y, -2.0)], Sense::Le, 3.0);
        m.add_row("r2", vec![(y, 1.0), (z, 4.0), (k, 1.0)], Sense::Eq, -1.5);
        m.add_indicator("i1", z, true, vec![(x, 1.0)], Sense::Le, 0.0);
        let e = LinExpr {
            terms: vec![(x, 1.0), (k, 2.0)],
            constant: 0.0,
        };
        m.set_objective(ObjSense::Minimize, e);
        m
    }

    #[test]
    fn both_readers_give_back_what_the_writers_wrote() {
        let m = sample();
        for format in [Format::Mps, Format::Lp] {
            let text = write_string(
                &m,
                format,
                &WriteOptions {
                    header: vec!["hello".into()],
                },
            );
            let back = match format {
                Format::Mps => parse_mps(&text),
                Format::Lp => parse_lp(&text),
            }
            .unwrap_or_else(|e| panic!("{format}: {e:?}\n{text}"));
            assert_eq!(back.header[0], "hello");
            let names = |m: &Milp| {
                let mut v: Vec<_> = m.cols().iter().map(|c| (c.name.clone(), c.lo, c.hi, c.kind)).collect();
                v.sort_by(|a, b| a.0.cmp(&b.0));
                v
            };
            assert_eq!(names(&back.milp), names(&m), "{format}");
            assert_eq!(back.milp.rows().len(), 2, "{format}");
            assert_eq!(back.milp.indicators().len(), 1, "{format}");
            let r2 = &back.milp.rows()[1];
            assert_eq!((r2.sense, r2.rhs, r2.terms.len()), (Sense::Eq, -1.5, 3), "{format}");
        }
    }

    #[test]
    fn errors_name_the_line() {
        let e = parse_mps("NAME m FREE\nROWS\n N obj\n Q r\n").unwrap_err();
        assert_eq!(e.0, 4);
        let e = parse_lp("Minimize\n obj: + x\nSubject To\n c: + x 3\nEnd\n").unwrap_err();
        assert_eq!(e.0, 4, "{e:?}");
    }
}
