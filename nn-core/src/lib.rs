//! The runtime of [`nn`](https://docs.rs/nn): layers, activations, losses, optimizers,
//! initialisation, save/load and data, for networks declared at compile time with `nn::network!`.
//!
//! Most users depend on `nn` and write `use nn::prelude::*;`. This crate holds the building
//! blocks the generated code wires together, and the [`Network`] trait that generic code
//! (training steps, save/load) is written against.
//!
//! ```
//! use nn_core::activations::{Activation, ReLU};
//! use nn_core::init::Init;
//! use nn_core::layers::Linear;
//! use nn_core::losses::{CrossEntropy, Loss};
//! use rand::SeedableRng;
//!
//! // One layer and an activation, used by hand, as the generated code uses them.
//! let mut rng = rand_pcg::Pcg64Mcg::seed_from_u64(0);
//! let layer = Linear::<4, 3>::new(Init::He, &mut rng);
//! let (mut hidden, mut output) = ([0.0; 3], [0.0; 3]);
//! layer.forward(&[0.1, 0.2, 0.3, 0.4], &mut hidden);
//! ReLU.forward(&hidden, &mut output);
//! let loss = CrossEntropy.loss(&output, &nn_core::one_hot(1));
//! assert!(loss.is_finite());
//! ```
#![warn(missing_docs)]

pub mod activations;
pub mod buffers;
pub mod data;
pub mod heap;
pub mod init;
pub mod io;
pub mod kernels;
pub mod layers;
pub mod losses;
pub mod math;
mod network;
pub mod optim;
#[cfg(test)]
mod testing;
mod train;
mod workspace;

pub use network::{argmax, one_hot, Network, ParameterVisitor, ParameterVisitorMut, Update};
pub use train::TrainError;
pub use workspace::Workspace;
