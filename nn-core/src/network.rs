//! The trait every `network!` implements, and the training steps written once against it.

use crate::io::{self, ModelFileError};
use crate::losses::Loss;
use crate::optim::Optimizer;
use rand::Rng;
use std::path::Path;

/// How a backward pass treats the gradients of the parameters.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Update {
    /// Add this sample's parameter gradients to the workspace's gradient buffers.
    Accumulate,
    /// Apply plain SGD at once, `p -= learning_rate * g`, fused into the backward sweep over each
    /// weight matrix; the gradient buffers are left alone.
    Sgd {
        /// The SGD step size.
        learning_rate: f32,
    },
}

/// Why a training step refused to update the network.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum TrainError {
    /// The loss (or its gradient) was NaN or infinite; the parameters were left as they were.
    #[error(
        "the loss of sample {sample} in this step is {loss}, not a finite number; the parameters \
         were not updated (check the input for NaN or infinity, or lower the learning rate)"
    )]
    NonFiniteLoss {
        /// The index of the offending sample within the step (0 for a single-sample step).
        sample: usize,
        /// The loss value that was computed.
        loss: f32,
    },
    /// A mini-batch had a different number of inputs and targets.
    #[error("the batch has {inputs} inputs but {targets} targets; they must pair up one to one")]
    BatchSizeMismatch {
        /// The number of inputs.
        inputs: usize,
        /// The number of targets.
        targets: usize,
    },
    /// A mini-batch had no samples.
    #[error("the batch is empty: a training step needs at least one sample")]
    EmptyBatch,
    /// The loss applies softmax itself but the network already ends with `Softmax`.
    #[error(
        "this loss applies softmax to the network's output itself, but the network ({architecture}) \
         already ends with Softmax; remove the trailing Softmax so the network outputs logits"
    )]
    SoftmaxBeforeLogitLoss {
        /// The network's architecture.
        architecture: &'static str,
    },
}

/// Receives each parameter tensor: its name (`"0.weight"`) and values.
pub type ParameterVisitor<'a> = dyn FnMut(&'static str, &[f32]) + 'a;
/// Receives each parameter tensor: its name and mutable values.
pub type ParameterVisitorMut<'a> = dyn FnMut(&'static str, &mut [f32]) + 'a;
/// Receives each parameter tensor: its name, values and accumulated gradients.
pub type GradientVisitor<'a> = dyn FnMut(&'static str, &mut [f32], &mut [f32]) + 'a;

/// A network declared with `network!`: its sizes, parameters, forward and backward passes.
///
/// `IN` and `OUT` are the number of input and output values of one sample. The macro writes the
/// required items as straight-line code; the provided methods (training steps, prediction,
/// save and load) are written once, here, against them.
///
/// A `Workspace` holds every intermediate activation and gradient of one sample. Create it once
/// with [`workspace`](Network::workspace) and pass it to each step: a step then allocates nothing.
pub trait Network<const IN: usize, const OUT: usize>: Sized {
    /// The buffers of a forward and backward pass (activations, their gradients, and the
    /// parameter gradients), allocated on the heap once.
    type Workspace;

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

    /// Fresh buffers for [`forward_with`](Network::forward_with) and
    /// [`backward`](Network::backward).
    fn workspace(&self) -> Self::Workspace;

    /// The output for one input. Intermediate activations live on the stack; nothing is
    /// allocated.
    fn forward(&self, input: &[f32; IN]) -> [f32; OUT];

    /// The output for one input, keeping every activation in `workspace` for a following
    /// [`backward`](Network::backward).
    fn forward_with<'w>(&self, workspace: &'w mut Self::Workspace, input: &[f32; IN]) -> &'w [f32; OUT];

    /// Back-propagates `output_gradient` (`∂L/∂output`) through the activations stored by the
    /// last [`forward_with`](Network::forward_with), layer by layer in reverse, and either
    /// accumulates the parameter gradients or applies SGD at once (see [`Update`]).
    fn backward(&mut self, workspace: &mut Self::Workspace, output_gradient: &[f32; OUT], update: Update);

    /// Calls `visitor` with the name (`"0.weight"`, PyTorch style) and values of every
    /// parameter tensor, in a fixed order.
    fn visit_parameters(&self, visitor: &mut ParameterVisitor);

    /// Like [`visit_parameters`](Network::visit_parameters), with mutable access.
    fn visit_parameters_mut(&mut self, visitor: &mut ParameterVisitorMut);

    /// Calls `visitor` with the name, values and accumulated gradients of every parameter
    /// tensor, in the same order as [`visit_parameters`](Network::visit_parameters).
    fn visit_gradients(&mut self, workspace: &mut Self::Workspace, visitor: &mut GradientVisitor);

    /// The index of the largest output: the predicted class.
    fn predict(&self, input: &[f32; IN]) -> usize {
        argmax(&self.forward(input))
    }

    /// The fraction of `inputs` whose predicted class equals the label at the same index.
    fn accuracy(&self, inputs: &[[f32; IN]], labels: &[u8]) -> f32 {
        assert_eq!(inputs.len(), labels.len(), "accuracy needs one label per input");
        if inputs.is_empty() {
            return 0.0;
        }
        let correct = inputs.iter().zip(labels).filter(|(x, &label)| self.predict(x) == label as usize).count();
        correct as f32 / inputs.len() as f32
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
        workspace: &mut Self::Workspace,
        input: &[f32; IN],
        target: &[f32; OUT],
        loss: &L,
        optimizer: &mut O,
    ) -> Result<f32, TrainError> {
        check_loss_fits::<Self, L, IN, OUT>()?;
        let mut gradient = [0.0; OUT];
        let value = sample_loss(self, workspace, input, target, loss, &mut gradient, 0)?;
        match optimizer.plain_sgd_learning_rate() {
            Some(learning_rate) => self.backward(workspace, &gradient, Update::Sgd { learning_rate }),
            None => {
                zero_gradients(self, workspace);
                self.backward(workspace, &gradient, Update::Accumulate);
                apply_gradients(self, workspace, optimizer, 1.0);
            }
        }
        Ok(value)
    }

    /// One training step on a mini-batch: the parameter gradients are averaged over the
    /// samples, then the optimizer applies them once. Returns the mean loss.
    ///
    /// If any sample's loss is not finite, the parameters are left untouched and an error names
    /// that sample.
    fn train_batch<L: Loss, O: Optimizer + ?Sized>(
        &mut self,
        workspace: &mut Self::Workspace,
        inputs: &[[f32; IN]],
        targets: &[[f32; OUT]],
        loss: &L,
        optimizer: &mut O,
    ) -> Result<f32, TrainError> {
        check_loss_fits::<Self, L, IN, OUT>()?;
        if inputs.len() != targets.len() {
            return Err(TrainError::BatchSizeMismatch { inputs: inputs.len(), targets: targets.len() });
        }
        if inputs.is_empty() {
            return Err(TrainError::EmptyBatch);
        }
        zero_gradients(self, workspace);
        let mut total = 0.0;
        let mut gradient = [0.0; OUT];
        for (sample, (input, target)) in inputs.iter().zip(targets).enumerate() {
            total += sample_loss(self, workspace, input, target, loss, &mut gradient, sample)?;
            self.backward(workspace, &gradient, Update::Accumulate);
        }
        let scale = 1.0 / inputs.len() as f32;
        apply_gradients(self, workspace, optimizer, scale);
        Ok(total * scale)
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

fn check_loss_fits<N: Network<IN, OUT>, L: Loss, const IN: usize, const OUT: usize>() -> Result<(), TrainError> {
    if N::ENDS_WITH_SOFTMAX && L::EXPECTS_LOGITS {
        return Err(TrainError::SoftmaxBeforeLogitLoss { architecture: N::ARCHITECTURE });
    }
    Ok(())
}

/// Forward pass and loss of one sample, with the loss gradient written to `gradient`.
fn sample_loss<N: Network<IN, OUT>, L: Loss, const IN: usize, const OUT: usize>(
    network: &N,
    workspace: &mut N::Workspace,
    input: &[f32; IN],
    target: &[f32; OUT],
    loss: &L,
    gradient: &mut [f32; OUT],
    sample: usize,
) -> Result<f32, TrainError> {
    let output = network.forward_with(workspace, input);
    let value = loss.loss_and_gradient(output, target, gradient);
    if !value.is_finite() || !gradient.iter().all(|g| g.is_finite()) {
        return Err(TrainError::NonFiniteLoss { sample, loss: value });
    }
    Ok(value)
}

fn zero_gradients<N: Network<IN, OUT>, const IN: usize, const OUT: usize>(
    network: &mut N,
    workspace: &mut N::Workspace,
) {
    network.visit_gradients(workspace, &mut |_, _, gradients| gradients.fill(0.0));
}

/// Scales the accumulated gradients by `scale` and hands each tensor to the optimizer.
fn apply_gradients<N: Network<IN, OUT>, O: Optimizer + ?Sized, const IN: usize, const OUT: usize>(
    network: &mut N,
    workspace: &mut N::Workspace,
    optimizer: &mut O,
    scale: f32,
) {
    optimizer.begin_step();
    let mut slot = 0;
    network.visit_gradients(workspace, &mut |_, parameters, gradients| {
        if scale != 1.0 {
            gradients.iter_mut().for_each(|g| *g *= scale);
        }
        optimizer.update(slot, parameters, gradients);
        slot += 1;
    });
}
