use std::path::PathBuf;

/// Why a model file could not be saved or loaded. Every variant names the file.
///
/// ```
/// use nn::prelude::*;
///
/// network! { struct Net { Linear(2, 1) } }
/// let error = Net::load("no/such/model").unwrap_err();
/// assert!(matches!(error, nn::io::ModelFileError::Io { .. }));
/// assert!(error.to_string().contains("no/such/model"), "{error}");
/// ```
#[derive(Debug, thiserror::Error)]
pub enum ModelFileError {
    /// The operating system refused to read or write the file.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The path is not a regular file (a directory, a device such as `/dev/zero`, a pipe): a
    /// model is read only from a file whose end is known.
    #[error("{}: not a regular file ({kind}); a model is loaded from a file", path.display())]
    NotAFile {
        /// The path.
        path: PathBuf,
        /// What it is instead.
        kind: &'static str,
    },
    /// The file does not start with the checkpoint magic.
    #[error("{}: not an nn checkpoint (it does not start with the bytes \"nn-check\")", path.display())]
    NotACheckpoint {
        /// The file.
        path: PathBuf,
    },
    /// A checkpoint holds the state of another optimizer type.
    #[error("{}: the checkpoint holds the state of the optimizer `{found}`, but it is being loaded as `{expected}`", path.display())]
    OptimizerMismatch {
        /// The file.
        path: PathBuf,
        /// The optimizer type being loaded.
        expected: &'static str,
        /// The optimizer type in the file.
        found: String,
    },
    /// The file does not start with the nn model magic.
    #[error("{}: not an nn model file (it does not start with the bytes \"nn-model\")", path.display())]
    NotAModelFile {
        /// The file.
        path: PathBuf,
    },
    /// The file was written by a format version this library does not read.
    #[error(
        "{}: model file format version {found}; this library reads versions {} to {supported}",
        path.display(),
        super::OLDEST_FORMAT_VERSION
    )]
    UnsupportedVersion {
        /// The file.
        path: PathBuf,
        /// The version in the file.
        found: u32,
        /// The newest version this library reads (and the one it writes).
        supported: u32,
    },
    /// The header could not be decoded.
    #[error("{}: the model header is corrupted: {reason}", path.display())]
    CorruptedHeader {
        /// The file.
        path: PathBuf,
        /// What the decoder reported.
        reason: String,
    },
    /// The file is shorter or longer than its header says.
    #[error("{}: the file is {found} bytes long but its header describes {expected} bytes (truncated or appended to)", path.display())]
    WrongLength {
        /// The file.
        path: PathBuf,
        /// The length the header implies.
        expected: u64,
        /// The actual length.
        found: u64,
    },
    /// The file is longer than any model file of the network being loaded can be.
    #[error("{}: the file is longer than {longest} bytes, the most a model file of this network can hold", path.display())]
    TooLong {
        /// The file.
        path: PathBuf,
        /// The longest model file of the network: its tensors and the largest header.
        longest: u64,
    },
    /// Class names that are not one per output of the network (nor none), or too long to store.
    #[error(
        "{}: {found} class names ({bytes} bytes) for a network of {outputs} outputs: a model file names each output or none, in at most 512 KiB",
        path.display()
    )]
    ClassNames {
        /// The file.
        path: PathBuf,
        /// The network's outputs.
        outputs: usize,
        /// The class names given or stored.
        found: usize,
        /// Their bytes in all.
        bytes: usize,
    },
    /// The checksum does not match the contents.
    #[error("{}: the file is corrupted (CRC-32 {found:#010x} does not match the stored {stored:#010x})", path.display())]
    ChecksumMismatch {
        /// The file.
        path: PathBuf,
        /// The checksum stored in the file.
        stored: u32,
        /// The checksum of the contents.
        found: u32,
    },
    /// The file holds a different network.
    #[error("{}: the file holds the network `{found}`, but it is being loaded into `{expected}`", path.display())]
    ArchitectureMismatch {
        /// The file.
        path: PathBuf,
        /// The architecture of the network being loaded.
        expected: &'static str,
        /// The architecture stored in the file.
        found: String,
    },
    /// The tensors in the file do not match the network's, despite the same architecture string.
    #[error("{}: tensor {index} is `{found}` in the file but `{expected}` in the network", path.display())]
    TensorMismatch {
        /// The file.
        path: PathBuf,
        /// The position of the tensor.
        index: usize,
        /// The network's tensor (name, shape and kind).
        expected: String,
        /// The file's tensor (name, shape and kind).
        found: String,
    },
    /// A file that is not in the safetensors format.
    #[error("{}: not a safetensors file: {reason}", path.display())]
    NotSafetensors {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// A safetensors file whose tensors do not fit the network: every difference, listed.
    #[error(
        "{}: the tensors do not fit the network `{architecture}`:{}",
        path.display(),
        problems.iter().map(|problem| format!("\n  - {problem}")).collect::<String>()
    )]
    TensorsDoNotFit {
        /// The file.
        path: PathBuf,
        /// The network's architecture.
        architecture: &'static str,
        /// Each tensor that differs.
        problems: Vec<TensorProblem>,
    },
}

/// How one tensor of a safetensors file differs from what the network holds.
///
/// ```
/// use nn::io::TensorProblem;
///
/// let problem = TensorProblem::WrongShape { name: "0.weight".into(), expected: vec![3, 4], found: vec![4, 3] };
/// assert_eq!(problem.to_string(), "`0.weight` has shape [4, 3], but the network's is [3, 4]");
/// ```
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum TensorProblem {
    /// The network has a tensor the file lacks.
    #[error("`{name}` is missing (the network's has shape {shape:?})")]
    Missing {
        /// Its name, `2.weight`.
        name: String,
        /// The network's shape for it.
        shape: Vec<usize>,
    },
    /// The file has a tensor the network lacks.
    #[error("`{name}` (shape {shape:?}) is not a tensor of the network")]
    Unexpected {
        /// Its name.
        name: String,
        /// Its shape in the file.
        shape: Vec<usize>,
    },
    /// Both have the tensor, in different shapes.
    #[error("`{name}` has shape {found:?}, but the network's is {expected:?}")]
    WrongShape {
        /// Its name.
        name: String,
        /// The network's shape.
        expected: Vec<usize>,
        /// The file's.
        found: Vec<usize>,
    },
    /// The file stores the tensor in a type that is not converted.
    #[error("`{name}` is stored as {found}; parameters load from F32, F16 or BF16")]
    WrongDtype {
        /// Its name.
        name: String,
        /// The file's type, as safetensors names it.
        found: String,
    },
    /// The tensor holds NaN or an infinity, which no trained network does.
    #[error("`{name}` holds {value} at index {index}")]
    NotFinite {
        /// Its name.
        name: String,
        /// The index of the first such value, row-major.
        index: usize,
        /// The value.
        value: f32,
    },
}
