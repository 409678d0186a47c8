//! Kaggle's digit recognizer end to end: trains on the competition's `train.csv` and writes the
//! submission for its `test.csv`.
//!
//! ```text
//! cargo run --release --example kaggle -- --train train.csv --test test.csv --out submission.csv
//! cargo run --release --example kaggle -- --train ../shared/mnist/kaggle-sample/train.csv.gz \
//!     --test ../shared/mnist/kaggle-sample/test.csv.gz --out submission.csv
//! ```
//!
//! Both files may be gzip-compressed. A seeded 10% of the training rows is held out to choose
//! the epoch (early stopping restores the best one); the network is a 784-128-10 ReLU MLP trained
//! with Adam on batches of 64. The submission is `ImageId,Label`, one line per test image in the
//! file's order, ids from 1, as Kaggle expects.

use nn::data::{read_kaggle_test, read_kaggle_train, write_kaggle_submission};
use nn::fit::{EarlyStopping, Trainer};
use nn::prelude::*;
use std::path::PathBuf;

network! {
    /// The classifier: two layers, ReLU, trained on logits.
    struct Digits {
        Linear(784, 128) -> ReLU -> Linear(128, 10)
    }
}

const USAGE: &str =
    "usage: kaggle --train TRAIN.csv[.gz] --test TEST.csv[.gz] [--out submission.csv] [--epochs N] [--seed N]";

/// The command line; see the module documentation.
#[derive(Debug)]
struct Args {
    train: PathBuf,
    test: PathBuf,
    out: PathBuf,
    epochs: usize,
    seed: u64,
}

fn parse() -> Result<Args, lexopt::Error> {
    use lexopt::prelude::*;
    let (mut train, mut test) = (None, None);
    let mut args =
        Args { train: PathBuf::new(), test: PathBuf::new(), out: "submission.csv".into(), epochs: 30, seed: 1 };
    let mut parser = lexopt::Parser::from_env();
    while let Some(arg) = parser.next()? {
        match arg {
            Long("train") => train = Some(parser.value()?.into()),
            Long("test") => test = Some(parser.value()?.into()),
            Long("out") => args.out = parser.value()?.into(),
            Long("epochs") => args.epochs = parser.value()?.parse()?,
            Long("seed") => args.seed = parser.value()?.parse()?,
            Long("help") | Short('h') => {
                println!("{USAGE}");
                std::process::exit(0);
            }
            _ => return Err(arg.unexpected()),
        }
    }
    args.train = train.ok_or("--train is required")?;
    args.test = test.ok_or("--test is required")?;
    Ok(args)
}

fn main() -> std::process::ExitCode {
    match parse() {
        Err(error) => {
            eprintln!("error: {error}\n{USAGE}");
            std::process::ExitCode::from(2)
        }
        Ok(args) => match run(&args) {
            Ok(()) => std::process::ExitCode::SUCCESS,
            Err(error) => {
                eprintln!("error: {error}");
                std::process::ExitCode::FAILURE
            }
        },
    }
}

fn run(args: &Args) -> Result<(), Box<dyn std::error::Error>> {
    let train = read_kaggle_train(&args.train)?;
    let test = read_kaggle_test(&args.test)?;
    println!(
        "{} labelled digits from {}, {} to classify from {}",
        train.len(),
        args.train.display(),
        test.len(),
        args.test.display()
    );
    let mut net = Digits::new(&mut nn::Pcg64Mcg::seed_from_u64(args.seed));
    let history = Trainer::new(Adam::new(1e-3), CrossEntropy)
        .epochs(args.epochs)
        .batch_size(64)
        .seed(args.seed)
        .validation_split(0.1)
        .early_stopping(EarlyStopping { patience: 4, min_delta: 0.0, restore_best: true })
        .fit(&mut net, &train.inputs, &train.one_hot_targets(), None)?;
    let best = history.best_epoch.and_then(|best| history.epochs.get(best - 1));
    if let Some(best) = best {
        let accuracy = best.validation_accuracy.unwrap_or(0.0);
        println!("kept epoch {} of {}: held-out accuracy {accuracy:.4}", best.epoch, history.epochs.len());
    }
    let predictions: Vec<usize> = test.iter().map(|image| net.predict(image)).collect();
    write_kaggle_submission(&args.out, &predictions)?;
    println!("wrote {} predictions to {}", predictions.len(), args.out.display());
    Ok(())
}
