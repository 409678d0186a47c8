//! The three matrix products of a dense layer's batch step at workload W's largest sizes (a batch
//! of 128 through `Linear(784, 512)`), on one core, by `nn`'s packed product, by the row-panel
//! forward pass the dense layers use, and by the `matrixmultiply` and `gemm` crates on the same operands
//! (`cargo bench -p nn-benches -- products`). Criterion's "elem/s" read as FLOP/s.

use criterion::{criterion_group, BenchmarkGroup, Criterion, Throughput};
use nn::__private::kernels::{self, matrix_product, MatrixView, ProductScratch, Store};
use std::hint::black_box;

const ROWS: usize = 128;
const INPUTS: usize = 784;
const OUTPUTS: usize = 512;

fn values(len: usize) -> Vec<f32> {
    (0..len).map(|i| ((i * 7919) % 1000) as f32 / 1000.0 - 0.5).collect()
}

/// A row-major operand `rows x columns`, or its transpose, in the strides both crates take:
/// `(pointer, row stride, column stride)`.
struct Strided {
    pointer: *const f32,
    row_stride: isize,
    column_stride: isize,
}

fn strided(values: &[f32], columns: usize, transposed: bool) -> Strided {
    let (row_stride, column_stride) = if transposed { (1, columns as isize) } else { (columns as isize, 1) };
    Strided { pointer: values.as_ptr(), row_stride, column_stride }
}

/// `c = a · b` (`m x k` by `k x n`, `c` row-major) by `matrixmultiply::sgemm`.
fn matrixmultiply(a: &Strided, b: &Strided, c: &mut [f32], (m, k, n): (usize, usize, usize)) {
    // SAFETY: the strides describe matrices inside the slices they were made from, and `c` holds
    // `m x n` values.
    unsafe {
        matrixmultiply::sgemm(
            m,
            k,
            n,
            1.0,
            a.pointer,
            a.row_stride,
            a.column_stride,
            b.pointer,
            b.row_stride,
            b.column_stride,
            0.0,
            c.as_mut_ptr(),
            n as isize,
            1,
        )
    }
}

/// `c = a · b` by `gemm::gemm`, on the calling thread.
fn gemm_crate(a: &Strided, b: &Strided, c: &mut [f32], (m, k, n): (usize, usize, usize)) {
    // SAFETY: as in `matrixmultiply`.
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            c.as_mut_ptr(),
            1,
            n as isize,
            false,
            a.pointer,
            a.column_stride,
            a.row_stride,
            b.pointer,
            b.column_stride,
            b.row_stride,
            0.0,
            1.0,
            false,
            false,
            false,
            gemm::Parallelism::None,
        )
    }
}

/// The row-major matrix `values` of `columns` columns, or its transpose.
fn view(values: &[f32], columns: usize, transposed: bool) -> MatrixView<'_> {
    let view = MatrixView::row_major(values, values.len() / columns, columns);
    if transposed {
        view.transposed()
    } else {
        view
    }
}

/// One product by the four implementations.
#[allow(clippy::too_many_arguments)]
fn compare(
    group: &mut BenchmarkGroup<'_, criterion::measurement::WallTime>,
    name: &str,
    (a, a_columns, a_transposed): (&[f32], usize, bool),
    (b, b_columns, b_transposed): (&[f32], usize, bool),
    shape: (usize, usize, usize),
    row_panels: Option<&mut (dyn FnMut() + Send)>,
) {
    let (m, k, n) = shape;
    group.throughput(Throughput::Elements((2 * m * k * n) as u64));
    let (a_view, b_view) = (view(a, a_columns, a_transposed), view(b, b_columns, b_transposed));
    let mut c = vec![0.0; m * n];
    let mut scratch = ProductScratch::default();
    // One core: the products are compared at their own speed, not their split's.
    let pool = rayon::ThreadPoolBuilder::new().num_threads(1).build().expect("a thread pool");
    group.bench_function(format!("{name}: matrix_product"), |bench| {
        pool.install(|| {
            bench.iter(|| matrix_product(black_box(a_view), b_view, &mut c, Store::Overwrite, &mut scratch))
        })
    });
    if let Some(row_panels) = row_panels {
        group.bench_function(format!("{name}: row panels"), |bench| pool.install(|| bench.iter(&mut *row_panels)));
    }
    let (a, b) = (strided(a, a_columns, a_transposed), strided(b, b_columns, b_transposed));
    group.bench_function(format!("{name}: matrixmultiply"), |bench| {
        bench.iter(|| matrixmultiply(black_box(&a), &b, &mut c, shape))
    });
    group.bench_function(format!("{name}: gemm"), |bench| bench.iter(|| gemm_crate(black_box(&a), &b, &mut c, shape)));
}

fn products(c: &mut Criterion) {
    let mut group = c.benchmark_group("products/W 128x784->512, one core");
    let (x, weight, bias, dy) =
        (values(ROWS * INPUTS), values(OUTPUTS * INPUTS), values(OUTPUTS), values(ROWS * OUTPUTS));
    let mut y = vec![0.0; ROWS * OUTPUTS];
    let mut panel = kernels::PanelScratch::default();
    // y = x · Wᵀ: the weight, [512, 784], read as its transpose.
    compare(
        &mut group,
        "forward x·Wᵀ",
        (&x, INPUTS, false),
        (&weight, INPUTS, true),
        (ROWS, INPUTS, OUTPUTS),
        Some(&mut || kernels::dense_forward_rows(&weight, &bias, black_box(&x), &mut y, &mut panel)),
    );
    // dx = dy · W.
    compare(
        &mut group,
        "input gradient dy·W",
        (&dy, OUTPUTS, false),
        (&weight, INPUTS, false),
        (ROWS, OUTPUTS, INPUTS),
        None,
    );
    // ∂W = dyᵀ · x.
    compare(
        &mut group,
        "weight gradient dyᵀ·x",
        (&dy, OUTPUTS, true),
        (&x, INPUTS, false),
        (OUTPUTS, ROWS, INPUTS),
        None,
    );
    group.finish();
}

criterion_group!(benches, products);
