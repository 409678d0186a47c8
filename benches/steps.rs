//! One training step of workloads A, B and DB and the forward calls of workload I (see
//! `examples/bench.rs`), on the embedded MNIST sample.

use criterion::{criterion_group, Criterion, Throughput};
use nn::prelude::*;
use std::hint::black_box;

network! {
    struct SigmoidMlp {
        Linear(784, 100) -> Sigmoid -> Linear(100, 10)
    }

    struct ReluMlp {
        Linear(784, 100) -> ReLU -> Linear(100, 10)
    }
}

fn steps(c: &mut Criterion) {
    let mnist = Mnist::embedded().expect("the embedded sample decodes");
    let targets = mnist.train.one_hot_targets();
    let mut rng = nn::Pcg64Mcg::seed_from_u64(1);
    let mut group = c.benchmark_group("steps");

    let mut sigmoid = SigmoidMlp::new(&mut rng);
    let mut workspace = sigmoid.workspace();
    let mut sgd = Sgd::new(0.1);
    let mut index = 0;
    group.throughput(Throughput::Elements(1));
    group.bench_function("A: train_step, 784-100-10 sigmoid, MSE, SGD", |b| {
        b.iter(|| {
            index = (index + 1) % mnist.train.len();
            sigmoid.train_step(&mut workspace, &mnist.train.inputs[index], &targets[index], &Mse, &mut sgd).unwrap()
        })
    });

    let mut start = 0;
    group.throughput(Throughput::Elements(16));
    group.bench_function("A: train_samples of 16 (one deferred block), 784-100-10 sigmoid, MSE, SGD", |b| {
        b.iter(|| {
            start = (start + 16) % (mnist.train.len() - 16);
            let block = mnist.train.inputs[start..start + 16].iter().zip(&targets[start..start + 16]);
            sigmoid.train_samples(&mut workspace, block, &Mse, &mut sgd).unwrap()
        })
    });

    let mut relu = ReluMlp::new(&mut rng);
    let mut workspace = relu.workspace();
    let mut batch = 0;
    group.throughput(Throughput::Elements(64));
    group.bench_function("B: train_batch of 64, 784-100-10 ReLU, cross-entropy, SGD", |b| {
        b.iter(|| {
            batch = (batch + 64) % (mnist.train.len() - 64);
            let range = batch..batch + 64;
            relu.train_batch(
                &mut workspace,
                &mnist.train.inputs[range.clone()],
                &targets[range],
                &CrossEntropy,
                &mut sgd,
            )
            .unwrap()
        })
    });

    // DB: B's step on standardised images, where no input is zero.
    let standardised: Vec<[f32; 784]> =
        mnist.train.inputs.iter().map(|image| image.map(|pixel| (pixel - 0.1307) / 0.3081)).collect();
    let mut dense = ReluMlp::new(&mut rng);
    let mut dense_workspace = dense.workspace();
    group.bench_function("DB: train_batch of 64, standardised inputs, 784-100-10 ReLU, cross-entropy, SGD", |b| {
        b.iter(|| {
            batch = (batch + 64) % (standardised.len() - 64);
            let range = batch..batch + 64;
            dense
                .train_batch(
                    &mut dense_workspace,
                    &standardised[range.clone()],
                    &targets[range],
                    &CrossEntropy,
                    &mut sgd,
                )
                .unwrap()
        })
    });

    let mut outputs = vec![[0.0; 10]; mnist.test.len()];
    group.throughput(Throughput::Elements(mnist.test.len() as u64));
    group.bench_function("I: forward_batch of 1,000", |b| {
        b.iter(|| relu.forward_batch(&mut workspace, black_box(&mnist.test.inputs), &mut outputs).unwrap())
    });
    group.throughput(Throughput::Elements(1));
    group.bench_function("I: forward of one image", |b| b.iter(|| relu.forward(black_box(&mnist.test.inputs[0]))));
    group.finish();
}

criterion_group!(benches, steps);
