//! Loads a model trained in PyTorch from a safetensors file and measures it on MNIST's test set.
//!
//! ```text
//! cargo run --release --example import_pytorch                              # the committed model
//! cargo run --release --example import_pytorch -- --model model.safetensors --data ../shared/mnist
//! ```
//!
//! The model is PyTorch's `nn.Sequential(nn.Linear(784, 128), nn.ReLU(), nn.Linear(128, 10))`,
//! saved with `safetensors.torch.save_file(model.state_dict(), path)` in float32, float16 or
//! bfloat16; pixels are scaled to [0, 1] as `ToTensor` does. Without `--model` it is the one
//! `scripts/fixtures/safetensors_mlp.py` trained (two epochs of Adam) and committed under
//! `tests/fixtures/`; without `--data` the test set is the embedded sample's 1,000 digits. The
//! last line is `test_acc 0.xxxx`.

use nn::prelude::*;
use std::path::PathBuf;

network! {
    /// The PyTorch model's architecture, layer for layer: its tensors are `0.weight` `[128, 784]`,
    /// `0.bias`, `2.weight` `[10, 128]`, `2.bias`.
    struct PytorchMlp {
        Linear(784, 128) -> ReLU -> Linear(128, 10)
    }
}

const USAGE: &str = "usage: import_pytorch [--model FILE.safetensors] [--data DIR]";

fn main() -> std::process::ExitCode {
    match run() {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn run() -> Result<(), Box<dyn std::error::Error>> {
    let mut model = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/pytorch_mlp.safetensors"));
    let mut data = None;
    let mut parser = lexopt::Parser::from_env();
    while let Some(arg) = parser.next()? {
        use lexopt::prelude::*;
        match arg {
            Long("model") => model = parser.value()?.into(),
            Long("data") => data = Some(PathBuf::from(parser.value()?)),
            Long("help") | Short('h') => {
                println!("{USAGE}");
                return Ok(());
            }
            _ => return Err(format!("{}\n{USAGE}", arg.unexpected()).into()),
        }
    }
    let net = PytorchMlp::load_safetensors(&model)?;
    println!("{}\nloaded from {}", net.summary(), model.display());
    let mnist = match &data {
        Some(directory) => Mnist::load(directory)?,
        None => Mnist::embedded()?,
    };
    let accuracy = net.accuracy(&mnist.test.inputs, &mnist.test.targets)?;
    println!("{} test digits", mnist.test.len());
    println!("test_acc {accuracy:.4}");
    Ok(())
}
