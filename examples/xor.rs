//! The smallest complete program: a network learns XOR.
//!
//! Run with `cargo run --example xor`. No data files are needed.

use nn::fit::{Control, Progress, Trainer};
use nn::prelude::*;

network! {
    /// Two inputs, a hidden layer of eight, one output in (0, 1).
    struct Xor {
        Linear(2, 8) -> Tanh -> Linear(8, 1) -> Sigmoid
    }
}

fn main() -> Result<(), TrainError> {
    let mut net = Xor::new(&mut nn::Pcg64Mcg::seed_from_u64(1));
    let inputs = [[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]];
    let targets = [[0.0], [1.0], [1.0], [0.0]];

    println!("{}\n", net.summary());
    // One sample per step, as the original library trained; a line every 500 epochs.
    Trainer::new(Sgd::new(0.5), Mse)
        .epochs(2000)
        .batch_size(1)
        .progress(Progress::Silent)
        .on_epoch(|record| {
            if record.epoch % 500 == 0 {
                println!("epoch {}: loss {:.5}", record.epoch, record.train_loss);
            }
            Control::Continue
        })
        .fit(&mut net, &inputs, &targets, None)?;
    for (input, target) in inputs.iter().zip(&targets) {
        println!("{input:?} -> {:.3} (target {})", net.forward(input)[0], target[0]);
    }
    Ok(())
}
