//! The pretty-printer: a [`Script`] back to VNN-LIB text that parses to the same tree.
//!
//! Numerals are printed as they were written, so printing and parsing again is exact. Long
//! `and` / `or` applications go one argument per line, as VNN-COMP's generators write them.

use super::ast::{Expr, Item, Script, Sort};
use std::fmt::Write;

/// Applications whose one-line form is longer than this are broken into lines.
const LINE_WIDTH: usize = 100;

pub fn print(script: &Script) -> String {
    let mut out = String::new();
    for item in &script.items {
        match item {
            Item::Declare { name, sort, .. } => {
                let sort = match sort {
                    Sort::Real => "Real",
                };
                let _ = writeln!(out, "(declare-const {name} {sort})");
            }
            Item::Assert { formula, .. } => {
                out.push_str("(assert ");
                write_expr(&mut out, formula, 1);
                out.push_str(")\n");
            }
        }
    }
    out
}

fn one_line(e: &Expr) -> String {
    match e {
        Expr::Num { text, .. } => text.clone(),
        Expr::Var { name, .. } => name.clone(),
        Expr::App { op, args, .. } => {
            let mut s = format!("({}", op.symbol());
            for a in args {
                s.push(' ');
                s.push_str(&one_line(a));
            }
            s.push(')');
            s
        }
    }
}

fn write_expr(out: &mut String, e: &Expr, indent: usize) {
    let flat = one_line(e);
    match e {
        Expr::App { op, args, .. } if flat.len() > LINE_WIDTH && args.len() > 1 => {
            out.push('(');
            out.push_str(op.symbol());
            for a in args {
                out.push('\n');
                out.push_str(&"    ".repeat(indent));
                write_expr(out, a, indent + 1);
            }
            out.push(')');
        }
        _ => out.push_str(&flat),
    }
}
