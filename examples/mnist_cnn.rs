//! Trains a convolutional network on MNIST in mini-batches and prints one line per epoch.
//!
//! ```text
//! cargo run --release --example mnist_cnn                                  # LeNet-5, embedded sample
//! cargo run --release --example mnist_cnn -- --data ../shared/mnist --epochs 3
//! cargo run --release --example mnist_cnn -- --model cnn --data ../shared/mnist --save cnn.model
//! cargo run --release --example mnist_cnn -- --data ../shared/mnist --augment
//! ```
//!
//! `--model lenet` (the default) is LeNet-5; `--model cnn` is the CNN of PyTorch's MNIST
//! example, with dropout. Both train with softmax cross-entropy and SGD (learning rate 0.05,
//! batch 64) on the MNIST sample embedded in the crate (5,000 training and 1,000 test digits),
//! or with `--data` on the four MNIST IDX files in a directory (raw or `.gz`). `--augment`
//! jitters every training digit afresh each epoch (`Augment::digits()`: shifts, turns, sizes,
//! shears).

use nn::fit::Trainer;
use nn::prelude::*;
use std::path::PathBuf;

network! {
    /// LeNet-5: two convolutions with max pooling, then three dense layers.
    struct LeNet: [1, 28, 28] {
        Conv2d(1, 6, 5) -> ReLU -> MaxPool2d(2) -> Conv2d(6, 16, 5) -> ReLU -> MaxPool2d(2) -> Flatten
            -> Linear(16 * 4 * 4, 120) -> ReLU -> Linear(120, 84) -> ReLU -> Linear(84, 10)
    }

    /// The CNN of PyTorch's MNIST example.
    struct MnistCnn: [1, 28, 28] {
        Conv2d(1, 32, 3) -> ReLU -> Conv2d(32, 64, 3) -> ReLU -> MaxPool2d(2) -> Dropout(0.25) -> Flatten
            -> Linear(64 * 12 * 12, 128) -> ReLU -> Dropout(0.5) -> Linear(128, 10)
    }
}

const USAGE: &str =
    "usage: mnist_cnn [--data DIR] [--model lenet|cnn] [--epochs N] [--lr RATE] [--batch N] [--seed N] [--save PATH] [--augment]";

/// The command line; see the module documentation.
#[derive(Debug)]
struct Args {
    data: Option<PathBuf>,
    lenet: bool,
    epochs: usize,
    lr: f32,
    batch: usize,
    seed: u64,
    save: Option<PathBuf>,
    augment: bool,
}

impl Args {
    fn parse() -> Result<Args, lexopt::Error> {
        use lexopt::prelude::*;
        let mut args =
            Args { data: None, lenet: true, epochs: 10, lr: 0.05, batch: 64, seed: 42, save: None, augment: false };
        let mut parser = lexopt::Parser::from_env();
        while let Some(arg) = parser.next()? {
            match arg {
                Long("data") => args.data = Some(parser.value()?.into()),
                Long("model") => {
                    args.lenet = match parser.value()?.string()?.as_str() {
                        "lenet" => true,
                        "cnn" => false,
                        other => return Err(format!("unknown model `{other}`: expected lenet or cnn").into()),
                    }
                }
                Long("epochs") => args.epochs = parser.value()?.parse()?,
                Long("lr") => args.lr = learning_rate(parser.value()?)?,
                Long("batch") => args.batch = parser.value()?.parse()?,
                Long("seed") => args.seed = parser.value()?.parse()?,
                Long("save") => args.save = Some(parser.value()?.into()),
                Long("augment") => args.augment = true,
                Long("help") | Short('h') => {
                    println!("{USAGE}");
                    std::process::exit(0);
                }
                _ => return Err(arg.unexpected()),
            }
        }
        Ok(args)
    }
}

fn main() -> std::process::ExitCode {
    match Args::parse() {
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
    let mnist = match &args.data {
        Some(directory) => Mnist::load(directory)?,
        None => Mnist::embedded()?,
    };
    println!(
        "{} training and {} test digits from {}",
        mnist.train.len(),
        mnist.test.len(),
        args.data.as_deref().map_or("the embedded sample".into(), |path| path.display().to_string())
    );
    match args.lenet {
        true => train::<LeNet>(args, &mnist),
        false => train::<MnistCnn>(args, &mnist),
    }
}

/// Trains any network with 784 inputs and 10 outputs through the fit loop, the test set as its
/// validation data.
fn train<N: Network<784, 10>>(args: &Args, mnist: &Mnist) -> Result<(), Box<dyn std::error::Error>> {
    let mut net = N::new(&mut nn::Pcg64Mcg::seed_from_u64(args.seed));
    let batch = args.batch.max(N::MIN_TRAINING_BATCH);
    println!("{}\nsoftmax cross-entropy, SGD lr {}, batch {batch}\n", net.summary(), args.lr);
    let (targets, test_targets) = (mnist.train.one_hot_targets(), mnist.test.one_hot_targets());
    let mut trainer =
        Trainer::new(Sgd::new(args.lr), CrossEntropy).epochs(args.epochs).batch_size(batch).seed(args.seed);
    if args.augment {
        trainer = trainer.augment(nn::data::Augment::digits());
    }
    trainer.fit(&mut net, &mnist.train.inputs, &targets, Some((&mnist.test.inputs, &test_targets)))?;
    if let Some(path) = &args.save {
        net.save(path)?;
        println!("saved to {}", path.display());
    }
    Ok(())
}

/// A learning rate from the command line: a number the optimizers accept (finite, at least 0).
fn learning_rate(value: std::ffi::OsString) -> Result<f32, lexopt::Error> {
    use lexopt::ValueExt;
    let rate: f32 = value.parse()?;
    Sgd::try_new(rate).map_err(|error| format!("--lr {}: it must be {}", error.value, error.requirement))?;
    Ok(rate)
}
