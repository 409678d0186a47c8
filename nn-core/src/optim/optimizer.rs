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
///     fn learning_rate(&self) -> f64 { self.learning_rate.into() }
///     fn set_learning_rate(&mut self, learning_rate: f64) { self.learning_rate = learning_rate as f32; }
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
    /// The step size of the next steps, PyTorch's `param_groups[0]["lr"]`: every optimizer has
    /// one, and [schedules](super::Scheduler) set it.
    ///
    /// ```
    /// use nn::optim::{Adam, Optimizer};
    ///
    /// let mut adam = Adam::new(1e-3);
    /// adam.set_learning_rate(5e-4);
    /// assert_eq!(adam.learning_rate(), 5e-4);
    /// ```
    fn learning_rate(&self) -> f64;

    /// Sets the step size of the next steps.
    ///
    /// ```
    /// use nn::optim::{Optimizer, Sgd};
    ///
    /// let mut sgd = Sgd::new(0.1);
    /// sgd.set_learning_rate(0.05);
    /// assert_eq!(sgd.learning_rate(), 0.05f32 as f64);
    /// ```
    fn set_learning_rate(&mut self, learning_rate: f64);

    /// Checks the hyper-parameters before a step uses them; a training step refuses to run
    /// (changing nothing) when they are outside what PyTorch accepts. The built-in optimizers
    /// refuse each value when it is given, too (their constructors and builders panic); this
    /// catches what was set afterwards through a public field, and combinations (Nesterov
    /// without momentum).
    ///
    /// ```
    /// use nn::optim::{Optimizer, Sgd};
    ///
    /// assert!(Sgd::new(0.1).check().is_ok());
    /// let mut sgd = Sgd::new(0.1);
    /// sgd.learning_rate = -0.1; // set after construction, which refused it
    /// let error = sgd.check().unwrap_err();
    /// assert_eq!(error.to_string(), "Sgd: the learning rate is -0.1; it must be a finite number of at least 0");
    /// ```
    fn check(&self) -> Result<(), InvalidHyperParameter> {
        Ok(())
    }

    /// Called once per step with every parameter gradient (the network's flat gradient buffer,
    /// layer after layer) before any update: where gradients are clipped (see
    /// [`Clipped`](super::Clipped)). Nothing by default.
    ///
    /// ```
    /// use nn::optim::{Clip, Clipped, Optimizer, Sgd};
    ///
    /// let mut clipped = Clipped::new(Sgd::new(0.1), Clip::Value(1.0));
    /// let mut gradients = [3.0, -0.5, -2.0];
    /// clipped.prepare(&mut gradients);
    /// assert_eq!(gradients, [1.0, -0.5, -1.0]);
    /// ```
    fn prepare(&mut self, gradients: &mut [f32]) {
        let _ = gradients;
    }

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

    /// [`update`](Optimizer::update), keeping the parameters' values from before in `previous`
    /// (as long as `parameters`), and whether every parameter is finite afterwards: a training
    /// step puts `previous` back, and refuses the step, when one is not (an optimizer's own
    /// arithmetic can overflow where the gradients did not). The default copies, updates and
    /// checks; the built-in optimizers keep and check inside their update's one pass.
    ///
    /// ```
    /// use nn::optim::{Optimizer, Sgd};
    ///
    /// let mut momentum = Sgd::new(1e30).with_momentum(0.9);
    /// let (mut parameters, mut previous) = ([1.0, 2.0], [0.0; 2]);
    /// assert!(!momentum.update_checked(0, &mut parameters, &[1e10, 0.0], &mut previous));
    /// assert_eq!(previous, [1.0, 2.0]); // what the step puts back
    /// ```
    fn update_checked(&mut self, slot: usize, parameters: &mut [f32], gradients: &[f32], previous: &mut [f32]) -> bool {
        previous.copy_from_slice(parameters);
        self.update(slot, parameters, gradients);
        crate::kernels::all_finite(parameters)
    }

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

/// A hyper-parameter outside the range the optimizer accepts (PyTorch's ranges).
///
/// ```
/// use nn::optim::Adam;
///
/// let error = Adam::try_new(-1.0).unwrap_err();
/// assert_eq!((error.name, error.value.as_str()), ("lr", "-1"));
/// ```
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[error("{optimizer}: the {description} is {value}; it must be {requirement}")]
pub struct InvalidHyperParameter {
    /// The optimizer: `Sgd`, `Adam`, `RmsProp`.
    pub optimizer: &'static str,
    /// The hyper-parameter's name, as PyTorch's argument: `lr`, `momentum`, `beta2`, ...
    pub name: &'static str,
    /// What it is, in words: `learning rate`, `momentum`, ...
    pub description: &'static str,
    /// The value given, as Rust prints it (`-0.1`, `NaN`).
    pub value: String,
    /// What it must be.
    pub requirement: &'static str,
}

/// Panics with the message of `result`'s error: how constructors and builders refuse a
/// hyper-parameter, as PyTorch's raise `ValueError` when an optimizer is made. The panic points
/// at the caller's line.
#[track_caller]
pub(crate) fn accept(result: Result<(), InvalidHyperParameter>) {
    if let Err(error) = result {
        panic!("{error}");
    }
}

/// `Ok` if `value` is finite and at least 0, else the error for `name`.
pub(crate) fn non_negative<T: Into<f64> + std::fmt::Display + Copy>(
    optimizer: &'static str,
    name: &'static str,
    description: &'static str,
    value: T,
) -> Result<(), InvalidHyperParameter> {
    let number: f64 = value.into();
    if number.is_finite() && number >= 0.0 {
        return Ok(());
    }
    let (value, requirement) = (value.to_string(), "a finite number of at least 0");
    Err(InvalidHyperParameter { optimizer, name, description, value, requirement })
}

/// `Ok` if `value` is in `[0, 1)`, else the error for `name`.
pub(crate) fn below_one(
    optimizer: &'static str,
    name: &'static str,
    description: &'static str,
    value: f64,
) -> Result<(), InvalidHyperParameter> {
    if (0.0..1.0).contains(&value) {
        return Ok(());
    }
    Err(InvalidHyperParameter { optimizer, name, description, value: value.to_string(), requirement: "in [0, 1)" })
}

/// Each tensor's state buffers (`N` per tensor: velocity, moments), created zeroed on the first
/// step that reaches the tensor's slot and reused after, so that steps allocate nothing once
/// warmed up. Saved with the optimizer in a checkpoint.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub(crate) struct Slots<const N: usize> {
    /// Per slot, its `N` buffers.
    buffers: Vec<Vec<Vec<f32>>>,
}

impl<const N: usize> Slots<N> {
    /// The buffers of `slot`, each `len` values, and whether they were just created.
    pub(crate) fn get(&mut self, slot: usize, len: usize) -> (&mut [Vec<f32>; N], bool) {
        let fresh = slot >= self.buffers.len() || self.buffers[slot].len() != N || self.buffers[slot][0].len() != len;
        while self.buffers.len() <= slot {
            self.buffers.push(Vec::new());
        }
        if fresh {
            let buffers = &mut self.buffers[slot];
            buffers.resize_with(N, Vec::new);
            for buffer in buffers {
                buffer.clear();
                buffer.resize(len, 0.0);
            }
        }
        let buffers = (&mut self.buffers[slot][..]).try_into().expect("N buffers per slot");
        (buffers, fresh)
    }

    /// Forgets every buffer.
    pub(crate) fn clear(&mut self) {
        self.buffers.clear();
    }
}

/// A boxed optimizer is one: an optimizer chosen at run time (`Box<dyn Optimizer>`) trains like
/// any other.
///
/// ```
/// use nn::optim::{Adam, Optimizer, Sgd};
///
/// let mut chosen: Box<dyn Optimizer> = if true { Box::new(Adam::new(1e-3)) } else { Box::new(Sgd::new(0.1)) };
/// let mut parameters = [1.0];
/// chosen.begin_step();
/// chosen.update(0, &mut parameters, &[1.0]);
/// assert!(parameters[0] < 1.0);
/// ```
impl<O: Optimizer + ?Sized> Optimizer for Box<O> {
    fn check(&self) -> Result<(), InvalidHyperParameter> {
        (**self).check()
    }

    fn prepare(&mut self, gradients: &mut [f32]) {
        (**self).prepare(gradients);
    }

    fn begin_step(&mut self) {
        (**self).begin_step();
    }

    fn update(&mut self, slot: usize, parameters: &mut [f32], gradients: &[f32]) {
        (**self).update(slot, parameters, gradients);
    }

    fn update_checked(&mut self, slot: usize, parameters: &mut [f32], gradients: &[f32], previous: &mut [f32]) -> bool {
        (**self).update_checked(slot, parameters, gradients, previous)
    }

    fn plain_sgd_learning_rate(&self) -> Option<f32> {
        (**self).plain_sgd_learning_rate()
    }

    fn learning_rate(&self) -> f64 {
        (**self).learning_rate()
    }

    fn set_learning_rate(&mut self, learning_rate: f64) {
        (**self).set_learning_rate(learning_rate);
    }
}
