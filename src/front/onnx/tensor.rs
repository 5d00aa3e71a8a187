//! Constant tensors: initializers, `Constant` nodes and everything folded from them, plus the
//! index arithmetic (strides, broadcasting) that builders share between constants and variables.

use std::sync::Arc;

use onnx_protobuf::tensor_proto::{DataLocation, DataType};
use onnx_protobuf::TensorProto;
use protobuf::Enum;

/// Most scalar entries (tensor elements, matrix non-zeros, window taps) one value or operator
/// expansion may have, and the default budget of a whole load ([`super::LoadOptions`]): past
/// this, a file would exhaust memory long before a MILP is written.
pub const MAX_ENTRIES: usize = 100_000_000;

/// A constant, row-major tensor.
#[derive(Clone, Debug, PartialEq)]
pub struct Tensor {
    pub shape: Vec<usize>,
    /// Values of every element type as `f64`: integer tensors here are shapes, axes and indices,
    /// far below 2^53, so they are held exactly. Shared, because relabelling operators
    /// (`Identity`, `Reshape`, `Flatten`, ...) hand the same values on under a new shape: a
    /// chain of them must not copy a large constant once per link.
    pub data: Arc<[f64]>,
    /// Whether the ONNX element type is an integer one; `Div` truncates and `Cast` rounds then.
    pub int: bool,
}

impl Tensor {
    pub fn new(shape: Vec<usize>, data: Vec<f64>, int: bool) -> Self {
        debug_assert_eq!(shape.iter().product::<usize>(), data.len());
        Tensor {
            shape,
            data: data.into(),
            int,
        }
    }

    /// The first non-finite value and its index. Checked once, when a constant is made
    /// (decoded or folded), so that every later reader may assume finite values.
    pub fn non_finite(&self) -> Option<(usize, f64)> {
        self.data.iter().position(|x| !x.is_finite()).map(|i| (i, self.data[i]))
    }

    /// A 1-D integer tensor (what `Shape` produces).
    pub fn ints(values: &[i64]) -> Self {
        Tensor::new(vec![values.len()], values.iter().map(|&v| v as f64).collect(), true)
    }

    /// The values as integers (shapes, axes, indices); `None` if one is not a whole number.
    pub fn to_i64s(&self) -> Option<Vec<i64>> {
        self.data
            .iter()
            .map(|&v| (v.fract() == 0.0).then_some(v as i64))
            .collect()
    }

    /// The same values (shared, not copied) under another shape of equal size.
    pub fn reshaped(&self, shape: Vec<usize>) -> Self {
        debug_assert_eq!(shape.iter().product::<usize>(), self.data.len());
        Tensor {
            shape,
            data: Arc::clone(&self.data),
            int: self.int,
        }
    }

    /// `out[i] = self.data[src[i]]`: transposes, gathers, slices and broadcasts of constants.
    pub fn gather(&self, shape: Vec<usize>, src: &[usize]) -> Self {
        Tensor::new(shape, src.iter().map(|&i| self.data[i]).collect(), self.int)
    }

    /// Decodes an initializer or a `Constant` value (f32, f64, i32 or i64; raw little-endian
    /// bytes or the typed fields).
    pub fn from_proto(t: &TensorProto) -> Result<Self, String> {
        let shape = t
            .dims
            .iter()
            .map(|&d| usize::try_from(d).map_err(|_| format!("negative dimension {d}")))
            .collect::<Result<Vec<_>, _>>()?;
        let len = element_count(&shape).ok_or_else(|| too_large("tensor", &shape))?;
        if t.data_location.enum_value() == Ok(DataLocation::EXTERNAL) {
            return Err("data stored in an external file is not supported".into());
        }
        let raw = &t.raw_data;
        // The stored count is checked against the shape before anything is decoded, so a
        // tensor whose shape lies about its data is refused without allocating for either.
        let (stored, width) = match t.data_type {
            x if x == DataType::FLOAT as i32 => (t.float_data.len(), 4),
            x if x == DataType::DOUBLE as i32 => (t.double_data.len(), 8),
            x if x == DataType::INT64 as i32 => (t.int64_data.len(), 8),
            x if x == DataType::INT32 as i32 => (t.int32_data.len(), 4),
            other => return Err(format!("element type {} is not supported", type_name(other))),
        };
        if !raw.is_empty() && raw.len() as u64 != len as u64 * width {
            return Err(format!(
                "raw data has {} bytes, shape {shape:?} needs {}",
                raw.len(),
                len as u64 * width
            ));
        }
        if raw.is_empty() && stored != len {
            return Err(format!("{stored} values for shape {shape:?}"));
        }
        // Collected straight into the shared storage: an exact-size iterator fills an `Arc<[f64]>`
        // in place, where a `Vec` would be copied into one (a second copy of every weight).
        fn decode<const N: usize>(raw: &[u8], f: impl Fn([u8; N]) -> f64) -> Arc<[f64]> {
            raw.chunks_exact(N)
                .map(|c| f(c.try_into().expect("chunks_exact yields N bytes")))
                .collect()
        }
        let (data, int) = match t.data_type {
            x if x == DataType::FLOAT as i32 => (
                if raw.is_empty() {
                    t.float_data.iter().map(|&v| v as f64).collect()
                } else {
                    decode(raw, |b| f32::from_le_bytes(b) as f64)
                },
                false,
            ),
            x if x == DataType::DOUBLE as i32 => (
                if raw.is_empty() {
                    t.double_data.as_slice().into()
                } else {
                    decode(raw, f64::from_le_bytes)
                },
                false,
            ),
            x if x == DataType::INT64 as i32 => (
                if raw.is_empty() {
                    t.int64_data.iter().map(|&v| v as f64).collect()
                } else {
                    decode(raw, |b| i64::from_le_bytes(b) as f64)
                },
                true,
            ),
            x if x == DataType::INT32 as i32 => (
                if raw.is_empty() {
                    t.int32_data.iter().map(|&v| v as f64).collect()
                } else {
                    decode(raw, |b| i32::from_le_bytes(b) as f64)
                },
                true,
            ),
            _ => unreachable!("element types were matched above"),
        };
        let t = Tensor { shape, data, int };
        if let Some((index, value)) = t.non_finite() {
            return Err(format!("holds the non-finite value {value} at index {index}"));
        }
        Ok(t)
    }
}

/// Name of an ONNX element type code, for messages.
pub fn type_name(code: i32) -> String {
    match DataType::from_i32(code) {
        Some(t) => format!("{t:?}"),
        None => format!("#{code}"),
    }
}

/// The number of elements of `shape`, or `None` when the shape is too large: when the product
/// of its *non-zero* dimensions exceeds [`MAX_ENTRIES`]. Empty tensors are not exempt, because
/// index arithmetic over a shape such as `[10^12, 0]` (offsets, slices, broadcasts) walks the
/// large axes before it meets the empty one.
pub fn element_count(shape: &[usize]) -> Option<usize> {
    let nominal = shape
        .iter()
        .filter(|&&d| d != 0)
        .try_fold(1usize, |acc, &d| acc.checked_mul(d))
        .filter(|&n| n <= MAX_ENTRIES)?;
    Some(if shape.contains(&0) { 0 } else { nominal })
}

pub fn too_large(what: &str, shape: &[usize]) -> String {
    format!("{what} of shape {shape:?} has more than {MAX_ENTRIES} elements (counting the non-zero dimensions)")
}

/// Row-major strides of `shape`.
pub fn strides(shape: &[usize]) -> Vec<usize> {
    let mut s = vec![1; shape.len()];
    for d in (0..shape.len().saturating_sub(1)).rev() {
        s[d] = s[d + 1] * shape[d + 1];
    }
    s
}

/// The numpy broadcast of two shapes, `None` if they are incompatible.
pub fn broadcast_shape(a: &[usize], b: &[usize]) -> Option<Vec<usize>> {
    let n = a.len().max(b.len());
    let dim = |s: &[usize], i: usize| if i + s.len() < n { 1 } else { s[i + s.len() - n] };
    (0..n)
        .map(|i| match (dim(a, i), dim(b, i)) {
            (x, y) if x == y || y == 1 => Some(x),
            (1, y) => Some(y),
            _ => None,
        })
        .collect()
}

/// For each position of `out` (row-major), the flat offset in storage with `strides` of the
/// element a tensor of `shape` (right-aligned, broadcast along its size-1 axes) puts there.
pub fn offsets(shape: &[usize], strides: &[usize], out: &[usize]) -> Vec<usize> {
    let lead = out.len() - shape.len();
    let mut result = vec![0usize];
    for (d, &n) in out.iter().enumerate() {
        let step = if d < lead || shape[d - lead] == 1 {
            0
        } else {
            strides[d - lead]
        };
        result = result.iter().flat_map(|&o| (0..n).map(move |i| o + i * step)).collect();
    }
    result
}

/// [`offsets`] for a contiguous tensor: where each element of the broadcast result comes from.
pub fn broadcast_index(shape: &[usize], out: &[usize]) -> Vec<usize> {
    offsets(shape, &strides(shape), out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn broadcasting_follows_numpy() {
        assert_eq!(broadcast_shape(&[1, 3], &[2, 1]), Some(vec![2, 3]));
        assert_eq!(broadcast_shape(&[4, 1, 5], &[5]), Some(vec![4, 1, 5]));
        assert_eq!(broadcast_shape(&[2, 3], &[3, 2]), None);
        // [2,1] broadcast to [2,3]: each row repeats its one element.
        assert_eq!(broadcast_index(&[2, 1], &[2, 3]), vec![0, 0, 0, 1, 1, 1]);
        assert_eq!(broadcast_index(&[3], &[2, 3]), vec![0, 1, 2, 0, 1, 2]);
    }

    #[test]
    fn raw_and_typed_data_decode_alike() {
        let mut t = TensorProto::new();
        t.dims = vec![2];
        t.data_type = DataType::FLOAT as i32;
        t.raw_data = [1.5f32, -2.0].iter().flat_map(|v| v.to_le_bytes()).collect();
        let raw = Tensor::from_proto(&t).unwrap();
        t.raw_data.clear();
        t.float_data = vec![1.5, -2.0];
        assert_eq!(Tensor::from_proto(&t).unwrap(), raw);
        t.float_data.pop();
        assert!(Tensor::from_proto(&t).unwrap_err().contains("1 values"));
        // An empty tensor whose other axes are huge is refused, not exempt.
        t.float_data.clear();
        t.dims = vec![1 << 40, 0];
        assert!(Tensor::from_proto(&t).unwrap_err().contains("non-zero dimensions"));
        t.dims = vec![1];
        t.float_data = vec![f32::INFINITY];
        assert!(Tensor::from_proto(&t)
            .unwrap_err()
            .contains("non-finite value inf at index 0"));
    }
}
