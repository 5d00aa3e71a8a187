//! Input images (PNG, npy, MNIST IDX) and pictures (comparison strip, grid).

use flate2::read::GzDecoder;
use nnmilp::data::{image_dims, load_image, write_comparison_png, write_grid_png, DataError};
use npyz::WriterBuilder;
use std::io::Read;
use std::path::{Path, PathBuf};

/// The shared MNIST files: next to the repository (`../shared`, as CI lays it out) or at the
/// workplace's fixed path.
fn mnist_dir() -> PathBuf {
    let dir = crate::common::shared().join("data/mnist");
    assert!(
        dir.join("t10k-images-idx3-ubyte.gz").is_file(),
        "shared MNIST files not found in {}",
        dir.display()
    );
    dir
}

fn gunzip(path: &Path) -> Vec<u8> {
    let mut out = Vec::new();
    GzDecoder::new(std::fs::File::open(path).unwrap())
        .read_to_end(&mut out)
        .unwrap();
    out
}

/// Image `n` decoded by hand from the IDX layout: a 16-byte header, then 28*28 bytes per image.
fn independent_image(images: &[u8], n: usize) -> Vec<f64> {
    images[16 + n * 784..16 + (n + 1) * 784]
        .iter()
        .map(|&b| f64::from(b) / 255.0)
        .collect()
}

fn message(e: &DataError) -> String {
    e.to_string()
}

#[test]
fn mnist_first_test_image_is_a_seven() {
    let dir = mnist_dir();
    let file = dir.join("t10k-images-idx3-ubyte.gz");
    let spec = format!("{}:0", file.display());
    let image = load_image(&spec).unwrap();
    // The first MNIST test digit is the well-known 7.
    assert_eq!(image.label, Some(7));
    assert_eq!((image.width, image.height), (Some(28), Some(28)));
    let expected = independent_image(&gunzip(&file), 0);
    assert_eq!(image.pixels, expected);
    let sum: f64 = image.pixels.iter().sum();
    let expected_sum: f64 = expected.iter().sum();
    assert!(sum > 10.0 && (sum - expected_sum).abs() < 1e-9, "sum {sum}");
    assert_eq!(image.source, spec);
}

#[test]
fn mnist_last_test_image_and_its_label() {
    let dir = mnist_dir();
    let file = dir.join("t10k-images-idx3-ubyte.gz");
    let image = load_image(&format!("{}:9999", file.display())).unwrap();
    assert_eq!(image.pixels, independent_image(&gunzip(&file), 9999));
    // Labels: an 8-byte header, then one byte per image.
    let labels = gunzip(&dir.join("t10k-labels-idx1-ubyte.gz"));
    assert_eq!(image.label, Some(labels[8 + 9999]));
}

#[test]
fn uncompressed_idx_files_give_the_same_image_and_label() {
    let dir = mnist_dir();
    let tmp = tempfile::tempdir().unwrap();
    let images = gunzip(&dir.join("t10k-images-idx3-ubyte.gz"));
    let labels = gunzip(&dir.join("t10k-labels-idx1-ubyte.gz"));
    std::fs::write(tmp.path().join("t10k-images-idx3-ubyte"), &images).unwrap();
    std::fs::write(tmp.path().join("t10k-labels-idx1-ubyte"), &labels).unwrap();
    let plain = load_image(&format!("{}:123", tmp.path().join("t10k-images-idx3-ubyte").display())).unwrap();
    assert_eq!(plain.pixels, independent_image(&images, 123));
    assert_eq!(plain.label, Some(labels[8 + 123]));

    // Without a labels file next to it, there is no label.
    std::fs::remove_file(tmp.path().join("t10k-labels-idx1-ubyte")).unwrap();
    let unlabelled = load_image(&format!("{}:123", tmp.path().join("t10k-images-idx3-ubyte").display())).unwrap();
    assert_eq!(unlabelled.label, None);
    assert_eq!(unlabelled.pixels, plain.pixels);
}

#[test]
fn gzip_is_recognised_by_content_not_name() {
    let dir = mnist_dir();
    let tmp = tempfile::tempdir().unwrap();
    let renamed = tmp.path().join("digits.bin");
    std::fs::copy(dir.join("t10k-images-idx3-ubyte.gz"), &renamed).unwrap();
    let image = load_image(&format!("{}:5", renamed.display())).unwrap();
    assert_eq!(
        image.pixels,
        independent_image(&gunzip(&dir.join("t10k-images-idx3-ubyte.gz")), 5)
    );
    assert_eq!(image.label, None);
}

#[test]
fn idx_index_out_of_range_names_index_and_count() {
    let file = mnist_dir().join("t10k-images-idx3-ubyte.gz");
    let err = load_image(&format!("{}:10000", file.display())).unwrap_err();
    assert!(
        matches!(
            err,
            DataError::IdxIndex {
                index: 10000,
                count: 10000,
                ..
            }
        ),
        "{err:?}"
    );

    // A small file with distinct numbers: 3 images of 2x2.
    let tmp = tempfile::tempdir().unwrap();
    let small = tmp.path().join("small-images-idx3-ubyte");
    let mut bytes = vec![0, 0, 8, 3, 0, 0, 0, 3, 0, 0, 0, 2, 0, 0, 0, 2];
    bytes.extend(0u8..12);
    std::fs::write(&small, &bytes).unwrap();
    let err = load_image(&format!("{}:5", small.display())).unwrap_err();
    let text = message(&err);
    assert!(
        text.contains("small-images-idx3-ubyte") && text.contains(" 5 ") && text.contains("3 images"),
        "{text}"
    );
    // ... and its last image reads back, with the declared 2x2 shape.
    let last = load_image(&format!("{}:2", small.display())).unwrap();
    assert_eq!(last.pixels, [8.0, 9.0, 10.0, 11.0].map(|b| b / 255.0).to_vec());
    assert_eq!((last.width, last.height), (Some(2), Some(2)));
}

#[test]
fn non_square_idx_images_keep_width_and_height_apart() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("wide-images-idx3-ubyte");
    // One image of 2 rows x 3 columns.
    let mut bytes = vec![0, 0, 8, 3, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3];
    bytes.extend([0, 51, 102, 153, 204, 255]);
    std::fs::write(&file, &bytes).unwrap();
    let image = load_image(&format!("{}:0", file.display())).unwrap();
    assert_eq!((image.width, image.height), (Some(3), Some(2)));
    assert_eq!(image.pixels, vec![0.0, 0.2, 0.4, 0.6, 0.8, 1.0]);
}

#[test]
fn truncated_gzip_idx_is_an_error_naming_the_file() {
    let dir = mnist_dir();
    let tmp = tempfile::tempdir().unwrap();
    let whole = std::fs::read(dir.join("t10k-images-idx3-ubyte.gz")).unwrap();
    let cut = tmp.path().join("cut-images-idx3-ubyte.gz");
    std::fs::write(&cut, &whole[..whole.len() / 3]).unwrap();
    // Image 0 is inside the prefix, but the file as a whole is broken.
    let err = load_image(&format!("{}:0", cut.display())).unwrap_err();
    assert!(
        matches!(
            err,
            DataError::IdxTruncated {
                expected: 7_840_000,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(message(&err).contains("cut-images-idx3-ubyte.gz"), "{err}");
}

#[test]
fn truncated_plain_idx_is_an_error_naming_the_file() {
    let images = gunzip(&mnist_dir().join("t10k-images-idx3-ubyte.gz"));
    let tmp = tempfile::tempdir().unwrap();
    let cut = tmp.path().join("cut-images-idx3-ubyte");
    std::fs::write(&cut, &images[..16 + 5 * 784 + 100]).unwrap();
    let err = load_image(&format!("{}:2", cut.display())).unwrap_err();
    assert!(
        matches!(err, DataError::IdxTruncated { expected: 7_840_000, got, .. } if got == 5 * 784 + 100),
        "{err:?}"
    );
    assert!(message(&err).contains("cut-images-idx3-ubyte"), "{err}");

    // Cut inside the header.
    std::fs::write(&cut, &images[..10]).unwrap();
    let err = load_image(&format!("{}:0", cut.display())).unwrap_err();
    assert!(
        matches!(err, DataError::IdxHeader { .. }) && message(&err).contains("cut-images-idx3-ubyte"),
        "{err:?}"
    );

    // An empty file.
    std::fs::write(&cut, []).unwrap();
    assert!(load_image(&format!("{}:0", cut.display())).is_err());
}

#[test]
fn idx_with_wrong_magic_or_wrong_labels_is_rejected() {
    let dir = mnist_dir();
    // A labels file is not an images file.
    let err = load_image(&format!("{}:0", dir.join("t10k-labels-idx1-ubyte.gz").display())).unwrap_err();
    assert!(matches!(err, DataError::IdxMagic { magic: 0x0000_0801, .. }), "{err:?}");
    assert!(message(&err).contains("t10k-labels-idx1-ubyte.gz"), "{err}");

    // Images paired with a labels file of another size.
    let tmp = tempfile::tempdir().unwrap();
    let mut images = vec![0, 0, 8, 3, 0, 0, 0, 2, 0, 0, 0, 1, 0, 0, 0, 1];
    images.extend([10, 20]);
    std::fs::write(tmp.path().join("x-images-idx3-ubyte"), &images).unwrap();
    std::fs::write(
        tmp.path().join("x-labels-idx1-ubyte"),
        [0, 0, 8, 1, 0, 0, 0, 3, 1, 2, 3],
    )
    .unwrap();
    let err = load_image(&format!("{}:0", tmp.path().join("x-images-idx3-ubyte").display())).unwrap_err();
    assert!(
        matches!(
            err,
            DataError::IdxLabelCount {
                labels: 3,
                images: 2,
                ..
            }
        ),
        "{err:?}"
    );
}

fn write_png(path: &Path, width: u32, height: u32, color: png::ColorType, depth: png::BitDepth, data: &[u8]) {
    write_png_with(path, width, height, color, depth, data, |_| {});
}

fn write_png_with(
    path: &Path,
    width: u32,
    height: u32,
    color: png::ColorType,
    depth: png::BitDepth,
    data: &[u8],
    extra: impl FnOnce(&mut png::Encoder<std::io::BufWriter<std::fs::File>>),
) {
    let file = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    let mut encoder = png::Encoder::new(file, width, height);
    encoder.set_color(color);
    encoder.set_depth(depth);
    extra(&mut encoder);
    let mut writer = encoder.write_header().unwrap();
    writer.write_image_data(data).unwrap();
    writer.finish().unwrap();
}

#[test]
fn grayscale_png_round_trip() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("digit_label3.png");
    let bytes: Vec<u8> = (0..15u8).map(|i| i * 17).collect();
    write_png(&path, 5, 3, png::ColorType::Grayscale, png::BitDepth::Eight, &bytes);
    let image = load_image(path.to_str().unwrap()).unwrap();
    assert_eq!((image.width, image.height), (Some(5), Some(3)));
    assert_eq!(
        image.pixels,
        bytes.iter().map(|&b| f64::from(b) / 255.0).collect::<Vec<_>>()
    );
    assert_eq!(image.label, Some(3));

    let unlabelled = tmp.path().join("digit.png");
    write_png(
        &unlabelled,
        5,
        3,
        png::ColorType::Grayscale,
        png::BitDepth::Eight,
        &bytes,
    );
    assert_eq!(load_image(unlabelled.to_str().unwrap()).unwrap().label, None);
}

#[test]
fn rgb_and_rgba_pngs_become_luma() {
    let tmp = tempfile::tempdir().unwrap();
    // Red, green, blue, white, black: ITU-R BT.601 luma weights 0.299, 0.587, 0.114.
    let rgb = [255, 0, 0, 0, 255, 0, 0, 0, 255, 255, 255, 255, 0, 0, 0];
    let expected = [0.299, 0.587, 0.114, 1.0, 0.0];
    let path = tmp.path().join("rgb.png");
    write_png(&path, 5, 1, png::ColorType::Rgb, png::BitDepth::Eight, &rgb);
    let image = load_image(path.to_str().unwrap()).unwrap();
    assert_close(&image.pixels, &expected);

    // Alpha is ignored.
    let rgba: Vec<u8> = rgb.chunks(3).flat_map(|p| [p[0], p[1], p[2], 7]).collect();
    let path = tmp.path().join("rgba.png");
    write_png(&path, 5, 1, png::ColorType::Rgba, png::BitDepth::Eight, &rgba);
    assert_close(&load_image(path.to_str().unwrap()).unwrap().pixels, &expected);

    // A palette of the same five colours.
    let path = tmp.path().join("palette.png");
    write_png_with(
        &path,
        5,
        1,
        png::ColorType::Indexed,
        png::BitDepth::Eight,
        &[4, 3, 2, 1, 0],
        |e| {
            e.set_palette(vec![0, 0, 0, 255, 255, 255, 0, 0, 255, 0, 255, 0, 255, 0, 0]);
        },
    );
    assert_close(&load_image(path.to_str().unwrap()).unwrap().pixels, &expected);
}

#[test]
fn sixteen_bit_and_one_bit_grays_scale_to_unit_range() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("deep.png");
    let samples: [u16; 3] = [0, 32768, 65535];
    let bytes: Vec<u8> = samples.iter().flat_map(|s| s.to_be_bytes()).collect();
    write_png(&path, 3, 1, png::ColorType::Grayscale, png::BitDepth::Sixteen, &bytes);
    assert_close(
        &load_image(path.to_str().unwrap()).unwrap().pixels,
        &[0.0, 32768.0 / 65535.0, 1.0],
    );

    // 1-bit: 0b1010_0000 -> white, black, white, black (the rest of the byte is padding).
    let path = tmp.path().join("bits.png");
    write_png(
        &path,
        4,
        1,
        png::ColorType::Grayscale,
        png::BitDepth::One,
        &[0b1010_0000],
    );
    assert_eq!(
        load_image(path.to_str().unwrap()).unwrap().pixels,
        vec![1.0, 0.0, 1.0, 0.0]
    );
}

fn assert_close(got: &[f64], expected: &[f64]) {
    assert_eq!(got.len(), expected.len(), "{got:?} vs {expected:?}");
    for (g, e) in got.iter().zip(expected) {
        // 8-bit sources carry about 1/255 of precision.
        assert!((g - e).abs() < 1e-3, "{got:?} vs {expected:?}");
    }
}

fn write_npy<T: npyz::AutoSerialize + Copy>(path: &Path, shape: &[u64], order: npyz::Order, values: &[T]) {
    let file = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    let mut writer = npyz::WriteOptions::new()
        .default_dtype()
        .shape(shape)
        .order(order)
        .writer(file)
        .begin_nd()
        .unwrap();
    writer.extend(values.iter().copied()).unwrap();
    writer.finish().unwrap();
}

#[test]
fn npy_f32_and_f64_round_trip() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("x32.npy");
    let values: Vec<f32> = vec![0.1, -2.5, 3.0, 1e-7, 42.0, -0.0];
    write_npy(&path, &[2, 3], npyz::Order::C, &values);
    let image = load_image(path.to_str().unwrap()).unwrap();
    assert_eq!(image.pixels, values.iter().map(|&v| f64::from(v)).collect::<Vec<_>>());
    assert_eq!((image.width, image.height, image.label), (Some(3), Some(2), None));

    let path = tmp.path().join("x64.npy");
    let values: Vec<f64> = (0..20).map(|i| f64::from(i) * 0.1 - 0.7).collect();
    write_npy(&path, &[1, 1, 4, 5], npyz::Order::C, &values);
    let image = load_image(path.to_str().unwrap()).unwrap();
    assert_eq!(image.pixels, values);
    assert_eq!((image.width, image.height), (Some(5), Some(4)));

    // A flat vector has no picture shape.
    let path = tmp.path().join("flat.npy");
    write_npy(&path, &[20], npyz::Order::C, &values);
    let image = load_image(path.to_str().unwrap()).unwrap();
    assert_eq!((image.pixels.len(), image.width, image.height), (20, None, None));
}

#[test]
fn npy_values_are_not_rescaled_and_fortran_order_is_undone() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("bytes.npy");
    write_npy(&path, &[3], npyz::Order::C, &[0u8, 128, 255]);
    assert_eq!(
        load_image(path.to_str().unwrap()).unwrap().pixels,
        vec![0.0, 128.0, 255.0]
    );

    // [[1, 2, 3], [4, 5, 6]] stored column by column.
    let path = tmp.path().join("fortran.npy");
    write_npy(&path, &[2, 3], npyz::Order::Fortran, &[1i32, 4, 2, 5, 3, 6]);
    assert_eq!(
        load_image(path.to_str().unwrap()).unwrap().pixels,
        vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0]
    );
}

#[test]
fn npy_with_unsupported_dtype_or_nan_or_short_data_is_rejected() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("flags.npy");
    write_npy(&path, &[2], npyz::Order::C, &[true, false]);
    let err = load_image(path.to_str().unwrap()).unwrap_err();
    assert!(matches!(err, DataError::NpyDtype { .. }), "{err:?}");
    let text = message(&err);
    assert!(text.contains("flags.npy") && text.contains("b1"), "{text}");

    let path = tmp.path().join("nan.npy");
    write_npy(&path, &[3], npyz::Order::C, &[1.0f64, f64::NAN, 2.0]);
    let err = load_image(path.to_str().unwrap()).unwrap_err();
    assert!(matches!(err, DataError::NotFinite { index: 1, .. }), "{err:?}");

    // A header promising more data than the file holds.
    let path = tmp.path().join("short.npy");
    write_npy(&path, &[100], npyz::Order::C, &[0.5f64; 100]);
    let bytes = std::fs::read(&path).unwrap();
    std::fs::write(&path, &bytes[..bytes.len() - 8]).unwrap();
    let err = load_image(path.to_str().unwrap()).unwrap_err();
    assert!(
        matches!(err, DataError::Npy { .. }) && message(&err).contains("short.npy"),
        "{err:?}"
    );

    // Not an npy file at all.
    let path = tmp.path().join("junk.npy");
    std::fs::write(&path, b"hello").unwrap();
    assert!(matches!(load_image(path.to_str().unwrap()), Err(DataError::Npy { .. })));
}

#[test]
fn missing_files_are_errors_naming_them() {
    let tmp = tempfile::tempdir().unwrap();
    for name in ["nowhere.png", "nowhere.npy", "nowhere-images-idx3-ubyte.gz:4"] {
        let spec = format!("{}/{name}", tmp.path().display());
        let err = load_image(&spec).unwrap_err();
        assert!(matches!(err, DataError::Read { .. }), "{err:?}");
        let file = name.split(':').next().unwrap();
        assert!(message(&err).contains(file), "{err}");
    }
    let err = load_image("picture.jpeg").unwrap_err();
    assert!(
        matches!(err, DataError::UnknownSpec { .. }) && message(&err).contains("picture.jpeg"),
        "{err:?}"
    );
}

fn decode_rgb(path: &Path) -> (usize, usize, Vec<u8>) {
    let decoder = png::Decoder::new(std::fs::File::open(path).unwrap());
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buf).unwrap();
    assert_eq!(
        (info.color_type, info.bit_depth),
        (png::ColorType::Rgb, png::BitDepth::Eight)
    );
    (info.width as usize, info.height as usize, buf)
}

/// Lengths of runs of equal pixels along row `y`.
fn runs(width: usize, rgb: &[u8], y: usize) -> Vec<([u8; 3], usize)> {
    let mut out: Vec<([u8; 3], usize)> = Vec::new();
    for x in 0..width {
        let at = 3 * (y * width + x);
        let px = [rgb[at], rgb[at + 1], rgb[at + 2]];
        match out.last_mut() {
            Some((c, n)) if *c == px => *n += 1,
            _ => out.push((px, 1)),
        }
    }
    out
}

#[test]
fn comparison_picture_has_three_panels_of_the_documented_size() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("cmp.png");
    // Black original, white "adversarial": the difference is the largest increase everywhere.
    write_comparison_png(&path, &[0.0; 784], &[1.0; 784], 28, 28).unwrap();
    let (w, h, rgb) = decode_rgb(&path);
    // Documented layout: panels of 28*8 = 224 px, 4-px bars around and between.
    assert_eq!((w, h), (3 * 224 + 16, 224 + 8));
    let middle = runs(w, &rgb, h / 2);
    let gray = [128, 128, 128];
    assert_eq!(
        middle,
        vec![
            (gray, 4),
            ([0, 0, 0], 224),
            (gray, 4),
            ([255, 255, 255], 224),
            (gray, 4),
            ([255, 0, 0], 224),
            (gray, 4)
        ]
    );
    // No temporary file is left beside the picture.
    let names: Vec<_> = std::fs::read_dir(tmp.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, vec![std::ffi::OsString::from("cmp.png")]);
}

#[test]
fn comparison_picture_colours_follow_the_sign_of_the_change() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("cmp.png");
    // A 10x4 input (scale 224/10 = 22): pixel 0 up by 0.5, pixel 1 down by 0.25, the rest same.
    let original = vec![0.5; 40];
    let mut changed = original.clone();
    changed[0] = 1.0;
    changed[1] = 0.25;
    write_comparison_png(&path, &original, &changed, 10, 4).unwrap();
    let (w, h, rgb) = decode_rgb(&path);
    assert_eq!((w, h), (3 * 220 + 16, 88 + 8));
    let pixel = |x: usize, y: usize| rgb[3 * (y * w + x)..3 * (y * w + x) + 3].to_vec();
    let diff_left = 4 + 2 * (220 + 4);
    assert_eq!(pixel(diff_left + 11, 15), vec![255, 0, 0]); // the largest increase: pure red
    assert_eq!(pixel(diff_left + 22 + 11, 15), vec![128, 128, 255]); // half as large a decrease
    assert_eq!(pixel(diff_left + 5 * 22, 50), vec![255, 255, 255]); // unchanged: white
    assert_eq!(pixel(4 + 11, 15), vec![128, 128, 128]); // original 0.5: mid gray
    assert_eq!(pixel(4 + 224 + 11, 15), vec![255, 255, 255]); // adversarial 1.0: white

    // Overwriting an existing picture works, and wrong sizes are refused naming the file.
    write_comparison_png(&path, &original, &original, 10, 4).unwrap();
    let err = write_comparison_png(&path, &original, &changed[..39], 10, 4).unwrap_err();
    assert!(
        matches!(err, DataError::Picture { .. }) && message(&err).contains("cmp.png"),
        "{err:?}"
    );
}

#[test]
fn grid_picture_has_the_documented_size() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("grid.png");
    let panels: Vec<Vec<f64>> = (0..5).map(|i| vec![f64::from(i) / 4.0; 784]).collect();
    write_grid_png(&path, &panels, 28, 28, 3).unwrap();
    let (w, h, rgb) = decode_rgb(&path);
    // Panels of 28*4 = 112 px, 3 columns, 2 rows, 4-px bars.
    assert_eq!((w, h), (4 + 3 * 116, 4 + 2 * 116));
    for (i, expected) in [0u8, 64, 128, 191, 255].into_iter().enumerate() {
        let (x, y) = (4 + (i % 3) * 116 + 56, 4 + (i / 3) * 116 + 56);
        assert_eq!(rgb[3 * (y * w + x)..3 * (y * w + x) + 3], [expected; 3], "panel {i}");
    }

    // Fewer panels than columns: only as wide as the panels.
    write_grid_png(&path, &panels[..2], 28, 28, 10).unwrap();
    assert_eq!(decode_rgb(&path).0, 4 + 2 * 116);
    assert!(write_grid_png(&path, &[], 28, 28, 3).is_err());
    assert!(write_grid_png(&path, &panels, 28, 28, 0).is_err());
}

#[test]
fn image_dims_guesses() {
    assert_eq!(image_dims(&[1, 28, 28]), Some((28, 28)));
    assert_eq!(image_dims(&[1, 1, 28, 28]), Some((28, 28)));
    assert_eq!(image_dims(&[784]), Some((28, 28)));
    assert_eq!(image_dims(&[1, 784]), Some((28, 28)));
    assert_eq!(image_dims(&[5]), None);
    assert_eq!(image_dims(&[1, 5]), None);
    assert_eq!(image_dims(&[785]), None);
    assert_eq!(image_dims(&[4, 7]), Some((7, 4)));
    assert_eq!(image_dims(&[1, 3, 32, 32]), Some((32, 96)));
    assert_eq!(image_dims(&[32, 32, 3]), None);
    assert_eq!(image_dims(&[]), None);
    assert_eq!(image_dims(&[0, 28]), None);
}
