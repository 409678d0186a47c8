//! Optimizers: how parameters move given their gradients. Each follows PyTorch's update rule
//! and defaults (`torch.optim.SGD`, `Adam`, `AdamW`, `RMSprop`), checked against PyTorch's
//! parameters after several steps (`tests/optimizers.rs`).

mod adam;
mod clip;
mod optimizer;
mod rms_prop;
mod sgd;

pub use adam::Adam;
pub use clip::{Clip, Clipped};
pub use optimizer::{InvalidHyperParameter, Optimizer};
pub use rms_prop::RmsProp;
pub use sgd::Sgd;
