//! Trains an MLP on MNIST and prints one line per epoch.
//!
//! ```text
//! cargo run --release --example mnist                       # embedded sample, seed configuration
//! cargo run --release --example mnist -- --data ../shared/mnist --epochs 50
//! cargo run --release --example mnist -- --model relu-ce --lr 0.01 --epochs 5 --data DIR
//! cargo run --release --example mnist -- --data train.csv.gz --save mnist.model
//! ```
//!
//! By default this is the configuration of the original library: 784-100-10 with Sigmoid, MSE
//! against one-hot targets, SGD with learning rate 0.1 and one update per sample, on the MNIST
//! sample embedded in the crate (5,000 training and 1,000 test digits). `--data` takes a
//! directory with the four MNIST IDX files (raw or `.gz`), or a Kaggle digit-recognizer
//! `train.csv` (or a directory holding one), of which a seeded 10% is held out as the test set.

use clap::{Parser, ValueEnum};
use nn::data::{mnist::CLASSES, mnist::PIXELS, read_kaggle_train};
use nn::prelude::*;
use rand::seq::SliceRandom;
use std::path::{Path, PathBuf};
use std::time::Instant;

network! {
    /// The original library's network: 784-100-10 with a sigmoid hidden layer.
    struct SigmoidMlp {
        Linear(784, 100) -> Sigmoid -> Linear(100, 10)
    }

    /// The same size with ReLU, trained on logits with softmax cross-entropy.
    struct ReluMlp {
        Linear(784, 100) -> ReLU -> Linear(100, 10)
    }
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum Model {
    /// 784-100-10, Sigmoid, MSE (the original library's configuration).
    SigmoidMse,
    /// 784-100-10, ReLU, softmax cross-entropy.
    ReluCe,
}

impl Model {
    fn describe(self) -> &'static str {
        match self {
            Model::SigmoidMse => "MSE against one-hot targets",
            Model::ReluCe => "softmax cross-entropy on the logits",
        }
    }
}

/// Train an MLP on MNIST.
#[derive(Parser, Debug)]
struct Args {
    /// A directory with the MNIST IDX files, or a Kaggle train.csv[.gz]; the embedded sample if
    /// not given.
    #[arg(long)]
    data: Option<PathBuf>,
    /// Which network and loss to train.
    #[arg(long, value_enum, default_value = "sigmoid-mse")]
    model: Model,
    /// Passes over the training set.
    #[arg(long, default_value_t = 50)]
    epochs: usize,
    /// The SGD learning rate.
    #[arg(long, default_value_t = 0.1)]
    lr: f32,
    /// Samples per update (1: update after every sample, as the original library did).
    #[arg(long, default_value_t = 1)]
    batch: usize,
    /// The seed for initialisation, shuffling and the held-out split.
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Save the trained network here (atomically).
    #[arg(long)]
    save: Option<PathBuf>,
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = Args::parse();
    let mnist = load_data(args.data.as_deref(), args.seed)?;
    println!(
        "{} training and {} test digits from {}",
        mnist.train.len(),
        mnist.test.len(),
        args.data.as_deref().map_or("the embedded sample".into(), |path| path.display().to_string())
    );
    match args.model {
        Model::SigmoidMse => train::<SigmoidMlp, _>(&args, &mnist, &Mse),
        Model::ReluCe => train::<ReluMlp, _>(&args, &mnist, &CrossEntropy),
    }
}

fn load_data(data: Option<&Path>, seed: u64) -> Result<Mnist, nn::data::DataError> {
    let Some(path) = data else { return Mnist::embedded() };
    let kaggle = ["train.csv", "train.csv.gz"].iter().map(|name| path.join(name)).find(|file| file.is_file());
    if path.is_file() || kaggle.is_some() {
        let file = kaggle.unwrap_or_else(|| path.to_owned());
        let (train, test) = read_kaggle_train(file)?.split(0.1, seed);
        return Ok(Mnist { train, test });
    }
    Mnist::load(path)
}

/// The training loop, written once for any network with 784 inputs and 10 outputs.
fn train<N: Network<PIXELS, CLASSES>, L: Loss>(
    args: &Args,
    mnist: &Mnist,
    loss: &L,
) -> Result<(), Box<dyn std::error::Error>> {
    let mut rng = nn::rand::rngs::StdRng::seed_from_u64(args.seed);
    let mut net = N::new(&mut rng);
    let mut workspace = net.workspace();
    let mut sgd = Sgd::new(args.lr);
    let targets = mnist.train.one_hot_targets();
    let mut order: Vec<usize> = (0..mnist.train.len()).collect();
    let batch = args.batch.max(1);
    let (mut batch_inputs, mut batch_targets) = (Vec::with_capacity(batch), Vec::with_capacity(batch));
    println!("{}\n{}, SGD lr {}, batch {batch}\n", net.summary(), args.model.describe(), args.lr);

    for epoch in 1..=args.epochs {
        order.shuffle(&mut rng);
        let started = Instant::now();
        let mut total_loss = 0.0f64;
        for chunk in order.chunks(batch) {
            let step_loss = if batch == 1 {
                let i = chunk[0];
                net.train_step(&mut workspace, &mnist.train.images[i], &targets[i], loss, &mut sgd)?
            } else {
                batch_inputs.clear();
                batch_targets.clear();
                batch_inputs.extend(chunk.iter().map(|&i| mnist.train.images[i]));
                batch_targets.extend(chunk.iter().map(|&i| targets[i]));
                net.train_batch(&mut workspace, &batch_inputs, &batch_targets, loss, &mut sgd)?
            };
            total_loss += f64::from(step_loss) * chunk.len() as f64;
        }
        let seconds = started.elapsed().as_secs_f64();
        println!(
            "epoch {epoch}/{} loss={:.4} train_acc={:.4} test_acc={:.4} time={seconds:.2}s",
            args.epochs,
            total_loss / order.len() as f64,
            net.accuracy(&mnist.train.images, &mnist.train.labels),
            net.accuracy(&mnist.test.images, &mnist.test.labels),
        );
    }
    if let Some(path) = &args.save {
        net.save(path)?;
        println!("saved to {}", path.display());
    }
    Ok(())
}
