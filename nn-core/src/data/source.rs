//! Opening a data file, raw or gzip-compressed.

use super::DataError;
use flate2::read::MultiGzDecoder;
use std::fs::File;
use std::io::{BufReader, Read};
use std::path::Path;

const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// Opens `path` for reading, decompressing it on the fly when it starts with the gzip magic
/// (whatever its name). Every member of a multi-member gzip file is read (as `cat a.gz b.gz`
/// and pigz write them), and bytes after the last member that are not another member are an
/// error rather than ignored.
pub(crate) fn open(path: &Path) -> Result<Box<dyn Read>, DataError> {
    let io_error = |source| DataError::Io { path: path.to_owned(), source };
    let mut file = BufReader::new(File::open(path).map_err(io_error)?);
    let mut magic = [0u8; 2];
    let read = read_up_to(&mut file, &mut magic).map_err(io_error)?;
    let prefix = std::io::Cursor::new(magic[..read].to_vec());
    let stream = prefix.chain(file);
    Ok(if magic == GZIP_MAGIC { Box::new(MultiGzDecoder::new(stream)) } else { Box::new(stream) })
}

/// Like `read_exact`, but stops quietly at the end of the stream; returns the bytes read.
pub(crate) fn read_up_to(reader: &mut impl Read, buffer: &mut [u8]) -> std::io::Result<usize> {
    let mut filled = 0;
    while filled < buffer.len() {
        match reader.read(&mut buffer[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(error) if error.kind() == std::io::ErrorKind::Interrupted => {}
            Err(error) => return Err(error),
        }
    }
    Ok(filled)
}

/// The longest line a text data file may have, in bytes: a Kaggle row is at most 3,925 bytes
/// (785 fields of `255,`), so this leaves room for wide CSV files while a file with no line
/// breaks (`/dev/zero`, a binary file, a decompression bomb) fails within a megabyte.
///
/// ```
/// if cfg!(unix) {
///     let error = nn::data::read_kaggle_test("/dev/zero").unwrap_err();
///     assert!(error.to_string().contains("line 1 is longer than 1048576 bytes"), "{error}");
/// }
/// ```
pub const MAX_LINE_BYTES: usize = 1 << 20;

/// The most bytes a text data file may hold once decompressed: seven times Kaggle's training
/// file, and a bound on what a small compressed file can make the reader produce.
///
/// ```
/// assert!(nn::data::MAX_TEXT_BYTES >= 7 * 73_000_000);
/// ```
pub const MAX_TEXT_BYTES: u64 = 512 << 20;

/// A reader of a text file that fails, naming the limit and the line, once a line or the whole
/// text outgrows [`MAX_LINE_BYTES`] or [`MAX_TEXT_BYTES`]: what it has passed on is then bounded,
/// and so is what a parser reading from it can buffer.
pub(crate) struct BoundedText<R> {
    inner: R,
    line: u64,
    line_bytes: usize,
    total: u64,
}

impl<R: Read> BoundedText<R> {
    pub(crate) fn new(inner: R) -> Self {
        Self { inner, line: 1, line_bytes: 0, total: 0 }
    }
}

impl<R: Read> Read for BoundedText<R> {
    fn read(&mut self, buffer: &mut [u8]) -> std::io::Result<usize> {
        let read = self.inner.read(buffer)?;
        self.total += read as u64;
        if self.total > MAX_TEXT_BYTES {
            let message = format!("more than {MAX_TEXT_BYTES} bytes of text (the limit, `MAX_TEXT_BYTES`)");
            return Err(std::io::Error::new(std::io::ErrorKind::InvalidData, message));
        }
        for &byte in &buffer[..read] {
            if byte == b'\n' {
                (self.line, self.line_bytes) = (self.line + 1, 0);
            } else {
                self.line_bytes += 1;
                if self.line_bytes > MAX_LINE_BYTES {
                    let message = format!(
                        "line {} is longer than {MAX_LINE_BYTES} bytes (the limit, `MAX_LINE_BYTES`)",
                        self.line
                    );
                    return Err(std::io::Error::new(std::io::ErrorKind::InvalidData, message));
                }
            }
        }
        Ok(read)
    }
}
