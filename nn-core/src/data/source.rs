//! Opening a data file, raw or gzip-compressed.

use super::limits::{limit_hint, Limits};
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

/// A reader of a text file that fails, naming the limit and the line, once a line or the whole
/// text outgrows [`Limits::line_bytes`] or [`Limits::text_bytes`]: what it has passed on is then
/// bounded, and so is what a parser reading from it can buffer.
pub(crate) struct BoundedText<R> {
    inner: R,
    limits: Limits,
    line: u64,
    line_bytes: usize,
    total: u64,
}

impl<R: Read> BoundedText<R> {
    /// Bounded by the process's [`limits`](super::limits) as they are now.
    pub(crate) fn new(inner: R) -> Self {
        Self { inner, limits: super::limits(), line: 1, line_bytes: 0, total: 0 }
    }
}

impl<R: Read> Read for BoundedText<R> {
    fn read(&mut self, buffer: &mut [u8]) -> std::io::Result<usize> {
        let read = self.inner.read(buffer)?;
        self.total += read as u64;
        if self.total > self.limits.text_bytes {
            let message = format!("more than {} bytes of text ({})", self.limits.text_bytes, limit_hint("text_bytes"));
            return Err(std::io::Error::new(std::io::ErrorKind::InvalidData, message));
        }
        for &byte in &buffer[..read] {
            if byte == b'\n' {
                (self.line, self.line_bytes) = (self.line + 1, 0);
            } else {
                self.line_bytes += 1;
                if self.line_bytes > self.limits.line_bytes {
                    let message = format!(
                        "line {} is longer than {} bytes ({})",
                        self.line,
                        self.limits.line_bytes,
                        limit_hint("line_bytes")
                    );
                    return Err(std::io::Error::new(std::io::ErrorKind::InvalidData, message));
                }
            }
        }
        Ok(read)
    }
}
