//! The layers, one file each, and the [`Layer`] contract they keep.

mod avg_pool2d;
mod batch_norm;
mod conv2d;
mod deferred;
mod dropout;
mod elementwise;
mod flatten;
mod input_linear;
mod leaky_relu;
mod linear;
mod max_pool2d;
mod normalize;
mod pool;
mod relu;
mod sigmoid;
mod silu;
mod softmax;
mod tanh;

/// The heap storage of layers' parameters and buffers, which their public fields expose.
pub use crate::heap::{AlignedBuffer, CacheAligned};
pub use crate::layer::{
    Context, FusedReLU, FusedReLUMaxPool, Layer, Mode, Tensor, TensorKind, TensorMut, TensorName, Update, BLOCK_SAMPLES,
};
pub use avg_pool2d::AvgPool2d;
pub use batch_norm::{BatchNorm, BatchNorm1d, BatchNormCache};
pub use conv2d::{Conv2d, ConvScratch};
#[doc(hidden)]
pub use deferred::DeferredUpdates;
pub use dropout::Dropout;
pub use elementwise::Elementwise;
pub use flatten::Flatten;
pub use input_linear::InputLinear;
pub use leaky_relu::LeakyReLU;
pub use linear::Linear;
pub use max_pool2d::MaxPool2d;
pub use normalize::Normalize;
pub use relu::ReLU;
pub use sigmoid::Sigmoid;
pub use silu::SiLU;
pub use softmax::Softmax;
pub use tanh::Tanh;
