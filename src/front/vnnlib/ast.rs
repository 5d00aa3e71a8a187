//! The syntax tree of a VNN-LIB file: what was written, before any meaning is given to it.
//!
//! It stays close to the s-expressions (declarations, assertions, applications of named
//! operators to arguments) so that VNN-LIB 2.x constructs can be added as new [`Item`]s and
//! [`Op`]s without changing the parser's shape. Meaning (which variables are inputs, which
//! assertions are boxes) is given by [`super::property`].

use std::fmt;

/// Where something starts in the source: 1-based line and column (in characters).
///
/// Positions never take part in equality: two trees are equal when they say the same thing,
/// wherever it was written (which is what the pretty-printer's round trip checks).
#[derive(Clone, Copy, Debug, Default)]
pub struct Pos {
    pub line: u32,
    pub col: u32,
}

impl PartialEq for Pos {
    fn eq(&self, _: &Pos) -> bool {
        true
    }
}

impl fmt::Display for Pos {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}, column {}", self.line, self.col)
    }
}

/// A whole file: its commands in order.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Script {
    pub items: Vec<Item>,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Item {
    /// `(declare-const NAME SORT)`; VNN-LIB 1.0 only has the sort `Real`.
    Declare { name: String, sort: Sort, pos: Pos },
    /// `(assert FORMULA)`.
    Assert { formula: Expr, pos: Pos },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sort {
    Real,
}

/// The operators of VNN-LIB 1.0.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    And,
    Or,
    Le,
    Ge,
    Eq,
    Add,
    Sub,
    Mul,
}

impl Op {
    pub const ALL: [Op; 8] = [Op::And, Op::Or, Op::Le, Op::Ge, Op::Eq, Op::Add, Op::Sub, Op::Mul];

    pub fn symbol(self) -> &'static str {
        match self {
            Op::And => "and",
            Op::Or => "or",
            Op::Le => "<=",
            Op::Ge => ">=",
            Op::Eq => "=",
            Op::Add => "+",
            Op::Sub => "-",
            Op::Mul => "*",
        }
    }

    pub fn from_symbol(s: &str) -> Option<Op> {
        Op::ALL.into_iter().find(|o| o.symbol() == s)
    }

    /// True for the operators whose value is a truth value.
    pub fn is_logical(self) -> bool {
        matches!(self, Op::And | Op::Or | Op::Le | Op::Ge | Op::Eq)
    }
}

#[derive(Clone, Debug, PartialEq)]
pub enum Expr {
    /// A numeral, with its text as written (printed back unchanged, so a round trip is exact).
    Num { text: String, value: f64, pos: Pos },
    /// A variable name.
    Var { name: String, pos: Pos },
    /// `(OP ARG ...)`.
    App { op: Op, args: Vec<Expr>, pos: Pos },
}

impl Expr {
    pub fn pos(&self) -> Pos {
        match self {
            Expr::Num { pos, .. } | Expr::Var { pos, .. } | Expr::App { pos, .. } => *pos,
        }
    }
}
