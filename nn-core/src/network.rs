//! The traits every `network!` implements.

use crate::io::{self, ModelFileError};
use crate::layer::{Context, Mode, Tensor, TensorMut, Update};
use crate::losses::Loss;
use crate::optim::Optimizer;
use crate::train::{self, TrainError};
use crate::workspace::Workspace;
use rand::Rng;
use std::path::Path;

/// The passes and visitors that `network!` writes out layer by layer, which the generic code
/// (training steps, batched inference, save/load) is written against. Not public API: call the
/// methods of [`Network`].
///
/// Parameter gradients are one flat buffer of `PARAMETERS` values: every layer's slice (see
/// [`Layer`](crate::layers::Layer)), layer after layer.
#[doc(hidden)]
pub trait Sequential<const IN: usize, const OUT: usize>: Clone + Send + Sync {
    /// The activations of one sample, their gradients and every layer's cache.
    type Buffers: Send;
    /// The same for a batch of rows; they grow to the largest batch.
    type BatchBuffers: Send;
    /// Whether a layer computes statistics across a batch (see
    /// [`Layer::BATCH_STATISTICS`](crate::layers::Layer::BATCH_STATISTICS)).
    const BATCH_STATISTICS: bool;

    /// Fresh buffers for one sample.
    fn buffers(&self) -> Self::Buffers;

    /// Fresh, empty buffers for batches of rows.
    fn batch_buffers(&self) -> Self::BatchBuffers;

    /// The output for one input in the context's mode, keeping every activation in `buffers`.
    fn forward_sample<'b>(
        &self,
        context: &mut Context,
        buffers: &'b mut Self::Buffers,
        input: &[f32; IN],
    ) -> &'b [f32; OUT];

    /// Back-propagates `output_gradient` through the last `forward_sample`; see [`Update`].
    fn backward_sample(
        &mut self,
        context: &mut Context,
        buffers: &mut Self::Buffers,
        output_gradient: &[f32; OUT],
        gradients: &mut [f32],
        update: Update,
    );

    /// The outputs for a batch of inputs, keeping every activation in `buffers`.
    fn forward_rows<'b>(
        &self,
        context: &mut Context,
        buffers: &'b mut Self::BatchBuffers,
        inputs: &[[f32; IN]],
    ) -> &'b [[f32; OUT]];

    /// Back-propagates `output_gradients` through the last `forward_rows` on the same inputs.
    fn backward_rows(
        &mut self,
        context: &mut Context,
        buffers: &mut Self::BatchBuffers,
        inputs: &[[f32; IN]],
        output_gradients: &[[f32; OUT]],
        gradients: &mut [f32],
        update: Update,
    );

    /// The largest of the layers' [gradient bounds](crate::layers::Layer::gradient_bound) for
    /// the last `backward_sample` (its `Propagate` pass), with the position of its layer; NaN
    /// when a value is not finite.
    fn gradient_bound_sample(&self, buffers: &Self::Buffers, output_gradient: &[f32; OUT]) -> (f64, usize);

    /// The same for the last `backward_rows` on `inputs`, over the batch rows in `range`.
    fn gradient_bound_rows(
        &self,
        buffers: &Self::BatchBuffers,
        inputs: &[[f32; IN]],
        output_gradients: &[[f32; OUT]],
        range: std::ops::Range<usize>,
    ) -> (f64, usize);

    /// Every layer's [`commit`](crate::layers::Layer::commit) after the last `forward_sample`.
    fn commit_sample(&mut self, buffers: &Self::Buffers);

    /// Every layer's [`commit_rows`](crate::layers::Layer::commit_rows) after the last
    /// `forward_rows`.
    fn commit_rows(&mut self, buffers: &Self::BatchBuffers);

    /// Starts a block of per-sample SGD steps on `inputs` (see
    /// [`Layer::begin_block`](crate::layers::Layer::begin_block)).
    fn begin_block(&self, buffers: &mut Self::Buffers, inputs: &[&[f32; IN]]);

    /// Ends the block, applying what it deferred.
    fn end_block(&mut self, buffers: &mut Self::Buffers);

    /// Every tensor in PyTorch's layout, with its gradients from `gradients` when given.
    fn each_tensor(&self, gradients: Option<&[f32]>, visitor: &mut dyn FnMut(Tensor<'_>));

    /// Every tensor, writable, in PyTorch's layout.
    fn each_tensor_mut(&mut self, visitor: &mut dyn FnMut(TensorMut<'_>));

    /// Every parameter tensor beside its gradients, in the layers' own layouts.
    fn each_parameter_mut(&mut self, gradients: &[f32], visitor: &mut dyn FnMut(&mut [f32], &[f32]));
}

/// A network declared with `network!`: what you call to build, run, train and save it.
///
/// | Call | |
/// |---|---|
/// | [`Net::new(&mut rng)`](Network::new), [`zeroed`](Network::zeroed) | a network, initialised for its activations, or all zeros |
/// | [`forward`](Network::forward), [`predict`](Network::predict) | one sample in inference mode |
/// | [`forward_batch`](Network::forward_batch), [`accuracy`](Network::accuracy) | many rows, on every core |
/// | [`workspace`](Network::workspace) | the buffers of training and batched inference, created once |
/// | [`train_step`](Network::train_step), [`train_samples`](Network::train_samples), [`train_batch`](Network::train_batch) | training on one sample, a sequence of samples, or a mini-batch |
/// | [`forward_with`](Network::forward_with), [`backward`](Network::backward), [`visit_gradients`](Network::visit_gradients) | the passes and the gradients, for custom loops |
/// | [`visit_tensors`](Network::visit_tensors), [`visit_tensors_mut`](Network::visit_tensors_mut) | every tensor by name and shape, in PyTorch's layout |
/// | [`save`](Network::save), [`load`](Network::load), [`summary`](Network::summary) | files and a printable table of the layers |
///
/// ```
/// use nn::prelude::*;
///
/// network! { struct Net { Linear(3, 4) -> ReLU -> Linear(4, 2) } }
///
/// let mut net = Net::new(&mut nn::Pcg64Mcg::seed_from_u64(1));
/// let mut workspace = net.workspace();
/// let (input, target) = ([1.0, 0.0, 2.0], one_hot(1));
/// for _ in 0..50 {
///     net.train_step(&mut workspace, &input, &target, &CrossEntropy, &mut Sgd::new(0.1))?;
/// }
/// assert_eq!(net.predict(&input), 1);
/// # Ok::<(), nn::TrainError>(())
/// ```
///
/// `IN` and `OUT` are the number of input and output values of one sample. The macro writes the
/// layer-by-layer passes (the hidden supertrait); the methods here are written once against them.
/// Inference runs in [`Mode::Eval`], training steps in [`Mode::Train`]; a step through a
/// [`Workspace`] allocates nothing after the first batch of the largest size.
pub trait Network<const IN: usize, const OUT: usize>: Sequential<IN, OUT> {
    /// The layer list, as written in the macro: `Linear(784, 100) -> Sigmoid -> Linear(100, 10)`.
    ///
    /// ```
    /// use nn::prelude::*;
    ///
    /// network! { struct Net { Linear(28 * 28, 10) -> Softmax } }
    /// assert_eq!(Net::ARCHITECTURE, "Linear(784, 10) -> Softmax");
    /// ```
    const ARCHITECTURE: &'static str;
    /// A table of the layers with their output shapes and parameter counts.
    ///
    /// ```
    /// use nn::prelude::*;
    ///
    /// network! { struct Net: [1, 8, 8] { Conv2d(1, 4, 3) -> ReLU -> Flatten -> Linear(144, 2) } }
    /// assert!(Net::SUMMARY.contains("[4, 6, 6]"), "{}", Net::SUMMARY);
    /// ```
    const SUMMARY: &'static str;
    /// The total number of trainable parameters.
    ///
    /// ```
    /// use nn::prelude::*;
    ///
    /// network! { struct Net { Linear(4, 3) -> BatchNorm1d(3) -> Linear(3, 1) } }
    /// assert_eq!(Net::PARAMETERS, (4 * 3 + 3) + (3 + 3) + (3 + 1)); // running statistics are buffers
    /// ```
    const PARAMETERS: usize;
    /// Whether the last layer is `Softmax`.
    ///
    /// ```
    /// use nn::prelude::*;
    ///
    /// network! { struct Net { Linear(4, 3) -> Softmax } }
    /// assert!(Net::ENDS_WITH_SOFTMAX);
    /// ```
    const ENDS_WITH_SOFTMAX: bool;
    /// The multiply-adds of one sample's forward pass, roughly (a convolution's are many times
    /// its parameters): whether a batch step moves to a rayon worker thread, where its layers'
    /// splits across the threads are cheap.
    ///
    /// ```
    /// use nn::prelude::*;
    ///
    /// network! { struct Net { Linear(4, 3) -> ReLU -> Linear(3, 1) } }
    /// assert!(Net::MULTIPLY_ADDS >= 4 * 3 + 3);
    /// ```
    const MULTIPLY_ADDS: usize;
    /// The fewest samples a training step takes: 2 with a `BatchNorm1d` (one value per channel
    /// has no variance in train mode), otherwise 1.
    ///
    /// ```
    /// use nn::prelude::*;
    ///
    /// network! {
    ///     struct Plain { Linear(4, 3) }
    ///     struct Normalized { Linear(4, 3) -> BatchNorm1d(3) }
    /// }
    /// assert_eq!((Plain::MIN_TRAINING_BATCH, Normalized::MIN_TRAINING_BATCH), (1, 2));
    /// ```
    const MIN_TRAINING_BATCH: usize;

    /// A network with freshly initialised parameters (see [`Init`](crate::init::Init) for the
    /// scheme each layer gets).
    ///
    /// ```
    /// use nn::prelude::*;
    ///
    /// network! { struct Net { Linear(2, 2) } }
    /// let a = Net::new(&mut nn::Pcg64Mcg::seed_from_u64(3));
    /// assert_eq!(a, Net::new(&mut nn::Pcg64Mcg::seed_from_u64(3))); // the same seed, the same network
    /// assert_ne!(a, Net::zeroed());
    /// ```
    fn new<R: Rng + ?Sized>(rng: &mut R) -> Self;

    /// A network whose parameters are all zero.
    ///
    /// ```
    /// use nn::prelude::*;
    ///
    /// network! { struct Net { Linear(2, 2) } }
    /// assert_eq!(Net::zeroed().forward(&[1.0, 2.0]), [0.0, 0.0]);
    /// ```
    fn zeroed() -> Self;

    /// The output for one input, in eval mode. Nothing is allocated: a small network keeps its
    /// activations on the stack, a large one in buffers of the calling thread, allocated by its
    /// first call.
    ///
    /// ```
    /// use nn::prelude::*;
    ///
    /// network! { struct Net { Linear(2, 1) -> Sigmoid } }
    /// assert_eq!(Net::zeroed().forward(&[3.0, -1.0]), [0.5]);
    /// ```
    fn forward(&self, input: &[f32; IN]) -> [f32; OUT];

    /// The buffers for training and batched inference of this network.
    ///
    /// ```
    /// use nn::prelude::*;
    ///
    /// network! { struct Net { Linear(2, 1) } }
    /// let mut net = Net::zeroed();
    /// let mut workspace = net.workspace(); // once, then reused by every step
    /// for _ in 0..3 {
    ///     net.train_step(&mut workspace, &[1.0, 0.0], &[1.0], &Mse, &mut Sgd::new(0.1))?;
    /// }
    /// # Ok::<(), nn::TrainError>(())
    /// ```
    fn workspace(&self) -> Workspace<Self, IN, OUT> {
        Workspace::new(self)
    }

    /// The output for one input in train mode, keeping every activation in the workspace for
    /// [`backward`](Network::backward): the first half of a hand-written training step.
    ///
    /// ```
    /// use nn::layers::Update;
    /// use nn::prelude::*;
    ///
    /// network! { struct Net { Linear(2, 1) } }
    /// let mut net = Net::zeroed();
    /// let mut workspace = net.workspace();
    /// // A hand-written step: output, the loss's gradient, backward with plain SGD.
    /// let output = *net.forward_with(&mut workspace, &[1.0, 2.0]);
    /// let mut gradient = [0.0];
    /// Mse.loss_and_gradient(&output, &[1.0], &mut gradient);
    /// net.backward(&mut workspace, &gradient, Update::Sgd { learning_rate: 0.1 });
    /// assert!(net.forward(&[1.0, 2.0])[0] > 0.0);
    /// ```
    fn forward_with<'w>(&self, workspace: &'w mut Workspace<Self, IN, OUT>, input: &[f32; IN]) -> &'w [f32; OUT] {
        workspace.context.set_mode(Mode::Train);
        self.forward_sample(&mut workspace.context, &mut workspace.buffers, input)
    }

    /// Back-propagates `output_gradient` (`∂L/∂output`) through the last
    /// [`forward_with`](Network::forward_with), and either adds the parameter gradients to the
    /// workspace's ([`Update::Accumulate`]; see [`visit_gradients`](Network::visit_gradients))
    /// or applies SGD at once ([`Update::Sgd`]); then batch normalization's running statistics
    /// take the pass in. Unlike [`train_step`](Network::train_step), it checks nothing.
    ///
    /// ```
    /// use nn::layers::Update;
    /// use nn::prelude::*;
    ///
    /// network! { struct Net { Linear(2, 1) } }
    /// let mut net = Net::zeroed();
    /// let mut workspace = net.workspace();
    /// net.forward_with(&mut workspace, &[1.0, 2.0]);
    /// net.backward(&mut workspace, &[1.0], Update::Accumulate);
    /// assert_eq!(workspace.gradients(), [1.0, 2.0, 1.0]); // ∂/∂weight, then ∂/∂bias
    /// ```
    fn backward(&mut self, workspace: &mut Workspace<Self, IN, OUT>, output_gradient: &[f32; OUT], update: Update) {
        let Workspace { context, buffers, gradients, .. } = workspace;
        if let Update::Sgd { .. } = update {
            // The network's SGD pass takes the input gradients from a propagating pass first.
            self.backward_sample(context, buffers, output_gradient, gradients, Update::Propagate);
        }
        self.backward_sample(context, buffers, output_gradient, gradients, update);
        if update != Update::Propagate {
            self.commit_sample(buffers);
        }
    }

    /// The outputs of a whole batch, in eval mode, one shard of rows per rayon thread, written
    /// to `outputs`.
    ///
    /// ```
    /// use nn::prelude::*;
    ///
    /// network! { struct Net { Linear(2, 1) } }
    /// let mut net = Net::zeroed();
    /// net.layer0.bias[0] = 0.5;
    /// let mut outputs = [[0.0]; 3];
    /// net.forward_batch(&mut net.workspace(), &[[1.0, 2.0]; 3], &mut outputs)?;
    /// assert_eq!(outputs, [[0.5]; 3]);
    /// # Ok::<(), nn::TrainError>(())
    /// ```
    fn forward_batch(
        &self,
        workspace: &mut Workspace<Self, IN, OUT>,
        inputs: &[[f32; IN]],
        outputs: &mut [[f32; OUT]],
    ) -> Result<(), TrainError> {
        train::forward_batch(self, workspace, inputs, outputs)
    }

    /// The index of the largest output: the predicted class.
    ///
    /// ```
    /// use nn::prelude::*;
    ///
    /// network! { struct Net { Linear(2, 3) } }
    /// let mut net = Net::zeroed();
    /// net.layer0.bias[2] = 1.0;
    /// assert_eq!(net.predict(&[0.0, 0.0]), 2);
    /// ```
    fn predict(&self, input: &[f32; IN]) -> usize {
        argmax(&self.forward(input))
    }

    /// The fraction of `inputs` whose predicted class equals the label at the same index (0 for
    /// no inputs).
    ///
    /// The rows go through the batched forward pass, as in
    /// [`forward_batch`](Network::forward_batch), with buffers allocated for the call. Its
    /// outputs can differ from [`forward`](Network::forward)'s in the last bits (the layers add
    /// in another order), so a digit whose two largest outputs tie to within rounding may be
    /// counted differently.
    ///
    /// Labels may be any integer type (`u8` as MNIST's, `usize`, `i64` from a CSV, ...).
    ///
    /// # Errors
    /// [`TrainError::BatchSizeMismatch`] if there are not as many labels as inputs,
    /// [`TrainError::InvalidLabel`] for a label that is not a class (negative, or not below
    /// `OUT`).
    ///
    /// ```
    /// use nn::prelude::*;
    ///
    /// network! { struct Net { Linear(2, 2) } }
    /// let mut net = Net::zeroed();
    /// net.layer0.bias[1] = 1.0; // always predicts 1
    /// assert_eq!(net.accuracy(&[[0.0, 0.0]; 4], &[1, 1, 0, 1])?, 0.75);
    /// assert_eq!(net.accuracy(&[[0.0, 0.0]; 2], &[1u64, 0])?, 0.5);
    /// let error = net.accuracy(&[[0.0, 0.0]; 2], &[1, 2]).unwrap_err();
    /// assert_eq!(error.to_string(), "label 1 is 2, but the network's classes are 0 to 1");
    /// # Ok::<(), nn::TrainError>(())
    /// ```
    fn accuracy<L>(&self, inputs: &[[f32; IN]], labels: &[L]) -> Result<f32, TrainError>
    where
        L: Copy + TryInto<usize> + std::fmt::Display,
    {
        train::accuracy(self, inputs, labels)
    }

    /// The class probabilities for one input: the softmax of the output (for a network trained
    /// on logits with [`CrossEntropy`](crate::losses::CrossEntropy)), in eval mode.
    ///
    /// ```
    /// use nn::prelude::*;
    ///
    /// network! { struct Net { Linear(2, 3) } }
    /// let mut net = Net::zeroed();
    /// net.layer0.bias[2] = 2.0f32.ln(); // the last class twice as likely as each other
    /// let probabilities = net.predict_proba(&[1.0, 1.0]);
    /// assert!((probabilities[2] - 0.5).abs() < 1e-6 && (probabilities[0] - 0.25).abs() < 1e-6);
    /// ```
    fn predict_proba(&self, input: &[f32; IN]) -> [f32; OUT] {
        let mut probabilities = [0.0; OUT];
        crate::kernels::softmax(&self.forward(input), &mut probabilities);
        probabilities
    }

    /// The [`SUMMARY`](Network::SUMMARY) table.
    ///
    /// ```
    /// use nn::prelude::*;
    ///
    /// network! { struct Net { Linear(784, 100) -> Sigmoid -> Linear(100, 10) } }
    /// let summary = Net::zeroed().summary();
    /// assert!(summary.contains("Linear(100, 10)") && summary.contains("79,510"), "{summary}");
    /// ```
    fn summary(&self) -> &'static str {
        Self::SUMMARY
    }

    /// Calls `visitor` with every tensor (parameters and buffers), named like PyTorch's
    /// `nn.Sequential` (`0.weight`), with its shape and values in PyTorch's layout.
    ///
    /// ```
    /// use nn::prelude::*;
    ///
    /// network! { struct Net { Linear(3, 2) -> ReLU -> Linear(2, 1) } }
    ///
    /// let mut shapes = Vec::new();
    /// Net::zeroed().visit_tensors(&mut |tensor| shapes.push((tensor.name.to_string(), tensor.shape.to_vec())));
    /// assert_eq!(shapes[0], ("0.weight".to_string(), vec![2, 3]));
    /// assert_eq!(shapes[3], ("2.bias".to_string(), vec![1]));
    /// ```
    fn visit_tensors(&self, visitor: &mut dyn FnMut(Tensor<'_>)) {
        self.each_tensor(None, visitor);
    }

    /// Calls `visitor` with every tensor, writable, in PyTorch's layout: how a parameter set
    /// from elsewhere (a PyTorch `state_dict`) is copied in by name.
    ///
    /// ```
    /// use nn::prelude::*;
    ///
    /// network! { struct Net { Linear(2, 1) } }
    ///
    /// let mut net = Net::zeroed();
    /// net.visit_tensors_mut(&mut |tensor| {
    ///     if tensor.name.to_string() == "0.weight" {
    ///         tensor.values.copy_from_slice(&[1.0, 2.0]);
    ///     }
    /// });
    /// assert_eq!(net.forward(&[1.0, 1.0]), [3.0]);
    /// ```
    fn visit_tensors_mut(&mut self, visitor: &mut dyn FnMut(TensorMut<'_>)) {
        self.each_tensor_mut(visitor);
    }

    /// [`visit_tensors`](Network::visit_tensors) with each parameter's gradients from the
    /// workspace (as the last step that stored them left them) beside its values.
    ///
    /// ```
    /// use nn::layers::Update;
    /// use nn::prelude::*;
    ///
    /// network! { struct Net { Linear(2, 1) } }
    /// let mut net = Net::zeroed();
    /// let mut workspace = net.workspace();
    /// net.forward_with(&mut workspace, &[3.0, 4.0]);
    /// net.backward(&mut workspace, &[1.0], Update::Accumulate);
    /// let mut weight_gradient = Vec::new();
    /// net.visit_gradients(&workspace, &mut |tensor| {
    ///     if tensor.name.to_string() == "0.weight" {
    ///         weight_gradient = tensor.gradients.unwrap().to_vec();
    ///     }
    /// });
    /// assert_eq!(weight_gradient, [3.0, 4.0]);
    /// ```
    fn visit_gradients(&self, workspace: &Workspace<Self, IN, OUT>, visitor: &mut dyn FnMut(Tensor<'_>)) {
        self.each_tensor(Some(&workspace.gradients), visitor);
    }

    /// One training step on one sample: forward, loss, backward and update. Returns the loss.
    ///
    /// With plain [`Sgd`](crate::optim::Sgd) the update is fused into the backward pass. If the
    /// loss is not finite the parameters are left untouched and an error is returned.
    ///
    /// ```
    /// use nn::prelude::*;
    ///
    /// network! { struct Net { Linear(1, 1) } }
    /// let mut net = Net::zeroed();
    /// let mut workspace = net.workspace();
    /// let first = net.train_step(&mut workspace, &[1.0], &[2.0], &Mse, &mut Sgd::new(0.1))?;
    /// let second = net.train_step(&mut workspace, &[1.0], &[2.0], &Mse, &mut Sgd::new(0.1))?;
    /// assert!(second < first);
    /// # Ok::<(), nn::TrainError>(())
    /// ```
    fn train_step<L: Loss, O: Optimizer + ?Sized>(
        &mut self,
        workspace: &mut Workspace<Self, IN, OUT>,
        input: &[f32; IN],
        target: &[f32; OUT],
        loss: &L,
        optimizer: &mut O,
    ) -> Result<f32, TrainError> {
        train::train_step(self, workspace, input, target, loss, optimizer)
    }

    /// One training step per sample, in order, as [`train_step`](Network::train_step) on each
    /// `(input, target)` in turn (the original library's regime: update after every sample).
    /// Returns the mean loss.
    ///
    /// With plain SGD the samples are taken in blocks of 16, and a first layer that can
    /// (a `Linear` reading the network's input) defers its weight updates to the end of each
    /// block: the block's products `W x_t` are one matrix product at its start, each sample adds
    /// the effect of the block's earlier updates as a low-rank correction,
    /// `W x_t + Σ_{k<t} s_k (x_k · x_t)`, and at its end the updates are applied to `W` in one
    /// sweep. The result is the same SGD (up to float rounding) with the largest weight matrix
    /// read and rewritten once per block instead of twice per sample. All updates are applied
    /// before this returns.
    ///
    /// If a sample's loss is not finite, the samples before it have been trained on, the
    /// parameters are left as they were after them, and the error names the sample's position.
    ///
    /// ```
    /// use nn::prelude::*;
    ///
    /// network! { struct Net { Linear(2, 1) -> Sigmoid } }
    /// let mut net = Net::zeroed();
    /// let mut workspace = net.workspace();
    /// let inputs = [[0.0, 1.0], [1.0, 0.0]];
    /// let targets = [[1.0], [0.0]];
    /// let mut sgd = Sgd::new(1.0);
    /// for _ in 0..200 {
    ///     net.train_samples(&mut workspace, inputs.iter().zip(&targets), &Mse, &mut sgd)?;
    /// }
    /// assert!(net.forward(&inputs[0])[0] > 0.8 && net.forward(&inputs[1])[0] < 0.2);
    /// # Ok::<(), nn::TrainError>(())
    /// ```
    fn train_samples<'s, L: Loss, O: Optimizer + ?Sized>(
        &mut self,
        workspace: &mut Workspace<Self, IN, OUT>,
        samples: impl IntoIterator<Item = (&'s [f32; IN], &'s [f32; OUT])>,
        loss: &L,
        optimizer: &mut O,
    ) -> Result<f32, TrainError> {
        train::train_samples(self, workspace, samples, loss, optimizer)
    }

    /// One training step on a mini-batch: the parameter gradients are averaged over the samples,
    /// then the optimizer applies them once. Returns the mean loss. Kernels with at least
    /// [`PARALLEL_WORK`](crate::kernels::PARALLEL_WORK) multiply-adds split across the rayon
    /// threads; the result is bit-identical on any number of threads.
    ///
    /// If any sample's loss is not finite, the parameters are left untouched and the error names
    /// the first such sample.
    ///
    /// ```
    /// use nn::prelude::*;
    ///
    /// network! { struct Net { Linear(2, 2) } }
    /// let mut net = Net::zeroed();
    /// let mut workspace = net.workspace();
    /// let (inputs, targets) = ([[1.0, 0.0], [0.0, 1.0]], [one_hot(0), one_hot(1)]);
    /// for _ in 0..20 {
    ///     net.train_batch(&mut workspace, &inputs, &targets, &CrossEntropy, &mut Sgd::new(0.5))?;
    /// }
    /// assert_eq!(net.accuracy(&inputs, &[0, 1])?, 1.0);
    /// # Ok::<(), nn::TrainError>(())
    /// ```
    fn train_batch<L: Loss, O: Optimizer + ?Sized>(
        &mut self,
        workspace: &mut Workspace<Self, IN, OUT>,
        inputs: &[[f32; IN]],
        targets: &[[f32; OUT]],
        loss: &L,
        optimizer: &mut O,
    ) -> Result<f32, TrainError> {
        train::train_batch(self, workspace, inputs, targets, loss, optimizer)
    }

    /// Saves the parameters to `path`, atomically: the file is written next to its destination
    /// and renamed over it, so an interrupted save never destroys the previous model.
    /// See [`io`](crate::io) for the format.
    ///
    /// ```
    /// use nn::prelude::*;
    ///
    /// network! { struct Net { Linear(2, 1) } }
    /// let path = std::env::temp_dir().join(format!("save-{}.model", std::process::id()));
    /// let net = Net::new(&mut nn::Pcg64Mcg::seed_from_u64(1));
    /// net.save(&path)?;
    /// assert_eq!(Net::load(&path)?, net);
    /// # std::fs::remove_file(&path)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    fn save(&self, path: impl AsRef<Path>) -> Result<(), ModelFileError> {
        io::save(self, path.as_ref())
    }

    /// Loads a network saved by [`save`](Network::save), checking that the file holds this
    /// architecture.
    ///
    /// ```
    /// use nn::prelude::*;
    ///
    /// network! {
    ///     struct Small { Linear(2, 1) }
    ///     struct Other { Linear(2, 2) }
    /// }
    /// let path = std::env::temp_dir().join(format!("load-{}.model", std::process::id()));
    /// Small::zeroed().save(&path)?;
    /// let error = Other::load(&path).unwrap_err(); // another architecture: refused, with both named
    /// assert!(error.to_string().contains("Linear(2, 1)"), "{error}");
    /// # std::fs::remove_file(&path)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    fn load(path: impl AsRef<Path>) -> Result<Self, ModelFileError> {
        io::load(path.as_ref())
    }

    /// [`save`](Network::save), with the name of each output: the classes of a
    /// [`Table`](crate::data::Table), say, so that a program that loads the model can name what
    /// it predicts ([`load_with_classes`](Network::load_with_classes)).
    ///
    /// ```
    /// use nn::prelude::*;
    ///
    /// network! { struct Iris { Linear(4, 3) } }
    /// let path = std::env::temp_dir().join(format!("classes-{}.model", std::process::id()));
    /// let net = Iris::new(&mut nn::Pcg64Mcg::seed_from_u64(1));
    /// let species = ["setosa", "versicolor", "virginica"].map(String::from);
    /// net.save_with_classes(&path, &species)?;
    /// let (loaded, classes) = Iris::load_with_classes(&path)?;
    /// assert_eq!((&loaded, &classes[..]), (&net, &species[..]));
    /// println!("{}", classes[loaded.predict(&[5.1, 3.5, 1.4, 0.2])]);
    /// assert!(net.save_with_classes(&path, &species[..2]).is_err()); // one name per output
    /// # std::fs::remove_file(&path)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// [`ModelFileError::ClassNames`] unless there is one name per output (or none) and they are
    /// at most 512 KiB in all; [`ModelFileError::Io`] if the file cannot be written.
    fn save_with_classes(&self, path: impl AsRef<Path>, classes: &[String]) -> Result<(), ModelFileError> {
        io::save_with_classes(self, path.as_ref(), classes)
    }

    /// [`load`](Network::load), with the names of the outputs that
    /// [`save_with_classes`](Network::save_with_classes) stored (none for a file saved
    /// without them).
    ///
    /// ```
    /// use nn::prelude::*;
    ///
    /// network! { struct Net { Linear(2, 2) } }
    /// let path = std::env::temp_dir().join(format!("no-classes-{}.model", std::process::id()));
    /// Net::zeroed().save(&path)?;
    /// assert!(Net::load_with_classes(&path)?.1.is_empty());
    /// # std::fs::remove_file(&path)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// As [`load`](Network::load)'s, and [`ModelFileError::ClassNames`] if the file names
    /// another number of outputs.
    fn load_with_classes(path: impl AsRef<Path>) -> Result<(Self, Vec<String>), ModelFileError> {
        io::load_with_classes(path.as_ref())
    }

    /// The bytes [`save`](Network::save) writes: a model to embed in a program
    /// (`include_bytes!`) or to send elsewhere.
    ///
    /// ```
    /// use nn::prelude::*;
    ///
    /// network! { struct Net { Linear(2, 1) } }
    /// let net = Net::new(&mut nn::Pcg64Mcg::seed_from_u64(1));
    /// assert_eq!(Net::from_bytes(&net.to_bytes())?, net);
    /// # Ok::<(), nn::io::ModelFileError>(())
    /// ```
    fn to_bytes(&self) -> Vec<u8> {
        io::encode(self)
    }

    /// Reads a network from the bytes of a model file ([`to_bytes`](Network::to_bytes), or a
    /// file [`save`](Network::save) wrote, embedded with `include_bytes!`), with the checks of
    /// [`load`](Network::load); errors name the bytes `(bytes)`.
    ///
    /// ```
    /// use nn::prelude::*;
    ///
    /// network! { struct Net { Linear(2, 1) } }
    /// let error = Net::from_bytes(b"not a model").unwrap_err();
    /// assert!(error.to_string().starts_with("(bytes): "), "{error}");
    /// ```
    fn from_bytes(bytes: &[u8]) -> Result<Self, ModelFileError> {
        io::decode_bounded(bytes, Path::new("(bytes)"))
    }

    /// Saves the tensors to `path` as safetensors, atomically, named and laid out as PyTorch's
    /// `nn.Sequential` holds them (`0.weight` `[out, in]`, `0.bias`, `2.weight`, ...; a
    /// convolution's weight `[out, in, kh, kw]`; BatchNorm's running statistics, with
    /// `num_batches_tracked` as an `int64` scalar). In Python,
    /// `model.load_state_dict(safetensors.torch.load_file(path))` loads it into the same
    /// `nn.Sequential`.
    ///
    /// ```
    /// use nn::prelude::*;
    ///
    /// network! { struct Net { Linear(4, 8) -> ReLU -> Linear(8, 2) } }
    /// let path = std::env::temp_dir().join(format!("net-{}.safetensors", std::process::id()));
    /// let net = Net::new(&mut nn::Pcg64Mcg::seed_from_u64(1));
    /// net.save_safetensors(&path)?;
    /// assert_eq!(Net::load_safetensors(&path)?, net);
    /// # std::fs::remove_file(&path)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// [`ModelFileError::Io`] if the file cannot be written.
    fn save_safetensors(&self, path: impl AsRef<Path>) -> Result<(), ModelFileError> {
        io::safetensors::save(self, path.as_ref())
    }

    /// Loads a network from a safetensors file with PyTorch `nn.Sequential` names and layouts,
    /// such as `safetensors.torch.save_file(model.state_dict(), path)` writes. Every tensor of
    /// the network must be in the file with its shape, as F32, F16 or BF16 (converted), and
    /// nothing else: otherwise the error lists each difference (missing, unexpected, wrong shape
    /// with both shapes, wrong type). NaN or infinite values are refused.
    ///
    /// ```
    /// use nn::prelude::*;
    ///
    /// network! {
    ///     struct Saved { Linear(4, 8) -> ReLU -> Linear(8, 2) }
    ///     struct Other { Linear(4, 8) -> ReLU -> Linear(8, 3) }
    /// }
    /// let path = std::env::temp_dir().join(format!("other-{}.safetensors", std::process::id()));
    /// Saved::zeroed().save_safetensors(&path)?;
    /// let error = Other::load_safetensors(&path).unwrap_err();
    /// assert!(error.to_string().contains("`2.weight` has shape [2, 8], but the network's is [3, 8]"), "{error}");
    /// # std::fs::remove_file(&path)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// [`ModelFileError::TensorsDoNotFit`] with every difference, [`ModelFileError::NotSafetensors`]
    /// for a file in another format, [`ModelFileError::Io`] and [`ModelFileError::NotAFile`].
    fn load_safetensors(path: impl AsRef<Path>) -> Result<Self, ModelFileError> {
        io::safetensors::load(path.as_ref())
    }
}

/// `values` as a fixed-size input (or target) of `N` values: how data loaded at run time as a
/// `Vec<f32>` enters a network, with an error naming both lengths if it does not fit.
///
/// ```
/// use nn::prelude::*;
///
/// network! { struct Net { Linear(3, 1) } }
/// let loaded: Vec<f32> = vec![0.5, 1.0, -1.0];
/// let output = Net::zeroed().forward(&nn::to_array(&loaded)?);
/// let error = nn::to_array::<4>(&loaded).unwrap_err();
/// assert_eq!(error.to_string(), "expected 4 values, found 3");
/// # Ok::<(), nn::LengthMismatch>(())
/// ```
///
/// # Errors
/// [`LengthMismatch`] unless `values` has exactly `N` values.
pub fn to_array<const N: usize>(values: &[f32]) -> Result<[f32; N], LengthMismatch> {
    values.try_into().map_err(|_| LengthMismatch { expected: N, found: values.len() })
}

/// A slice of another length than the fixed size it was to become.
///
/// ```
/// let error = nn::LengthMismatch { expected: 784, found: 785 };
/// assert_eq!(error.to_string(), "expected 784 values, found 785");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("expected {expected} values, found {found}")]
pub struct LengthMismatch {
    /// The fixed size.
    pub expected: usize,
    /// The slice's length.
    pub found: usize,
}

/// The index of the largest value (the first one on ties).
///
/// ```
/// assert_eq!(nn::argmax(&[0.1, 0.7, 0.2]), 1);
/// ```
pub fn argmax(values: &[f32]) -> usize {
    let mut best = 0;
    for (index, value) in values.iter().enumerate() {
        if *value > values[best] {
            best = index;
        }
    }
    best
}

/// A one-hot target: `1.0` at `class`, `0.0` elsewhere.
///
/// ```
/// assert_eq!(nn::one_hot::<4>(2), [0.0, 0.0, 1.0, 0.0]);
/// ```
///
/// # Panics
/// If `class >= N`.
pub fn one_hot<const N: usize>(class: usize) -> [f32; N] {
    assert!(class < N, "class {class} does not fit a one-hot vector of {N} values");
    let mut target = [0.0; N];
    target[class] = 1.0;
    target
}
