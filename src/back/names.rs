//! Names copied into the text at the cost of a fixed-size move.
//!
//! Every matrix entry of an MPS file carries two names and every LP term one; copying a short
//! slice of unknown length goes through `memmove`, which for names of 6 to 15 bytes costs more
//! than the copy. [`Names`] keeps all names in one buffer with [`PAD`] bytes of slack at the
//! end, so a name of at most `PAD` bytes is copied as a constant `PAD`-byte block and the
//! output cut back to its length.

use super::cursor::Cursor;

/// Longest name copied as one block; longer ones (up to 100 bytes) take the ordinary copy.
pub(crate) const PAD: usize = 32;

/// The names of one kind (columns or rows), in order.
pub(crate) struct Names {
    bytes: Vec<u8>,
    /// `start[i]..start[i + 1]` is name `i` in `bytes`.
    start: Vec<usize>,
}

impl Names {
    pub(crate) fn new<'a>(names: impl Iterator<Item = &'a str>) -> Self {
        let mut bytes = Vec::new();
        let mut start = vec![0];
        for name in names {
            bytes.extend_from_slice(name.as_bytes());
            start.push(bytes.len());
        }
        bytes.resize(bytes.len() + PAD, b' ');
        Names { bytes, start }
    }

    /// Name `i`.
    pub(crate) fn get(&self, i: usize) -> &[u8] {
        &self.bytes[self.start[i]..self.start[i + 1]]
    }

    /// Appends name `i` through a cursor with room for [`PAD`] bytes or the name, whichever is
    /// longer.
    #[inline]
    pub(crate) fn write(&self, out: &mut Cursor<'_>, i: usize) {
        let (from, to) = (self.start[i], self.start[i + 1]);
        let len = to - from;
        if len <= PAD {
            // The slack guarantees `PAD` readable bytes from any name's start.
            let block: &[u8; PAD] = self.bytes[from..from + PAD].try_into().expect("PAD bytes");
            out.block(block, len);
        } else {
            out.bytes(&self.bytes[from..to]);
        }
    }

    /// The longest name's length.
    pub(crate) fn max_len(&self) -> usize {
        self.start.windows(2).map(|w| w[1] - w[0]).max().unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::{Cursor, Names, PAD};

    #[test]
    fn names_come_back_whole_whatever_their_length() {
        let long = "n".repeat(100);
        let list = ["", "x", "relu_L2_17", "abcdefghijklmnopqrstuvwxyz012345", &long, "y_9"];
        let names = Names::new(list.iter().copied());
        let mut out = b"head ".to_vec();
        for (i, n) in list.iter().enumerate() {
            assert_eq!(names.get(i), n.as_bytes());
            names.write(&mut Cursor::new(&mut out, PAD.max(n.len())), i);
            out.push(b'|');
        }
        assert_eq!(String::from_utf8(out).unwrap(), format!("head {}|", list.join("|")));
    }
}
