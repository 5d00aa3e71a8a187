//! No build step. This script exists because cargo reads `[build-dependencies]` only for a
//! package with a build script, and nnmilp needs that section to pin a host feature that
//! HiGHS's build depends on (see `Cargo.toml`), so that `cargo build` and `cargo test` share
//! one compiled HiGHS.

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
}
