//! Saving and loading a network's parameters.
//!
//! # The file format (version 2)
//! ```text
//! offset 0   8 bytes   magic "nn-model"
//! offset 8   header    bincode 2 (standard config) of { format_version: u32,
//!                      architecture: String, tensors: Vec<{ name: String, len: u64 }> }
//! then       data      every tensor's values, f32 little-endian, in header order
//! last       4 bytes   CRC-32 of everything before it, little-endian
//! ```
//! Tensor names follow PyTorch's `nn.Sequential` (`0.weight`, `0.bias`, `2.weight`, ...), and
//! weights are stored as the layers hold them: PyTorch's `[out, in]`, row-major, except the
//! first layer's (`0.weight`, an [`InputLinear`](crate::layers::InputLinear)), which is stored
//! input-major, `[in, out]`, the transpose. (Version 1, which held the first layer output-major
//! too, is refused rather than read transposed.)
//!
//! Loading checks, in order: the magic, the header (decoded with a 1 MiB limit, so a corrupted
//! length can never trigger a huge allocation), the format version, the file length, the
//! checksum, and the architecture; each failure is a distinct [`ModelFileError`].

mod atomic_file;
mod error;
mod model_file;

pub use error::ModelFileError;
pub(crate) use model_file::{load, save};
pub use model_file::{FORMAT_VERSION, MAGIC};
