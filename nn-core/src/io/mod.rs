//! Saving and loading a network's parameters.
//!
//! # The file format (version 4)
//! ```text
//! offset 0   8 bytes   magic "nn-model"
//! offset 8   header    bincode 2 (standard config) of { format_version: u32,
//!                      architecture: String,
//!                      tensors: Vec<{ name: String, shape: Vec<u64>, kind: Parameter | Buffer }>,
//!                      classes: Vec<String> (one name per output, or none) }
//! then       data      every tensor's values, f32 little-endian, row-major, in header order
//! last       4 bytes   CRC-32 of everything before it, little-endian
//! ```
//! Every tensor is stored as PyTorch holds it: named like `nn.Sequential`'s `state_dict`
//! (`0.weight`, `0.bias`, `2.weight`, ...), in PyTorch's layout and shape (a linear weight is
//! `[out, in]`), whatever layout the layer keeps inside. Buffers (running statistics) are stored
//! beside the parameters.
//!
//! Files of version 3 (the same without `classes`) and version 2 still load. Version 2's header
//! held each tensor's length only, and the first layer's weight input-major (`[in, out]`), which
//! is transposed on the way in. Version 1 is refused with an error that names it.
//!
//! Loading checks, in order: the magic, the header (decoded with a 1 MiB limit, so a corrupted
//! length can never trigger a huge allocation), the format version, the file length, the
//! checksum, and the architecture; each failure is a distinct [`ModelFileError`].

mod atomic_file;
mod checkpoint;
mod error;
mod model_file;
pub(crate) mod safetensors;

pub(crate) use atomic_file::write_atomically;
pub(crate) use checkpoint::{decode_state, encode_state, read_checkpoint, write_checkpoint};
pub use checkpoint::{load_checkpoint, save_checkpoint, CHECKPOINT_MAGIC};
pub use error::{ModelFileError, TensorProblem};
pub(crate) use model_file::{decode, decode_bounded, encode, load, load_with_classes, save, save_with_classes};
pub use model_file::{FORMAT_VERSION, MAGIC, OLDEST_FORMAT_VERSION};
