use nn::prelude::*;

network! {
    /// Doc comments and attributes pass through.
    #[allow(dead_code)]
    pub struct MnistMlp {
        Linear(784, 100) -> Sigmoid -> Linear(100, 10)
    }

    pub(crate) struct Every {
        Linear(3, 4) -> ReLU -> Linear(4, 4) -> LeakyReLU -> Linear(4, 4) -> LeakyReLU(-0.5)
            -> Linear(4, 4) -> Tanh -> Linear(4, 2) -> Softmax
    }
}

fn main() {
    const _: () = assert!(MnistMlp::INPUTS == 784 && MnistMlp::OUTPUTS == 10);
    let mut rng = nn::Pcg64Mcg::seed_from_u64(0);
    let net = Every::new(&mut rng);
    let output: [f32; 2] = net.forward(&[0.0; 3]);
    assert!((output[0] + output[1] - 1.0).abs() < 1e-6);
}
