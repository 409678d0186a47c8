#![doc = include_str!("../README.md")]

/// The random number generators `Network::new` takes, re-exported so the versions match.
#[cfg(feature = "plot")]
pub use nn_core::plot;
pub use nn_core::{
    argmax, data, fit, init, io, layers, losses, metrics, one_hot, optim, to_array, LengthMismatch, Network,
    TrainError, Workspace,
};
pub use rand;
/// The seeded random number generator of the examples: PCG-64 in its MCG variant, from
/// `rand_pcg`, whose output for a given seed is fixed by that crate (`rand`'s `StdRng` may change
/// its algorithm between releases). [`Network::new`] takes any [`rand::Rng`].
///
/// ```
/// use nn::rand::{Rng, SeedableRng};
///
/// let mut a = nn::Pcg64Mcg::seed_from_u64(42);
/// let mut b = nn::Pcg64Mcg::seed_from_u64(42);
/// assert_eq!(a.random::<u32>(), b.random::<u32>());
/// ```
pub use rand_pcg::Pcg64Mcg;
/// The thread pool behind batch steps: `rayon::ThreadPoolBuilder` sets the thread count.
///
/// ```
/// use nn::prelude::*;
///
/// network! { struct Net { Linear(4, 2) } }
/// let pool = nn::rayon::ThreadPoolBuilder::new().num_threads(1).build().unwrap();
/// let net = Net::zeroed();
/// let mut outputs = [[1.0; 2]; 8];
/// pool.install(|| net.forward_batch(&mut net.workspace(), &[[0.5; 4]; 8], &mut outputs))?;
/// assert_eq!(outputs, [[0.0; 2]; 8]);
/// # Ok::<(), nn::TrainError>(())
/// ```
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
/// Layers, joined by `->`: `Linear(in, out)`, `Conv2d(in, out, kernel, stride = s, padding =
/// p)`, `MaxPool2d(kernel)`, `AvgPool2d(kernel)`, `Flatten`, `Dropout(p)`, `BatchNorm1d(n)`,
/// `BatchNorm2d(c)`, `Sigmoid`, `ReLU`, `LeakyReLU` or `LeakyReLU(slope)`, `Tanh`, `SiLU`,
/// `Softmax`; the crate root's table gives each one's shape rule. A network that starts with a
/// convolution declares its input shape after its name (`struct LeNet: [1, 28, 28] { ... }`).
/// Sizes are integers or integer arithmetic (`Linear(28 * 28, 100)`).
///
/// Each declared struct has one public field per layer (`layer0`, `layer1`, ...), derives
/// `Clone`, `Debug` and `PartialEq`, gets the constants `INPUTS`, `OUTPUTS`, `PARAMETERS` and
/// `ARCHITECTURE`, and implements [`Network`]. Beside it the macro declares `NameBuffers` and
/// `NameBatchBuffers`, the per-sample and per-batch activation buffers that a [`Workspace`]
/// holds.
#[macro_export]
macro_rules! network {
    ($($items:tt)*) => {
        $crate::__private::network_impl! { ($crate) $($items)* }
    };
}

/// Everything a program that trains networks needs in scope: the macro, the [`Network`] trait,
/// the losses, [`Sgd`](nn_core::optim::Sgd), the MNIST data and `SeedableRng` for
/// `nn::Pcg64Mcg::seed_from_u64`.
///
/// ```
/// use nn::prelude::*;
///
/// network! { struct Net { Linear(2, 2) -> ReLU -> Linear(2, 2) } }
///
/// let mut net = Net::new(&mut nn::Pcg64Mcg::seed_from_u64(0));
/// let mut workspace = net.workspace();
/// net.train_step(&mut workspace, &[1.0, 0.0], &one_hot(1), &CrossEntropy, &mut Sgd::new(0.1))?;
/// # Ok::<(), TrainError>(())
/// ```
pub mod prelude {
    pub use crate::network;
    pub use nn_core::data::mnist::Mnist;
    pub use nn_core::data::Dataset;
    pub use nn_core::losses::{CrossEntropy, Loss, Mse};
    pub use nn_core::optim::{Adam, Optimizer, RmsProp, Sgd};
    pub use nn_core::{argmax, one_hot, Network, TrainError, Workspace};
    pub use rand::SeedableRng;
}

/// The paths generated code uses. Not public API.
#[doc(hidden)]
pub mod __private {
    pub use nn_core::buffers::{grow_rows, largest, split_gradients, split_gradients_option, split_gradients_shared};
    pub use nn_core::counting_allocator::{allocations_in, CountingAllocator};
    pub use nn_core::heap::{zeroed_array, CacheAligned};
    pub use nn_core::init::Init;
    pub use nn_core::layers::*;
    pub use nn_core::{buffers, heap, kernels, math};
    pub use nn_core::{Network, Sequential};
    pub use nn_macros::network_impl;
    pub use rand::Rng;
}
