//! The contract between a layer, the code `network!` generates, and the generic code (training,
//! optimizers, save/load) that works on any network.
//!
//! The generated code calls every layer through [`Layer`], the same call for every kind: the
//! layer's pass on the previous layer's output. What a pass needs beyond its input and output
//! (a dropout mask, batch statistics, deferred updates) lives in the layer's own cache, which the
//! network's buffers hold. The mode and a seeded random number generator reach every layer
//! through the [`Context`] of the pass. Tensors leave a layer in PyTorch's layout, with their
//! shapes, whatever the layer keeps inside.

use crate::kernels::PanelScratch;
use rand::SeedableRng;
use rand_pcg::Pcg64Mcg;
use std::fmt;

/// Whether a pass trains the network or only runs it.
///
/// Inference (`forward`, `forward_batch`, `predict`, `accuracy`) runs in [`Eval`](Mode::Eval);
/// training steps run in [`Train`](Mode::Train). Layers such as dropout and batch normalization
/// behave differently in the two.
///
/// ```
/// use nn::layers::{Context, Dropout, Layer, Mode};
///
/// let dropout = Dropout::new(0.5);
/// let mut context = Context::new(Mode::Eval, 0);
/// let mut y = [0.0; 4];
/// dropout.forward(&mut context, &mut Default::default(), &[1.0; 4], &mut y);
/// assert_eq!(y, [1.0; 4]); // the identity in eval mode
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// A training step: stochastic layers draw from the context's generator, statistics come
    /// from the batch.
    Train,
    /// Inference: deterministic, with stored statistics.
    Eval,
}

/// What a pass hands to every layer: the [`Mode`], a seeded random number generator, and the
/// scratch space of the kernels.
///
/// A [`Workspace`](crate::Workspace) owns one for training; inference makes its own.
///
/// ```
/// use nn::layers::{Context, Mode};
/// use nn::rand::Rng;
///
/// let mut context = Context::new(Mode::Train, 7);
/// let drawn: f32 = context.rng().random();
/// assert!((0.0..1.0).contains(&drawn));
/// assert_eq!(context.mode(), Mode::Train);
/// ```
pub struct Context {
    mode: Mode,
    rng: Pcg64Mcg,
    pub(crate) scratch: PanelScratch,
}

impl Context {
    /// A context in `mode` whose generator is seeded with `seed`.
    ///
    /// ```
    /// use nn::layers::{Context, Mode};
    /// assert_eq!(Context::new(Mode::Eval, 3).mode(), Mode::Eval);
    /// ```
    pub fn new(mode: Mode, seed: u64) -> Self {
        Self { mode, rng: Pcg64Mcg::seed_from_u64(seed), scratch: PanelScratch::default() }
    }

    /// The mode of the passes that receive this context.
    ///
    /// ```
    /// use nn::layers::{Context, Mode};
    /// assert_eq!(Context::new(Mode::Train, 0).mode(), Mode::Train);
    /// ```
    pub fn mode(&self) -> Mode {
        self.mode
    }

    /// Switches the mode.
    ///
    /// ```
    /// use nn::layers::{Context, Mode};
    /// let mut context = Context::new(Mode::Train, 0);
    /// context.set_mode(Mode::Eval);
    /// assert_eq!(context.mode(), Mode::Eval);
    /// ```
    pub fn set_mode(&mut self, mode: Mode) {
        self.mode = mode;
    }

    /// The generator stochastic layers draw from.
    ///
    /// ```
    /// use nn::layers::{Context, Mode};
    /// use nn::rand::Rng;
    ///
    /// let (mut a, mut b) = (Context::new(Mode::Train, 5), Context::new(Mode::Train, 5));
    /// assert_eq!(a.rng().random::<u64>(), b.rng().random::<u64>());
    /// ```
    pub fn rng(&mut self) -> &mut Pcg64Mcg {
        &mut self.rng
    }

    /// Restarts the generator from `seed`.
    ///
    /// ```
    /// use nn::layers::{Context, Mode};
    /// use nn::rand::Rng;
    ///
    /// let mut context = Context::new(Mode::Train, 5);
    /// let first: u64 = context.rng().random();
    /// context.reseed(5);
    /// assert_eq!(context.rng().random::<u64>(), first);
    /// ```
    pub fn reseed(&mut self, seed: u64) {
        self.rng = Pcg64Mcg::seed_from_u64(seed);
    }
}

impl fmt::Debug for Context {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Context").field("mode", &self.mode).finish_non_exhaustive()
    }
}

/// How a backward pass treats the gradients of the parameters.
///
/// ```
/// use nn::layers::{Context, Layer, Linear, Mode, Update};
///
/// let mut layer = Linear::<1, 1>::zeroed();
/// let mut context = Context::new(Mode::Train, 0);
/// let mut gradients = [0.0; 2];
/// let update = Update::Sgd { learning_rate: 0.5 };
/// layer.backward(&mut context, &mut (), &[2.0], &[0.0], &[1.0], None, &mut gradients, update);
/// assert_eq!((layer.weight[0][0], layer.bias[0]), (-1.0, -0.5));
/// ```
///
/// A plain SGD step runs the backward pass twice over: first [`Propagate`](Update::Propagate),
/// which computes every layer's input gradient and changes nothing, so that the step can check
/// what every layer's update will be made of ([`Layer::gradient_bound`]) before any layer
/// changes; then [`Sgd`](Update::Sgd) without input gradients, which applies the updates.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Update {
    /// Store the parameter gradients in the gradient slice (see each pass for whether it adds
    /// or overwrites).
    Accumulate,
    /// Apply plain SGD at once, `p -= learning_rate * g` (fused into the sweep that computes
    /// `dx` over each weight, when `dx` is asked for); the gradient slice may be used as scratch.
    Sgd {
        /// The SGD step size.
        learning_rate: f32,
    },
    /// Only compute `dx`: the parameters, the gradient slice and any statistics a pass would
    /// update stay as they are.
    Propagate,
}

/// Whether a tensor is trained or only stored.
///
/// ```
/// use nn::prelude::*;
/// use nn::layers::TensorKind;
///
/// network! { struct Net { Linear(4, 4) -> BatchNorm1d(4) } }
/// let mut buffers = Vec::new();
/// Net::zeroed().visit_tensors(&mut |tensor| {
///     if tensor.kind == TensorKind::Buffer {
///         buffers.push(tensor.name.to_string());
///     }
/// });
/// assert_eq!(buffers, ["1.running_mean", "1.running_var", "1.num_batches_tracked"]);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TensorKind {
    /// A trainable parameter: it has gradients and optimizers move it.
    Parameter,
    /// A buffer, such as running statistics: saved, loaded and exported, never handed to an
    /// optimizer.
    Buffer,
}

/// The name of a tensor in a network, as PyTorch's `nn.Sequential` names it: the layer's
/// position (activations count) and the tensor's name within the layer.
///
/// ```
/// let name = nn::layers::TensorName { layer: 2, tensor: "weight" };
/// assert_eq!(name.to_string(), "2.weight");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct TensorName {
    /// The layer's position in the network, from 0.
    pub layer: usize,
    /// The tensor's name within the layer: `weight`, `bias`, `running_mean`, ...
    pub tensor: &'static str,
}

impl fmt::Display for TensorName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.layer, self.tensor)
    }
}

/// One tensor as it leaves a layer: in PyTorch's layout (row-major over `shape`), whatever the
/// layer stores inside.
///
/// ```
/// use nn::prelude::*;
///
/// network! { struct Net { Linear(3, 2) } }
/// let mut shapes = Vec::new();
/// Net::zeroed().visit_tensors(&mut |tensor| shapes.push((tensor.name.to_string(), tensor.shape.to_vec())));
/// assert_eq!(shapes, [("0.weight".to_string(), vec![2, 3]), ("0.bias".to_string(), vec![2])]);
/// ```
#[derive(Clone, Copy, Debug)]
pub struct Tensor<'a> {
    /// Its name, `0.weight`.
    pub name: TensorName,
    /// Its shape in PyTorch's layout: `[out, in]` for a linear weight.
    pub shape: &'a [usize],
    /// Parameter or buffer.
    pub kind: TensorKind,
    /// The values, row-major over `shape`.
    pub values: &'a [f32],
    /// The gradients, laid out like `values`, when the visit was given gradients and the tensor
    /// is a parameter.
    pub gradients: Option<&'a [f32]>,
}

/// One tensor of a layer, writable, in PyTorch's layout. A layer that stores the tensor in
/// another layout converts after the visitor returns.
///
/// ```
/// use nn::prelude::*;
///
/// network! { struct Net { Linear(3, 2) } }
/// let mut net = Net::zeroed();
/// net.visit_tensors_mut(&mut |tensor| {
///     if tensor.name.to_string() == "0.bias" {
///         tensor.values.copy_from_slice(&[1.0, 2.0]);
///     }
/// });
/// assert_eq!(net.forward(&[0.0; 3]), [1.0, 2.0]);
/// ```
#[derive(Debug)]
pub struct TensorMut<'a> {
    /// Its name, `0.weight`.
    pub name: TensorName,
    /// Its shape in PyTorch's layout.
    pub shape: &'a [usize],
    /// Parameter or buffer.
    pub kind: TensorKind,
    /// The values, row-major over `shape`.
    pub values: &'a mut [f32],
}

/// A layer with `I` input values and `O` output values per sample: its passes for one sample and
/// for a batch of rows, and its tensors.
///
/// The code `network!` generates calls these in order, layer after layer; generic code never
/// calls the kernels behind them. A layer's parameter gradients are one slice of
/// [`PARAMETERS`](Layer::PARAMETERS) values, laid out as the layer stores its parameters (the
/// network's flat gradient buffer is these slices, layer after layer).
///
/// ```
/// use nn::layers::{Context, Layer, Linear, Mode, ReLU, Update};
///
/// let mut layer = Linear::<2, 1>::zeroed();
/// layer.weight[0] = [1.0, -1.0];
/// let (x, mut y) = ([3.0, 1.0], [0.0]);
/// Layer::infer(&layer, &x, &mut y);
/// assert_eq!(y, [2.0]);
///
/// let mut relu_output = [0.0];
/// Layer::<1, 1>::infer(&ReLU, &[-2.0], &mut relu_output);
/// assert_eq!(relu_output, [0.0]);
///
/// // One SGD step on `L = y`: the weights move against `x`.
/// let mut context = Context::new(Mode::Train, 0);
/// let mut cache = Layer::<2, 1>::cache(&layer);
/// let mut gradients = [0.0; 3];
/// Layer::backward(&mut layer, &mut context, &mut cache, &x, &y, &[1.0], None, &mut gradients, Update::Sgd { learning_rate: 0.5 });
/// assert_eq!(layer.weight[0], [-0.5, -1.5]);
/// ```
pub trait Layer<const I: usize, const O: usize>: Clone + fmt::Debug + PartialEq + Send + Sync {
    /// The number of trainable values.
    ///
    /// ```
    /// use nn::layers::{Conv2d, Layer, Linear, ReLU};
    ///
    /// assert_eq!(<Linear<3, 2> as Layer<3, 2>>::PARAMETERS, 8);
    /// assert_eq!(<Conv2d<1, 2, 3, 3, 1, 1, 0, 0, 5, 5, 3, 3> as Layer<25, 18>>::PARAMETERS, 20);
    /// assert_eq!(<ReLU as Layer<4, 4>>::PARAMETERS, 0);
    /// ```
    const PARAMETERS: usize;

    /// The multiply-adds of one sample's forward pass, roughly: how generic code judges whether
    /// a batch is worth spreading over threads. A dense layer's is its parameter count.
    ///
    /// ```
    /// use nn::layers::{Conv2d, Layer};
    ///
    /// // Each of the 2 x 3 x 3 outputs takes 9 multiply-adds.
    /// assert_eq!(<Conv2d<1, 2, 3, 3, 1, 1, 0, 0, 5, 5, 3, 3> as Layer<25, 18>>::MULTIPLY_ADDS, 2 * 3 * 3 * 9);
    /// ```
    const MULTIPLY_ADDS: usize = Self::PARAMETERS;

    /// The fewest rows a train-mode pass needs: 2 for a batch normalization with one value per
    /// channel, whose variance over one row is meaningless; 1 for every other layer.
    ///
    /// ```
    /// use nn::layers::{BatchNorm, BatchNorm1d, Layer, Linear};
    ///
    /// assert_eq!(<BatchNorm1d<4> as Layer<4, 4>>::TRAINING_ROWS, 2);
    /// assert_eq!(<BatchNorm<4, 9> as Layer<36, 36>>::TRAINING_ROWS, 1); // 9 values per channel in a row
    /// assert_eq!(<Linear<4, 4> as Layer<4, 4>>::TRAINING_ROWS, 1);
    /// ```
    const TRAINING_ROWS: usize = 1;
    /// Whether a train-mode batch pass computes statistics across the batch's rows (batch
    /// normalization), so that a row's output depends on the other rows: such a batch cannot be
    /// split into shards that run the whole network on their own.
    ///
    /// ```
    /// use nn::layers::{BatchNorm, Conv2d, Layer};
    ///
    /// assert!(<BatchNorm<2, 9> as Layer<18, 18>>::BATCH_STATISTICS);
    /// assert!(!<Conv2d<1, 2, 3, 3, 1, 1, 0, 0, 5, 5, 3, 3> as Layer<25, 18>>::BATCH_STATISTICS);
    /// ```
    const BATCH_STATISTICS: bool = false;

    /// What a single-sample pass keeps for the backward pass beyond the input and output.
    ///
    /// ```
    /// use nn::layers::{Context, Dropout, Layer, Mode};
    ///
    /// // Dropout keeps its mask for the backward pass.
    /// let dropout = Dropout::new(0.5);
    /// let mut cache = Layer::<4, 4>::cache(&dropout);
    /// let mut y = [0.0; 4];
    /// dropout.forward(&mut Context::new(Mode::Train, 1), &mut cache, &[1.0; 4], &mut y);
    /// assert_eq!(cache, y); // the mask: 0 or 2 for each value of ones
    /// ```
    type Cache: Send;
    /// What a batch pass keeps for the backward pass beyond the inputs and outputs.
    ///
    /// ```
    /// use nn::layers::{Context, Layer, MaxPool2d, Mode};
    ///
    /// // Max pooling keeps where each window's maximum was.
    /// let pool = MaxPool2d::<1, 2, 2, 2, 2, 2, 2, 1, 1>::default();
    /// let mut cache = Layer::<4, 1>::batch_cache(&pool);
    /// let mut y = [[0.0]];
    /// pool.forward_rows(&mut Context::new(Mode::Train, 0), &mut cache, &[[1.0, 4.0, 2.0, 3.0]], &mut y);
    /// assert_eq!(y, [[4.0]]);
    /// ```
    type BatchCache: Send;

    /// A fresh cache for single-sample passes (allocated on the heap where it is large).
    ///
    /// ```
    /// use nn::layers::{Layer, Linear};
    ///
    /// let layer = Linear::<2, 2>::zeroed();
    /// let () = layer.cache(); // a dense layer needs nothing beyond its input
    /// ```
    fn cache(&self) -> Self::Cache;

    /// A fresh cache for batch passes; it grows to the largest batch.
    ///
    /// ```
    /// use nn::layers::{Dropout, Layer};
    ///
    /// let cache = Layer::<4, 4>::batch_cache(&Dropout::new(0.5));
    /// assert!(cache.is_empty()); // the masks of a batch: sized by its first pass
    /// ```
    fn batch_cache(&self) -> Self::BatchCache;

    /// `y = f(x)` in eval mode, for inference: no cache, no context, nothing allocated.
    ///
    /// ```
    /// use nn::layers::{Layer, Linear};
    ///
    /// let mut layer = Linear::<2, 1>::zeroed();
    /// layer.weight[0] = [2.0, 1.0];
    /// let mut y = [0.0];
    /// layer.infer(&[1.0, 1.0], &mut y);
    /// assert_eq!(y, [3.0]);
    /// ```
    fn infer(&self, x: &[f32; I], y: &mut [f32; O]);

    /// `y = f(x)` in the context's mode, keeping in `cache` what [`backward`](Layer::backward)
    /// needs. Layers that behave the same in both modes and need no cache leave this to
    /// [`infer`](Layer::infer).
    ///
    /// ```
    /// use nn::layers::{Context, Dropout, Layer, Mode};
    ///
    /// let dropout = Dropout::new(0.5);
    /// let mut cache = Layer::<8, 8>::cache(&dropout);
    /// let mut y = [0.0; 8];
    /// dropout.forward(&mut Context::new(Mode::Train, 3), &mut cache, &[1.0; 8], &mut y);
    /// assert!(y.iter().all(|&v| v == 0.0 || v == 2.0)); // inverted dropout: kept values scaled by 2
    /// ```
    fn forward(&self, context: &mut Context, cache: &mut Self::Cache, x: &[f32; I], y: &mut [f32; O]) {
        let _ = (context, cache);
        self.infer(x, y);
    }

    /// Back-propagates `dy = ∂L/∂y` through the last [`forward`](Layer::forward), whose input was
    /// `x` and output `y`: writes `∂L/∂x` into `dx` when given (a first layer passes `None`),
    /// and with [`Update::Accumulate`] adds the parameter gradients to `gradients`, with
    /// [`Update::Sgd`] applies them at once, or with [`Update::Propagate`] leaves them.
    ///
    /// ```
    /// use nn::layers::{Context, Layer, Mode, Sigmoid, Update};
    ///
    /// let mut context = Context::new(Mode::Train, 0);
    /// let (x, mut y) = ([0.0], [0.0]);
    /// Layer::<1, 1>::forward(&Sigmoid, &mut context, &mut (), &x, &mut y);
    /// let mut dx = [0.0];
    /// Layer::<1, 1>::backward(&mut Sigmoid, &mut context, &mut (), &x, &y, &[1.0], Some(&mut dx), &mut [], Update::Accumulate);
    /// assert_eq!(dx, [0.25]);
    /// ```
    #[allow(clippy::too_many_arguments)]
    fn backward(
        &mut self,
        context: &mut Context,
        cache: &mut Self::Cache,
        x: &[f32; I],
        y: &[f32; O],
        dy: &[f32; O],
        dx: Option<&mut [f32; I]>,
        gradients: &mut [f32],
        update: Update,
    );

    /// [`forward`](Layer::forward) on every row of a batch.
    ///
    /// ```
    /// use nn::layers::{Context, Layer, Linear, Mode};
    ///
    /// let mut layer = Linear::<1, 1>::zeroed();
    /// layer.weight[0] = [3.0];
    /// let mut y = [[0.0]; 2];
    /// layer.forward_rows(&mut Context::new(Mode::Eval, 0), &mut (), &[[1.0], [2.0]], &mut y);
    /// assert_eq!(y, [[3.0], [6.0]]);
    /// ```
    fn forward_rows(&self, context: &mut Context, cache: &mut Self::BatchCache, x: &[[f32; I]], y: &mut [[f32; O]]);

    /// Back-propagates a batch through the last [`forward_rows`](Layer::forward_rows): writes
    /// `dx[r]` when given, and with [`Update::Accumulate`] writes the parameter gradients summed
    /// over the rows into `gradients` (overwriting them), with [`Update::Sgd`] applies them, or
    /// with [`Update::Propagate`] leaves them.
    ///
    /// ```
    /// use nn::layers::{Context, Layer, Linear, Mode, Update};
    ///
    /// let mut layer = Linear::<1, 1>::zeroed();
    /// let mut context = Context::new(Mode::Train, 0);
    /// let (x, mut y) = ([[1.0], [2.0]], [[0.0]; 2]);
    /// layer.forward_rows(&mut context, &mut (), &x, &mut y);
    /// let mut gradients = [0.0; 2];
    /// layer.backward_rows(&mut context, &mut (), &x, &y, &[[1.0], [1.0]], None, &mut gradients, Update::Accumulate);
    /// assert_eq!(gradients, [3.0, 2.0]); // Σ dy·x for the weight, Σ dy for the bias
    /// ```
    #[allow(clippy::too_many_arguments)]
    fn backward_rows(
        &mut self,
        context: &mut Context,
        cache: &mut Self::BatchCache,
        x: &[[f32; I]],
        y: &[[f32; O]],
        dy: &[[f32; O]],
        dx: Option<&mut [[f32; I]]>,
        gradients: &mut [f32],
        update: Update,
    );

    /// Makes the statistics of the last train-mode [`forward`](Layer::forward) part of the
    /// layer (batch normalization's running mean and variance). A training step calls it once
    /// it has applied its update, so that a refused step changes nothing. Nothing by default.
    ///
    /// ```
    /// use nn::layers::{BatchNorm, Context, Layer, Mode};
    ///
    /// let mut norm = BatchNorm::<1, 4>::new();
    /// let mut cache = Layer::<4, 4>::cache(&norm);
    /// let mut y = [0.0; 4];
    /// Layer::<4, 4>::forward(&norm, &mut Context::new(Mode::Train, 0), &mut cache, &[1.0, 2.0, 3.0, 6.0], &mut y);
    /// assert_eq!(norm.running_mean[..], [0.0]); // not yet
    /// Layer::<4, 4>::commit(&mut norm, &cache);
    /// assert_eq!(norm.running_mean[..], [0.3]); // momentum 0.1 towards the batch's mean, 3
    /// ```
    fn commit(&mut self, cache: &Self::Cache) {
        let _ = cache;
    }

    /// [`commit`](Layer::commit) after a [`forward_rows`](Layer::forward_rows).
    ///
    /// ```
    /// use nn::layers::{BatchNorm1d, Context, Layer, Mode};
    ///
    /// let mut norm = BatchNorm1d::<1>::new();
    /// let mut cache = Layer::<1, 1>::batch_cache(&norm);
    /// let mut y = [[0.0]; 2];
    /// Layer::<1, 1>::forward_rows(&norm, &mut Context::new(Mode::Train, 0), &mut cache, &[[1.0], [3.0]], &mut y);
    /// Layer::<1, 1>::commit_rows(&mut norm, &cache);
    /// assert_eq!(norm.running_mean[..], [0.2]);
    /// ```
    fn commit_rows(&mut self, cache: &Self::BatchCache) {
        let _ = cache;
    }

    /// An upper bound on the magnitude of every parameter gradient of a backward pass whose input
    /// rows were `x` and output gradients `dy` (summed over the rows): NaN or infinite when a
    /// value it depends on is. Computed from the largest magnitudes of `x` and `dy`, before the
    /// gradients themselves, so that a training step can refuse an update that would make a
    /// parameter NaN or infinite before any layer has changed. 0 for a layer without
    /// parameters; a layer with parameters must give one (the default, NaN, refuses every
    /// step).
    ///
    /// ```
    /// use nn::layers::{Layer, Linear, ReLU};
    ///
    /// // ∂W = Σ_r dy[r] x[r]ᵀ: at most Σ_r max|dy[r]| · max|x[r]| (the bias's at most Σ_r max|dy[r]|).
    /// let bound = Layer::<2, 1>::gradient_bound(&Linear::<2, 1>::zeroed(), &[[3.0, -4.0], [1.0, 0.0]], &[[0.5], [-2.0]]);
    /// assert_eq!(bound, 0.5 * 4.0 + 2.0 * 1.0);
    /// assert_eq!(Layer::<2, 2>::gradient_bound(&ReLU, &[[1.0, 2.0]], &[[f32::NAN, 0.0]]), 0.0);
    /// ```
    fn gradient_bound(&self, x: &[[f32; I]], dy: &[[f32; O]]) -> f64 {
        let _ = (x, dy);
        if Self::PARAMETERS == 0 {
            0.0
        } else {
            f64::NAN
        }
    }

    /// Calls `visitor` with each tensor in PyTorch's layout, named for position `layer`, with its
    /// slice of `gradients` (this layer's, laid out as in [`backward`](Layer::backward)) beside
    /// the values of each parameter when given.
    ///
    /// ```
    /// use nn::layers::{Layer, Linear};
    ///
    /// let mut names = Vec::new();
    /// Layer::<3, 2>::visit_tensors(&Linear::<3, 2>::zeroed(), 4, None, &mut |tensor| names.push(tensor.name.to_string()));
    /// assert_eq!(names, ["4.weight", "4.bias"]);
    /// ```
    fn visit_tensors(&self, layer: usize, gradients: Option<&[f32]>, visitor: &mut dyn FnMut(Tensor<'_>)) {
        let _ = (layer, gradients, visitor);
    }

    /// Calls `visitor` with each tensor, writable, in PyTorch's layout.
    ///
    /// ```
    /// use nn::layers::{Layer, Linear};
    ///
    /// let mut layer = Linear::<2, 1>::zeroed();
    /// Layer::<2, 1>::visit_tensors_mut(&mut layer, 0, &mut |tensor| tensor.values.fill(1.0));
    /// assert_eq!((layer.weight[0], layer.bias[0]), ([1.0, 1.0], 1.0));
    /// ```
    fn visit_tensors_mut(&mut self, layer: usize, visitor: &mut dyn FnMut(TensorMut<'_>)) {
        let _ = (layer, visitor);
    }

    /// Calls `visitor` with each parameter tensor and its gradients side by side, both in the
    /// layer's own layout, for element-wise updates such as an optimizer's step. Buffers are not
    /// visited.
    ///
    /// ```
    /// use nn::layers::{Layer, Linear};
    ///
    /// let mut layer = Linear::<2, 1>::zeroed();
    /// let gradients = [1.0, 2.0, 3.0]; // weight, then bias
    /// Layer::<2, 1>::visit_parameters_mut(&mut layer, &gradients, &mut |values, gradients| {
    ///     values.iter_mut().zip(gradients).for_each(|(v, g)| *v -= 0.5 * g);
    /// });
    /// assert_eq!((layer.weight[0], layer.bias[0]), ([-0.5, -1.0], -1.5));
    /// ```
    fn visit_parameters_mut(&mut self, gradients: &[f32], visitor: &mut dyn FnMut(&mut [f32], &[f32])) {
        let _ = (gradients, visitor);
    }

    /// A capability of layers that read a network's input: per-sample SGD over a block of known
    /// inputs may compute this layer's part for the whole block at once, and defer its weight
    /// updates until [`end_block`](Layer::end_block). The single-sample passes between the two
    /// calls must then see the block's inputs in order, each forward followed by a backward with
    /// [`Update::Sgd`]. A block holds at most [`BLOCK_SAMPLES`] inputs. Layers without such a
    /// path ignore the call.
    ///
    /// ```
    /// use nn::layers::{Context, InputLinear, Layer, Mode, Update};
    ///
    /// let mut deferred = InputLinear::<2, 1>::zeroed();
    /// let mut direct = deferred.clone();
    /// let inputs = [[1.0, 0.0], [1.0, 1.0]];
    /// let (mut cache, mut context) = (deferred.cache(), Context::new(Mode::Train, 0));
    /// deferred.begin_block(&mut cache, &[&inputs[0], &inputs[1]]);
    /// for x in &inputs {
    ///     for (layer, cache) in [(&mut deferred, &mut cache), (&mut direct, &mut Default::default())] {
    ///         let mut y = [0.0];
    ///         layer.forward(&mut context, cache, x, &mut y);
    ///         layer.backward(&mut context, cache, x, &y, &[y[0] - 1.0], None, &mut [0.0; 3], Update::Sgd { learning_rate: 0.5 });
    ///     }
    /// }
    /// deferred.end_block(&mut cache);
    /// assert!((deferred.weight[1][0] - direct.weight[1][0]).abs() < 1e-6);
    /// ```
    fn begin_block(&self, cache: &mut Self::Cache, inputs: &[&[f32; I]]) {
        let _ = (cache, inputs);
    }

    /// Applies what the block deferred; the layer is then as plain per-sample SGD would have
    /// left it, up to rounding.
    ///
    /// ```
    /// use nn::layers::{InputLinear, Layer};
    ///
    /// let mut layer = InputLinear::<2, 1>::zeroed();
    /// let mut cache = layer.cache();
    /// layer.end_block(&mut cache); // no block begun: nothing to apply
    /// assert_eq!(layer, InputLinear::zeroed());
    /// ```
    fn end_block(&mut self, cache: &mut Self::Cache) {
        let _ = cache;
    }
}

/// A layer that applies the [`ReLU`](crate::layers::ReLU) after it itself, while its output is
/// still in cache: `network!` calls these passes for `Conv2d(..) -> ReLU`, and the ReLU's own
/// passes (a whole pass over the layer's output, forward and backward) are skipped.
///
/// Each pass gives what the layer's pass followed by the ReLU's gives, bit for bit: `y` is the
/// rectified output and `dy` its gradient. The ReLU's derivative reads its output, `y > 0`
/// exactly where the layer's output was.
///
/// ```
/// use nn::layers::{Context, Conv2d, FusedReLU, Layer, Mode, ReLU, Update};
///
/// let mut conv = Conv2d::<1, 1, 2, 2, 1, 1, 0, 0, 2, 3, 1, 2>::zeroed();
/// conv.weight.copy_from_slice(&[1.0, -1.0, 1.0, -1.0]);
/// let x = [[1.0, 2.0, 0.0, 1.0, 2.0, 0.0]];
/// let mut context = Context::new(Mode::Train, 0);
/// let (mut cache, mut y) = (Layer::<6, 2>::batch_cache(&conv), [[0.0; 2]]);
/// conv.forward_rows_relu(&mut context, &mut cache, &x, &mut y);
/// assert_eq!(y, [[0.0, 4.0]]); // max(0, [-2, 4])
///
/// let (mut dx, mut gradients) = ([[0.0; 6]], [0.0; 5]);
/// conv.backward_rows_relu(&mut context, &mut cache, &x, &y, &[[1.0, 1.0]], Some(&mut dx), &mut gradients, Update::Accumulate);
/// assert_eq!(dx, [[0.0, 1.0, -1.0, 0.0, 1.0, -1.0]]); // only the second output passes its gradient
/// assert_eq!(gradients, [2.0, 0.0, 2.0, 0.0, 1.0]);
/// ```
pub trait FusedReLU<const I: usize, const O: usize>: Layer<I, O> {
    /// [`Layer::forward`] followed by the ReLU: `y = max(f(x), 0)`.
    ///
    /// ```
    /// use nn::layers::{Context, Conv2d, FusedReLU, Layer, Mode};
    ///
    /// let mut conv = Conv2d::<1, 1, 1, 1, 1, 1, 0, 0, 1, 2, 1, 2>::zeroed();
    /// conv.weight[0] = 1.0;
    /// let (mut cache, mut y) = (Layer::<2, 2>::cache(&conv), [0.0; 2]);
    /// conv.forward_relu(&mut Context::new(Mode::Train, 0), &mut cache, &[-3.0, 3.0], &mut y);
    /// assert_eq!(y, [0.0, 3.0]);
    /// ```
    fn forward_relu(&self, context: &mut Context, cache: &mut Self::Cache, x: &[f32; I], y: &mut [f32; O]);

    /// The ReLU's backward pass and then [`Layer::backward`], from the rectified output `y` and
    /// its gradient `dy`.
    ///
    /// ```
    /// use nn::layers::{Context, Conv2d, FusedReLU, Layer, Mode, Update};
    ///
    /// let mut conv = Conv2d::<1, 1, 1, 1, 1, 1, 0, 0, 1, 2, 1, 2>::zeroed();
    /// conv.weight[0] = 1.0;
    /// let mut context = Context::new(Mode::Train, 0);
    /// let (x, mut y, mut cache) = ([-3.0, 3.0], [0.0; 2], Layer::<2, 2>::cache(&conv));
    /// conv.forward_relu(&mut context, &mut cache, &x, &mut y);
    /// let (mut dx, mut gradients) = ([0.0; 2], [0.0; 2]);
    /// conv.backward_relu(&mut context, &mut cache, &x, &y, &[1.0, 1.0], Some(&mut dx), &mut gradients, Update::Accumulate);
    /// assert_eq!((dx, gradients), ([0.0, 1.0], [3.0, 1.0]));
    /// ```
    #[allow(clippy::too_many_arguments)]
    fn backward_relu(
        &mut self,
        context: &mut Context,
        cache: &mut Self::Cache,
        x: &[f32; I],
        y: &[f32; O],
        dy: &[f32; O],
        dx: Option<&mut [f32; I]>,
        gradients: &mut [f32],
        update: Update,
    );

    /// [`Layer::forward_rows`] followed by the ReLU (see the trait's example).
    fn forward_rows_relu(
        &self,
        context: &mut Context,
        cache: &mut Self::BatchCache,
        x: &[[f32; I]],
        y: &mut [[f32; O]],
    );

    /// The ReLU's backward pass and then [`Layer::backward_rows`], from the rectified outputs
    /// `y` and their gradients `dy` (see the trait's example).
    #[allow(clippy::too_many_arguments)]
    fn backward_rows_relu(
        &mut self,
        context: &mut Context,
        cache: &mut Self::BatchCache,
        x: &[[f32; I]],
        y: &[[f32; O]],
        dy: &[[f32; O]],
        dx: Option<&mut [[f32; I]]>,
        gradients: &mut [f32],
        update: Update,
    );
}

/// A layer that applies the [`ReLU`](crate::layers::ReLU) and the max pooling `P` after it
/// itself: `network!` calls these passes for `Conv2d(..) -> ReLU -> MaxPool2d(..)` when the
/// pooling's windows do not overlap, and skips the other two layers' passes. Each sample's
/// output is rectified and pooled right after its product, while it is in cache; neither the
/// layer's output nor the ReLU's is written out, only the pooled values and where each
/// maximum was. `M` is the layer's output per sample, `O` the pooling's.
///
/// The results are the same bits as the three layers apart: the pooling routes each gradient
/// to its window's maximum, and the ReLU's derivative there is 1 exactly where the pooled
/// output is > 0.
///
/// ```
/// use nn::layers::{Context, Conv2d, FusedReLUMaxPool, Layer, MaxPool2d, Mode, Update};
///
/// type Pool = MaxPool2d<1, 1, 2, 1, 2, 1, 4, 1, 2>; // windows of 1 x 2 over a 1 x 4 plane
/// let mut conv = Conv2d::<1, 1, 1, 1, 1, 1, 0, 0, 1, 4, 1, 4>::zeroed();
/// conv.weight[0] = 1.0;
/// let mut context = Context::new(Mode::Train, 0);
/// let (x, mut y) = ([[-3.0, -1.0, 2.0, 5.0]], [[0.0; 2]]);
/// let mut cache = Layer::<4, 4>::batch_cache(&conv);
/// FusedReLUMaxPool::<Pool, 4, 4, 2>::forward_rows_relu_max_pool(&conv, &mut context, &mut cache, &x, &mut y);
/// assert_eq!(y, [[0.0, 5.0]]); // max(relu(-3), relu(-1)), max(2, 5)
///
/// let (mut dx, mut gradients) = ([[0.0; 4]], [0.0; 2]);
/// let update = Update::Accumulate;
/// FusedReLUMaxPool::<Pool, 4, 4, 2>::backward_rows_relu_max_pool(&mut conv, &mut context, &mut cache, &x, &y, &[[1.0, 1.0]], Some(&mut dx), &mut gradients, update);
/// assert_eq!(dx, [[0.0, 0.0, 0.0, 1.0]]); // only the 5 passes a gradient
/// assert_eq!(gradients, [5.0, 1.0]);
/// ```
pub trait FusedReLUMaxPool<P, const I: usize, const M: usize, const O: usize>: Layer<I, M> {
    /// [`Layer::forward`] followed by the ReLU and the pooling.
    ///
    /// ```
    /// use nn::layers::{Context, Conv2d, FusedReLUMaxPool, Layer, MaxPool2d, Mode};
    ///
    /// type Pool = MaxPool2d<1, 1, 2, 1, 2, 1, 2, 1, 1>;
    /// let mut conv = Conv2d::<1, 1, 1, 1, 1, 1, 0, 0, 1, 2, 1, 2>::zeroed();
    /// conv.weight[0] = -1.0;
    /// let (mut cache, mut y) = (Layer::<2, 2>::cache(&conv), [0.0]);
    /// FusedReLUMaxPool::<Pool, 2, 2, 1>::forward_relu_max_pool(&conv, &mut Context::new(Mode::Train, 0), &mut cache, &[3.0, -2.0], &mut y);
    /// assert_eq!(y, [2.0]);
    /// ```
    fn forward_relu_max_pool(&self, context: &mut Context, cache: &mut Self::Cache, x: &[f32; I], y: &mut [f32; O]);

    /// The pooling's and the ReLU's backward passes, then [`Layer::backward`], from the pooled
    /// output `y` and its gradient `dy`.
    ///
    /// ```
    /// use nn::layers::{Context, Conv2d, FusedReLUMaxPool, Layer, MaxPool2d, Mode, Update};
    ///
    /// type Pool = MaxPool2d<1, 1, 2, 1, 2, 1, 2, 1, 1>;
    /// let mut conv = Conv2d::<1, 1, 1, 1, 1, 1, 0, 0, 1, 2, 1, 2>::zeroed();
    /// conv.weight[0] = -1.0;
    /// let mut context = Context::new(Mode::Train, 0);
    /// let (x, mut y, mut cache) = ([3.0, -2.0], [0.0], Layer::<2, 2>::cache(&conv));
    /// FusedReLUMaxPool::<Pool, 2, 2, 1>::forward_relu_max_pool(&conv, &mut context, &mut cache, &x, &mut y);
    /// let (mut dx, mut gradients) = ([0.0; 2], [0.0; 2]);
    /// let update = Update::Accumulate;
    /// FusedReLUMaxPool::<Pool, 2, 2, 1>::backward_relu_max_pool(&mut conv, &mut context, &mut cache, &x, &y, &[1.0], Some(&mut dx), &mut gradients, update);
    /// assert_eq!((dx, gradients), ([0.0, -1.0], [-2.0, 1.0]));
    /// ```
    #[allow(clippy::too_many_arguments)]
    fn backward_relu_max_pool(
        &mut self,
        context: &mut Context,
        cache: &mut Self::Cache,
        x: &[f32; I],
        y: &[f32; O],
        dy: &[f32; O],
        dx: Option<&mut [f32; I]>,
        gradients: &mut [f32],
        update: Update,
    );

    /// [`Layer::forward_rows`] followed by the ReLU and the pooling (see the trait's example).
    fn forward_rows_relu_max_pool(
        &self,
        context: &mut Context,
        cache: &mut Self::BatchCache,
        x: &[[f32; I]],
        y: &mut [[f32; O]],
    );

    /// The pooling's and the ReLU's backward passes, then [`Layer::backward_rows`], from the
    /// pooled outputs `y` and their gradients `dy` (see the trait's example).
    #[allow(clippy::too_many_arguments)]
    fn backward_rows_relu_max_pool(
        &mut self,
        context: &mut Context,
        cache: &mut Self::BatchCache,
        x: &[[f32; I]],
        y: &[[f32; O]],
        dy: &[[f32; O]],
        dx: Option<&mut [[f32; I]]>,
        gradients: &mut [f32],
        update: Update,
    );

    /// [`Layer::gradient_bound`] from the pooled output gradients: each of the layer's output
    /// gradients is one of them or 0, so the layer's bound on them holds.
    ///
    /// ```
    /// use nn::layers::{Conv2d, FusedReLUMaxPool, Layer, MaxPool2d};
    ///
    /// type Pool = MaxPool2d<1, 1, 2, 1, 2, 1, 2, 1, 1>;
    /// let conv = Conv2d::<1, 1, 1, 1, 1, 1, 0, 0, 1, 2, 1, 2>::zeroed();
    /// let bound = FusedReLUMaxPool::<Pool, 2, 2, 1>::gradient_bound_max_pool(&conv, &[[3.0, -2.0]], &[[0.5]]);
    /// assert_eq!(bound, Layer::<2, 2>::gradient_bound(&conv, &[[3.0, -2.0]], &[[0.5, 0.0]]));
    /// ```
    fn gradient_bound_max_pool(&self, x: &[[f32; I]], dy: &[[f32; O]]) -> f64;
}

/// The most samples in a block of per-sample SGD steps (see [`Layer::begin_block`]): a whole
/// vector of rows in a first layer's block product.
///
/// ```
/// assert_eq!(nn::layers::BLOCK_SAMPLES, 16);
/// ```
pub const BLOCK_SAMPLES: usize = 16;

/// Asserts that a layer's gradient slice holds exactly its parameters.
pub(crate) fn check_gradients_len(gradients: &[f32], parameters: usize) {
    assert_eq!(
        gradients.len(),
        parameters,
        "a gradient slice of {} values for {parameters} parameters",
        gradients.len()
    );
}
