//! Reading PNG inputs as grayscale values in `[0, 1]`.

use super::{label_from_png_name, read_capped, DataError, Image, MAX_IMAGE_FILE_BYTES, MAX_IMAGE_VALUES};
use ::png::{BitDepth, ColorType, Decoder, Limits, Transformations};
use std::path::Path;

pub(super) fn load(spec: &str, path: &Path) -> Result<Image, DataError> {
    let bytes = read_capped(path, MAX_IMAGE_FILE_BYTES).map_err(|source| DataError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let decode_err = |source| DataError::PngDecode {
        path: path.to_path_buf(),
        source,
    };
    // The decoder's own buffers are limited too; our pixel buffer is checked below.
    let limits = Limits {
        bytes: (MAX_IMAGE_VALUES * 8) as usize,
    };
    let mut decoder = Decoder::new_with_limits(&bytes[..], limits);
    // Palettes become RGB and 1/2/4-bit grays become 8-bit (scaled, so white stays white);
    // 16-bit samples are kept so that no precision is lost before our own scaling.
    decoder.set_transformations(Transformations::EXPAND);
    let mut reader = decoder.read_info().map_err(decode_err)?;
    // A header's width and height are checked before the frame is allocated: a 100-byte file
    // may declare 2^31 × 2^31 pixels.
    let (w, h) = (reader.info().width as u64, reader.info().height as u64);
    if w.checked_mul(h).is_none_or(|n| n > MAX_IMAGE_VALUES) {
        return Err(DataError::PngLayout {
            path: path.to_path_buf(),
            what: format!("{w}x{h}: more than {MAX_IMAGE_VALUES} pixels"),
        });
    }
    let mut buf = vec![0u8; reader.output_buffer_size()];
    let frame = reader.next_frame(&mut buf).map_err(decode_err)?;
    let (width, height) = (frame.width as usize, frame.height as usize);
    let data = &buf[..frame.buffer_size()];

    let channels = match frame.color_type {
        ColorType::Grayscale => 1,
        ColorType::GrayscaleAlpha => 2,
        ColorType::Rgb => 3,
        ColorType::Rgba => 4,
        other => {
            return Err(DataError::PngLayout {
                path: path.to_path_buf(),
                what: format!("{other:?} after expansion"),
            })
        }
    };
    let samples: Vec<f64> = match frame.bit_depth {
        BitDepth::Eight => data.iter().map(|&b| f64::from(b) / 255.0).collect(),
        BitDepth::Sixteen => data
            .chunks_exact(2)
            .map(|p| f64::from(u16::from_be_bytes([p[0], p[1]])) / 65535.0)
            .collect(),
        other => {
            return Err(DataError::PngLayout {
                path: path.to_path_buf(),
                what: format!("bit depth {other:?}"),
            })
        }
    };
    // A row may not be padded once expanded to 8 or 16 bits, so samples are exactly
    // width * height * channels; check rather than trust.
    let expected = width * height * channels;
    if samples.len() != expected {
        return Err(DataError::PngLayout {
            path: path.to_path_buf(),
            what: format!("{} samples for {width}x{height}x{channels}", samples.len()),
        });
    }
    let pixels = samples
        .chunks_exact(channels)
        .map(|p| match channels {
            1 | 2 => p[0],
            // Alpha (4th channel) is ignored: inputs are opaque digits, not overlays.
            // The weights sum to 1 only up to rounding; clamp so white stays exactly in range.
            _ => (0.299 * p[0] + 0.587 * p[1] + 0.114 * p[2]).clamp(0.0, 1.0),
        })
        .collect();
    Ok(Image {
        pixels,
        width: Some(width),
        height: Some(height),
        label: label_from_png_name(path),
        source: spec.to_string(),
    })
}
