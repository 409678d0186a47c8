//! The dense-layer kernels at the sizes of the 784-100-10 MLP, per sample and per batch of rows.

use criterion::{criterion_group, Criterion, Throughput};
use nn::kernels;
use std::hint::black_box;

const INPUTS: usize = 784;
const OUTPUTS: usize = 100;
/// The rows of one mini-batch step of workload B.
const ROWS_PER_STEP: usize = 64;

fn values(len: usize) -> Vec<f32> {
    (0..len).map(|i| ((i * 7919) % 1000) as f32 / 1000.0 - 0.5).collect()
}

fn per_sample(c: &mut Criterion) {
    let mut group = c.benchmark_group("kernels/sample");
    // Throughput in floating-point operations: criterion's "elem/s" read as FLOP/s.
    group.throughput(Throughput::Elements((2 * INPUTS * OUTPUTS) as u64));
    let (mut weight, mut bias, x, dy) = (aligned(INPUTS * OUTPUTS), values(OUTPUTS), aligned(INPUTS), values(OUTPUTS));
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
    for rows in [32, ROWS_PER_STEP] {
        let mut group = c.benchmark_group(format!("kernels/rows{rows}"));
        // Throughput in floating-point operations: criterion's "elem/s" read as FLOP/s.
        group.throughput(Throughput::Elements((2 * INPUTS * OUTPUTS * rows) as u64));
        let (weight, bias, x, dy) =
            (aligned(INPUTS * OUTPUTS), values(OUTPUTS), aligned(rows * INPUTS), values(rows * OUTPUTS));
        let mut y = vec![0.0; rows * OUTPUTS];
        let mut scratch = kernels::PanelScratch::default();
        let (mut weight_gradient, mut bias_gradient) = (aligned(INPUTS * OUTPUTS), vec![0.0; OUTPUTS]);
        group.bench_function(format!("dense_forward_rows {rows}x784->100"), |b| {
            b.iter(|| kernels::dense_forward_rows(&weight, &bias, black_box(&x), &mut y, &mut scratch))
        });
        group.bench_function(format!("dense_backward_rows {rows}x784->100 (first layer)"), |b| {
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
}

/// `values(len)` in a buffer that starts on a cache line, as the training steps keep them.
fn aligned(len: usize) -> nn::heap::AlignedBuffer {
    let mut buffer = nn::heap::AlignedBuffer::zeroed(len);
    buffer.copy_from_slice(&values(len));
    buffer
}

criterion_group!(benches, per_sample, per_batch);
