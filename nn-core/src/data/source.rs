//! Opening a data file, raw or gzip-compressed.

use super::DataError;
use flate2::read::GzDecoder;
use std::fs::File;
use std::io::{BufReader, Read};
use std::path::Path;

const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// Opens `path` for reading, decompressing it on the fly when it starts with the gzip magic
/// (whatever its name).
pub(crate) fn open(path: &Path) -> Result<Box<dyn Read>, DataError> {
    let io_error = |source| DataError::Io { path: path.to_owned(), source };
    let mut file = BufReader::new(File::open(path).map_err(io_error)?);
    let mut magic = [0u8; 2];
    let read = read_up_to(&mut file, &mut magic).map_err(io_error)?;
    let prefix = std::io::Cursor::new(magic[..read].to_vec());
    let stream = prefix.chain(file);
    Ok(if magic == GZIP_MAGIC { Box::new(GzDecoder::new(stream)) } else { Box::new(stream) })
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
