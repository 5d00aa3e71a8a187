//! What tasks write: model files with their comment header, JSON reports, file names.

use super::{write_text_atomic, NetworkSource, TaskError};
use crate::back::{self, WriteOptions};
use crate::data;
use crate::ir::Network;
use crate::milp::Milp;
use serde::Serialize;
use std::path::Path;
use std::time::Instant;

/// Longest header line in bytes, comment marker included. Header lines carry untrusted text
/// (ONNX node names, file names); SCIP's MPS reader breaks on lines over 1,023 characters, and a
/// short bound keeps every reader and editor safe.
pub const MAX_HEADER_LINE: usize = 255;

/// Room for the text of one header line: the writers put a comment marker and a space first.
const HEADER_TEXT: usize = MAX_HEADER_LINE - 2;

/// Continuation lines of a wrapped header line start with this.
const CONTINUATION: &str = "  ";

/// The comment header of a written model: what produced the file and how, so that an archived
/// instance can be regenerated. No timestamps and no paths (file names and SHA-256 instead):
/// the same input gives the same bytes on every machine. Every line is sanitised (control
/// characters escaped) and wrapped to [`MAX_HEADER_LINE`].
pub(crate) struct Header {
    lines: Vec<String>,
}

impl Header {
    /// The first lines of every model: the tool and the network's identity.
    pub fn new(src: &NetworkSource) -> Self {
        let mut h = Header { lines: Vec::new() };
        h.line(format!(
            "nnmilp {} - Fischetti & Jo 0-1 MILP of a ReLU network",
            env!("CARGO_PKG_VERSION")
        ));
        h.line(format!("network: {} sha256 {}", src.file_name(), src.sha256));
        h
    }

    /// Adds `text`, sanitised and wrapped.
    pub fn line(&mut self, text: impl AsRef<str>) -> &mut Self {
        self.lines.extend(wrap(&sanitise(text.as_ref()), HEADER_TEXT));
        self
    }

    /// The legend of the generated column names; `task_columns` names the task's own
    /// (`d_j L1 distances`), between the network's inputs and outputs and its ReLU columns.
    pub fn columns(&mut self, task_columns: &[&str]) -> &mut Self {
        let mut parts = vec!["in_j inputs", "y_j outputs"];
        parts.extend(task_columns);
        parts.push("x/s/z_Lk_j ReLU unit j of nonlinear layer k (z=1: inactive)");
        self.line(format!("columns: {}", parts.join(", ")))
    }

    pub fn into_lines(self) -> Vec<String> {
        self.lines
    }
}

/// `text` with every control character (newlines, tabs, escapes) written as `\u{..}`: one
/// header line stays one line, and nothing reaches a terminal that reads the file.
pub(crate) fn sanitise(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_control() {
            out.extend(c.escape_unicode());
        } else {
            out.push(c);
        }
    }
    out
}

/// `text` cut into lines of at most `width` bytes, at a space where one falls in the second
/// half of the line, else at a character boundary; continuation lines are indented.
fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = text;
    loop {
        let indent = if out.is_empty() { "" } else { CONTINUATION };
        let room = width - indent.len();
        if rest.len() <= room {
            out.push(format!("{indent}{rest}"));
            return out;
        }
        let mut cut = room;
        while !rest.is_char_boundary(cut) {
            cut -= 1;
        }
        if let Some(space) = rest[..cut].rfind(' ').filter(|&s| s > room / 2) {
            cut = space;
        }
        out.push(format!("{indent}{}", rest[..cut].trim_end()));
        rest = rest[cut..].trim_start();
        if rest.is_empty() {
            return out;
        }
    }
}

/// Frees `value` on a thread of its own, so that the task returns without waiting for it. A
/// conv net's model is about a million allocations (a name per column and row, a term list
/// per row), whose freeing took a tenth of a conv_cifar compile after its file was done; the
/// CLI exits meanwhile, and a longer-lived caller gets the memory back shortly after. Dropped
/// in place if no thread can be started.
pub(crate) fn release<T: Send + 'static>(value: T) {
    // If the thread cannot start, the closure, and the value in it, is dropped right here.
    let _ = std::thread::Builder::new()
        .name("nnmilp-free".into())
        .spawn(move || drop(value));
}

/// Writes a model with a header; returns the seconds it took.
pub(crate) fn write_model(
    milp: &Milp,
    path: &str,
    format: Option<back::Format>,
    header: Header,
) -> Result<f64, TaskError> {
    let start = Instant::now();
    back::write_file(
        milp,
        path,
        format,
        &WriteOptions {
            header: header.into_lines(),
        },
    )?;
    Ok(start.elapsed().as_secs_f64())
}

/// `path` with `.tag` inserted before its model extension: `out.mps.gz` -> `out.max.mps.gz`
/// (so solvers still pick their reader from the name). Names without a known extension get the
/// tag appended.
pub fn tagged_path(path: &str, tag: &str) -> String {
    let lower = path.to_ascii_lowercase();
    for ext in [".mps.gz", ".lp.gz", ".mps", ".lp"] {
        if lower.ends_with(ext) {
            let cut = path.len() - ext.len();
            return format!("{}.{tag}{}", &path[..cut], &path[cut..]);
        }
    }
    format!("{path}.{tag}")
}

/// How pictures of the network's input are laid out: the image's own size, else a guess from
/// the input layer's shape.
pub(crate) fn picture_dims(net: &Network, image: Option<&data::Image>) -> Option<(usize, usize)> {
    match image.map(|i| (i.width, i.height)) {
        Some((Some(w), Some(h))) => Some((w, h)),
        _ => data::image_dims(&net.layer(net.input()).shape),
    }
}

pub(crate) fn write_report<T: Serialize>(path: &Path, report: &T) -> Result<(), TaskError> {
    let text = serde_json::to_string_pretty(report).expect("report serialises") + "\n";
    write_text_atomic(path, &text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_lines_are_sanitised_and_bounded() {
        let hostile = format!("node\n{}\u{1b}[31m{}", "a".repeat(300), "é".repeat(400));
        let lines = wrap(&sanitise(&hostile), HEADER_TEXT);
        assert!(lines.len() > 3);
        for l in &lines {
            assert!(l.len() <= HEADER_TEXT, "{} bytes", l.len());
            assert!(!l.chars().any(char::is_control), "{l:?}");
        }
        let joined: String = lines.iter().map(|l| l.trim_start()).collect();
        assert!(joined.starts_with("node\\u{a}aaa") && joined.contains("\\u{1b}[31m"));
        assert_eq!(joined.matches('é').count(), 400, "wrapping keeps every character");
        assert_eq!(wrap("short line", HEADER_TEXT), vec!["short line"]);
    }
}
