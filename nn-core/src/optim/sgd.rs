use super::Optimizer;
use crate::kernels::axpy;

/// Stochastic gradient descent: `p -= learning_rate * g`.
///
/// ```
/// use nn_core::optim::{Optimizer, Sgd};
///
/// let mut sgd = Sgd::new(0.1);
/// let mut parameters = [1.0, 2.0];
/// sgd.update(0, &mut parameters, &[1.0, -1.0]);
/// assert_eq!(parameters, [0.9, 2.1]);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Sgd {
    /// The step size.
    pub learning_rate: f32,
}

impl Sgd {
    /// Plain SGD with the given learning rate.
    pub fn new(learning_rate: f32) -> Self {
        Self { learning_rate }
    }
}

impl Optimizer for Sgd {
    fn update(&mut self, _slot: usize, parameters: &mut [f32], gradients: &[f32]) {
        axpy(parameters, -self.learning_rate, gradients);
    }

    fn plain_sgd_learning_rate(&self) -> Option<f32> {
        Some(self.learning_rate)
    }
}
