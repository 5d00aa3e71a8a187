//! The image readers (PNG, `.npy`, IDX gzipped or not) on raw bytes, through the real
//! path-based entry point: the first byte picks the reader, the rest is the file.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&kind, bytes)) = data.split_first() else {
        return;
    };
    let dir = std::env::temp_dir().join(format!("nnmilp-fuzz-images-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (name, spec) = match kind % 3 {
        0 => ("f.png", "f.png".to_string()),
        1 => ("f.npy", "f.npy".to_string()),
        _ => ("t-images-idx3-ubyte", format!("t-images-idx3-ubyte:{}", kind / 3 % 4)),
    };
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    let spec = dir.join(spec).to_string_lossy().into_owned();
    if let Ok(img) = nnmilp::data::load_image(&spec) {
        assert!(!img.pixels.is_empty());
        assert!(img.pixels.iter().all(|v| v.is_finite()));
        if let (Some(w), Some(h)) = (img.width, img.height) {
            assert!(w * h <= img.pixels.len());
        }
    }
});
