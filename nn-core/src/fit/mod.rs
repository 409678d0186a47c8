//! A fit loop: epochs of shuffled mini-batches (or of single samples, through the per-sample
//! fast path), validation, early stopping, a live progress display and a history, for any
//! network and optimizer.

use crate::losses::Loss;
use crate::network::{argmax, Network};
use crate::optim::Optimizer;
use crate::train::TrainError;
use rand::seq::SliceRandom;
use rand::SeedableRng;
use std::io::{IsTerminal, Write};
use std::time::Instant;

/// Where a [`Trainer`] reports its progress.
pub enum Progress {
    /// A live bar (position, rate, time left, running loss) when standard output is a
    /// terminal, one line per epoch otherwise (a log file, a pipe, CI).
    Auto,
    /// One line per epoch on standard output.
    Lines,
    /// One line per epoch into a writer.
    To(Box<dyn Write + Send>),
    /// Nothing.
    Silent,
}

impl std::fmt::Debug for Progress {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str(match self {
            Progress::Auto => "Auto",
            Progress::Lines => "Lines",
            Progress::To(_) => "To(..)",
            Progress::Silent => "Silent",
        })
    }
}

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

/// One epoch's figures.
#[derive(Clone, Debug, PartialEq)]
pub struct EpochRecord {
    /// The epoch, from 1.
    pub epoch: usize,
    /// The mean loss of the epoch's steps, over its samples.
    pub train_loss: f32,
    /// The mean loss on the validation data after the epoch.
    pub validation_loss: Option<f32>,
    /// The fraction of validation samples whose largest output is their target's largest.
    pub validation_accuracy: Option<f32>,
    /// Seconds spent training the epoch (validation excluded).
    pub seconds: f64,
}

impl std::fmt::Display for EpochRecord {
    /// `loss=0.1234 val_loss=0.2345 val_acc=0.9123 time=0.52s`
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(formatter, "loss={:.4}", self.train_loss)?;
        if let Some(loss) = self.validation_loss {
            write!(formatter, " val_loss={loss:.4}")?;
        }
        if let Some(accuracy) = self.validation_accuracy {
            write!(formatter, " val_acc={accuracy:.4}")?;
        }
        write!(formatter, " time={:.2}s", self.seconds)
    }
}

/// What a fit did, epoch by epoch.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct History {
    /// Every epoch trained, in order.
    pub epochs: Vec<EpochRecord>,
    /// The epoch with the lowest monitored loss.
    pub best_epoch: Option<usize>,
    /// Whether early stopping (or a callback) ended the fit before its last epoch.
    pub stopped_early: bool,
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

/// Trains a network for a number of epochs, configured with a builder.
///
/// Each epoch shuffles the training samples (seeded: the same seed gives the same run), then
/// trains on them in mini-batches with [`Network::train_batch`], or with a batch size of 1 one
/// sample at a time with [`Network::train_samples`] (the per-sample fast path). After each
/// epoch it evaluates the validation data, if given, reports progress, runs the callback and
/// checks early stopping.
///
/// ```
/// use nn::fit::{EarlyStopping, Progress, Trainer};
/// use nn::prelude::*;
///
/// network! { struct Net { Linear(2, 8) -> Tanh -> Linear(8, 2) } }
///
/// let inputs = [[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]];
/// let targets = [one_hot(0), one_hot(1), one_hot(1), one_hot(0)];
/// let mut net = Net::new(&mut nn::Pcg64Mcg::seed_from_u64(1));
/// let mut trainer = Trainer::new(Adam::new(0.05), CrossEntropy).epochs(200).batch_size(4).progress(Progress::Silent);
/// let history = trainer.fit(&mut net, &inputs, &targets, Some((&inputs, &targets)))?;
/// assert_eq!(history.epochs.last().unwrap().validation_accuracy, Some(1.0));
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
    early_stopping: Option<EarlyStopping>,
    progress: Progress,
    callback: Option<Callback<'c>>,
}

impl<O, L> std::fmt::Debug for Trainer<'_, O, L> {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("Trainer")
            .field("epochs", &self.epochs)
            .field("batch_size", &self.batch_size)
            .field("seed", &self.seed)
            .field("early_stopping", &self.early_stopping)
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
            early_stopping: None,
            progress: Progress::Auto,
            callback: None,
        }
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

    /// The seed of the shuffles (and of the workspace's generator: dropout masks).
    ///
    /// ```
    /// # use nn::{fit::Trainer, prelude::*};
    /// let trainer = Trainer::new(Sgd::new(0.1), Mse).seed(42);
    /// ```
    pub fn seed(self, seed: u64) -> Self {
        Self { seed, ..self }
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

    /// Where progress goes.
    ///
    /// ```
    /// # use nn::{fit::{Progress, Trainer}, prelude::*};
    /// let quiet = Trainer::new(Sgd::new(0.1), Mse).progress(Progress::Silent);
    /// ```
    pub fn progress(self, progress: Progress) -> Self {
        Self { progress, ..self }
    }

    /// A callback after each epoch: custom logging, a learning-rate schedule, or stopping.
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
    /// The first error of a step (the network keeps the steps before it), or inputs and
    /// targets of different counts.
    pub fn fit<N: Network<IN, OUT>, const IN: usize, const OUT: usize>(
        &mut self,
        network: &mut N,
        inputs: &[[f32; IN]],
        targets: &[[f32; OUT]],
        validation: Option<Samples<'_, IN, OUT>>,
    ) -> Result<History, TrainError> {
        if inputs.len() != targets.len() {
            return Err(TrainError::BatchSizeMismatch {
                inputs: inputs.len(),
                targets: targets.len(),
                what: "targets",
            });
        }
        if let Some((inputs, targets)) = validation {
            if inputs.len() != targets.len() {
                let (inputs, targets) = (inputs.len(), targets.len());
                return Err(TrainError::BatchSizeMismatch { inputs, targets, what: "validation targets" });
            }
        }
        let mut rng = rand_pcg::Pcg64Mcg::seed_from_u64(self.seed);
        let mut workspace = network.workspace();
        workspace.reseed(self.seed);
        let mut order: Vec<usize> = (0..inputs.len()).collect();
        let mut batch = Batch::default();
        let mut reporter = Reporter::new(&mut self.progress, self.epochs, inputs.len().div_ceil(self.batch_size));
        let (mut history, mut stopping) = (History::default(), Stopping::default());
        for epoch in 1..=self.epochs {
            order.shuffle(&mut rng);
            reporter.begin_epoch(epoch);
            let started = Instant::now();
            let train_loss = if self.batch_size == 1 {
                let samples = order.iter().map(|&i| (&inputs[i], &targets[i]));
                network.train_samples(&mut workspace, samples, &self.loss, &mut self.optimizer)?
            } else {
                let mut total = 0.0f64;
                for (step, chunk) in order.chunks(self.batch_size).enumerate() {
                    let (batch_inputs, batch_targets) = batch.gather(chunk, inputs, targets);
                    let loss = network.train_batch(
                        &mut workspace,
                        batch_inputs,
                        batch_targets,
                        &self.loss,
                        &mut self.optimizer,
                    )?;
                    total += f64::from(loss) * chunk.len() as f64;
                    reporter.step(step + 1, (total / ((step * self.batch_size + chunk.len()) as f64)) as f32);
                }
                (total / inputs.len().max(1) as f64) as f32
            };
            let seconds = started.elapsed().as_secs_f64();
            let (validation_loss, validation_accuracy) = match validation {
                Some((inputs, targets)) => {
                    let (loss, accuracy) = evaluate(network, &mut workspace, &self.loss, inputs, targets)?;
                    (Some(loss), Some(accuracy))
                }
                None => (None, None),
            };
            let record = EpochRecord { epoch, train_loss, validation_loss, validation_accuracy, seconds };
            reporter.end_epoch(&record);
            let monitored = validation_loss.unwrap_or(train_loss);
            let stop_now = stopping.observe(self.early_stopping, epoch, monitored, network);
            let control = self.callback.as_mut().map_or(Control::Continue, |callback| callback(&record));
            history.epochs.push(record);
            if stop_now || control == Control::Stop {
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

/// The mean loss and the accuracy (largest output at the target's largest value) of `network`
/// on `inputs`, through the batched forward pass.
fn evaluate<N: Network<IN, OUT>, L: Loss, const IN: usize, const OUT: usize>(
    network: &N,
    workspace: &mut crate::Workspace<N, IN, OUT>,
    loss: &L,
    inputs: &[[f32; IN]],
    targets: &[[f32; OUT]],
) -> Result<(f32, f32), TrainError> {
    let mut outputs = vec![[0.0; OUT]; inputs.len()];
    network.forward_batch(workspace, inputs, &mut outputs)?;
    let total: f64 = outputs.iter().zip(targets).map(|(output, target)| f64::from(loss.loss(output, target))).sum();
    let correct = outputs.iter().zip(targets).filter(|(output, target)| argmax(*output) == argmax(*target)).count();
    let count = inputs.len().max(1) as f64;
    Ok(((total / count) as f32, (correct as f64 / count) as f32))
}

/// The reused buffers of a shuffled mini-batch.
#[derive(Default)]
struct Batch<const IN: usize, const OUT: usize> {
    inputs: Vec<[f32; IN]>,
    targets: Vec<[f32; OUT]>,
}

impl<const IN: usize, const OUT: usize> Batch<IN, OUT> {
    /// The samples at `indices`, copied into the buffers.
    fn gather(
        &mut self,
        indices: &[usize],
        inputs: &[[f32; IN]],
        targets: &[[f32; OUT]],
    ) -> (&[[f32; IN]], &[[f32; OUT]]) {
        self.inputs.clear();
        self.targets.clear();
        self.inputs.extend(indices.iter().map(|&i| inputs[i]));
        self.targets.extend(indices.iter().map(|&i| targets[i]));
        (&self.inputs, &self.targets)
    }
}

/// Early stopping's state: the best loss so far, when, and (to restore it) the network then.
struct Stopping<N> {
    best_loss: f32,
    best_epoch: Option<usize>,
    best: Option<N>,
    waited: usize,
}

impl<N> Default for Stopping<N> {
    fn default() -> Self {
        Self { best_loss: f32::INFINITY, best_epoch: None, best: None, waited: 0 }
    }
}

impl<N: Clone> Stopping<N> {
    /// Records an epoch's monitored loss; whether to stop now.
    fn observe(&mut self, settings: Option<EarlyStopping>, epoch: usize, loss: f32, network: &N) -> bool {
        let min_delta = settings.map_or(0.0, |settings| settings.min_delta);
        if loss < self.best_loss - min_delta {
            (self.best_loss, self.best_epoch, self.waited) = (loss, Some(epoch), 0);
            if settings.is_some_and(|settings| settings.restore_best) {
                self.best = Some(network.clone());
            }
            return false;
        }
        self.waited += 1;
        settings.is_some_and(|settings| self.waited >= settings.patience)
    }
}

/// Reports progress the way [`Progress`] says.
enum Reporter<'p> {
    Bar {
        bar: indicatif::ProgressBar,
        epochs: usize,
    },
    /// Lines into a writer, or on standard output without one.
    Lines {
        out: Option<&'p mut (dyn Write + Send)>,
        epochs: usize,
    },
    Silent,
}

impl<'p> Reporter<'p> {
    fn new(progress: &'p mut Progress, epochs: usize, steps: usize) -> Self {
        match progress {
            Progress::Auto if std::io::stdout().is_terminal() => {
                let style = indicatif::ProgressStyle::with_template(
                    "{prefix} [{bar:30}] {pos}/{len} batches, {per_sec}, {eta} left {msg}",
                )
                .expect("a valid template")
                .progress_chars("=> ");
                let bar = indicatif::ProgressBar::new(steps as u64).with_style(style);
                Reporter::Bar { bar, epochs }
            }
            Progress::Auto | Progress::Lines => Reporter::Lines { out: None, epochs },
            Progress::To(writer) => Reporter::Lines { out: Some(writer.as_mut()), epochs },
            Progress::Silent => Reporter::Silent,
        }
    }

    fn begin_epoch(&mut self, epoch: usize) {
        if let Reporter::Bar { bar, epochs } = self {
            bar.reset();
            bar.set_prefix(format!("epoch {epoch}/{epochs}"));
        }
    }

    fn step(&mut self, step: usize, running_loss: f32) {
        if let Reporter::Bar { bar, .. } = self {
            bar.set_position(step as u64);
            bar.set_message(format!("loss={running_loss:.4}"));
        }
    }

    fn end_epoch(&mut self, record: &EpochRecord) {
        match self {
            Reporter::Bar { bar, epochs } => bar.println(format!("epoch {}/{epochs} {record}", record.epoch)),
            Reporter::Lines { out, epochs } => {
                let line = format!("epoch {}/{epochs} {record}", record.epoch);
                // Progress is best effort: a closed pipe must not stop training.
                let _ = match out {
                    Some(out) => writeln!(out, "{line}"),
                    None => writeln!(std::io::stdout(), "{line}"),
                };
            }
            Reporter::Silent => {}
        }
    }

    fn finish(&mut self) {
        if let Reporter::Bar { bar, .. } = self {
            bar.finish_and_clear();
        }
    }
}
