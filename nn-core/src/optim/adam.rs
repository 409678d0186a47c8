use super::optimizer::{accept, below_one, non_negative, InvalidHyperParameter, Slots};
use super::Optimizer;
use crate::kernels::{adam, AdamCoefficients};

/// Adam, PyTorch's `torch.optim.Adam` (and with [`adamw`](Adam::adamw), `torch.optim.AdamW`):
/// running means of the gradients and of their squares, bias-corrected, scale each step.
/// PyTorch's defaults: `betas` (0.9, 0.999), `eps` 1e-8, no weight decay, no AMSGrad.
///
/// The hyper-parameters are `f64`, as PyTorch's Python floats are: the scalars of a step are
/// computed from them in double precision and rounded once, where PyTorch rounds them, so that
/// the updates agree with PyTorch's to rounding. Each parameter tensor gets its two moment
/// buffers (three with AMSGrad) on the first step.
///
/// ```
/// use nn::optim::{Adam, Optimizer};
///
/// let mut adam = Adam::new(0.01);
/// let mut parameters = [1.0, -1.0];
/// for _ in 0..3 {
///     adam.begin_step();
///     adam.update(0, &mut parameters, &[0.5, -2.0]);
/// }
/// // Each step moves each parameter by about the learning rate, whatever its gradient's scale.
/// assert!((parameters[0] - 0.97).abs() < 1e-4 && (parameters[1] + 0.97).abs() < 1e-4);
/// ```
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Adam {
    /// The step size.
    pub learning_rate: f64,
    /// The decay rates of the running means of the gradients and of their squares.
    pub betas: (f64, f64),
    /// Added to the denominator for numerical stability.
    pub eps: f64,
    /// The weight decay: an L2 penalty added to the gradients, or with
    /// `decoupled_weight_decay` a shrinking of the parameters (AdamW).
    pub weight_decay: f64,
    /// AMSGrad: normalise by the largest running mean of squares so far.
    pub amsgrad: bool,
    /// Decay the parameters directly (`p *= 1 - learning_rate * weight_decay`), as AdamW does,
    /// instead of adding an L2 term to the gradients.
    pub decoupled_weight_decay: bool,
    steps: u64,
    moments: Slots<2>,
    maxima: Slots<1>,
}

impl Adam {
    /// Adam with PyTorch's defaults and the given learning rate (PyTorch's default is 1e-3).
    ///
    /// ```
    /// let adam = nn::optim::Adam::new(1e-3);
    /// assert_eq!((adam.betas, adam.eps, adam.weight_decay), ((0.9, 0.999), 1e-8, 0.0));
    /// ```
    ///
    /// # Panics
    /// If the learning rate is negative or not finite, as PyTorch refuses it; see
    /// [`try_new`](Adam::try_new) for a rate known only at run time.
    ///
    /// ```should_panic
    /// nn::optim::Adam::new(f64::INFINITY); // Adam: the learning rate is inf; it must be ...
    /// ```
    #[track_caller]
    pub fn new(learning_rate: f64) -> Self {
        accept(non_negative("Adam", "lr", "learning rate", learning_rate));
        Self::unchecked(learning_rate)
    }

    /// Adam with the given learning rate, or the error saying why it is refused.
    ///
    /// ```
    /// use nn::optim::Adam;
    ///
    /// assert_eq!(Adam::try_new(1e-3), Ok(Adam::new(1e-3)));
    /// assert_eq!(Adam::try_new(-1e-3).unwrap_err().name, "lr");
    /// ```
    pub fn try_new(learning_rate: f64) -> Result<Self, InvalidHyperParameter> {
        non_negative("Adam", "lr", "learning rate", learning_rate).map(|()| Self::unchecked(learning_rate))
    }

    fn unchecked(learning_rate: f64) -> Self {
        Self {
            learning_rate,
            betas: (0.9, 0.999),
            eps: 1e-8,
            weight_decay: 0.0,
            amsgrad: false,
            decoupled_weight_decay: false,
            steps: 0,
            moments: Slots::default(),
            maxima: Slots::default(),
        }
    }

    /// AdamW with PyTorch's defaults: decoupled weight decay of 0.01.
    ///
    /// ```
    /// let adamw = nn::optim::Adam::adamw(1e-3);
    /// assert!(adamw.decoupled_weight_decay && adamw.weight_decay == 0.01);
    /// ```
    ///
    /// # Panics
    /// If the learning rate is negative or not finite.
    #[track_caller]
    pub fn adamw(learning_rate: f64) -> Self {
        Self { weight_decay: 0.01, decoupled_weight_decay: true, ..Self::new(learning_rate) }
    }

    /// With other decay rates.
    ///
    /// ```
    /// assert_eq!(nn::optim::Adam::new(1e-3).with_betas(0.8, 0.99).betas, (0.8, 0.99));
    /// ```
    ///
    /// # Panics
    /// If either is outside `[0, 1)`.
    #[track_caller]
    pub fn with_betas(self, beta1: f64, beta2: f64) -> Self {
        accept(below_one("Adam", "beta1", "first decay rate (beta1)", beta1));
        accept(below_one("Adam", "beta2", "second decay rate (beta2)", beta2));
        Self { betas: (beta1, beta2), ..self }
    }

    /// With another `eps`.
    ///
    /// ```
    /// assert_eq!(nn::optim::Adam::new(1e-3).with_eps(1e-6).eps, 1e-6);
    /// ```
    ///
    /// # Panics
    /// If it is negative or not finite.
    #[track_caller]
    pub fn with_eps(self, eps: f64) -> Self {
        accept(non_negative("Adam", "eps", "eps", eps));
        Self { eps, ..self }
    }

    /// With a weight decay (an L2 term for Adam, a decay of the parameters for AdamW).
    ///
    /// ```
    /// assert_eq!(nn::optim::Adam::new(1e-3).with_weight_decay(1e-4).weight_decay, 1e-4);
    /// ```
    ///
    /// # Panics
    /// If it is negative or not finite.
    #[track_caller]
    pub fn with_weight_decay(self, weight_decay: f64) -> Self {
        accept(non_negative("Adam", "weight_decay", "weight decay", weight_decay));
        Self { weight_decay, ..self }
    }

    /// With or without AMSGrad.
    ///
    /// ```
    /// assert!(nn::optim::Adam::new(1e-3).with_amsgrad(true).amsgrad);
    /// ```
    pub fn with_amsgrad(self, amsgrad: bool) -> Self {
        Self { amsgrad, ..self }
    }

    /// The steps taken so far (the `t` of the bias corrections).
    ///
    /// ```
    /// use nn::optim::{Adam, Optimizer};
    ///
    /// let mut adam = Adam::new(1e-3);
    /// adam.begin_step();
    /// assert_eq!(adam.steps(), 1);
    /// ```
    pub fn steps(&self) -> u64 {
        self.steps
    }

    /// The scalars of the current step, computed in `f64` and rounded where PyTorch rounds.
    fn coefficients(&self) -> AdamCoefficients {
        let (beta1, beta2) = self.betas;
        let t = self.steps.max(1) as f64;
        let decay = if self.decoupled_weight_decay { 1.0 - self.learning_rate * self.weight_decay } else { 1.0 };
        let l2 = if self.decoupled_weight_decay { 0.0 } else { self.weight_decay };
        AdamCoefficients {
            decay: decay as f32,
            weight_decay: l2 as f32,
            one_minus_beta1: (1.0 - beta1) as f32,
            beta2: beta2 as f32,
            one_minus_beta2: (1.0 - beta2) as f32,
            bias_correction2_sqrt: (1.0 - beta2.powf(t)).sqrt() as f32,
            eps: self.eps as f32,
            step: (-(self.learning_rate / (1.0 - beta1.powf(t)))) as f32,
        }
    }
}

impl Optimizer for Adam {
    fn learning_rate(&self) -> f64 {
        self.learning_rate
    }

    fn set_learning_rate(&mut self, learning_rate: f64) {
        self.learning_rate = learning_rate;
    }

    fn check(&self) -> Result<(), InvalidHyperParameter> {
        non_negative("Adam", "lr", "learning rate", self.learning_rate)?;
        non_negative("Adam", "eps", "eps", self.eps)?;
        below_one("Adam", "beta1", "first decay rate (beta1)", self.betas.0)?;
        below_one("Adam", "beta2", "second decay rate (beta2)", self.betas.1)?;
        non_negative("Adam", "weight_decay", "weight decay", self.weight_decay)
    }

    fn begin_step(&mut self) {
        self.steps += 1;
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
}

impl Adam {
    /// One tensor's update, keeping the values from before in `previous` unless it is empty;
    /// whether every parameter is finite after.
    fn step(&mut self, slot: usize, parameters: &mut [f32], gradients: &[f32], previous: &mut [f32]) -> bool {
        assert_eq!(parameters.len(), gradients.len(), "one gradient per parameter");
        let coefficients = self.coefficients();
        let ([m, v], _) = self.moments.get(slot, parameters.len());
        let max_v = match self.amsgrad {
            true => &mut self.maxima.get(slot, parameters.len()).0[0][..],
            false => &mut [][..],
        };
        adam(parameters, gradients, m, v, max_v, previous, coefficients)
    }
}
