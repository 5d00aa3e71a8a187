//! Reading one image (and its label) from MNIST IDX files, gzipped or not.
//!
//! An IDX file is a big-endian header — magic `0x0000 08 NN` (`08` = unsigned bytes, `NN` =
//! number of axes), then one `u32` per axis — followed by the values in row-major order. MNIST
//! images are `0x00000803` with axes (count, rows, cols); labels `0x00000801` with (count).
//! Only the requested item is kept: a plain file is read by seeking to it; a gzip stream cannot
//! seek, so it is decompressed up to the item, then to the end to check its length.

use super::{DataError, Image};
use flate2::read::MultiGzDecoder;
use std::fs::File;
use std::io::{self, BufRead, BufReader, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

const IMAGES_MAGIC: u32 = 0x0000_0803;
const LABELS_MAGIC: u32 = 0x0000_0801;
const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

pub(super) fn load(spec: &str, path: &Path, index: usize) -> Result<Image, DataError> {
    let images = read_item(path, Kind::Images, index)?;
    let label = match labels_file(path) {
        Some(labels_path) => {
            let labels = read_item(&labels_path, Kind::Labels, index)?;
            if labels.count != images.count {
                return Err(DataError::IdxLabelCount {
                    labels_path,
                    labels: labels.count,
                    images_path: path.to_path_buf(),
                    images: images.count,
                });
            }
            labels.bytes.first().copied()
        }
        None => None,
    };
    Ok(Image {
        pixels: images.bytes.iter().map(|&b| f64::from(b) / 255.0).collect(),
        width: Some(images.dims[1]),
        height: Some(images.dims[0]),
        label,
        source: spec.to_string(),
    })
}

#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Images,
    Labels,
}

impl Kind {
    fn magic(self) -> u32 {
        match self {
            Kind::Images => IMAGES_MAGIC,
            Kind::Labels => LABELS_MAGIC,
        }
    }
    fn name(self) -> &'static str {
        match self {
            Kind::Images => "image (idx3-ubyte)",
            Kind::Labels => "label (idx1-ubyte)",
        }
    }
    /// Axes after the count: (rows, cols) for images, none for labels.
    fn item_axes(self) -> usize {
        match self {
            Kind::Images => 2,
            Kind::Labels => 0,
        }
    }
}

/// One item of an IDX file, with the file's item count and the item's own axes.
struct Item {
    count: usize,
    dims: Vec<usize>,
    bytes: Vec<u8>,
}

fn read_item(path: &Path, kind: Kind, index: usize) -> Result<Item, DataError> {
    let read_err = |source| DataError::Read {
        path: path.to_path_buf(),
        source,
    };
    let file = File::open(path).map_err(read_err)?;
    let file_len = file.metadata().map_err(read_err)?.len();
    let mut reader = BufReader::new(file);
    let gzipped = reader.fill_buf().map_err(read_err)?.starts_with(&GZIP_MAGIC);
    if gzipped {
        let mut stream = Counting {
            inner: MultiGzDecoder::new(reader),
            count: 0,
        };
        let header = read_header(&mut stream, path, kind, index)?;
        read_gz_item(stream, path, &header, index)
    } else {
        let header = read_header(&mut reader, path, kind, index)?;
        let got = file_len.saturating_sub(header.len);
        check_data_len(path, header.data_len, got)?;
        let at = header.len + index as u64 * header.item_len as u64;
        reader.seek(SeekFrom::Start(at)).map_err(read_err)?;
        let mut bytes = vec![0u8; header.item_len];
        reader.read_exact(&mut bytes).map_err(read_err)?;
        Ok(Item {
            count: header.count,
            dims: header.dims,
            bytes,
        })
    }
}

struct Header {
    /// Bytes of header (magic + axes).
    len: u64,
    count: usize,
    dims: Vec<usize>,
    /// Bytes per item (product of `dims`).
    item_len: usize,
    /// Bytes of data the header promises (`count * item_len`).
    data_len: u64,
}

/// Read and check the header, including that `index` is one of the file's items.
fn read_header(r: &mut impl Read, path: &Path, kind: Kind, index: usize) -> Result<Header, DataError> {
    let header_err = |reason: String| DataError::IdxHeader {
        path: path.to_path_buf(),
        reason,
    };
    let short = |e: io::Error| match e.kind() {
        io::ErrorKind::UnexpectedEof => header_err("the file ends inside the header".to_string()),
        _ => DataError::Read {
            path: path.to_path_buf(),
            source: e,
        },
    };
    let mut word = [0u8; 4];
    r.read_exact(&mut word).map_err(short)?;
    let magic = u32::from_be_bytes(word);
    if magic != kind.magic() {
        return Err(DataError::IdxMagic {
            path: path.to_path_buf(),
            expected: kind.name(),
            magic,
            expected_magic: kind.magic(),
        });
    }
    let mut axes = Vec::with_capacity(1 + kind.item_axes());
    for _ in 0..1 + kind.item_axes() {
        r.read_exact(&mut word).map_err(short)?;
        axes.push(u32::from_be_bytes(word) as usize);
    }
    let count = axes[0];
    let dims = axes[1..].to_vec();
    if dims.contains(&0) {
        return Err(header_err(format!("empty items of shape {dims:?}")));
    }
    let item_len = dims.iter().try_fold(1usize, |acc, &d| acc.checked_mul(d));
    let item_len = (item_len.filter(|&n| n as u64 <= super::MAX_IMAGE_VALUES)).ok_or_else(|| {
        header_err(format!(
            "items of shape {dims:?} have more than {} values",
            super::MAX_IMAGE_VALUES
        ))
    })?;
    let data_len = (count as u64)
        .checked_mul(item_len as u64)
        .ok_or_else(|| header_err(format!("{count} items of {item_len} bytes are too many")))?;
    if index >= count {
        return Err(DataError::IdxIndex {
            path: path.to_path_buf(),
            index,
            count,
        });
    }
    Ok(Header {
        len: 4 * (1 + axes.len() as u64),
        count,
        dims,
        item_len,
        data_len,
    })
}

fn check_data_len(path: &Path, expected: u64, got: u64) -> Result<(), DataError> {
    match got.cmp(&expected) {
        std::cmp::Ordering::Less => Err(DataError::IdxTruncated {
            path: path.to_path_buf(),
            expected,
            got,
        }),
        std::cmp::Ordering::Greater => Err(DataError::IdxTrailing {
            path: path.to_path_buf(),
            expected,
            got,
        }),
        std::cmp::Ordering::Equal => Ok(()),
    }
}

/// Decompress up to item `index`, keep it, and decompress the rest only to count it, so that a
/// truncated download is reported whichever item is asked for.
fn read_gz_item<R: Read>(
    mut stream: Counting<R>,
    path: &Path,
    header: &Header,
    index: usize,
) -> Result<Item, DataError> {
    let data_start = stream.count;
    let data_read = |s: &Counting<R>| s.count - data_start;
    let fail = |e: io::Error, got: u64| match e.kind() {
        io::ErrorKind::UnexpectedEof => DataError::IdxTruncated {
            path: path.to_path_buf(),
            expected: header.data_len,
            got,
        },
        _ => DataError::Read {
            path: path.to_path_buf(),
            source: e,
        },
    };
    let skip = index as u64 * header.item_len as u64;
    let skipped = io::copy(&mut (&mut stream).take(skip), &mut io::sink()).map_err(|e| fail(e, data_read(&stream)))?;
    if skipped < skip {
        return Err(fail(io::ErrorKind::UnexpectedEof.into(), skipped));
    }
    let mut bytes = vec![0u8; header.item_len];
    stream.read_exact(&mut bytes).map_err(|e| fail(e, data_read(&stream)))?;
    // Counting the rest stops one byte past the promise: a gzip bomb is not unpacked to its end.
    let rest = (header.data_len - data_read(&stream)).saturating_add(1);
    io::copy(&mut (&mut stream).take(rest), &mut io::sink()).map_err(|e| fail(e, data_read(&stream)))?;
    check_data_len(path, header.data_len, data_read(&stream))?;
    Ok(Item {
        count: header.count,
        dims: header.dims.clone(),
        bytes,
    })
}

/// A reader that counts the bytes it hands out (the decompressed length of a gzip stream).
struct Counting<R> {
    inner: R,
    count: u64,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count += n as u64;
        Ok(n)
    }
}

/// The labels file next to an images file, if there is one: `images` → `labels` and `idx3` →
/// `idx1` in the file name, gzipped like the images file or else the other way.
fn labels_file(images: &Path) -> Option<PathBuf> {
    let name = images.file_name()?.to_str()?;
    let labels = name.replace("images", "labels").replace("idx3", "idx1");
    if labels == name {
        return None;
    }
    let other = match labels.strip_suffix(".gz") {
        Some(plain) => plain.to_string(),
        None => format!("{labels}.gz"),
    };
    [labels, other]
        .into_iter()
        .map(|n| images.with_file_name(n))
        .find(|p| p.is_file())
}
