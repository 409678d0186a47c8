//! The reusable buffers of training and inference.

use crate::heap::AlignedBuffer;
use crate::layer::{Context, Mode};
use crate::network::Network;
use crate::train::TrainError;

/// Everything a network needs to train or run beyond its parameters: the activations and layer
/// caches of one sample, the flat parameter gradients, the buffers of a batch, and the
/// [`Context`] of training passes (its generator is seeded with 0; see
/// [`reseed`](Workspace::reseed)).
///
/// Create it once with [`Network::workspace`] and pass it to every step. The batch buffers grow to
/// the largest batch seen and are reused after that, so steps allocate nothing after warm-up.
///
/// ```
/// use nn::prelude::*;
///
/// network! { struct Net { Linear(4, 2) } }
///
/// let net = Net::zeroed();
/// let workspace = net.workspace();
/// assert_eq!(workspace.gradients().len(), Net::PARAMETERS);
/// ```
pub struct Workspace<N: Network<IN, OUT>, const IN: usize, const OUT: usize> {
    pub(crate) buffers: N::Buffers,
    pub(crate) gradients: AlignedBuffer,
    pub(crate) batch: Batch<N, IN, OUT>,
    pub(crate) shards: Vec<Shard<N, IN, OUT>>,
    pub(crate) training_shards: Vec<TrainingShard<N, IN, OUT>>,
    /// The parameters on their way from the network to the training shards' copies.
    pub(crate) parameters: AlignedBuffer,
    pub(crate) context: Context,
    /// Training samples whose largest output was at their target's largest value, counted by
    /// the training steps until [`Workspace::take_correct`].
    pub(crate) correct: usize,
}

impl<N: Network<IN, OUT>, const IN: usize, const OUT: usize> Workspace<N, IN, OUT> {
    /// Buffers for `network`.
    ///
    /// ```
    /// use nn::prelude::*;
    ///
    /// network! { struct Net { Linear(4, 2) } }
    /// let workspace = Workspace::new(&Net::zeroed()); // the same as `net.workspace()`
    /// assert_eq!(workspace.gradients().len(), 10);
    /// ```
    pub fn new(network: &N) -> Self {
        Self {
            buffers: network.buffers(),
            gradients: AlignedBuffer::zeroed(N::PARAMETERS),
            batch: Batch { buffers: network.batch_buffers(), output_gradients: Vec::new() },
            shards: Vec::new(),
            training_shards: Vec::new(),
            parameters: AlignedBuffer::default(),
            context: Context::new(Mode::Train, 0),
            correct: 0,
        }
    }

    /// Restarts the random number generator of training passes (dropout masks) from `seed`.
    ///
    /// ```
    /// use nn::prelude::*;
    ///
    /// network! { struct Net { Linear(4, 4) -> Dropout(0.5) -> Linear(4, 1) } }
    /// let net = Net::new(&mut nn::Pcg64Mcg::seed_from_u64(1));
    /// let mut outputs = Vec::new();
    /// for _ in 0..2 {
    ///     let mut workspace = net.workspace();
    ///     workspace.reseed(9); // the same dropout masks each time
    ///     outputs.push(*net.forward_with(&mut workspace, &[1.0; 4]));
    /// }
    /// assert_eq!(outputs[0], outputs[1]);
    /// ```
    pub fn reseed(&mut self, seed: u64) {
        self.context.reseed(seed);
    }

    /// The parameter gradients stored by the last step that stored them (not the fused SGD
    /// path), flat, layer after layer, each in its layer's own layout; see
    /// [`Network::visit_gradients`] for them by name in PyTorch's layout.
    ///
    /// ```
    /// use nn::prelude::*;
    ///
    /// network! { struct Net { Linear(1, 1) } }
    /// let mut net = Net::zeroed();
    /// let mut workspace = net.workspace();
    /// net.forward_with(&mut workspace, &[2.0]);
    /// net.backward(&mut workspace, &[1.0], nn::layers::Update::Accumulate);
    /// assert_eq!(workspace.gradients(), [2.0, 1.0]); // d(weight), d(bias)
    /// ```
    pub fn gradients(&self) -> &[f32] {
        &self.gradients
    }

    /// How many of the samples trained on since the last call had their largest output where
    /// their target has its largest value (outputs before each step's update), and restarts the
    /// count: a running training accuracy at no extra pass.
    ///
    /// ```
    /// use nn::prelude::*;
    ///
    /// network! { struct Net { Linear(2, 2) } }
    /// let mut net = Net::zeroed();
    /// let mut workspace = net.workspace();
    /// let (inputs, targets) = ([[1.0, 0.0], [0.0, 1.0]], [one_hot(0), one_hot(1)]);
    /// for _ in 0..20 {
    ///     workspace.take_correct();
    ///     net.train_batch(&mut workspace, &inputs, &targets, &CrossEntropy, &mut Sgd::new(0.5))?;
    /// }
    /// assert_eq!(workspace.take_correct(), 2); // both right in the last step
    /// assert_eq!(workspace.take_correct(), 0);
    /// # Ok::<(), nn::TrainError>(())
    /// ```
    pub fn take_correct(&mut self) -> usize {
        std::mem::take(&mut self.correct)
    }

    /// Mutable access to the flat parameter gradients.
    ///
    /// ```
    /// use nn::prelude::*;
    ///
    /// network! { struct Net { Linear(1, 1) } }
    /// let mut workspace = Net::zeroed().workspace();
    /// workspace.gradients_mut().fill(0.5);
    /// assert_eq!(workspace.gradients(), [0.5, 0.5]);
    /// ```
    pub fn gradients_mut(&mut self) -> &mut [f32] {
        &mut self.gradients
    }
}

/// The sizes, not the contents: the buffers hold megabytes of activations.
impl<N: Network<IN, OUT>, const IN: usize, const OUT: usize> std::fmt::Debug for Workspace<N, IN, OUT> {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("Workspace")
            .field("gradients", &self.gradients.len())
            .field("batch_rows", &self.batch.output_gradients.len())
            .field("shards", &self.shards.len())
            .field("mode", &self.context.mode())
            .finish_non_exhaustive()
    }
}

/// The buffers of a batch: every layer's activations and gradients, and the loss gradients.
pub(crate) struct Batch<N: Network<IN, OUT>, const IN: usize, const OUT: usize> {
    pub(crate) buffers: N::BatchBuffers,
    pub(crate) output_gradients: Vec<[f32; OUT]>,
}

/// One thread's part of a batch in inference: its activations and its eval-mode context.
pub(crate) struct Shard<N: Network<IN, OUT>, const IN: usize, const OUT: usize> {
    pub(crate) buffers: N::BatchBuffers,
    pub(crate) context: Context,
}

impl<N: Network<IN, OUT>, const IN: usize, const OUT: usize> Shard<N, IN, OUT> {
    /// The first `count` shards of `shards`, creating the missing ones (on the first batch, or a
    /// batch larger than any before).
    pub(crate) fn first<'s>(shards: &'s mut Vec<Self>, network: &N, count: usize) -> &'s mut [Self] {
        while shards.len() < count {
            shards.push(Shard { buffers: network.batch_buffers(), context: Context::new(Mode::Eval, 0) });
        }
        &mut shards[..count]
    }
}

/// One shard of a training batch that runs the whole network on its own rows: the activations,
/// output gradients and parameter gradients of its rows, its train-mode context, and (except
/// for the first shard, which runs the network itself) a copy of the network.
pub(crate) struct TrainingShard<N: Network<IN, OUT>, const IN: usize, const OUT: usize> {
    pub(crate) buffers: N::BatchBuffers,
    pub(crate) output_gradients: Vec<[f32; OUT]>,
    pub(crate) gradients: AlignedBuffer,
    pub(crate) context: Context,
    pub(crate) network: Option<N>,
    /// The summed loss of the shard's rows in the last step, or why it failed.
    /// The shard's summed loss and correct predictions.
    pub(crate) total: Result<(f64, usize), TrainError>,
}

impl<N: Network<IN, OUT>, const IN: usize, const OUT: usize> TrainingShard<N, IN, OUT> {
    /// The first `count` training shards of `shards`, creating the missing ones (on the first
    /// sharded step: the warm-up).
    pub(crate) fn first<'s>(shards: &'s mut Vec<Self>, network: &N, count: usize) -> &'s mut [Self] {
        while shards.len() < count {
            // The first shard runs the network itself, into the workspace's gradients.
            let first = shards.is_empty();
            shards.push(TrainingShard {
                buffers: network.batch_buffers(),
                output_gradients: Vec::new(),
                gradients: AlignedBuffer::zeroed(if first { 0 } else { N::PARAMETERS }),
                context: Context::new(Mode::Train, 0),
                network: (!first).then(|| network.clone()),
                total: Ok((0.0, 0)),
            });
        }
        &mut shards[..count]
    }
}
