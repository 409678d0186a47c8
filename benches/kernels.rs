//! The dense-layer kernels at the sizes of the 784-100-10 MLP, per sample and per batch of rows:
//! the row-major ones of hidden layers (FLOP/s), and the input-major ones of the first layer on
//! dense inputs (FLOP/s) and on sparse, digit-like inputs (time only: they skip the zeros).

use criterion::{criterion_group, BenchmarkGroup, Criterion, Throughput};
use nn::__private::kernels;
use std::hint::black_box;

const INPUTS: usize = 784;
const OUTPUTS: usize = 100;
/// The rows of one mini-batch step of workload B.
const ROWS_PER_STEP: usize = 64;

fn values(len: usize) -> Vec<f32> {
    (0..len).map(|i| ((i * 7919) % 1000) as f32 / 1000.0 - 0.5).collect()
}

/// `rows` 28 x 28 images of a ring (radius 5 to 9 pixels, its centre moving with the row):
/// 22% of the pixels nonzero, in strokes, like MNIST's 19%.
fn digits(rows: usize) -> nn::__private::heap::AlignedBuffer {
    let mut images = nn::__private::heap::AlignedBuffer::zeroed(rows * INPUTS);
    for (r, image) in images.chunks_exact_mut(INPUTS).enumerate() {
        let centre = (12.0 + (r % 5) as f32, 14.0 + (r % 3) as f32);
        for (pixel, value) in image.iter_mut().enumerate() {
            let (y, x) = ((pixel / 28) as f32 - centre.0, (pixel % 28) as f32 - centre.1);
            let radius = (x * x + y * y).sqrt();
            if (5.0..9.0).contains(&radius) {
                *value = 0.5 + 0.5 * ((pixel * 7919) % 100) as f32 / 100.0;
            }
        }
    }
    images
}

fn flops(group: &mut BenchmarkGroup<'_, criterion::measurement::WallTime>, rows: usize) {
    // Criterion's "elem/s" read as FLOP/s.
    group.throughput(Throughput::Elements((2 * INPUTS * OUTPUTS * rows) as u64));
}

fn per_sample(c: &mut Criterion) {
    let mut group = c.benchmark_group("kernels/sample");
    let (mut weight, bias, x, dy) = (aligned(INPUTS * OUTPUTS), values(OUTPUTS), aligned(INPUTS), values(OUTPUTS));
    let digit = digits(1);
    let mut y = vec![0.0; OUTPUTS];
    flops(&mut group, 1);
    group.bench_function("dense_forward 784->100 (row-major)", |b| {
        b.iter(|| kernels::dense_forward(&weight, &bias, black_box(&x), &mut y))
    });
    group.bench_function("input_major_forward 784->100, dense input", |b| {
        b.iter(|| kernels::input_major_forward(&weight, &bias, black_box(&x), &mut y))
    });
    group.throughput(Throughput::Elements(1));
    group.bench_function("input_major_forward 784->100, digit", |b| {
        b.iter(|| kernels::input_major_forward(&weight, &bias, black_box(&digit), &mut y))
    });
    group.bench_function("input_major_update 784->100, digit", |b| {
        b.iter(|| kernels::input_major_update(&mut weight, black_box(&digit), black_box(&dy), -1e-9))
    });
    group.finish();
}

fn per_batch(c: &mut Criterion) {
    for rows in [32, ROWS_PER_STEP] {
        let mut group = c.benchmark_group(format!("kernels/rows{rows}"));
        let (weight, bias, x, dy) =
            (aligned(INPUTS * OUTPUTS), values(OUTPUTS), aligned(rows * INPUTS), values(rows * OUTPUTS));
        let images = digits(rows);
        let mut y = vec![0.0; rows * OUTPUTS];
        let mut scratch = kernels::PanelScratch::default();
        let (mut weight_gradient, mut bias_gradient) = (aligned(INPUTS * OUTPUTS), vec![0.0; OUTPUTS]);
        flops(&mut group, rows);
        group.bench_function(format!("dense_forward_rows {rows}x784->100 (row-major)"), |b| {
            b.iter(|| kernels::dense_forward_rows(&weight, &bias, black_box(&x), &mut y, &mut scratch))
        });
        group.bench_function(format!("dense_backward_rows {rows}x784->100 (row-major)"), |b| {
            b.iter(|| {
                kernels::dense_backward_rows(
                    &weight,
                    black_box(&x),
                    black_box(&dy),
                    &mut weight_gradient,
                    &mut bias_gradient,
                    None,
                    &mut scratch,
                )
            })
        });
        group.bench_function(format!("input_major_forward_rows {rows}x784->100, dense inputs"), |b| {
            b.iter(|| kernels::input_major_forward_rows(&weight, &bias, black_box(&x), &mut y, &mut scratch))
        });
        group.throughput(Throughput::Elements(rows as u64));
        group.bench_function(format!("input_major_forward_rows {rows}x784->100, digits"), |b| {
            b.iter(|| kernels::input_major_forward_rows(&weight, &bias, black_box(&images), &mut y, &mut scratch))
        });
        group.bench_function(format!("input_major_outer {rows}x784->100 (weight gradient), digits"), |b| {
            b.iter(|| {
                kernels::input_major_outer(
                    black_box(&images),
                    black_box(&dy),
                    rows,
                    1.0,
                    &mut weight_gradient,
                    false,
                    &mut scratch,
                )
            })
        });
        group.finish();
    }
}

/// `values(len)` in a buffer that starts on a cache line, as the training steps keep them.
fn aligned(len: usize) -> nn::__private::heap::AlignedBuffer {
    let mut buffer = nn::__private::heap::AlignedBuffer::zeroed(len);
    buffer.copy_from_slice(&values(len));
    buffer
}

/// The products of a convolution's passes for one sample, at the sizes of the second
/// convolution of workload C2 (64 filters of 32 x 3 x 3 over 24 x 24 positions).
fn convolution(c: &mut Criterion) {
    let mut group = c.benchmark_group("kernels/conv C2.2");
    let (filters, taps, positions) = (64, 32 * 9, 24 * 24);
    let (weight, columns, dy) = (values(filters * taps), values(taps * positions), values(filters * positions));
    let (mut y, mut weight_gradient, mut column_gradients) =
        (vec![0.0; filters * positions], vec![0.0; filters * taps], vec![0.0; taps * positions]);
    let transposed = values(taps * filters);
    // Criterion's "elem/s" read as FLOP/s.
    group.throughput(Throughput::Elements((2 * filters * taps * positions) as u64));
    group.bench_function("gemm: forward, W · columns", |b| {
        b.iter(|| kernels::gemm(&weight, black_box(&columns), &mut y, filters, taps, positions, false))
    });
    group.bench_function("gemm_transposed: weight gradient, dy · columnsᵀ", |b| {
        b.iter(|| {
            kernels::gemm_transposed(&dy, black_box(&columns), &mut weight_gradient, filters, taps, positions, true)
        })
    });
    // The columns' transpose, as the layer builds it directly (im2row).
    let rows = values(positions * taps);
    group.bench_function("gemm: weight gradient, dy · rows (im2row)", |b| {
        b.iter(|| kernels::gemm(&dy, black_box(&rows), &mut weight_gradient, filters, positions, taps, true))
    });
    group.bench_function("gemm: column gradients, Wᵀ · dy", |b| {
        b.iter(|| kernels::gemm(&transposed, black_box(&dy), &mut column_gradients, taps, filters, positions, false))
    });
    group.finish();
}

criterion_group!(benches, per_sample, per_batch, convolution);
