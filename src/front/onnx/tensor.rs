//! Constant tensors: initializers, `Constant` nodes and everything folded from them, plus the
//! index arithmetic (strides, broadcasting) that builders share between constants and variables.

use std::borrow::Cow;
use std::sync::Arc;

use onnx_protobuf::tensor_proto::{DataLocation, DataType};
use onnx_protobuf::TensorProto;
use protobuf::Enum;

/// Most scalar entries (tensor elements, matrix non-zeros, window taps) one value or operator
/// expansion may have, and the default budget of a whole load ([`super::LoadOptions`]): past
/// this, a file would exhaust memory long before a MILP is written.
pub const MAX_ENTRIES: usize = 100_000_000;

/// A constant, row-major tensor.
#[derive(Clone, Debug)]
pub struct Tensor {
    pub shape: Vec<usize>,
    data: Store,
    /// Whether the ONNX element type is an integer one; `Div` truncates and `Cast` rounds then.
    pub int: bool,
}

/// Where a constant's values live. Shared, because relabelling operators (`Identity`,
/// `Reshape`, `Flatten`, ...) hand the same values on under a new shape: a chain of them must
/// not copy a large constant once per link.
#[derive(Clone, Debug)]
enum Store {
    /// Values of every element type as `f64`: integer tensors here are shapes, axes and
    /// indices, far below 2^53, so they are held exactly.
    F64(Arc<[f64]>),
    /// An initializer's `raw_data` as the file stores it, little-endian `f32`s (`F32Le`) or
    /// `f64`s (`F64Le`), moved out of the decoded protobuf, not copied. Weights are read from
    /// here straight into their layer's matrix: converted to `f64` (exactly: every `f32` is an
    /// `f64`) when read, so a weight is never held as a second, twice as large `f64` array.
    F32Le(Arc<Vec<u8>>),
    F64Le(Arc<Vec<u8>>),
}

/// Random access to a constant's values as `f64`, implemented once per storage type so that the
/// loops that read large weights ([`with_values!`]) are compiled for each and never branch per
/// element.
pub trait At: Copy {
    fn at(self, i: usize) -> f64;
}

impl At for &[f64] {
    #[inline]
    fn at(self, i: usize) -> f64 {
        self[i]
    }
}

/// Little-endian `f32`s in bytes.
#[derive(Clone, Copy)]
pub struct F32Le<'a>(&'a [u8]);

impl At for F32Le<'_> {
    #[inline]
    fn at(self, i: usize) -> f64 {
        let b = &self.0[4 * i..4 * i + 4];
        f32::from_le_bytes(b.try_into().expect("four bytes")) as f64
    }
}

/// Little-endian `f64`s in bytes.
#[derive(Clone, Copy)]
pub struct F64Le<'a>(&'a [u8]);

impl At for F64Le<'_> {
    #[inline]
    fn at(self, i: usize) -> f64 {
        let b = &self.0[8 * i..8 * i + 8];
        f64::from_le_bytes(b.try_into().expect("eight bytes"))
    }
}

/// A tensor's values, typed by storage; see [`with_values!`].
#[derive(Clone, Copy)]
pub enum Values<'a> {
    F64(&'a [f64]),
    F32Le(F32Le<'a>),
    F64Le(F64Le<'a>),
}

/// `with_values!(tensor, |v| body)` evaluates `body` with `v` bound to the tensor's values as
/// an [`At`]: one copy of `body` per storage type, the type tested once, not per element.
macro_rules! with_values {
    ($t:expr, |$v:ident| $body:expr) => {
        match $t.values() {
            $crate::front::onnx::tensor::Values::F64($v) => $body,
            $crate::front::onnx::tensor::Values::F32Le($v) => $body,
            $crate::front::onnx::tensor::Values::F64Le($v) => $body,
        }
    };
}
pub(crate) use with_values;

impl PartialEq for Tensor {
    /// Equal shapes, kinds and values, however each is stored.
    fn eq(&self, other: &Self) -> bool {
        self.shape == other.shape && self.int == other.int && self.len() == other.len() && self.iter().eq(other.iter())
    }
}

impl Tensor {
    pub fn new(shape: Vec<usize>, data: Vec<f64>, int: bool) -> Self {
        debug_assert_eq!(shape.iter().product::<usize>(), data.len());
        Tensor {
            shape,
            data: Store::F64(data.into()),
            int,
        }
    }

    /// Number of elements.
    pub fn len(&self) -> usize {
        match &self.data {
            Store::F64(v) => v.len(),
            Store::F32Le(b) => b.len() / 4,
            Store::F64Le(b) => b.len() / 8,
        }
    }

    /// The values, typed by storage, for loops over many of them ([`with_values!`]).
    pub fn values(&self) -> Values<'_> {
        match &self.data {
            Store::F64(v) => Values::F64(v),
            Store::F32Le(b) => Values::F32Le(F32Le(b)),
            Store::F64Le(b) => Values::F64Le(F64Le(b)),
        }
    }

    /// Element `i` (row-major).
    pub fn get(&self, i: usize) -> f64 {
        with_values!(self, |v| v.at(i))
    }

    /// The values in order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = f64> + '_ {
        (0..self.len()).map(|i| self.get(i))
    }

    /// The values as a new `f64` vector.
    pub fn to_vec(&self) -> Vec<f64> {
        with_values!(self, |v| (0..self.len()).map(|i| v.at(i)).collect())
    }

    /// Whether another tensor shares these values (made by relabelling this one, or the other
    /// way round).
    pub fn is_shared(&self) -> bool {
        match &self.data {
            Store::F64(v) => Arc::strong_count(v) > 1,
            Store::F32Le(b) | Store::F64Le(b) => Arc::strong_count(b) > 1,
        }
    }

    /// The first non-finite value and its index. Checked once, when a constant is made
    /// (decoded or folded), so that every later reader may assume finite values.
    pub fn non_finite(&self) -> Option<(usize, f64)> {
        // Blocks tested without branching per value (as the IR's validation does), so that
        // decoding an initializer's check runs at memory speed.
        const BLOCK: usize = 256;
        let bad_block = with_values!(self, |v| (0..self.len().div_ceil(BLOCK)).find(|&b| {
            let block = b * BLOCK..((b + 1) * BLOCK).min(self.len());
            !block.fold(true, |ok, i| ok & v.at(i).is_finite())
        }))?;
        (bad_block * BLOCK..self.len())
            .map(|i| (i, self.get(i)))
            .find(|(_, x)| !x.is_finite())
    }

    /// A 1-D integer tensor (what `Shape` produces).
    pub fn ints(values: &[i64]) -> Self {
        Tensor::new(vec![values.len()], values.iter().map(|&v| v as f64).collect(), true)
    }

    /// The values as integers (shapes, axes, indices); `None` if one is not a whole number.
    pub fn to_i64s(&self) -> Option<Vec<i64>> {
        self.iter().map(|v| (v.fract() == 0.0).then_some(v as i64)).collect()
    }

    /// The same values (shared, not copied) under another shape of equal size.
    pub fn reshaped(&self, shape: Vec<usize>) -> Self {
        debug_assert_eq!(shape.iter().product::<usize>(), self.len());
        Tensor {
            shape,
            data: self.data.clone(),
            int: self.int,
        }
    }

    /// `out[i] = self.get(src[i])`: transposes, gathers, slices and broadcasts of constants.
    pub fn gather(&self, shape: Vec<usize>, src: &[usize]) -> Self {
        let data = with_values!(self, |v| src.iter().map(|&i| v.at(i)).collect());
        Tensor::new(shape, data, self.int)
    }

    /// Decodes a `Constant` value or tensor attribute (see [`Tensor::take_from_proto`]); its
    /// raw bytes are copied.
    pub fn from_proto(t: &TensorProto) -> Result<Self, String> {
        Self::decode(t, Cow::Borrowed(&t.raw_data))
    }

    /// Decodes an initializer and frees its encoded values: raw `f32`/`f64` bytes are moved into
    /// the tensor, the typed fields are dropped once converted, so the model never holds a weight
    /// twice.
    pub fn take_from_proto(t: &mut TensorProto) -> Result<Self, String> {
        let raw = std::mem::take(&mut t.raw_data);
        let tensor = Self::decode(t, Cow::Owned(raw));
        t.float_data = Vec::new();
        t.double_data = Vec::new();
        t.int32_data = Vec::new();
        t.int64_data = Vec::new();
        tensor
    }

    /// Decodes a tensor (f32, f64, i32 or i64; raw little-endian bytes `raw` or the typed
    /// fields).
    fn decode(t: &TensorProto, raw: Cow<'_, [u8]>) -> Result<Self, String> {
        let shape = t
            .dims
            .iter()
            .map(|&d| usize::try_from(d).map_err(|_| format!("negative dimension {d}")))
            .collect::<Result<Vec<_>, _>>()?;
        let len = element_count(&shape).ok_or_else(|| too_large("tensor", &shape))?;
        if t.data_location.enum_value() == Ok(DataLocation::EXTERNAL) {
            return Err("data stored in an external file is not supported".into());
        }
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
        // in place, where a `Vec` would be copied into one (a second copy of every value).
        fn decode<const N: usize>(raw: &[u8], f: impl Fn([u8; N]) -> f64) -> Store {
            Store::F64(
                raw.chunks_exact(N)
                    .map(|c| f(c.try_into().expect("chunks_exact yields N bytes")))
                    .collect(),
            )
        }
        let f64s = |v: Arc<[f64]>| Store::F64(v);
        let (data, int) = match t.data_type {
            x if x == DataType::FLOAT as i32 => (
                match raw.is_empty() {
                    true => f64s(t.float_data.iter().map(|&v| v as f64).collect()),
                    false => Store::F32Le(Arc::new(raw.into_owned())),
                },
                false,
            ),
            x if x == DataType::DOUBLE as i32 => (
                match raw.is_empty() {
                    true => f64s(t.double_data.as_slice().into()),
                    false => Store::F64Le(Arc::new(raw.into_owned())),
                },
                false,
            ),
            x if x == DataType::INT64 as i32 => (
                match raw.is_empty() {
                    true => f64s(t.int64_data.iter().map(|&v| v as f64).collect()),
                    false => decode(&raw, |b| i64::from_le_bytes(b) as f64),
                },
                true,
            ),
            x if x == DataType::INT32 as i32 => (
                match raw.is_empty() {
                    true => f64s(t.int32_data.iter().map(|&v| v as f64).collect()),
                    false => decode(&raw, |b| i32::from_le_bytes(b) as f64),
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

    /// Raw `f32` and `f64` initializers stay in their bytes: what they read back, relabel,
    /// gather and report as non-finite must be what the `f64` storage gives.
    #[test]
    fn raw_storage_reads_as_f64_storage() {
        let values: Vec<f64> = (0..600).map(|i| (i as f64 - 300.5) * 0.375).collect();
        for (ty, width) in [(DataType::FLOAT, 4), (DataType::DOUBLE, 8)] {
            let mut t = TensorProto::new();
            t.dims = vec![2, 300];
            t.data_type = ty as i32;
            t.raw_data = match width {
                4 => values.iter().flat_map(|&v| (v as f32).to_le_bytes()).collect(),
                _ => values.iter().flat_map(|&v| v.to_le_bytes()).collect(),
            };
            let owned = Tensor::take_from_proto(&mut t.clone()).unwrap();
            assert!(matches!(owned.data, Store::F32Le(_) | Store::F64Le(_)));
            let plain = Tensor::new(vec![2, 300], values.clone(), false);
            assert_eq!(owned, plain);
            assert_eq!(owned.to_vec(), values);
            assert_eq!(owned.gather(vec![2], &[599, 3]).to_vec(), [values[599], values[3]]);
            let relabelled = owned.reshaped(vec![600]);
            assert!(owned.is_shared() && relabelled.is_shared());
            assert_eq!(relabelled.get(451), values[451]);
            // A non-finite value past the first block of the finiteness scan is found and named.
            let at = 517 * width;
            t.raw_data[at..at + width].copy_from_slice(&match width {
                4 => f32::NAN.to_le_bytes().to_vec(),
                _ => f64::NEG_INFINITY.to_le_bytes().to_vec(),
            });
            let e = Tensor::take_from_proto(&mut t).unwrap_err();
            assert!(e.contains("at index 517"), "{e}");
            assert!(t.raw_data.is_empty(), "the bytes were moved out of the protobuf");
        }
    }
}
