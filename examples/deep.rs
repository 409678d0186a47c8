//! A ten-layer MLP (19 layers counting activations), trained for a few mini-batch epochs on the
//! embedded MNIST sample. It shows that depth costs nothing special, and it is the network whose
//! build time `scripts/compile-times.sh` measures.
//!
//! Run with `cargo run --release --example deep`.

use nn::prelude::*;
use rand::seq::SliceRandom;

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
    let mut rng = nn::Pcg64Mcg::seed_from_u64(7);
    let mut net = Deep::new(&mut rng);
    let mut workspace = net.workspace();
    let mut sgd = Sgd::new(0.05);
    let targets = mnist.train.one_hot_targets();
    let mut order: Vec<usize> = (0..mnist.train.len()).collect();
    let (mut inputs, mut batch_targets) = (Vec::new(), Vec::new());
    println!("{}\n", net.summary());
    for epoch in 1..=5 {
        order.shuffle(&mut rng);
        let mut loss = 0.0;
        for chunk in order.chunks(32) {
            inputs.clear();
            batch_targets.clear();
            inputs.extend(chunk.iter().map(|&i| mnist.train.images[i]));
            batch_targets.extend(chunk.iter().map(|&i| targets[i]));
            loss +=
                net.train_batch(&mut workspace, &inputs, &batch_targets, &CrossEntropy, &mut sgd)? * chunk.len() as f32;
        }
        let accuracy = net.accuracy(&mnist.test.images, &mnist.test.labels)?;
        println!("epoch {epoch}: loss {:.4} test_acc {accuracy:.4}", loss / order.len() as f32);
    }
    Ok(())
}
