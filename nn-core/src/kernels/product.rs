//! The general matrix product `C = A · B` of the dense layers' batch passes, in the structure of
//! BLIS (Van Zee and van de Geijn, "BLIS: A Framework for Rapidly Instantiating BLAS
//! Functionality", 2015).
//!
//! A register tile of `MR` rows by `NR` columns of `C` accumulates over `KC` steps of the inner
//! dimension, reading `MR` values of `A` (broadcast) and `NR / 16` vectors of `B` per step, with
//! no horizontal sums. The operands are first copied into packed panels in exactly the order the
//! tile reads them: `B` in slivers `NR` columns wide (one sliver, `KC x NR`, stays in L1 while
//! every sliver of `A` passes it), `A` in slivers `MR` rows high (a block of `MC` rows, `MC x KC`,
//! stays in L2), except a row-major `A`, which the AVX-512 tile broadcasts from its rows in place.
//! Packing makes every operand layout the same to the tile: a weight read as its transpose
//! (`x · Wᵀ`), an input-major weight read as it is, a batch of rows read column by column
//! (`dyᵀ · x`) are all strided views, and none of them is ever transposed in memory.
//!
//! Large products are split across the rayon threads by ranges of `C`'s columns; each value of
//! `C` is the same sequence of operations whichever thread computes it, so the result does not
//! depend on the number of threads. The packing buffers live in a [`ProductScratch`] that grows
//! on the first call of a shape and is reused after: a warmed-up step allocates nothing.

use super::kernel;
use super::simd::{madd, LANES};
use crate::heap::AlignedBuffer;
use rayon::prelude::*;

/// A read-only view of an `f32` matrix in memory: element `(i, j)` is
/// `values[i * row_stride + j * column_stride]`. Row-major matrices and their transposes are
/// both views, so a product never needs a transposed copy.
///
/// ```
/// use nn::__private::kernels::MatrixView;
///
/// let values = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]; // 2 x 3, row-major
/// let matrix = MatrixView::row_major(&values, 2, 3);
/// assert_eq!((matrix.get(1, 0), matrix.transposed().get(0, 1)), (4.0, 4.0));
/// ```
#[derive(Clone, Copy, Debug)]
pub struct MatrixView<'a> {
    values: &'a [f32],
    rows: usize,
    columns: usize,
    row_stride: usize,
    column_stride: usize,
}

impl<'a> MatrixView<'a> {
    /// The `rows x columns` matrix stored row by row in `values`.
    ///
    /// # Panics
    /// If `values` does not hold exactly `rows · columns` values.
    pub fn row_major(values: &'a [f32], rows: usize, columns: usize) -> Self {
        assert_eq!(values.len(), rows * columns, "{} values are not a {rows} x {columns} matrix", values.len());
        Self { values, rows, columns, row_stride: columns, column_stride: 1 }
    }

    /// The transpose, as a view of the same values.
    pub fn transposed(self) -> Self {
        Self {
            rows: self.columns,
            columns: self.rows,
            row_stride: self.column_stride,
            column_stride: self.row_stride,
            ..self
        }
    }

    /// Rows.
    pub fn rows(&self) -> usize {
        self.rows
    }

    /// Columns.
    pub fn columns(&self) -> usize {
        self.columns
    }

    /// Element `(row, column)`.
    ///
    /// # Panics
    /// If it is outside the matrix.
    pub fn get(&self, row: usize, column: usize) -> f32 {
        assert!(row < self.rows && column < self.columns, "({row}, {column}) outside {} x {}", self.rows, self.columns);
        self.values[row * self.row_stride + column * self.column_stride]
    }
}

/// How [`matrix_product`] writes its result into `C`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Store {
    /// `C = A · B`.
    Overwrite,
    /// `C += A · B`.
    Add,
    /// `C += s · (A · B)`: the product is summed in full, then scaled and added (one rounding
    /// per value, as `C.add_(A @ B, alpha=s)`): a plain SGD step `W -= lr · ∂W` applied to the
    /// weight without storing `∂W`.
    AddScaled(f32),
}

/// The working memory of [`matrix_product`]: packed panels per thread, and the full product for
/// [`Store::AddScaled`] when the inner dimension spans several panels.
///
/// ```
/// let scratch = nn::__private::kernels::ProductScratch::default();
/// ```
#[derive(Clone, Debug, Default)]
pub struct ProductScratch {
    tasks: Vec<Packing>,
    product: AlignedBuffer,
}

/// One thread's packed panels: a block of `A`'s rows and a block of `B`'s columns.
#[derive(Clone, Debug, Default)]
struct Packing {
    a: AlignedBuffer,
    b: AlignedBuffer,
}

/// Steps of the inner dimension per packed panel: a sliver of `B` (`KC x NR`, 30 KiB with
/// AVX-512's 48 columns) stays in a 48 KiB L1 while the slivers of `A` stream past it.
const KC: usize = 160;
/// Rows of `A` per packed block (`MC x KC`, 192 KiB, in L2). A multiple of every `MR`.
const MC: usize = 192;
/// Columns of `B` per packed block (`KC x NC`, 512 KiB, in L2). A multiple of every `NR`.
const NC: usize = 512;

/// `C = A · B`, `C += A · B` or `C += s · A · B` (see [`Store`]) for a row-major `C` of
/// `A.rows() x B.columns()`, with `A` and `B` any [`MatrixView`]s.
///
/// Products of at least [`PARALLEL_WORK`](super::PARALLEL_WORK) multiply-adds are split across
/// the rayon threads by ranges of columns; the result is the same on any number of threads.
///
/// ```
/// use nn::__private::kernels::{matrix_product, MatrixView, ProductScratch, Store};
///
/// let (a, b) = ([1.0, 2.0], [3.0, 4.0, 5.0, 6.0]); // 1 x 2 and 2 x 2
/// let mut c = [1.0; 2];
/// let mut scratch = ProductScratch::default();
/// let (a, b) = (MatrixView::row_major(&a, 1, 2), MatrixView::row_major(&b, 2, 2));
/// matrix_product(a, b, &mut c, Store::Overwrite, &mut scratch);
/// assert_eq!(c, [13.0, 16.0]);
/// matrix_product(a, b, &mut c, Store::AddScaled(-0.5), &mut scratch);
/// assert_eq!(c, [6.5, 8.0]);
/// ```
///
/// # Panics
/// If `A`'s columns are not `B`'s rows, or `c` does not hold `A.rows() x B.columns()` values.
pub fn matrix_product(a: MatrixView<'_>, b: MatrixView<'_>, c: &mut [f32], store: Store, scratch: &mut ProductScratch) {
    let (m, k, n) = (a.rows, a.columns, b.columns);
    assert_eq!(b.rows, k, "a product of {m} x {k} and {} x {n} matrices", b.rows);
    assert_eq!(c.len(), m * n, "{} values are not the {m} x {n} product", c.len());
    if m == 0 || n == 0 {
        return;
    }
    match store {
        Store::Overwrite if k == 0 => c.fill(0.0),
        Store::AddScaled(scale) if k > KC => {
            // The full sums first: scaling a partial sum would round it differently.
            let mut product = std::mem::take(&mut scratch.product);
            product.grow(m * n);
            matrix_product(a, b, &mut product[..m * n], Store::Overwrite, scratch);
            super::axpy(c, scale, &product[..m * n]);
            scratch.product = product;
        }
        _ if k == 0 => {}
        _ => split_columns(product_columns, a, b, c, store, scratch),
    }
}

/// A function computing a range of `C`'s columns: the dispatched one, or in tests a portable
/// version.
type Columns = fn(MatrixView<'_>, MatrixView<'_>, Output, usize, usize, Store, &mut Packing);

/// Runs the product in one task per thread (one for small products), each on its own range of
/// `C`'s columns, in whole register tiles.
fn split_columns(
    columns: Columns,
    a: MatrixView<'_>,
    b: MatrixView<'_>,
    c: &mut [f32],
    store: Store,
    scratch: &mut ProductScratch,
) {
    let (m, k, n) = (a.rows, a.columns, b.columns);
    let threads = if super::batch_splits(m * k * n) { rayon::current_num_threads() } else { 1 };
    // Equal shares in whole vectors: a task's last sliver may be narrower than a tile (see
    // `Blocks::run`), and each value is the same sum whichever sliver it falls in.
    let per_task = n.div_ceil(threads).next_multiple_of(LANES);
    let tasks = n.div_ceil(per_task);
    if scratch.tasks.len() < tasks {
        scratch.tasks.resize_with(tasks, Packing::default);
    }
    let output = Output { values: c.as_mut_ptr(), len: c.len(), row_stride: n };
    let run = |(task, packing): (usize, &mut Packing)| {
        let first = task * per_task;
        columns(a, b, output, first, (first + per_task).min(n), store, packing);
    };
    if tasks == 1 {
        run((0, &mut scratch.tasks[0]));
    } else {
        scratch.tasks[..tasks].par_iter_mut().enumerate().for_each(run);
    }
}

/// `C`, shared by the tasks of one product, each of which writes only its own columns.
#[derive(Clone, Copy)]
struct Output {
    values: *mut f32,
    len: usize,
    row_stride: usize,
}

// SAFETY: the tasks of one product write disjoint ranges of columns (`split_columns`), and the
// product's `&mut` borrow of `C` outlives them.
unsafe impl Send for Output {}
// SAFETY: as for `Send`: no two tasks touch the same value.
unsafe impl Sync for Output {}

impl Output {
    /// The values `start..start + len` of `C`'s row `row`.
    ///
    /// Callers take only the columns of their own task, and drop the slice before taking
    /// another from the same row.
    #[inline(always)]
    #[allow(clippy::mut_from_ref)] // `Output` stands for a `&mut` split by columns (see above).
    fn row(&self, row: usize, start: usize, len: usize) -> &mut [f32] {
        let at = row * self.row_stride + start;
        assert!(at + len <= self.len, "a row segment outside C");
        // SAFETY: in bounds (checked above), so the offset stays inside `C`'s allocation.
        let first = unsafe { self.values.add(at) };
        // SAFETY: in bounds; the segment lies within the calling task's columns, which no other
        // task reads or writes, and the caller holds no other reference to it.
        unsafe { std::slice::from_raw_parts_mut(first, len) }
    }
}

kernel! {
    /// Columns `first..end` of `C` (see [`matrix_product`]), with the panels packed in `packing`.
    fn product_columns<'a>(
        a: MatrixView<'a>,
        b: MatrixView<'a>,
        c: Output,
        first: usize,
        end: usize,
        store: Store,
        packing: &mut Packing,
    ) => columns::<FMA, WIDE>
}

/// With 32 vector registers of 16 floats (AVX-512), tiles of 8 rows by 3 vectors: 24 sums, three
/// vectors of `B` and a broadcast (batches of 64 or 128 rows and layers of 512 or 784 are whole
/// numbers of them, where 12 x 2 tiles padded a ninth of a batch of 64). Otherwise 6 rows by 1
/// block of 16 (two AVX2 registers, four NEON ones): 12 registers of sums with AVX2's 16.
#[inline(always)]
fn columns<const FMA: bool, const WIDE: bool>(
    a: MatrixView<'_>,
    b: MatrixView<'_>,
    c: Output,
    first: usize,
    end: usize,
    store: Store,
    packing: &mut Packing,
) {
    let blocks = Blocks { a, b, c, store };
    if WIDE {
        blocks.run::<FMA, WIDE, 8, 3>(first, end, packing);
    } else {
        blocks.run::<FMA, WIDE, 6, 1>(first, end, packing);
    }
}

/// The operands of one task.
#[derive(Clone, Copy)]
struct Blocks<'a> {
    a: MatrixView<'a>,
    b: MatrixView<'a>,
    c: Output,
    store: Store,
}

impl Blocks<'_> {
    /// The loops of BLIS around the register tile: blocks of `NC` columns, `KC` steps and `MC`
    /// rows, each operand block packed once, then every pair of slivers.
    #[inline(always)]
    fn run<const FMA: bool, const WIDE: bool, const MR: usize, const V: usize>(
        self,
        first: usize,
        end: usize,
        packing: &mut Packing,
    ) {
        let nr = V * LANES;
        let (m, k) = (self.a.rows, self.a.columns);
        packing.b.grow(KC * NC);
        packing.a.grow(KC * MC);
        // The AVX-512 tile broadcasts a row-major `A` from its rows in place: packing would
        // transpose every block of it, and its rows, a few sequential streams, are read from
        // the caches as fast as a packed sliver.
        let in_place = WIDE && cfg!(target_arch = "x86_64") && self.a.column_stride == 1;
        for columns in (first..end).step_by(NC) {
            let columns = columns..(columns + NC).min(end);
            for steps in (0..k).step_by(KC) {
                let steps = steps..(steps + KC).min(k);
                let depth = steps.len();
                pack_b::<WIDE>(self.b, steps.clone(), columns.clone(), nr, &mut packing.b);
                let start = match self.store {
                    Store::Overwrite if steps.start > 0 => Start::FromC,
                    Store::Overwrite | Store::AddScaled(_) => Start::Zero,
                    Store::Add => Start::FromC,
                };
                let finish = match self.store {
                    Store::AddScaled(scale) => Finish::AddScaled(scale),
                    _ => Finish::Store,
                };
                for rows in (0..m).step_by(MC) {
                    let rows = rows..(rows + MC).min(m);
                    if !in_place {
                        pack_a::<WIDE, MR>(self.a, rows.clone(), steps.clone(), &mut packing.a);
                    }
                    for (s, column) in columns.clone().step_by(nr).enumerate() {
                        let width = (columns.end - column).min(nr);
                        let b_sliver = &packing.b[s * depth * nr..][..depth * width.next_multiple_of(LANES)];
                        for (r, row) in rows.clone().step_by(MR).enumerate() {
                            let a_sliver = if in_place {
                                let first = row * self.a.row_stride + steps.start;
                                ASliver::Rows { first: &self.a.values[first..], stride: self.a.row_stride, depth }
                            } else {
                                ASliver::Packed(&packing.a[r * depth * MR..][..depth * MR])
                            };
                            let tile = Tile { row, height: (rows.end - row).min(MR), column, width, start, finish };
                            // A last sliver narrower than the tile goes in a narrower tile.
                            let b_sliver = b_sliver.as_chunks().0;
                            match width.div_ceil(LANES) {
                                vectors if vectors >= V => tile.run::<FMA, WIDE, MR, V>(a_sliver, b_sliver, self.c),
                                2 => tile.run::<FMA, WIDE, MR, 2>(a_sliver, b_sliver, self.c),
                                _ => tile.run::<FMA, WIDE, MR, 1>(a_sliver, b_sliver, self.c),
                            }
                        }
                    }
                }
            }
        }
    }
}

/// Copies `B`'s block of `steps x columns` into slivers of `nr` columns (the last one as many
/// whole vectors as it needs), each sliver step by step: `packed[s][p][j]`, zero past `B`'s last
/// column.
#[inline(always)]
fn pack_b<const WIDE: bool>(
    b: MatrixView<'_>,
    steps: std::ops::Range<usize>,
    columns: std::ops::Range<usize>,
    nr: usize,
    packed: &mut [f32],
) {
    let depth = steps.len();
    for (s, column) in columns.clone().step_by(nr).enumerate() {
        let width = (columns.end - column).min(nr);
        let stride = width.next_multiple_of(LANES);
        let sliver = &mut packed[s * depth * nr..][..depth * stride];
        if b.column_stride == 1 {
            // Rows of `B` are contiguous: one copy per step, of whole vectors where it can (a
            // copy of a length known only at run time is a call to `memcpy` per step).
            let vectors = width / LANES;
            for (p, packed_row) in steps.clone().zip(sliver.chunks_exact_mut(stride)) {
                let at = p * b.row_stride + column;
                let source = &b.values[at..at + width];
                let (whole, rest) = packed_row.split_at_mut(vectors * LANES);
                for (packed, source) in whole.as_chunks_mut::<LANES>().0.iter_mut().zip(source.as_chunks::<LANES>().0) {
                    *packed = *source;
                }
                if !rest.is_empty() {
                    let tail = &source[vectors * LANES..];
                    rest[..tail.len()].copy_from_slice(tail);
                    rest[tail.len()..].fill(0.0);
                }
            }
        } else {
            // Columns of `B` are contiguous (a transposed row-major matrix): each column's steps
            // are one run, transposed into the sliver's rows.
            let column = &b.values[column * b.column_stride + steps.start * b.row_stride..];
            transpose::<WIDE>(column, b.column_stride, b.row_stride, width, depth, sliver, stride);
            for row in sliver.chunks_exact_mut(stride) {
                row[width..].fill(0.0);
            }
        }
    }
}

/// `destination[p * destination_stride + j] = source[j * source_stride + p * step]` for `j`
/// below `columns` and `p` below `rows`: `columns` runs of `source` become the first `columns`
/// values of `rows` rows of `destination`. Where the runs are contiguous, in square blocks moved
/// through registers (16 x 16 with AVX-512, whose shuffles LLVM does not find on its own, then
/// 4 x 4, which it compiles to shuffles); a value at a time elsewhere.
#[inline(always)]
fn transpose<const WIDE: bool>(
    source: &[f32],
    source_stride: usize,
    step: usize,
    columns: usize,
    rows: usize,
    destination: &mut [f32],
    destination_stride: usize,
) {
    let mut done = (0, 0);
    if step == 1 {
        #[cfg(target_arch = "x86_64")]
        if WIDE {
            let whole = (columns / 16 * 16, rows / 16 * 16);
            for j in (0..whole.0).step_by(16) {
                for p in (0..whole.1).step_by(16) {
                    let source = &source[j * source_stride + p..][..15 * source_stride + 16];
                    let destination = &mut destination[p * destination_stride + j..][..15 * destination_stride + 16];
                    // SAFETY: the `WIDE` versions of the kernels run only on CPUs with AVX-512F.
                    unsafe { avx512::transpose16(source, source_stride, destination, destination_stride) };
                }
            }
            done = whole;
        }
        // The rows past the 16 x 16 blocks, then the columns past them, in 4 x 4 blocks.
        let whole = (columns / 4 * 4, rows / 4 * 4);
        for (j_range, p_range) in [(0..done.0, done.1..whole.1), (done.0..whole.0, 0..whole.1)] {
            for j in j_range.step_by(4) {
                for p in p_range.clone().step_by(4) {
                    let block: [[f32; 4]; 4] = std::array::from_fn(|c| {
                        let at = (j + c) * source_stride + p;
                        source[at..at + 4].try_into().expect("a whole run")
                    });
                    for r in 0..4 {
                        let row: [f32; 4] = std::array::from_fn(|c| block[c][r]);
                        destination[(p + r) * destination_stride + j..][..4].copy_from_slice(&row);
                    }
                }
            }
        }
        done = whole;
    }
    // The edges (everything, with a step between values), one value at a time.
    for j in 0..columns {
        let first_row = if j < done.0 { done.1 } else { 0 };
        for p in first_row..rows {
            destination[p * destination_stride + j] = source[j * source_stride + p * step];
        }
    }
}

/// The register tile and the 16 x 16 transpose in AVX-512 intrinsics.
///
/// In plain Rust the tile's 24 vectors of sums stayed in registers or went to memory after every
/// multiply-add depending on what else LLVM inlined into the same function;
/// vectors of `__m512` in a function of their own pin them. LLVM does not find the transpose's
/// shuffles on its own.
#[cfg(target_arch = "x86_64")]
mod avx512 {
    use super::{ASliver, Finish, Output, Start, Tile};
    use std::arch::x86_64::*;

    /// [`Tile::run`]: `MR x V` vectors of sums over the slivers `a` and `b`, started and finished
    /// as the tile says, with masked loads and stores at `C`'s edges.
    #[target_feature(enable = "avx512f")]
    pub(super) fn tile<const MR: usize, const V: usize>(tile: Tile, a: ASliver<'_>, b: &[[[f32; 16]; V]], c: Output) {
        // Lanes of each vector inside `C` (all of them but at the right edge).
        // (No closures here: a closure does not inherit the function's target features, and
        // each intrinsic inside one became a call.)
        let mut masks: [__mmask16; V] = [0; V];
        for (v, mask) in masks.iter_mut().enumerate() {
            let lanes = tile.width.saturating_sub(16 * v).min(16);
            *mask = ((1u32 << lanes) - 1) as __mmask16;
        }
        let mut sums = [[_mm512_setzero_ps(); V]; MR];
        if let Start::FromC = tile.start {
            for (i, sums) in sums.iter_mut().enumerate().take(tile.height) {
                let row = c.row(tile.row + i, tile.column, tile.width);
                for (v, sum) in sums.iter_mut().enumerate() {
                    // SAFETY: the mask covers only the lanes inside `row`.
                    *sum = unsafe { _mm512_maskz_loadu_ps(masks[v], row[(16 * v).min(row.len())..].as_ptr()) };
                }
            }
        }
        match a {
            ASliver::Packed(a) => {
                for (a, b) in a.as_chunks::<MR>().0.iter().zip(b) {
                    let b = load(b);
                    for (sums, a) in sums.iter_mut().zip(a) {
                        let a = _mm512_set1_ps(*a);
                        for (sum, b) in sums.iter_mut().zip(&b) {
                            *sum = _mm512_fmadd_ps(a, *b, *sum);
                        }
                    }
                }
            }
            ASliver::Rows { first, stride, depth } => {
                // The rows past `A`'s last repeat it (their sums are not stored).
                assert!(tile.height > 0 && (tile.height - 1) * stride + depth <= first.len(), "rows inside A");
                let mut rows = [first.as_ptr(); MR];
                for (i, row) in rows.iter_mut().enumerate() {
                    // SAFETY: within `first` (asserted above).
                    *row = unsafe { first.as_ptr().add(i.min(tile.height - 1) * stride) };
                }
                for (p, b) in b.iter().enumerate().take(depth) {
                    let b = load(b);
                    for (sums, row) in sums.iter_mut().zip(&rows) {
                        // SAFETY: `p < depth`, and each row holds `depth` values (asserted above).
                        let value = unsafe { row.add(p) };
                        // SAFETY: as above: `value` points into `first`.
                        let a = _mm512_set1_ps(unsafe { *value });
                        for (sum, b) in sums.iter_mut().zip(&b) {
                            *sum = _mm512_fmadd_ps(a, *b, *sum);
                        }
                    }
                }
            }
        }
        for (i, sums) in sums.iter().enumerate().take(tile.height) {
            let row = c.row(tile.row + i, tile.column, tile.width);
            for (v, sum) in sums.iter().enumerate() {
                let mut sum = *sum;
                if let Finish::AddScaled(scale) = tile.finish {
                    // SAFETY: the mask covers only the lanes inside `row`.
                    let old = unsafe { _mm512_maskz_loadu_ps(masks[v], row[(16 * v).min(row.len())..].as_ptr()) };
                    sum = _mm512_fmadd_ps(_mm512_set1_ps(scale), sum, old);
                }
                let start = (16 * v).min(row.len());
                // SAFETY: as above.
                unsafe { _mm512_mask_storeu_ps(row[start..].as_mut_ptr(), masks[v], sum) };
            }
        }
    }

    /// The `V` vectors of one step of a sliver of `B`.
    #[target_feature(enable = "avx512f")]
    fn load<const V: usize>(b: &[[f32; 16]; V]) -> [__m512; V] {
        let mut vectors = [_mm512_setzero_ps(); V];
        for (vector, b) in vectors.iter_mut().zip(b) {
            // SAFETY: `b` is the 64 bytes read.
            *vector = unsafe { _mm512_loadu_ps(b.as_ptr()) };
        }
        vectors
    }

    /// `destination[p * destination_stride + j] = source[j * source_stride + p]` for `j` and
    /// `p` below 16.
    #[target_feature(enable = "avx512f")]
    pub(super) fn transpose16(
        source: &[f32],
        source_stride: usize,
        destination: &mut [f32],
        destination_stride: usize,
    ) {
        let mut rows = [_mm512_setzero_ps(); 16];
        for (j, row) in rows.iter_mut().enumerate() {
            let values: &[f32; 16] = source[j * source_stride..][..16].try_into().expect("a whole row");
            // SAFETY: `values` is the 64 bytes read.
            *row = unsafe { _mm512_loadu_ps(values.as_ptr()) };
        }
        // Per 128-bit lane `l`: columns 4l, 4l + 1 of rows 2i, 2i + 1 interleaved, then 4l + 2, 4l + 3.
        let mut pairs = [_mm512_setzero_ps(); 16];
        for i in 0..8 {
            pairs[2 * i] = _mm512_unpacklo_ps(rows[2 * i], rows[2 * i + 1]);
            pairs[2 * i + 1] = _mm512_unpackhi_ps(rows[2 * i], rows[2 * i + 1]);
        }
        // `quads[4i + c]`, per lane `l`: column 4l + c of rows 4i..4i + 4.
        let mut quads = [_mm512_setzero_ps(); 16];
        for i in 0..4 {
            for half in 0..2 {
                let a = _mm512_castps_pd(pairs[4 * i + half]);
                let b = _mm512_castps_pd(pairs[4 * i + 2 + half]);
                quads[4 * i + 2 * half] = _mm512_castpd_ps(_mm512_unpacklo_pd(a, b));
                quads[4 * i + 2 * half + 1] = _mm512_castpd_ps(_mm512_unpackhi_pd(a, b));
            }
        }
        for c in 0..4 {
            let even_low = _mm512_shuffle_f32x4::<0x88>(quads[c], quads[4 + c]);
            let odd_low = _mm512_shuffle_f32x4::<0xDD>(quads[c], quads[4 + c]);
            let even_high = _mm512_shuffle_f32x4::<0x88>(quads[8 + c], quads[12 + c]);
            let odd_high = _mm512_shuffle_f32x4::<0xDD>(quads[8 + c], quads[12 + c]);
            let columns = [
                (c, _mm512_shuffle_f32x4::<0x88>(even_low, even_high)),
                (4 + c, _mm512_shuffle_f32x4::<0x88>(odd_low, odd_high)),
                (8 + c, _mm512_shuffle_f32x4::<0xDD>(even_low, even_high)),
                (12 + c, _mm512_shuffle_f32x4::<0xDD>(odd_low, odd_high)),
            ];
            for (p, column) in columns {
                let out: &mut [f32; 16] = (&mut destination[p * destination_stride..][..16]).try_into().expect("a row");
                // SAFETY: `out` is the 64 bytes written.
                unsafe { _mm512_storeu_ps(out.as_mut_ptr(), column) };
            }
        }
    }
}

/// Copies `A`'s block of `rows x steps` into slivers of `MR` rows, each step by step:
/// `packed[r][p][i]`, zero past `A`'s last row.
#[inline(always)]
fn pack_a<const WIDE: bool, const MR: usize>(
    a: MatrixView<'_>,
    rows: std::ops::Range<usize>,
    steps: std::ops::Range<usize>,
    packed: &mut [f32],
) {
    let depth = steps.len();
    for (r, row) in rows.clone().step_by(MR).enumerate() {
        let height = (rows.end - row).min(MR);
        let sliver = &mut packed[r * depth * MR..][..depth * MR];
        if a.row_stride == 1 {
            // Columns of `A` are contiguous (a transposed row-major matrix): `MR` values per step.
            for (p, packed_step) in steps.clone().zip(sliver.as_chunks_mut::<MR>().0) {
                let at = p * a.column_stride + row;
                if height == MR {
                    // A copy of constant length: a few moves, not a call to `memcpy` per step.
                    *packed_step = a.values[at..at + MR].try_into().expect("a whole step");
                } else {
                    packed_step[..height].copy_from_slice(&a.values[at..at + height]);
                    packed_step[height..].fill(0.0);
                }
            }
        } else {
            // Rows of `A` are contiguous: each row's steps are one run, transposed into the
            // sliver's steps.
            let first = &a.values[row * a.row_stride + steps.start * a.column_stride..];
            transpose::<WIDE>(first, a.row_stride, a.column_stride, height, depth, sliver, MR);
            for step in sliver.chunks_exact_mut(MR) {
                step[height..].fill(0.0);
            }
        }
    }
}

/// A sliver of `A` as a tile reads it: packed (`MR` values per step), or `MR` rows of a
/// row-major `A` in place, `stride` apart, `depth` steps each from `first`.
#[derive(Clone, Copy)]
enum ASliver<'a> {
    Packed(&'a [f32]),
    // Read only by the AVX-512 tile.
    #[cfg_attr(not(target_arch = "x86_64"), allow(dead_code))]
    Rows {
        first: &'a [f32],
        stride: usize,
        depth: usize,
    },
}

/// Where a tile's sums start.
#[derive(Clone, Copy)]
enum Start {
    Zero,
    FromC,
}

/// How a tile's sums end in `C`.
#[derive(Clone, Copy)]
enum Finish {
    Store,
    AddScaled(f32),
}

/// One register tile of `C`: rows `row..row + height`, columns `column..column + width`.
#[derive(Clone, Copy)]
struct Tile {
    row: usize,
    height: usize,
    column: usize,
    width: usize,
    start: Start,
    finish: Finish,
}

impl Tile {
    /// Accumulates `MR x V` vectors of sums in registers over the slivers' steps.
    #[inline(always)]
    fn run<const FMA: bool, const WIDE: bool, const MR: usize, const V: usize>(
        self,
        a: ASliver<'_>,
        b: &[[f32; LANES]],
        c: Output,
    ) {
        #[cfg(target_arch = "x86_64")]
        if WIDE {
            // SAFETY: the `WIDE` versions of the kernels run only on CPUs with AVX-512F.
            unsafe { avx512::tile::<MR, V>(self, a, b.as_chunks::<V>().0, c) };
            return;
        }
        let ASliver::Packed(a) = a else { unreachable!("only the AVX-512 tile reads A in place") };
        let sums = match self.start {
            Start::Zero => [[[0.0f32; LANES]; V]; MR],
            Start::FromC => self.load::<MR, V>(c),
        };
        let sums = accumulate::<FMA, MR, V>(sums, a.as_chunks::<MR>().0, b.as_chunks::<V>().0);
        self.store::<FMA, MR, V>(sums, c);
    }

    /// The tile's values of `C` (zero past its edges).
    #[inline(always)]
    fn load<const MR: usize, const V: usize>(self, c: Output) -> [[[f32; LANES]; V]; MR] {
        let mut sums = [[[0.0f32; LANES]; V]; MR];
        if self.is_whole::<MR, V>() {
            for (i, sums) in sums.iter_mut().enumerate() {
                let row = c.row(self.row + i, self.column, V * LANES);
                for (sum, values) in sums.iter_mut().zip(row.as_chunks::<LANES>().0) {
                    *sum = *values;
                }
            }
        } else {
            // Through a copy in memory: a partial vector copied into the sums themselves would be
            // a dynamic index into them, and would keep all of them in memory.
            let mut edge = [[[0.0f32; LANES]; V]; MR];
            for (i, edge) in edge.iter_mut().enumerate().take(self.height) {
                let row = c.row(self.row + i, self.column, self.width);
                edge.as_flattened_mut()[..self.width].copy_from_slice(row);
            }
            sums = edge;
        }
        sums
    }

    /// Writes (or scales and adds) the sums to the tile's values of `C`.
    #[inline(always)]
    fn store<const FMA: bool, const MR: usize, const V: usize>(self, sums: [[[f32; LANES]; V]; MR], c: Output) {
        let finish = |values: &mut [f32], sums: &[f32]| match self.finish {
            Finish::Store => values.copy_from_slice(sums),
            Finish::AddScaled(scale) => {
                for (value, sum) in values.iter_mut().zip(sums) {
                    *value = madd::<FMA>(scale, *sum, *value);
                }
            }
        };
        if self.is_whole::<MR, V>() {
            for (i, sums) in sums.iter().enumerate() {
                let row = c.row(self.row + i, self.column, V * LANES);
                for (values, sum) in row.as_chunks_mut::<LANES>().0.iter_mut().zip(sums) {
                    finish(values, sum);
                }
            }
        } else {
            // Through a copy in memory, as in `load`: a view of the sums as one slice would keep
            // them in memory too.
            let edge = sums;
            for (i, edge) in edge.iter().enumerate().take(self.height) {
                finish(c.row(self.row + i, self.column, self.width), &edge.as_flattened()[..self.width]);
            }
        }
    }

    /// Whether the tile lies wholly inside `C`.
    #[inline(always)]
    fn is_whole<const MR: usize, const V: usize>(self) -> bool {
        self.height == MR && self.width == V * LANES
    }
}

/// `sums[i] += a[p][i] · b[p]` over the steps `p` of a sliver of `A` and one of `B`: per step,
/// `V` vector loads, `MR` broadcasts and `MR x V` multiply-adds. The portable tile (AVX-512 has
/// its own, in intrinsics: see `avx512`); the sums go in and out by value and are only indexed by
/// the tile's constant shape.
#[inline(always)]
fn accumulate<const FMA: bool, const MR: usize, const V: usize>(
    mut sums: [[[f32; LANES]; V]; MR],
    a: &[[f32; MR]],
    b: &[[[f32; LANES]; V]],
) -> [[[f32; LANES]; V]; MR] {
    for (a, b) in a.iter().zip(b) {
        for (sums, a) in sums.iter_mut().zip(a) {
            for (sum, b) in sums.iter_mut().zip(b) {
                for lane in 0..LANES {
                    sum[lane] = madd::<FMA>(*a, b[lane], sum[lane]);
                }
            }
        }
    }
    sums
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernels::reference::values;

    /// `A · B` in f64, from the views, and for each value the bound on a float sum's rounding
    /// error: `k · ε · Σ_p |a_ip b_pj|` (a long sum of values that cancel can be off by more than
    /// any fixed relative tolerance of its small result).
    fn product(a: MatrixView<'_>, b: MatrixView<'_>) -> (Vec<f32>, Vec<f32>) {
        let (m, k, n) = (a.rows(), a.columns(), b.columns());
        let (mut c, mut bound) = (vec![0.0; m * n], vec![0.0; m * n]);
        for i in 0..m {
            for j in 0..n {
                let terms = (0..k).map(|p| f64::from(a.get(i, p)) * f64::from(b.get(p, j)));
                c[i * n + j] = terms.clone().sum::<f64>() as f32;
                let magnitude = terms.map(f64::abs).sum::<f64>();
                bound[i * n + j] = (k as f64 * f64::from(f32::EPSILON) * magnitude) as f32;
            }
        }
        (c, bound)
    }

    /// Each value of `actual` within `bound` (plus a rounding of the value itself) of `expected`.
    fn assert_within(actual: &[f32], expected: &[f32], bound: &[f32]) {
        assert_eq!(actual.len(), expected.len());
        for (index, ((a, e), bound)) in actual.iter().zip(expected).zip(bound).enumerate() {
            let tolerance = bound + 2.0 * f32::EPSILON * e.abs().max(1.0);
            assert!((a - e).abs() <= tolerance, "value {index}: {a}, expected {e} (tolerance {tolerance})");
        }
    }

    /// Every store, every operand layout, on `m x k` times `k x n`, dispatched and portable.
    fn check(m: usize, k: usize, n: usize, seed: u64) {
        check_with(product_columns, m, k, n, seed);
        check_with(columns::<true, false>, m, k, n, seed);
        check_with(columns::<false, false>, m, k, n, seed);
    }

    /// [`matrix_product`] with `columns` for the tasks.
    fn product_with(columns: Columns, a: MatrixView<'_>, b: MatrixView<'_>, c: &mut [f32], store: Store) {
        let mut scratch = ProductScratch::default();
        let scaled_by_parts = matches!(store, Store::AddScaled(_)) && a.columns() > KC;
        if scaled_by_parts || a.columns() == 0 {
            // The paths that do not reach the tasks.
            matrix_product(a, b, c, store, &mut scratch);
        } else {
            split_columns(columns, a, b, c, store, &mut scratch);
        }
    }

    fn check_with(columns: Columns, m: usize, k: usize, n: usize, seed: u64) {
        let (a_values, b_values) = (values(m * k, seed), values(k * n, seed + 1));
        let start = values(m * n, seed + 2);
        let a_rows = MatrixView::row_major(&a_values, m, k);
        let b_rows = MatrixView::row_major(&b_values, k, n);
        let a_columns = MatrixView::row_major(&a_values, k, m).transposed();
        let b_columns = MatrixView::row_major(&b_values, n, k).transposed();
        for (a, b) in [(a_rows, b_rows), (a_columns, b_rows), (a_rows, b_columns), (a_columns, b_columns)] {
            let (expected, bound) = product(a, b);
            let mut c = start.clone();
            product_with(columns, a, b, &mut c, Store::Overwrite);
            assert_within(&c, &expected, &bound);
            let mut c = start.clone();
            product_with(columns, a, b, &mut c, Store::Add);
            let added: Vec<f32> = expected.iter().zip(&start).map(|(e, s)| e + s).collect();
            assert_within(&c, &added, &bound);
            let mut c = start.clone();
            product_with(columns, a, b, &mut c, Store::AddScaled(-0.25));
            let scaled: Vec<f32> = expected.iter().zip(&start).map(|(e, s)| s - 0.25 * e).collect();
            assert_within(&c, &scaled, &bound);
        }
    }

    #[test]
    fn equals_the_product_on_odd_shapes_and_every_layout() {
        // Below, at and past a tile, a sliver, a packed block and a thread split.
        let shapes = [(1, 1, 1), (3, 7, 33), (13, 5, 17), (12, 256, 32), (25, 257, 65), (193, 300, 40), (7, 600, 530)];
        for (seed, (m, k, n)) in shapes.into_iter().enumerate() {
            check(m, k, n, 10 * seed as u64);
        }
    }

    #[test]
    fn an_empty_inner_dimension_gives_zeros_or_leaves_c() {
        let mut scratch = ProductScratch::default();
        let (a, b) = (MatrixView::row_major(&[], 2, 0), MatrixView::row_major(&[], 0, 3));
        let mut c = [1.0; 6];
        matrix_product(a, b, &mut c, Store::Add, &mut scratch);
        assert_eq!(c, [1.0; 6]);
        matrix_product(a, b, &mut c, Store::Overwrite, &mut scratch);
        assert_eq!(c, [0.0; 6]);
    }

    #[test]
    fn is_bit_identical_on_any_number_of_threads() {
        // Large enough to split (`PARALLEL_WORK`).
        let (m, k, n) = (128, 784, 512);
        let (a_values, b_values) = (values(m * k, 1), values(k * n, 2));
        let (a, b) = (MatrixView::row_major(&a_values, m, k), MatrixView::row_major(&b_values, n, k).transposed());
        let results: Vec<Vec<f32>> = [1, 2, 3]
            .into_iter()
            .map(|threads| {
                let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().expect("a thread pool");
                let mut c = vec![0.0; m * n];
                pool.install(|| matrix_product(a, b, &mut c, Store::Overwrite, &mut ProductScratch::default()));
                c
            })
            .collect();
        assert_eq!(results[0], results[1]);
        assert_eq!(results[0], results[2]);
        let (expected, bound) = product(a, b);
        assert_within(&results[0], &expected, &bound);
    }

    proptest::proptest! {
        /// Any shape against the product in f64.
        #[test]
        fn equals_the_product(m in 1usize..30, k in 0usize..40, n in 1usize..90, seed in 0u64..1000) {
            check(m, k, n, seed);
        }
    }
}
