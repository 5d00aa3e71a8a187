//! VNN-LIB front end: a property file (`.vnnlib`, optionally `.gz`) in, a [`Property`] out.
//!
//! [`parse_script`] follows `grammar/vnnlib.ebnf` into the syntax tree of [`ast`];
//! [`print`] writes a tree back (a round trip gives the same tree); [`interpret`] gives it its
//! meaning as a union of input boxes with output disjunctions. Every error names the file and,
//! where one is to blame, the line, the column and the offending text.

pub mod ast;
mod parse;
mod print;
mod property;

pub use parse::{parse_numeral, parse_script, MAX_DEPTH};
pub use print::print;
pub use property::{interpret, Case, OutRow, Property, Var, MAX_CONJUNCTIONS, MAX_NORMAL_FORM};

use std::io::Read;
use std::path::Path;
use thiserror::Error;

/// Largest property file accepted (after gunzipping); the largest VNN-COMP files are ~30 MB.
pub const MAX_FILE_BYTES: u64 = 256 << 20;

#[derive(Debug, Error, PartialEq)]
pub enum VnnlibError {
    #[error("{file}: cannot read: {message}")]
    Io { file: String, message: String },
    #[error("{file}:{line}:{col}: {message} (at `{found}`)")]
    Syntax {
        file: String,
        line: u32,
        col: u32,
        found: String,
        message: String,
    },
    #[error("{file}:{line}:{col}: {message} (at `{found}`)")]
    Unsupported {
        file: String,
        line: u32,
        col: u32,
        found: String,
        message: String,
    },
    #[error("{file}:{line}:{col}: unknown variable {name}: not declared with declare-const (at `{name}`)")]
    UnknownVariable {
        file: String,
        line: u32,
        col: u32,
        name: String,
    },
    #[error("{file}: {message}")]
    Unbounded { file: String, message: String },
    #[error("{file}: {message}")]
    Shape { file: String, message: String },
}

impl VnnlibError {
    /// `(line, column)` of the error, when it has one.
    pub fn position(&self) -> Option<(u32, u32)> {
        match self {
            VnnlibError::Syntax { line, col, .. }
            | VnnlibError::Unsupported { line, col, .. }
            | VnnlibError::UnknownVariable { line, col, .. } => Some((*line, *col)),
            _ => None,
        }
    }
}

/// Reads a property file's text (gunzipped when its name ends in `.gz`), at most
/// [`MAX_FILE_BYTES`].
pub fn read_text(path: &Path) -> Result<String, VnnlibError> {
    let file = path.display().to_string();
    let io = |e: std::io::Error| VnnlibError::Io {
        file: file.clone(),
        message: e.to_string(),
    };
    let reader = std::fs::File::open(path).map_err(io)?;
    let mut bytes = Vec::new();
    if path.extension().is_some_and(|e| e == "gz") {
        flate2::read::GzDecoder::new(reader)
            .take(MAX_FILE_BYTES + 1)
            .read_to_end(&mut bytes)
            .map_err(|e| VnnlibError::Io {
                file: file.clone(),
                message: format!("cannot gunzip: {e}"),
            })?;
    } else {
        reader.take(MAX_FILE_BYTES + 1).read_to_end(&mut bytes).map_err(io)?;
    }
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(VnnlibError::Io {
            file,
            message: format!("larger than {MAX_FILE_BYTES} bytes"),
        });
    }
    String::from_utf8(bytes).map_err(|e| VnnlibError::Io {
        file,
        message: format!("not UTF-8 text (byte {})", e.utf8_error().valid_up_to()),
    })
}

/// Reads, parses and interprets a property file.
pub fn load(path: &Path) -> Result<Property, VnnlibError> {
    let text = read_text(path)?;
    let file = path.display().to_string();
    interpret(&file, &parse_script(&file, &text)?)
}
