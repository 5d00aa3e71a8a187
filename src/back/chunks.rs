//! Sections of a file formatted in parallel, written in order.
//!
//! A section is a sequence of items (columns, rows, bounds), each of which formats to whole
//! lines on its own. The items are cut into chunks of about [`CHUNK_BYTES`] of text, a wave of
//! chunks is formatted on rayon's threads into one buffer each, and the buffers are written to
//! the sink in item order. While one wave is written (copied to the kernel, or compressed), the
//! next is formatted, and a thread done writing helps format: the writing is single-threaded,
//! so overlapping it with the formatting keeps both cores busy. Data an item needs that must
//! be built in item order (the MPS writer's block of the matrix by column) is a *stage*, built
//! for each wave just before it is formatted, on the same side of the pipeline, so it too
//! overlaps the writing. The text of an item never depends on the chunk it lands in, so the
//! bytes equal those of a serial write for every thread count and every chunking; at most two
//! waves of text (a few MB) are in memory, the rest streams to the file.

use super::Sink;
use rayon::prelude::*;
use std::io;
use std::ops::Range;

/// Aimed-at text per chunk: large enough that scheduling costs nothing next to formatting,
/// small enough to spread a section over the threads.
pub(crate) const CHUNK_BYTES: usize = 1 << 18;

/// Chunks formatted per wave, which bounds the text held in memory to about
/// `2 * WAVE * CHUNK_BYTES` (the wave being written and the one being formatted).
const WAVE: usize = 4;

/// Writes items `0..n` through `format(item, out)`; `cost(item)` estimates an item's bytes to
/// cut chunks of even size.
pub(crate) fn write_items<C, F>(sink: &mut Sink<'_>, n: usize, cost: C, format: F) -> io::Result<()>
where
    C: Fn(usize) -> usize,
    F: Fn(usize, &mut Vec<u8>) + Sync,
{
    write_staged(sink, n, cost, [(), ()], |_, _| {}, |_, i, out| format(i, out))
}

/// [`write_items`] for items that need a stage of data made for each wave first (the MPS
/// writer's block of the matrix by column): `prepare(items, stage)` fills one of the two
/// `stages` for the items of a wave, in item order, on the pipeline's thread, and then
/// `format(stage, item, out)` formats the wave's chunks in parallel. Preparing and formatting
/// wave `k + 1` overlap the writing of wave `k`, across the whole section: the pipeline never
/// drains until the last wave.
pub(crate) fn write_staged<S, C, P, F>(
    sink: &mut Sink<'_>,
    n: usize,
    cost: C,
    stages: [S; 2],
    mut prepare: P,
    format: F,
) -> io::Result<()>
where
    S: Send + Sync,
    C: Fn(usize) -> usize,
    P: FnMut(Range<usize>, &mut S) + Send,
    F: Fn(&S, usize, &mut Vec<u8>) + Sync,
{
    let chunks = cut(n, cost, CHUNK_BYTES);
    let waves: Vec<&[Range<usize>]> = chunks.chunks(WAVE).collect();
    // Two sets of buffers, one per chunk of a wave, reused wave after wave (fresh buffers of
    // this size come from mmap and cost a page fault per 4 KB). Allocated here, on the calling
    // thread: made on rayon's threads they came from each thread's own malloc arena, which
    // held 17 MB more at the peak of a dense 784-1024³-10 write.
    let buffers = || -> Vec<Vec<u8>> {
        let n = chunks.len().min(WAVE);
        (0..n)
            .map(|_| Vec::with_capacity(CHUNK_BYTES + CHUNK_BYTES / 4))
            .collect()
    };
    let (mut ready, mut next) = (buffers(), buffers());
    let [mut ready_stage, mut next_stage] = stages;
    let fill = |prepare: &mut P, stage: &mut S, texts: &mut Vec<Vec<u8>>, wave: &[Range<usize>]| {
        prepare(wave[0].start..wave[wave.len() - 1].end, stage);
        let stage = &*stage;
        // Only the last wave is shorter.
        texts.truncate(wave.len());
        let one = |(text, items): (&mut Vec<u8>, &Range<usize>)| {
            text.clear();
            for i in items.clone() {
                format(stage, i, text);
            }
        };
        if wave.len() == 1 {
            one((&mut texts[0], &wave[0]));
        } else {
            texts.par_iter_mut().zip(wave).for_each(one);
        }
    };
    let Some(first) = waves.first() else {
        return Ok(());
    };
    // Inside rayon's pool, so that the thread which writes wave `k` is a worker: when the
    // write is done before the next wave is formatted, `join` has it take chunks of that wave
    // instead of sleeping. Two threads on two cores then share the formatting and the writing
    // as the work comes; with the calling thread writing beside a pool as large as the
    // machine, three threads took turns on the cores and the write ran at 1.3 cores.
    rayon::scope(|_| {
        fill(&mut prepare, &mut ready_stage, &mut ready, first);
        for k in 0..waves.len() {
            let (written, ()) = rayon::join(
                || ready.iter().try_for_each(|t| sink.bytes(t)),
                || {
                    if let Some(wave) = waves.get(k + 1) {
                        fill(&mut prepare, &mut next_stage, &mut next, wave);
                    }
                },
            );
            written?;
            std::mem::swap(&mut ready, &mut next);
            std::mem::swap(&mut ready_stage, &mut next_stage);
        }
        Ok(())
    })
}

/// Consecutive ranges covering `0..n`, each of about `size` estimated bytes (an item costlier
/// than that is a range of its own).
pub(crate) fn cut(n: usize, cost: impl Fn(usize) -> usize, size: usize) -> Vec<Range<usize>> {
    let mut chunks = Vec::new();
    let mut start = 0;
    let mut acc = 0;
    for i in 0..n {
        acc += cost(i);
        if acc >= size {
            chunks.push(start..i + 1);
            start = i + 1;
            acc = 0;
        }
    }
    if start < n {
        chunks.push(start..n);
    }
    chunks
}

#[cfg(test)]
mod tests {
    use super::cut;

    #[test]
    fn chunks_cover_every_item_once_in_order() {
        for n in [0, 1, 5, 1000, 100_000] {
            let chunks = cut(n, |i| 1 + (i * 7919) % 300, super::CHUNK_BYTES);
            let flat: Vec<usize> = chunks.iter().flat_map(|r| r.clone()).collect();
            assert_eq!(flat, (0..n).collect::<Vec<_>>());
            assert!(chunks.iter().all(|r| !r.is_empty()));
        }
        assert_eq!(cut(3, |_| usize::MAX / 4, super::CHUNK_BYTES).len(), 3);
    }
}
