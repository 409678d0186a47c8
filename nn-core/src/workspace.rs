//! The reusable buffers of training and inference.

use crate::network::Network;
use crate::train::TrainError;

/// Everything a network needs to train or run beyond its parameters: the activations of one
/// sample, the flat parameter gradients, and one shard of batch buffers per worker thread.
///
/// Create it once with [`Network::workspace`] and pass it to every step. The batch shards grow to
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
    pub(crate) gradients: Vec<f32>,
    pub(crate) shards: Vec<Shard<N, IN, OUT>>,
}

impl<N: Network<IN, OUT>, const IN: usize, const OUT: usize> Workspace<N, IN, OUT> {
    /// Buffers for `network`.
    pub fn new(network: &N) -> Self {
        Self { buffers: network.buffers(), gradients: vec![0.0; N::PARAMETERS], shards: Vec::new() }
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

    /// The shards of a batch of `rows`: created (on first use or a larger batch) and returned.
    pub(crate) fn shards(&mut self, network: &N, count: usize) -> &mut [Shard<N, IN, OUT>] {
        while self.shards.len() < count {
            self.shards.push(Shard::new(network));
        }
        &mut self.shards[..count]
    }
}

/// One worker thread's part of a batch: its activations, loss gradients and parameter gradients.
pub(crate) struct Shard<N: Network<IN, OUT>, const IN: usize, const OUT: usize> {
    pub(crate) buffers: N::BatchBuffers,
    pub(crate) output_gradients: Vec<[f32; OUT]>,
    pub(crate) gradients: Vec<f32>,
    pub(crate) loss: f32,
    pub(crate) error: Option<TrainError>,
}

impl<N: Network<IN, OUT>, const IN: usize, const OUT: usize> Shard<N, IN, OUT> {
    fn new(network: &N) -> Self {
        Self {
            buffers: network.batch_buffers(),
            output_gradients: Vec::new(),
            gradients: vec![0.0; N::PARAMETERS],
            loss: 0.0,
            error: None,
        }
    }
}
