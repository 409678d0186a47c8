//! Kernels of a dense layer on a batch of rows (row-major: one sample per row), blocked so that
//! each weight row and each input row is loaded once per block of four, not once per product.
//! They allocate nothing: the mini-batch step stays allocation-free.

use super::dense::check_shape;
use super::kernel;
use super::panel;
use super::simd::{self, OUTER_COLUMNS};

/// Splits a flat batch into rows of `width`, checking that it holds exactly `rows` of them.
fn check_rows(values: &[f32], rows: usize, width: usize, what: &str) {
    assert_eq!(values.len(), rows * width, "{what}: {} values are not {rows} rows of {width}", values.len());
}

kernel! {
    /// `y[r] = W x[r] + b` for every row `r`; `x` holds rows of `weight.len() / bias.len()` inputs
    /// and `y` rows of `bias.len()` outputs.
    ///
    /// ```
    /// let weight = [1.0, 2.0, 3.0, 4.0]; // two outputs, two inputs
    /// let mut y = [0.0; 4];
    /// nn_core::kernels::dense_forward_rows(&weight, &[0.5, 0.0], &[1.0, 0.0, 0.0, 1.0], &mut y);
    /// assert_eq!(y, [1.5, 3.0, 2.5, 4.0]);
    /// ```
    ///
    /// # Panics
    /// If the shapes do not agree.
    pub fn dense_forward_rows(weight: &[f32], bias: &[f32], x: &[f32], y: &mut [f32]) => forward_rows::<FMA, WIDE>
}

#[inline(always)]
fn forward_rows<const FMA: bool, const WIDE: bool>(weight: &[f32], bias: &[f32], x: &[f32], y: &mut [f32]) {
    let outputs = bias.len();
    assert!(outputs > 0, "a layer has at least one output");
    let inputs = weight.len() / outputs;
    check_shape(weight, outputs, inputs);
    let rows = y.len() / outputs;
    check_rows(y, rows, outputs, "outputs");
    check_rows(x, rows, inputs, "inputs");
    if inputs == 0 {
        for y in y.chunks_exact_mut(outputs) {
            y.copy_from_slice(bias);
        }
        return;
    }
    panel::forward_rows::<FMA, WIDE>(weight, bias, x, y, inputs);
}

kernel! {
    /// The backward pass of a dense layer over a batch: writes `∂W = Σ_r dy[r] x[r]ᵀ`,
    /// `∂b = Σ_r dy[r]`, and `dx[r] = Wᵀ dy[r]` when given (the old contents are overwritten,
    /// so the buffers need no clearing).
    ///
    /// ```
    /// let weight = [1.0, 2.0]; // one output, two inputs
    /// let (mut weight_gradient, mut bias_gradient, mut dx) = ([9.0; 2], [9.0], [9.0; 4]);
    /// nn_core::kernels::dense_backward_rows(
    ///     &weight, &[1.0, 2.0, 3.0, 4.0], &[0.5, 1.0], &mut weight_gradient, &mut bias_gradient, Some(&mut dx),
    /// );
    /// assert_eq!((weight_gradient, bias_gradient), ([3.5, 5.0], [1.5]));
    /// assert_eq!(dx, [0.5, 1.0, 1.0, 2.0]);
    /// ```
    ///
    /// # Panics
    /// If the shapes do not agree.
    pub fn dense_backward_rows(
        weight: &[f32],
        x: &[f32],
        dy: &[f32],
        weight_gradient: &mut [f32],
        bias_gradient: &mut [f32],
        dx: Option<&mut [f32]>,
    ) => backward_rows
}

#[inline(always)]
fn backward_rows<const FMA: bool>(
    weight: &[f32],
    x: &[f32],
    dy: &[f32],
    weight_gradient: &mut [f32],
    bias_gradient: &mut [f32],
    dx: Option<&mut [f32]>,
) {
    let outputs = bias_gradient.len();
    assert!(outputs > 0, "a layer has at least one output");
    let inputs = weight.len() / outputs;
    check_shape(weight, outputs, inputs);
    check_shape(weight_gradient, outputs, inputs);
    let rows = dy.len() / outputs;
    check_rows(dy, rows, outputs, "output gradients");
    check_rows(x, rows, inputs, "inputs");
    bias_gradient.fill(0.0);
    for row in dy.chunks_exact(outputs) {
        for (gradient, delta) in bias_gradient.iter_mut().zip(row) {
            *gradient += delta;
        }
    }
    if inputs == 0 {
        return;
    }
    // ∂W[o] = Σ_r dy[r][o] x[r]
    outer_product_sum::<FMA, false>(weight_gradient, inputs, x, rows, |r, o| dy[r * outputs + o]);
    if let Some(dx) = dx {
        check_rows(dx, rows, inputs, "input gradients");
        // dx[r] = Σ_o dy[r][o] W[o]
        outer_product_sum::<FMA, false>(dx, inputs, weight, outputs, |o, r| dy[r * outputs + o]);
    }
}

kernel! {
    /// A rank-`updates` update of a weight matrix, `W[o] += Σ_k scale[k][o] · x[k]`, for
    /// `updates` rows of inputs `x` and of per-output scales: `k` deferred SGD steps of a dense layer applied in one
    /// sweep over `W` (each weight is read and written once instead of `k` times).
    ///
    /// ```
    /// let mut weight = [1.0, 1.0, 1.0, 1.0]; // two outputs, two inputs
    /// nn_core::kernels::dense_rank_update(&mut weight, &[1.0, 0.0, 0.0, 1.0], &[0.5, 0.0, 0.0, 2.0], 2);
    /// assert_eq!(weight, [1.5, 1.0, 1.0, 3.0]);
    /// ```
    ///
    /// # Panics
    /// If `x` and `scales` do not hold `updates` rows that fit `weight`.
    pub fn dense_rank_update(weight: &mut [f32], x: &[f32], scales: &[f32], updates: usize) => rank_update
}

#[inline(always)]
fn rank_update<const FMA: bool>(weight: &mut [f32], x: &[f32], scales: &[f32], updates: usize) {
    if updates == 0 {
        return;
    }
    let (inputs, outputs) = (x.len() / updates, scales.len() / updates);
    if inputs == 0 {
        return;
    }
    check_shape(weight, outputs, inputs);
    check_rows(x, updates, inputs, "inputs");
    check_rows(scales, updates, outputs, "scales");
    outer_product_sum::<FMA, true>(weight, inputs, x, updates, |k, o| scales[k * outputs + o]);
}

/// `C[m] = Σ_j scale(j, m) · B[j]` (or `C[m] +=` with `ACCUMULATE`) for the rows `m` of `C` and
/// `j` of `B`, both `columns` wide. Blocks of four rows by [`OUTER_COLUMNS`] columns stay in
/// registers while all `j` stream by, and are written once at the end.
#[inline(always)]
fn outer_product_sum<const FMA: bool, const ACCUMULATE: bool>(
    c: &mut [f32],
    columns: usize,
    b: &[f32],
    b_rows: usize,
    scale: impl Fn(usize, usize) -> f32,
) {
    let c_rows = c.len() / columns;
    let (full_columns, full_rows) = (columns / OUTER_COLUMNS * OUTER_COLUMNS, c_rows / 4 * 4);
    let b_row = |j: usize, from: usize, to: usize| &b[j * columns + from..j * columns + to];
    for from in (0..full_columns).step_by(OUTER_COLUMNS) {
        for m0 in (0..full_rows).step_by(4) {
            let mut rows = c[m0 * columns..(m0 + 4) * columns].chunks_exact_mut(columns);
            let block = [(); 4].map(|_| &mut rows.next().expect("four rows")[from..]);
            let sources = (0..b_rows).map(|j| (j, b_row(j, from, from + OUTER_COLUMNS)));
            simd::outer_block::<FMA, ACCUMULATE>(block, sources, |j, m| scale(j, m0 + m));
        }
        for m in full_rows..c_rows {
            let target = &mut c[m * columns + from..m * columns + from + OUTER_COLUMNS];
            if !ACCUMULATE {
                target.fill(0.0);
            }
            for j in 0..b_rows {
                simd::axpy::<FMA>(target, scale(j, m), b_row(j, from, from + OUTER_COLUMNS));
            }
        }
    }
    if full_columns < columns {
        for m in 0..c_rows {
            if !ACCUMULATE {
                c[m * columns + full_columns..(m + 1) * columns].fill(0.0);
            }
            for j in 0..b_rows {
                simd::axpy::<FMA>(
                    &mut c[m * columns + full_columns..(m + 1) * columns],
                    scale(j, m),
                    b_row(j, full_columns, columns),
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernels::reference::{self, values, SIZES};
    use crate::testing::assert_close;

    fn assert_all_close(actual: &[f32], expected: &[f32]) {
        assert_eq!(actual.len(), expected.len());
        for (a, e) in actual.iter().zip(expected) {
            assert_close!(*a, *e, 1e-4);
        }
    }

    /// (rows, outputs, inputs) over odd and even sizes.
    fn shapes() -> Vec<(usize, usize, usize)> {
        let mut shapes = Vec::new();
        for rows in [1, 3, 4, 5, 17] {
            for (outputs, inputs) in [(1, 1), (3, 17), (4, 64), (10, 100), (17, 3), (5, 65), (9, 129)] {
                shapes.push((rows, outputs, inputs));
            }
        }
        shapes.extend(SIZES.iter().filter(|&&n| n < 784).map(|&n| (n, n, n)));
        shapes.push((5, 100, 784));
        shapes.push((70, 13, 300));
        shapes
    }

    /// The dispatched kernel and the portable versions, with and without `mul_add`.
    type ForwardRows = fn(&[f32], &[f32], &[f32], &mut [f32]);
    const FORWARDS: [ForwardRows; 4] =
        [dense_forward_rows, forward_rows::<false, false>, forward_rows::<true, false>, forward_rows::<true, true>];
    type BackwardRows = fn(&[f32], &[f32], &[f32], &mut [f32], &mut [f32], Option<&mut [f32]>);
    const BACKWARDS: [BackwardRows; 3] = [dense_backward_rows, backward_rows::<false>, backward_rows::<true>];

    #[test]
    fn forward_rows_matches_the_scalar_loop() {
        for (rows, outputs, inputs) in shapes() {
            let (weight, bias, x) = (values(outputs * inputs, 1), values(outputs, 2), values(rows * inputs, 3));
            let mut expected = vec![0.0; rows * outputs];
            for r in 0..rows {
                for o in 0..outputs {
                    let w = &weight[o * inputs..(o + 1) * inputs];
                    expected[r * outputs + o] = reference::dot(&x[r * inputs..(r + 1) * inputs], w) + bias[o];
                }
            }
            for dense_forward_rows in FORWARDS {
                let mut y = vec![0.0; rows * outputs];
                dense_forward_rows(&weight, &bias, &x, &mut y);
                assert_all_close(&y, &expected);
            }
        }
    }

    #[test]
    fn backward_rows_matches_the_scalar_loop() {
        for (rows, outputs, inputs) in shapes() {
            let (weight, x, dy) = (values(outputs * inputs, 4), values(rows * inputs, 5), values(rows * outputs, 6));
            let (weight_gradient, bias_gradient) = (values(outputs * inputs, 7), values(outputs, 8));
            // The kernel overwrites: the old contents (random here) must not leak through.
            let mut expected_weight = vec![0.0; outputs * inputs];
            let mut expected_bias = vec![0.0; outputs];
            let mut expected_dx = vec![0.0f64; rows * inputs];
            for r in 0..rows {
                for o in 0..outputs {
                    let d = dy[r * outputs + o];
                    expected_bias[o] += d;
                    for i in 0..inputs {
                        expected_weight[o * inputs + i] += d * x[r * inputs + i];
                        expected_dx[r * inputs + i] += f64::from(d) * f64::from(weight[o * inputs + i]);
                    }
                }
            }
            let expected_dx: Vec<f32> = expected_dx.iter().map(|v| *v as f32).collect();
            for dense_backward_rows in BACKWARDS {
                let (mut weight_gradient, mut bias_gradient) = (weight_gradient.clone(), bias_gradient.clone());
                let mut dx = vec![9.0; rows * inputs];
                dense_backward_rows(&weight, &x, &dy, &mut weight_gradient, &mut bias_gradient, Some(&mut dx));
                assert_all_close(&weight_gradient, &expected_weight);
                assert_all_close(&bias_gradient, &expected_bias);
                assert_all_close(&dx, &expected_dx);
            }
        }
    }

    #[test]
    fn rank_update_equals_one_axpy_per_update() {
        for (updates, outputs, inputs) in shapes() {
            let (mut weight, x, scales) =
                (values(outputs * inputs, 9), values(updates * inputs, 10), values(updates * outputs, 11));
            let mut expected = weight.clone();
            for k in 0..updates {
                for o in 0..outputs {
                    for i in 0..inputs {
                        expected[o * inputs + i] += scales[k * outputs + o] * x[k * inputs + i];
                    }
                }
            }
            dense_rank_update(&mut weight, &x, &scales, updates);
            assert_all_close(&weight, &expected);
        }
    }

    #[test]
    #[should_panic(expected = "inputs: 5 values are not 2 rows of 3")]
    fn forward_rows_rejects_ragged_input() {
        dense_forward_rows(&[0.0; 6], &[0.0; 2], &[0.0; 5], &mut [0.0; 4]);
    }
}
