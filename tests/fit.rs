//! The fit loop: its progress lines, the per-sample path, early stopping and callbacks.

use nn::fit::{Control, EarlyStopping, Progress, Trainer};
use nn::optim::{OneCycle, Optimizer, ReduceOnPlateau, StepDecay};
use nn::prelude::*;
use rand::seq::SliceRandom;
use std::io::Write;
use std::sync::{Arc, Mutex};

network! {
    struct Net {
        Linear(4, 6) -> Tanh -> Linear(6, 3)
    }
}

fn data(count: usize, offset: usize) -> (Vec<[f32; 4]>, Vec<[f32; 3]>) {
    let inputs: Vec<[f32; 4]> =
        (0..count).map(|i| std::array::from_fn(|j| (((i + offset) * 7 + j * 3) % 11) as f32 / 11.0 - 0.5)).collect();
    // The class is a function of the inputs, so that it can be learned.
    let targets = inputs.iter().map(|x| one_hot(usize::from(x[0] > 0.0) + usize::from(x[1] > 0.2))).collect();
    (inputs, targets)
}

/// A writer whose bytes the test can read afterwards.
#[derive(Clone, Default)]
struct Shared(Arc<Mutex<Vec<u8>>>);

impl Write for Shared {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
fn progress_in_lines_has_one_line_per_epoch_with_the_figures() {
    let (inputs, targets) = data(64, 0);
    let (validation, validation_targets) = data(16, 100);
    let output = Shared::default();
    let mut net = Net::new(&mut nn::Pcg64Mcg::seed_from_u64(1));
    let mut trainer = Trainer::new(Adam::new(0.01), CrossEntropy)
        .epochs(5)
        .batch_size(8)
        .progress(Progress::To(Box::new(output.clone())));
    let history = trainer.fit(&mut net, &inputs, &targets, Some((&validation, &validation_targets))).unwrap();
    let text = String::from_utf8(output.0.lock().unwrap().clone()).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 5, "{text}");
    for (epoch, (line, record)) in lines.iter().zip(&history.epochs).enumerate() {
        let expected = format!(
            "epoch {}/5 loss={:.4} acc={:.4} val_loss={:.4} val_acc={:.4} lr=0.01 time=",
            epoch + 1,
            record.train_loss,
            record.train_accuracy,
            record.validation_loss.unwrap(),
            record.validation_accuracy.unwrap()
        );
        assert!(line.starts_with(&expected) && line.ends_with('s'), "{line} against {expected}");
    }
    assert!(history.epochs[4].train_loss < history.epochs[0].train_loss, "{history:?}");
    assert!(!history.stopped_early);
}

#[test]
fn a_batch_size_of_one_is_the_per_sample_path_over_the_seeded_shuffle() {
    let (inputs, targets) = data(40, 0);
    let start = Net::new(&mut nn::Pcg64Mcg::seed_from_u64(2));
    let mut fitted = start.clone();
    Trainer::new(Sgd::new(0.1), Mse)
        .epochs(3)
        .batch_size(1)
        .seed(9)
        .progress(Progress::Silent)
        .fit(&mut fitted, &inputs, &targets, None)
        .unwrap();

    let mut manual = start.clone();
    let mut workspace = manual.workspace();
    let mut rng = nn::Pcg64Mcg::seed_from_u64(9);
    for _ in 0..3 {
        // Each epoch shuffles the samples in their original order.
        let mut order: Vec<usize> = (0..inputs.len()).collect();
        order.shuffle(&mut rng);
        let samples = order.iter().map(|&i| (&inputs[i], &targets[i]));
        manual.train_samples(&mut workspace, samples, &Mse, &mut Sgd::new(0.1)).unwrap();
    }
    assert_eq!(fitted, manual);
}

#[test]
fn early_stopping_ends_a_run_whose_validation_loss_rises_and_restores_the_best_epoch() {
    let (inputs, targets) = data(64, 0);
    // Validation targets that contradict the training ones: the validation loss rises.
    let validation_targets: Vec<[f32; 3]> = targets.iter().map(|t| [t[2], t[0], t[1]]).collect();
    let start = Net::new(&mut nn::Pcg64Mcg::seed_from_u64(3));
    let stopping = EarlyStopping { patience: 2, min_delta: 0.0, restore_best: true };
    let fit = |epochs: usize, stopping: Option<EarlyStopping>| {
        let mut net = start.clone();
        let mut trainer =
            Trainer::new(Adam::new(0.05), CrossEntropy).epochs(epochs).batch_size(16).progress(Progress::Silent);
        if let Some(stopping) = stopping {
            trainer = trainer.early_stopping(stopping);
        }
        let history = trainer.fit(&mut net, &inputs, &targets, Some((&inputs, &validation_targets))).unwrap();
        (net, history)
    };
    let (stopped, history) = fit(50, Some(stopping));
    let best = history.best_epoch.unwrap();
    assert!(history.stopped_early && history.epochs.len() == best + 2, "{history:?}");
    // The restored network is the one a run of `best` epochs ends with.
    assert_eq!(stopped, fit(best, None).0);
}

#[test]
fn a_callback_can_stop_the_run() {
    let (inputs, targets) = data(32, 0);
    let mut net = Net::new(&mut nn::Pcg64Mcg::seed_from_u64(4));
    let mut seen = Vec::new();
    let history = Trainer::new(Sgd::new(0.1), CrossEntropy)
        .epochs(10)
        .progress(Progress::Silent)
        .on_epoch(|record| {
            seen.push(record.epoch);
            if record.epoch == 3 {
                Control::Stop
            } else {
                Control::Continue
            }
        })
        .fit(&mut net, &inputs, &targets, None)
        .unwrap();
    assert_eq!((history.epochs.len(), history.stopped_early), (3, true));
    assert_eq!(seen, [1, 2, 3]);
}

/// The share of `inputs` whose largest output is at their target's largest value.
fn accuracy_of<N: Network<IN, OUT>, const IN: usize, const OUT: usize>(
    net: &N,
    inputs: &[[f32; IN]],
    targets: &[[f32; OUT]],
) -> f32 {
    let correct = inputs.iter().zip(targets).filter(|(input, target)| net.predict(input) == argmax(*target)).count();
    correct as f32 / inputs.len() as f32
}

#[test]
fn the_training_accuracy_counts_the_predictions_the_steps_made() {
    // With a learning rate of 0 nothing moves: the running accuracy is the network's accuracy.
    let (inputs, targets) = data(50, 0);
    let net = Net::new(&mut nn::Pcg64Mcg::seed_from_u64(5));
    let expected = accuracy_of(&net, &inputs, &targets);
    assert!(expected > 0.0 && expected < 1.0, "{expected}");
    for batch_size in [1, 7, 50] {
        let mut fitted = net.clone();
        let history = Trainer::new(Sgd::new(0.0), CrossEntropy)
            .epochs(2)
            .batch_size(batch_size)
            .progress(Progress::Silent)
            .fit(&mut fitted, &inputs, &targets, None)
            .unwrap();
        for record in &history.epochs {
            assert!((record.train_accuracy - expected).abs() < 1e-6, "batch {batch_size}: {record:?} vs {expected}");
        }
    }
}

network! {
    /// Convolution-heavy: its batch steps run in whole-network shards.
    struct Conv: [1, 12, 12] {
        Conv2d(1, 8, 3) -> ReLU -> MaxPool2d(2) -> Flatten -> Linear(200, 3)
    }
}

#[test]
fn the_training_accuracy_is_counted_in_sharded_steps_too() {
    // The library shards a batch step from 4 multiply-adds per parameter and 64 rows.
    const { assert!(Conv::MULTIPLY_ADDS >= 4 * Conv::PARAMETERS) };
    let inputs: Vec<[f32; 144]> =
        (0..128).map(|i| std::array::from_fn(|j| ((i * 13 + j * 5) % 17) as f32 / 17.0 - 0.5)).collect();
    let targets: Vec<[f32; 3]> = (0..128).map(|i| one_hot(i % 3)).collect();
    let net = Conv::new(&mut nn::Pcg64Mcg::seed_from_u64(6));
    let expected = accuracy_of(&net, &inputs, &targets);
    let mut fitted = net.clone();
    let history = Trainer::new(Sgd::new(0.0), CrossEntropy)
        .epochs(1)
        .batch_size(128)
        .progress(Progress::Silent)
        .fit(&mut fitted, &inputs, &targets, None)
        .unwrap();
    assert!((history.epochs[0].train_accuracy - expected).abs() < 1e-6, "{history:?} vs {expected}");
}

#[test]
fn a_validation_split_holds_out_a_seeded_part() {
    let (inputs, targets) = data(40, 0);
    let fit = |seed: u64| {
        let mut net = Net::new(&mut nn::Pcg64Mcg::seed_from_u64(7));
        let history = Trainer::new(Sgd::new(0.1), CrossEntropy)
            .epochs(2)
            .validation_split(0.25)
            .seed(seed)
            .progress(Progress::Silent)
            .fit(&mut net, &inputs, &targets, None)
            .unwrap();
        (net, history)
    };
    let (net, history) = fit(1);
    let accuracy = history.epochs[1].validation_accuracy.unwrap();
    // 10 of 40 held out: the accuracy is a multiple of 1/10, and the same split next time.
    assert!(((accuracy * 10.0).round() - accuracy * 10.0).abs() < 1e-5, "{accuracy}");
    assert_eq!(fit(1).0, net);
    assert_ne!(fit(2).0, net);
    for fraction in [0.0, 1.0, f32::NAN, 0.001] {
        let error = Trainer::new(Sgd::new(0.1), CrossEntropy)
            .validation_split(fraction)
            .progress(Progress::Silent)
            .fit(&mut Net::zeroed(), &inputs[..2], &targets[..2], None)
            .unwrap_err();
        assert!(matches!(error, TrainError::InvalidSetting { setting: "validation split", .. }), "{error}");
    }
}

#[test]
fn an_epoch_schedule_sets_each_epochs_rate_and_the_history_records_it() {
    let (inputs, targets) = data(16, 0);
    let history = Trainer::new(Sgd::new(0.8), CrossEntropy)
        .epochs(5)
        .schedule(StepDecay { every: 2, gamma: 0.5 })
        .progress(Progress::Silent)
        .fit(&mut Net::new(&mut nn::Pcg64Mcg::seed_from_u64(8)), &inputs, &targets, None)
        .unwrap();
    let rates: Vec<f64> = history.epochs.iter().map(|record| record.learning_rate).collect();
    assert_eq!(rates, [0.8f32, 0.8, 0.4, 0.4, 0.2].map(f64::from));
}

#[test]
fn a_batch_schedule_steps_after_every_batch() {
    let (inputs, targets) = data(32, 0);
    let (epochs, batches) = (3, 4);
    let mut trainer = Trainer::new(Sgd::new(0.1), CrossEntropy)
        .epochs(epochs)
        .batch_size(8)
        .schedule_per_batch(OneCycle::new(0.5, epochs * batches))
        .progress(Progress::Silent);
    let history = trainer.fit(&mut Net::new(&mut nn::Pcg64Mcg::seed_from_u64(9)), &inputs, &targets, None).unwrap();
    let schedule = OneCycle::new(0.5, epochs * batches);
    use nn::optim::Schedule;
    for (epoch, record) in history.epochs.iter().enumerate() {
        let expected = schedule.rate(epoch * batches, 0.1) as f32 as f64;
        assert_eq!(record.learning_rate, expected, "epoch {}", epoch + 1);
    }
    assert_eq!(trainer.optimizer.learning_rate(), schedule.rate(epochs * batches, 0.1) as f32 as f64);
}

#[test]
fn reduce_on_plateau_lowers_the_rate_when_the_loss_stalls() {
    let (inputs, _) = data(16, 0);
    // A zero network already outputs the zero targets: the loss stays 0 from the first epoch.
    let targets = vec![[0.0; 3]; inputs.len()];
    let history = Trainer::new(Sgd::new(1.0), Mse)
        .epochs(6)
        .reduce_on_plateau(ReduceOnPlateau::default().with_patience(1).with_factor(0.5))
        .progress(Progress::Silent)
        .fit(&mut Net::zeroed(), &inputs, &targets, None)
        .unwrap();
    let rates: Vec<f64> = history.epochs.iter().map(|record| record.learning_rate).collect();
    assert_eq!(rates, [1.0, 1.0, 1.0, 0.5, 0.5, 0.25], "{history:?}");
}

#[test]
fn checkpoints_and_the_best_model_are_written_as_the_run_goes() {
    let directory = tempfile::tempdir().unwrap();
    let (checkpoint, best) = (directory.path().join("run.checkpoint"), directory.path().join("best.model"));
    let (inputs, targets) = data(64, 0);
    let validation_targets: Vec<[f32; 3]> = targets.iter().map(|t| [t[2], t[0], t[1]]).collect();
    let mut net = Net::new(&mut nn::Pcg64Mcg::seed_from_u64(11));
    let mut trainer = Trainer::new(Adam::new(0.05), CrossEntropy)
        .epochs(6)
        .batch_size(16)
        .checkpoint_every(3, &checkpoint)
        .save_best(&best)
        .early_stopping(EarlyStopping { patience: 100, min_delta: 0.0, restore_best: true })
        .progress(Progress::Silent);
    let history = trainer.fit(&mut net, &inputs, &targets, Some((&inputs, &validation_targets))).unwrap();
    // The last checkpoint is epoch 6's: the network before restoring the best, and the optimizer.
    let (checkpointed, adam): (Net, Adam) = nn::io::load_checkpoint(&checkpoint).unwrap();
    assert_eq!(adam.steps(), 6 * 4);
    assert_eq!(adam, trainer.optimizer);
    // The best model is the restored best epoch's network.
    assert!(history.best_epoch.unwrap() < 6, "{history:?}");
    assert_eq!(Net::load(&best).unwrap(), net);
    assert_ne!(checkpointed, net);
}

#[test]
fn an_unwritable_checkpoint_is_an_error_naming_the_file() {
    let (inputs, targets) = data(8, 0);
    let path = std::path::Path::new("/nonexistent-directory/run.checkpoint");
    let error = Trainer::new(Sgd::new(0.1), CrossEntropy)
        .epochs(1)
        .checkpoint_every(1, path)
        .progress(Progress::Silent)
        .fit(&mut Net::zeroed(), &inputs, &targets, None)
        .unwrap_err();
    assert!(matches!(&error, TrainError::Save { path: p, .. } if p == path), "{error}");
    assert!(error.to_string().contains("/nonexistent-directory/run.checkpoint"), "{error}");
}

#[test]
fn validation_metrics_are_measured_named_and_printed() {
    use nn::metrics::Metric;
    let (inputs, targets) = data(32, 0);
    let output = Shared::default();
    let mut net = Net::new(&mut nn::Pcg64Mcg::seed_from_u64(12));
    let history = Trainer::new(Sgd::new(0.1), CrossEntropy)
        .epochs(2)
        .metrics([Metric::TopK(1), Metric::TopK(3), Metric::MeanAbsoluteError])
        .progress(Progress::To(Box::new(output.clone())))
        .fit(&mut net, &inputs, &targets, Some((&inputs, &targets)))
        .unwrap();
    let last = history.epochs.last().unwrap();
    let names: Vec<&str> = last.validation_metrics.iter().map(|(name, _)| name.as_str()).collect();
    assert_eq!(names, ["top1", "top3", "mae"]);
    assert_eq!(last.validation_metrics[0].1, last.validation_accuracy.unwrap());
    assert_eq!(last.validation_metrics[1].1, 1.0); // 3 classes: always among the top 3
    let mut outputs = vec![[0.0; 3]; inputs.len()];
    net.forward_batch(&mut net.workspace(), &inputs, &mut outputs).unwrap();
    assert_eq!(last.validation_metrics[2].1, nn::metrics::mean_absolute_error(&outputs, &targets));
    let text = String::from_utf8(output.0.lock().unwrap().clone()).unwrap();
    assert!(text.lines().all(|line| line.contains(" val_top1=") && line.contains(" val_mae=")), "{text}");
}

network! {
    /// With dropout: a resumed fit must also draw the same masks.
    struct Dropped {
        Linear(4, 16) -> ReLU -> Dropout(0.3) -> Linear(16, 3)
    }
}

#[test]
fn a_fit_resumed_from_its_checkpoint_takes_the_same_steps_as_one_that_never_stopped() {
    use nn::optim::CosineAnnealing;
    let directory = tempfile::tempdir().unwrap();
    let checkpoint = directory.path().join("run.checkpoint");
    let (inputs, targets) = data(96, 0);
    let (validation, validation_targets) = data(24, 500);
    let start = Dropped::new(&mut nn::Pcg64Mcg::seed_from_u64(13));
    let trainer = |epochs: usize| {
        Trainer::new(Adam::new(0.01), CrossEntropy)
            .epochs(epochs)
            .batch_size(16)
            .seed(5)
            .schedule(CosineAnnealing { period: 6, minimum: 0.001 })
            .early_stopping(EarlyStopping { patience: 100, min_delta: 0.0, restore_best: true })
            .checkpoint_every(1, &checkpoint)
            .progress(Progress::Silent)
    };
    let validation_data = Some((&validation[..], &validation_targets[..]));
    let mut uninterrupted = start.clone();
    let full = trainer(6).fit(&mut uninterrupted, &inputs, &targets, validation_data).unwrap();

    let mut first_half = start.clone();
    trainer(3).fit(&mut first_half, &inputs, &targets, validation_data).unwrap();
    let mut resumed = Dropped::zeroed();
    let mut resuming = trainer(6).resume_from(&checkpoint);
    let history = resuming.fit(&mut resumed, &inputs, &targets, validation_data).unwrap();

    assert_eq!(resumed, uninterrupted);
    let strip = |history: &nn::fit::History| -> Vec<(f32, f32, f64)> {
        history.epochs.iter().map(|r| (r.train_loss, r.validation_loss.unwrap(), r.learning_rate)).collect()
    };
    assert_eq!(strip(&history), strip(&full));
    assert_eq!(history.best_epoch, full.best_epoch);
    let (checkpointed, adam): (Dropped, Adam) = nn::io::load_checkpoint(&checkpoint).unwrap();
    assert_eq!(adam, resuming.optimizer);
    assert_eq!(adam.steps(), 6 * 6);
    assert_ne!(checkpointed, Dropped::zeroed());
}

#[test]
fn resuming_from_a_missing_or_foreign_checkpoint_is_an_error_that_changes_nothing() {
    let directory = tempfile::tempdir().unwrap();
    let (inputs, targets) = data(16, 0);
    let missing = directory.path().join("missing.checkpoint");
    let mut net = Net::new(&mut nn::Pcg64Mcg::seed_from_u64(14));
    let before = net.clone();
    let error = Trainer::new(Adam::new(0.01), CrossEntropy)
        .resume_from(&missing)
        .progress(Progress::Silent)
        .fit(&mut net, &inputs, &targets, None)
        .unwrap_err();
    assert!(matches!(&error, TrainError::Resume { path, .. } if path == &missing), "{error}");
    // A checkpoint of an SGD run is not resumed with Adam.
    let sgd_checkpoint = directory.path().join("sgd.checkpoint");
    Trainer::new(Sgd::new(0.1), CrossEntropy)
        .epochs(1)
        .checkpoint_every(1, &sgd_checkpoint)
        .progress(Progress::Silent)
        .fit(&mut net.clone(), &inputs, &targets, None)
        .unwrap();
    let error = Trainer::new(Adam::new(0.01), CrossEntropy)
        .resume_from(&sgd_checkpoint)
        .progress(Progress::Silent)
        .fit(&mut net, &inputs, &targets, None)
        .unwrap_err();
    assert!(error.to_string().contains("Sgd"), "{error}");
    assert_eq!(net, before);
}

#[test]
fn drop_last_skips_each_epochs_short_batch() {
    let (inputs, targets) = data(10, 0);
    for (drop_last, steps) in [(false, 3 * 3), (true, 3 * 2)] {
        let mut trainer = Trainer::new(Adam::new(0.01), CrossEntropy)
            .epochs(3)
            .batch_size(4)
            .drop_last(drop_last)
            .progress(Progress::Silent);
        let history =
            trainer.fit(&mut Net::new(&mut nn::Pcg64Mcg::seed_from_u64(15)), &inputs, &targets, None).unwrap();
        assert_eq!(trainer.optimizer.steps(), steps, "drop_last {drop_last}");
        let accuracy = history.epochs[0].train_accuracy * if drop_last { 8.0 } else { 10.0 };
        assert!((accuracy - accuracy.round()).abs() < 1e-5, "counted over the samples trained on: {accuracy}");
    }
}

#[test]
fn augmented_fits_repeat_for_a_seed_resume_exactly_and_check_the_shape() {
    use nn::data::Augment;
    let directory = tempfile::tempdir().unwrap();
    let checkpoint = directory.path().join("augmented.checkpoint");
    let (inputs, targets) = data(64, 0);
    let augment = Augment::new([1, 2, 2]).shift(0.5).rotation(20.0).scale(0.1);
    let trainer = |epochs: usize, batch: usize| {
        Trainer::new(Sgd::new(0.1), CrossEntropy)
            .epochs(epochs)
            .batch_size(batch)
            .seed(3)
            .augment(augment)
            .checkpoint_every(1, &checkpoint)
            .progress(Progress::Silent)
    };
    // The per-sample path and mini-batches.
    for batch in [1, 16] {
        let start = Net::new(&mut nn::Pcg64Mcg::seed_from_u64(21));
        let (mut once, mut again, mut plain) = (start.clone(), start.clone(), start.clone());
        trainer(4, batch).fit(&mut again, &inputs, &targets, None).unwrap();
        trainer(4, batch).fit(&mut once, &inputs, &targets, None).unwrap();
        assert_eq!(once, again, "batch {batch}");
        let unaugmented = Trainer::new(Sgd::new(0.1), CrossEntropy).epochs(4).batch_size(batch).seed(3);
        unaugmented.progress(Progress::Silent).fit(&mut plain, &inputs, &targets, None).unwrap();
        assert_ne!(once, plain, "batch {batch}");
        let mut first_half = start.clone();
        trainer(2, batch).fit(&mut first_half, &inputs, &targets, None).unwrap();
        let mut resumed = Net::zeroed();
        trainer(4, batch).resume_from(&checkpoint).fit(&mut resumed, &inputs, &targets, None).unwrap();
        assert_eq!(resumed, once, "batch {batch}");
    }
    let error = Trainer::new(Sgd::new(0.1), CrossEntropy)
        .augment(Augment::digits())
        .progress(Progress::Silent)
        .fit(&mut Net::zeroed(), &inputs, &targets, None)
        .unwrap_err();
    assert_eq!(
        error.to_string(),
        "the augmentation's image shape is [1, 28, 28] (784 values); it must be one value per network input"
    );
}

#[test]
fn batches_gathered_on_a_second_thread_train_as_those_gathered_inline() {
    use nn::data::Augment;
    let (inputs, targets) = data(200, 0);
    let fit = |threads: usize, targets: &[[f32; 3]]| {
        let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
        pool.install(|| {
            let mut net = Net::new(&mut nn::Pcg64Mcg::seed_from_u64(31));
            let history = Trainer::new(Sgd::new(0.1), CrossEntropy)
                .epochs(3)
                .batch_size(16)
                .seed(4)
                .augment(Augment::new([1, 2, 2]).shift(0.5))
                .gather_in_background(true)
                .progress(Progress::Silent)
                .fit(&mut net, &inputs, targets, None);
            (net, history)
        })
    };
    // One thread gathers inline; with two, the small steps leave a core for the gatherer.
    let (inline, inline_history) = fit(1, &targets);
    let (background, background_history) = fit(2, &targets);
    assert_eq!(inline, background);
    let losses = |history: nn::fit::History| history.epochs.iter().map(|r| r.train_loss).collect::<Vec<_>>();
    assert_eq!(losses(inline_history.unwrap()), losses(background_history.unwrap()));
    // An error in a later batch ends the epoch at once, whichever thread gathers.
    let mut poisoned = targets.clone();
    poisoned[150] = [f32::NAN; 3];
    for threads in [1, 2] {
        let error = fit(threads, &poisoned).1.unwrap_err();
        assert!(matches!(error, TrainError::NonFiniteLoss { .. }), "{error:?}");
    }
}
