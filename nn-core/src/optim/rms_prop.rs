use super::optimizer::{accept, non_negative, InvalidHyperParameter, Slots};
use super::Optimizer;
use crate::kernels::{rms_prop, RmsPropCoefficients};

/// RMSprop, PyTorch's `torch.optim.RMSprop`: each step divides the gradient by the root of a
/// running mean of its squares (centred: minus the square of the running mean of the
/// gradients). PyTorch's defaults: learning rate 1e-2, `alpha` 0.99, `eps` 1e-8, no weight
/// decay, no momentum, not centred. Hyper-parameters are `f64`, as for [`Adam`](super::Adam).
///
/// ```
/// use nn::optim::{Optimizer, RmsProp};
///
/// let mut rms_prop = RmsProp::new(0.01);
/// let mut parameters = [1.0];
/// rms_prop.update(0, &mut parameters, &[3.0]);
/// assert!((parameters[0] - 0.9).abs() < 1e-5); // 3 / √(0.01 · 3²) = 10
/// ```
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct RmsProp {
    /// The step size.
    pub learning_rate: f64,
    /// The smoothing constant of the running means.
    pub alpha: f64,
    /// Added to the denominator for numerical stability.
    pub eps: f64,
    /// The L2 penalty added to the gradients.
    pub weight_decay: f64,
    /// The momentum factor (0 for none).
    pub momentum: f64,
    /// Normalise by the estimated variance (the mean of squares minus the squared mean).
    pub centered: bool,
    squares: Slots<1>,
    means: Slots<1>,
    buffers: Slots<1>,
}

impl RmsProp {
    /// RMSprop with PyTorch's defaults and the given learning rate.
    ///
    /// ```
    /// let rms_prop = nn::optim::RmsProp::new(1e-2);
    /// assert_eq!((rms_prop.alpha, rms_prop.eps), (0.99, 1e-8));
    /// ```
    ///
    /// # Panics
    /// If the learning rate is negative or not finite, as PyTorch refuses it; see
    /// [`try_new`](RmsProp::try_new) for a rate known only at run time.
    #[track_caller]
    pub fn new(learning_rate: f64) -> Self {
        accept(non_negative("RmsProp", "lr", "learning rate", learning_rate));
        Self::unchecked(learning_rate)
    }

    /// RMSprop with the given learning rate, or the error saying why it is refused.
    ///
    /// ```
    /// use nn::optim::RmsProp;
    ///
    /// assert_eq!(RmsProp::try_new(1e-2), Ok(RmsProp::new(1e-2)));
    /// assert!(RmsProp::try_new(f64::NAN).is_err());
    /// ```
    pub fn try_new(learning_rate: f64) -> Result<Self, InvalidHyperParameter> {
        non_negative("RmsProp", "lr", "learning rate", learning_rate).map(|()| Self::unchecked(learning_rate))
    }

    fn unchecked(learning_rate: f64) -> Self {
        Self {
            learning_rate,
            alpha: 0.99,
            eps: 1e-8,
            weight_decay: 0.0,
            momentum: 0.0,
            centered: false,
            squares: Slots::default(),
            means: Slots::default(),
            buffers: Slots::default(),
        }
    }

    /// With another smoothing constant.
    ///
    /// ```
    /// assert_eq!(nn::optim::RmsProp::new(1e-2).with_alpha(0.9).alpha, 0.9);
    /// ```
    ///
    /// # Panics
    /// If it is negative or not finite.
    #[track_caller]
    pub fn with_alpha(self, alpha: f64) -> Self {
        accept(non_negative("RmsProp", "alpha", "smoothing constant (alpha)", alpha));
        Self { alpha, ..self }
    }

    /// With another `eps`.
    ///
    /// ```
    /// assert_eq!(nn::optim::RmsProp::new(1e-2).with_eps(1e-6).eps, 1e-6);
    /// ```
    ///
    /// # Panics
    /// If it is negative or not finite.
    #[track_caller]
    pub fn with_eps(self, eps: f64) -> Self {
        accept(non_negative("RmsProp", "eps", "eps", eps));
        Self { eps, ..self }
    }

    /// With an L2 penalty.
    ///
    /// ```
    /// assert_eq!(nn::optim::RmsProp::new(1e-2).with_weight_decay(1e-4).weight_decay, 1e-4);
    /// ```
    ///
    /// # Panics
    /// If it is negative or not finite.
    #[track_caller]
    pub fn with_weight_decay(self, weight_decay: f64) -> Self {
        accept(non_negative("RmsProp", "weight_decay", "weight decay", weight_decay));
        Self { weight_decay, ..self }
    }

    /// With momentum.
    ///
    /// ```
    /// assert_eq!(nn::optim::RmsProp::new(1e-2).with_momentum(0.9).momentum, 0.9);
    /// ```
    ///
    /// # Panics
    /// If it is negative or not finite.
    #[track_caller]
    pub fn with_momentum(self, momentum: f64) -> Self {
        accept(non_negative("RmsProp", "momentum", "momentum", momentum));
        Self { momentum, ..self }
    }

    /// Centred or not.
    ///
    /// ```
    /// assert!(nn::optim::RmsProp::new(1e-2).with_centered(true).centered);
    /// ```
    pub fn with_centered(self, centered: bool) -> Self {
        Self { centered, ..self }
    }
}

impl Optimizer for RmsProp {
    fn learning_rate(&self) -> f64 {
        self.learning_rate
    }

    fn set_learning_rate(&mut self, learning_rate: f64) {
        self.learning_rate = learning_rate;
    }

    fn check(&self) -> Result<(), InvalidHyperParameter> {
        non_negative("RmsProp", "lr", "learning rate", self.learning_rate)?;
        non_negative("RmsProp", "alpha", "smoothing constant (alpha)", self.alpha)?;
        non_negative("RmsProp", "eps", "eps", self.eps)?;
        non_negative("RmsProp", "weight_decay", "weight decay", self.weight_decay)?;
        non_negative("RmsProp", "momentum", "momentum", self.momentum)
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

impl RmsProp {
    /// One tensor's update, keeping the values from before in `previous` unless it is empty;
    /// whether every parameter is finite after.
    fn step(&mut self, slot: usize, parameters: &mut [f32], gradients: &[f32], previous: &mut [f32]) -> bool {
        assert_eq!(parameters.len(), gradients.len(), "one gradient per parameter");
        let len = parameters.len();
        let coefficients = RmsPropCoefficients {
            step: (-self.learning_rate) as f32,
            weight_decay: self.weight_decay as f32,
            alpha: self.alpha as f32,
            one_minus_alpha: (1.0 - self.alpha) as f32,
            eps: self.eps as f32,
            momentum: self.momentum as f32,
        };
        let ([square], _) = self.squares.get(slot, len);
        let mean = match self.centered {
            true => &mut self.means.get(slot, len).0[0][..],
            false => &mut [][..],
        };
        let buffer = match self.momentum > 0.0 {
            true => &mut self.buffers.get(slot, len).0[0][..],
            false => &mut [][..],
        };
        rms_prop(parameters, gradients, square, mean, buffer, previous, coefficients)
    }
}
