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
//! - **C2**, PyTorch's classic MNIST CNN (two convolutions, max pooling, dropout): the same
//!   training, timed over the first `--c2-batches` batches (default 100) and scaled to an epoch
//!   (`C2.epoch_s`), and its 10k inference (`C2.batch10k_ms`); with `--c2-epochs N` it trains N
//!   full epochs instead and prints `C2.test_acc`.
//!
//! Without `--data` the embedded sample (5,000 / 1,000 digits) is used, so the figures are only
//! comparable to each other. Pixels are scaled to [0, 1].

use nn::prelude::*;
use rand::seq::SliceRandom;
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
    All,
}

const USAGE: &str = "usage: bench [--data DIR] [--threads N] [--c2-batches N] [--c2-epochs N] [A|B|BA|I|C1|C2|all]";

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
        per_sample(&mnist)?;
    }
    if selected(Workload::B) {
        mini_batch(&mnist, "B", &mut Sgd::new(0.1))?;
    }
    if selected(Workload::BA) {
        mini_batch(&mnist, "BA", &mut Adam::new(1e-3))?;
    }
    if selected(Workload::I) {
        inference(&mnist);
    }
    if selected(Workload::C1) {
        lenet(&mnist)?;
    }
    if selected(Workload::C2) {
        mnist_cnn(&mnist, args)?;
    }
    Ok(())
}

/// The batch size and learning rate of the CNN workloads.
const CNN_BATCH: usize = 64;
const CNN_LEARNING_RATE: f32 = 0.05;

/// Trains `net` for `batches` batches of a shuffled order (wrapping into new epochs), and
/// returns the seconds it took.
fn train_cnn<N: Network<784, 10>>(
    net: &mut N,
    workspace: &mut Workspace<N, 784, 10>,
    mnist: &Mnist,
    rng: &mut nn::Pcg64Mcg,
    batches: usize,
) -> Result<f64, TrainError> {
    let mut sgd = Sgd::new(CNN_LEARNING_RATE);
    let targets = mnist.train.one_hot_targets();
    let mut order: Vec<usize> = (0..mnist.train.len()).collect();
    let (mut inputs, mut batch_targets) = (Vec::with_capacity(CNN_BATCH), Vec::with_capacity(CNN_BATCH));
    let (mut seconds, mut done) = (0.0, 0);
    while done < batches {
        order.shuffle(rng);
        for chunk in order.chunks(CNN_BATCH).take(batches - done) {
            inputs.clear();
            batch_targets.clear();
            inputs.extend(chunk.iter().map(|&i| mnist.train.images[i]));
            batch_targets.extend(chunk.iter().map(|&i| targets[i]));
            let started = Instant::now();
            net.train_batch(workspace, &inputs, &batch_targets, &CrossEntropy, &mut sgd)?;
            seconds += started.elapsed().as_secs_f64();
            done += 1;
        }
    }
    Ok(seconds)
}

/// The fastest of three forward passes of the test images, in milliseconds.
fn batch10k_ms<N: Network<784, 10>>(net: &N, mnist: &Mnist) -> f64 {
    let mut workspace = net.workspace();
    let mut outputs = vec![[0.0f32; 10]; mnist.test.len()];
    net.forward_batch(&mut workspace, &mnist.test.images, &mut outputs).expect("one output slot per image");
    let mut best = f64::INFINITY;
    for _ in 0..3 {
        let started = Instant::now();
        net.forward_batch(&mut workspace, black_box(&mnist.test.images), &mut outputs).expect("one slot per image");
        black_box(&outputs);
        best = best.min(started.elapsed().as_secs_f64() * 1e3);
    }
    best
}

fn lenet(mnist: &Mnist) -> Result<(), TrainError> {
    let mut rng = nn::Pcg64Mcg::seed_from_u64(SEED);
    let mut net = LeNet::new(&mut rng);
    let mut workspace = net.workspace();
    let epoch = mnist.train.len().div_ceil(CNN_BATCH);
    let mut fastest = f64::INFINITY;
    for _ in 0..3 {
        fastest = fastest.min(train_cnn(&mut net, &mut workspace, mnist, &mut rng, epoch)?);
    }
    println!("C1.epoch_s {fastest:.3}");
    println!("C1.test_acc {:.4}", net.accuracy(&mnist.test.images, &mnist.test.labels)?);
    println!("C1.batch10k_ms {:.1}", batch10k_ms(&net, mnist));
    Ok(())
}

fn mnist_cnn(mnist: &Mnist, args: &Args) -> Result<(), TrainError> {
    let mut rng = nn::Pcg64Mcg::seed_from_u64(SEED);
    let mut net = MnistCnn::new(&mut rng);
    let mut workspace = net.workspace();
    let epoch = mnist.train.len().div_ceil(CNN_BATCH);
    match args.c2_epochs {
        Some(epochs) => {
            let mut fastest = f64::INFINITY;
            for _ in 0..epochs {
                fastest = fastest.min(train_cnn(&mut net, &mut workspace, mnist, &mut rng, epoch)?);
            }
            println!("C2.epoch_s {fastest:.3}");
            println!("C2.test_acc {:.4}", net.accuracy(&mnist.test.images, &mnist.test.labels)?);
        }
        None => {
            let batches = args.c2_batches.clamp(1, epoch);
            let seconds = train_cnn(&mut net, &mut workspace, mnist, &mut rng, batches)?;
            println!("C2.epoch_s {:.3}", seconds * epoch as f64 / batches as f64);
        }
    }
    println!("C2.batch10k_ms {:.1}", batch10k_ms(&net, mnist));
    Ok(())
}

fn per_sample(mnist: &Mnist) -> Result<(), TrainError> {
    let mut rng = nn::Pcg64Mcg::seed_from_u64(SEED);
    let mut net = SigmoidMlp::new(&mut rng);
    let mut workspace = net.workspace();
    let mut sgd = Sgd::new(0.1);
    let targets = mnist.train.one_hot_targets();
    let mut order: Vec<usize> = (0..mnist.train.len()).collect();
    order.shuffle(&mut rng);
    let started = Instant::now();
    net.train_samples(&mut workspace, order.iter().map(|&i| (&mnist.train.images[i], &targets[i])), &Mse, &mut sgd)?;
    let seconds = started.elapsed().as_secs_f64();
    println!("A.us_per_sample {:.3}", seconds * 1e6 / order.len() as f64);
    println!("A.test_acc {:.4}", net.accuracy(&mnist.test.images, &mnist.test.labels)?);
    Ok(())
}

fn mini_batch(mnist: &Mnist, name: &str, optimizer: &mut impl Optimizer) -> Result<(), TrainError> {
    const BATCH: usize = 64;
    let mut rng = nn::Pcg64Mcg::seed_from_u64(SEED);
    let mut net = ReluMlp::new(&mut rng);
    let mut workspace = net.workspace();
    let targets = mnist.train.one_hot_targets();
    let mut order: Vec<usize> = (0..mnist.train.len()).collect();
    let (mut inputs, mut batch_targets) = (Vec::with_capacity(BATCH), Vec::with_capacity(BATCH));
    for epoch in 0..3 {
        order.shuffle(&mut rng);
        let started = Instant::now();
        for chunk in order.chunks(BATCH) {
            inputs.clear();
            batch_targets.clear();
            inputs.extend(chunk.iter().map(|&i| mnist.train.images[i]));
            batch_targets.extend(chunk.iter().map(|&i| targets[i]));
            net.train_batch(&mut workspace, &inputs, &batch_targets, &CrossEntropy, optimizer)?;
        }
        println!("{name}.epoch{epoch}_s {:.4}", started.elapsed().as_secs_f64());
    }
    println!("{name}.test_acc {:.4}", net.accuracy(&mnist.test.images, &mnist.test.labels)?);
    Ok(())
}

fn inference(mnist: &Mnist) {
    let net = ReluMlp::new(&mut nn::Pcg64Mcg::seed_from_u64(SEED));
    let images = &mnist.test.images;
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
    println!("I.batch10k_ms {batch_ms:.3}");

    let mut times: Vec<f64> = Vec::with_capacity(10_000);
    for i in 0..10_000 {
        let image = &images[i % images.len()];
        let started = Instant::now();
        black_box(net.forward(black_box(image)));
        times.push(started.elapsed().as_secs_f64() * 1e6);
    }
    times.sort_by(f64::total_cmp);
    println!("I.single_us_median {:.3}", times[times.len() / 2]);
}
