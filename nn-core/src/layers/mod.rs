//! Layers with parameters.

mod input_linear;
mod linear;

pub use input_linear::InputLinear;
pub use linear::Linear;
