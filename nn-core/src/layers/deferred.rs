//! The deferred weight updates of per-sample SGD through a layer that reads a network's input.

use crate::heap::AlignedBuffer;
use crate::kernels::{axpy, dense_forward, input_major_forward_rows, input_major_outer, PanelScratch};
use crate::layer::BLOCK_SAMPLES;

/// SGD updates of a first dense layer not yet applied to its weights, for a block of up to
/// [`BLOCK_SAMPLES`] samples: `W += Σ_k s_k x_kᵀ` with
/// `s_k = -learning_rate · dy_k`.
///
/// At the start of a block its inputs are copied in and their products with the weights, `W x_t`,
/// computed at once as one matrix product (much faster per sample than one matrix-vector product
/// each). Sample `t`'s first-layer output is then `W x_t + b + Σ_{k<t} s_k (x_k · x_t)`: exactly
/// what the weights would give had the block's earlier updates been applied, up to rounding.
#[derive(Default)]
pub struct DeferredUpdates {
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

/// The block's state, not its buffers.
impl std::fmt::Debug for DeferredUpdates {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("DeferredUpdates")
            .field("inputs", &self.len)
            .field("pending_updates", &self.count)
            .finish_non_exhaustive()
    }
}

impl DeferredUpdates {
    /// Starts a block: copies `inputs` (at most [`BLOCK_SAMPLES`], `width` values
    /// each) and computes their products with `weight` (input-major: `width` rows of the outputs).
    /// Pending updates must have
    /// been applied.
    pub(crate) fn begin<'x>(&mut self, weight: &[f32], width: usize, inputs: impl Iterator<Item = &'x [f32]>) {
        debug_assert_eq!(self.count, 0, "a block starts with no pending updates");
        let outputs = weight.len() / width.max(1);
        // Sized on first use: the first block of the first call is the warm-up.
        self.inputs.grow(BLOCK_SAMPLES * width);
        for buffer in [&mut self.scales, &mut self.products] {
            if buffer.len() < BLOCK_SAMPLES * outputs {
                buffer.resize(BLOCK_SAMPLES * outputs, 0.0);
            }
        }
        self.zeros.resize(outputs.max(BLOCK_SAMPLES), 0.0);
        self.len = 0;
        for (row, input) in self.inputs.chunks_exact_mut(width).zip(inputs) {
            row.copy_from_slice(input);
            self.len += 1;
        }
        let (inputs, products) = (&self.inputs[..self.len * width], &mut self.products[..self.len * outputs]);
        input_major_forward_rows(weight, &self.zeros[..outputs], inputs, products, &mut self.scratch);
    }

    /// Whether a block has begun and not yet been applied.
    pub(crate) fn in_block(&self) -> bool {
        self.len > 0
    }

    /// The layer's output `y` for the block's next input (which is `x`: one per update
    /// recorded so far), given the current `bias`.
    pub(crate) fn next_output(&self, x: &[f32], bias: &[f32], y: &mut [f32]) {
        let (t, outputs) = (self.count, y.len());
        assert!(t < self.len, "one output per input of the block");
        debug_assert_eq!(&self.inputs[t * x.len()..(t + 1) * x.len()], x, "the block's inputs in order");
        for ((y, product), bias) in y.iter_mut().zip(&self.products[t * outputs..(t + 1) * outputs]).zip(bias) {
            *y = product + bias;
        }
        // `x_k · x_t` for the pending updates at once: four dot products share each load of `x`.
        let mut dots = [0.0; BLOCK_SAMPLES];
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
            let outputs = weight.len() / (self.inputs.len() / BLOCK_SAMPLES).max(1);
            let inputs = self.inputs.len() / BLOCK_SAMPLES;
            let (inputs, scales) = (&self.inputs[..self.count * inputs], &self.scales[..self.count * outputs]);
            input_major_outer(inputs, scales, self.count, 1.0, weight, true, &mut self.scratch);
        }
        self.count = 0;
        self.len = 0;
    }
}
