//! Learning-rate schedules, PyTorch's `torch.optim.lr_scheduler` in closed form: a schedule
//! maps a step count (epochs, or batches for [`OneCycle`]) and the optimizer's initial rate to a
//! rate, and a [`Scheduler`] applies it to any optimizer.

use super::Optimizer;
use std::f64::consts::PI;

/// A learning rate as a function of the steps taken and of the initial rate.
///
/// ```
/// use nn::optim::{Schedule, StepDecay};
///
/// let schedule = StepDecay { every: 2, gamma: 0.5 };
/// assert_eq!(schedule.rate(3, 0.1), 0.05);
/// ```
pub trait Schedule {
    /// The rate after `step` steps (0: the initial one) for an initial rate of `initial`.
    fn rate(&self, step: usize, initial: f64) -> f64;
}

/// A boxed schedule is one: a schedule chosen at run time, or kept by a
/// [`Trainer`](crate::fit::Trainer).
///
/// ```
/// use nn::optim::{ExponentialDecay, Schedule};
///
/// let boxed: Box<dyn Schedule> = Box::new(ExponentialDecay { gamma: 0.5 });
/// assert_eq!(boxed.rate(2, 1.0), 0.25);
/// ```
impl<S: Schedule + ?Sized> Schedule for Box<S> {
    fn rate(&self, step: usize, initial: f64) -> f64 {
        (**self).rate(step, initial)
    }
}

/// PyTorch's `StepLR`: the rate times `gamma` every `every` steps.
///
/// ```
/// use nn::optim::{Schedule, StepDecay};
/// assert_eq!(StepDecay { every: 10, gamma: 0.1 }.rate(25, 1.0), 0.1f64.powi(2));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct StepDecay {
    /// Steps between decays.
    pub every: usize,
    /// The factor of each decay.
    pub gamma: f64,
}

impl Schedule for StepDecay {
    fn rate(&self, step: usize, initial: f64) -> f64 {
        initial * self.gamma.powi((step / self.every.max(1)) as i32)
    }
}

/// PyTorch's `MultiStepLR`: the rate times `gamma` at each milestone.
///
/// ```
/// use nn::optim::{MultiStepDecay, Schedule};
///
/// let schedule = MultiStepDecay { milestones: vec![3, 8], gamma: 0.1 };
/// assert_eq!([2, 3, 8].map(|step| schedule.rate(step, 1.0)), [1.0, 0.1, 0.1f64.powi(2)]);
/// ```
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct MultiStepDecay {
    /// The steps at which the rate decays, increasing.
    pub milestones: Vec<usize>,
    /// The factor of each decay.
    pub gamma: f64,
}

impl Schedule for MultiStepDecay {
    fn rate(&self, step: usize, initial: f64) -> f64 {
        let passed = self.milestones.iter().filter(|&&milestone| milestone <= step).count();
        initial * self.gamma.powi(passed as i32)
    }
}

/// PyTorch's `ExponentialLR`: the rate times `gamma` every step.
///
/// ```
/// use nn::optim::{ExponentialDecay, Schedule};
/// assert_eq!(ExponentialDecay { gamma: 0.5 }.rate(3, 1.0), 0.125);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ExponentialDecay {
    /// The factor of each step.
    pub gamma: f64,
}

impl Schedule for ExponentialDecay {
    fn rate(&self, step: usize, initial: f64) -> f64 {
        initial * self.gamma.powi(step as i32)
    }
}

/// PyTorch's `CosineAnnealingLR`: from the initial rate down to `minimum` along half a cosine
/// over `period` steps (and back up over the next `period`, as PyTorch's does).
///
/// ```
/// use nn::optim::{CosineAnnealing, Schedule};
///
/// let schedule = CosineAnnealing { period: 10, minimum: 0.0 };
/// assert_eq!(schedule.rate(0, 1.0), 1.0);
/// assert!((schedule.rate(5, 1.0) - 0.5).abs() < 1e-12);
/// assert!(schedule.rate(10, 1.0).abs() < 1e-12);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct CosineAnnealing {
    /// Steps from the initial rate to the minimum (PyTorch's `T_max`).
    pub period: usize,
    /// The lowest rate (PyTorch's `eta_min`).
    pub minimum: f64,
}

impl Schedule for CosineAnnealing {
    fn rate(&self, step: usize, initial: f64) -> f64 {
        let phase = PI * step as f64 / self.period.max(1) as f64;
        self.minimum + (initial - self.minimum) * (1.0 + phase.cos()) / 2.0
    }
}

/// PyTorch's `LinearLR`, the linear warm-up: the initial rate times a factor that moves
/// linearly from `start` to `end` over `steps` steps, then stays at `end`.
///
/// ```
/// use nn::optim::{LinearWarmUp, Schedule};
///
/// let warm_up = LinearWarmUp { start: 0.1, end: 1.0, steps: 4 };
/// assert_eq!([0, 2, 4, 9].map(|step| warm_up.rate(step, 1.0)), [0.1, 0.55, 1.0, 1.0]);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct LinearWarmUp {
    /// The factor at step 0 (PyTorch's `start_factor`, 1/3 by default there).
    pub start: f64,
    /// The factor from `steps` on.
    pub end: f64,
    /// The steps of the ramp (PyTorch's `total_iters`).
    pub steps: usize,
}

impl Schedule for LinearWarmUp {
    fn rate(&self, step: usize, initial: f64) -> f64 {
        let progress = step.min(self.steps) as f64 / self.steps.max(1) as f64;
        initial * (self.start + (self.end - self.start) * progress)
    }
}

/// PyTorch's `OneCycleLR` (cosine, two phases), stepped once per batch: from
/// `maximum / div_factor` up to `maximum` over the first `warm_up_fraction` of `total` steps,
/// then down to `maximum / div_factor / final_div_factor`. The optimizer's initial rate is not
/// used. PyTorch's defaults: a warm-up fraction of 0.3, `div_factor` 25, `final_div_factor` 1e4.
///
/// ```
/// use nn::optim::{OneCycle, Schedule};
///
/// let one_cycle = OneCycle::new(1.0, 100);
/// assert!((one_cycle.rate(0, 0.0) - 0.04).abs() < 1e-12);
/// assert!((one_cycle.rate(29, 0.0) - 1.0).abs() < 1e-12);
/// assert!((one_cycle.rate(99, 0.0) - 4e-6).abs() < 1e-12);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct OneCycle {
    /// The highest rate (PyTorch's `max_lr`).
    pub maximum: f64,
    /// The steps of the whole cycle (PyTorch's `total_steps`).
    pub total: usize,
    /// The fraction of the cycle spent rising (PyTorch's `pct_start`).
    pub warm_up_fraction: f64,
    /// The initial rate is `maximum / div_factor`.
    pub div_factor: f64,
    /// The final rate is the initial one over this.
    pub final_div_factor: f64,
}

impl OneCycle {
    /// A cycle with PyTorch's defaults.
    ///
    /// ```
    /// assert_eq!(nn::optim::OneCycle::new(0.1, 1000).div_factor, 25.0);
    /// ```
    pub fn new(maximum: f64, total: usize) -> Self {
        Self { maximum, total, warm_up_fraction: 0.3, div_factor: 25.0, final_div_factor: 1e4 }
    }
}

impl Schedule for OneCycle {
    fn rate(&self, step: usize, _initial: f64) -> f64 {
        let initial = self.maximum / self.div_factor;
        let last = initial / self.final_div_factor;
        // PyTorch's phase ends, as floats: the peak at `pct_start * total - 1`.
        let peak = self.warm_up_fraction * self.total as f64 - 1.0;
        let end = self.total as f64 - 1.0;
        let step = step as f64;
        let anneal = |from: f64, to: f64, fraction: f64| to + (from - to) / 2.0 * ((PI * fraction).cos() + 1.0);
        if step <= peak {
            anneal(initial, self.maximum, step / peak)
        } else {
            anneal(self.maximum, last, (step - peak) / (end - peak))
        }
    }
}

/// Applies a [`Schedule`] to an optimizer: [`step`](Scheduler::step) once per epoch (per batch
/// for [`OneCycle`]), as PyTorch's `scheduler.step()`; the initial rate is the optimizer's when
/// the scheduler is made, and the schedule's rate for step 0 is set at once. Schedulers are
/// serialisable: a checkpoint of the pair `(optimizer, scheduler)` keeps the schedule's position.
///
/// ```
/// use nn::optim::{CosineAnnealing, Optimizer, Scheduler, Sgd};
///
/// let mut sgd = Sgd::new(0.1);
/// let mut scheduler = Scheduler::new(CosineAnnealing { period: 4, minimum: 0.0 }, &mut sgd);
/// let mut rates = Vec::new();
/// for _epoch in 0..4 {
///     // ... train an epoch with `sgd` ...
///     scheduler.step(&mut sgd);
///     rates.push(sgd.learning_rate());
/// }
/// assert!(rates.windows(2).all(|pair| pair[1] < pair[0]) && rates[3] < 1e-9);
/// ```
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Scheduler<S> {
    /// The schedule.
    pub schedule: S,
    initial: f64,
    steps: usize,
}

impl<S: Schedule> Scheduler<S> {
    /// A scheduler starting from `optimizer`'s current rate, which it sets to the schedule's
    /// rate for step 0.
    ///
    /// ```
    /// use nn::optim::{Optimizer, LinearWarmUp, Scheduler, Sgd};
    ///
    /// let mut sgd = Sgd::new(0.1);
    /// Scheduler::new(LinearWarmUp { start: 0.5, end: 1.0, steps: 3 }, &mut sgd);
    /// assert_eq!(sgd.learning_rate(), 0.05f32 as f64);
    /// ```
    pub fn new(schedule: S, optimizer: &mut impl Optimizer) -> Self {
        let initial = optimizer.learning_rate();
        optimizer.set_learning_rate(schedule.rate(0, initial));
        Self { schedule, initial, steps: 0 }
    }

    /// Advances one step and sets the optimizer's rate for it.
    ///
    /// ```
    /// use nn::optim::{Optimizer, Scheduler, Sgd, StepDecay};
    ///
    /// let mut sgd = Sgd::new(1.0);
    /// let mut scheduler = Scheduler::new(StepDecay { every: 1, gamma: 0.5 }, &mut sgd);
    /// scheduler.step(&mut sgd);
    /// assert_eq!(sgd.learning_rate(), 0.5);
    /// ```
    pub fn step(&mut self, optimizer: &mut impl Optimizer) {
        self.steps += 1;
        optimizer.set_learning_rate(self.schedule.rate(self.steps, self.initial));
    }

    /// The steps taken.
    ///
    /// ```
    /// use nn::optim::{ExponentialDecay, Scheduler, Sgd};
    ///
    /// let mut sgd = Sgd::new(1.0);
    /// let mut scheduler = Scheduler::new(ExponentialDecay { gamma: 0.9 }, &mut sgd);
    /// scheduler.step(&mut sgd);
    /// assert_eq!(scheduler.steps(), 1);
    /// ```
    pub fn steps(&self) -> usize {
        self.steps
    }

    /// The initial rate and the steps taken: what a checkpoint keeps of a scheduler whose
    /// schedule the user supplies again.
    pub(crate) fn position(&self) -> (f64, usize) {
        (self.initial, self.steps)
    }

    /// Restores a [`position`](Self::position).
    pub(crate) fn set_position(&mut self, (initial, steps): (f64, usize)) {
        (self.initial, self.steps) = (initial, steps);
    }
}

/// PyTorch's `ReduceLROnPlateau` (mode `min`, relative threshold): multiplies the rate by
/// `factor` when a monitored value (a validation loss) has not improved by more than
/// `threshold` (relative) for more than `patience` epochs, then waits `cooldown` epochs; never
/// below `minimum`. PyTorch's defaults: factor 0.1, patience 10, threshold 1e-4, no cooldown.
///
/// ```
/// use nn::optim::{Optimizer, ReduceOnPlateau, Sgd};
///
/// let mut sgd = Sgd::new(1.0);
/// let mut plateau = ReduceOnPlateau::default().with_patience(1);
/// for loss in [1.0, 0.5, 0.5, 0.5] {
///     plateau.step(loss, &mut sgd);
/// }
/// assert!((sgd.learning_rate() - 0.1).abs() < 1e-7);
/// ```
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ReduceOnPlateau {
    /// The factor of each reduction.
    pub factor: f64,
    /// Epochs without improvement tolerated.
    pub patience: usize,
    /// The relative improvement that counts as one.
    pub threshold: f64,
    /// Epochs to wait after a reduction before counting again.
    pub cooldown: usize,
    /// The lowest rate.
    pub minimum: f64,
    best: f64,
    bad_epochs: usize,
    cooling: usize,
}

impl Default for ReduceOnPlateau {
    fn default() -> Self {
        Self {
            factor: 0.1,
            patience: 10,
            threshold: 1e-4,
            cooldown: 0,
            minimum: 0.0,
            best: f64::INFINITY,
            bad_epochs: 0,
            cooling: 0,
        }
    }
}

/// Changes of the rate smaller than this are not made (PyTorch's `eps`).
const PLATEAU_EPS: f64 = 1e-8;

impl ReduceOnPlateau {
    /// With another reduction factor.
    ///
    /// ```
    /// assert_eq!(nn::optim::ReduceOnPlateau::default().with_factor(0.5).factor, 0.5);
    /// ```
    pub fn with_factor(self, factor: f64) -> Self {
        Self { factor, ..self }
    }

    /// With another patience.
    ///
    /// ```
    /// assert_eq!(nn::optim::ReduceOnPlateau::default().with_patience(3).patience, 3);
    /// ```
    pub fn with_patience(self, patience: usize) -> Self {
        Self { patience, ..self }
    }

    /// With another relative threshold.
    ///
    /// ```
    /// assert_eq!(nn::optim::ReduceOnPlateau::default().with_threshold(1e-3).threshold, 1e-3);
    /// ```
    pub fn with_threshold(self, threshold: f64) -> Self {
        Self { threshold, ..self }
    }

    /// With a cooldown after each reduction.
    ///
    /// ```
    /// assert_eq!(nn::optim::ReduceOnPlateau::default().with_cooldown(2).cooldown, 2);
    /// ```
    pub fn with_cooldown(self, cooldown: usize) -> Self {
        Self { cooldown, ..self }
    }

    /// With a lowest rate.
    ///
    /// ```
    /// assert_eq!(nn::optim::ReduceOnPlateau::default().with_minimum(1e-5).minimum, 1e-5);
    /// ```
    pub fn with_minimum(self, minimum: f64) -> Self {
        Self { minimum, ..self }
    }

    /// Records the epoch's monitored value and reduces the optimizer's rate if it has stalled.
    ///
    /// ```
    /// use nn::optim::{Optimizer, ReduceOnPlateau, Sgd};
    ///
    /// let mut sgd = Sgd::new(1.0);
    /// let mut plateau = ReduceOnPlateau::default();
    /// plateau.step(0.3, &mut sgd);
    /// assert_eq!(sgd.learning_rate(), 1.0); // one value is an improvement
    /// ```
    pub fn step(&mut self, value: f64, optimizer: &mut impl Optimizer) {
        if value < self.best * (1.0 - self.threshold) {
            (self.best, self.bad_epochs) = (value, 0);
        } else {
            self.bad_epochs += 1;
        }
        if self.cooling > 0 {
            self.cooling -= 1;
            self.bad_epochs = 0;
        }
        if self.bad_epochs > self.patience {
            let old = optimizer.learning_rate();
            let new = (old * self.factor).max(self.minimum);
            if old - new > PLATEAU_EPS {
                optimizer.set_learning_rate(new);
            }
            (self.cooling, self.bad_epochs) = (self.cooldown, 0);
        }
    }
}
