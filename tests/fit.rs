//! The fit loop: its progress lines, the per-sample path, early stopping and callbacks.

use nn::fit::{Control, EarlyStopping, Progress, Trainer};
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
            "epoch {}/5 loss={:.4} val_loss={:.4} val_acc={:.4} time=",
            epoch + 1,
            record.train_loss,
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
    let mut order: Vec<usize> = (0..inputs.len()).collect();
    for _ in 0..3 {
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
