//! Optimizers: how parameters move given their gradients.

mod optimizer;
mod sgd;

pub use optimizer::Optimizer;
pub use sgd::Sgd;
