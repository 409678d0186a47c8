//! Checkpoints: a network and its optimizer's state in one file, so that training resumes
//! exactly where it stopped.

use super::atomic_file::write_atomically;
use super::model_file::{config, decode, encode, longest_file, quoted, read_bounded, CHECKSUM_LEN, HEADER_LIMIT};
use super::ModelFileError;
use crate::network::Network;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use std::path::Path;

/// The first eight bytes of every checkpoint file.
///
/// ```
/// assert_eq!(nn::io::CHECKPOINT_MAGIC, b"nn-check");
/// ```
pub const CHECKPOINT_MAGIC: &[u8; 8] = b"nn-check";

/// The checkpoint format this library writes and reads.
const CHECKPOINT_VERSION: u32 = 1;

/// The most bytes of optimizer state per parameter: three buffers of f32 (AMSGrad's Adam) and
/// room for their length prefixes.
const STATE_BYTES_PER_PARAMETER: u64 = 16;

#[derive(Serialize, Deserialize)]
struct Header {
    format_version: u32,
    architecture: String,
    optimizer: String,
    optimizer_len: u64,
    model_len: u64,
}

/// Writes `network` and `optimizer` (its hyper-parameters and state: moments, step counts) to
/// `path`, atomically, as [`Network::save`] does. [`load_checkpoint`] restores both, so a run
/// that stops after a checkpoint and resumes from it takes the same steps, bit for bit, as one
/// that did not stop.
///
/// ```
/// use nn::optim::Adam;
/// use nn::prelude::*;
///
/// network! { struct Net { Linear(2, 2) } }
/// let mut net = Net::new(&mut nn::Pcg64Mcg::seed_from_u64(1));
/// let mut adam = Adam::new(0.01);
/// let mut workspace = net.workspace();
/// net.train_step(&mut workspace, &[1.0, 0.0], &one_hot(1), &CrossEntropy, &mut adam)?;
///
/// let path = std::env::temp_dir().join(format!("checkpoint-{}.nn", std::process::id()));
/// nn::io::save_checkpoint(&path, &net, &adam)?;
/// let (restored, restored_adam): (Net, Adam) = nn::io::load_checkpoint(&path)?;
/// assert_eq!((restored, restored_adam.steps()), (net, 1));
/// # std::fs::remove_file(&path)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Errors
/// [`ModelFileError::Io`] if the file cannot be written.
pub fn save_checkpoint<N, O, const IN: usize, const OUT: usize>(
    path: impl AsRef<Path>,
    network: &N,
    optimizer: &O,
) -> Result<(), ModelFileError>
where
    N: Network<IN, OUT>,
    O: Serialize,
{
    let path = path.as_ref();
    let state = encode_state(optimizer)
        .map_err(|reason| ModelFileError::Io { path: path.to_owned(), source: std::io::Error::other(reason) })?;
    write_checkpoint(path, network, std::any::type_name::<O>(), &state)
}

/// An optimizer's state as a checkpoint holds it, or any value whose encoding starts with the
/// optimizer's (the fit loop's `(optimizer, progress)`).
pub(crate) fn encode_state<S: Serialize>(state: &S) -> Result<Vec<u8>, String> {
    bincode::serde::encode_to_vec(state, config_unlimited()).map_err(|error| error.to_string())
}

/// The value [`encode_state`] encoded.
pub(crate) fn decode_state<S: DeserializeOwned>(bytes: &[u8]) -> Result<S, String> {
    bincode::serde::decode_from_slice(bytes, config_unlimited())
        .map(|(state, _)| state)
        .map_err(|error| error.to_string())
}

/// Writes a checkpoint of `network` and the encoded `state` of an optimizer of type
/// `optimizer` (its type name) to `path`, atomically.
pub(crate) fn write_checkpoint<N: Network<IN, OUT>, const IN: usize, const OUT: usize>(
    path: &Path,
    network: &N,
    optimizer: &str,
    state: &[u8],
) -> Result<(), ModelFileError> {
    let model = encode(network);
    let header = Header {
        format_version: CHECKPOINT_VERSION,
        architecture: N::ARCHITECTURE.to_owned(),
        optimizer: optimizer.to_owned(),
        optimizer_len: state.len() as u64,
        model_len: model.len() as u64,
    };
    let header = bincode::serde::encode_to_vec(header, config()).expect("a checkpoint header is far below 1 MiB");
    let mut bytes =
        Vec::with_capacity(CHECKPOINT_MAGIC.len() + header.len() + state.len() + model.len() + CHECKSUM_LEN);
    for part in [&CHECKPOINT_MAGIC[..], &header, state, &model] {
        bytes.extend_from_slice(part);
    }
    let checksum = crc32fast::hash(&bytes);
    bytes.extend_from_slice(&checksum.to_le_bytes());
    write_atomically(path, &bytes).map_err(|source| ModelFileError::Io { path: path.to_owned(), source })
}

/// Reads a checkpoint written by [`save_checkpoint`] for the network `N` and the optimizer
/// type `O`.
///
/// ```no_run
/// use nn::optim::Adam;
/// use nn::prelude::*;
///
/// network! { struct Net { Linear(2, 2) } }
/// let (net, adam): (Net, Adam) = nn::io::load_checkpoint("run.checkpoint")?;
/// # Ok::<(), nn::io::ModelFileError>(())
/// ```
///
/// # Errors
/// Everything [`Network::load`] refuses, and a checkpoint of another optimizer type
/// ([`ModelFileError::OptimizerMismatch`]) or a file that is not a checkpoint.
pub fn load_checkpoint<N, O, const IN: usize, const OUT: usize>(
    path: impl AsRef<Path>,
) -> Result<(N, O), ModelFileError>
where
    N: Network<IN, OUT>,
    O: DeserializeOwned,
{
    let path = path.as_ref();
    let (network, state) = read_checkpoint::<N, IN, OUT>(path, std::any::type_name::<O>())?;
    // The optimizer's encoding comes first; the fit loop's progress may follow it.
    let (optimizer, _): (O, usize) = bincode::serde::decode_from_slice(&state, config_unlimited())
        .map_err(|error| ModelFileError::CorruptedHeader { path: path.to_owned(), reason: error.to_string() })?;
    Ok((network, optimizer))
}

/// The network and the optimizer state's bytes of a checkpoint whose optimizer has the type
/// name `optimizer`, every check of [`load_checkpoint`] made.
pub(crate) fn read_checkpoint<N: Network<IN, OUT>, const IN: usize, const OUT: usize>(
    path: &Path,
    optimizer: &'static str,
) -> Result<(N, Vec<u8>), ModelFileError> {
    let path_buf = || path.to_owned();
    let model_longest = longest_file::<N, IN, OUT>();
    let state_longest = STATE_BYTES_PER_PARAMETER * N::PARAMETERS as u64 + HEADER_LIMIT as u64;
    let longest = CHECKPOINT_MAGIC.len() as u64 + HEADER_LIMIT as u64 + state_longest + model_longest + 4;
    let bytes = read_bounded(path, longest)?;
    let body =
        bytes.strip_prefix(CHECKPOINT_MAGIC).ok_or_else(|| ModelFileError::NotACheckpoint { path: path_buf() })?;
    if bytes.len() as u64 > longest {
        return Err(ModelFileError::TooLong { path: path_buf(), longest });
    }
    let corrupted = |error: bincode::error::DecodeError| ModelFileError::CorruptedHeader {
        path: path_buf(),
        reason: error.to_string(),
    };
    let (header, header_len): (Header, usize) = bincode::serde::decode_from_slice(body, config()).map_err(corrupted)?;
    if header.format_version != CHECKPOINT_VERSION {
        return Err(ModelFileError::UnsupportedVersion {
            path: path_buf(),
            found: header.format_version,
            supported: CHECKPOINT_VERSION,
        });
    }
    let expected = (CHECKPOINT_MAGIC.len() + header_len + CHECKSUM_LEN) as u64
        + header.optimizer_len.saturating_add(header.model_len);
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
        let found = quoted(&header.architecture);
        return Err(ModelFileError::ArchitectureMismatch { path: path_buf(), expected: N::ARCHITECTURE, found });
    }
    if header.optimizer != optimizer {
        let found = quoted(&header.optimizer);
        return Err(ModelFileError::OptimizerMismatch { path: path_buf(), expected: optimizer, found });
    }
    let state_start = CHECKPOINT_MAGIC.len() + header_len;
    let (state, model) = contents[state_start..].split_at(header.optimizer_len as usize);
    let network = decode(model, path)?;
    Ok((network, state.to_vec()))
}

/// bincode's standard configuration without a size limit, for the optimizer state (whose size
/// the file's length already bounds).
fn config_unlimited() -> impl bincode::config::Config {
    bincode::config::standard()
}
