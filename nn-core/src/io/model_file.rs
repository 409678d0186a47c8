use super::atomic_file::write_atomically;
use super::ModelFileError;
use crate::network::Network;
use serde::{Deserialize, Serialize};
use std::path::Path;

/// The first eight bytes of every model file.
pub const MAGIC: &[u8; 8] = b"nn-model";
/// The format version this library writes and reads (2: the first layer's weight input-major).
pub const FORMAT_VERSION: u32 = 2;

const HEADER_LIMIT: usize = 1 << 20;
const CHECKSUM_LEN: usize = 4;

#[derive(Serialize, Deserialize, Debug, PartialEq)]
struct Header {
    format_version: u32,
    architecture: String,
    tensors: Vec<TensorEntry>,
}

#[derive(Serialize, Deserialize, Debug, PartialEq)]
struct TensorEntry {
    name: String,
    len: u64,
}

impl TensorEntry {
    fn describe(&self) -> String {
        format!("{} ({} values)", self.name, self.len)
    }
}

fn config() -> impl bincode::config::Config {
    bincode::config::standard().with_limit::<HEADER_LIMIT>()
}

fn header_of<N: Network<IN, OUT>, const IN: usize, const OUT: usize>(network: &N) -> Header {
    let mut tensors = Vec::new();
    network.visit_parameters(&mut |name, values| {
        tensors.push(TensorEntry { name: name.to_owned(), len: values.len() as u64 })
    });
    Header { format_version: FORMAT_VERSION, architecture: N::ARCHITECTURE.to_owned(), tensors }
}

fn encode<N: Network<IN, OUT>, const IN: usize, const OUT: usize>(network: &N) -> Vec<u8> {
    let header = bincode::serde::encode_to_vec(header_of(network), config())
        .expect("a header of a compiled network is far below the 1 MiB limit");
    let mut bytes = Vec::with_capacity(MAGIC.len() + header.len() + N::PARAMETERS * 4 + CHECKSUM_LEN);
    bytes.extend_from_slice(MAGIC);
    bytes.extend_from_slice(&header);
    network.visit_parameters(&mut |_, values| {
        for value in values {
            bytes.extend_from_slice(&value.to_le_bytes());
        }
    });
    let checksum = crc32fast::hash(&bytes);
    bytes.extend_from_slice(&checksum.to_le_bytes());
    bytes
}

pub(crate) fn save<N: Network<IN, OUT>, const IN: usize, const OUT: usize>(
    network: &N,
    path: &Path,
) -> Result<(), ModelFileError> {
    let io_error = |source| ModelFileError::Io { path: path.to_owned(), source };
    write_atomically(path, &encode(network)).map_err(io_error)
}

pub(crate) fn load<N: Network<IN, OUT>, const IN: usize, const OUT: usize>(path: &Path) -> Result<N, ModelFileError> {
    let io_error = |source| ModelFileError::Io { path: path.to_owned(), source };
    let length = std::fs::metadata(path).map_err(io_error)?.len();
    let longest = (MAGIC.len() + HEADER_LIMIT + N::PARAMETERS * 4 + CHECKSUM_LEN) as u64;
    if length > longest {
        // Checked before reading, so a huge foreign file is never pulled into memory.
        return Err(ModelFileError::WrongLength { path: path.to_owned(), expected: longest, found: length });
    }
    let bytes = std::fs::read(path).map_err(io_error)?;
    decode(&bytes, path)
}

fn decode<N: Network<IN, OUT>, const IN: usize, const OUT: usize>(
    bytes: &[u8],
    path: &Path,
) -> Result<N, ModelFileError> {
    let path_buf = || path.to_owned();
    let body = bytes.strip_prefix(MAGIC).ok_or_else(|| ModelFileError::NotAModelFile { path: path_buf() })?;
    let (header, header_len): (Header, usize) = bincode::serde::decode_from_slice(body, config())
        .map_err(|error| ModelFileError::CorruptedHeader { path: path_buf(), reason: error.to_string() })?;
    if header.format_version != FORMAT_VERSION {
        return Err(ModelFileError::UnsupportedVersion {
            path: path_buf(),
            found: header.format_version,
            supported: FORMAT_VERSION,
        });
    }
    let values: u64 = header.tensors.iter().map(|t| t.len).fold(0, u64::saturating_add);
    let expected = values.saturating_mul(4).saturating_add((MAGIC.len() + header_len + CHECKSUM_LEN) as u64);
    if expected != bytes.len() as u64 {
        return Err(ModelFileError::WrongLength { path: path_buf(), expected, found: bytes.len() as u64 });
    }
    let (contents, stored) = bytes.split_at(bytes.len() - CHECKSUM_LEN);
    let stored = u32::from_le_bytes(stored.try_into().expect("four checksum bytes"));
    let found = crc32fast::hash(contents);
    if stored != found {
        return Err(ModelFileError::ChecksumMismatch { path: path_buf(), stored, found });
    }
    if header.architecture != N::ARCHITECTURE {
        return Err(ModelFileError::ArchitectureMismatch {
            path: path_buf(),
            expected: N::ARCHITECTURE,
            found: header.architecture,
        });
    }
    let mut network = N::zeroed();
    check_tensors(&network, &header.tensors, path)?;
    let mut data = contents[MAGIC.len() + header_len..].chunks_exact(4);
    network.visit_parameters_mut(&mut |_, values| {
        for (value, bytes) in values.iter_mut().zip(&mut data) {
            *value = f32::from_le_bytes(bytes.try_into().expect("chunks of four bytes"));
        }
    });
    Ok(network)
}

fn check_tensors<N: Network<IN, OUT>, const IN: usize, const OUT: usize>(
    network: &N,
    stored: &[TensorEntry],
    path: &Path,
) -> Result<(), ModelFileError> {
    let expected = header_of(network).tensors;
    if let Some(index) = (0..expected.len().max(stored.len())).find(|&i| expected.get(i) != stored.get(i)) {
        let describe = |entry: Option<&TensorEntry>| entry.map_or_else(|| "missing".to_owned(), TensorEntry::describe);
        return Err(ModelFileError::TensorMismatch {
            path: path.to_owned(),
            index,
            expected: describe(expected.get(index)),
            found: describe(stored.get(index)),
        });
    }
    Ok(())
}
