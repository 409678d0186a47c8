//! The smallest complete program: a network learns XOR.
//!
//! Run with `cargo run --example xor`. No data files are needed.

use nn::prelude::*;

network! {
    /// Two inputs, a hidden layer of eight, one output in (0, 1).
    struct Xor {
        Linear(2, 8) -> Tanh -> Linear(8, 1) -> Sigmoid
    }
}

fn main() -> Result<(), TrainError> {
    let mut rng = nn::Pcg64Mcg::seed_from_u64(1);
    let mut net = Xor::new(&mut rng);
    let mut workspace = net.workspace();
    let mut sgd = Sgd::new(0.5);
    let samples = [([0.0, 0.0], [0.0]), ([0.0, 1.0], [1.0]), ([1.0, 0.0], [1.0]), ([1.0, 1.0], [0.0])];

    println!("{}\n", net.summary());
    for epoch in 1..=2000 {
        let mut loss = 0.0;
        for (input, target) in &samples {
            loss += net.train_step(&mut workspace, input, target, &Mse, &mut sgd)?;
        }
        if epoch % 500 == 0 {
            println!("epoch {epoch}: loss {:.5}", loss / samples.len() as f32);
        }
    }
    for (input, target) in &samples {
        println!("{input:?} -> {:.3} (target {})", net.forward(input)[0], target[0]);
    }
    Ok(())
}
