//! The one number format of both writers, appended straight to a byte buffer.
//!
//! Writing a model is mostly writing numbers (a dense 784-1024³-10 net has 3 million), so this
//! is the writers' hot loop. `zmij` (a Schubfach-family shortest round-trip algorithm) finds the
//! digits; this module only lays them out by the rules of [`super::format_number`], which are
//! Rust's `{}` / `{:e}` layouts: the same shortest digits, the decimal point placed the same way.
//! The bytes equal those of the `core::fmt` path the writers used before (tested on random bit
//! patterns against `format!`), at a fraction of its cost.

use super::cursor::Cursor;
use super::MAX_NUMBER_LEN;

/// Appends the text of `v` (finite) to `out`; see [`super::format_number`] for the rules.
#[inline]
pub(crate) fn push_num(out: &mut Vec<u8>, v: f64) {
    write_num(&mut Cursor::new(out, MAX_NUMBER_LEN), v);
}

/// [`push_num`] through a cursor the caller reserved for (at least [`MAX_NUMBER_LEN`] bytes).
///
/// zmij writes the layout of `ryu`: plain in `[1e-5, 1e16)` with a `.0` on integers, else
/// `d.ddde-7` / `d.ddde+16`. Inside our plain range `[1e-4, 1e15)` its text is ours once a
/// trailing `.0` goes, and its exponent form is ours without the `+`; only the two decades where
/// the rules differ, and possible ties (see [`round_ties_up`]), take the general path, which
/// takes the digits apart and lays them out again.
#[inline(always)]
pub(crate) fn write_num(out: &mut Cursor<'_>, v: f64) {
    debug_assert!(v.is_finite(), "format_number({v})");
    if v == 0.0 {
        out.byte(b'0');
        return;
    }
    let mut buf = zmij::Buffer::new();
    let text = buf.format_finite(v).as_bytes();
    let abs = v.abs();
    if exact_digits(v).is_none() {
        if (1e-4..1e15).contains(&abs) {
            out.bytes(text.strip_suffix(b".0").unwrap_or(text));
            return;
        }
        if !(1e-5..1e16).contains(&abs) {
            match text.iter().position(|&c| c == b'+') {
                Some(plus) => {
                    out.bytes(&text[..plus]);
                    out.bytes(&text[plus + 1..]);
                }
                None => out.bytes(text),
            }
            return;
        }
    }
    write_laid_out(out, v, text);
}

/// The general path of [`write_num`]: zmij's digits, ties rounded up, laid out by our rules.
#[cold]
fn write_laid_out(out: &mut Cursor<'_>, v: f64, text: &[u8]) {
    let (mut digits, mut n, mut point) = decompose(text);
    round_ties_up(v, &mut digits, &mut n, &mut point);
    let digits = &digits[..n];
    if v < 0.0 {
        out.byte(b'-');
    }
    let abs = v.abs();
    if !(1e-4..1e15).contains(&abs) {
        // `d[.ddd]e<exp>`, Rust's `{:e}`.
        out.byte(digits[0]);
        if n > 1 {
            out.byte(b'.');
            out.bytes(&digits[1..]);
        }
        out.byte(b'e');
        let exp = point - 1;
        if exp < 0 {
            out.byte(b'-');
        }
        out.bytes(uint_text(&mut [0; 20], exp.unsigned_abs() as usize));
    } else if point <= 0 {
        // `0.000ddd`
        out.bytes(b"0.");
        for _ in 0..-point {
            out.byte(b'0');
        }
        out.bytes(digits);
    } else if point as usize >= n {
        // `ddd000`: an integer, no point.
        out.bytes(digits);
        for _ in 0..point as usize - n {
            out.byte(b'0');
        }
    } else {
        let (int, frac) = digits.split_at(point as usize);
        out.bytes(int);
        out.byte(b'.');
        out.bytes(frac);
    }
}

/// Splits zmij's text of a non-zero number (`-1.25e-7`, `123.45`, `0.001`, `3.0`, `1e16`) into
/// its significant digits `d1..dn` (no leading or trailing zeros) and `point`, with
/// `|v| = 0.d1..dn × 10^point`.
#[inline]
fn decompose(text: &[u8]) -> ([u8; 20], usize, i32) {
    let mut digits = [0u8; 20];
    let mut n = 0;
    // Position of the decimal point relative to the first stored digit.
    let mut point: i32 = 0;
    let mut seen_point = false;
    let mut i = usize::from(text.first() == Some(&b'-'));
    while i < text.len() {
        let c = text[i];
        match c {
            b'0'..=b'9' => {
                if n == 0 && c == b'0' {
                    // A leading zero: before the point it carries nothing, after it it moves
                    // the first significant digit one place right.
                    if seen_point {
                        point -= 1;
                    }
                } else {
                    digits[n] = c;
                    n += 1;
                    if !seen_point {
                        point += 1;
                    }
                }
            }
            b'.' => seen_point = true,
            b'e' | b'E' => {
                point += parse_exponent(&text[i + 1..]);
                break;
            }
            _ => unreachable!("zmij wrote {:?}", String::from_utf8_lossy(text)),
        }
        i += 1;
    }
    while n > 1 && digits[n - 1] == b'0' {
        n -= 1;
    }
    (digits, n, point)
}

/// Where two shortest candidates are exactly equally near `v`, zmij takes the even one and
/// `core::fmt` the larger one (Dragon4's rule: round half up). Both read back as `v`; taking
/// the larger keeps every file byte-identical to what the writers wrote before zmij. Such ties
/// need `v`'s exact decimal expansion to end one digit after the shortest digits, with a 5:
/// values with few significant bits, like most `f32` weights widened to `f64`.
#[inline]
fn round_ties_up(v: f64, digits: &mut [u8; 20], n: &mut usize, point: &mut i32) {
    let Some(exact) = exact_digits(v) else {
        return;
    };
    let shortest = digits[..*n]
        .iter()
        .fold(0u128, |acc, &d| acc * 10 + u128::from(d - b'0'));
    if u128::from(exact) != shortest * 10 + 5 {
        return;
    }
    let mut up = shortest + 1;
    if up == 10u128.pow(*n as u32) {
        // 99..9|5 rounds up to 10..0: one digit, one place further left.
        up = 1;
        *point += 1;
    }
    while up % 10 == 0 {
        up /= 10;
    }
    let mut k = 0;
    let mut text = [0u8; 20];
    while up > 0 {
        text[k] = b'0' + (up % 10) as u8;
        up /= 10;
        k += 1;
    }
    for (i, d) in text[..k].iter().rev().enumerate() {
        digits[i] = *d;
    }
    *n = k;
}

/// The significant decimal digits of `|v|` (no trailing zeros) as an integer, when there are
/// at most 19 of them; `None` when there are more (no tie is possible then). Cheap to reject:
/// most values have far more digits, and the product overflows `u64` at once.
#[inline]
fn exact_digits(v: f64) -> Option<u64> {
    let bits = v.to_bits();
    let field = ((bits >> 52) & 0x7ff) as i32;
    let fraction = bits & ((1 << 52) - 1);
    let (mut m, mut e) = match field {
        0 => (fraction, -1074),
        _ => (fraction | (1 << 52), field - 1075),
    };
    if m == 0 {
        return None;
    }
    let tz = m.trailing_zeros();
    m >>= tz;
    e += tz as i32;
    // |v| = m · 2^e with m odd. Its digits need at least `bits(m) + 2.32·(-e)` bits when
    // e < 0 (m · 5^-e): past 64 there is no tie, which is the answer for nearly every value
    // a model holds (weights have 24 significant bits and e around -28). One predictable
    // branch instead of the table lookup and the overflowing multiply below, whose outcome
    // depends on each weight's magnitude (9 ns a number, a fifth of the writers' formatting).
    // m ≥ 2^(bits - 1) and 148/64 < log2(5), so a rejected product is ≥ 2^64: it would
    // overflow below anyway.
    let bits = 64 - m.leading_zeros() as i32;
    if e < 0 && bits + ((-e) * 148 >> 6) > 64 {
        return None;
    }
    let mut exact = if e >= 0 {
        m.checked_shl(e as u32).filter(|&x| x >> e == m)?
    } else {
        // m · 2^e = m · 5^-e / 10^-e, and m · 5^-e is odd: its digits are v's. 5^27 is the
        // largest power in u64.
        let q = (-e) as usize;
        m.checked_mul(*POW5.get(q)?)?
    };
    while exact % 10 == 0 {
        exact /= 10;
    }
    (exact < 10u64.pow(19)).then_some(exact)
}

/// `5^k` for every `k` whose power fits a `u64` (a table: the writers ask for one per number,
/// and `u64::pow`'s loop showed in their profile).
const POW5: [u64; 28] = {
    let mut t = [1u64; 28];
    let mut k = 1;
    while k < 28 {
        t[k] = t[k - 1] * 5;
        k += 1;
    }
    t
};

fn parse_exponent(text: &[u8]) -> i32 {
    let (neg, digits) = match text.first() {
        Some(b'-') => (true, &text[1..]),
        Some(b'+') => (false, &text[1..]),
        _ => (false, text),
    };
    let e = digits.iter().fold(0i32, |acc, &d| acc * 10 + i32::from(d - b'0'));
    if neg {
        -e
    } else {
        e
    }
}

/// The decimal text of `v`, written into the end of `buf` (an exponent, without `core::fmt`).
#[inline]
fn uint_text(buf: &mut [u8; 20], mut v: usize) -> &[u8] {
    let mut k = buf.len();
    loop {
        k -= 1;
        buf[k] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    &buf[k..]
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The layout the writers used before: `core::fmt`'s shortest digits.
    fn reference(v: f64) -> String {
        if v == 0.0 {
            "0".into()
        } else if v.abs() < 1e-4 || v.abs() >= 1e15 {
            format!("{v:e}")
        } else {
            format!("{v}")
        }
    }

    fn ours(v: f64) -> String {
        let mut out = Vec::new();
        push_num(&mut out, v);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn same_text_as_core_fmt_on_random_bit_patterns_and_edges() {
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let mut values = vec![
            1e-4,
            9.999999999999999e-5,
            1e15,
            999999999999999.9,
            1e-30,
            f64::MIN_POSITIVE,
            5e-324,
            f64::MAX,
            0.1,
            1.0,
            10.0,
            100.0,
            123.456,
            1e14,
            0.30000000000000004,
            // Exact ties between two 17-digit candidates (f32 weights widened to f64).
            0.0226154327392578125,
            -517.82989501953125,
        ];
        for _ in 0..100_000 {
            values.push(f64::from_bits(next()));
            // Weights and bounds: moderate magnitudes, float32-derived.
            let f = (next() >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0;
            values.push(f);
            values.push(f as f32 as f64 * 1000.0);
            values.push((f * 1e6).round());
            // The decades where zmij's layout and ours differ, and their edges.
            values.push(f * 1e-4);
            values.push(f * 1e16);
            values.push((f * 1e16).round());
            values.push(f as f32 as f64 * 1e-4);
            values.push(f as f32 as f64 * 1e15);
        }
        for v in values.into_iter().filter(|v| v.is_finite()) {
            for v in [v, -v] {
                assert_eq!(ours(v), reference(v), "bits {:#x}", v.to_bits());
            }
        }
    }

    /// `exact_digits` against the digits of `m · 5^q` computed in `u128`, on the values whose
    /// products sit around the 64-bit edge the quick rejection guards.
    #[test]
    fn exact_digits_match_wide_arithmetic() {
        for q in 1..=30u32 {
            for m in (1u64..1 << 26).step_by(9973).chain([1, 3, (1 << 53) - 1]) {
                let m = m | 1;
                let v = m as f64 / 2f64.powi(q as i32);
                let wide = u128::from(m) * 5u128.pow(q);
                let expected = (wide < 10u128.pow(19)).then_some(wide as u64);
                assert_eq!(exact_digits(v), expected, "m {m} q {q}");
            }
        }
    }

    #[test]
    fn integers() {
        for v in [0usize, 7, 10, 99, 100, 12345, usize::MAX] {
            assert_eq!(uint_text(&mut [0; 20], v), v.to_string().as_bytes());
        }
    }
}
