//! The input region of a task: the user's box, optionally cut down to a ball around an image.

use super::TaskError;
use crate::bounds::{InputBox, L1Ball, Region};
use crate::lower::Norm;
use serde::Serialize;

/// The box `[lo, hi]` every input ranges over, checked once: finite ends with `lo <= hi`. The
/// fields are private, so holding one is proof of the check (the command line's parser builds
/// it through [`InputRange::new`] too).
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
#[serde(into = "[f64; 2]")]
pub struct InputRange {
    lo: f64,
    hi: f64,
}

impl InputRange {
    /// `[0, 1]`: pixels scaled to the unit interval, the command line's default.
    pub const UNIT: InputRange = InputRange { lo: 0.0, hi: 1.0 };

    pub fn new(lo: f64, hi: f64) -> Result<Self, TaskError> {
        if lo.is_finite() && hi.is_finite() && lo <= hi {
            Ok(InputRange { lo, hi })
        } else {
            Err(TaskError::BadBox { lo, hi })
        }
    }

    pub fn lo(self) -> f64 {
        self.lo
    }

    pub fn hi(self) -> f64 {
        self.hi
    }

    /// The box for `n` inputs.
    pub fn input_box(self, n: usize) -> InputBox {
        InputBox::uniform(n, self.lo, self.hi)
    }
}

impl Default for InputRange {
    fn default() -> Self {
        InputRange::UNIT
    }
}

impl From<InputRange> for [f64; 2] {
    fn from(r: InputRange) -> Self {
        [r.lo, r.hi]
    }
}

impl std::fmt::Display for InputRange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "[{}, {}]", self.lo, self.hi)
    }
}

/// The box `[lo, hi]^n`, intersected with `[img_j - r, img_j + r]` per input when a radius is
/// given. Any point within L1 or Linf distance `r` of the image lies in that smaller box, so the
/// bounds pass over it is sound for both norms, and tighter than over the whole box.
pub(crate) fn region_around(n: usize, range: InputRange, near: Option<(&[f64], f64)>) -> Result<InputBox, TaskError> {
    let mut region = range.input_box(n);
    if let Some((img, r)) = near {
        if !(r.is_finite() && r >= 0.0) {
            return Err(TaskError::BadDistance { value: r });
        }
        for (j, &v) in img.iter().enumerate() {
            region.lo[j] = region.lo[j].max(v - r);
            region.hi[j] = region.hi[j].min(v + r);
            if region.lo[j] > region.hi[j] {
                return Err(TaskError::EmptyBall {
                    input: j,
                    value: v,
                    radius: r,
                    lo: range.lo,
                    hi: range.hi,
                });
            }
        }
    }
    Ok(region)
}

/// The region the bounds passes run over: the (clipped) box, and for an L1 distance limit the
/// ball itself (a Linf limit is the clipped box exactly).
pub(crate) fn ball_region(input_box: &InputBox, image: &[f64], norm: Norm, max_dist: Option<f64>) -> Region {
    Region {
        input_box: input_box.clone(),
        l1: match (norm, max_dist) {
            (Norm::L1, Some(radius)) => Some(L1Ball {
                center: image.to_vec(),
                radius,
            }),
            _ => None,
        },
    }
}
