//! The parser: `grammar/vnnlib.ebnf`, rule by rule, with `nom` for the lexemes.
//!
//! Two steps: the text becomes s-expressions (lists and atoms with their positions), then each
//! top-level list becomes an [`Item`]. Splitting them keeps the lexing rules (numerals,
//! symbols, comments) in one place, and lets every error point at the atom or list at fault.
//! Nesting is limited to [`MAX_DEPTH`] so that hostile input cannot exhaust the stack.

use super::ast::{Expr, Item, Op, Pos, Script, Sort};
use super::VnnlibError;
use nom::branch::alt;
use nom::bytes::complete::{take_till, take_while1};
use nom::character::complete::{char, multispace1};
use nom::combinator::{opt, recognize};
use nom::sequence::{pair, preceded, tuple};
use nom::IResult;

/// Deepest nesting of parentheses accepted (VNN-COMP files use at most 4).
pub const MAX_DEPTH: usize = 64;

/// An s-expression with where it starts.
enum SExpr<'a> {
    Atom(&'a str, Pos),
    List(Vec<SExpr<'a>>, Pos),
}

impl SExpr<'_> {
    fn pos(&self) -> Pos {
        match self {
            SExpr::Atom(_, p) | SExpr::List(_, p) => *p,
        }
    }
}

/// Finds line and column of a suffix of the source. Positions are asked for in increasing
/// order, so it counts forward from the last one (linear in the file, not quadratic).
struct Locator<'a> {
    src: &'a str,
    /// `(offset, line, offset of that line's start)` of the last position asked for.
    last: std::cell::Cell<(usize, usize, usize)>,
}

impl<'a> Locator<'a> {
    fn new(src: &'a str) -> Self {
        Locator {
            src,
            last: std::cell::Cell::new((0, 1, 0)),
        }
    }

    fn pos(&self, rest: &str) -> Pos {
        let offset = self.src.len() - rest.len();
        let (mut at, mut line, mut start) = self.last.get();
        if offset < at {
            (at, line, start) = (0, 1, 0);
        }
        for (i, b) in self.src.as_bytes()[at..offset].iter().enumerate() {
            if *b == b'\n' {
                line += 1;
                start = at + i + 1;
            }
        }
        self.last.set((offset, line, start));
        let col = self.src[start..offset].chars().count() + 1;
        Pos {
            line: u32::try_from(line).unwrap_or(u32::MAX),
            col: u32::try_from(col).unwrap_or(u32::MAX),
        }
    }
}

/// `comment = ";" , { any character except newline }`.
fn comment(i: &str) -> IResult<&str, &str> {
    recognize(preceded(char(';'), take_till(|c| c == '\n')))(i)
}

/// Blanks and comments.
fn skip(mut i: &str) -> &str {
    while let Ok((rest, _)) = alt((multispace1::<&str, nom::error::Error<&str>>, comment))(i) {
        i = rest;
    }
    i
}

/// An atom: a maximal run of characters other than blanks, parentheses and `;`.
fn atom(i: &str) -> IResult<&str, &str> {
    take_while1(|c: char| !c.is_whitespace() && c != '(' && c != ')' && c != ';')(i)
}

/// `numeral` of the grammar; the whole atom must match.
fn numeral(i: &str) -> IResult<&str, &str> {
    let digits = |i| take_while1(|c: char| c.is_ascii_digit())(i);
    let sign = |i| opt(alt((char('-'), char('+'))))(i);
    let exponent = tuple((alt((char('e'), char('E'))), sign, digits));
    let mantissa = alt((
        recognize(pair(digits, opt(pair(char('.'), opt(digits))))),
        recognize(pair(char('.'), digits)),
    ));
    recognize(tuple((sign, mantissa, opt(exponent))))(i)
}

/// A numeral's value, or `None` when the atom is not one.
pub fn parse_numeral(text: &str) -> Option<f64> {
    match numeral(text) {
        Ok(("", t)) => t.parse::<f64>().ok().filter(|v| v.is_finite()),
        _ => None,
    }
}

/// True when an atom starts like a numeral (so it must be one): a digit or a dot, optionally
/// after a sign, followed by a digit.
fn looks_numeric(text: &str) -> bool {
    let t = text.strip_prefix(['-', '+']).unwrap_or(text);
    t.starts_with(|c: char| c.is_ascii_digit())
        || (t.starts_with('.') && t[1..].starts_with(|c: char| c.is_ascii_digit()))
}

fn syntax(file: &str, pos: Pos, found: &str, message: impl Into<String>) -> VnnlibError {
    VnnlibError::Syntax {
        file: file.to_string(),
        line: pos.line,
        col: pos.col,
        found: shorten(found),
        message: message.into(),
    }
}

/// The offending text as shown in messages: the first line, at most 40 characters.
fn shorten(s: &str) -> String {
    let line = s.lines().next().unwrap_or("");
    let mut out: String = line.chars().take(40).collect();
    if out.len() < line.len() || line.len() < s.trim_end().len() {
        out.push_str("...");
    }
    out
}

/// Reads the s-expressions of the whole file.
fn sexprs<'a>(file: &str, src: &'a str) -> Result<Vec<SExpr<'a>>, VnnlibError> {
    let loc = Locator::new(src);
    // Open lists: their items so far and where they started.
    let mut stack: Vec<(Vec<SExpr<'a>>, Pos, &'a str)> = Vec::new();
    let mut top = Vec::new();
    let mut i = skip(src);
    while !i.is_empty() {
        let pos = loc.pos(i);
        if let Some(rest) = i.strip_prefix('(') {
            if stack.len() >= MAX_DEPTH {
                return Err(syntax(
                    file,
                    pos,
                    i,
                    format!("parentheses nested deeper than {MAX_DEPTH}"),
                ));
            }
            stack.push((Vec::new(), pos, i));
            i = rest;
        } else if let Some(rest) = i.strip_prefix(')') {
            let Some((items, start, _)) = stack.pop() else {
                return Err(syntax(file, pos, i, "unbalanced ')': no list is open"));
            };
            let list = SExpr::List(items, start);
            match stack.last_mut() {
                Some(parent) => parent.0.push(list),
                None => top.push(list),
            }
            i = rest;
        } else {
            let (rest, text) = atom(i).map_err(|_| syntax(file, pos, i, "unexpected character"))?;
            let a = SExpr::Atom(text, pos);
            match stack.last_mut() {
                Some(parent) => parent.0.push(a),
                None => return Err(syntax(file, pos, text, "expected '(' to start a command")),
            }
            i = rest;
        }
        i = skip(i);
    }
    if let Some((_, start, text)) = stack.pop() {
        return Err(syntax(file, start, text, "unbalanced '(': this list is never closed"));
    }
    Ok(top)
}

/// Parses VNN-LIB text; `file` names it in messages.
pub fn parse_script(file: &str, src: &str) -> Result<Script, VnnlibError> {
    let mut items = Vec::new();
    for cmd in sexprs(file, src)? {
        items.push(command(file, src, &cmd)?);
    }
    Ok(Script { items })
}

/// The source text of an s-expression's first line, for messages.
fn text_at<'a>(src: &'a str, e: &SExpr<'a>) -> &'a str {
    match e {
        SExpr::Atom(t, _) => t,
        SExpr::List(_, p) => {
            let line = src.lines().nth(p.line as usize - 1).unwrap_or("");
            let start = line
                .char_indices()
                .nth(p.col as usize - 1)
                .map_or(line.len(), |(b, _)| b);
            &line[start..]
        }
    }
}

fn command(file: &str, src: &str, e: &SExpr) -> Result<Item, VnnlibError> {
    let SExpr::List(parts, pos) = e else {
        unreachable!("top-level atoms are refused by sexprs")
    };
    let head = match parts.first() {
        Some(SExpr::Atom(h, _)) => *h,
        _ => {
            return Err(syntax(
                file,
                *pos,
                text_at(src, e),
                "expected a command: declare-const or assert",
            ))
        }
    };
    match head {
        "declare-const" => {
            let [_, SExpr::Atom(name, _), SExpr::Atom(sort, sort_pos)] = parts.as_slice() else {
                return Err(syntax(
                    file,
                    *pos,
                    text_at(src, e),
                    "expected (declare-const NAME Real)",
                ));
            };
            if *sort != "Real" {
                return Err(VnnlibError::Unsupported {
                    file: file.to_string(),
                    line: sort_pos.line,
                    col: sort_pos.col,
                    found: shorten(sort),
                    message: "only the sort Real is supported (VNN-LIB 1.0)".into(),
                });
            }
            if looks_numeric(name) {
                return Err(syntax(file, parts[1].pos(), name, "a variable name cannot be a number"));
            }
            Ok(Item::Declare {
                name: name.to_string(),
                sort: Sort::Real,
                pos: *pos,
            })
        }
        "assert" => {
            let [_, f] = parts.as_slice() else {
                return Err(syntax(
                    file,
                    *pos,
                    text_at(src, e),
                    "expected (assert FORMULA) with one formula",
                ));
            };
            Ok(Item::Assert {
                formula: expr(file, src, f)?,
                pos: *pos,
            })
        }
        other => Err(VnnlibError::Unsupported {
            file: file.to_string(),
            line: pos.line,
            col: pos.col,
            found: shorten(text_at(src, e)),
            message: format!("command {other} is not supported (VNN-LIB 1.0 has declare-const and assert)"),
        }),
    }
}

fn expr(file: &str, src: &str, e: &SExpr) -> Result<Expr, VnnlibError> {
    match e {
        SExpr::Atom(text, pos) => {
            if looks_numeric(text) {
                let value = parse_numeral(text)
                    .ok_or_else(|| syntax(file, *pos, text, "bad number (expected e.g. 0.5, -3, 1e-4)"))?;
                Ok(Expr::Num {
                    text: text.to_string(),
                    value,
                    pos: *pos,
                })
            } else {
                Ok(Expr::Var {
                    name: text.to_string(),
                    pos: *pos,
                })
            }
        }
        SExpr::List(parts, pos) => {
            let Some(SExpr::Atom(head, head_pos)) = parts.first() else {
                return Err(syntax(file, *pos, text_at(src, e), "expected an operator after '('"));
            };
            let op = Op::from_symbol(head).ok_or_else(|| VnnlibError::Unsupported {
                file: file.to_string(),
                line: head_pos.line,
                col: head_pos.col,
                found: shorten(head),
                message: format!(
                    "operator {head} is not supported (VNN-LIB 1.0 uses {})",
                    Op::ALL.map(|o| o.symbol()).join(" ")
                ),
            })?;
            if parts.len() < 2 {
                return Err(syntax(
                    file,
                    *pos,
                    text_at(src, e),
                    format!("{head} needs at least one argument"),
                ));
            }
            let args = parts[1..]
                .iter()
                .map(|a| expr(file, src, a))
                .collect::<Result<Vec<_>, _>>()?;
            Ok(Expr::App { op, args, pos: *pos })
        }
    }
}
