//! The trait every `network!` implements.

use crate::io::{self, ModelFileError};
use crate::losses::Loss;
use crate::optim::Optimizer;
use crate::train::{self, TrainError};
use crate::workspace::Workspace;
use rand::Rng;
use std::path::Path;

/// How a backward pass treats the gradients of the parameters.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Update {
    /// Add this sample's parameter gradients to the gradient buffer.
    Accumulate,
    /// Apply plain SGD at once, `p -= learning_rate * g`, fused into the backward sweep over each
    /// weight matrix; the gradient buffer is left alone.
    Sgd {
        /// The SGD step size.
        learning_rate: f32,
    },
}

/// Receives each parameter tensor: its name (`"0.weight"`) and values.
pub type ParameterVisitor<'a> = dyn FnMut(&'static str, &[f32]) + 'a;
/// Receives each parameter tensor: its name and mutable values.
pub type ParameterVisitorMut<'a> = dyn FnMut(&'static str, &mut [f32]) + 'a;

/// A network declared with `network!`: its sizes, parameters, forward and backward passes.
///
/// `IN` and `OUT` are the number of input and output values of one sample. The macro writes the
/// required items as straight-line code, layer by layer; the provided methods (training steps,
/// batched inference, prediction, save and load) are written once, here, against them.
///
/// Training and batched inference go through a [`Workspace`]: create it once with
/// [`workspace`](Network::workspace) and pass it to each step, which then allocates nothing.
///
/// Parameter gradients are one flat buffer, tensor after tensor in
/// [`visit_parameters`](Network::visit_parameters) order.
pub trait Network<const IN: usize, const OUT: usize>: Sized + Send + Sync {
    /// The activations of one sample and their gradients, allocated on the heap once.
    type Buffers: Send;
    /// The activations of a batch of rows and their gradients; they grow to the largest batch.
    type BatchBuffers: Send;

    /// The layer list, as written in the macro: `Linear(784, 100) -> Sigmoid -> Linear(100, 10)`.
    const ARCHITECTURE: &'static str;
    /// A table of the layers with their output shapes and parameter counts.
    const SUMMARY: &'static str;
    /// The total number of trainable parameters.
    const PARAMETERS: usize;
    /// Whether the last layer is `Softmax`.
    const ENDS_WITH_SOFTMAX: bool;

    /// A network with freshly initialised parameters (see [`Init`](crate::init::Init) for the
    /// scheme each layer gets).
    fn new<R: Rng + ?Sized>(rng: &mut R) -> Self;

    /// A network whose parameters are all zero.
    fn zeroed() -> Self;

    /// Fresh buffers for one sample.
    fn buffers(&self) -> Self::Buffers;

    /// Fresh, empty buffers for batches of rows.
    fn batch_buffers(&self) -> Self::BatchBuffers;

    /// The output for one input. Intermediate activations live on the stack; nothing is
    /// allocated.
    fn forward(&self, input: &[f32; IN]) -> [f32; OUT];

    /// The output for one input, keeping every activation in `buffers` for
    /// [`backward_sample`](Network::backward_sample).
    fn forward_sample<'b>(&self, buffers: &'b mut Self::Buffers, input: &[f32; IN]) -> &'b [f32; OUT];

    /// Back-propagates `output_gradient` (`∂L/∂output`) through the activations stored by the
    /// last [`forward_sample`](Network::forward_sample), layer by layer in reverse, and either
    /// adds the parameter gradients to `gradients` or applies SGD at once (see [`Update`]).
    ///
    /// # Panics
    /// If `gradients` does not hold [`PARAMETERS`](Network::PARAMETERS) values.
    fn backward_sample(
        &mut self,
        buffers: &mut Self::Buffers,
        output_gradient: &[f32; OUT],
        gradients: &mut [f32],
        update: Update,
    );

    /// [`forward_sample`](Network::forward_sample), with the first layer's output (before its
    /// activation, if any) written by `first_layer(input, output)` instead of computed by the
    /// layer: the training loop of [`train_samples`](Network::train_samples) computes it for a
    /// block of samples at once.
    fn forward_sample_with_first_layer<'b>(
        &self,
        buffers: &'b mut Self::Buffers,
        input: &[f32; IN],
        first_layer: &mut dyn FnMut(&[f32], &mut [f32]),
    ) -> &'b [f32; OUT];

    /// [`backward_sample`](Network::backward_sample) with plain SGD, except that the first
    /// layer's weight update is handed to `defer(input, first_layer_output_gradient)` instead of
    /// applied (its bias is updated).
    fn backward_sample_deferred(
        &mut self,
        buffers: &mut Self::Buffers,
        output_gradient: &[f32; OUT],
        learning_rate: f32,
        defer: &mut dyn FnMut(&[f32], &[f32]),
    );

    /// The first layer's weights, flat and input-major (one row of outputs per input), and biases.
    fn first_layer(&self) -> (&[f32], &[f32]);

    /// The first layer's weights, flat and input-major (one row of outputs per input), for deferred updates.
    fn first_layer_weight_mut(&mut self) -> &mut [f32];

    /// The outputs for a batch of inputs, keeping every activation in `buffers` for
    /// [`backward_rows`](Network::backward_rows). Dense layers run as blocked matrix products.
    fn forward_rows<'b>(&self, buffers: &'b mut Self::BatchBuffers, inputs: &[[f32; IN]]) -> &'b [[f32; OUT]];

    /// Back-propagates `output_gradients` through the activations of the last
    /// [`forward_rows`](Network::forward_rows) on the same `inputs`. With
    /// [`Update::Accumulate`] it writes the parameter gradients summed over the rows into
    /// `gradients` (its old contents are overwritten); with [`Update::Sgd`] it applies plain SGD
    /// with those sums at once (the first layer straight into its weights; `gradients` is then
    /// scratch space).
    ///
    /// # Panics
    /// If `gradients` does not hold [`PARAMETERS`](Network::PARAMETERS) values, or the last
    /// `forward_rows` had fewer rows.
    fn backward_rows(
        &mut self,
        buffers: &mut Self::BatchBuffers,
        inputs: &[[f32; IN]],
        output_gradients: &[[f32; OUT]],
        gradients: &mut [f32],
        update: Update,
    );

    /// Calls `visitor` with the name (`"0.weight"`, PyTorch style) and values of every
    /// parameter tensor, in a fixed order.
    fn visit_parameters(&self, visitor: &mut ParameterVisitor);

    /// Like [`visit_parameters`](Network::visit_parameters), with mutable access.
    fn visit_parameters_mut(&mut self, visitor: &mut ParameterVisitorMut);

    /// The buffers for training and batched inference of this network.
    fn workspace(&self) -> Workspace<Self, IN, OUT> {
        Workspace::new(self)
    }

    /// [`forward_sample`](Network::forward_sample) with the workspace's buffers.
    fn forward_with<'w>(&self, workspace: &'w mut Workspace<Self, IN, OUT>, input: &[f32; IN]) -> &'w [f32; OUT] {
        self.forward_sample(&mut workspace.buffers, input)
    }

    /// [`backward_sample`](Network::backward_sample) with the workspace's buffers and gradients,
    /// after [`forward_with`](Network::forward_with).
    fn backward(&mut self, workspace: &mut Workspace<Self, IN, OUT>, output_gradient: &[f32; OUT], update: Update) {
        self.backward_sample(&mut workspace.buffers, output_gradient, &mut workspace.gradients, update);
    }

    /// The outputs of a whole batch, one shard of rows per rayon thread, written to `outputs`.
    fn forward_batch(
        &self,
        workspace: &mut Workspace<Self, IN, OUT>,
        inputs: &[[f32; IN]],
        outputs: &mut [[f32; OUT]],
    ) -> Result<(), TrainError> {
        train::forward_batch(self, workspace, inputs, outputs)
    }

    /// The index of the largest output: the predicted class.
    fn predict(&self, input: &[f32; IN]) -> usize {
        argmax(&self.forward(input))
    }

    /// The fraction of `inputs` whose predicted class equals the label at the same index (0 for
    /// no inputs).
    ///
    /// The rows go through the batched forward pass, as in
    /// [`forward_batch`](Network::forward_batch) (one shard of rows per rayon thread, buffers
    /// allocated for the call): on two cores, the 70,000 MNIST digits take 61-68 ms against
    /// 114-147 ms for a call of [`predict`](Network::predict) per digit. Its outputs can differ from
    /// [`forward`](Network::forward)'s in the last bits (the layers add in another order), so a
    /// digit whose two largest outputs tie to within rounding may be counted differently.
    ///
    /// # Errors
    /// [`TrainError::BatchSizeMismatch`] if there are not as many labels as inputs.
    fn accuracy(&self, inputs: &[[f32; IN]], labels: &[u8]) -> Result<f32, TrainError> {
        train::accuracy(self, inputs, labels)
    }

    /// The [`SUMMARY`](Network::SUMMARY) table.
    fn summary(&self) -> &'static str {
        Self::SUMMARY
    }

    /// One training step on one sample: forward, loss, backward and update. Returns the loss.
    ///
    /// With plain [`Sgd`](crate::optim::Sgd) the update is fused into the backward pass. If the
    /// loss is not finite the parameters are left untouched and an error is returned.
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
    /// With plain SGD the samples are taken in blocks of 16 and the first layer's weight updates
    /// are deferred to the end of each block: the block's first-layer products `W x_t` are one
    /// matrix product at its start, each sample adds the effect of the block's earlier updates as
    /// a low-rank correction, `W x_t + Σ_{k<t} s_k (x_k · x_t)`, and at its end the updates are
    /// applied to `W` in one sweep. The result is the same SGD (up to float rounding) with the
    /// largest weight matrix read and rewritten once per block instead of twice per sample. All
    /// updates are applied before this returns.
    ///
    /// If a sample's loss is not finite, the samples before it have been trained on, the
    /// parameters are left as they were after them, and the error names the sample's position.
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
    fn save(&self, path: impl AsRef<Path>) -> Result<(), ModelFileError> {
        io::save(self, path.as_ref())
    }

    /// Loads a network saved by [`save`](Network::save), checking that the file holds this
    /// architecture.
    fn load(path: impl AsRef<Path>) -> Result<Self, ModelFileError> {
        io::load(path.as_ref())
    }
}

/// The index of the largest value (the first one on ties).
///
/// ```
/// assert_eq!(nn_core::argmax(&[0.1, 0.7, 0.2]), 1);
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
/// assert_eq!(nn_core::one_hot::<4>(2), [0.0, 0.0, 1.0, 0.0]);
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
