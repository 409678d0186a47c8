use super::atomic_file::write_atomically;
use super::ModelFileError;
use crate::layer::{Tensor, TensorKind};
use crate::network::Network;
use serde::{Deserialize, Serialize};
use std::path::Path;

/// The first eight bytes of every model file.
///
/// ```
/// use nn::prelude::*;
///
/// network! { struct Net { Linear(2, 1) } }
/// let path = std::env::temp_dir().join(format!("magic-{}.model", std::process::id()));
/// Net::zeroed().save(&path)?;
/// assert!(std::fs::read(&path)?.starts_with(nn::io::MAGIC));
/// # std::fs::remove_file(&path)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub const MAGIC: &[u8; 8] = b"nn-model";
/// The format version this library writes (4: every tensor in PyTorch's layout, with its shape
/// and kind, and the outputs' class names when the network was saved with them).
///
/// ```
/// assert!(nn::io::OLDEST_FORMAT_VERSION <= nn::io::FORMAT_VERSION);
/// ```
pub const FORMAT_VERSION: u32 = 4;
/// The oldest format version this library reads (2: tensors with lengths only, the first
/// layer's weight input-major).
///
/// ```
/// assert_eq!(nn::io::OLDEST_FORMAT_VERSION, 2);
/// ```
pub const OLDEST_FORMAT_VERSION: u32 = 2;

pub(crate) const HEADER_LIMIT: usize = 1 << 20;

/// Characters of a string read from a file quoted in an error message: a header may hold a
/// megabyte of text, which would bury the message.
const QUOTED_CHARACTERS: usize = 200;
/// Dimensions of a stored shape quoted in an error message.
const QUOTED_DIMENSIONS: usize = 8;

/// `text`, or its first [`QUOTED_CHARACTERS`] characters and how many more there are.
pub(crate) fn quoted(text: &str) -> String {
    match text.char_indices().nth(QUOTED_CHARACTERS) {
        Some((end, _)) => format!("{}... ({} more characters)", &text[..end], text[end..].chars().count()),
        None => text.to_owned(),
    }
}
pub(crate) const CHECKSUM_LEN: usize = 4;

/// The first field of every header, decoded alone to choose the header's layout.
#[derive(Deserialize)]
struct Version {
    format_version: u32,
}

#[derive(Serialize, Deserialize, Debug, PartialEq)]
struct Header {
    format_version: u32,
    architecture: String,
    tensors: Vec<TensorEntry>,
    /// The name of each output, or none.
    classes: Vec<String>,
}

/// The header of version 3: version 4 without the class names.
#[derive(Deserialize)]
struct HeaderV3 {
    format_version: u32,
    architecture: String,
    tensors: Vec<TensorEntry>,
}

#[derive(Serialize, Deserialize, Debug, PartialEq)]
struct TensorEntry {
    name: String,
    shape: Vec<u64>,
    kind: StoredKind,
}

#[derive(Serialize, Deserialize, Debug, PartialEq, Clone, Copy)]
enum StoredKind {
    Parameter,
    Buffer,
}

impl TensorEntry {
    fn of(tensor: &Tensor<'_>) -> Self {
        let kind = match tensor.kind {
            TensorKind::Parameter => StoredKind::Parameter,
            TensorKind::Buffer => StoredKind::Buffer,
        };
        Self { name: tensor.name.to_string(), shape: tensor.shape.iter().map(|&dim| dim as u64).collect(), kind }
    }

    fn len(&self) -> u64 {
        self.shape.iter().fold(1, |len, &dim| len.saturating_mul(dim))
    }

    fn describe(&self) -> String {
        let dims: Vec<String> = self.shape.iter().take(QUOTED_DIMENSIONS).map(u64::to_string).collect();
        let dims = match self.shape.len() > QUOTED_DIMENSIONS {
            true => [dims, vec!["...".to_owned()]].concat(),
            false => dims,
        };
        let kind = match self.kind {
            StoredKind::Parameter => "parameter",
            StoredKind::Buffer => "buffer",
        };
        format!("{} [{}] ({kind})", quoted(&self.name), dims.join(", "))
    }
}

/// The header of format version 2, whose entries had lengths only.
#[derive(Deserialize)]
struct HeaderV2 {
    #[allow(dead_code)]
    format_version: u32,
    architecture: String,
    tensors: Vec<TensorEntryV2>,
}

#[derive(Deserialize)]
struct TensorEntryV2 {
    name: String,
    len: u64,
}

pub(crate) fn config() -> impl bincode::config::Config {
    bincode::config::standard().with_limit::<HEADER_LIMIT>()
}

fn header_of<N: Network<IN, OUT>, const IN: usize, const OUT: usize>(network: &N, classes: &[String]) -> Header {
    let mut tensors = Vec::new();
    network.visit_tensors(&mut |tensor| tensors.push(TensorEntry::of(&tensor)));
    let (architecture, classes) = (N::ARCHITECTURE.to_owned(), classes.to_vec());
    Header { format_version: FORMAT_VERSION, architecture, tensors, classes }
}

pub(crate) fn encode<N: Network<IN, OUT>, const IN: usize, const OUT: usize>(network: &N) -> Vec<u8> {
    encode_with_classes(network, &[])
}

/// The bytes of a model file of `network` whose outputs are named `classes` (one per output,
/// or none; the caller checks).
pub(crate) fn encode_with_classes<N: Network<IN, OUT>, const IN: usize, const OUT: usize>(
    network: &N,
    classes: &[String],
) -> Vec<u8> {
    // Class names beyond the header's limit could not be read back: the caller bounds them.
    let header = bincode::serde::encode_to_vec(header_of(network, classes), config())
        .expect("a header of a compiled network and bounded class names is below the 1 MiB limit");
    let mut bytes = Vec::with_capacity(MAGIC.len() + header.len() + N::PARAMETERS * 4 + CHECKSUM_LEN);
    bytes.extend_from_slice(MAGIC);
    bytes.extend_from_slice(&header);
    network.visit_tensors(&mut |tensor| {
        for value in tensor.values {
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
    save_with_classes(network, path, &[])
}

/// Bytes of class names a model file may hold: a header must stay below [`HEADER_LIMIT`] with
/// the tensors' entries beside them.
pub(crate) const CLASS_NAME_BYTES: usize = HEADER_LIMIT / 2;

/// Saves `network` with the names of its outputs, `classes` (one per output, or none).
pub(crate) fn save_with_classes<N: Network<IN, OUT>, const IN: usize, const OUT: usize>(
    network: &N,
    path: &Path,
    classes: &[String],
) -> Result<(), ModelFileError> {
    check_class_names(classes, OUT, path)?;
    let io_error = |source| ModelFileError::Io { path: path.to_owned(), source };
    write_atomically(path, &encode_with_classes(network, classes)).map_err(io_error)
}

/// Refuses class names that are not one per output (or none), or longer in all than
/// [`CLASS_NAME_BYTES`].
fn check_class_names(classes: &[String], outputs: usize, path: &Path) -> Result<(), ModelFileError> {
    let bytes: usize = classes.iter().map(String::len).sum();
    if !(classes.is_empty() || classes.len() == outputs) || bytes > CLASS_NAME_BYTES {
        return Err(ModelFileError::ClassNames { path: path.to_owned(), outputs, found: classes.len(), bytes });
    }
    Ok(())
}

pub(crate) fn load<N: Network<IN, OUT>, const IN: usize, const OUT: usize>(path: &Path) -> Result<N, ModelFileError> {
    load_with_classes(path).map(|(network, _)| network)
}

/// Loads a network and the names of its outputs (empty when it was saved without them).
pub(crate) fn load_with_classes<N: Network<IN, OUT>, const IN: usize, const OUT: usize>(
    path: &Path,
) -> Result<(N, Vec<String>), ModelFileError> {
    let bytes = read_bounded(path, longest_file::<N, IN, OUT>())?;
    decode_bounded_with_classes(&bytes, path)
}

/// [`decode`], after refusing more bytes than the longest file of `N` (a foreign file or one of
/// a newer format named as such, not as too long). `path` names the bytes in errors.
pub(crate) fn decode_bounded<N: Network<IN, OUT>, const IN: usize, const OUT: usize>(
    bytes: &[u8],
    path: &Path,
) -> Result<N, ModelFileError> {
    decode_bounded_with_classes(bytes, path).map(|(network, _)| network)
}

/// [`decode_bounded`], with the class names.
fn decode_bounded_with_classes<N: Network<IN, OUT>, const IN: usize, const OUT: usize>(
    bytes: &[u8],
    path: &Path,
) -> Result<(N, Vec<String>), ModelFileError> {
    let longest = longest_file::<N, IN, OUT>();
    if bytes.len() as u64 > longest {
        // A foreign file or one of a newer format is named as such, not as too long.
        check_version(bytes, path)?;
        return Err(ModelFileError::TooLong { path: path.to_owned(), longest });
    }
    decode_with_classes(bytes, path)
}

/// The longest model file of `N`: its tensors and the largest header.
pub(crate) fn longest_file<N: Network<IN, OUT>, const IN: usize, const OUT: usize>() -> u64 {
    let mut values = 0;
    N::zeroed().visit_tensors(&mut |tensor| values += tensor.values.len());
    (MAGIC.len() + HEADER_LIMIT + values * 4 + CHECKSUM_LEN) as u64
}

/// The bytes of the regular file at `path`, at most `longest + 1` of them (one more than
/// allowed tells a file that is too long), read through a bound rather than sized by the
/// metadata (which may change under the reader).
pub(crate) fn read_bounded(path: &Path, longest: u64) -> Result<Vec<u8>, ModelFileError> {
    let io_error = |source| ModelFileError::Io { path: path.to_owned(), source };
    let mut bytes = Vec::new();
    let file = open_regular_file(path)?;
    std::io::Read::read_to_end(&mut std::io::Read::take(file, longest + 1), &mut bytes).map_err(io_error)?;
    Ok(bytes)
}

/// `path` opened for reading, if it is a regular file.
pub(crate) fn open_regular_file(path: &Path) -> Result<std::fs::File, ModelFileError> {
    let io_error = |source| ModelFileError::Io { path: path.to_owned(), source };
    let file_type = std::fs::metadata(path).map_err(io_error)?.file_type();
    if !file_type.is_file() {
        // A device never ends and a pipe may never deliver: neither can hold a model.
        return Err(ModelFileError::NotAFile { path: path.to_owned(), kind: kind_of(&file_type) });
    }
    std::fs::File::open(path).map_err(io_error)
}

/// What a path that is not a regular file is, for the error.
fn kind_of(file_type: &std::fs::FileType) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if file_type.is_char_device() {
            return "a character device";
        }
        if file_type.is_block_device() {
            return "a block device";
        }
        if file_type.is_fifo() {
            return "a pipe";
        }
        if file_type.is_socket() {
            return "a socket";
        }
    }
    if file_type.is_dir() {
        "a directory"
    } else {
        "neither a file nor a directory"
    }
}

/// A decoded header: the architecture, the tensors, and how long the header was.
struct Decoded {
    header: Header,
    header_len: usize,
}

/// Checks the magic and the format version at the start of `bytes`, without the rest.
fn check_version(bytes: &[u8], path: &Path) -> Result<(), ModelFileError> {
    let body = bytes.strip_prefix(MAGIC).ok_or_else(|| ModelFileError::NotAModelFile { path: path.to_owned() })?;
    let corrupted = |error: bincode::error::DecodeError| ModelFileError::CorruptedHeader {
        path: path.to_owned(),
        reason: error.to_string(),
    };
    let (version, _): (Version, usize) = bincode::serde::decode_from_slice(body, config()).map_err(corrupted)?;
    match version.format_version {
        OLDEST_FORMAT_VERSION..=FORMAT_VERSION => Ok(()),
        found => Err(ModelFileError::UnsupportedVersion { path: path.to_owned(), found, supported: FORMAT_VERSION }),
    }
}

fn decode_header(body: &[u8], path: &Path) -> Result<Decoded, ModelFileError> {
    let corrupted = |error: bincode::error::DecodeError| ModelFileError::CorruptedHeader {
        path: path.to_owned(),
        reason: error.to_string(),
    };
    let (version, _): (Version, usize) = bincode::serde::decode_from_slice(body, config()).map_err(corrupted)?;
    match version.format_version {
        FORMAT_VERSION => {
            let (header, header_len) = bincode::serde::decode_from_slice(body, config()).map_err(corrupted)?;
            Ok(Decoded { header, header_len })
        }
        3 => {
            let (old, header_len): (HeaderV3, usize) =
                bincode::serde::decode_from_slice(body, config()).map_err(corrupted)?;
            let HeaderV3 { format_version, architecture, tensors } = old;
            Ok(Decoded { header: Header { format_version, architecture, tensors, classes: Vec::new() }, header_len })
        }
        OLDEST_FORMAT_VERSION => {
            let (old, header_len): (HeaderV2, usize) =
                bincode::serde::decode_from_slice(body, config()).map_err(corrupted)?;
            // Version 2 stored lengths only; the shapes come from the network it is loaded into,
            // once its names and lengths match.
            let tensors = old
                .tensors
                .into_iter()
                .map(|entry| TensorEntry { name: entry.name, shape: vec![entry.len], kind: StoredKind::Parameter })
                .collect();
            let (architecture, classes) = (old.architecture, Vec::new());
            let header = Header { format_version: OLDEST_FORMAT_VERSION, architecture, tensors, classes };
            Ok(Decoded { header, header_len })
        }
        found => Err(ModelFileError::UnsupportedVersion { path: path.to_owned(), found, supported: FORMAT_VERSION }),
    }
}

pub(crate) fn decode<N: Network<IN, OUT>, const IN: usize, const OUT: usize>(
    bytes: &[u8],
    path: &Path,
) -> Result<N, ModelFileError> {
    decode_with_classes(bytes, path).map(|(network, _)| network)
}

/// [`decode`], with the class names.
fn decode_with_classes<N: Network<IN, OUT>, const IN: usize, const OUT: usize>(
    bytes: &[u8],
    path: &Path,
) -> Result<(N, Vec<String>), ModelFileError> {
    let path_buf = || path.to_owned();
    let body = bytes.strip_prefix(MAGIC).ok_or_else(|| ModelFileError::NotAModelFile { path: path_buf() })?;
    let Decoded { header, header_len } = decode_header(body, path)?;
    let values: u64 = header.tensors.iter().map(TensorEntry::len).fold(0, u64::saturating_add);
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
            found: quoted(&header.architecture),
        });
    }
    let mut network = N::zeroed();
    check_tensors(&network, &header, path)?;
    check_class_names(&header.classes, OUT, path)?;
    let mut data = contents[MAGIC.len() + header_len..]
        .chunks_exact(4)
        .map(|bytes| f32::from_le_bytes(bytes.try_into().expect("chunks of four bytes")));
    let version = header.format_version;
    network.visit_tensors_mut(&mut |tensor| {
        let values = tensor.values;
        for value in values.iter_mut() {
            *value = data.next().expect("the length was checked");
        }
        let first_weight = tensor.name.layer == 0 && tensor.name.tensor == "weight" && tensor.shape.len() == 2;
        if version == OLDEST_FORMAT_VERSION && first_weight {
            // Version 2 held the first layer's weight input-major: `[in, out]`, the transpose.
            let [outputs, inputs] = [tensor.shape[0], tensor.shape[1]];
            let stored = values.to_vec();
            for (k, row) in stored.chunks_exact(outputs).enumerate() {
                for (o, value) in row.iter().enumerate() {
                    values[o * inputs + k] = *value;
                }
            }
        }
    });
    Ok((network, header.classes))
}

/// Checks that the file's tensors are the network's: the same names, shapes and kinds (for a
/// version 2 file, the same names and lengths), in the same order.
fn check_tensors<N: Network<IN, OUT>, const IN: usize, const OUT: usize>(
    network: &N,
    stored: &Header,
    path: &Path,
) -> Result<(), ModelFileError> {
    let mut expected = header_of(network, &[]).tensors;
    if stored.format_version == OLDEST_FORMAT_VERSION {
        for entry in &mut expected {
            entry.shape = vec![entry.len()];
        }
    }
    let stored = &stored.tensors;
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
