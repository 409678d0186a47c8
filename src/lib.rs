//! Neural networks declared at compile time.
//!
//! [`network!`] turns a layer list into a struct with fixed-size parameters and straight-line
//! forward and backward code. Shapes are checked by the macro: a layer that does not fit is a
//! compile error pointing at it.
//!
//! ```
//! use nn::prelude::*;
//!
//! network! {
//!     /// Learns XOR.
//!     pub struct Xor {
//!         Linear(2, 8) -> Tanh -> Linear(8, 1) -> Sigmoid
//!     }
//! }
//!
//! let mut rng = nn::Pcg64Mcg::seed_from_u64(1);
//! let mut net = Xor::new(&mut rng);
//! let mut workspace = net.workspace();
//! let mut sgd = Sgd::new(0.5);
//! let samples = [([0.0, 0.0], [0.0]), ([0.0, 1.0], [1.0]), ([1.0, 0.0], [1.0]), ([1.0, 1.0], [0.0])];
//! for _ in 0..2000 {
//!     for (input, target) in &samples {
//!         net.train_step(&mut workspace, input, target, &Mse, &mut sgd)?;
//!     }
//! }
//! for (input, target) in &samples {
//!     assert!((net.forward(input)[0] - target[0]).abs() < 0.2);
//! }
//! # Ok::<(), nn::TrainError>(())
//! ```
//!
//! See the README for the DSL, the generated API, data loading and save/load.
#![warn(missing_docs)]

pub use nn_core::{argmax, data, init, io, layers, losses, one_hot, optim, Network, TrainError, Workspace};
/// The random number generators `Network::new` takes, re-exported so the versions match.
pub use rand;
/// The seeded random number generator of the examples: PCG-64 in its MCG variant, from
/// `rand_pcg`, whose output for a given seed is fixed by that crate (`rand`'s `StdRng` may change
/// its algorithm between releases). [`Network::new`] takes any [`rand::Rng`].
pub use rand_pcg::Pcg64Mcg;
/// The thread pool behind batch steps: `rayon::ThreadPoolBuilder` sets the thread count.
pub use rayon;

/// Declares one or more networks.
///
/// ```
/// nn::network! {
///     /// The 784-100-10 MLP.
///     pub struct MnistMlp {
///         Linear(784, 100) -> Sigmoid -> Linear(100, 10)
///     }
///
///     struct Classifier {
///         Linear(784, 128) -> LeakyReLU(0.1) -> Linear(128, 10)
///     }
/// }
/// assert_eq!(MnistMlp::PARAMETERS, 79_510);
/// assert_eq!(Classifier::ARCHITECTURE, "Linear(784, 128) -> LeakyReLU(0.1) -> Linear(128, 10)");
/// ```
///
/// Layers: `Linear(in, out)`, `Sigmoid`, `ReLU`, `LeakyReLU` (slope 0.01) or `LeakyReLU(slope)`,
/// `Tanh`, `SiLU`, `Softmax`, joined by `->`. Sizes are integers or integer arithmetic
/// (`Linear(28 * 28, 100)`). Each declared struct has one public field per layer (`layer0`,
/// `layer1`, ...), derives `Clone`, `Debug` and `PartialEq`, gets the constants `INPUTS`,
/// `OUTPUTS`, `PARAMETERS` and `ARCHITECTURE`, and implements [`Network`].
#[macro_export]
macro_rules! network {
    ($($items:tt)*) => {
        $crate::__private::network_impl! { ($crate) $($items)* }
    };
}

/// Everything a program that trains networks needs in scope.
pub mod prelude {
    pub use crate::network;
    pub use nn_core::data::mnist::Mnist;
    pub use nn_core::data::Dataset;
    pub use nn_core::losses::{CrossEntropy, Loss, Mse};
    pub use nn_core::optim::{Optimizer, Sgd};
    pub use nn_core::{argmax, one_hot, Network, TrainError, Workspace};
    pub use rand::SeedableRng;
}

/// The paths generated code uses. Not public API.
#[doc(hidden)]
pub mod __private {
    pub use nn_core::buffers::{grow_rows, largest, split_gradients, split_gradients_option, split_gradients_shared};
    pub use nn_core::heap::{zeroed_array, CacheAligned};
    pub use nn_core::init::Init;
    pub use nn_core::layers::*;
    pub use nn_core::{buffers, heap, kernels, math};
    pub use nn_core::{Network, Sequential};
    pub use nn_macros::network_impl;
    pub use rand::Rng;
}

/// The README's Rust examples, compiled and run as doc tests so they stay true.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
