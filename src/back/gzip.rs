//! Gzip output compressed on all threads: the text is cut into members of [`MEMBER_BYTES`]
//! each, compressed independently and written in order.
//!
//! A gzip file may hold several members one after another, and decompressing it yields their
//! texts concatenated (RFC 1952 §2.2); every solver nnmilp targets reads such files (tested in
//! `tests/solver_matrix.rs`). Deflate on one thread was the slowest part of a compile (three to
//! four times the plain write), and members are the one way to split it without changing what a
//! reader sees. The cuts fall at fixed offsets of the text, so the bytes are the same whatever
//! the number of threads. A member of 1 MB costs nothing measurable in size: deflate looks back
//! 32 KB at most.

use rayon::prelude::*;
use std::io::{self, Write};

/// Text per member.
pub const MEMBER_BYTES: usize = 1 << 20;

/// Members compressed per batch: enough to keep every thread busy, few enough to hold in
/// memory (`BATCH` MB of text and its compressed form).
const BATCH: usize = 8;

/// Deflate level of libdeflate. Level 1 on the MPS text of a dense 784-1024³-10 net, in 1 MB
/// members on one thread: 28.7% of the size in 0.57 s, where zlib-rs (flate2's backend) took
/// 0.73 s at its level 2 for 29.3% (and 0.46 s at level 1 for 41.7%). libdeflate compresses a
/// whole buffer at once, which is what a member is.
const LEVEL: i32 = 1;

/// A writer of multi-member gzip into `out`; [`ParallelGz::finish`] writes what is pending.
pub struct ParallelGz<W: Write> {
    out: W,
    /// The member being filled (less than `MEMBER_BYTES`).
    open: Vec<u8>,
    /// Full members not yet compressed.
    full: Vec<Vec<u8>>,
    /// Whether a member was written (an empty text still gets one, empty, member).
    any: bool,
}

/// One complete gzip member of `text`. libdeflate writes a header with mtime 0 and no file
/// name: the same bytes every time.
fn member(text: &[u8]) -> io::Result<Vec<u8>> {
    let level = libdeflater::CompressionLvl::new(LEVEL).expect("a valid libdeflate level");
    let mut enc = libdeflater::Compressor::new(level);
    let mut out = vec![0; enc.gzip_compress_bound(text.len())];
    let n = enc
        .gzip_compress(text, &mut out)
        .map_err(|e| io::Error::other(format!("gzip: {e:?}")))?;
    out.truncate(n);
    Ok(out)
}

impl<W: Write> ParallelGz<W> {
    pub fn new(out: W) -> Self {
        ParallelGz {
            out,
            open: Vec::with_capacity(MEMBER_BYTES),
            full: Vec::new(),
            any: false,
        }
    }

    /// Compresses the full members on rayon's threads and writes them in order.
    fn flush_full(&mut self) -> io::Result<()> {
        let packed: Vec<io::Result<Vec<u8>>> = self.full.par_iter().map(|t| member(t)).collect();
        self.full.clear();
        for p in packed {
            self.out.write_all(&p?)?;
            self.any = true;
        }
        Ok(())
    }

    /// Writes the last (partial) member and returns the inner writer, not flushed.
    pub fn finish(mut self) -> io::Result<W> {
        if !self.open.is_empty() || (self.full.is_empty() && !self.any) {
            let last = std::mem::take(&mut self.open);
            self.full.push(last);
        }
        self.flush_full()?;
        Ok(self.out)
    }
}

impl<W: Write> Write for ParallelGz<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = buf.len().min(MEMBER_BYTES - self.open.len());
        self.open.extend_from_slice(&buf[..n]);
        if self.open.len() == MEMBER_BYTES {
            let fresh = Vec::with_capacity(MEMBER_BYTES);
            self.full.push(std::mem::replace(&mut self.open, fresh));
            if self.full.len() == BATCH {
                self.flush_full()?;
            }
        }
        Ok(n)
    }

    /// Flushes the inner writer only: a member is cut at its size, never at a flush, so that
    /// the bytes do not depend on when the caller flushes.
    fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    fn gzip(text: &[u8], piece: usize) -> Vec<u8> {
        let mut gz = ParallelGz::new(Vec::new());
        for p in text.chunks(piece.max(1)) {
            gz.write_all(p).unwrap();
        }
        gz.finish().unwrap()
    }

    #[test]
    fn members_decompress_to_the_text_and_do_not_depend_on_how_it_was_written() {
        let text: Vec<u8> = (0..(2 * MEMBER_BYTES + 12_345))
            .map(|i| b"x_L1_7 r 0.25\n"[i % 14])
            .collect();
        let whole = gzip(&text, text.len());
        for piece in [1000, MEMBER_BYTES, MEMBER_BYTES + 1] {
            assert_eq!(gzip(&text, piece), whole, "written {piece} bytes at a time");
        }
        let one_thread = rayon::ThreadPoolBuilder::new().num_threads(1).build().unwrap();
        assert_eq!(one_thread.install(|| gzip(&text, 4096)), whole);
        let mut back = Vec::new();
        flate2::read::MultiGzDecoder::new(&whole[..])
            .read_to_end(&mut back)
            .unwrap();
        assert_eq!(back, text);
        // Three members: a single-member reader stops after the first.
        let mut first = Vec::new();
        flate2::read::GzDecoder::new(&whole[..])
            .read_to_end(&mut first)
            .unwrap();
        assert_eq!(first.len(), MEMBER_BYTES);
        // An empty text is one empty member, still a valid gzip file.
        let empty = gzip(b"", 1);
        let mut back = Vec::new();
        flate2::read::MultiGzDecoder::new(&empty[..])
            .read_to_end(&mut back)
            .unwrap();
        assert!(back.is_empty() && empty.starts_with(&[0x1f, 0x8b]));
    }
}
