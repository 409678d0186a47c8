//! A ten-layer MLP (19 layers counting activations), trained for a few mini-batch epochs on the
//! embedded MNIST sample. It shows that depth costs nothing special, and it is the network whose
//! build time `scripts/compile-times.sh` measures.
//!
//! Run with `cargo run --release --example deep`.

use nn::fit::Trainer;
use nn::prelude::*;

network! {
    /// Ten Linear layers with LeakyReLU between them.
    struct Deep {
        Linear(784, 256) -> LeakyReLU -> Linear(256, 128) -> LeakyReLU -> Linear(128, 128) -> LeakyReLU
            -> Linear(128, 128) -> LeakyReLU -> Linear(128, 128) -> LeakyReLU -> Linear(128, 64) -> LeakyReLU
            -> Linear(64, 64) -> LeakyReLU -> Linear(64, 64) -> LeakyReLU -> Linear(64, 32) -> LeakyReLU
            -> Linear(32, 10)
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mnist = Mnist::embedded()?;
    let mut net = Deep::new(&mut nn::Pcg64Mcg::seed_from_u64(7));
    println!("{}\n", net.summary());
    let (targets, test_targets) = (mnist.train.one_hot_targets(), mnist.test.one_hot_targets());
    let mut trainer = Trainer::new(Sgd::new(0.05), CrossEntropy).epochs(5).batch_size(32).seed(7);
    trainer.fit(&mut net, &mnist.train.inputs, &targets, Some((&mnist.test.inputs, &test_targets)))?;
    Ok(())
}
