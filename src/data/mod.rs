//! Input images for the tasks, and pictures of their results.
//!
//! An input is named by a *spec* string (see [`load_image`]): a PNG, a NumPy `.npy` array, or one
//! image of an MNIST IDX file. Whatever the source, an [`Image`] is a flat, row-major vector of
//! `f64` — the same layout as the network's input layer — so the tasks never care where the
//! pixels came from. Pictures (original | adversarial | difference, grids of panels) are written
//! as 8-bit RGB PNGs, atomically, so that an interrupted run never leaves half a file behind.

mod idx;
mod npy;
mod picture;
mod png;

pub use picture::{write_comparison_png, write_grid_png};

use std::path::{Path, PathBuf};
use thiserror::Error;

/// One input point, with what is known about its shape and class.
#[derive(Clone, Debug, PartialEq)]
pub struct Image {
    /// Row-major values. 8-bit sources (PNG, IDX) are scaled by 1/255 (16-bit PNGs by 1/65535)
    /// into `[0, 1]`; `.npy` values are kept exactly as stored, because a saved array is usually
    /// already the network's input (normalised or not) and rescaling it would silently change it.
    pub pixels: Vec<f64>,
    /// Known for PNG and IDX; for `.npy` only when the array is 2-D once unit axes are dropped
    /// (`[28, 28]`, `[1, 28, 28]`, `[1, 1, 28, 28]`), the last axis being the width.
    pub width: Option<usize>,
    pub height: Option<usize>,
    /// The class, when the source tells it: the matching IDX labels file, or a PNG file name
    /// ending in `_label<digits>.png`.
    pub label: Option<u8>,
    /// The spec the image was loaded from, for messages and reports.
    pub source: String,
}

#[derive(Debug, Error)]
pub enum DataError {
    #[error(
        "cannot tell what kind of input '{spec}' is: expected a .png or .npy file, or IDX_FILE:N \
         (image N of an MNIST IDX file)"
    )]
    UnknownSpec { spec: String },
    #[error("cannot read {}: {source}", path.display())]
    Read { path: PathBuf, source: std::io::Error },
    #[error("cannot write {}: {source}", path.display())]
    Write { path: PathBuf, source: std::io::Error },
    #[error("{}: not a readable PNG: {source}", path.display())]
    PngDecode {
        path: PathBuf,
        source: ::png::DecodingError,
    },
    #[error("cannot write {}: PNG encoding failed: {source}", path.display())]
    PngEncode {
        path: PathBuf,
        source: ::png::EncodingError,
    },
    #[error("{}: unsupported PNG layout {what}", path.display())]
    PngLayout { path: PathBuf, what: String },
    #[error("{}: not a valid .npy file: {reason}", path.display())]
    Npy { path: PathBuf, reason: String },
    #[error(
        "{}: unsupported .npy dtype '{dtype}' (expected a float (f4, f8) or integer (i1..i8, u1..u8) array)",
        path.display()
    )]
    NpyDtype { path: PathBuf, dtype: String },
    #[error("{}: value {value} at flat index {index} is not finite", path.display())]
    NotFinite { path: PathBuf, index: usize, value: f64 },
    #[error("{}: holds no values", path.display())]
    Empty { path: PathBuf },
    #[error("{}: not an IDX {expected} file (magic number 0x{magic:08x}, expected 0x{expected_magic:08x})", path.display())]
    IdxMagic {
        path: PathBuf,
        expected: &'static str,
        magic: u32,
        expected_magic: u32,
    },
    #[error("{}: IDX header: {reason}", path.display())]
    IdxHeader { path: PathBuf, reason: String },
    #[error("{}: image index {index} is out of range: the file holds {count} images (0..{count})", path.display())]
    IdxIndex { path: PathBuf, index: usize, count: usize },
    #[error("{}: truncated: the header promises {expected} bytes of data, the file has {got}", path.display())]
    IdxTruncated { path: PathBuf, expected: u64, got: u64 },
    #[error("{}: {got} bytes of data after the header, which promises {expected}", path.display())]
    IdxTrailing { path: PathBuf, expected: u64, got: u64 },
    #[error("{}: holds {labels} labels, but {} holds {images} images", labels_path.display(), images_path.display())]
    IdxLabelCount {
        labels_path: PathBuf,
        labels: usize,
        images_path: PathBuf,
        images: usize,
    },
    #[error("cannot draw {}: {reason}", path.display())]
    Picture { path: PathBuf, reason: String },
}

/// Reads a whole input file into memory, refusing one larger than `cap` bytes *before* the
/// memory is spent: a regular file by its size, anything else (`/dev/zero`, a pipe) by reading
/// at most `cap + 1` bytes. The error for a file too large has kind
/// [`std::io::ErrorKind::FileTooLarge`] and says the cap. Every input (network, bounds file,
/// image) is read once through this, and the one buffer is then hashed and parsed.
pub fn read_capped(path: &Path, cap: u64) -> std::io::Result<Vec<u8>> {
    use std::io::Read;
    let file = std::fs::File::open(path)?;
    let meta = file.metadata()?;
    let too_large = |size: Option<u64>| {
        let size = size.map_or(String::new(), |s| format!("{s} bytes, "));
        std::io::Error::new(
            std::io::ErrorKind::FileTooLarge,
            format!("{size}more than the limit of {cap} bytes"),
        )
    };
    if meta.is_dir() {
        return Err(std::io::Error::new(std::io::ErrorKind::IsADirectory, "is a directory"));
    }
    let mut bytes = Vec::new();
    if meta.is_file() {
        if meta.len() > cap {
            return Err(too_large(Some(meta.len())));
        }
        bytes.reserve_exact(meta.len() as usize);
    }
    file.take(cap.saturating_add(1)).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > cap {
        return Err(too_large(None));
    }
    Ok(bytes)
}

/// Largest image file read (PNG, `.npy`, an IDX file gzipped or not, after unpacking): MNIST's
/// training images are 47 MB.
pub const MAX_IMAGE_FILE_BYTES: u64 = 256 << 20;

/// Most values one image may have (2^24, a 4096×4096 picture): checked against the header's
/// dimensions before the pixels are allocated.
pub const MAX_IMAGE_VALUES: u64 = 1 << 24;

/// Load one input image.
///
/// `spec` is one of
/// - a `.png` path: 8-bit grayscale as is; RGB/RGBA converted to gray (luma
///   `0.299 R + 0.587 G + 0.114 B`, as PIL's `convert("L")`, which is how most grayscale test
///   images were made; alpha is ignored); palettes and low bit depths expanded; 16-bit scaled
///   by 1/65535. A name ending in `_label<digits>.png` gives the label.
/// - a `.npy` path: any shape, `f4`/`f8` or integer dtype, flattened row-major (Fortran-ordered
///   arrays are reordered); values are kept as stored, **not** scaled (see [`Image::pixels`]).
/// - `IDX_FILE:N`: image `N` (from 0) of an MNIST IDX3 ubyte image file, gzipped or not
///   (recognised by its magic bytes, not its name). The label comes from the matching labels
///   file in the same directory (`...-images-idx3-ubyte[.gz]` → `...-labels-idx1-ubyte[.gz]`)
///   when there is one.
///
/// The `:N` suffix is checked first, so a PNG or npy path must not end in `:<digits>`.
pub fn load_image(spec: &str) -> Result<Image, DataError> {
    if let Some((file, index)) = split_idx_spec(spec) {
        let index = index
            .parse::<usize>()
            .map_err(|_| DataError::UnknownSpec { spec: spec.to_string() })?;
        return idx::load(spec, Path::new(file), index);
    }
    let lower = spec.to_ascii_lowercase();
    if lower.ends_with(".png") {
        png::load(spec, Path::new(spec))
    } else if lower.ends_with(".npy") {
        npy::load(spec, Path::new(spec))
    } else {
        Err(DataError::UnknownSpec { spec: spec.to_string() })
    }
}

/// The file an image spec reads: the IDX file of `IDX_FILE:N`, else the spec itself (so that
/// callers can name and hash the input without parsing specs a second way).
pub fn spec_file(spec: &str) -> &Path {
    Path::new(split_idx_spec(spec).map_or(spec, |(file, _)| file))
}

/// `FILE:N` with `N` all decimal digits, split at the last colon.
fn split_idx_spec(spec: &str) -> Option<(&str, &str)> {
    let (file, index) = spec.rsplit_once(':')?;
    (!file.is_empty() && !index.is_empty() && index.bytes().all(|b| b.is_ascii_digit())).then_some((file, index))
}

/// Smallest side of a square picture guessed from a flat input: fewer values are more likely a
/// feature vector (ACAS Xu's 5 inputs) than an image.
const MIN_GUESSED_SIDE: usize = 4;

/// Guess a picture shape `(width, height)` for a network input whose IR shape is `shape`.
///
/// Unit axes are dropped first (batch and single channels). Then:
/// - one axis of `s * s` values with `s >= 4` → `(s, s)` (`[784]` → `(28, 28)`);
/// - two axes `[h, w]` → `(w, h)`;
/// - three axes `[c, h, w]` with `c <= 4` (channels first, as ONNX lays images out) →
///   `(w, c * h)`: the channels stacked vertically, which is exactly how the flat row-major
///   values read as a picture;
/// - anything else (a non-square vector, channels-last layouts, empty shapes) → `None`.
pub fn image_dims(shape: &[usize]) -> Option<(usize, usize)> {
    if shape.contains(&0) {
        return None;
    }
    let axes: Vec<usize> = shape.iter().copied().filter(|&d| d != 1).collect();
    match axes.as_slice() {
        [n] => {
            let s = integer_sqrt(*n);
            (s >= MIN_GUESSED_SIDE && s * s == *n).then_some((s, s))
        }
        [h, w] => Some((*w, *h)),
        [c, h, w] if *c <= 4 => Some((*w, c.checked_mul(*h)?)),
        _ => None,
    }
}

fn integer_sqrt(n: usize) -> usize {
    // The float root is within one of the true root for any usize; fix it up exactly.
    let mut s = (n as f64).sqrt() as usize;
    while s.checked_mul(s).is_none_or(|sq| sq > n) {
        s -= 1;
    }
    while (s + 1).checked_mul(s + 1).is_some_and(|sq| sq <= n) {
        s += 1;
    }
    s
}

/// The label encoded in a PNG file name `..._label<digits>.png`, if it fits a `u8`.
fn label_from_png_name(path: &Path) -> Option<u8> {
    let stem = path.file_stem()?.to_str()?;
    let (_, digits) = stem.rsplit_once("_label")?;
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

#[cfg(test)]
mod unit {
    use super::*;

    #[test]
    fn idx_spec_split() {
        assert_eq!(
            split_idx_spec("a/b-idx3-ubyte.gz:12"),
            Some(("a/b-idx3-ubyte.gz", "12"))
        );
        assert_eq!(split_idx_spec("x.png"), None);
        assert_eq!(split_idx_spec("c:/x.png"), None);
        assert_eq!(split_idx_spec("file:"), None);
        assert_eq!(split_idx_spec(":3"), None);
    }

    #[test]
    fn png_name_labels() {
        assert_eq!(label_from_png_name(Path::new("dir/seven_label7.png")), Some(7));
        assert_eq!(label_from_png_name(Path::new("x_label12.png")), Some(12));
        assert_eq!(label_from_png_name(Path::new("x_label.png")), None);
        assert_eq!(label_from_png_name(Path::new("x_label7b.png")), None);
        assert_eq!(label_from_png_name(Path::new("x_label300.png")), None);
        assert_eq!(label_from_png_name(Path::new("label7.png")), None);
    }

    #[test]
    fn integer_roots() {
        for n in [0usize, 1, 2, 3, 4, 15, 16, 17, 783, 784, 785, usize::MAX] {
            let s = integer_sqrt(n);
            assert!(s * s <= n, "{n}");
            assert!((s + 1).checked_mul(s + 1).is_none_or(|sq| sq > n), "{n}");
        }
    }
}
