/// Updates parameters from their gradients, one parameter tensor at a time.
///
/// A training step calls [`begin_step`](Optimizer::begin_step) once, then
/// [`update`](Optimizer::update) for every parameter tensor of the network, always in the same
/// order, so `slot` identifies a tensor across steps (an optimizer with state such as momentum
/// keeps one buffer per slot). Optimizers are `Send`: a mini-batch step runs on a worker thread.
///
/// ```
/// use nn::optim::Optimizer;
///
/// /// Gradient descent with a step that halves every call.
/// struct Halving { learning_rate: f32 }
///
/// impl Optimizer for Halving {
///     fn begin_step(&mut self) { self.learning_rate *= 0.5; }
///     fn update(&mut self, _slot: usize, parameters: &mut [f32], gradients: &[f32]) {
///         for (p, g) in parameters.iter_mut().zip(gradients) {
///             *p -= self.learning_rate * g;
///         }
///     }
/// }
///
/// let mut optimizer = Halving { learning_rate: 1.0 };
/// let mut parameters = [1.0];
/// optimizer.begin_step();
/// optimizer.update(0, &mut parameters, &[1.0]);
/// assert_eq!(parameters, [0.5]);
/// ```
pub trait Optimizer: Send {
    /// Called once before the parameter updates of each step.
    ///
    /// ```
    /// use nn::optim::{Optimizer, Sgd};
    ///
    /// let mut sgd = Sgd::new(0.1);
    /// sgd.begin_step(); // stateless: nothing to do
    /// assert_eq!(sgd.learning_rate, 0.1);
    /// ```
    fn begin_step(&mut self) {}

    /// Moves `parameters` (tensor number `slot`) given their `gradients`.
    ///
    /// ```
    /// use nn::optim::{Optimizer, Sgd};
    ///
    /// let mut parameters = [1.0, 2.0];
    /// Sgd::new(0.5).update(0, &mut parameters, &[2.0, -2.0]);
    /// assert_eq!(parameters, [0.0, 3.0]);
    /// ```
    fn update(&mut self, slot: usize, parameters: &mut [f32], gradients: &[f32]);

    /// `Some(learning_rate)` when this optimizer is stateless plain SGD,
    /// `p -= learning_rate * g`. A network then fuses the update into its backward pass for
    /// single-sample steps, instead of storing gradients first.
    ///
    /// ```
    /// use nn::optim::{Optimizer, Sgd};
    /// assert_eq!(Sgd::new(0.1).plain_sgd_learning_rate(), Some(0.1));
    /// ```
    fn plain_sgd_learning_rate(&self) -> Option<f32> {
        None
    }
}
