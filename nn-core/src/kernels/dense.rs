//! Kernels of a dense (fully connected) layer on one sample. The weight is row-major, one row
//! of `x.len()` values per output.

use super::{kernel, simd};

/// Checks that `weight` holds one row of `columns` values for each of `rows` outputs.
pub(super) fn check_shape(weight: &[f32], rows: usize, columns: usize) {
    assert_eq!(weight.len(), rows * columns, "a weight of {} values is not {rows} rows of {columns}", weight.len());
}

kernel! {
    /// `y = W x + b`, four rows at a time so each block of `x` is loaded once per four outputs.
    ///
    /// ```
    /// let weight = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0];
    /// let mut y = [0.0; 2];
    /// nn::__private::kernels::dense_forward(&weight, &[0.5, 0.5], &[1.0, 1.0, 1.0], &mut y);
    /// assert_eq!(y, [6.5, 15.5]);
    /// ```
    ///
    /// # Panics
    /// If `weight` is not `y.len()` rows of `x.len()` values, or `bias` is not `y.len()` long.
    pub fn dense_forward(weight: &[f32], bias: &[f32], x: &[f32], y: &mut [f32]) => forward
}

#[inline(always)]
pub(super) fn forward<const FMA: bool>(weight: &[f32], bias: &[f32], x: &[f32], y: &mut [f32]) {
    let columns = x.len();
    check_shape(weight, y.len(), columns);
    assert_eq!(bias.len(), y.len(), "one bias per output");
    if columns == 0 {
        y.copy_from_slice(bias);
        return;
    }
    let Some(last) = weight.chunks_exact(columns).last() else {
        return; // no outputs
    };
    let mut rows = weight.chunks_exact(columns);
    for (output, bias) in y.chunks_mut(4).zip(bias.chunks(4)) {
        // The last group repeats the last row to make four. `dot4` is a call, compiled on its own:
        // inlined here, LLVM's vectoriser mixed the rows' sums into shuffles and kept some in
        // memory.
        let mut next = || rows.next().unwrap_or(last);
        let sums = dot4([next(), next(), next(), next()], x);
        for ((y, sum), b) in output.iter_mut().zip(sums).zip(bias) {
            *y = sum + b;
        }
    }
}

kernel! {
    /// Four dot products `rows[k] · x` at once; the rows must be `x`'s length.
    pub(crate) fn dot4(rows: [&[f32]; 4], x: &[f32]) -> [f32; 4] => dot4_wide::<FMA, WIDE>
}

#[inline(always)]
fn dot4_wide<const FMA: bool, const WIDE: bool>(rows: [&[f32]; 4], x: &[f32]) -> [f32; 4] {
    #[cfg(target_arch = "x86_64")]
    if WIDE {
        // SAFETY: the `WIDE` versions of the kernels run only on CPUs with AVX-512F.
        return unsafe { avx512::dot4(rows, x) };
    }
    // Elsewhere one row at a time: with four rows in one loop, LLVM's vectoriser mixed them
    // (see `avx512`), and the row-at-a-time `dot` compiles to a fraction of the code.
    let [a, b, c, d] = rows;
    [simd::dot::<FMA>(a, x), simd::dot::<FMA>(b, x), simd::dot::<FMA>(c, x), simd::dot::<FMA>(d, x)]
}

/// [`dot4`] in AVX-512 intrinsics. Written in plain Rust as four rows in one loop, LLVM's
/// vectoriser packed the four rows' values side by side into shuffled 128-bit vectors, or kept
/// the sums in memory behind run-time alias checks, depending on where it was inlined. The
/// intrinsics pin the shape: four sums in four registers, one load of `x` for all of them.
#[cfg(target_arch = "x86_64")]
mod avx512 {
    use std::arch::x86_64::*;

    /// `rows[k] · x` with two independent sums per row (eight chains of fused multiply-adds),
    /// the tail as a masked load.
    #[target_feature(enable = "avx512f")]
    pub(super) fn dot4(rows: [&[f32]; 4], x: &[f32]) -> [f32; 4] {
        const LANES: usize = 16;
        let n = x.len();
        assert!(rows.iter().all(|row| row.len() == n), "rows of the input's length");
        let load = |values: &[f32], at: usize| {
            let vector: &[f32; LANES] = values[at..at + LANES].try_into().expect("a whole vector");
            // SAFETY: `vector` is the 64 bytes read.
            unsafe { _mm512_loadu_ps(vector.as_ptr()) }
        };
        let mut sums = [[_mm512_setzero_ps(); 2]; 4];
        let mut at = 0;
        while at + 2 * LANES <= n {
            let (x0, x1) = (load(x, at), load(x, at + LANES));
            for (sums, row) in sums.iter_mut().zip(rows) {
                sums[0] = _mm512_fmadd_ps(load(row, at), x0, sums[0]);
                sums[1] = _mm512_fmadd_ps(load(row, at + LANES), x1, sums[1]);
            }
            at += 2 * LANES;
        }
        if at + LANES <= n {
            let x0 = load(x, at);
            for (sums, row) in sums.iter_mut().zip(rows) {
                sums[0] = _mm512_fmadd_ps(load(row, at), x0, sums[0]);
            }
            at += LANES;
        }
        if at < n {
            let mask: __mmask16 = (1 << (n - at)) - 1;
            // SAFETY: the mask selects lanes `at..n`, within every slice (the others are not read).
            let x0 = unsafe { _mm512_maskz_loadu_ps(mask, x[at..].as_ptr()) };
            for (sums, row) in sums.iter_mut().zip(rows) {
                // SAFETY: as above.
                let w = unsafe { _mm512_maskz_loadu_ps(mask, row[at..].as_ptr()) };
                sums[1] = _mm512_fmadd_ps(w, x0, sums[1]);
            }
        }
        let mut dots = [0.0; 4];
        for (dot, [first, second]) in dots.iter_mut().zip(sums) {
            *dot = _mm512_reduce_add_ps(_mm512_add_ps(first, second));
        }
        dots
    }
}

kernel! {
    /// The backward pass of a dense layer fused with plain SGD, for one sample.
    ///
    /// Writes `dx = Wᵀ dy` when given (computed with the weights from before the update), and
    /// applies `W -= learning_rate · dy xᵀ`, `b -= learning_rate · dy`, sweeping each weight row
    /// once. Rows whose `dy` is zero (ReLU units that did not fire) are skipped.
    ///
    /// ```
    /// let mut weight = [1.0, 2.0];
    /// let mut bias = [0.0];
    /// let mut dx = [0.0; 2];
    /// nn::__private::kernels::dense_backward_sgd(&mut weight, &mut bias, &[1.0, 1.0], &[0.5], Some(&mut dx), 0.1);
    /// assert_eq!(dx, [0.5, 1.0]);
    /// assert_eq!(weight, [0.95, 1.95]);
    /// assert_eq!(bias, [-0.05]);
    /// ```
    ///
    /// # Panics
    /// If the shapes do not agree.
    pub fn dense_backward_sgd(
        weight: &mut [f32],
        bias: &mut [f32],
        x: &[f32],
        dy: &[f32],
        dx: Option<&mut [f32]>,
        learning_rate: f32,
    ) => backward_sgd
}

#[inline(always)]
fn backward_sgd<const FMA: bool>(
    weight: &mut [f32],
    bias: &mut [f32],
    x: &[f32],
    dy: &[f32],
    dx: Option<&mut [f32]>,
    learning_rate: f32,
) {
    let columns = x.len();
    check_shape(weight, dy.len(), columns);
    assert_eq!(bias.len(), dy.len(), "one bias per output");
    let rows = weight.chunks_exact_mut(columns.max(1)).zip(bias.iter_mut()).zip(dy);
    let live = rows.filter(|(_, delta)| **delta != 0.0);
    match dx {
        Some(dx) => {
            assert_eq!(dx.len(), columns, "one input gradient per input");
            dx.fill(0.0);
            for ((row, bias), &delta) in live {
                let step = -learning_rate * delta;
                simd::backprop_and_step::<FMA>(row, x, dx, delta, step);
                *bias += step;
            }
        }
        None => {
            for ((row, bias), &delta) in live {
                let step = -learning_rate * delta;
                simd::axpy::<FMA>(row, step, x);
                *bias += step;
            }
        }
    }
}

kernel! {
    /// The backward pass of a dense layer for one sample, accumulating parameter gradients:
    /// `∂W += dy xᵀ`, `∂b += dy`, and `dx = Wᵀ dy` when given. Rows whose `dy` is zero are
    /// skipped.
    ///
    /// ```
    /// let weight = [1.0, 2.0];
    /// let (mut weight_gradient, mut bias_gradient) = ([0.0; 2], [0.0]);
    /// let mut dx = [0.0; 2];
    /// nn::__private::kernels::dense_accumulate(
    ///     &weight, &[3.0, 4.0], &[0.5], &mut weight_gradient, &mut bias_gradient, Some(&mut dx),
    /// );
    /// assert_eq!((weight_gradient, bias_gradient, dx), ([1.5, 2.0], [0.5], [0.5, 1.0]));
    /// ```
    ///
    /// # Panics
    /// If the shapes do not agree.
    pub fn dense_accumulate(
        weight: &[f32],
        x: &[f32],
        dy: &[f32],
        weight_gradient: &mut [f32],
        bias_gradient: &mut [f32],
        dx: Option<&mut [f32]>,
    ) => accumulate
}

#[inline(always)]
fn accumulate<const FMA: bool>(
    weight: &[f32],
    x: &[f32],
    dy: &[f32],
    weight_gradient: &mut [f32],
    bias_gradient: &mut [f32],
    dx: Option<&mut [f32]>,
) {
    let columns = x.len();
    check_shape(weight, dy.len(), columns);
    check_shape(weight_gradient, dy.len(), columns);
    assert_eq!(bias_gradient.len(), dy.len(), "one bias gradient per output");
    let gradient_rows = weight_gradient.chunks_exact_mut(columns.max(1)).zip(bias_gradient.iter_mut()).zip(dy);
    for ((row, bias), &delta) in gradient_rows.filter(|(_, delta)| **delta != 0.0) {
        simd::axpy::<FMA>(row, delta, x);
        *bias += delta;
    }
    if let Some(dx) = dx {
        input_gradient::<FMA>(weight, dy, dx);
    }
}

kernel! {
    /// The input gradient of a dense layer for one sample, `dx = Wᵀ dy`, and nothing else: how
    /// a training step learns every layer's gradients before it changes any parameter. Rows
    /// whose `dy` is zero are skipped.
    ///
    /// ```
    /// let mut dx = [0.0; 2];
    /// nn::__private::kernels::dense_input_gradient(&[1.0, 2.0, 3.0, 4.0], &[0.5, -1.0], &mut dx);
    /// assert_eq!(dx, [-2.5, -3.0]);
    /// ```
    ///
    /// # Panics
    /// If the shapes do not agree.
    pub fn dense_input_gradient(weight: &[f32], dy: &[f32], dx: &mut [f32]) => input_gradient
}

/// Input gradients per register block of [`input_gradient`]: two vectors' worth.
const GRADIENT_BLOCK: usize = 2 * simd::LANES;

/// `dx = Wᵀ dy` a block of columns at a time, each block's sums kept in registers over every
/// row and stored once (an `axpy` per row would load and store `dx` once per row). The sums run
/// over the rows in order, as a row-by-row `axpy` would, so the results are the same bits.
#[inline(always)]
fn input_gradient<const FMA: bool>(weight: &[f32], dy: &[f32], dx: &mut [f32]) {
    let columns = dx.len();
    check_shape(weight, dy.len(), columns);
    let live_rows = || weight.chunks_exact(columns.max(1)).zip(dy).filter(|(_, delta)| **delta != 0.0);
    let mut blocks = dx.chunks_exact_mut(GRADIENT_BLOCK);
    let mut start = 0;
    for block in &mut blocks {
        let mut sums = [0.0f32; GRADIENT_BLOCK];
        for (row, &delta) in live_rows() {
            let w: &[f32; GRADIENT_BLOCK] = row[start..start + GRADIENT_BLOCK].try_into().expect("a full block");
            for (sum, w) in sums.iter_mut().zip(w) {
                *sum = simd::madd::<FMA>(delta, *w, *sum);
            }
        }
        block.copy_from_slice(&sums);
        start += GRADIENT_BLOCK;
    }
    let tail = blocks.into_remainder();
    tail.fill(0.0);
    for (row, &delta) in live_rows() {
        simd::axpy::<FMA>(tail, delta, &row[start..]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernels::reference::{self, values, SIZES};

    /// Kernel results against the f64 references.
    fn assert_all_close(actual: &[f32], expected: &[f32]) {
        reference::assert_all_close(actual, expected, 1e-5);
    }

    /// `(rows, columns)` pairs over the test sizes, with some outputs set to zero in `dy`.
    fn shapes() -> impl Iterator<Item = (usize, usize)> {
        SIZES.into_iter().flat_map(|rows| SIZES.into_iter().map(move |columns| (rows, columns)))
    }

    fn gradient(rows: usize, seed: u64) -> Vec<f32> {
        let mut dy = values(rows, seed);
        dy.iter_mut().step_by(3).for_each(|d| *d = 0.0);
        dy
    }

    /// The dispatched kernel (the best version for this CPU) and the portable versions every
    /// other CPU gets, with and without `mul_add`.
    type Forward = fn(&[f32], &[f32], &[f32], &mut [f32]);
    const FORWARDS: [Forward; 3] = [dense_forward, forward::<false>, forward::<true>];
    type BackwardSgd = fn(&mut [f32], &mut [f32], &[f32], &[f32], Option<&mut [f32]>, f32);
    const BACKWARD_SGDS: [BackwardSgd; 3] = [dense_backward_sgd, backward_sgd::<false>, backward_sgd::<true>];
    type Accumulate = fn(&[f32], &[f32], &[f32], &mut [f32], &mut [f32], Option<&mut [f32]>);
    const ACCUMULATES: [Accumulate; 3] = [dense_accumulate, accumulate::<false>, accumulate::<true>];

    #[test]
    fn forward_matches_the_scalar_loop() {
        for (rows, columns) in shapes() {
            let (weight, bias, x) = (values(rows * columns, 1), values(rows, 2), values(columns, 3));
            let expected: Vec<f32> =
                (0..rows).map(|r| reference::dot(&weight[r * columns..(r + 1) * columns], &x) + bias[r]).collect();
            for dense_forward in FORWARDS {
                let mut y = vec![0.0; rows];
                dense_forward(&weight, &bias, &x, &mut y);
                assert_all_close(&y, &expected);
            }
        }
    }

    #[test]
    fn backward_sgd_matches_the_scalar_loop() {
        for (rows, columns) in shapes() {
            let (weight, bias, x, dy) =
                (values(rows * columns, 4), values(rows, 5), values(columns, 6), gradient(rows, 7));
            let expected_dx: Vec<f32> = (0..columns)
                .map(|c| (0..rows).map(|r| f64::from(weight[r * columns + c]) * f64::from(dy[r])).sum::<f64>() as f32)
                .collect();
            let expected_weight: Vec<f32> =
                weight.iter().enumerate().map(|(i, w)| w - 0.1 * dy[i / columns] * x[i % columns]).collect();
            let expected_bias: Vec<f32> = bias.iter().zip(&dy).map(|(b, d)| b - 0.1 * d).collect();
            for dense_backward_sgd in BACKWARD_SGDS {
                let (mut weight, mut bias) = (weight.clone(), bias.clone());
                let mut dx = vec![9.0; columns];
                let mut without_dx = (weight.clone(), bias.clone());
                dense_backward_sgd(&mut weight, &mut bias, &x, &dy, Some(&mut dx), 0.1);
                dense_backward_sgd(&mut without_dx.0, &mut without_dx.1, &x, &dy, None, 0.1);
                assert_all_close(&dx, &expected_dx);
                assert_all_close(&weight, &expected_weight);
                assert_all_close(&bias, &expected_bias);
                assert_eq!((weight, bias), without_dx);
            }
        }
    }

    #[test]
    fn accumulate_matches_the_scalar_loop() {
        for (rows, columns) in shapes() {
            let (weight, x, dy) = (values(rows * columns, 8), values(columns, 9), gradient(rows, 10));
            let (weight_gradient, bias_gradient) = (values(rows * columns, 11), values(rows, 12));
            let expected_weight: Vec<f32> =
                weight_gradient.iter().enumerate().map(|(i, g)| g + dy[i / columns] * x[i % columns]).collect();
            let expected_bias: Vec<f32> = bias_gradient.iter().zip(&dy).map(|(b, d)| b + d).collect();
            let expected_dx: Vec<f32> = (0..columns)
                .map(|c| (0..rows).map(|r| f64::from(weight[r * columns + c]) * f64::from(dy[r])).sum::<f64>() as f32)
                .collect();
            for dense_accumulate in ACCUMULATES {
                let (mut weight_gradient, mut bias_gradient) = (weight_gradient.clone(), bias_gradient.clone());
                let mut dx = vec![9.0; columns];
                dense_accumulate(&weight, &x, &dy, &mut weight_gradient, &mut bias_gradient, Some(&mut dx));
                assert_all_close(&weight_gradient, &expected_weight);
                assert_all_close(&bias_gradient, &expected_bias);
                assert_all_close(&dx, &expected_dx);
            }
        }
    }

    #[test]
    #[should_panic(expected = "is not 2 rows of 3")]
    fn forward_rejects_a_wrong_weight_shape() {
        dense_forward(&[0.0; 5], &[0.0; 2], &[0.0; 3], &mut [0.0; 2]);
    }
}
