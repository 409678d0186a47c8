//! Kernels of a dense layer whose weight is stored input-major, `weight[k]` holding the
//! `outputs` weights fed by input `k`, that skip the inputs which are zero.
//!
//! Data such as images is mostly zeros (81% of MNIST's pixels are black). In this layout an input
//! that is zero selects one weight row that the sample does not need, neither in the forward
//! pass (`y = b + Σ_k x[k] W[k]`) nor in the update (`W[k] += s · x[k] · dy`): a sample with 150
//! nonzero pixels reads and writes 150 of the 784 rows. The nonzero inputs are found a vector at
//! a time (one comparison gives a bit mask; only its set bits are visited), and each visited row
//! streams through vector registers.
//!
//! A row of `outputs` is swept in groups of whole vectors of [`LANES`]; when `outputs` is not a
//! multiple of [`LANES`], the last vector is moved back to end at the last output, overlapping
//! the one before it. A tile reads all its vectors before it writes any, so the shared lanes are
//! computed twice from the same values and written twice with the same result.
//!
//! A batch's forward pass goes in tiles of three rows over the list of inputs nonzero in any of
//! them (with AVX-512; row by row otherwise). Its weight gradient (or in-place SGD step) holds a
//! tile of [`TILE_INPUTS`] weight rows in registers while the batch rows whose inputs there are
//! not all zero stream by.

use super::batch::{batch_shape, check_rows};
use super::kernel;
use super::panel::PanelScratch;
use super::product::{matrix_product, MatrixView, Store};
use super::simd::{self, madd, LANES};

/// Vectors of outputs a tile holds in registers for each of its rows.
const GROUP_VECTORS: usize = 8;

/// Weight rows (inputs) per tile of the batch weight gradient.
pub const TILE_INPUTS: usize = 2;

/// Checks that `weight` holds one row of `outputs` values for each of `inputs` inputs.
fn check_shape(weight: &[f32], inputs: usize, outputs: usize) {
    assert_eq!(
        weight.len(),
        inputs * outputs,
        "a weight of {} values is not {inputs} input rows of {outputs}",
        weight.len()
    );
}

/// Bit `lane` set where `values[base + lane]` is not zero (a NaN is not zero), for the vector
/// of inputs at `base` (or what is left of them).
#[inline(always)]
fn mask_at(values: &[f32], base: usize) -> u32 {
    let mut mask = 0;
    match values.get(base..base + LANES) {
        // A whole vector: the constant trip count lets it compile to one comparison.
        Some(vector) => {
            // Compared as bits without the sign (so -0 is zero): an integer test, no float compare.
            let vector: &[f32; LANES] = vector.try_into().expect("a whole vector");
            for (lane, value) in vector.iter().enumerate() {
                mask |= u32::from(value.to_bits() & 0x7fff_ffff != 0) << lane;
            }
        }
        None => {
            for (lane, value) in values[base..].iter().enumerate() {
                mask |= u32::from(*value != 0.0) << lane;
            }
        }
    }
    mask
}

/// The inputs of `x` that are not zero, as `(index, value)`, found a vector of inputs at a time:
/// no branch per input, and none at all for a vector of zeros.
struct Nonzeros<'a> {
    x: &'a [f32],
    /// The first input of the vector that `mask` describes.
    base: usize,
    /// The lanes of that vector not visited yet that are nonzero.
    mask: u32,
}

impl<'a> Nonzeros<'a> {
    #[inline(always)]
    fn of(x: &'a [f32]) -> Self {
        let mask = if x.is_empty() { 0 } else { mask_at(x, 0) };
        Nonzeros { x, base: 0, mask }
    }
}

impl Iterator for Nonzeros<'_> {
    type Item = (usize, f32);

    #[inline(always)]
    fn next(&mut self) -> Option<(usize, f32)> {
        while self.mask == 0 {
            self.base += LANES;
            if self.base >= self.x.len() {
                return None;
            }
            self.mask = mask_at(self.x, self.base);
        }
        let k = self.base + self.mask.trailing_zeros() as usize;
        self.mask &= self.mask - 1;
        Some((k, self.x[k]))
    }
}

/// The groups a row of `outputs` (at least [`LANES`]) is swept in, at most [`GROUP_VECTORS`]
/// vectors each: `(start, whole, extra)`, `whole` vectors from output `start` and one more at
/// output `extra`. In a full group the extra vector is simply the next one; in the last group it
/// ends at the last output, where it is the group's last whole vector or overlaps the one before
/// it. The overlap never reaches into another group, so both vectors start from the same values.
fn groups(outputs: usize) -> impl Iterator<Item = (usize, usize, usize)> {
    let vectors = outputs.div_ceil(LANES);
    let partial = !outputs.is_multiple_of(LANES);
    let mut first = 0;
    std::iter::from_fn(move || {
        let remaining = vectors.checked_sub(first).filter(|remaining| *remaining > 0)?;
        let count = match remaining {
            // Leave the partial last vector a whole one to overlap within its group.
            _ if remaining == GROUP_VECTORS + 1 && partial => GROUP_VECTORS - 1,
            _ => remaining.min(GROUP_VECTORS),
        };
        let (start, whole) = (first * LANES, count - 1);
        first += count;
        Some((start, whole, (start + whole * LANES).min(outputs - LANES)))
    })
}

/// The vector of `values` starting at `at`.
#[inline(always)]
fn vector(values: &[f32], at: usize) -> [f32; LANES] {
    values[at..at + LANES].try_into().expect("a whole vector")
}

/// The `FULL` whole vectors of `row` from `start`.
#[inline(always)]
fn whole<const FULL: usize>(row: &[f32], start: usize) -> &[[f32; LANES]; FULL] {
    row[start..start + FULL * LANES].as_chunks().0.try_into().expect("whole vectors")
}

/// Runs `$body` with `$whole` bound as a constant equal to `$count` (0 to
/// [`GROUP_VECTORS`] - 1).
macro_rules! with_whole {
    ($count:expr, |$whole:ident| $body:expr) => {
        match $count {
            0 => {
                const $whole: usize = 0;
                $body
            }
            1 => {
                const $whole: usize = 1;
                $body
            }
            2 => {
                const $whole: usize = 2;
                $body
            }
            3 => {
                const $whole: usize = 3;
                $body
            }
            4 => {
                const $whole: usize = 4;
                $body
            }
            5 => {
                const $whole: usize = 5;
                $body
            }
            6 => {
                const $whole: usize = 6;
                $body
            }
            7 => {
                const $whole: usize = 7;
                $body
            }
            count => unreachable!("a group of {count} whole vectors"),
        }
    };
}

kernel! {
    /// `y = W x + b` for a weight stored input-major (`weight[k]` holds the `y.len()` weights
    /// of input `k`), skipping the inputs that are zero.
    ///
    /// ```
    /// let weight = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]; // three inputs, two outputs
    /// let mut y = [0.0; 2];
    /// nn::__private::kernels::input_major_forward(&weight, &[0.5, 0.5], &[1.0, 0.0, 1.0], &mut y);
    /// assert_eq!(y, [6.5, 8.5]);
    /// ```
    ///
    /// # Panics
    /// If `weight` is not `x.len()` rows of `y.len()` values, or `bias` is not `y.len()` long.
    pub fn input_major_forward(weight: &[f32], bias: &[f32], x: &[f32], y: &mut [f32]) => forward
}

#[inline(always)]
pub(super) fn forward<const FMA: bool>(weight: &[f32], bias: &[f32], x: &[f32], y: &mut [f32]) {
    let outputs = y.len();
    check_shape(weight, x.len(), outputs);
    assert_eq!(bias.len(), outputs, "one bias per output");
    if outputs < LANES {
        y.copy_from_slice(bias);
        for (k, value) in Nonzeros::of(x) {
            for (y, w) in y.iter_mut().zip(&weight[k * outputs..(k + 1) * outputs]) {
                *y = madd::<FMA>(value, *w, *y);
            }
        }
        return;
    }
    for (start, whole, extra) in groups(outputs) {
        with_whole!(whole, |WHOLE| forward_tile::<FMA, WHOLE>(weight, bias, x, start, extra, y));
    }
}

/// Outputs `start..` of `y = W x + b`, `WHOLE` vectors and the one at `extra`, held in registers
/// while the nonzero inputs stream by.
#[inline(always)]
fn forward_tile<const FMA: bool, const WHOLE: usize>(
    weight: &[f32],
    bias: &[f32],
    x: &[f32],
    start: usize,
    extra: usize,
    y: &mut [f32],
) {
    let outputs = bias.len();
    // The accumulators are only reached by iterating over the tile's constant shape (an index
    // from a loop counter would make LLVM keep them in memory); filled by a plain loop, since
    // `std::array::from_fn` may stay a call, and a call in a kernel spills every accumulator.
    let mut sums = [[0.0f32; LANES]; WHOLE];
    for (v, sum) in sums.iter_mut().enumerate() {
        *sum = vector(bias, start + v * LANES);
    }
    let mut extra_sum = vector(bias, extra);
    for (k, value) in Nonzeros::of(x) {
        let row = &weight[k * outputs..(k + 1) * outputs];
        for (sum, w) in sums.iter_mut().zip(whole::<WHOLE>(row, start)) {
            for lane in 0..LANES {
                sum[lane] = madd::<FMA>(value, w[lane], sum[lane]);
            }
        }
        let w = vector(row, extra);
        for lane in 0..LANES {
            extra_sum[lane] = madd::<FMA>(value, w[lane], extra_sum[lane]);
        }
    }
    y[extra..extra + LANES].copy_from_slice(&extra_sum);
    for (v, sum) in sums.iter().enumerate() {
        y[start + v * LANES..start + (v + 1) * LANES].copy_from_slice(sum);
    }
}

kernel! {
    /// `W[k] += scale · x[k] · dy` for every input `k` whose `x[k]` is not zero, for a weight
    /// stored input-major (`weight[k]` holds the `dy.len()` weights of input `k`): the SGD step
    /// of a dense layer for one sample (`scale = -learning_rate`), or the accumulation of its
    /// weight gradient into a gradient buffer (`scale = 1`).
    ///
    /// ```
    /// let mut weight = [1.0, 2.0, 3.0, 4.0]; // two inputs, two outputs
    /// nn::__private::kernels::input_major_update(&mut weight, &[0.0, 2.0], &[1.0, -1.0], 0.5);
    /// assert_eq!(weight, [1.0, 2.0, 4.0, 3.0]);
    /// ```
    ///
    /// # Panics
    /// If `weight` is not `x.len()` rows of `dy.len()` values.
    pub fn input_major_update(weight: &mut [f32], x: &[f32], dy: &[f32], scale: f32) => update
}

#[inline(always)]
pub(super) fn update<const FMA: bool>(weight: &mut [f32], x: &[f32], dy: &[f32], scale: f32) {
    let outputs = dy.len();
    check_shape(weight, x.len(), outputs);
    // Rows are independent here (nothing accumulates across them), so each is a plain `axpy`.
    for (k, value) in Nonzeros::of(x) {
        simd::axpy::<FMA>(&mut weight[k * outputs..(k + 1) * outputs], scale * value, dy);
    }
}

/// The fraction of nonzero inputs (in a batch's first rows) from which
/// [`input_major_forward_rows`] and [`input_major_outer`] run the dense matrix product instead
/// of skipping zeros. The sparse kernels' cost grows with the nonzero inputs, the product's does
/// not: past this fraction, the product costs less.
pub const DENSE_FRACTION: f32 = 0.4;

/// Rows whose inputs are sampled to tell a dense batch from a sparse one.
const SAMPLED_ROWS: usize = 4;

/// Whether the batch `x` (rows of `inputs`) is dense: its first [`SAMPLED_ROWS`] rows at least
/// [`DENSE_FRACTION`] nonzero.
fn is_dense(x: &[f32], inputs: usize) -> bool {
    let sample = &x[..x.len().min(inputs * SAMPLED_ROWS)];
    let nonzero = sample.iter().filter(|value| **value != 0.0).count();
    nonzero as f32 >= DENSE_FRACTION * sample.len() as f32
}

/// `y[r] = W x[r] + b` for every row `r` of a batch, for a weight stored input-major
/// (`weight[k]` holds the `bias.len()` weights of input `k`); `x` holds rows of
/// `weight.len() / bias.len()` inputs and `y` rows of `bias.len()` outputs.
///
/// Sparse batches go in tiles of three rows, over a list of the inputs nonzero in any of them,
/// where the CPU has 32 vector registers (AVX-512), and row by row otherwise. A batch whose
/// first rows are at least [`DENSE_FRACTION`] nonzero has nothing to skip: it goes through
/// the dense [`matrix_product`](super::matrix_product), which reads the weight as it is.
///
/// ```
/// let weight = [1.0, 2.0, 3.0, 4.0]; // two inputs, two outputs
/// let mut y = [0.0; 4];
/// let mut scratch = nn::__private::kernels::PanelScratch::default();
/// nn::__private::kernels::input_major_forward_rows(&weight, &[0.5, 0.0], &[1.0, 0.0, 0.0, 1.0], &mut y, &mut scratch);
/// assert_eq!(y, [1.5, 2.0, 3.5, 4.0]);
/// ```
///
/// # Panics
/// If the shapes do not agree.
pub fn input_major_forward_rows(weight: &[f32], bias: &[f32], x: &[f32], y: &mut [f32], scratch: &mut PanelScratch) {
    let (outputs, (inputs, rows)) = (bias.len(), batch_shape(weight.len(), bias, x, y));
    check_shape(weight, inputs, outputs);
    if inputs == 0 {
        y.chunks_exact_mut(outputs).for_each(|y| y.copy_from_slice(bias));
        return;
    }
    if is_dense(x, inputs) {
        // The weight is `inputs x outputs` row-major: `y = b + x · W` reads it as it is.
        let x = MatrixView::row_major(x, rows, inputs);
        super::batch::biased_product(x, MatrixView::row_major(weight, inputs, outputs), bias, y, scratch);
        return;
    }
    if scratch.indices.len() < inputs {
        scratch.indices.resize(inputs, 0);
    }
    sparse_forward_rows(weight, bias, x, y, &mut scratch.indices);
}

/// Batch rows per tile of the sparse batch forward pass (with 32 vector registers): three rows'
/// sums of up to [`GROUP_VECTORS`] vectors, a weight vector and three broadcast inputs take 28.
const TILE_ROWS: usize = 3;

kernel! {
    /// `y[r] = W x[r] + b` for the rows of a sparse batch (shapes checked by the caller). With
    /// 32 vector registers, the rows go in tiles of [`TILE_ROWS`]: the inputs nonzero in any row
    /// of a tile are listed in `indices` (which must hold an index per input), and each of
    /// their weight rows is loaded once for the tile. Digits share a good part of their nonzero
    /// pixels, so a tile loads far fewer weight rows than its rows one by one would, and the
    /// rows' sums stay in registers. Without AVX-512, row by row. A row's sums are added in the same order either way, so they are the same.
    pub(super) fn sparse_forward_rows(weight: &[f32], bias: &[f32], x: &[f32], y: &mut [f32], indices: &mut [u32])
        => sparse_rows::<FMA, WIDE>
}

#[inline(always)]
fn sparse_rows<const FMA: bool, const WIDE: bool>(
    weight: &[f32],
    bias: &[f32],
    x: &[f32],
    y: &mut [f32],
    indices: &mut [u32],
) {
    let outputs = bias.len();
    let inputs = weight.len() / outputs;
    let (mut x, mut y) = (x, y);
    if WIDE && outputs >= LANES {
        let tiles = x.chunks_exact(TILE_ROWS * inputs).zip(y.chunks_exact_mut(TILE_ROWS * outputs));
        for (x, y) in tiles {
            let count = union_of_nonzeros::<WIDE>(x, inputs, indices);
            let nonzero = &indices[..count];
            for (start, whole, extra) in groups(outputs) {
                with_whole!(whole, |WHOLE| forward_rows_tile::<FMA, WHOLE>(weight, bias, x, nonzero, start, extra, y));
            }
        }
        let done = x.len() / (TILE_ROWS * inputs) * TILE_ROWS;
        (x, y) = (&x[done * inputs..], &mut y[done * outputs..]);
    }
    // The rows left over (all of them without AVX-512) through the dispatched one-row kernel: a
    // call, not another inlined copy of its eight tile shapes (each copy costs build time).
    for (x, y) in x.chunks_exact(inputs).zip(y.chunks_exact_mut(outputs)) {
        input_major_forward(weight, bias, x, y);
    }
}

/// Writes to `out` the inputs `k` (in order) at which any of the [`TILE_ROWS`] rows of `x`
/// (`inputs` values each) is nonzero, and returns how many there are.
#[inline(always)]
fn union_of_nonzeros<const WIDE: bool>(x: &[f32], inputs: usize, out: &mut [u32]) -> usize {
    #[cfg(target_arch = "x86_64")]
    if WIDE {
        // SAFETY: the `WIDE` versions of the kernels run only on CPUs with AVX-512F.
        return unsafe { compress::union_of_nonzeros(x, inputs, out) };
    }
    let mut count = 0;
    for base in (0..inputs).step_by(LANES) {
        let mut mask = 0;
        for row in x.chunks_exact(inputs) {
            mask |= mask_at(row, base);
        }
        while mask != 0 {
            out[count] = (base + mask.trailing_zeros() as usize) as u32;
            count += 1;
            mask &= mask - 1;
        }
    }
    count
}

/// The list of nonzero inputs with AVX-512's compressing store: a vector of inputs at a time,
/// without a branch per input (a loop over the set bits of each mask mispredicts its exit once
/// per vector, which took as long as the tile's arithmetic).
///
/// Hand-written intrinsics, because no vectoriser emits a compressing store and the crates we
/// use for SIMD do not offer one; the scalar loop above stays as the reference the tests check
/// it against.
#[cfg(target_arch = "x86_64")]
mod compress {
    use super::{LANES, TILE_ROWS};
    use std::arch::x86_64::*;

    /// As `super::union_of_nonzeros`.
    #[target_feature(enable = "avx512f")]
    pub(super) fn union_of_nonzeros(x: &[f32], inputs: usize, out: &mut [u32]) -> usize {
        assert!(x.len() == TILE_ROWS * inputs && out.len() >= inputs, "a tile of rows and room for its indices");
        let (mut count, mut lanes) = (0, _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15));
        // Compared as bits without the sign, so -0 is zero (as in `mask_at`).
        let magnitude = _mm512_set1_epi32(0x7fff_ffff);
        let whole = inputs / LANES * LANES;
        for base in (0..whole).step_by(LANES) {
            let mut mask: __mmask16 = 0;
            for row in x.chunks_exact(inputs) {
                let vector: &[f32; LANES] = row[base..base + LANES].try_into().expect("a whole vector");
                // SAFETY: `vector` is the 64 bytes read.
                mask |= _mm512_test_epi32_mask(unsafe { _mm512_loadu_si512(vector.as_ptr().cast()) }, magnitude);
            }
            // `count + popcount(mask) <= base + LANES <= inputs <= out.len()`, and the store
            // writes only the `popcount(mask)` selected lanes.
            let destination = out[count..].as_mut_ptr();
            // SAFETY: as just above, the written lanes lie within `out`.
            unsafe { _mm512_mask_compressstoreu_epi32(destination.cast(), mask, lanes) };
            count += mask.count_ones() as usize;
            lanes = _mm512_add_epi32(lanes, _mm512_set1_epi32(LANES as i32));
        }
        for k in whole..inputs {
            if x.chunks_exact(inputs).any(|row| row[k] != 0.0) {
                out[count] = k as u32;
                count += 1;
            }
        }
        count
    }
}

/// Outputs `start..` of `y[r] = W x[r] + b` for the [`TILE_ROWS`] rows of `x` and `y`,
/// `WHOLE` vectors and the one at `extra` per row in registers, over the inputs `nonzero`.
#[inline(always)]
fn forward_rows_tile<const FMA: bool, const WHOLE: usize>(
    weight: &[f32],
    bias: &[f32],
    x: &[f32],
    nonzero: &[u32],
    start: usize,
    extra: usize,
    y: &mut [f32],
) {
    let (inputs, outputs) = (x.len() / TILE_ROWS, bias.len());
    let rows = [&x[..inputs], &x[inputs..2 * inputs], &x[2 * inputs..3 * inputs]];
    // Plain loops and iterators over constant shapes (see `forward_tile`).
    let mut sums = [[[0.0f32; LANES]; TILE_ROWS]; WHOLE];
    for (v, sums) in sums.iter_mut().enumerate() {
        *sums = [vector(bias, start + v * LANES); TILE_ROWS];
    }
    let mut extra_sums = [vector(bias, extra); TILE_ROWS];
    for &k in nonzero {
        let k = k as usize;
        let values = [rows[0][k], rows[1][k], rows[2][k]];
        let row = &weight[k * outputs..(k + 1) * outputs];
        add_to_group::<FMA, WHOLE, TILE_ROWS>(&mut sums, &mut extra_sums, values, row, start, extra);
    }
    // A constant trip count, so that `r` is a constant in each copy of the body: indexed by a
    // counter LLVM could not unroll, the sums lived in memory, stored after every update.
    let mut rows = y.chunks_exact_mut(outputs);
    for r in 0..TILE_ROWS {
        let y = rows.next().expect("a tile of rows");
        y[extra..extra + LANES].copy_from_slice(&extra_sums[r]);
        for (v, sums) in sums.iter().enumerate() {
            y[start + v * LANES..start + (v + 1) * LANES].copy_from_slice(&sums[r]);
        }
    }
}

/// `sums[v][j] += values[j] · row[start + v·LANES..]` for the `WHOLE` vectors of a group and
/// `extra_sums[j] += values[j] · row[extra..]` for its extra vector, for `R` accumulators at once:
/// one weight row's part of a tile of batch rows, or one output-gradient row's part of a tile of
/// weight rows.
#[inline(always)]
fn add_to_group<const FMA: bool, const WHOLE: usize, const R: usize>(
    sums: &mut [[[f32; LANES]; R]; WHOLE],
    extra_sums: &mut [[f32; LANES]; R],
    values: [f32; R],
    row: &[f32],
    start: usize,
    extra: usize,
) {
    for (sums, w) in sums.iter_mut().zip(whole::<WHOLE>(row, start)) {
        for (sum, value) in sums.iter_mut().zip(values) {
            for lane in 0..LANES {
                sum[lane] = madd::<FMA>(value, w[lane], sum[lane]);
            }
        }
    }
    let w = vector(row, extra);
    for (sum, value) in extra_sums.iter_mut().zip(values) {
        for lane in 0..LANES {
            sum[lane] = madd::<FMA>(value, w[lane], sum[lane]);
        }
    }
}

/// `out[k] = scale · Σ_r x[r][k] · d[r]` (or `out[k] +=` it, with `accumulate`) for every
/// input `k`, where `x` holds `rows` rows of inputs and `d` `rows` rows of `out`'s width: the
/// weight gradient of a batch for a weight stored input-major (with `d` the output gradients
/// and `scale` 1), or the SGD step of a batch applied to the weight at once (accumulating,
/// with `scale = -learning_rate`). In a sparse batch, rows whose inputs are zero are skipped; a
/// dense one (as [`input_major_forward_rows`] tells them apart) is the matrix product `xᵀ · d`.
///
/// ```
/// let mut out = [9.0; 2]; // two inputs, one output
/// let mut scratch = nn::__private::kernels::PanelScratch::default();
/// nn::__private::kernels::input_major_outer(&[1.0, 2.0, 3.0, 4.0], &[0.5, 1.0], 2, 1.0, &mut out, false, &mut scratch);
/// assert_eq!(out, [3.5, 5.0]);
/// ```
///
/// # Panics
/// If `x` and `d` do not hold `rows` rows that fit `out`.
pub fn input_major_outer(
    x: &[f32],
    d: &[f32],
    rows: usize,
    scale: f32,
    out: &mut [f32],
    accumulate: bool,
    scratch: &mut PanelScratch,
) {
    if rows == 0 || out.is_empty() || !is_dense(x, x.len() / rows) {
        sparse_outer(x, d, rows, scale, out, accumulate);
        return;
    }
    let (inputs, outputs) = (x.len() / rows, d.len() / rows);
    check_rows(x, rows, inputs, "inputs");
    check_rows(d, rows, outputs, "output gradients");
    check_shape(out, inputs, outputs);
    let (x, d) = (MatrixView::row_major(x, rows, inputs).transposed(), MatrixView::row_major(d, rows, outputs));
    let store = match (accumulate, scale) {
        (true, scale) => Store::AddScaled(scale),
        (false, _) => Store::Overwrite,
    };
    matrix_product(x, d, out, store, &mut scratch.product);
    if !accumulate && scale != 1.0 {
        out.iter_mut().for_each(|value| *value *= scale);
    }
}

kernel! {
    /// [`input_major_outer`] over the nonzero inputs of each row.
    fn sparse_outer(x: &[f32], d: &[f32], rows: usize, scale: f32, out: &mut [f32], accumulate: bool) => outer
}

#[inline(always)]
pub(super) fn outer<const FMA: bool>(x: &[f32], d: &[f32], rows: usize, scale: f32, out: &mut [f32], accumulate: bool) {
    if !accumulate {
        out.fill(0.0);
    }
    if rows == 0 || out.is_empty() {
        return;
    }
    let (inputs, outputs) = (x.len() / rows, d.len() / rows);
    check_rows(x, rows, inputs, "inputs");
    check_rows(d, rows, outputs, "output gradients");
    check_shape(out, inputs, outputs);
    if outputs < LANES {
        for (x, d) in x.chunks_exact(inputs).zip(d.chunks_exact(outputs)) {
            for (k, value) in Nonzeros::of(x) {
                for (out, d) in out[k * outputs..(k + 1) * outputs].iter_mut().zip(d) {
                    *out = madd::<FMA>(scale * value, *d, *out);
                }
            }
        }
        return;
    }
    let batches = x.chunks(MASK_ROWS * inputs).zip(d.chunks(MASK_ROWS * outputs));
    for (index, (x, d)) in batches.enumerate() {
        let outer = Outer { x, d, inputs, outputs, scale, from_out: accumulate || index > 0 };
        for first in (0..inputs).step_by(MASK_INPUTS) {
            let len = (inputs - first).min(MASK_INPUTS);
            outer.inputs::<FMA, TILE_INPUTS>(first, len, out);
        }
    }
}

/// Batch rows per pass of [`outer`]: one bit each in a `u64`.
const MASK_ROWS: usize = 64;

/// Inputs per pass of [`outer`]: their row masks live on the stack.
const MASK_INPUTS: usize = 1024;

/// Up to [`MASK_ROWS`] rows of inputs `x` and of `d`, the factor on every term, and whether
/// `out` already holds sums to add to (or starts from zero).
struct Outer<'a> {
    x: &'a [f32],
    d: &'a [f32],
    inputs: usize,
    outputs: usize,
    scale: f32,
    from_out: bool,
}

impl Outer<'_> {
    /// Weight rows `first..first + len`: in tiles of `K` inputs, then one at a time.
    #[inline(always)]
    fn inputs<const FMA: bool, const K: usize>(&self, first: usize, len: usize, out: &mut [f32]) {
        let masks = self.row_masks::<K>(first, len);
        let tiles = len / K;
        // A tile whose inputs are zero in every row adds nothing (and `out` starts zeroed when
        // not accumulating): its weight rows are not even read.
        let live = masks[..tiles].iter().enumerate().filter(|(_, mask)| **mask != 0);
        for (tile, &mask) in live {
            for (start, whole, extra) in groups(self.outputs) {
                with_whole!(whole, |WHOLE| self.tile::<FMA, WHOLE, K>(first + tile * K, start, extra, mask, out));
            }
        }
        // The inputs left over from whole tiles, row by row.
        let outputs = self.outputs;
        for k in first + tiles * K..first + len {
            let rows = self.x.chunks_exact(self.inputs).zip(self.d.chunks_exact(outputs));
            for (x, d) in rows.filter(|(x, _)| x[k] != 0.0) {
                simd::axpy::<FMA>(&mut out[k * outputs..(k + 1) * outputs], self.scale * x[k], d);
            }
        }
    }

    /// For each tile of `K` inputs from `first` (`len / K` of them), bit `r` set where row `r`
    /// has a nonzero input in the tile.
    #[inline(always)]
    fn row_masks<const K: usize>(&self, first: usize, len: usize) -> [u64; MASK_INPUTS] {
        let mut masks = [0u64; MASK_INPUTS];
        let tiles = len / K;
        let group = (1u32 << K) - 1;
        // A vector of inputs at a time across all rows, so that its tiles' masks stay in
        // registers until they are complete.
        for base in (0..tiles * K).step_by(LANES) {
            let mut block = [0u64; LANES];
            for (r, x) in self.x.chunks_exact(self.inputs).enumerate() {
                let nonzero = mask_at(&x[first..first + tiles * K], base);
                for (j, bits) in block[..LANES / K].iter_mut().enumerate() {
                    *bits |= u64::from((nonzero >> (j * K)) & group != 0) << r;
                }
            }
            let at = base / K;
            masks[at..at + LANES / K].copy_from_slice(&block[..LANES / K]);
        }
        masks
    }

    /// `out[k] (+)= scale · Σ_r x[r][k] · d[r]` for the `K` inputs from `first`, over `WHOLE`
    /// vectors of outputs from `start` and the one at `extra`, in registers while the rows set
    /// in `mask` stream by.
    #[inline(always)]
    fn tile<const FMA: bool, const WHOLE: usize, const K: usize>(
        &self,
        first: usize,
        start: usize,
        extra: usize,
        mask: u64,
        out: &mut [f32],
    ) {
        let Outer { x, d, inputs, outputs, scale, from_out } = *self;
        // Filled by plain loops: `std::array::from_fn` may stay a call.
        let (mut sums, mut extra_sums) = ([[[0.0f32; LANES]; K]; WHOLE], [[0.0f32; LANES]; K]);
        if from_out {
            for (j, extra_sum) in extra_sums.iter_mut().enumerate() {
                let row = (first + j) * outputs;
                *extra_sum = vector(out, row + extra);
                for (v, sums) in sums.iter_mut().enumerate() {
                    sums[j] = vector(out, row + start + v * LANES);
                }
            }
        }
        let mut rows = mask;
        while rows != 0 {
            let r = rows.trailing_zeros() as usize;
            rows &= rows - 1;
            let mut values: [f32; K] = x[r * inputs + first..r * inputs + first + K].try_into().expect("a whole tile");
            for value in values.iter_mut() {
                *value *= scale;
            }
            let d = &d[r * outputs..(r + 1) * outputs];
            add_to_group::<FMA, WHOLE, K>(&mut sums, &mut extra_sums, values, d, start, extra);
        }
        // The extra vector first; the whole vectors then rewrite the lanes it may share with them
        // (where, adding to sums in `out`, it added the terms twice).
        for j in 0..K {
            let row = &mut out[(first + j) * outputs..(first + j + 1) * outputs];
            row[extra..extra + LANES].copy_from_slice(&extra_sums[j]);
            for (v, sums) in sums.iter().enumerate() {
                row[start + v * LANES..start + (v + 1) * LANES].copy_from_slice(&sums[j]);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernels::reference::{self, values, SIZES};

    /// Values with every third one zero (and one negative zero), as sparse inputs have.
    fn sparse_values(len: usize, seed: u64) -> Vec<f32> {
        let mut x = values(len, seed);
        x.iter_mut().step_by(3).for_each(|v| *v = 0.0);
        if len > 1 {
            x[1] = -0.0;
        }
        x
    }

    /// `(inputs, outputs)` over the test sizes, group boundaries and more than a mask pass.
    fn shapes() -> Vec<(usize, usize)> {
        let sizes: Vec<usize> = SIZES.into_iter().chain([112, 113, 128, 129, 145]).collect();
        let mut shapes: Vec<(usize, usize)> =
            sizes.iter().flat_map(|&inputs| sizes.iter().map(move |&outputs| (inputs, outputs))).collect();
        shapes.extend([(1030, 20), (1500, 3), (40, 300)]);
        shapes
    }

    /// `Σ_k x[k] W[k][o] + bias[o]` in f64.
    fn expected_forward(weight: &[f32], bias: &[f32], x: &[f32]) -> Vec<f32> {
        let outputs = bias.len();
        (0..outputs)
            .map(|o| {
                let column: Vec<f32> = (0..x.len()).map(|k| weight[k * outputs + o]).collect();
                reference::dot(&column, x) + bias[o]
            })
            .collect()
    }

    type Forward = fn(&[f32], &[f32], &[f32], &mut [f32]);
    const FORWARDS: [Forward; 3] = [input_major_forward, forward::<false>, forward::<true>];
    type Update = fn(&mut [f32], &[f32], &[f32], f32);
    const UPDATES: [Update; 3] = [input_major_update, update::<false>, update::<true>];
    type OuterFn = fn(&[f32], &[f32], usize, f32, &mut [f32], bool);
    const OUTERS: [OuterFn; 3] = [sparse_outer, outer::<false>, outer::<true>];

    #[test]
    fn forward_matches_the_scalar_loop() {
        for (inputs, outputs) in shapes() {
            let (weight, bias, x) = (values(inputs * outputs, 1), values(outputs, 2), sparse_values(inputs, 3));
            let expected = expected_forward(&weight, &bias, &x);
            for forward in FORWARDS {
                let mut y = vec![9.0; outputs];
                forward(&weight, &bias, &x, &mut y);
                // Sums of up to 784 products in f32 against an f64 reference: values near zero
                // after cancellation differ by ~1e-5 (a wrong weight or input differs by ~0.1).
                reference::assert_all_close(&y, &expected, 5e-5);
            }
        }
    }

    #[test]
    fn update_matches_the_scalar_loop() {
        for (inputs, outputs) in shapes() {
            let (weight, x, dy) = (values(inputs * outputs, 4), sparse_values(inputs, 5), values(outputs, 6));
            let expected: Vec<f32> =
                weight.iter().enumerate().map(|(i, w)| w - 0.1 * x[i / outputs] * dy[i % outputs]).collect();
            for update in UPDATES {
                let mut updated = weight.clone();
                update(&mut updated, &x, &dy, -0.1);
                reference::assert_all_close(&updated, &expected, 1e-6);
                for (k, value) in x.iter().enumerate() {
                    let row = k * outputs..(k + 1) * outputs;
                    if *value == 0.0 {
                        assert_eq!(updated[row.clone()], weight[row], "row {k} of a zero input changed");
                    }
                }
            }
        }
    }

    #[test]
    fn forward_rows_match_one_row_at_a_time_sparse_or_dense() {
        for rows in [1, 2, 3, 4, 5, 9] {
            for (inputs, outputs) in shapes() {
                let (weight, bias) = (values(inputs * outputs, 7), values(outputs, 8));
                // Four inputs in five zero (row by row), or none (through the matrix product).
                let mut sparse = values(rows * inputs, 9);
                sparse.iter_mut().enumerate().filter(|(i, _)| i % 5 != 0).for_each(|(_, v)| *v = 0.0);
                for x in [sparse, values(rows * inputs, 9)] {
                    let expected: Vec<f32> = x
                        .chunks(inputs.max(1))
                        .take(rows)
                        .flat_map(|x| expected_forward(&weight, &bias, if inputs == 0 { &[] } else { x }))
                        .collect();
                    let mut y = vec![9.0; rows * outputs];
                    input_major_forward_rows(&weight, &bias, &x, &mut y, &mut PanelScratch::default());
                    reference::assert_all_close(&y, &expected, 1e-4);
                }
            }
        }
    }

    #[test]
    fn tiles_of_rows_give_the_bits_of_one_row_at_a_time() {
        let (inputs, outputs) = (784, 100);
        let (weight, bias) = (values(inputs * outputs, 13), values(outputs, 14));
        let mut x = values(7 * inputs, 15);
        x.iter_mut().enumerate().filter(|(i, _)| (i * 7) % 10 > 1).for_each(|(_, v)| *v = 0.0);
        x[5] = -0.0;
        let mut tiled = vec![0.0; 7 * outputs];
        sparse_forward_rows(&weight, &bias, &x, &mut tiled, &mut vec![0; inputs]);
        for (x, tiled) in x.chunks(inputs).zip(tiled.chunks(outputs)) {
            let mut y = vec![0.0; outputs];
            input_major_forward(&weight, &bias, x, &mut y);
            assert_eq!(tiled, y);
        }
    }

    #[test]
    fn the_union_of_nonzeros_lists_every_input_nonzero_in_a_row() {
        for inputs in [1, 3, 16, 17, 100, 784] {
            let mut x = values(TILE_ROWS * inputs, 16);
            x.iter_mut().enumerate().filter(|(i, _)| i % 4 != 1).for_each(|(_, v)| *v = 0.0);
            if inputs > 2 {
                x[2] = -0.0;
                x[inputs + 2] = f32::NAN;
            }
            let expected: Vec<u32> = (0..inputs)
                .filter(|&k| x.chunks(inputs).any(|row| row[k] != 0.0 || row[k].is_nan()))
                .map(|k| k as u32)
                .collect();
            let mut out = vec![0; inputs];
            let count = union_of_nonzeros::<false>(&x, inputs, &mut out);
            assert_eq!(out[..count], expected, "{inputs} inputs, portable");
            #[cfg(target_arch = "x86_64")]
            if std::is_x86_feature_detected!("avx512f") {
                let count = union_of_nonzeros::<true>(&x, inputs, &mut out);
                assert_eq!(out[..count], expected, "{inputs} inputs, AVX-512");
            }
        }
    }

    #[test]
    fn outer_matches_the_scalar_loop() {
        let mut cases: Vec<(usize, usize, usize)> =
            shapes().into_iter().filter(|(i, o)| i * o < 200_000).map(|(i, o)| (5, i, o)).collect();
        cases.extend([(1, 17, 100), (64, 100, 20), (70, 33, 129), (70, 9, 113), (130, 9, 16)]);
        let public: OuterFn = |x, d, rows, scale, out, accumulate| {
            input_major_outer(x, d, rows, scale, out, accumulate, &mut PanelScratch::default());
        };
        for ((rows, inputs, outputs), dense) in cases.into_iter().flat_map(|case| [(case, false), (case, true)]) {
            // Sparse inputs, or dense ones (the public kernel's matrix product).
            let x = if dense { values(rows * inputs, 10) } else { sparse_values(rows * inputs, 10) };
            let (d, initial) = (values(rows * outputs, 11), values(inputs * outputs, 12));
            let sums: Vec<f32> = (0..inputs * outputs)
                .map(|i| {
                    let (k, o) = (i / outputs, i % outputs);
                    let column: Vec<f32> = (0..rows).map(|r| x[r * inputs + k]).collect();
                    let deltas: Vec<f32> = (0..rows).map(|r| d[r * outputs + o]).collect();
                    reference::dot(&column, &deltas)
                })
                .collect();
            let accumulated: Vec<f32> = sums.iter().zip(&initial).map(|(s, i)| i - 0.5 * s).collect();
            for outer in OUTERS.into_iter().chain([public]) {
                for (accumulate, scale, expected) in [(false, 1.0, &sums), (true, -0.5, &accumulated)] {
                    let mut out = initial.clone();
                    outer(&x, &d, rows, scale, &mut out, accumulate);
                    reference::assert_all_close(&out, expected, 1e-5);
                }
            }
        }
    }

    #[test]
    fn a_nan_input_reaches_every_output() {
        let mut x = vec![0.0; 40];
        x[7] = f32::NAN;
        let mut y = [0.0; 20];
        input_major_forward(&[1.0; 800], &[0.0; 20], &x, &mut y);
        assert!(y.iter().all(|y| y.is_nan()));
    }

    #[test]
    #[should_panic(expected = "is not 3 input rows of 2")]
    fn forward_rejects_a_wrong_weight_shape() {
        input_major_forward(&[0.0; 5], &[0.0; 2], &[0.0; 3], &mut [0.0; 2]);
    }
}
