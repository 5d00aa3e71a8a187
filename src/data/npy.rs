//! Reading NumPy `.npy` arrays as flat row-major `f64` vectors, values unchanged.

use super::{read_capped, DataError, Image, MAX_IMAGE_FILE_BYTES, MAX_IMAGE_VALUES};
use npyz::{DType, NpyFile, NpyHeader, Order, TypeChar};
use std::io::Read;
use std::path::Path;

/// Where the header text lies in the file, from the preamble (magic, version, header length):
/// checked against the file's length before npyz allocates a buffer of the claimed length.
fn header_text(bytes: &[u8]) -> Result<std::ops::Range<usize>, String> {
    if !bytes.starts_with(b"\x93NUMPY") || bytes.len() < 10 {
        return Err("no .npy magic string".into());
    }
    let (start, len): (usize, usize) = match bytes[6] {
        1 => (10, u16::from_le_bytes([bytes[8], bytes[9]]) as usize),
        2 | 3 if bytes.len() >= 12 => (
            12,
            u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]) as usize,
        ),
        v => return Err(format!("unsupported format version {v}")),
    };
    match start.checked_add(len).filter(|&end| end <= bytes.len()) {
        Some(end) => Ok(start..end),
        None => Err(format!(
            "the header claims {len} bytes, the file has {}",
            bytes.len() - start
        )),
    }
}

/// The number of values the header's `'shape': (...)` promises, checked: npyz multiplies the
/// dimensions without checking (a product that wraps would pass as small).
fn header_values(text: &[u8]) -> Result<u64, String> {
    let text = String::from_utf8_lossy(text);
    let unreadable = || format!("cannot read the shape in the header {text:?}");
    let after = text.split_once("'shape'").ok_or_else(unreadable)?.1;
    let tuple = after.split_once('(').ok_or_else(unreadable)?.1;
    let tuple = tuple.split_once(')').ok_or_else(unreadable)?.0;
    let dims = (tuple.split(',').map(str::trim).filter(|d| !d.is_empty()))
        .map(|d| d.trim_end_matches('L').parse::<u64>().map_err(|_| unreadable()))
        .collect::<Result<Vec<_>, _>>()?;
    dims.iter()
        .try_fold(1u64, |acc, &d| acc.checked_mul(d))
        .filter(|&n| n <= MAX_IMAGE_VALUES)
        .ok_or_else(|| format!("shape {dims:?} has more than {MAX_IMAGE_VALUES} values"))
}

pub(super) fn load(spec: &str, path: &Path) -> Result<Image, DataError> {
    let read_err = |source| DataError::Read {
        path: path.to_path_buf(),
        source,
    };
    let npy_err = |reason: String| DataError::Npy {
        path: path.to_path_buf(),
        reason,
    };
    let bytes = read_capped(path, MAX_IMAGE_FILE_BYTES).map_err(read_err)?;
    let text = header_text(&bytes).map_err(npy_err)?;
    let n = header_values(&bytes[text.clone()]).map_err(npy_err)?;
    let header = NpyHeader::from_reader(&bytes[..]).map_err(|e| npy_err(e.to_string()))?;
    let data_start = text.end as u64;
    let file_len = bytes.len() as u64;

    let dtype = header.dtype();
    let DType::Plain(ty) = &dtype else {
        return Err(DataError::NpyDtype {
            path: path.to_path_buf(),
            dtype: dtype.descr(),
        });
    };
    let unsupported = || DataError::NpyDtype {
        path: path.to_path_buf(),
        dtype: ty.to_string(),
    };
    let item_size = ty.size_field();
    // npyz preallocates from the header's shape, so check the file really holds that much data
    // before reading: a lying header must be an error, not an out-of-memory abort.
    let needed = n
        .checked_mul(item_size)
        .ok_or_else(|| npy_err(format!("shape {:?} is too large", header.shape())))?;
    let available = file_len.saturating_sub(data_start);
    if available < needed {
        return Err(npy_err(format!(
            "truncated: shape {:?} of {ty} needs {needed} bytes of data, the file has {available}",
            header.shape()
        )));
    }
    if n == 0 {
        return Err(DataError::Empty {
            path: path.to_path_buf(),
        });
    }

    let shape = header.shape().to_vec();
    let strides = header.strides().to_vec();
    let order = header.order();
    let npy = NpyFile::with_header(header, &bytes[text.end..]);
    let values: Vec<f64> = match (ty.type_char(), item_size) {
        (TypeChar::Float, 4) => read_as::<f32, _>(npy, path)?,
        (TypeChar::Float, 8) => read_as::<f64, _>(npy, path)?,
        (TypeChar::Uint, 1) => read_as::<u8, _>(npy, path)?,
        (TypeChar::Uint, 2) => read_as::<u16, _>(npy, path)?,
        (TypeChar::Uint, 4) => read_as::<u32, _>(npy, path)?,
        (TypeChar::Uint, 8) => read_as_lossy(npy, path, |v: u64| v as f64)?,
        (TypeChar::Int, 1) => read_as::<i8, _>(npy, path)?,
        (TypeChar::Int, 2) => read_as::<i16, _>(npy, path)?,
        (TypeChar::Int, 4) => read_as::<i32, _>(npy, path)?,
        (TypeChar::Int, 8) => read_as_lossy(npy, path, |v: i64| v as f64)?,
        _ => return Err(unsupported()),
    };
    let pixels = match order {
        Order::C => values,
        Order::Fortran => to_row_major(&values, &shape, &strides),
    };
    if let Some((index, &value)) = pixels.iter().enumerate().find(|(_, v)| !v.is_finite()) {
        return Err(DataError::NotFinite {
            path: path.to_path_buf(),
            index,
            value,
        });
    }

    // Unit axes (batch, single channel) say nothing about the picture's shape.
    let axes: Vec<usize> = shape.iter().filter(|&&d| d != 1).map(|&d| d as usize).collect();
    let (width, height) = match axes.as_slice() {
        [h, w] => (Some(*w), Some(*h)),
        _ => (None, None),
    };
    Ok(Image {
        pixels,
        width,
        height,
        label: None,
        source: spec.to_string(),
    })
}

fn read_as<T, R>(npy: NpyFile<R>, path: &Path) -> Result<Vec<f64>, DataError>
where
    T: npyz::Deserialize + Into<f64>,
    R: Read,
{
    read_as_lossy(npy, path, T::into)
}

/// 64-bit integers above 2^53 round; image data never gets near that.
fn read_as_lossy<T, R>(npy: NpyFile<R>, path: &Path, convert: impl Fn(T) -> f64) -> Result<Vec<f64>, DataError>
where
    T: npyz::Deserialize,
    R: Read,
{
    let values: Vec<T> = npy.into_vec().map_err(|e| DataError::Npy {
        path: path.to_path_buf(),
        reason: e.to_string(),
    })?;
    Ok(values.into_iter().map(convert).collect())
}

/// Reorder values stored with `strides` (in elements, one per axis of `shape`) into C order.
fn to_row_major(stored: &[f64], shape: &[u64], strides: &[u64]) -> Vec<f64> {
    let mut out = Vec::with_capacity(stored.len());
    let mut index = vec![0u64; shape.len()];
    for _ in 0..stored.len() {
        let at: u64 = index.iter().zip(strides).map(|(i, s)| i * s).sum();
        out.push(stored[at as usize]);
        // Advance the multi-index, last axis fastest.
        for axis in (0..shape.len()).rev() {
            index[axis] += 1;
            if index[axis] < shape[axis] {
                break;
            }
            index[axis] = 0;
        }
    }
    out
}

#[cfg(test)]
mod unit {
    use super::to_row_major;

    #[test]
    fn fortran_to_c() {
        // A 2x3 matrix [[1,2,3],[4,5,6]] stored column by column.
        let stored = [1.0, 4.0, 2.0, 5.0, 3.0, 6.0];
        assert_eq!(
            to_row_major(&stored, &[2, 3], &[1, 2]),
            vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0]
        );
    }
}
