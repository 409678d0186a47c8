use super::optimizer::{accept, non_negative, InvalidHyperParameter};
use super::Optimizer;

/// How [`Clipped`] limits the gradients before each step, as PyTorch's
/// `torch.nn.utils.clip_grad_norm_` and `clip_grad_value_` do before `optimizer.step()`.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub enum Clip {
    /// Scale every gradient by `max_norm / (norm + 1e-6)` when the L2 norm of all of them
    /// together exceeds `max_norm`.
    Norm(f32),
    /// Clamp each gradient to `[-value, value]`.
    Value(f32),
}

/// An optimizer whose gradients are clipped before each of its steps. A clipped plain SGD
/// takes the path that stores gradients, not the fused one.
///
/// ```
/// use nn::optim::{Adam, Clip, Clipped};
/// use nn::prelude::*;
///
/// network! { struct Net { Linear(2, 1) } }
/// let mut net = Net::zeroed();
/// let mut workspace = net.workspace();
/// let mut optimizer = Clipped::new(Sgd::new(1.0), Clip::Norm(0.5));
/// // Gradients (-2000, -1000, -1000) of norm 2449 are scaled to a norm of 0.5.
/// net.train_step(&mut workspace, &[2.0, 1.0], &[1000.0], &Mse, &mut optimizer)?;
/// let mut squares = 0.0;
/// net.visit_tensors(&mut |tensor| squares += tensor.values.iter().map(|v| v * v).sum::<f32>());
/// assert!((squares.sqrt() - 0.5).abs() < 1e-6, "{}", squares.sqrt());
/// # Ok::<(), nn::TrainError>(())
/// ```
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Clipped<O> {
    /// The optimizer that applies the clipped gradients.
    pub optimizer: O,
    /// The limit.
    pub clip: Clip,
}

impl<O> Clipped<O> {
    /// `optimizer` with its gradients clipped by `clip`.
    ///
    /// ```
    /// use nn::optim::{Clip, Clipped, Sgd};
    /// assert_eq!(Clipped::new(Sgd::new(0.1), Clip::Norm(1.0)).clip, Clip::Norm(1.0));
    /// ```
    ///
    /// # Panics
    /// If the limit is negative or not finite.
    #[track_caller]
    pub fn new(optimizer: O, clip: Clip) -> Self {
        accept(clip.check());
        Self { optimizer, clip }
    }
}

impl Clip {
    /// `Ok` if the limit is a finite number of at least 0.
    fn check(self) -> Result<(), InvalidHyperParameter> {
        match self {
            Clip::Norm(limit) => non_negative("Clipped", "max_norm", "largest gradient norm", limit),
            Clip::Value(limit) => non_negative("Clipped", "clip_value", "largest gradient value", limit),
        }
    }
}

/// Added to the norm before dividing, as PyTorch does.
const NORM_EPS: f64 = 1e-6;

impl<O: Optimizer> Optimizer for Clipped<O> {
    fn learning_rate(&self) -> f64 {
        self.optimizer.learning_rate()
    }

    fn set_learning_rate(&mut self, learning_rate: f64) {
        self.optimizer.set_learning_rate(learning_rate);
    }

    fn check(&self) -> Result<(), InvalidHyperParameter> {
        self.clip.check()?;
        self.optimizer.check()
    }

    fn prepare(&mut self, gradients: &mut [f32]) {
        match self.clip {
            Clip::Norm(limit) => {
                // Summed in f64: a network's millions of squares would lose precision in f32.
                let norm = gradients.iter().map(|g| f64::from(*g) * f64::from(*g)).sum::<f64>().sqrt();
                let scale = (f64::from(limit) / (norm + NORM_EPS)).min(1.0) as f32;
                if scale < 1.0 {
                    gradients.iter_mut().for_each(|g| *g *= scale);
                }
            }
            Clip::Value(limit) => gradients.iter_mut().for_each(|g| *g = g.clamp(-limit, limit)),
        }
        self.optimizer.prepare(gradients);
    }

    fn begin_step(&mut self) {
        self.optimizer.begin_step();
    }

    fn update(&mut self, slot: usize, parameters: &mut [f32], gradients: &[f32]) {
        self.optimizer.update(slot, parameters, gradients);
    }

    fn update_checked(&mut self, slot: usize, parameters: &mut [f32], gradients: &[f32], previous: &mut [f32]) -> bool {
        self.optimizer.update_checked(slot, parameters, gradients, previous)
    }
}
