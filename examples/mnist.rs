//! Trains an MLP on MNIST and prints one line per epoch.
//!
//! ```text
//! cargo run --release --example mnist                       # embedded sample, seed configuration
//! cargo run --release --example mnist -- --data ../shared/mnist --epochs 50
//! cargo run --release --example mnist -- --model relu-ce --lr 0.01 --epochs 5 --data DIR
//! cargo run --release --example mnist -- --data train.csv.gz --save mnist.model
//! cargo run --release --example mnist -- --model relu-ce --batch 64 --optimizer adam
//! cargo run --release --example mnist -- --optimizer adam --plot out/
//! ```
//!
//! By default this is the configuration of the original library: 784-100-10 with Sigmoid, MSE
//! against one-hot targets, SGD with learning rate 0.1 and one update per sample, on the MNIST
//! sample embedded in the crate (5,000 training and 1,000 test digits). `--data` takes a
//! directory with the four MNIST IDX files (raw or `.gz`), or a Kaggle digit-recognizer
//! `train.csv` (or a directory holding one), of which a seeded 10% is held out as the test set.
//! `--optimizer` picks SGD (the default), SGD with Nesterov momentum 0.9, Adam, AdamW or RMSprop,
//! each with PyTorch's defaults and, without `--lr`, PyTorch's default learning rate (0.1 for
//! SGD). `--schedule cosine` anneals the rate to 0 over the epochs, `--schedule step` halves it
//! every 10 epochs. `--plot DIR` writes the loss, accuracy and learning-rate curves, the test set's
//! confusion matrix and its misclassified digits into `DIR`, each as PNG and SVG. `--export DIR`
//! writes the trained model as `DIR/model.safetensors` (PyTorch's names and layouts) and the
//! logits of the first 100 test digits as `DIR/logits.csv`, which `scripts/check_export.py`
//! compares with PyTorch's for the same file.

use nn::data::{mnist::CLASSES, mnist::PIXELS, read_kaggle_train};
use nn::fit::{History, Trainer};
use nn::metrics::ConfusionMatrix;
use nn::optim::{CosineAnnealing, StepDecay};
use nn::prelude::*;
use std::path::{Path, PathBuf};

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

#[derive(Clone, Copy, Debug)]
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

const USAGE: &str = "usage: mnist [--data DIR|train.csv] [--model sigmoid-mse|relu-ce] [--epochs N] [--lr RATE]
             [--optimizer sgd|momentum|adam|adamw|rmsprop] [--batch N] [--seed N] [--save PATH]
             [--schedule constant|cosine|step] [--plot DIR] [--export DIR]";

/// The optimizers `--optimizer` names.
#[derive(Clone, Copy, Debug)]
enum OptimizerChoice {
    Sgd,
    Momentum,
    Adam,
    AdamW,
    RmsProp,
}

impl OptimizerChoice {
    /// The optimizer with PyTorch's defaults, at `lr` or PyTorch's default rate (0.1 for SGD).
    fn make(self, lr: Option<f32>) -> (Box<dyn Optimizer>, String) {
        let rate = |default: f64| lr.map_or(default, f64::from);
        match self {
            OptimizerChoice::Sgd => (Box::new(Sgd::new(rate(0.1) as f32)), format!("SGD lr {}", rate(0.1))),
            OptimizerChoice::Momentum => (
                Box::new(Sgd::new(rate(0.1) as f32).with_momentum(0.9).with_nesterov(true)),
                format!("SGD lr {}, Nesterov momentum 0.9", rate(0.1)),
            ),
            OptimizerChoice::Adam => (Box::new(Adam::new(rate(1e-3))), format!("Adam lr {}", rate(1e-3))),
            OptimizerChoice::AdamW => (Box::new(Adam::adamw(rate(1e-3))), format!("AdamW lr {}", rate(1e-3))),
            OptimizerChoice::RmsProp => (Box::new(RmsProp::new(rate(1e-2))), format!("RMSprop lr {}", rate(1e-2))),
        }
    }
}

/// The command line; see the module documentation.
#[derive(Debug)]
struct Args {
    data: Option<PathBuf>,
    model: Model,
    epochs: usize,
    lr: Option<f32>,
    optimizer: OptimizerChoice,
    batch: usize,
    seed: u64,
    save: Option<PathBuf>,
    plot: Option<PathBuf>,
    export: Option<PathBuf>,
    schedule: ScheduleChoice,
}

/// The learning-rate schedules `--schedule` names.
#[derive(Clone, Copy, Debug)]
enum ScheduleChoice {
    Constant,
    Cosine,
    Step,
}

impl Args {
    fn parse() -> Result<Args, lexopt::Error> {
        use lexopt::prelude::*;
        let mut args = Args {
            data: None,
            model: Model::SigmoidMse,
            epochs: 50,
            lr: None,
            optimizer: OptimizerChoice::Sgd,
            batch: 1,
            seed: 42,
            save: None,
            plot: None,
            export: None,
            schedule: ScheduleChoice::Constant,
        };
        let mut parser = lexopt::Parser::from_env();
        while let Some(arg) = parser.next()? {
            match arg {
                Long("data") => args.data = Some(parser.value()?.into()),
                Long("model") => {
                    args.model = match parser.value()?.string()?.as_str() {
                        "sigmoid-mse" => Model::SigmoidMse,
                        "relu-ce" => Model::ReluCe,
                        other => return Err(format!("unknown model `{other}`: expected sigmoid-mse or relu-ce").into()),
                    }
                }
                Long("epochs") => args.epochs = parser.value()?.parse()?,
                Long("lr") => args.lr = Some(learning_rate(parser.value()?)?),
                Long("optimizer") => {
                    args.optimizer = match parser.value()?.string()?.as_str() {
                        "sgd" => OptimizerChoice::Sgd,
                        "momentum" => OptimizerChoice::Momentum,
                        "adam" => OptimizerChoice::Adam,
                        "adamw" => OptimizerChoice::AdamW,
                        "rmsprop" => OptimizerChoice::RmsProp,
                        other => {
                            return Err(format!(
                                "unknown optimizer `{other}`: expected sgd, momentum, adam, adamw or rmsprop"
                            )
                            .into())
                        }
                    }
                }
                Long("batch") => args.batch = parser.value()?.parse()?,
                Long("seed") => args.seed = parser.value()?.parse()?,
                Long("save") => args.save = Some(parser.value()?.into()),
                Long("plot") => args.plot = Some(parser.value()?.into()),
                Long("export") => args.export = Some(parser.value()?.into()),
                Long("schedule") => {
                    args.schedule = match parser.value()?.string()?.as_str() {
                        "constant" => ScheduleChoice::Constant,
                        "cosine" => ScheduleChoice::Cosine,
                        "step" => ScheduleChoice::Step,
                        other => {
                            return Err(format!("unknown schedule `{other}`: expected constant, cosine or step").into())
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
    let mnist = load_data(args.data.as_deref(), args.seed)?;
    println!(
        "{} training and {} test digits from {}",
        mnist.train.len(),
        mnist.test.len(),
        args.data.as_deref().map_or("the embedded sample".into(), |path| path.display().to_string())
    );
    match args.model {
        Model::SigmoidMse => train::<SigmoidMlp, _>(args, &mnist, Mse),
        Model::ReluCe => train::<ReluMlp, _>(args, &mnist, CrossEntropy),
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

/// Trains any network with 784 inputs and 10 outputs through the fit loop, the test set as its
/// validation data.
fn train<N: Network<PIXELS, CLASSES>, L: Loss>(
    args: &Args,
    mnist: &Mnist,
    loss: L,
) -> Result<(), Box<dyn std::error::Error>> {
    let mut net = N::new(&mut nn::Pcg64Mcg::seed_from_u64(args.seed));
    let (optimizer, optimizer_name) = args.optimizer.make(args.lr);
    let batch = args.batch.max(1);
    println!("{}\n{}, {optimizer_name}, batch {batch}\n", net.summary(), args.model.describe());
    let (targets, test_targets) = (mnist.train.one_hot_targets(), mnist.test.one_hot_targets());
    let mut trainer = Trainer::new(optimizer, loss).epochs(args.epochs).batch_size(batch).seed(args.seed);
    trainer = match args.schedule {
        ScheduleChoice::Constant => trainer,
        ScheduleChoice::Cosine => trainer.schedule(CosineAnnealing { period: args.epochs, minimum: 0.0 }),
        ScheduleChoice::Step => trainer.schedule(StepDecay { every: 10, gamma: 0.5 }),
    };
    let history = trainer.fit(&mut net, &mnist.train.inputs, &targets, Some((&mnist.test.inputs, &test_targets)))?;
    let mut outputs = vec![[0.0; CLASSES]; mnist.test.len()];
    net.forward_batch(&mut net.workspace(), &mnist.test.inputs, &mut outputs)?;
    let labels: Vec<usize> = mnist.test.targets.iter().map(|&label| usize::from(label)).collect();
    let matrix = ConfusionMatrix::of(&outputs, &labels);
    println!("\nthe test set after {} epochs\n{matrix}", history.epochs.len());
    if let Some(directory) = &args.plot {
        let predictions: Vec<usize> = outputs.iter().map(|output| argmax(output)).collect();
        plot(directory, &history, &matrix, &mnist.test.inputs, &labels, &predictions)?;
    }
    if let Some(directory) = &args.export {
        export(directory, &net, &outputs)?;
    }
    if let Some(path) = &args.save {
        net.save(path)?;
        println!("saved to {}", path.display());
    }
    Ok(())
}

/// Writes every plot of the run into `directory`, as PNG and SVG.
fn plot(
    directory: &Path,
    history: &History,
    matrix: &ConfusionMatrix,
    images: &[[f32; PIXELS]],
    labels: &[usize],
    predictions: &[usize],
) -> Result<(), Box<dyn std::error::Error>> {
    std::fs::create_dir_all(directory)?;
    for extension in ["png", "svg"] {
        let file = |name: &str| directory.join(format!("{name}.{extension}"));
        nn::plot::loss(history, file("loss"))?;
        nn::plot::accuracy(history, file("accuracy"))?;
        nn::plot::learning_rate(history, file("learning_rate"))?;
        nn::plot::confusion_matrix(matrix, file("confusion_matrix"))?;
        nn::plot::misclassified(images, labels, predictions, 28, file("misclassified"))?;
    }
    println!("plots written to {}", directory.display());
    Ok(())
}

/// Writes the model as safetensors and the logits of the first 100 test digits as CSV.
fn export<N: Network<PIXELS, CLASSES>>(
    directory: &Path,
    net: &N,
    outputs: &[[f32; CLASSES]],
) -> Result<(), Box<dyn std::error::Error>> {
    std::fs::create_dir_all(directory)?;
    net.save_safetensors(directory.join("model.safetensors"))?;
    let rows: Vec<String> = outputs
        .iter()
        .take(100)
        .map(|row| row.iter().map(|value| format!("{value:.9e}")).collect::<Vec<_>>().join(","))
        .collect();
    std::fs::write(directory.join("logits.csv"), rows.join("\n") + "\n")?;
    println!("model and logits exported to {}", directory.display());
    Ok(())
}

/// A learning rate from the command line: a number the optimizers accept (finite, at least 0).
fn learning_rate(value: std::ffi::OsString) -> Result<f32, lexopt::Error> {
    use lexopt::ValueExt;
    let rate: f32 = value.parse()?;
    Sgd::try_new(rate).map_err(|error| format!("--lr {}: it must be {}", error.value, error.requirement))?;
    Ok(rate)
}
