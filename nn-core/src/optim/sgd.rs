use super::Optimizer;
use crate::kernels::axpy;
use rayon::prelude::*;

/// Parameters per task when the update of a large tensor (over
/// [`PARALLEL_WORK`](crate::kernels::PARALLEL_WORK) values) is split across the rayon threads.
const TASK_PARAMETERS: usize = 1 << 14;

/// Stochastic gradient descent: `p -= learning_rate * g`.
///
/// ```
/// use nn::optim::{Optimizer, Sgd};
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
    ///
    /// ```
    /// assert_eq!(nn::optim::Sgd::new(0.1).learning_rate, 0.1);
    /// ```
    pub fn new(learning_rate: f32) -> Self {
        Self { learning_rate }
    }
}

impl Optimizer for Sgd {
    /// # Panics
    /// If `parameters` and `gradients` differ in length.
    fn update(&mut self, _slot: usize, parameters: &mut [f32], gradients: &[f32]) {
        assert_eq!(parameters.len(), gradients.len(), "one gradient per parameter");
        let step = -self.learning_rate;
        if crate::kernels::batch_splits(parameters.len()) {
            let tasks = parameters.par_chunks_mut(TASK_PARAMETERS).zip(gradients.par_chunks(TASK_PARAMETERS));
            tasks.for_each(|(parameters, gradients)| axpy(parameters, step, gradients));
        } else {
            axpy(parameters, step, gradients);
        }
    }

    fn plain_sgd_learning_rate(&self) -> Option<f32> {
        Some(self.learning_rate)
    }
}
