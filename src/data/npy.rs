//! Reading NumPy `.npy` arrays as flat row-major `f64` vectors, values unchanged.

use super::{DataError, Image};
use npyz::{DType, NpyFile, NpyHeader, Order, TypeChar};
use std::fs::File;
use std::io::{BufReader, Read, Seek};
use std::path::Path;

pub(super) fn load(spec: &str, path: &Path) -> Result<Image, DataError> {
    let read_err = |source| DataError::Read {
        path: path.to_path_buf(),
        source,
    };
    let npy_err = |reason: String| DataError::Npy {
        path: path.to_path_buf(),
        reason,
    };
    let file = File::open(path).map_err(read_err)?;
    let file_len = file.metadata().map_err(read_err)?.len();
    let mut reader = BufReader::new(file);
    let header = NpyHeader::from_reader(&mut reader).map_err(|e| npy_err(e.to_string()))?;
    let data_start = reader.stream_position().map_err(read_err)?;

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
    let n = header.len();
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
    let npy = NpyFile::with_header(header, reader);
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
