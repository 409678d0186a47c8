//! The reusable buffers of training and inference.

use crate::heap::AlignedBuffer;
use crate::kernels::{axpy, dense_forward, input_major_forward_rows, input_major_outer, PanelScratch};
use crate::network::Network;

/// Everything a network needs to train or run beyond its parameters: the activations of one
/// sample, the flat parameter gradients, and the buffers of a batch.
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
    pub(crate) deferred: DeferredUpdates,
}

impl<N: Network<IN, OUT>, const IN: usize, const OUT: usize> Workspace<N, IN, OUT> {
    /// Buffers for `network`.
    pub fn new(network: &N) -> Self {
        Self {
            buffers: network.buffers(),
            gradients: AlignedBuffer::zeroed(N::PARAMETERS),
            batch: Batch { buffers: network.batch_buffers(), output_gradients: Vec::new() },
            shards: Vec::new(),
            deferred: DeferredUpdates::default(),
        }
    }

    /// The parameter gradients accumulated by the last step that stored them (not the fused SGD
    /// path), flat, tensor after tensor in [`Network::visit_parameters`] order.
    pub fn gradients(&self) -> &[f32] {
        &self.gradients
    }

    /// Mutable access to the flat parameter gradients.
    pub fn gradients_mut(&mut self) -> &mut [f32] {
        &mut self.gradients
    }
}

/// The buffers of a batch: every layer's activations and gradients, and the loss gradients.
pub(crate) struct Batch<N: Network<IN, OUT>, const IN: usize, const OUT: usize> {
    pub(crate) buffers: N::BatchBuffers,
    pub(crate) output_gradients: Vec<[f32; OUT]>,
}

/// One thread's part of a batch in inference: its activations.
pub(crate) struct Shard<N: Network<IN, OUT>, const IN: usize, const OUT: usize> {
    pub(crate) buffers: N::BatchBuffers,
}

impl<N: Network<IN, OUT>, const IN: usize, const OUT: usize> Shard<N, IN, OUT> {
    /// The first `count` shards of `shards`, creating the missing ones (on the first batch, or a
    /// batch larger than any before).
    pub(crate) fn first<'s>(shards: &'s mut Vec<Self>, network: &N, count: usize) -> &'s mut [Self] {
        while shards.len() < count {
            shards.push(Shard { buffers: network.batch_buffers() });
        }
        &mut shards[..count]
    }
}

/// SGD updates of a first dense layer not yet applied to its weights, for a block of up to
/// [`CAPACITY`](DeferredUpdates::CAPACITY) samples: `W += Σ_k s_k x_kᵀ` with
/// `s_k = -learning_rate · dy_k`.
///
/// At the start of a block its inputs are copied in and their products with the weights, `W x_t`,
/// computed at once as one matrix product (much faster per sample than one matrix-vector product
/// each). Sample `t`'s first-layer output is then `W x_t + b + Σ_{k<t} s_k (x_k · x_t)`: exactly
/// what the weights would give had the block's earlier updates been applied, up to rounding.
#[derive(Default)]
pub(crate) struct DeferredUpdates {
    /// The block's inputs, one row each.
    inputs: AlignedBuffer,
    /// `s_k` for the updates recorded so far.
    scales: Vec<f32>,
    /// `W x_t` for the block's inputs, with the weights from the start of the block.
    products: Vec<f32>,
    /// Zeros, the bias of the block's products (the current bias is added per sample) and of
    /// the dot products of its inputs.
    zeros: Vec<f32>,
    scratch: PanelScratch,
    /// Inputs in the block.
    len: usize,
    /// Updates recorded.
    count: usize,
}

impl DeferredUpdates {
    /// The most samples per block: a whole vector of rows in the block's matrix product.
    pub(crate) const CAPACITY: usize = 16;

    /// Starts a block: copies `inputs` (at most [`CAPACITY`](Self::CAPACITY), `width` values
    /// each) and computes their products with `weight` (input-major: `width` rows of the outputs).
    /// Pending updates must have
    /// been applied.
    pub(crate) fn begin<'x>(&mut self, weight: &[f32], width: usize, inputs: impl Iterator<Item = &'x [f32]>) {
        debug_assert_eq!(self.count, 0, "a block starts with no pending updates");
        let outputs = weight.len() / width.max(1);
        // Sized on first use: the first block of the first call is the warm-up.
        self.inputs.grow(Self::CAPACITY * width);
        for buffer in [&mut self.scales, &mut self.products] {
            if buffer.len() < Self::CAPACITY * outputs {
                buffer.resize(Self::CAPACITY * outputs, 0.0);
            }
        }
        self.zeros.resize(outputs.max(Self::CAPACITY), 0.0);
        self.len = 0;
        for (row, input) in self.inputs.chunks_exact_mut(width).zip(inputs) {
            row.copy_from_slice(input);
            self.len += 1;
        }
        let (inputs, products) = (&self.inputs[..self.len * width], &mut self.products[..self.len * outputs]);
        input_major_forward_rows(weight, &self.zeros[..outputs], inputs, products, &mut self.scratch);
    }

    /// The first-layer output `y` for the block's input number `t` (which is `x`), given the
    /// current `bias`.
    pub(crate) fn first_layer_output(&self, t: usize, x: &[f32], bias: &[f32], y: &mut [f32]) {
        let outputs = y.len();
        for ((y, product), bias) in y.iter_mut().zip(&self.products[t * outputs..(t + 1) * outputs]).zip(bias) {
            *y = product + bias;
        }
        // `x_k · x_t` for the pending updates at once: four dot products share each load of `x`.
        let mut dots = [0.0; Self::CAPACITY];
        let dots = &mut dots[..self.count];
        dense_forward(&self.inputs[..self.count * x.len()], &self.zeros[..self.count], x, dots);
        for (dot, scale) in dots.iter().zip(self.scales.chunks_exact(outputs)) {
            axpy(y, *dot, scale);
        }
    }

    /// Records the update of the block's next sample, whose first-layer output gradient is `dy`.
    pub(crate) fn push(&mut self, dy: &[f32], learning_rate: f32) {
        assert!(self.count < self.len, "one update per input of the block");
        for (scale, delta) in self.scales[self.count * dy.len()..(self.count + 1) * dy.len()].iter_mut().zip(dy) {
            *scale = -learning_rate * delta;
        }
        self.count += 1;
    }

    /// Applies the recorded updates to `weight` in one sweep, and ends the block.
    pub(crate) fn apply(&mut self, weight: &mut [f32]) {
        if self.count > 0 {
            let outputs = weight.len() / (self.inputs.len() / Self::CAPACITY).max(1);
            let inputs = self.inputs.len() / Self::CAPACITY;
            let (inputs, scales) = (&self.inputs[..self.count * inputs], &self.scales[..self.count * outputs]);
            input_major_outer(inputs, scales, self.count, 1.0, weight, true);
        }
        self.count = 0;
        self.len = 0;
    }
}
