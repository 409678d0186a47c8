//! The reusable buffers of training and inference.

use crate::heap::AlignedBuffer;
use crate::kernels::{axpy, dense_rank_update, dot};
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
            batch: Batch {
                buffers: network.batch_buffers(),
                inputs: AlignedBuffer::default(),
                output_gradients: Vec::new(),
            },
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

/// The buffers of a batch: every layer's activations and gradients, a cache-aligned copy of the
/// inputs, and the loss gradients.
pub(crate) struct Batch<N: Network<IN, OUT>, const IN: usize, const OUT: usize> {
    pub(crate) buffers: N::BatchBuffers,
    pub(crate) inputs: AlignedBuffer,
    pub(crate) output_gradients: Vec<[f32; OUT]>,
}

impl<N: Network<IN, OUT>, const IN: usize, const OUT: usize> Batch<N, IN, OUT> {
    /// `inputs`, copied to the start of a cache line so the kernels' vector loads of each row do
    /// not straddle two lines.
    pub(crate) fn aligned_inputs<'a>(inputs: &'a mut AlignedBuffer, rows: &[[f32; IN]]) -> &'a [[f32; IN]] {
        inputs.grow(rows.len() * IN);
        let copy = &mut inputs[..rows.len() * IN];
        copy.copy_from_slice(rows.as_flattened());
        copy.as_chunks::<IN>().0
    }
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

/// SGD updates of a first dense layer not yet applied to its weights: `W += Σ_k s_k x_kᵀ` with
/// `s_k = -learning_rate · dy_k`.
#[derive(Default)]
pub(crate) struct DeferredUpdates {
    inputs: Vec<f32>,
    scales: Vec<f32>,
    count: usize,
}

impl DeferredUpdates {
    /// How many updates wait before they are applied in one sweep. Measured on the 784x100 layer
    /// of the MNIST MLP, where a sweep costs about as much as eight corrections.
    pub(crate) const CAPACITY: usize = 8;

    /// Adds the pending updates' effect on the layer's output `y` for input `x`.
    pub(crate) fn correct(&self, x: &[f32], y: &mut [f32]) {
        if self.count == 0 {
            return;
        }
        let inputs = self.inputs[..self.count * x.len()].chunks_exact(x.len());
        for (pending_input, scale) in inputs.zip(self.scales.chunks_exact(y.len())) {
            axpy(y, dot(pending_input, x), scale);
        }
    }

    /// Records the update of one sample with input `x` and output gradient `dy`.
    pub(crate) fn push(&mut self, x: &[f32], dy: &[f32], learning_rate: f32) {
        // Sized on first use: the first sample of the first call is the warm-up.
        if self.inputs.len() < Self::CAPACITY * x.len() || self.scales.len() < Self::CAPACITY * dy.len() {
            self.inputs.resize(Self::CAPACITY * x.len(), 0.0);
            self.scales.resize(Self::CAPACITY * dy.len(), 0.0);
        }
        self.inputs[self.count * x.len()..(self.count + 1) * x.len()].copy_from_slice(x);
        for (scale, delta) in self.scales[self.count * dy.len()..(self.count + 1) * dy.len()].iter_mut().zip(dy) {
            *scale = -learning_rate * delta;
        }
        self.count += 1;
    }

    pub(crate) fn is_full(&self) -> bool {
        self.count == Self::CAPACITY
    }

    /// Applies the pending updates to `weight` in one sweep.
    pub(crate) fn apply(&mut self, weight: &mut [f32]) {
        if self.count > 0 {
            let inputs = self.inputs.len() / Self::CAPACITY;
            let outputs = self.scales.len() / Self::CAPACITY;
            dense_rank_update(
                weight,
                &self.inputs[..self.count * inputs],
                &self.scales[..self.count * outputs],
                self.count,
            );
            self.count = 0;
        }
    }
}
