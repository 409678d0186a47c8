//! The whole-workload benchmark: per-sample training (A), mini-batch training (B) and
//! inference (I) of a 784-100-10 MLP on MNIST, one figure per line as `NAME VALUE`.
//!
//! ```text
//! cargo run --release --example bench -- --data ../shared/mnist all
//! cargo run --release --example bench -- --data ../shared/mnist --threads 1 A
//! ```
//!
//! - **A**, per sample: Sigmoid, MSE against one-hot, SGD lr 0.1, one update per sample, one
//!   shuffled epoch (fixed seed). `A.us_per_sample`, `A.test_acc`.
//! - **B**, mini-batch: ReLU, softmax cross-entropy, SGD lr 0.1, batch 64, three shuffled epochs.
//!   `B.epoch0_s`, `B.epoch1_s`, `B.epoch2_s`, `B.test_acc`.
//! - **BA**, B's network and batches with Adam (lr 1e-3, PyTorch's defaults) instead of SGD:
//!   `BA.epoch0_s`, `BA.epoch1_s`, `BA.epoch2_s`, `BA.test_acc`; the cost of a stateful
//!   optimizer's step against the fused SGD one.
//! - **I**, inference: ReLU forward of all 10,000 test images at once (`I.batch10k_ms`), and the
//!   median of 10,000 single-image forward calls (`I.single_us_median`).
//! - **C1**, LeNet-5: softmax cross-entropy, SGD lr 0.05, batch 64, three shuffled epochs:
//!   the fastest epoch (`C1.epoch_s`), the test accuracy after the third (`C1.test_acc`), and
//!   the forward pass of the 10,000 test images (`C1.batch10k_ms`).
//! - **W**, **DA**, **DB**: on standardised inputs (`(x - 0.1307) / 0.3081`, so no pixel is
//!   zero): W trains `Linear(784, 512) -> ReLU -> Linear(512, 512) -> ReLU -> Linear(512, 10)`
//!   with softmax cross-entropy, SGD lr 0.05, batch 128, two epochs (`W.epoch0_s`, `W.epoch1_s`,
//!   `W.test_acc`) and infers as I does (`W.batch10k_ms`, `W.single_us_median`); DA is A and DB
//!   is B on those inputs (`DA.us_per_sample`, `DA.test_acc`; `DB.epoch*_s`, `DB.test_acc`).
//! - **C2**, PyTorch's classic MNIST CNN (two convolutions, max pooling, dropout): the same
//!   training, timed over one epoch of the first `--c2-batches` batches' worth of images
//!   (default 100 x 64) and scaled to the whole set (`C2.epoch_s`), and its 10k inference
//!   (`C2.batch10k_ms`); with `--c2-epochs N` it trains N full epochs instead and prints
//!   `C2.test_acc`.
//!
//! Training runs through the fit loop (`nn::fit::Trainer`, no validation, silent): an epoch's
//! time is its shuffle, gathers and steps, as a user's run spends it, and as the PyTorch script
//! times its loops.
//!
//! Without `--data` the embedded sample (5,000 / 1,000 digits) is used, so the figures are only
//! comparable to each other. Pixels are scaled to [0, 1].

use nn::fit::{Progress, Trainer};
use nn::prelude::*;
use std::hint::black_box;
use std::path::PathBuf;
use std::time::Instant;

network! {
    /// Workload A's network.
    struct SigmoidMlp {
        Linear(784, 100) -> Sigmoid -> Linear(100, 10)
    }

    /// Workloads B and I's network.
    struct ReluMlp {
        Linear(784, 100) -> ReLU -> Linear(100, 10)
    }

    /// Workload W's network: wider and deeper.
    struct WideMlp {
        Linear(784, 512) -> ReLU -> Linear(512, 512) -> ReLU -> Linear(512, 10)
    }

    /// Workload C1's network: LeNet-5.
    struct LeNet: [1, 28, 28] {
        Conv2d(1, 6, 5) -> ReLU -> MaxPool2d(2) -> Conv2d(6, 16, 5) -> ReLU -> MaxPool2d(2) -> Flatten
            -> Linear(256, 120) -> ReLU -> Linear(120, 84) -> ReLU -> Linear(84, 10)
    }

    /// Workload C2's network: the CNN of PyTorch's MNIST example.
    struct MnistCnn: [1, 28, 28] {
        Conv2d(1, 32, 3) -> ReLU -> Conv2d(32, 64, 3) -> ReLU -> MaxPool2d(2) -> Dropout(0.25) -> Flatten
            -> Linear(9216, 128) -> ReLU -> Dropout(0.5) -> Linear(128, 10)
    }
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Workload {
    A,
    B,
    BA,
    I,
    C1,
    C2,
    W,
    DA,
    DB,
    All,
}

const USAGE: &str =
    "usage: bench [--data DIR] [--threads N] [--c2-batches N] [--c2-epochs N] [A|B|BA|I|C1|C2|W|DA|DB|all]";

/// The command line; see the module documentation.
#[derive(Debug)]
struct Args {
    data: Option<PathBuf>,
    threads: Option<usize>,
    c2_batches: usize,
    c2_epochs: Option<usize>,
    workload: Workload,
}

impl Args {
    fn parse() -> Result<Args, lexopt::Error> {
        use lexopt::prelude::*;
        let mut args = Args { data: None, threads: None, c2_batches: 100, c2_epochs: None, workload: Workload::All };
        let mut parser = lexopt::Parser::from_env();
        while let Some(arg) = parser.next()? {
            match arg {
                Long("data") => args.data = Some(parser.value()?.into()),
                Long("threads") => args.threads = Some(parser.value()?.parse()?),
                Long("c2-batches") => args.c2_batches = parser.value()?.parse()?,
                Long("c2-epochs") => args.c2_epochs = Some(parser.value()?.parse()?),
                Value(workload) => {
                    args.workload = match workload.string()?.to_ascii_lowercase().as_str() {
                        "a" => Workload::A,
                        "b" => Workload::B,
                        "ba" => Workload::BA,
                        "i" => Workload::I,
                        "c1" => Workload::C1,
                        "c2" => Workload::C2,
                        "w" => Workload::W,
                        "da" => Workload::DA,
                        "db" => Workload::DB,
                        "all" => Workload::All,
                        other => {
                            return Err(
                                format!("unknown workload `{other}`: expected A, B, BA, I, C1, C2 or all").into()
                            )
                        }
                    }
                }
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

const SEED: u64 = 42;

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
    let threads = args.threads.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    rayon::ThreadPoolBuilder::new().num_threads(threads).build_global()?;
    println!("threads {threads}");
    let mnist = match &args.data {
        Some(directory) => Mnist::load(directory)?,
        None => Mnist::embedded()?,
    };
    let selected = |workload| args.workload == workload || args.workload == Workload::All;
    if selected(Workload::A) {
        per_sample(&mnist, "A")?;
    }
    if selected(Workload::B) {
        mini_batch(&mnist, "B", Sgd::new(0.1))?;
    }
    if selected(Workload::BA) {
        mini_batch(&mnist, "BA", Adam::new(1e-3))?;
    }
    if selected(Workload::I) {
        inference(&ReluMlp::new(&mut nn::Pcg64Mcg::seed_from_u64(SEED)), &mnist, "I");
    }
    if selected(Workload::C1) {
        lenet(&mnist)?;
    }
    if selected(Workload::C2) {
        mnist_cnn(&mnist, args)?;
    }
    if [Workload::W, Workload::DA, Workload::DB].into_iter().any(selected) {
        let standardised = standardised(&mnist);
        if selected(Workload::W) {
            wide(&standardised)?;
        }
        if selected(Workload::DA) {
            per_sample(&standardised, "DA")?;
        }
        if selected(Workload::DB) {
            mini_batch(&standardised, "DB", Sgd::new(0.1))?;
        }
    }
    Ok(())
}

/// MNIST with every pixel standardised as PyTorch's MNIST example does, `(x - 0.1307) / 0.3081`:
/// a zero pixel becomes -0.4242, so no input is zero.
fn standardised(mnist: &Mnist) -> Mnist {
    let mut standardised = mnist.clone();
    for image in standardised.train.inputs.iter_mut().chain(standardised.test.inputs.iter_mut()) {
        image.iter_mut().for_each(|pixel| *pixel = (*pixel - 0.1307) / 0.3081);
    }
    standardised
}

/// Workload W: the wide MLP's two epochs and its inference.
fn wide(mnist: &Mnist) -> Result<(), TrainError> {
    let mut net = WideMlp::new(&mut nn::Pcg64Mcg::seed_from_u64(SEED));
    let seconds = fit(&mut net, Sgd::new(0.05), CrossEntropy, 128, 2, mnist, mnist.train.len())?;
    for (epoch, seconds) in seconds.iter().enumerate() {
        println!("W.epoch{epoch}_s {seconds:.4}");
    }
    println!("W.test_acc {:.4}", net.accuracy(&mnist.test.inputs, &mnist.test.targets)?);
    inference(&net, mnist, "W");
    Ok(())
}

/// The batch size and learning rate of the CNN workloads.
const CNN_BATCH: usize = 64;
const CNN_LEARNING_RATE: f32 = 0.05;

/// Trains `net` through the fit loop for `epochs` epochs of `inputs` (the first of the
/// training images) and returns each epoch's training seconds: shuffles, gathers and steps, as
/// a user's run spends them.
fn fit<N: Network<784, 10>>(
    net: &mut N,
    optimizer: impl Optimizer,
    loss: impl Loss,
    batch_size: usize,
    epochs: usize,
    mnist: &Mnist,
    samples: usize,
) -> Result<Vec<f64>, TrainError> {
    let targets = mnist.train.one_hot_targets();
    let history = Trainer::new(optimizer, loss)
        .epochs(epochs)
        .batch_size(batch_size)
        .seed(SEED)
        .progress(Progress::Silent)
        .fit(net, &mnist.train.inputs[..samples], &targets[..samples], None)?;
    Ok(history.epochs.iter().map(|record| record.seconds).collect())
}

/// The fastest of `seconds`.
fn fastest(seconds: &[f64]) -> f64 {
    seconds.iter().copied().fold(f64::INFINITY, f64::min)
}

/// The fastest of three forward passes of the test images, in milliseconds.
fn batch10k_ms<N: Network<784, 10>>(net: &N, mnist: &Mnist) -> f64 {
    let mut workspace = net.workspace();
    let mut outputs = vec![[0.0f32; 10]; mnist.test.len()];
    net.forward_batch(&mut workspace, &mnist.test.inputs, &mut outputs).expect("one output slot per image");
    let mut best = f64::INFINITY;
    for _ in 0..3 {
        let started = Instant::now();
        net.forward_batch(&mut workspace, black_box(&mnist.test.inputs), &mut outputs).expect("one slot per image");
        black_box(&outputs);
        best = best.min(started.elapsed().as_secs_f64() * 1e3);
    }
    best
}

fn lenet(mnist: &Mnist) -> Result<(), TrainError> {
    let mut net = LeNet::new(&mut nn::Pcg64Mcg::seed_from_u64(SEED));
    let seconds = fit(&mut net, Sgd::new(CNN_LEARNING_RATE), CrossEntropy, CNN_BATCH, 3, mnist, mnist.train.len())?;
    println!("C1.epoch_s {:.3}", fastest(&seconds));
    println!("C1.test_acc {:.4}", net.accuracy(&mnist.test.inputs, &mnist.test.targets)?);
    println!("C1.batch10k_ms {:.1}", batch10k_ms(&net, mnist));
    Ok(())
}

fn mnist_cnn(mnist: &Mnist, args: &Args) -> Result<(), TrainError> {
    let mut net = MnistCnn::new(&mut nn::Pcg64Mcg::seed_from_u64(SEED));
    let sgd = Sgd::new(CNN_LEARNING_RATE);
    match args.c2_epochs {
        Some(epochs) => {
            let seconds = fit(&mut net, sgd, CrossEntropy, CNN_BATCH, epochs, mnist, mnist.train.len())?;
            println!("C2.epoch_s {:.3}", fastest(&seconds));
            println!("C2.test_acc {:.4}", net.accuracy(&mnist.test.inputs, &mnist.test.targets)?);
        }
        None => {
            // One epoch of the first batches' worth of images, scaled to the whole set.
            let samples = (args.c2_batches.max(1) * CNN_BATCH).min(mnist.train.len());
            let seconds = fit(&mut net, sgd, CrossEntropy, CNN_BATCH, 1, mnist, samples)?;
            println!("C2.epoch_s {:.3}", seconds[0] * mnist.train.len() as f64 / samples as f64);
        }
    }
    println!("C2.batch10k_ms {:.1}", batch10k_ms(&net, mnist));
    Ok(())
}

fn per_sample(mnist: &Mnist, name: &str) -> Result<(), TrainError> {
    let mut net = SigmoidMlp::new(&mut nn::Pcg64Mcg::seed_from_u64(SEED));
    let seconds = fit(&mut net, Sgd::new(0.1), Mse, 1, 1, mnist, mnist.train.len())?;
    println!("{name}.us_per_sample {:.3}", seconds[0] * 1e6 / mnist.train.len() as f64);
    println!("{name}.test_acc {:.4}", net.accuracy(&mnist.test.inputs, &mnist.test.targets)?);
    Ok(())
}

fn mini_batch(mnist: &Mnist, name: &str, optimizer: impl Optimizer) -> Result<(), TrainError> {
    let mut net = ReluMlp::new(&mut nn::Pcg64Mcg::seed_from_u64(SEED));
    let seconds = fit(&mut net, optimizer, CrossEntropy, 64, 3, mnist, mnist.train.len())?;
    for (epoch, seconds) in seconds.iter().enumerate() {
        println!("{name}.epoch{epoch}_s {seconds:.4}");
    }
    println!("{name}.test_acc {:.4}", net.accuracy(&mnist.test.inputs, &mnist.test.targets)?);
    Ok(())
}

/// The forward pass of the 10,000 test images at once (the fastest of five) and the median of
/// 10,000 single-image forward calls, printed as `{name}.batch10k_ms` and
/// `{name}.single_us_median`.
fn inference<N: Network<784, 10>>(net: &N, mnist: &Mnist, name: &str) {
    let images = &mnist.test.inputs;
    let mut workspace = net.workspace();
    let mut outputs = vec![[0.0f32; 10]; images.len()];
    net.forward_batch(&mut workspace, images, &mut outputs).expect("one output slot per image");
    let mut batch_ms = f64::INFINITY;
    for _ in 0..5 {
        let started = Instant::now();
        net.forward_batch(&mut workspace, black_box(images), &mut outputs).expect("one output slot per image");
        black_box(&outputs);
        batch_ms = batch_ms.min(started.elapsed().as_secs_f64() * 1e3);
    }
    println!("{name}.batch10k_ms {batch_ms:.3}");

    let mut times: Vec<f64> = Vec::with_capacity(10_000);
    for i in 0..10_000 {
        let image = &images[i % images.len()];
        let started = Instant::now();
        black_box(net.forward(black_box(image)));
        times.push(started.elapsed().as_secs_f64() * 1e6);
    }
    times.sort_by(f64::total_cmp);
    println!("{name}.single_us_median {:.3}", times[times.len() / 2]);
}
