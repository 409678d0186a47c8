//! The IDX format of the MNIST files: a big-endian magic (`0x0803` for 3-D unsigned-byte
//! images, `0x0801` for 1-D unsigned-byte labels), one big-endian `u32` per dimension, then the
//! data.

use super::source::{open, read_up_to};
use super::DataError;
use std::io::Read;
use std::path::Path;

const IMAGES_MAGIC: u32 = 0x0000_0803;
const LABELS_MAGIC: u32 = 0x0000_0801;
/// The contents of an IDX images file: `count` images of `rows x columns` bytes, row-major.
///
/// ```no_run
/// let images = nn::data::read_idx_images("t10k-images-idx3-ubyte.gz")?;
/// assert_eq!(images.pixels.len(), images.count * (images.rows * images.columns) as usize);
/// # Ok::<(), nn::data::DataError>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IdxImages {
    /// The number of images.
    pub count: usize,
    /// The rows of each image.
    pub rows: u32,
    /// The columns of each image.
    pub columns: u32,
    /// All pixels, image after image.
    pub pixels: Vec<u8>,
}

/// Reads an IDX images file (`*-images-idx3-ubyte`, raw or gzip).
///
/// ```no_run
/// let images = nn::data::read_idx_images("mnist/t10k-images-idx3-ubyte.gz")?;
/// assert_eq!((images.count, images.rows, images.columns), (10_000, 28, 28));
/// # Ok::<(), nn::data::DataError>(())
/// ```
pub fn read_idx_images(path: impl AsRef<Path>) -> Result<IdxImages, DataError> {
    let path = path.as_ref();
    parse_images(open(path)?, path)
}

/// Reads an IDX labels file (`*-labels-idx1-ubyte`, raw or gzip): one byte per sample.
///
/// ```no_run
/// let labels = nn::data::read_idx_labels("mnist/t10k-labels-idx1-ubyte.gz")?;
/// assert_eq!(labels.len(), 10_000);
/// # Ok::<(), nn::data::DataError>(())
/// ```
pub fn read_idx_labels(path: impl AsRef<Path>) -> Result<Vec<u8>, DataError> {
    let path = path.as_ref();
    parse_labels(open(path)?, path)
}

pub(crate) fn parse_images(reader: impl Read, path: &Path) -> Result<IdxImages, DataError> {
    parse_images_checked(reader, path, |_, _, _| Ok(()))
}

/// [`parse_images`], with the header checked by `check_header(count, rows, columns)` before any
/// data is read.
pub(crate) fn parse_images_checked(
    mut reader: impl Read,
    path: &Path,
    check_header: impl FnOnce(u32, u32, u32) -> Result<(), DataError>,
) -> Result<IdxImages, DataError> {
    let [count, rows, columns] = read_header::<3>(&mut reader, path, IMAGES_MAGIC, "images")?;
    check_header(count, rows, columns)?;
    let bytes = u64::from(count).checked_mul(u64::from(rows)).and_then(|pixels| pixels.checked_mul(u64::from(columns)));
    let Some(bytes) = bytes else {
        let announced = format!("{count} x {rows} x {columns} bytes of data");
        return Err(DataError::TooLarge {
            path: path.to_owned(),
            announced,
            limit: super::limits().idx_bytes,
            setting: "idx_bytes",
        });
    };
    let pixels = read_data(reader, path, 16, bytes)?;
    Ok(IdxImages { count: count as usize, rows, columns, pixels })
}

pub(crate) fn parse_labels(mut reader: impl Read, path: &Path) -> Result<Vec<u8>, DataError> {
    let [count] = read_header::<1>(&mut reader, path, LABELS_MAGIC, "labels")?;
    read_data(reader, path, 8, u64::from(count))
}

fn read_header<const DIMS: usize>(
    reader: &mut impl Read,
    path: &Path,
    expected_magic: u32,
    kind: &'static str,
) -> Result<[u32; DIMS], DataError> {
    let mut words = [0u32; DIMS];
    let header_len = 4 * (DIMS as u64 + 1);
    let mut magic = [0u8; 4];
    let read = read_up_to(reader, &mut magic).map_err(|source| DataError::Io { path: path.to_owned(), source })?;
    let truncated_header =
        |found| DataError::Truncated { path: path.to_owned(), offset: 0, expected: header_len, found };
    if read < 4 {
        return Err(truncated_header(read as u64));
    }
    let found = u32::from_be_bytes(magic);
    if found != expected_magic {
        return Err(DataError::WrongMagic { path: path.to_owned(), kind, expected: expected_magic, found });
    }
    for (index, word) in words.iter_mut().enumerate() {
        let mut bytes = [0u8; 4];
        let read = read_up_to(reader, &mut bytes).map_err(|source| DataError::Io { path: path.to_owned(), source })?;
        if read < 4 {
            return Err(truncated_header(4 * (index as u64 + 1) + read as u64));
        }
        *word = u32::from_be_bytes(bytes);
    }
    Ok(words)
}

/// Reads exactly `expected` bytes, then checks that nothing follows. The buffer grows with the
/// data actually read, so a corrupt header cannot make it allocate gigabytes up front.
fn read_data(reader: impl Read, path: &Path, offset: u64, expected: u64) -> Result<Vec<u8>, DataError> {
    let io_error = |source| DataError::Io { path: path.to_owned(), source };
    let limit = super::limits().idx_bytes;
    if expected > limit {
        let announced = format!("{expected} bytes of data");
        return Err(DataError::TooLarge { path: path.to_owned(), announced, limit, setting: "idx_bytes" });
    }
    let mut data = Vec::new();
    let mut limited = reader.take(expected);
    limited.read_to_end(&mut data).map_err(io_error)?;
    if (data.len() as u64) < expected {
        return Err(DataError::Truncated { path: path.to_owned(), offset, expected, found: data.len() as u64 });
    }
    let mut extra = [0u8; 1];
    if read_up_to(&mut limited.into_inner(), &mut extra).map_err(io_error)? != 0 {
        return Err(DataError::TrailingData { path: path.to_owned(), offset: offset + expected });
    }
    Ok(data)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn images_file(count: u32, rows: u32, columns: u32, data_len: usize) -> Vec<u8> {
        let mut bytes = Vec::new();
        for word in [IMAGES_MAGIC, count, rows, columns] {
            bytes.extend_from_slice(&word.to_be_bytes());
        }
        bytes.extend((0..data_len).map(|i| i as u8));
        bytes
    }

    fn parse(bytes: &[u8]) -> Result<IdxImages, DataError> {
        parse_images(bytes, Path::new("images.idx"))
    }

    #[test]
    fn reads_a_well_formed_file() {
        let images = parse(&images_file(2, 2, 3, 12)).unwrap();
        assert_eq!((images.count, images.rows, images.columns), (2, 2, 3));
        assert_eq!(images.pixels, (0..12).collect::<Vec<u8>>());
    }

    #[test]
    fn rejects_a_wrong_magic_naming_the_file() {
        let error = parse_labels(&images_file(1, 1, 1, 1)[..], Path::new("labels.idx")).unwrap_err();
        assert!(matches!(error, DataError::WrongMagic { found: IMAGES_MAGIC, .. }), "{error:?}");
        assert!(error.to_string().starts_with("labels.idx: wrong magic number 0x00000803"), "{error}");
    }

    #[test]
    fn rejects_truncated_data_with_the_offset() {
        let error = parse(&images_file(2, 2, 3, 11)).unwrap_err();
        assert!(matches!(error, DataError::Truncated { offset: 16, expected: 12, found: 11, .. }), "{error:?}");
    }

    #[test]
    fn rejects_a_truncated_header() {
        let error = parse(&images_file(2, 2, 3, 0)[..10]).unwrap_err();
        assert!(matches!(error, DataError::Truncated { offset: 0, expected: 16, found: 10, .. }), "{error:?}");
    }

    #[test]
    fn rejects_trailing_data() {
        let error = parse(&images_file(2, 2, 3, 13)).unwrap_err();
        assert!(matches!(error, DataError::TrailingData { offset: 28, .. }), "{error:?}");
    }

    #[test]
    fn a_huge_announced_count_fails_without_allocating_it() {
        let error = parse(&images_file(u32::MAX, 28, 28, 4)).unwrap_err();
        assert!(matches!(error, DataError::TooLarge { .. }), "{error:?}");
        assert!(error.to_string().contains("more than 1073741824 bytes (the limit `Limits::idx_bytes`"), "{error}");
    }

    #[test]
    fn dimensions_whose_product_overflows_are_an_error_not_a_panic() {
        // Found by a fuzzer: a 16-byte header whose count x rows x columns overflows 64 bits.
        let error = parse(&images_file(u32::MAX, u32::MAX, u32::MAX, 0)).unwrap_err();
        assert!(
            error.to_string().ends_with(
                "the header announces 4294967295 x 4294967295 x 4294967295 bytes of data, more than 1073741824 bytes \
             (the limit `Limits::idx_bytes`; raise it with `nn::data::set_limits`)"
            ),
            "{error}"
        );
    }
}
