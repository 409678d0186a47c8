//! Optimizers: how parameters move given their gradients. Each follows PyTorch's update rule
//! and defaults (`torch.optim.SGD`, `Adam`, `AdamW`, `RMSprop`), checked against PyTorch's
//! parameters after several steps (`tests/optimizers.rs`); the learning-rate schedules follow
//! `torch.optim.lr_scheduler`'s, checked against its rates.

mod adam;
mod clip;
mod optimizer;
mod rms_prop;
mod schedule;
mod sgd;

pub use adam::Adam;
pub use clip::{Clip, Clipped};
pub use optimizer::{InvalidHyperParameter, Optimizer};
pub use rms_prop::RmsProp;
pub use schedule::{
    CosineAnnealing, ExponentialDecay, LinearWarmUp, MultiStepDecay, OneCycle, ReduceOnPlateau, Schedule, Scheduler,
    StepDecay,
};
pub use sgd::Sgd;
