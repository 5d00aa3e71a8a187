//! Pictures of inputs: an original | adversarial | difference strip, and grids of panels.
//!
//! Both are 8-bit RGB PNGs made of panels, each pixel of the input drawn as an `f x f` block
//! (the integer factor `f` chosen so that panels are big enough to see), with separator bars of
//! [`SEPARATOR`] pixels between and around the panels.

use super::DataError;
use std::io::Write;
use std::path::Path;

/// Width of the bars between and around panels, in output pixels.
const SEPARATOR: usize = 4;
/// Mid gray: distinct from the white background of the difference panel and from the red and
/// blue of its changes.
const SEPARATOR_RGB: [u8; 3] = [128, 128, 128];
/// Target panel size of a comparison picture: a 28x28 MNIST digit is drawn 8x (224 px).
const COMPARISON_PANEL: usize = 224;
/// Target panel size in grids, which hold many panels side by side.
const GRID_PANEL: usize = 112;

/// Write `original | changed | changed - original` side by side to `path`.
///
/// `original` and `changed` are `width * height` row-major values, drawn as grayscale (clamped to
/// `[0, 1]`, NaN as black). The difference panel is white where nothing changed, shading to pure
/// red for the largest increase and pure blue for the largest decrease (intensity
/// `|diff| / max |diff|`), so even tiny perturbations are visible.
///
/// Layout: each panel is `width * f` by `height * f` pixels, with `f = max(1, 224 / max(width,
/// height))`; a 4-pixel gray bar runs around and between the panels, so the picture is
/// `3 * width * f + 16` by `height * f + 8` pixels. The file is written to a temporary file in
/// the same directory and renamed into place.
pub fn write_comparison_png(
    path: &Path,
    original: &[f64],
    changed: &[f64],
    width: usize,
    height: usize,
) -> Result<(), DataError> {
    check_panel(path, "original", original.len(), width, height)?;
    check_panel(path, "adversarial", changed.len(), width, height)?;
    let diff: Vec<f64> = changed.iter().zip(original).map(|(c, o)| c - o).collect();
    let largest = diff
        .iter()
        .filter(|d| d.is_finite())
        .fold(0.0f64, |m, d| m.max(d.abs()));
    let gray = |v: f64| [gray_byte(v); 3];
    let change = |d: f64| diff_rgb(d, largest);
    let panels: [Vec<[u8; 3]>; 3] = [
        original.iter().map(|&v| gray(v)).collect(),
        changed.iter().map(|&v| gray(v)).collect(),
        diff.iter().map(|&d| change(d)).collect(),
    ];
    let scale = scale_for(width, height, COMPARISON_PANEL);
    let canvas = Canvas::layout(path, width, height, scale, 3, 1)?;
    write_canvas(path, canvas, &panels)
}

/// Write `panels` (each `width * height` values, clamped to `[0, 1]`, NaN as black) as a grid of
/// grayscale panels, `cols` per row, row by row.
///
/// Layout: each panel is `width * f` by `height * f` pixels with `f = max(1, 112 / max(width,
/// height))`, 4-pixel gray bars around and between panels; a grid with fewer panels than `cols`
/// is only as wide as its panels, and unused cells of the last row are left gray.
pub fn write_grid_png(
    path: &Path,
    panels: &[Vec<f64>],
    width: usize,
    height: usize,
    cols: usize,
) -> Result<(), DataError> {
    let bad = |reason: String| DataError::Picture {
        path: path.to_path_buf(),
        reason,
    };
    if panels.is_empty() {
        return Err(bad("no panels to draw".to_string()));
    }
    if cols == 0 {
        return Err(bad("a grid needs at least one column".to_string()));
    }
    for (i, panel) in panels.iter().enumerate() {
        check_panel(path, &format!("panel {i}"), panel.len(), width, height)?;
    }
    let cols = cols.min(panels.len());
    let rows = panels.len().div_ceil(cols);
    let rgb: Vec<Vec<[u8; 3]>> = panels
        .iter()
        .map(|p| p.iter().map(|&v| [gray_byte(v); 3]).collect())
        .collect();
    let scale = scale_for(width, height, GRID_PANEL);
    let canvas = Canvas::layout(path, width, height, scale, cols, rows)?;
    write_canvas(path, canvas, &rgb)
}

fn check_panel(path: &Path, what: &str, len: usize, width: usize, height: usize) -> Result<(), DataError> {
    let bad = |reason: String| DataError::Picture {
        path: path.to_path_buf(),
        reason,
    };
    if width == 0 || height == 0 {
        return Err(bad(format!("empty panel size {width}x{height}")));
    }
    match width.checked_mul(height) {
        Some(n) if n == len => Ok(()),
        _ => Err(bad(format!(
            "{what} has {len} values, a {width}x{height} panel needs {}",
            width * height
        ))),
    }
}

/// The largest integer factor that keeps a panel within `target` pixels (at least 1).
fn scale_for(width: usize, height: usize, target: usize) -> usize {
    (target / width.max(height)).max(1)
}

fn gray_byte(v: f64) -> u8 {
    // NaN fails both comparisons of clamp's result and would cast to 0 anyway; be explicit.
    if v.is_nan() {
        return 0;
    }
    (v.clamp(0.0, 1.0) * 255.0).round() as u8
}

/// White for no change, towards red for increases and blue for decreases.
fn diff_rgb(d: f64, largest: f64) -> [u8; 3] {
    if !d.is_finite() || largest <= 0.0 || d == 0.0 {
        return [255, 255, 255];
    }
    let fade = ((1.0 - d.abs() / largest).clamp(0.0, 1.0) * 255.0).round() as u8;
    if d > 0.0 {
        [255, fade, fade]
    } else {
        [fade, fade, 255]
    }
}

/// Pixel geometry of a grid of equal panels.
struct Canvas {
    panel_w: usize,
    panel_h: usize,
    scale: usize,
    cols: usize,
    width: usize,
    height: usize,
}

impl Canvas {
    fn layout(path: &Path, w: usize, h: usize, scale: usize, cols: usize, rows: usize) -> Result<Self, DataError> {
        let extent = |cells: usize, side: usize| {
            side.checked_mul(scale)?
                .checked_add(SEPARATOR)?
                .checked_mul(cells)?
                .checked_add(SEPARATOR)
        };
        let size = extent(cols, w).zip(extent(rows, h)).filter(|&(x, y)| {
            u32::try_from(x).is_ok()
                && u32::try_from(y).is_ok()
                && x.checked_mul(y).and_then(|n| n.checked_mul(3)).is_some()
        });
        let (width, height) = size.ok_or_else(|| DataError::Picture {
            path: path.to_path_buf(),
            reason: format!("{cols}x{rows} panels of {w}x{h} at scale {scale} are too large for a PNG"),
        })?;
        Ok(Canvas {
            panel_w: w,
            panel_h: h,
            scale,
            cols,
            width,
            height,
        })
    }
}

fn write_canvas(path: &Path, canvas: Canvas, panels: &[Vec<[u8; 3]>]) -> Result<(), DataError> {
    let Canvas {
        panel_w,
        panel_h,
        scale,
        cols,
        width,
        height,
    } = canvas;
    let mut rgb = SEPARATOR_RGB.repeat(width * height);
    for (i, panel) in panels.iter().enumerate() {
        let left = SEPARATOR + (i % cols) * (panel_w * scale + SEPARATOR);
        let top = SEPARATOR + (i / cols) * (panel_h * scale + SEPARATOR);
        for y in 0..panel_h * scale {
            for x in 0..panel_w * scale {
                let colour = panel[(y / scale) * panel_w + x / scale];
                let at = 3 * ((top + y) * width + left + x);
                rgb[at..at + 3].copy_from_slice(&colour);
            }
        }
    }
    write_rgb_png(path, width as u32, height as u32, &rgb)
}

/// Encode to a temporary file next to `path`, then rename it into place, so readers never see
/// a half-written picture and a failed run leaves the old one intact.
fn write_rgb_png(path: &Path, width: u32, height: u32, rgb: &[u8]) -> Result<(), DataError> {
    let write_err = |source| DataError::Write {
        path: path.to_path_buf(),
        source,
    };
    let encode_err = |source| DataError::PngEncode {
        path: path.to_path_buf(),
        source,
    };
    let mut tmp = crate::back::atomic::TempOutput::create(path).map_err(write_err)?;
    {
        let mut encoder = png::Encoder::new(tmp.file_mut(), width, height);
        encoder.set_color(png::ColorType::Rgb);
        encoder.set_depth(png::BitDepth::Eight);
        let mut writer = encoder.write_header().map_err(encode_err)?;
        writer.write_image_data(rgb).map_err(encode_err)?;
        writer.finish().map_err(encode_err)?;
    }
    tmp.file_mut().flush().map_err(write_err)?;
    tmp.commit().map_err(write_err)
}

#[cfg(test)]
mod unit {
    use super::*;

    #[test]
    fn diff_colours() {
        assert_eq!(diff_rgb(0.0, 1.0), [255, 255, 255]);
        assert_eq!(diff_rgb(0.5, 0.5), [255, 0, 0]);
        assert_eq!(diff_rgb(-0.5, 0.5), [0, 0, 255]);
        assert_eq!(diff_rgb(0.25, 0.5), [255, 128, 128]);
        assert_eq!(diff_rgb(0.1, 0.0), [255, 255, 255]);
    }

    #[test]
    fn gray_bytes() {
        assert_eq!(gray_byte(-1.0), 0);
        assert_eq!(gray_byte(f64::NAN), 0);
        assert_eq!(gray_byte(2.0), 255);
        assert_eq!(gray_byte(0.5), 128);
    }

    #[test]
    fn scales() {
        assert_eq!(scale_for(28, 28, 224), 8);
        assert_eq!(scale_for(32, 32, 224), 7);
        assert_eq!(scale_for(500, 20, 224), 1);
    }
}
