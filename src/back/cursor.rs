//! Text appended to a buffer through a cursor held in registers.
//!
//! The writers' hot loops append five or six short pieces per line (a name, a space, a number,
//! ...). Through `Vec::push` and `extend_from_slice` each piece reloads and stores the vector's
//! length and checks its capacity, because a byte written through the vector's pointer may
//! alias its length as far as the compiler knows. A [`Cursor`] reserves once the most a stretch
//! of lines can take, keeps the write position and the end of the room in locals, and sets the
//! vector's length once, when it is dropped. Every write still checks that it fits (a compare
//! of two registers, never taken): the cursor is safe to use with any room.

use std::ptr;

/// Appends to a `Vec<u8>`'s spare capacity; the length is set when the cursor is dropped.
pub(crate) struct Cursor<'a> {
    out: &'a mut Vec<u8>,
    /// Next byte to write, inside `out`'s allocation.
    pos: *mut u8,
    /// One past `out`'s capacity.
    end: *mut u8,
}

impl<'a> Cursor<'a> {
    /// A cursor at the end of `out`'s text, with room for at least `room` bytes.
    #[inline]
    pub(crate) fn new(out: &'a mut Vec<u8>, room: usize) -> Self {
        out.reserve(room);
        let base = out.as_mut_ptr();
        // SAFETY: `len <= capacity`, both offsets stay inside (or one past) the allocation.
        let (pos, end) = unsafe { (base.add(out.len()), base.add(out.capacity())) };
        Cursor { out, pos, end }
    }

    /// Length of the vector's text, what the cursor wrote included.
    #[inline(always)]
    pub(crate) fn len(&self) -> usize {
        self.pos as usize - self.out.as_ptr() as usize
    }

    /// Inserts `s` at `at` of the text, moving the bytes after it right (a rare edit: an LP
    /// term that turns out not to fit its line).
    pub(crate) fn insert(&mut self, at: usize, s: &[u8]) {
        let len = self.len();
        assert!(at <= len && self.room() >= s.len(), "cursor out of room");
        // SAFETY: `at..len` is text; moved right by `s.len()` it stays inside the room, checked
        // above; `s` is a distinct borrow.
        unsafe {
            let base = self.out.as_mut_ptr();
            ptr::copy(base.add(at), base.add(at + s.len()), len - at);
            ptr::copy_nonoverlapping(s.as_ptr(), base.add(at), s.len());
            self.pos = self.pos.add(s.len());
        }
    }

    /// Replaces byte `at` of the text.
    pub(crate) fn set(&mut self, at: usize, b: u8) {
        assert!(at < self.len(), "byte {at} is not text yet");
        // SAFETY: `at` is inside the text, checked above.
        unsafe { *self.out.as_mut_ptr().add(at) = b }
    }

    #[inline(always)]
    fn room(&self) -> usize {
        self.end as usize - self.pos as usize
    }

    /// Appends one byte.
    #[inline(always)]
    pub(crate) fn byte(&mut self, b: u8) {
        assert!(self.room() >= 1, "cursor out of room");
        // SAFETY: one byte of room, checked above.
        unsafe {
            self.pos.write(b);
            self.pos = self.pos.add(1);
        }
    }

    /// Appends the first `len` bytes of `block` as one fixed-size move of all `N` (the bytes
    /// past `len` land in the spare capacity and are overwritten or left outside the text).
    #[inline(always)]
    pub(crate) fn block<const N: usize>(&mut self, block: &[u8; N], len: usize) {
        assert!(len <= N && self.room() >= N, "cursor out of room");
        // SAFETY: `N` bytes of room, checked above; `block` is a distinct borrow, so it does not
        // overlap the vector's spare capacity.
        unsafe {
            ptr::copy_nonoverlapping(block.as_ptr(), self.pos, N);
            self.pos = self.pos.add(len);
        }
    }

    /// Appends `s`. Up to [`SHORT`] bytes (a number, a name) take two fixed-size moves that
    /// overlap in the middle instead of a call to `memcpy`, whose call and size dispatch cost
    /// as much as the copy of so few bytes.
    #[inline(always)]
    pub(crate) fn bytes(&mut self, s: &[u8]) {
        let n = s.len();
        assert!(self.room() >= n, "cursor out of room");
        // SAFETY: `n` bytes of room, checked above; every read is inside `s`, and the two
        // moves of each case cover `pos[..n]` exactly.
        unsafe {
            let (src, dst) = (s.as_ptr(), self.pos);
            if n > SHORT {
                ptr::copy_nonoverlapping(src, dst, n);
            } else if n >= 16 {
                ptr::copy_nonoverlapping(src, dst, 16);
                ptr::copy_nonoverlapping(src.add(n - 16), dst.add(n - 16), 16);
            } else if n >= 8 {
                ptr::copy_nonoverlapping(src, dst, 8);
                ptr::copy_nonoverlapping(src.add(n - 8), dst.add(n - 8), 8);
            } else if n >= 4 {
                ptr::copy_nonoverlapping(src, dst, 4);
                ptr::copy_nonoverlapping(src.add(n - 4), dst.add(n - 4), 4);
            } else {
                for i in 0..n {
                    *dst.add(i) = *src.add(i);
                }
            }
            self.pos = dst.add(n);
        }
    }
}

impl Drop for Cursor<'_> {
    fn drop(&mut self) {
        let len = self.pos as usize - self.out.as_ptr() as usize;
        // SAFETY: every byte up to `pos` was written by the cursor or was the vector's text,
        // and `pos` is within the capacity. Runs on a panic too (a failed room check), so
        // the vector never claims bytes nobody wrote.
        unsafe { self.out.set_len(len) }
    }
}

/// Longest text [`Cursor::bytes`] copies with fixed-size moves.
const SHORT: usize = 32;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pieces_append_exactly_their_bytes() {
        let text: Vec<u8> = (0..48u8).map(|i| b'!' + i).collect();
        for n in 0..=text.len() {
            for head in [0, 3] {
                let mut out = vec![b'#'; head];
                {
                    let mut c = Cursor::new(&mut out, n + 1);
                    c.bytes(&text[..n]);
                    c.byte(b'|');
                }
                assert_eq!(out.len(), head + n + 1);
                assert_eq!(&out[head..head + n], &text[..n]);
                assert_eq!(out[head + n], b'|');
            }
        }
        let block = *b"abcdefgh";
        let mut out = Vec::new();
        {
            // Room for three whole blocks: each move writes all 8 bytes.
            let mut c = Cursor::new(&mut out, 24);
            c.block(&block, 3);
            c.block(&block, 8);
            c.block(&block, 0);
        }
        assert_eq!(out, b"abcabcdefgh");
    }

    #[test]
    fn edits_move_the_text_after_them() {
        let mut out = b"head".to_vec();
        {
            let mut c = Cursor::new(&mut out, 16);
            c.bytes(b" ab cd");
            assert_eq!(c.len(), 10);
            c.set(7, b'\n');
            c.insert(8, b"   ");
            c.byte(b'|');
            assert_eq!(c.len(), 14);
        }
        assert_eq!(out, b"head ab\n   cd|");
    }

    #[test]
    fn a_write_past_the_room_panics_and_keeps_what_was_written() {
        let mut out = Vec::new();
        let cap = {
            let c = Cursor::new(&mut out, 4);
            c.room()
        };
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            let mut c = Cursor::new(&mut out, 0);
            for _ in 0..=cap {
                c.byte(b'x');
            }
        }));
        assert!(result.is_err());
        assert_eq!(out, vec![b'x'; cap]);
    }
}
