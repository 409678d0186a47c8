use super::optimizer::{accept, non_negative, InvalidHyperParameter, Slots};
use super::Optimizer;
use crate::kernels::{axpy, sgd_momentum, SgdCoefficients};
use rayon::prelude::*;

/// Parameters per task when the update of a large tensor (over
/// [`PARALLEL_WORK`](crate::kernels::PARALLEL_WORK) values) is split across the rayon threads.
const TASK_PARAMETERS: usize = 1 << 14;

/// Stochastic gradient descent, PyTorch's `torch.optim.SGD`: `p -= learning_rate * d`, where
/// `d` is the gradient plus `weight_decay * p`, through a velocity when `momentum` is set
/// (`v = momentum * v + (1 - dampening) * d`, the first step `v = d`; `d = v`, or with
/// Nesterov `d + momentum * v`). The defaults are PyTorch's: no momentum, dampening or weight
/// decay.
///
/// Plain SGD (no momentum, no weight decay) is fused into the backward pass of single-sample
/// steps; with momentum each parameter tensor gets a velocity buffer on the first step.
///
/// ```
/// use nn::optim::{Optimizer, Sgd};
///
/// let mut sgd = Sgd::new(0.1);
/// let mut parameters = [1.0, 2.0];
/// sgd.update(0, &mut parameters, &[1.0, -1.0]);
/// assert_eq!(parameters, [0.9, 2.1]);
///
/// let mut momentum = Sgd::new(0.1).with_momentum(0.9).with_nesterov(true);
/// momentum.begin_step();
/// momentum.update(0, &mut parameters, &[1.0, -1.0]);
/// assert!((parameters[0] - (0.9 - 0.1 * 1.9)).abs() < 1e-6);
/// ```
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Sgd {
    /// The step size.
    pub learning_rate: f32,
    /// The momentum factor (0 for none).
    pub momentum: f32,
    /// How much of each gradient the velocity does not take in.
    pub dampening: f32,
    /// Nesterov momentum (needs a momentum and no dampening).
    pub nesterov: bool,
    /// The L2 penalty: `weight_decay * p` is added to each gradient.
    pub weight_decay: f32,
    velocity: Slots<1>,
}

impl Sgd {
    /// Plain SGD with the given learning rate.
    ///
    /// ```
    /// assert_eq!(nn::optim::Sgd::new(0.1).learning_rate, 0.1);
    /// ```
    ///
    /// # Panics
    /// If the learning rate is negative or not finite, as PyTorch refuses it; see
    /// [`try_new`](Sgd::try_new) for a rate known only at run time.
    ///
    /// ```should_panic
    /// nn::optim::Sgd::new(-0.1); // Sgd: the learning rate is -0.1; it must be a finite number of at least 0
    /// ```
    #[track_caller]
    pub fn new(learning_rate: f32) -> Self {
        accept(non_negative("Sgd", "lr", "learning rate", learning_rate));
        Self::unchecked(learning_rate)
    }

    /// Plain SGD with the given learning rate, or the error saying why it is refused.
    ///
    /// ```
    /// use nn::optim::Sgd;
    ///
    /// assert_eq!(Sgd::try_new(0.1), Ok(Sgd::new(0.1)));
    /// assert_eq!(Sgd::try_new(f32::NAN).unwrap_err().name, "lr");
    /// ```
    pub fn try_new(learning_rate: f32) -> Result<Self, InvalidHyperParameter> {
        non_negative("Sgd", "lr", "learning rate", learning_rate).map(|()| Self::unchecked(learning_rate))
    }

    fn unchecked(learning_rate: f32) -> Self {
        Self {
            learning_rate,
            momentum: 0.0,
            dampening: 0.0,
            nesterov: false,
            weight_decay: 0.0,
            velocity: Slots::default(),
        }
    }

    /// With a momentum factor.
    ///
    /// ```
    /// assert_eq!(nn::optim::Sgd::new(0.1).with_momentum(0.9).momentum, 0.9);
    /// ```
    ///
    /// # Panics
    /// If it is negative or not finite.
    #[track_caller]
    pub fn with_momentum(self, momentum: f32) -> Self {
        accept(non_negative("Sgd", "momentum", "momentum", momentum));
        Self { momentum, ..self }
    }

    /// With dampening of the velocity.
    ///
    /// ```
    /// assert_eq!(nn::optim::Sgd::new(0.1).with_momentum(0.9).with_dampening(0.1).dampening, 0.1);
    /// ```
    ///
    /// # Panics
    /// If it is not finite.
    #[track_caller]
    pub fn with_dampening(self, dampening: f32) -> Self {
        accept(finite_dampening(dampening));
        Self { dampening, ..self }
    }

    /// With or without Nesterov momentum, which needs a momentum and no dampening (checked by
    /// the first step, so that the builders can come in any order).
    ///
    /// ```
    /// assert!(nn::optim::Sgd::new(0.1).with_momentum(0.9).with_nesterov(true).nesterov);
    /// ```
    pub fn with_nesterov(self, nesterov: bool) -> Self {
        Self { nesterov, ..self }
    }

    /// With an L2 penalty.
    ///
    /// ```
    /// assert_eq!(nn::optim::Sgd::new(0.1).with_weight_decay(1e-4).weight_decay, 1e-4);
    /// ```
    ///
    /// # Panics
    /// If it is negative or not finite.
    #[track_caller]
    pub fn with_weight_decay(self, weight_decay: f32) -> Self {
        accept(non_negative("Sgd", "weight_decay", "weight decay", weight_decay));
        Self { weight_decay, ..self }
    }

    /// Forgets the velocities: the next step starts them afresh, as a new optimizer would.
    ///
    /// ```
    /// use nn::optim::{Optimizer, Sgd};
    ///
    /// let mut sgd = Sgd::new(0.1).with_momentum(0.9);
    /// let mut parameters = [1.0];
    /// sgd.update(0, &mut parameters, &[1.0]);
    /// sgd.reset();
    /// assert_eq!(sgd, Sgd::new(0.1).with_momentum(0.9));
    /// ```
    pub fn reset(&mut self) {
        self.velocity.clear();
    }
}

impl Optimizer for Sgd {
    fn learning_rate(&self) -> f64 {
        self.learning_rate.into()
    }

    fn set_learning_rate(&mut self, learning_rate: f64) {
        self.learning_rate = learning_rate as f32;
    }

    fn check(&self) -> Result<(), InvalidHyperParameter> {
        non_negative("Sgd", "lr", "learning rate", self.learning_rate)?;
        non_negative("Sgd", "momentum", "momentum", self.momentum)?;
        non_negative("Sgd", "weight_decay", "weight decay", self.weight_decay)?;
        finite_dampening(self.dampening)?;
        if self.nesterov && (self.momentum <= 0.0 || self.dampening != 0.0) {
            return Err(InvalidHyperParameter {
                optimizer: "Sgd",
                name: "nesterov",
                description: "momentum of Nesterov SGD",
                value: self.momentum.to_string(),
                requirement: "above 0, with a dampening of 0",
            });
        }
        Ok(())
    }

    /// # Panics
    /// If `parameters` and `gradients` differ in length.
    fn update(&mut self, slot: usize, parameters: &mut [f32], gradients: &[f32]) {
        self.step(slot, parameters, gradients, &mut []);
    }

    /// # Panics
    /// If `parameters`, `gradients` and `previous` differ in length.
    fn update_checked(&mut self, slot: usize, parameters: &mut [f32], gradients: &[f32], previous: &mut [f32]) -> bool {
        assert_eq!(parameters.len(), previous.len(), "one previous value per parameter");
        self.step(slot, parameters, gradients, previous)
    }

    fn plain_sgd_learning_rate(&self) -> Option<f32> {
        (self.momentum == 0.0 && self.weight_decay == 0.0).then_some(self.learning_rate)
    }
}

impl Sgd {
    /// One tensor's update, keeping the values from before in `previous` unless it is empty;
    /// whether every parameter is finite after.
    fn step(&mut self, slot: usize, parameters: &mut [f32], gradients: &[f32], previous: &mut [f32]) -> bool {
        assert_eq!(parameters.len(), gradients.len(), "one gradient per parameter");
        let step = -self.learning_rate;
        if self.momentum != 0.0 || self.weight_decay != 0.0 {
            let ([velocity], first) = self.velocity.get(slot, parameters.len());
            let coefficients = SgdCoefficients {
                step,
                weight_decay: self.weight_decay,
                momentum: self.momentum,
                undampened: (1.0 - f64::from(self.dampening)) as f32,
                nesterov: self.nesterov,
                // Without momentum the velocity is the decayed gradient of this step alone.
                first: first || self.momentum == 0.0,
            };
            return sgd_momentum(parameters, gradients, velocity, previous, coefficients);
        }
        // Plain SGD through the optimizer (clipped, say): the fused steps do not come here.
        previous.copy_from_slice(&parameters[..previous.len()]);
        if crate::kernels::batch_splits(parameters.len()) {
            let tasks = parameters.par_chunks_mut(TASK_PARAMETERS).zip(gradients.par_chunks(TASK_PARAMETERS));
            tasks.for_each(|(parameters, gradients)| axpy(parameters, step, gradients));
        } else {
            axpy(parameters, step, gradients);
        }
        previous.is_empty() || crate::kernels::all_finite(parameters)
    }
}

fn finite_dampening(dampening: f32) -> Result<(), InvalidHyperParameter> {
    if dampening.is_finite() {
        return Ok(());
    }
    let (optimizer, name, description, requirement) = ("Sgd", "dampening", "dampening", "a finite number");
    Err(InvalidHyperParameter { optimizer, name, description, value: dampening.to_string(), requirement })
}
