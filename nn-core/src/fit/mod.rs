//! A fit loop: epochs of shuffled mini-batches (or of single samples, through the per-sample
//! fast path), validation, learning-rate schedules, early stopping, checkpoints, a live progress
//! display and a history, for any network and optimizer.

mod history;
mod progress;

pub use history::{EpochRecord, History};
pub use progress::Progress;

use crate::data::{Augment, Loader};
use crate::layer::BLOCK_SAMPLES;
use crate::losses::Loss;
use crate::metrics::Metric;
use crate::network::Network;
use crate::optim::{Optimizer, ReduceOnPlateau, Schedule, Scheduler};
use crate::train::{check_pairs, count_predicted, TrainError};
use progress::Reporter;
use rand::seq::SliceRandom;
use rand::SeedableRng;
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// Stops training when the monitored loss (the validation loss, or the training loss without
/// validation data) has not improved by more than `min_delta` for `patience` epochs, as Keras's
/// and Lightning's `EarlyStopping` do; with `restore_best` the network ends with the parameters
/// of its best epoch.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct EarlyStopping {
    /// Epochs without improvement before stopping.
    pub patience: usize,
    /// The decrease of the loss that counts as an improvement.
    pub min_delta: f32,
    /// Whether to end with the best epoch's parameters.
    pub restore_best: bool,
}

/// What a callback tells the loop after an epoch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Control {
    /// Train the next epoch.
    Continue,
    /// Stop after this one.
    Stop,
}

/// Inputs and their targets, one each.
///
/// ```
/// let validation: nn::fit::Samples<'_, 2, 1> = (&[[0.0, 1.0]], &[[1.0]]);
/// assert_eq!(validation.0.len(), validation.1.len());
/// ```
pub type Samples<'s, const IN: usize, const OUT: usize> = (&'s [[f32; IN]], &'s [[f32; OUT]]);

/// A callback run after each epoch.
type Callback<'c> = Box<dyn FnMut(&EpochRecord) -> Control + 'c>;

/// How a [`Trainer`] moves the learning rate.
enum LrSchedule<'c> {
    /// One step of the schedule after each epoch.
    Epochs(Scheduler<Box<dyn Schedule + 'c>>),
    /// One step after each batch ([`OneCycle`](crate::optim::OneCycle)'s way).
    Batches(Scheduler<Box<dyn Schedule + 'c>>),
    /// Reduced when the monitored loss stalls.
    Plateau(ReduceOnPlateau),
}

/// Checkpoints every few epochs: the network, the optimizer's state and the loop's progress in
/// one file.
struct Checkpoints<O> {
    every: usize,
    path: PathBuf,
    /// The optimizer's state and the progress as bytes: set where `O: Serialize` is known, so
    /// that `fit` itself asks nothing more of the optimizer than training does.
    encode: fn(&O, &FitProgress) -> Result<Vec<u8>, String>,
    optimizer_type: &'static str,
}

/// Reads a checkpoint's `(optimizer, progress)`.
type DecodeFit<O> = fn(&[u8]) -> Result<(O, FitProgress), String>;

/// A checkpoint to resume from.
struct Resume<O> {
    path: PathBuf,
    /// Set where `O: DeserializeOwned` is known.
    decode: DecodeFit<O>,
    optimizer_type: &'static str,
}

/// Where a fit stands after an epoch, beside the network and the optimizer in a checkpoint:
/// what a resumed fit needs to take the same steps as one that never stopped.
#[derive(serde::Serialize, serde::Deserialize)]
struct FitProgress {
    /// The last epoch trained.
    epoch: usize,
    /// The generator of the shuffles.
    shuffle: rand_pcg::Pcg64Mcg,
    /// The workspace's generator (dropout masks).
    dropout: rand_pcg::Pcg64Mcg,
    /// A scheduler's initial rate and steps taken.
    scheduler: Option<(f64, usize)>,
    /// Reduce-on-plateau's state.
    plateau: Option<ReduceOnPlateau>,
    best_loss: f32,
    best_epoch: Option<usize>,
    waited: usize,
    /// The best epoch's network as a model file, when early stopping is to restore it.
    best_network: Option<Vec<u8>>,
    history: History,
}

/// `(optimizer, progress)` encoded: the optimizer first, so that
/// [`load_checkpoint`](crate::io::load_checkpoint) reads a fit's checkpoint too.
fn encode_fit<O: Serialize>(optimizer: &O, progress: &FitProgress) -> Result<Vec<u8>, String> {
    crate::io::encode_state(&(optimizer, progress))
}

/// What [`encode_fit`] encoded.
fn decode_fit<O: DeserializeOwned>(bytes: &[u8]) -> Result<(O, FitProgress), String> {
    crate::io::decode_state(bytes)
}

/// Trains a network for a number of epochs, configured with a builder.
///
/// Each epoch shuffles the training samples (seeded: the same seed gives the same run), then
/// trains on them in mini-batches with [`Network::train_batch`], or with a batch size of 1 one
/// sample at a time with [`Network::train_samples`] (the per-sample fast path). After each
/// epoch it evaluates the validation data (given, or split off the training data), reports
/// progress, steps the learning-rate schedule, saves checkpoints and the best model, runs the
/// callback and checks early stopping. The monitored loss (for early stopping, the best model
/// and reduce-on-plateau) is the validation loss, or the training loss without validation data.
///
/// ```
/// use nn::fit::{EarlyStopping, Progress, Trainer};
/// use nn::optim::CosineAnnealing;
/// use nn::prelude::*;
///
/// network! { struct Net { Linear(2, 8) -> Tanh -> Linear(8, 2) } }
///
/// let inputs = [[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]];
/// let targets = [one_hot(0), one_hot(1), one_hot(1), one_hot(0)];
/// let mut net = Net::new(&mut nn::Pcg64Mcg::seed_from_u64(1));
/// let mut trainer = Trainer::new(Adam::new(0.05), CrossEntropy)
///     .epochs(200)
///     .batch_size(4)
///     .schedule(CosineAnnealing { period: 200, minimum: 0.005 })
///     .progress(Progress::Silent);
/// let history = trainer.fit(&mut net, &inputs, &targets, Some((&inputs, &targets)))?;
/// let last = history.epochs.last().unwrap();
/// assert_eq!(last.validation_accuracy, Some(1.0));
/// assert!(last.learning_rate < 0.0051);
/// # Ok::<(), nn::TrainError>(())
/// ```
pub struct Trainer<'c, O, L> {
    /// The optimizer.
    pub optimizer: O,
    /// The loss.
    pub loss: L,
    epochs: usize,
    batch_size: usize,
    seed: u64,
    drop_last: bool,
    validation_split: Option<f32>,
    metrics: Vec<Metric>,
    early_stopping: Option<EarlyStopping>,
    epoch_end: EpochEnd<'c, O>,
    resume: Option<Resume<O>>,
    progress: Progress,
    callback: Option<Callback<'c>>,
    augment: Option<Augment>,
    gather_in_background: bool,
}

/// What the loop does after each epoch's figures: the schedule's step, the checkpoint, the
/// best model.
struct EpochEnd<'c, O> {
    schedule: Option<LrSchedule<'c>>,
    checkpoints: Option<Checkpoints<O>>,
    best_model: Option<PathBuf>,
}

impl<O, L> std::fmt::Debug for Trainer<'_, O, L> {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("Trainer")
            .field("epochs", &self.epochs)
            .field("batch_size", &self.batch_size)
            .field("seed", &self.seed)
            .field("validation_split", &self.validation_split)
            .field("early_stopping", &self.early_stopping)
            .field("checkpoints", &self.epoch_end.checkpoints.as_ref().map(|plan| (plan.every, &plan.path)))
            .field("best_model", &self.epoch_end.best_model)
            .field("progress", &self.progress)
            .finish_non_exhaustive()
    }
}

impl<'c, O: Optimizer, L: Loss> Trainer<'c, O, L> {
    /// A trainer for 10 epochs of batches of 32, seed 0, progress on a bar or in lines.
    ///
    /// ```
    /// use nn::fit::Trainer;
    /// use nn::prelude::*;
    ///
    /// let trainer = Trainer::new(Sgd::new(0.1), Mse);
    /// assert_eq!(trainer.optimizer.learning_rate, 0.1);
    /// ```
    pub fn new(optimizer: O, loss: L) -> Self {
        Self {
            optimizer,
            loss,
            epochs: 10,
            batch_size: 32,
            seed: 0,
            drop_last: false,
            validation_split: None,
            metrics: Vec::new(),
            early_stopping: None,
            epoch_end: EpochEnd { schedule: None, checkpoints: None, best_model: None },
            resume: None,
            progress: Progress::Auto,
            callback: None,
            augment: None,
            gather_in_background: true,
        }
    }

    /// Whether a second thread gathers (and augments) the next mini-batch while a step trains
    /// on the current one, when the steps leave a core idle (they run on one thread: no shards,
    /// too little work to split); the results are the same either way. It pays when gathering a
    /// shuffled batch is slow next to the step (rows that miss the caches), and costs a hand-off
    /// between threads per batch otherwise (see `docs/PERFORMANCE.md` for what it measured on
    /// the MLP benchmarks). On by default; `false` gathers on the training thread.
    ///
    /// ```
    /// use nn::fit::Trainer;
    /// use nn::prelude::*;
    ///
    /// let trainer = Trainer::new(Sgd::new(0.1), Mse).batch_size(64).gather_in_background(false);
    /// ```
    pub fn gather_in_background(self, background: bool) -> Self {
        Self { gather_in_background: background, ..self }
    }

    /// Jitters every training image afresh each time it is trained on (see [`Augment`]), drawn
    /// from a generator seeded by the fit's seed and the epoch, so that a fit, and a resumed
    /// one, repeat exactly. Validation data is never jittered. The shape must have the network's
    /// number of inputs (else [`TrainError::InvalidSetting`]).
    ///
    /// ```
    /// use nn::data::Augment;
    /// use nn::fit::{Progress, Trainer};
    /// use nn::prelude::*;
    ///
    /// network! { struct Net: [1, 4, 4] { Flatten -> Linear(16, 2) } }
    /// let inputs = [[0.0; 16], [1.0; 16]];
    /// let targets = [one_hot(0), one_hot(1)];
    /// let mut trainer = Trainer::new(Sgd::new(0.1), CrossEntropy)
    ///     .augment(Augment::new([1, 4, 4]).shift(1.0).rotation(10.0))
    ///     .progress(Progress::Silent);
    /// trainer.fit(&mut Net::zeroed(), &inputs, &targets, None)?;
    /// # Ok::<(), nn::TrainError>(())
    /// ```
    pub fn augment(self, augment: Augment) -> Self {
        Self { augment: Some(augment), ..self }
    }

    /// The number of epochs.
    ///
    /// ```
    /// # use nn::{fit::Trainer, prelude::*};
    /// let trainer = Trainer::new(Sgd::new(0.1), Mse).epochs(3);
    /// ```
    pub fn epochs(self, epochs: usize) -> Self {
        Self { epochs, ..self }
    }

    /// Samples per step; 1 trains sample by sample.
    ///
    /// ```
    /// # use nn::{fit::Trainer, prelude::*};
    /// let per_sample = Trainer::new(Sgd::new(0.1), Mse).batch_size(1);
    /// ```
    pub fn batch_size(self, batch_size: usize) -> Self {
        Self { batch_size: batch_size.max(1), ..self }
    }

    /// The seed of the shuffles, of the validation split and of the workspace's generator
    /// (dropout masks).
    ///
    /// ```
    /// # use nn::{fit::Trainer, prelude::*};
    /// let trainer = Trainer::new(Sgd::new(0.1), Mse).seed(42);
    /// ```
    pub fn seed(self, seed: u64) -> Self {
        Self { seed, ..self }
    }

    /// Whether to drop each epoch's last batch when it is smaller than the others (it is kept
    /// by default).
    ///
    /// ```
    /// # use nn::{fit::Trainer, prelude::*};
    /// let trainer = Trainer::new(Sgd::new(0.1), Mse).batch_size(64).drop_last(true);
    /// ```
    pub fn drop_last(self, drop_last: bool) -> Self {
        Self { drop_last, ..self }
    }

    /// Holds out a seeded random `fraction` (in (0, 1)) of the training samples as validation
    /// data, when [`fit`](Trainer::fit) is given none.
    ///
    /// ```
    /// # use nn::{fit::Trainer, prelude::*};
    /// let trainer = Trainer::new(Sgd::new(0.1), Mse).validation_split(0.1);
    /// ```
    pub fn validation_split(self, fraction: f32) -> Self {
        Self { validation_split: Some(fraction), ..self }
    }

    /// Measures computed on the validation data after each epoch, beside the loss and the
    /// accuracy: in [`EpochRecord::validation_metrics`] and the progress lines.
    ///
    /// ```
    /// # use nn::{fit::Trainer, prelude::*};
    /// use nn::metrics::Metric;
    ///
    /// let trainer = Trainer::new(Sgd::new(0.1), CrossEntropy).metrics([Metric::TopK(3)]);
    /// ```
    pub fn metrics(self, metrics: impl IntoIterator<Item = Metric>) -> Self {
        Self { metrics: metrics.into_iter().collect(), ..self }
    }

    /// Early stopping.
    ///
    /// ```
    /// # use nn::{fit::{EarlyStopping, Trainer}, prelude::*};
    /// let stopping = EarlyStopping { patience: 3, min_delta: 1e-4, restore_best: true };
    /// let trainer = Trainer::new(Sgd::new(0.1), Mse).early_stopping(stopping);
    /// ```
    pub fn early_stopping(self, early_stopping: EarlyStopping) -> Self {
        Self { early_stopping: Some(early_stopping), ..self }
    }

    /// A learning-rate schedule stepped once per epoch, from the optimizer's rate now, as
    /// PyTorch's `scheduler.step()` after each epoch; the rate for epoch 1 is set at once.
    ///
    /// ```
    /// use nn::fit::Trainer;
    /// use nn::optim::{Optimizer, StepDecay};
    /// use nn::prelude::*;
    ///
    /// let trainer = Trainer::new(Sgd::new(0.1), Mse).schedule(StepDecay { every: 10, gamma: 0.5 });
    /// assert_eq!(trainer.optimizer.learning_rate(), 0.1f32 as f64);
    /// ```
    pub fn schedule(mut self, schedule: impl Schedule + 'c) -> Self {
        let scheduler = Scheduler::new(Box::new(schedule) as Box<dyn Schedule>, &mut self.optimizer);
        self.epoch_end.schedule = Some(LrSchedule::Epochs(scheduler));
        self
    }

    /// A learning-rate schedule stepped once per batch, as [`OneCycle`](crate::optim::OneCycle)
    /// is (its `total` is then the number of batches of the whole fit).
    ///
    /// ```
    /// use nn::fit::Trainer;
    /// use nn::optim::OneCycle;
    /// use nn::prelude::*;
    ///
    /// let (epochs, batches_per_epoch) = (5, 100);
    /// let trainer = Trainer::new(Sgd::new(0.1), Mse)
    ///     .epochs(epochs)
    ///     .schedule_per_batch(OneCycle::new(0.5, epochs * batches_per_epoch));
    /// ```
    pub fn schedule_per_batch(mut self, schedule: impl Schedule + 'c) -> Self {
        let scheduler = Scheduler::new(Box::new(schedule) as Box<dyn Schedule>, &mut self.optimizer);
        self.epoch_end.schedule = Some(LrSchedule::Batches(scheduler));
        self
    }

    /// Lowers the learning rate when the monitored loss stalls (PyTorch's `ReduceLROnPlateau`).
    ///
    /// ```
    /// use nn::fit::Trainer;
    /// use nn::optim::ReduceOnPlateau;
    /// use nn::prelude::*;
    ///
    /// let trainer = Trainer::new(Adam::new(1e-3), CrossEntropy)
    ///     .reduce_on_plateau(ReduceOnPlateau::default().with_patience(2).with_factor(0.5));
    /// ```
    pub fn reduce_on_plateau(mut self, plateau: ReduceOnPlateau) -> Self {
        self.epoch_end.schedule = Some(LrSchedule::Plateau(plateau));
        self
    }

    /// Writes a checkpoint to `path` after every `every` epochs, replacing the previous one
    /// atomically: the network, the optimizer's state, and the loop's progress (epoch,
    /// generators, schedule position, early stopping, history), so that
    /// [`resume_from`](Trainer::resume_from) continues the run exactly;
    /// [`load_checkpoint`](crate::io::load_checkpoint) reads the network and optimizer of it.
    ///
    /// ```
    /// use nn::fit::Trainer;
    /// use nn::prelude::*;
    ///
    /// let trainer = Trainer::new(Adam::new(1e-3), CrossEntropy).checkpoint_every(5, "run.checkpoint");
    /// ```
    pub fn checkpoint_every(mut self, every: usize, path: impl AsRef<Path>) -> Self
    where
        O: Serialize,
    {
        let checkpoints = Checkpoints {
            every: every.max(1),
            path: path.as_ref().to_owned(),
            encode: encode_fit::<O>,
            optimizer_type: std::any::type_name::<O>(),
        };
        self.epoch_end.checkpoints = Some(checkpoints);
        self
    }

    /// Continues the fit a checkpoint of [`checkpoint_every`](Trainer::checkpoint_every)
    /// recorded: `fit` starts with the checkpoint's network, optimizer, schedule position,
    /// generators, early-stopping state and history, at the epoch after it, and takes the same
    /// steps, bit for bit, as a run that never stopped (given the same settings and data).
    ///
    /// ```no_run
    /// use nn::fit::Trainer;
    /// use nn::prelude::*;
    ///
    /// network! { struct Net { Linear(2, 8) -> ReLU -> Dropout(0.2) -> Linear(8, 2) } }
    /// # let (inputs, targets) = (vec![[0.0; 2]], vec![[0.0; 2]]);
    /// let mut net = Net::zeroed(); // replaced by the checkpoint's
    /// let history = Trainer::new(Adam::new(1e-3), CrossEntropy)
    ///     .epochs(20)
    ///     .checkpoint_every(1, "run.checkpoint")
    ///     .resume_from("run.checkpoint")
    ///     .fit(&mut net, &inputs, &targets, None)?;
    /// # Ok::<(), nn::TrainError>(())
    /// ```
    pub fn resume_from(mut self, path: impl AsRef<Path>) -> Self
    where
        O: DeserializeOwned,
    {
        let optimizer_type = std::any::type_name::<O>();
        self.resume = Some(Resume { path: path.as_ref().to_owned(), decode: decode_fit::<O>, optimizer_type });
        self
    }

    /// Saves the network (a model file, as [`Network::save`]) to `path` after every epoch that
    /// improves the monitored loss: at the end, `path` holds the best epoch's network.
    ///
    /// ```
    /// use nn::fit::Trainer;
    /// use nn::prelude::*;
    ///
    /// let trainer = Trainer::new(Adam::new(1e-3), CrossEntropy).save_best("best.model");
    /// ```
    pub fn save_best(mut self, path: impl AsRef<Path>) -> Self {
        self.epoch_end.best_model = Some(path.as_ref().to_owned());
        self
    }

    /// Where progress goes.
    ///
    /// ```
    /// # use nn::{fit::{Progress, Trainer}, prelude::*};
    /// let quiet = Trainer::new(Sgd::new(0.1), Mse).progress(Progress::Silent);
    /// ```
    pub fn progress(self, progress: Progress) -> Self {
        Self { progress, ..self }
    }

    /// A callback after each epoch: custom logging, or stopping.
    ///
    /// ```
    /// # use nn::{fit::{Control, Trainer}, prelude::*};
    /// let trainer = Trainer::new(Sgd::new(0.1), Mse)
    ///     .on_epoch(|record| if record.train_loss < 1e-3 { Control::Stop } else { Control::Continue });
    /// ```
    pub fn on_epoch(self, callback: impl FnMut(&EpochRecord) -> Control + 'c) -> Self {
        Self { callback: Some(Box::new(callback)), ..self }
    }

    /// Trains `network` on `inputs` and `targets` (one target per input) and returns the
    /// history; `validation` is evaluated after each epoch.
    ///
    /// # Errors
    /// The first error of a step (the network keeps the steps before it), inputs and targets of
    /// different counts, a validation split outside (0, 1), or a checkpoint or best model that
    /// could not be written.
    pub fn fit<N: Network<IN, OUT>, const IN: usize, const OUT: usize>(
        &mut self,
        network: &mut N,
        inputs: &[[f32; IN]],
        targets: &[[f32; OUT]],
        validation: Option<Samples<'_, IN, OUT>>,
    ) -> Result<History, TrainError> {
        check_pairs(inputs.len(), targets.len(), "targets")?;
        if let Some((inputs, targets)) = validation {
            check_pairs(inputs.len(), targets.len(), "validation targets")?;
        }
        if let Some(augment) = self.augment.filter(|augment| augment.values() != IN) {
            return Err(TrainError::InvalidSetting {
                setting: "augmentation's image shape",
                value: format!("{:?} ({} values)", augment.shape, augment.values()),
                requirement: "one value per network input",
            });
        }
        let mut rng = rand_pcg::Pcg64Mcg::seed_from_u64(self.seed);
        let split = match (validation, self.validation_split) {
            (None, Some(fraction)) => Some(Split::new(inputs, targets, fraction, &mut rng)?),
            _ => None,
        };
        let (inputs, targets, validation) = match &split {
            Some(split) => {
                (&split.inputs[..], &split.targets[..], Some((&split.held_out.0[..], &split.held_out.1[..])))
            }
            None => (inputs, targets, validation),
        };
        let (mut history, mut stopping, mut first_epoch) = (History::default(), Stopping::default(), 1);
        let mut dropout = None;
        if let Some(resume) = &self.resume {
            let progress = resume.restore(network, &mut self.optimizer)?;
            self.epoch_end.restore(&progress);
            stopping = Stopping::restore(&progress, &resume.path)?;
            (rng, dropout, first_epoch, history) =
                (progress.shuffle, Some(progress.dropout), progress.epoch + 1, progress.history);
        }
        let mut workspace = network.workspace();
        workspace.reseed(self.seed);
        if let Some(dropout) = dropout {
            *workspace.context.rng() = dropout;
        }
        let mut loader = Loader::new(self.batch_size).drop_last(self.drop_last);
        let mut reporter = Reporter::new(&mut self.progress, self.epochs, inputs.len());
        for epoch in first_epoch..=self.epochs {
            // Each epoch's order is a function of the generator alone, so that a resumed fit
            // needs only the generator to shuffle as the uninterrupted one does.
            loader.shuffle(inputs.len(), &mut rng);
            reporter.begin_epoch(epoch);
            let learning_rate = self.optimizer.learning_rate();
            workspace.take_correct();
            let started = Instant::now();
            let mut epoch_steps = EpochSteps {
                network: &mut *network,
                workspace: &mut workspace,
                loss: &self.loss,
                optimizer: &mut self.optimizer,
                reporter: &mut reporter,
                augmentation: self.augment.map(|augment| Augmentation::new(augment, self.seed, epoch)),
            };
            let per_batch = match &mut self.epoch_end.schedule {
                Some(LrSchedule::Batches(scheduler)) => Some(scheduler),
                _ => None,
            };
            let (train_loss, correct, trained) = if self.batch_size == 1 && per_batch.is_none() {
                epoch_steps.samples(loader.order(), inputs, targets)?
            } else {
                let background =
                    self.gather_in_background && crate::train::step_leaves_a_core_idle::<N, IN, OUT>(self.batch_size);
                epoch_steps.batches(&mut loader, inputs, targets, per_batch, background)?
            };
            let seconds = started.elapsed().as_secs_f64();
            let (validation_loss, validation_accuracy, validation_metrics) = match validation {
                Some((inputs, targets)) => {
                    let figures = evaluate(network, &mut workspace, &self.loss, &self.metrics, inputs, targets)?;
                    (Some(figures.loss), Some(figures.accuracy), figures.metrics)
                }
                None => (None, None, Vec::new()),
            };
            let train_accuracy = (correct as f64 / trained.max(1) as f64) as f32;
            let record = EpochRecord {
                epoch,
                train_loss,
                train_accuracy,
                validation_loss,
                validation_accuracy,
                validation_metrics,
                learning_rate,
                seconds,
            };
            reporter.end_epoch(&record);
            let monitored = validation_loss.unwrap_or(train_loss);
            let verdict = stopping.observe(self.early_stopping, epoch, monitored, network);
            history.epochs.push(record);
            let state =
                LoopState { network, history: &history, stopping: &stopping, shuffle: &rng, workspace: &mut workspace };
            self.epoch_end.run(&mut self.optimizer, monitored, verdict.improved, state)?;
            let record = history.epochs.last().expect("this epoch's record");
            let control = self.callback.as_mut().map_or(Control::Continue, |callback| callback(record));
            if verdict.stop || control == Control::Stop {
                history.stopped_early = epoch < self.epochs;
                break;
            }
        }
        reporter.finish();
        history.best_epoch = stopping.best_epoch;
        if let (Some(EarlyStopping { restore_best: true, .. }), Some(best)) = (self.early_stopping, stopping.best) {
            *network = best;
        }
        Ok(history)
    }
}

/// What the end of an epoch sees of the loop.
struct LoopState<'a, N: Network<IN, OUT>, const IN: usize, const OUT: usize> {
    network: &'a N,
    history: &'a History,
    stopping: &'a Stopping<N>,
    shuffle: &'a rand_pcg::Pcg64Mcg,
    workspace: &'a mut crate::Workspace<N, IN, OUT>,
}

impl<O: Optimizer> EpochEnd<'_, O> {
    /// After an epoch's figures: the best model, the schedule's step, the checkpoint.
    fn run<N: Network<IN, OUT>, const IN: usize, const OUT: usize>(
        &mut self,
        optimizer: &mut O,
        monitored: f32,
        improved: bool,
        state: LoopState<'_, N, IN, OUT>,
    ) -> Result<(), TrainError> {
        if let (true, Some(path)) = (improved, &self.best_model) {
            let save_error =
                |error: crate::io::ModelFileError| TrainError::Save { path: path.clone(), reason: error.to_string() };
            state.network.save(path).map_err(save_error)?;
        }
        match &mut self.schedule {
            Some(LrSchedule::Epochs(scheduler)) => scheduler.step(optimizer),
            Some(LrSchedule::Plateau(plateau)) => plateau.step(monitored.into(), optimizer),
            Some(LrSchedule::Batches(_)) | None => {}
        }
        let epoch = state.history.epochs.len();
        if let Some(plan) = self.checkpoints.as_ref().filter(|plan| epoch.is_multiple_of(plan.every)) {
            let save_error = |reason: String| TrainError::Save { path: plan.path.clone(), reason };
            let progress = self.progress(epoch, state.history, state.stopping, state.shuffle, state.workspace);
            let bytes = (plan.encode)(optimizer, &progress).map_err(save_error)?;
            crate::io::write_checkpoint(&plan.path, state.network, plan.optimizer_type, &bytes)
                .map_err(|error| save_error(error.to_string()))?;
        }
        Ok(())
    }

    /// The loop's progress after `epoch`, for a checkpoint.
    fn progress<N: Network<IN, OUT>, const IN: usize, const OUT: usize>(
        &self,
        epoch: usize,
        history: &History,
        stopping: &Stopping<N>,
        shuffle: &rand_pcg::Pcg64Mcg,
        workspace: &mut crate::Workspace<N, IN, OUT>,
    ) -> FitProgress {
        let (scheduler, plateau) = match &self.schedule {
            Some(LrSchedule::Epochs(scheduler) | LrSchedule::Batches(scheduler)) => (Some(scheduler.position()), None),
            Some(LrSchedule::Plateau(plateau)) => (None, Some(plateau.clone())),
            None => (None, None),
        };
        FitProgress {
            epoch,
            shuffle: shuffle.clone(),
            dropout: workspace.context.rng().clone(),
            scheduler,
            plateau,
            best_loss: stopping.best_loss,
            best_epoch: stopping.best_epoch,
            waited: stopping.waited,
            best_network: stopping.best.as_ref().map(crate::io::encode),
            history: history.clone(),
        }
    }

    /// Takes up a checkpoint's schedule position.
    fn restore(&mut self, progress: &FitProgress) {
        match (&mut self.schedule, progress.scheduler, &progress.plateau) {
            (Some(LrSchedule::Epochs(scheduler) | LrSchedule::Batches(scheduler)), Some(position), _) => {
                scheduler.set_position(position)
            }
            (Some(LrSchedule::Plateau(plateau)), _, Some(saved)) => *plateau = saved.clone(),
            _ => {}
        }
    }
}

impl<O> Resume<O> {
    /// Puts the checkpoint's network and optimizer in place; its progress.
    fn restore<N: Network<IN, OUT>, const IN: usize, const OUT: usize>(
        &self,
        network: &mut N,
        optimizer: &mut O,
    ) -> Result<FitProgress, TrainError> {
        let resume_error = |reason: String| TrainError::Resume { path: self.path.clone(), reason };
        let (loaded, state) = crate::io::read_checkpoint::<N, IN, OUT>(&self.path, self.optimizer_type)
            .map_err(|error| resume_error(error.to_string()))?;
        let (loaded_optimizer, progress) = (self.decode)(&state).map_err(resume_error)?;
        (*network, *optimizer) = (loaded, loaded_optimizer);
        Ok(progress)
    }
}

/// One epoch's steps: what they share.
struct EpochSteps<'a, 'p, N: Network<IN, OUT>, L, O, const IN: usize, const OUT: usize> {
    network: &'a mut N,
    workspace: &'a mut crate::Workspace<N, IN, OUT>,
    loss: &'a L,
    optimizer: &'a mut O,
    reporter: &'a mut Reporter<'p>,
    augmentation: Option<Augmentation>,
}

/// An epoch's augmentation: the jitter, a generator seeded by the fit's seed and the epoch
/// (a resumed fit needs nothing saved to repeat it), and one image's scratch.
struct Augmentation {
    augment: Augment,
    rng: rand_pcg::Pcg64Mcg,
    scratch: Vec<f32>,
}

impl Augmentation {
    fn new(augment: Augment, seed: u64, epoch: usize) -> Self {
        // The epoch spread by a large odd constant (the golden ratio's), so that neighbouring
        // epochs and seeds do not share generators.
        let stream = seed ^ (epoch as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        Self { augment, rng: rand_pcg::Pcg64Mcg::seed_from_u64(stream), scratch: Vec::new() }
    }

    fn apply<const IN: usize>(&mut self, images: &mut [[f32; IN]]) {
        self.augment.apply(&mut self.rng, images, &mut self.scratch);
    }
}

/// Samples per call of the per-sample path while a live bar shows progress: a whole number of
/// the first layer's deferred-update blocks, so that the steps are those of one call.
const LIVE_SAMPLES: usize = 64 * BLOCK_SAMPLES;

impl<N: Network<IN, OUT>, L: Loss, O: Optimizer, const IN: usize, const OUT: usize>
    EpochSteps<'_, '_, N, L, O, IN, OUT>
{
    /// The epoch sample by sample, in `order`: the mean loss and the correct predictions.
    fn samples(
        &mut self,
        order: &[usize],
        inputs: &[[f32; IN]],
        targets: &[[f32; OUT]],
    ) -> Result<(f32, usize, usize), TrainError> {
        // Without a bar to update or images to jitter, one call: nothing between the samples.
        let whole = !self.reporter.is_live() && self.augmentation.is_none();
        let chunk = if whole { order.len().max(1) } else { LIVE_SAMPLES };
        let (mut total, mut correct, mut done) = (0.0f64, 0, 0);
        let mut jittered = Vec::new();
        for indices in order.chunks(chunk) {
            let mean = match &mut self.augmentation {
                Some(augmentation) => {
                    jittered.clear();
                    jittered.extend(indices.iter().map(|&i| inputs[i]));
                    augmentation.apply(&mut jittered);
                    let samples = jittered.iter().zip(indices.iter().map(|&i| &targets[i]));
                    self.network.train_samples(self.workspace, samples, self.loss, self.optimizer)
                }
                None => {
                    let samples = indices.iter().map(|&i| (&inputs[i], &targets[i]));
                    self.network.train_samples(self.workspace, samples, self.loss, self.optimizer)
                }
            }
            .map_err(|error| offset_sample(error, done))?;
            total += f64::from(mean) * indices.len() as f64;
            correct += self.workspace.take_correct();
            done += indices.len();
            self.reporter.step(done, (total / done as f64) as f32, correct as f32 / done as f32);
        }
        Ok(((total / order.len().max(1) as f64) as f32, correct, order.len()))
    }

    /// The epoch in the loader's mini-batches, stepping `per_batch` after each: the mean loss,
    /// the correct predictions and the samples trained on. With `background`, a second thread
    /// gathers (and augments) the next batch meanwhile.
    fn batches(
        &mut self,
        loader: &mut Loader<IN, OUT>,
        inputs: &[[f32; IN]],
        targets: &[[f32; OUT]],
        mut per_batch: Option<&mut Scheduler<Box<dyn Schedule + '_>>>,
        background: bool,
    ) -> Result<(f32, usize, usize), TrainError> {
        let Self { network, workspace, loss, optimizer, reporter, augmentation } = self;
        let (mut total, mut correct, mut done) = (0.0f64, 0, 0);
        let mut step = |batch_inputs: &[[f32; IN]], batch_targets: &[[f32; OUT]]| {
            let loss = network.train_batch(workspace, batch_inputs, batch_targets, *loss, *optimizer)?;
            if let Some(scheduler) = per_batch.as_mut() {
                scheduler.step(*optimizer);
            }
            total += f64::from(loss) * batch_inputs.len() as f64;
            correct += workspace.take_correct();
            done += batch_inputs.len();
            reporter.step(done, (total / done as f64) as f32, correct as f32 / done as f32);
            Ok::<(), TrainError>(())
        };
        if background {
            let prepare = |batch: &mut [[f32; IN]]| {
                if let Some(augmentation) = augmentation.as_mut() {
                    augmentation.apply(batch);
                }
            };
            loader.run_in_background(inputs, targets, prepare, step)?;
        } else {
            while let Some((batch_inputs, batch_targets)) = loader.next_batch(inputs, targets) {
                if let Some(augmentation) = augmentation.as_mut() {
                    augmentation.apply(batch_inputs);
                }
                step(batch_inputs, batch_targets)?;
            }
        }
        Ok(((total / done.max(1) as f64) as f32, correct, done))
    }
}

/// `error` with its sample index counted from the epoch's start instead of the call's.
fn offset_sample(error: TrainError, offset: usize) -> TrainError {
    match error {
        TrainError::NonFiniteLoss { sample, loss } => TrainError::NonFiniteLoss { sample: sample + offset, loss },
        TrainError::NonFiniteInput { sample, index, value } => {
            TrainError::NonFiniteInput { sample: sample + offset, index, value }
        }
        TrainError::NonFiniteUpdate { sample, layer, largest_gradient } => {
            TrainError::NonFiniteUpdate { sample: sample.map(|sample| sample + offset), layer, largest_gradient }
        }
        other => other,
    }
}

/// Training samples with a seeded random part held out for validation.
struct Split<const IN: usize, const OUT: usize> {
    inputs: Vec<[f32; IN]>,
    targets: Vec<[f32; OUT]>,
    held_out: (Vec<[f32; IN]>, Vec<[f32; OUT]>),
}

impl<const IN: usize, const OUT: usize> Split<IN, OUT> {
    /// Holds out `fraction` of the samples, rounded: an error unless that leaves samples on
    /// both sides.
    fn new(
        inputs: &[[f32; IN]],
        targets: &[[f32; OUT]],
        fraction: f32,
        rng: &mut rand_pcg::Pcg64Mcg,
    ) -> Result<Self, TrainError> {
        let invalid = || TrainError::InvalidSetting {
            setting: "validation split",
            value: fraction.to_string(),
            requirement: "a fraction above 0 and below 1 that leaves samples on both sides",
        };
        if !(fraction > 0.0 && fraction < 1.0) {
            return Err(invalid());
        }
        let held = (inputs.len() as f64 * f64::from(fraction)).round() as usize;
        if held == 0 || held >= inputs.len() {
            return Err(invalid());
        }
        let mut order: Vec<usize> = (0..inputs.len()).collect();
        order.shuffle(rng);
        let (train, validation) = order.split_at(inputs.len() - held);
        let pick = |indices: &[usize]| -> (Vec<[f32; IN]>, Vec<[f32; OUT]>) {
            indices.iter().map(|&i| (inputs[i], targets[i])).unzip()
        };
        let (inputs, targets) = pick(train);
        Ok(Self { inputs, targets, held_out: pick(validation) })
    }
}

/// What a network scores on validation data.
struct Figures {
    loss: f32,
    /// The share of samples whose largest output is at their target's largest value.
    accuracy: f32,
    /// The metrics asked for, by name.
    metrics: Vec<(String, f32)>,
}

/// `network`'s figures on `inputs`, through the batched forward pass.
fn evaluate<N: Network<IN, OUT>, L: Loss, const IN: usize, const OUT: usize>(
    network: &N,
    workspace: &mut crate::Workspace<N, IN, OUT>,
    loss: &L,
    metrics: &[Metric],
    inputs: &[[f32; IN]],
    targets: &[[f32; OUT]],
) -> Result<Figures, TrainError> {
    let mut outputs = vec![[0.0; OUT]; inputs.len()];
    network.forward_batch(workspace, inputs, &mut outputs)?;
    let correct = count_predicted(&outputs, targets);
    Ok(Figures {
        loss: crate::metrics::mean_loss(&outputs, targets, loss),
        accuracy: (correct as f64 / inputs.len().max(1) as f64) as f32,
        metrics: metrics.iter().map(|metric| (metric.name(), metric.measure(&outputs, targets))).collect(),
    })
}

/// Early stopping's state: the best loss so far, when, and (to restore it) the network then.
struct Stopping<N> {
    best_loss: f32,
    best_epoch: Option<usize>,
    best: Option<N>,
    waited: usize,
}

/// What an epoch's monitored loss means.
struct Verdict {
    /// The best so far.
    improved: bool,
    /// Early stopping's patience has run out.
    stop: bool,
}

impl<N> Default for Stopping<N> {
    fn default() -> Self {
        Self { best_loss: f32::INFINITY, best_epoch: None, best: None, waited: 0 }
    }
}

impl<N> Stopping<N> {
    /// The state a checkpoint recorded.
    fn restore<const IN: usize, const OUT: usize>(progress: &FitProgress, path: &Path) -> Result<Self, TrainError>
    where
        N: Network<IN, OUT>,
    {
        let best = match &progress.best_network {
            Some(bytes) => Some(
                crate::io::decode(bytes, path)
                    .map_err(|error| TrainError::Resume { path: path.to_owned(), reason: error.to_string() })?,
            ),
            None => None,
        };
        Ok(Self { best_loss: progress.best_loss, best_epoch: progress.best_epoch, best, waited: progress.waited })
    }
}

impl<N: Clone> Stopping<N> {
    /// Records an epoch's monitored loss.
    fn observe(&mut self, settings: Option<EarlyStopping>, epoch: usize, loss: f32, network: &N) -> Verdict {
        let min_delta = settings.map_or(0.0, |settings| settings.min_delta);
        if loss < self.best_loss - min_delta {
            (self.best_loss, self.best_epoch, self.waited) = (loss, Some(epoch), 0);
            if settings.is_some_and(|settings| settings.restore_best) {
                self.best = Some(network.clone());
            }
            return Verdict { improved: true, stop: false };
        }
        self.waited += 1;
        Verdict { improved: false, stop: settings.is_some_and(|settings| self.waited >= settings.patience) }
    }
}
