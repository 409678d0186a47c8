//! Kernels of a dense layer on a batch of rows (row-major: one sample per row). The forward pass
//! runs over a packed panel of inputs, reading the weight's rows as they are (`panel.rs`); the
//! gradients are [`matrix_product`]s over views of the weight, the inputs and the output
//! gradients, none of them transposed in memory. They allocate nothing after the first call of a
//! shape: the mini-batch step stays allocation-free.

use super::dense::check_shape;
use super::panel::{self, PanelScratch, PANEL_ROWS};
use super::product::{matrix_product, MatrixView, Store};
use rayon::prelude::*;

/// Checks that a flat batch holds exactly `rows` rows of `width` values.
pub(super) fn check_rows(values: &[f32], rows: usize, width: usize, what: &str) {
    assert_eq!(values.len(), rows * width, "{what}: {} values are not {rows} rows of {width}", values.len());
}

/// `(inputs, rows)` of a batch through a layer with `bias.len()` outputs and a weight of
/// `weight_len` values, checking that `x` and `y` hold the same number of whole rows. (The
/// caller checks the weight's shape, whose layout it knows.)
pub(super) fn batch_shape(weight_len: usize, bias: &[f32], x: &[f32], y: &[f32]) -> (usize, usize) {
    let outputs = bias.len();
    assert!(outputs > 0, "a layer has at least one output");
    let (inputs, rows) = (weight_len / outputs, y.len() / outputs);
    check_rows(y, rows, outputs, "outputs");
    check_rows(x, rows, inputs, "inputs");
    (inputs, rows)
}

/// Multiply-adds from which a batch kernel splits its work across the rayon threads. Idle rayon
/// workers sleep, and waking one and handing the work back costs tens of microseconds
/// (`examples/limits.rs` measures it as `handoff_us`): below this much work, one core finishes
/// sooner. The 784-100-10 MLP's batches of 64 stay below it, and train faster on one core.
pub const PARALLEL_WORK: usize = 1 << 24;

/// Whether `work` multiply-adds are worth splitting across the rayon threads.
pub(crate) fn split_across_threads(work: usize) -> bool {
    work >= PARALLEL_WORK && rayon::current_num_threads() > 1
}

/// `y[r] = W x[r] + b` for every row `r`; `x` holds rows of `weight.len() / bias.len()` inputs
/// and `y` rows of `bias.len()` outputs.
///
/// Up to 64 rows at a time are packed into a panel (`panel[k][r] = x[r][k]`) that
/// tiles of outputs sweep while reading the weight's rows as they are: at the batch sizes of a
/// training step, packing the inputs costs a fraction of packing the weight (its transpose) for
/// [`matrix_product`]. Large products are split across the rayon threads by ranges of outputs,
/// each computed by one thread in a fixed order, so the result does not depend on the number of
/// threads.
///
/// ```
/// let weight = [1.0, 2.0, 3.0, 4.0]; // two outputs, two inputs
/// let mut y = [0.0; 4];
/// let mut scratch = nn::__private::kernels::PanelScratch::default();
/// nn::__private::kernels::dense_forward_rows(&weight, &[0.5, 0.0], &[1.0, 0.0, 0.0, 1.0], &mut y, &mut scratch);
/// assert_eq!(y, [1.5, 3.0, 2.5, 4.0]);
/// ```
///
/// # Panics
/// If the shapes do not agree.
pub fn dense_forward_rows(weight: &[f32], bias: &[f32], x: &[f32], y: &mut [f32], scratch: &mut PanelScratch) {
    forward_rows(DISPATCHED, weight, bias, x, y, scratch);
}

/// The kernels of [`dense_forward_rows`]: the dispatched ones, or in tests a portable version.
#[derive(Clone, Copy)]
struct Kernels {
    pack: fn(&[f32], usize, usize, usize, &mut [f32]),
    products: fn(&[f32], usize, &[f32], &mut [f32]),
}

const DISPATCHED: Kernels = Kernels { pack: panel::pack_panel, products: panel::panel_products };

/// The versions compiled for the build target's baseline, with or without `mul_add` and wide
/// register tiles.
#[cfg(test)]
fn portable<const FMA: bool, const WIDE: bool>() -> Kernels {
    Kernels { pack: panel::pack::<FMA>, products: panel::products::<FMA, WIDE> }
}

fn forward_rows(kernels: Kernels, weight: &[f32], bias: &[f32], x: &[f32], y: &mut [f32], scratch: &mut PanelScratch) {
    let (outputs, (inputs, _)) = (bias.len(), batch_shape(weight.len(), bias, x, y));
    check_shape(weight, outputs, inputs);
    if inputs == 0 {
        for y in y.chunks_exact_mut(outputs) {
            y.copy_from_slice(bias);
        }
        return;
    }
    scratch.grow(inputs, outputs);
    for (x, y) in x.chunks(PANEL_ROWS * inputs).zip(y.chunks_mut(PANEL_ROWS * outputs)) {
        let rows = y.len() / outputs;
        let width = panel::panel_width(rows);
        let (panel, sums) = (&mut scratch.panel[..inputs * width], &mut scratch.sums[..outputs * PANEL_ROWS]);
        // Packed by the calling thread, four rows at a time over all their inputs, so each row is
        // read as one sequential stream; packing is memory-bound, and a second thread adds
        // nothing but its hand-off.
        (kernels.pack)(x, inputs, 0, width, panel);
        if split_across_threads(rows * inputs * outputs) {
            let tasks = sums.par_chunks_mut(panel::TASK_OUTPUTS * PANEL_ROWS);
            tasks.zip(weight.par_chunks(panel::TASK_OUTPUTS * inputs)).for_each(|(sums, weight)| {
                (kernels.products)(weight, inputs, panel, sums);
            });
        } else {
            (kernels.products)(weight, inputs, panel, sums);
        }
        for (r, y) in y.chunks_exact_mut(outputs).enumerate() {
            for ((y, sums), bias) in y.iter_mut().zip(sums.chunks_exact(PANEL_ROWS)).zip(bias) {
                *y = sums[r] + bias;
            }
        }
    }
}

/// `y[r] = b + x[r] · weight` for every row: `y` starts as the bias, and the product is added.
pub(super) fn biased_product(
    x: MatrixView<'_>,
    weight: MatrixView<'_>,
    bias: &[f32],
    y: &mut [f32],
    scratch: &mut PanelScratch,
) {
    for y in y.chunks_exact_mut(bias.len()) {
        y.copy_from_slice(bias);
    }
    matrix_product(x, weight, y, Store::Add, &mut scratch.product);
}

/// The backward pass of a dense layer over a batch: writes `∂W = Σ_r dy[r] x[r]ᵀ` (`dyᵀ · x`),
/// `∂b = Σ_r dy[r]`, and `dx[r] = Wᵀ dy[r]` (`dy · W`) when given (the old contents are
/// overwritten, so the buffers need no clearing).
///
/// Large products are split across the rayon threads by ranges of columns, each computed by one
/// thread in a fixed order, so the result does not depend on the number of threads.
///
/// ```
/// let weight = [1.0, 2.0]; // one output, two inputs
/// let (mut weight_gradient, mut bias_gradient, mut dx) = ([9.0; 2], [9.0], [9.0; 4]);
/// let mut scratch = nn::__private::kernels::PanelScratch::default();
/// nn::__private::kernels::dense_backward_rows(
///     &weight, &[1.0, 2.0, 3.0, 4.0], &[0.5, 1.0], &mut weight_gradient, &mut bias_gradient, Some(&mut dx), &mut scratch,
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
    scratch: &mut PanelScratch,
) {
    let Shapes { inputs, outputs, rows } = backward_shapes(weight, Some(x), dy, bias_gradient.len(), dx.as_deref());
    check_shape(weight_gradient, outputs, inputs);
    sum_rows(dy, bias_gradient);
    let (x_rows, dy_rows) = (MatrixView::row_major(x, rows, inputs), MatrixView::row_major(dy, rows, outputs));
    matrix_product(dy_rows.transposed(), x_rows, weight_gradient, Store::Overwrite, &mut scratch.product);
    if let Some(dx) = dx {
        input_gradients(weight, dy_rows, dx, scratch);
    }
}

/// A plain SGD step of a dense layer over a batch, applied to the parameters without storing
/// the weight's gradient: `dx[r] = Wᵀ dy[r]` first when given (with the weight before the step),
/// then `W -= lr · Σ_r dy[r] x[r]ᵀ` and `b -= lr · Σ_r dy[r]`, each gradient summed in full
/// before it is scaled. `bias_gradient` (one value per output) is overwritten with `Σ_r dy[r]`.
///
/// ```
/// let (mut weight, mut bias) = ([1.0, 2.0], [0.0]); // one output, two inputs
/// let (mut bias_gradient, mut dx) = ([9.0], [9.0; 4]);
/// let mut scratch = nn::__private::kernels::PanelScratch::default();
/// nn::__private::kernels::dense_sgd_rows(
///     &mut weight, &mut bias, &[1.0, 2.0, 3.0, 4.0], &[0.5, 1.0], 0.5, &mut bias_gradient, Some(&mut dx), &mut scratch,
/// );
/// assert_eq!(dx, [0.5, 1.0, 1.0, 2.0]);
/// assert_eq!((weight, bias), ([-0.75, -0.5], [-0.75]));
/// ```
///
/// # Panics
/// If the shapes do not agree.
#[allow(clippy::too_many_arguments)]
pub fn dense_sgd_rows(
    weight: &mut [f32],
    bias: &mut [f32],
    x: &[f32],
    dy: &[f32],
    learning_rate: f32,
    bias_gradient: &mut [f32],
    dx: Option<&mut [f32]>,
    scratch: &mut PanelScratch,
) {
    let Shapes { inputs, outputs, rows } = backward_shapes(weight, Some(x), dy, bias.len(), dx.as_deref());
    assert_eq!(bias_gradient.len(), outputs, "one bias gradient per output");
    let (x_rows, dy_rows) = (MatrixView::row_major(x, rows, inputs), MatrixView::row_major(dy, rows, outputs));
    if let Some(dx) = dx {
        input_gradients(weight, dy_rows, dx, scratch);
    }
    let step = Store::AddScaled(-learning_rate);
    matrix_product(dy_rows.transposed(), x_rows, weight, step, &mut scratch.product);
    sum_rows(dy, bias_gradient);
    super::axpy(bias, -learning_rate, bias_gradient);
}

/// The input gradients of a dense layer of `outputs` over a batch, `dx[r] = Wᵀ dy[r]`, and
/// nothing else (split across threads as [`dense_backward_rows`] splits them).
///
/// ```
/// let mut dx = [0.0; 4];
/// let mut scratch = nn::__private::kernels::PanelScratch::default();
/// nn::__private::kernels::dense_input_gradient_rows(&[1.0, 2.0], &[0.5, 1.0], 1, &mut dx, &mut scratch);
/// assert_eq!(dx, [0.5, 1.0, 1.0, 2.0]);
/// ```
///
/// # Panics
/// If the shapes do not agree.
pub fn dense_input_gradient_rows(
    weight: &[f32],
    dy: &[f32],
    outputs: usize,
    dx: &mut [f32],
    scratch: &mut PanelScratch,
) {
    let Shapes { rows, .. } = backward_shapes(weight, None, dy, outputs, Some(dx));
    input_gradients(weight, MatrixView::row_major(dy, rows, outputs), dx, scratch);
}

/// `dx = dy · W` for a row-major `weight` of `dy`'s columns (outputs) by `dx`'s (inputs).
fn input_gradients(weight: &[f32], dy: MatrixView<'_>, dx: &mut [f32], scratch: &mut PanelScratch) {
    let outputs = dy.columns();
    let weight = MatrixView::row_major(weight, outputs, weight.len() / outputs);
    matrix_product(dy, weight, dx, Store::Overwrite, &mut scratch.product);
}

/// The sizes of a backward pass.
struct Shapes {
    inputs: usize,
    outputs: usize,
    rows: usize,
}

/// Checks the operands of a backward pass of a layer of `outputs` (its inputs `x` and input
/// gradients `dx` when there are) and returns their sizes.
fn backward_shapes(weight: &[f32], x: Option<&[f32]>, dy: &[f32], outputs: usize, dx: Option<&[f32]>) -> Shapes {
    assert!(outputs > 0, "a layer has at least one output");
    let inputs = weight.len() / outputs;
    check_shape(weight, outputs, inputs);
    let rows = dy.len() / outputs;
    check_rows(dy, rows, outputs, "output gradients");
    if let Some(x) = x {
        check_rows(x, rows, inputs, "inputs");
    }
    if let Some(dx) = dx {
        check_rows(dx, rows, inputs, "input gradients");
    }
    Shapes { inputs, outputs, rows }
}

/// `sums = Σ_r rows[r]`, the rows `sums.len()` wide, added in row order.
fn sum_rows(rows: &[f32], sums: &mut [f32]) {
    sums.fill(0.0);
    for row in rows.chunks_exact(sums.len()) {
        for (sum, value) in sums.iter_mut().zip(row) {
            *sum += value;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernels::reference::{self, values, SIZES};

    /// Kernel results against the f64 references.
    fn assert_all_close(actual: &[f32], expected: &[f32]) {
        reference::assert_all_close(actual, expected, 1e-4);
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
        // Large enough to be split across threads: several panels, slices and tasks, ragged ends.
        shapes.extend([(130, 160, 810), (70, 250, 1000)]);
        shapes
    }

    /// Runs `work` on a pool of `threads` rayon threads.
    fn on_threads<R: Send>(threads: usize, work: impl FnOnce() -> R + Send) -> R {
        rayon::ThreadPoolBuilder::new().num_threads(threads).build().expect("a thread pool").install(work)
    }

    #[test]
    fn split_passes_give_the_same_bits_on_any_number_of_threads() {
        let (rows, outputs, inputs) = (130, 160, 810);
        assert!(split_across_threads(rows * outputs * inputs) || rayon::current_num_threads() == 1);
        let (weight, bias, x, dy) =
            (values(outputs * inputs, 1), values(outputs, 2), values(rows * inputs, 3), values(rows * outputs, 4));
        let run = |threads| {
            on_threads(threads, || {
                let mut y = vec![0.0; rows * outputs];
                let (mut weight_gradient, mut bias_gradient) = (vec![0.0; outputs * inputs], vec![0.0; outputs]);
                let mut dx = vec![0.0; rows * inputs];
                dense_forward_rows(&weight, &bias, &x, &mut y, &mut PanelScratch::default());
                dense_backward_rows(
                    &weight,
                    &x,
                    &dy,
                    &mut weight_gradient,
                    &mut bias_gradient,
                    Some(&mut dx),
                    &mut PanelScratch::default(),
                );
                (y, weight_gradient, bias_gradient, dx)
            })
        };
        let one = run(1);
        for threads in [2, 3, 5] {
            assert!(run(threads) == one, "{threads} threads differ from one");
        }
    }

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
            let kernels = [DISPATCHED, portable::<false, false>(), portable::<true, false>(), portable::<true, true>()];
            for kernels in kernels {
                let mut y = vec![0.0; rows * outputs];
                on_threads(3, || forward_rows(kernels, &weight, &bias, &x, &mut y, &mut PanelScratch::default()));
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
            let (mut weight_gradient, mut bias_gradient) = (weight_gradient.clone(), bias_gradient.clone());
            let mut dx = vec![9.0; rows * inputs];
            let scratch = &mut PanelScratch::default();
            on_threads(3, || {
                dense_backward_rows(&weight, &x, &dy, &mut weight_gradient, &mut bias_gradient, Some(&mut dx), scratch)
            });
            assert_all_close(&weight_gradient, &expected_weight);
            assert_all_close(&bias_gradient, &expected_bias);
            assert_all_close(&dx, &expected_dx);
            // The SGD step: the same input gradients, and the gradients scaled into the parameters.
            let (mut stepped_weight, mut stepped_bias) = (weight.clone(), values(outputs, 9));
            let mut sgd_dx = vec![9.0; rows * inputs];
            let step_bias = stepped_bias.clone();
            on_threads(3, || {
                let sums = &mut vec![9.0; outputs];
                let bias = &mut stepped_bias;
                dense_sgd_rows(&mut stepped_weight, bias, &x, &dy, 0.5, sums, Some(&mut sgd_dx), scratch)
            });
            assert_all_close(&sgd_dx, &expected_dx);
            let moved = |old: &[f32], gradient: &[f32]| -> Vec<f32> {
                old.iter().zip(gradient).map(|(old, gradient)| old - 0.5 * gradient).collect()
            };
            assert_all_close(&stepped_weight, &moved(&weight, &expected_weight));
            assert_all_close(&stepped_bias, &moved(&step_bias, &expected_bias));
        }
    }

    #[test]
    #[should_panic(expected = "inputs: 5 values are not 2 rows of 3")]
    fn forward_rows_rejects_ragged_input() {
        dense_forward_rows(&[0.0; 6], &[0.0; 2], &[0.0; 5], &mut [0.0; 4], &mut PanelScratch::default());
    }
}
