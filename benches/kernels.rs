//! The dense-layer kernels at the sizes of the 784-100-10 MLP, per sample and per batch shard.

use criterion::{criterion_group, Criterion, Throughput};
use nn::kernels;
use std::hint::black_box;

const INPUTS: usize = 784;
const OUTPUTS: usize = 100;
/// The rows of one shard of a batch of 64 on two threads.
const ROWS: usize = 32;

fn values(len: usize) -> Vec<f32> {
    (0..len).map(|i| ((i * 7919) % 1000) as f32 / 1000.0 - 0.5).collect()
}

fn per_sample(c: &mut Criterion) {
    let mut group = c.benchmark_group("kernels/sample");
    group.throughput(Throughput::Elements((INPUTS * OUTPUTS) as u64));
    let (mut weight, mut bias, x, dy) = (values(INPUTS * OUTPUTS), values(OUTPUTS), values(INPUTS), values(OUTPUTS));
    let mut y = vec![0.0; OUTPUTS];
    group.bench_function("dense_forward 784->100", |b| {
        b.iter(|| kernels::dense_forward(&weight, &bias, black_box(&x), &mut y))
    });
    group.bench_function("dense_backward_sgd 784->100 (first layer)", |b| {
        b.iter(|| kernels::dense_backward_sgd(&mut weight, &mut bias, black_box(&x), black_box(&dy), None, 1e-9))
    });
    group.finish();
}

fn per_batch(c: &mut Criterion) {
    let mut group = c.benchmark_group("kernels/rows");
    group.throughput(Throughput::Elements((2 * INPUTS * OUTPUTS * ROWS) as u64));
    let (weight, bias, x, dy) =
        (values(INPUTS * OUTPUTS), values(OUTPUTS), values(ROWS * INPUTS), values(ROWS * OUTPUTS));
    let mut y = vec![0.0; ROWS * OUTPUTS];
    let mut scratch = kernels::PanelScratch::default();
    let (mut weight_gradient, mut bias_gradient) = (vec![0.0; INPUTS * OUTPUTS], vec![0.0; OUTPUTS]);
    group.bench_function("dense_forward_rows 32x784->100", |b| {
        b.iter(|| kernels::dense_forward_rows(&weight, &bias, black_box(&x), &mut y, &mut scratch))
    });
    let (x64, mut y64) = (values(2 * ROWS * INPUTS), vec![0.0; 2 * ROWS * OUTPUTS]);
    group.bench_function("dense_forward_rows 64x784->100 (half the rate: twice the work)", |b| {
        b.iter(|| kernels::dense_forward_rows(&weight, &bias, black_box(&x64), &mut y64, &mut scratch))
    });
    group.bench_function("dense_backward_rows 32x784->100 (first layer)", |b| {
        b.iter(|| {
            kernels::dense_backward_rows(
                &weight,
                black_box(&x),
                black_box(&dy),
                &mut weight_gradient,
                &mut bias_gradient,
                None,
            )
        })
    });
    group.finish();
}

criterion_group!(benches, per_sample, per_batch);
