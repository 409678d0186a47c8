//! The layers, one file each, and the [`Layer`] contract they keep.

mod deferred;
mod elementwise;
mod input_linear;
mod leaky_relu;
mod linear;
mod relu;
mod sigmoid;
mod silu;
mod softmax;
mod tanh;

pub use crate::layer::{Context, Layer, Mode, Tensor, TensorKind, TensorMut, TensorName, Update, BLOCK_SAMPLES};
#[doc(hidden)]
pub use deferred::DeferredUpdates;
pub use elementwise::Elementwise;
pub use input_linear::InputLinear;
pub use leaky_relu::LeakyReLU;
pub use linear::Linear;
pub use relu::ReLU;
pub use sigmoid::Sigmoid;
pub use silu::SiLU;
pub use softmax::Softmax;
pub use tanh::Tanh;
