//! The runtime of [`nn`](https://docs.rs/nn): layers, losses, optimizers, initialisation,
//! save/load and data, for networks declared at compile time with `nn::network!`.
//!
//! Most users depend on `nn` and write `use nn::prelude::*;`. This crate holds the building
//! blocks the generated code wires together: the [`Layer`](layers::Layer) contract every layer
//! keeps, the layers themselves, and the [`Network`] trait that generic code (training steps,
//! save/load) is written against.
//!
//! ```
//! use nn::init::Init;
//! use nn::layers::{Layer, Linear, ReLU};
//! use nn::losses::{CrossEntropy, Loss};
//! use nn::prelude::*;
//!
//! // One layer and an activation, used by hand, as the generated code uses them.
//! let mut rng = nn::Pcg64Mcg::seed_from_u64(0);
//! let layer = Linear::<4, 3>::new(Init::He, &mut rng);
//! let (mut hidden, mut output) = ([0.0; 3], [0.0; 3]);
//! layer.infer(&[0.1, 0.2, 0.3, 0.4], &mut hidden);
//! Layer::<3, 3>::infer(&ReLU, &hidden, &mut output);
//! let loss = CrossEntropy.loss(&output, &nn::one_hot(1));
//! assert!(loss.is_finite());
//! ```

#[doc(hidden)]
pub mod buffers;
#[doc(hidden)]
pub mod counting_allocator;
pub mod data;
pub mod fit;
#[doc(hidden)]
pub mod heap;
pub mod init;
pub mod io;
#[doc(hidden)]
pub mod kernels;
mod layer;
pub mod layers;
pub mod losses;
#[doc(hidden)]
pub mod math;
pub mod metrics;
mod network;
pub mod optim;
#[cfg(feature = "plot")]
pub mod plot;
#[cfg(test)]
mod testing;
mod train;
mod workspace;

pub use network::{argmax, one_hot, to_array, LengthMismatch, Network, Sequential};
pub use train::TrainError;
pub use workspace::Workspace;
