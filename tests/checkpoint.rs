//! Checkpoints: training that stops, is saved, and resumes in a fresh process takes the same
//! steps, bit for bit, as training that never stopped.

use nn::optim::Adam;
use nn::prelude::*;
use std::path::{Path, PathBuf};

network! {
    struct Net {
        Linear(6, 8) -> Tanh -> Linear(8, 3)
    }
}

/// Set in the child process to the checkpoint it resumes from.
const RESUME_FROM: &str = "NN_TEST_RESUME_FROM";

/// A fixed batch of epoch `epoch`'s `index`-th step.
fn batch(epoch: usize, index: usize) -> (Vec<[f32; 6]>, Vec<[f32; 3]>) {
    let value = |i: usize, j: usize| (((epoch * 31 + index * 7 + i * 5 + j * 3) % 17) as f32 - 8.0) / 8.0;
    let inputs = (0..16).map(|i| std::array::from_fn(|j| value(i, j))).collect();
    let targets = (0..16).map(|i| one_hot((i + index + epoch) % 3)).collect();
    (inputs, targets)
}

fn train(net: &mut Net, adam: &mut Adam, epochs: std::ops::Range<usize>) {
    let mut workspace = net.workspace();
    for epoch in epochs {
        for index in 0..8 {
            let (inputs, targets) = batch(epoch, index);
            net.train_batch(&mut workspace, &inputs, &targets, &CrossEntropy, adam).unwrap();
        }
    }
}

fn scratch(name: &str) -> PathBuf {
    let directory = Path::new(env!("CARGO_TARGET_TMPDIR")).join("checkpoint");
    std::fs::create_dir_all(&directory).unwrap();
    directory.join(name)
}

fn bits(net: &Net) -> Vec<u32> {
    let mut bits = Vec::new();
    net.visit_tensors(&mut |tensor| bits.extend(tensor.values.iter().map(|value| value.to_bits())));
    bits
}

#[test]
fn training_resumed_from_a_checkpoint_in_a_fresh_process_is_bit_identical() {
    if let Ok(checkpoint) = std::env::var(RESUME_FROM) {
        // The child: resume from the checkpoint, train the last two epochs, save the network.
        let (mut net, mut adam): (Net, Adam) = nn::io::load_checkpoint(&checkpoint).unwrap();
        train(&mut net, &mut adam, 2..4);
        net.save(format!("{checkpoint}.resumed")).unwrap();
        return;
    }
    let start = Net::new(&mut nn::Pcg64Mcg::seed_from_u64(3));
    let mut uninterrupted = start.clone();
    let mut adam = Adam::new(0.01).with_amsgrad(true);
    train(&mut uninterrupted, &mut adam, 0..4);

    let mut first_half = start.clone();
    let mut adam = Adam::new(0.01).with_amsgrad(true);
    train(&mut first_half, &mut adam, 0..2);
    let checkpoint = scratch("two-epochs.checkpoint");
    nn::io::save_checkpoint(&checkpoint, &first_half, &adam).unwrap();
    let status = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["training_resumed_from_a_checkpoint_in_a_fresh_process_is_bit_identical", "--exact", "--quiet"])
        .env(RESUME_FROM, &checkpoint)
        .status()
        .unwrap();
    assert!(status.success(), "the resuming process failed");
    let resumed = Net::load(checkpoint.with_extension("checkpoint.resumed")).unwrap();
    assert_eq!(bits(&resumed), bits(&uninterrupted));
    assert_ne!(bits(&resumed), bits(&start));
}

#[test]
fn a_checkpoint_of_another_optimizer_or_a_model_file_is_refused() {
    let net = Net::new(&mut nn::Pcg64Mcg::seed_from_u64(4));
    let path = scratch("sgd.checkpoint");
    nn::io::save_checkpoint(&path, &net, &Sgd::new(0.1).with_momentum(0.9)).unwrap();
    let error = nn::io::load_checkpoint::<Net, Adam, 6, 3>(&path).unwrap_err();
    assert!(
        error.to_string().contains("the checkpoint holds the state of the optimizer `nn_core::optim::sgd::Sgd`"),
        "{error}"
    );
    let (restored, sgd): (Net, Sgd) = nn::io::load_checkpoint(&path).unwrap();
    assert_eq!((restored, sgd.momentum), (net.clone(), 0.9));

    let model = scratch("plain.model");
    net.save(&model).unwrap();
    let error = nn::io::load_checkpoint::<Net, Sgd, 6, 3>(&model).unwrap_err();
    assert!(
        error.to_string().ends_with("not an nn checkpoint (it does not start with the bytes \"nn-check\")"),
        "{error}"
    );

    let mut bytes = std::fs::read(&path).unwrap();
    let last = bytes.len() - 10;
    bytes[last] ^= 1;
    std::fs::write(&path, &bytes).unwrap();
    let error = nn::io::load_checkpoint::<Net, Sgd, 6, 3>(&path).unwrap_err();
    assert!(matches!(error, nn::io::ModelFileError::ChecksumMismatch { .. }), "{error:?}");
}

#[test]
fn a_checkpoint_keeps_the_position_of_a_schedule_beside_the_optimizer() {
    use nn::optim::{CosineAnnealing, Optimizer, Scheduler};
    let net = Net::new(&mut nn::Pcg64Mcg::seed_from_u64(5));
    let mut adam = Adam::new(0.1);
    let mut scheduler = Scheduler::new(CosineAnnealing { period: 10, minimum: 0.0 }, &mut adam);
    for _ in 0..3 {
        scheduler.step(&mut adam);
    }
    let path = scratch("scheduled.checkpoint");
    nn::io::save_checkpoint(&path, &net, &(adam.clone(), scheduler.clone())).unwrap();
    let (_, (mut restored_adam, mut restored)): (Net, (Adam, Scheduler<CosineAnnealing>)) =
        nn::io::load_checkpoint(&path).unwrap();
    assert_eq!(restored.steps(), 3);
    scheduler.step(&mut adam);
    restored.step(&mut restored_adam);
    assert_eq!(restored_adam.learning_rate(), adam.learning_rate());
}
