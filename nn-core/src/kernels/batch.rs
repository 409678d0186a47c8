//! Kernels of a dense layer on a batch of rows (row-major: one sample per row), blocked so that
//! each weight row and each input row is loaded once per block of four, not once per product.
//! They allocate nothing: the mini-batch step stays allocation-free.

use super::dense::check_shape;
use super::kernel;
use super::panel::{self, PanelScratch, PANEL_ROWS};
use super::simd::{self, madd, LANES, OUTER_COLUMNS};
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

/// A kernel writing rows `first..` of a gradient from two batch operands, `inputs` and
/// `outputs` wide: [`dense_weight_gradient`] or [`dense_input_gradient`].
type GradientRows = fn(&[f32], &[f32], usize, usize, usize, &mut [f32]);

/// The kernels a batch pass is built from: the dispatched ones, or in tests a portable version.
#[derive(Clone, Copy)]
struct Kernels {
    pack: fn(&[f32], usize, usize, usize, &mut [f32]),
    products: fn(&[f32], usize, &[f32], &mut [f32]),
    weight_gradient: GradientRows,
    input_gradient: GradientRows,
}

const DISPATCHED: Kernels = Kernels {
    pack: panel::pack_panel,
    products: panel::panel_products,
    weight_gradient: dense_weight_gradient,
    input_gradient: dense_input_gradient,
};

/// The versions compiled for the build target's baseline, with or without `mul_add` and wide
/// register tiles.
#[cfg(test)]
fn portable<const FMA: bool, const WIDE: bool>() -> Kernels {
    Kernels {
        pack: panel::pack::<FMA>,
        products: panel::products::<FMA, WIDE>,
        weight_gradient: weight_gradient::<FMA, WIDE>,
        input_gradient: input_gradient::<FMA>,
    }
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
/// Large products are split across the rayon threads by ranges of outputs, each computed by one
/// thread in a fixed order, so the result does not depend on the number of threads.
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

/// The backward pass of a dense layer over a batch: writes `∂W = Σ_r dy[r] x[r]ᵀ`,
/// `∂b = Σ_r dy[r]`, and `dx[r] = Wᵀ dy[r]` when given (the old contents are overwritten,
/// so the buffers need no clearing).
///
/// Large products are split across the rayon threads by ranges of weight rows (for `∂W`) and of
/// batch rows (for `dx`), each computed by one thread in a fixed order, so the result does not
/// depend on the number of threads.
///
/// ```
/// let weight = [1.0, 2.0]; // one output, two inputs
/// let (mut weight_gradient, mut bias_gradient, mut dx) = ([9.0; 2], [9.0], [9.0; 4]);
/// nn::__private::kernels::dense_backward_rows(
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
) {
    backward_rows(DISPATCHED, weight, x, dy, weight_gradient, bias_gradient, dx);
}

fn backward_rows(
    kernels: Kernels,
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
    if let Some(dx) = &dx {
        check_rows(dx, rows, inputs, "input gradients");
    }
    bias_gradient.fill(0.0);
    for row in dy.chunks_exact(outputs) {
        for (gradient, delta) in bias_gradient.iter_mut().zip(row) {
            *gradient += delta;
        }
    }
    if inputs == 0 {
        return;
    }
    let parallel = split_across_threads(rows * inputs * outputs);
    if parallel {
        let tasks = weight_gradient.par_chunks_mut(TASK_ROWS * inputs).enumerate();
        tasks.for_each(|(index, rows)| (kernels.weight_gradient)(x, dy, inputs, outputs, index * TASK_ROWS, rows));
    } else {
        (kernels.weight_gradient)(x, dy, inputs, outputs, 0, weight_gradient);
    }
    if let Some(dx) = dx {
        input_gradient_rows(kernels, weight, dy, inputs, outputs, dx, parallel);
    }
}

/// The input gradients of a dense layer of `outputs` over a batch, `dx[r] = Wᵀ dy[r]`, and
/// nothing else (split across threads as [`dense_backward_rows`] splits them).
///
/// ```
/// let mut dx = [0.0; 4];
/// nn::__private::kernels::dense_input_gradient_rows(&[1.0, 2.0], &[0.5, 1.0], 1, &mut dx);
/// assert_eq!(dx, [0.5, 1.0, 1.0, 2.0]);
/// ```
///
/// # Panics
/// If the shapes do not agree.
pub fn dense_input_gradient_rows(weight: &[f32], dy: &[f32], outputs: usize, dx: &mut [f32]) {
    assert!(outputs > 0, "a layer has at least one output");
    let inputs = weight.len() / outputs;
    check_shape(weight, outputs, inputs);
    let rows = dy.len() / outputs;
    check_rows(dy, rows, outputs, "output gradients");
    check_rows(dx, rows, inputs, "input gradients");
    if inputs == 0 {
        return;
    }
    let parallel = split_across_threads(rows * inputs * outputs);
    input_gradient_rows(DISPATCHED, weight, dy, inputs, outputs, dx, parallel);
}

fn input_gradient_rows(
    kernels: Kernels,
    weight: &[f32],
    dy: &[f32],
    inputs: usize,
    outputs: usize,
    dx: &mut [f32],
    parallel: bool,
) {
    if parallel {
        let tasks = dx.par_chunks_mut(TASK_ROWS * inputs).enumerate();
        tasks.for_each(|(index, rows)| (kernels.input_gradient)(weight, dy, inputs, outputs, index * TASK_ROWS, rows));
    } else {
        (kernels.input_gradient)(weight, dy, inputs, outputs, 0, dx);
    }
}

/// Rows of `∂W` (or of `dx`) per task when a backward pass is split across threads: three of
/// the four-row register blocks.
const TASK_ROWS: usize = 12;

kernel! {
    /// Rows `first..first + n` of `∂W = Σ_r dy[r] x[r]ᵀ` into `rows` (`n` rows of `inputs`), for
    /// the rows of `x` (`inputs` wide) and `dy` (`outputs` wide).
    pub fn dense_weight_gradient(x: &[f32], dy: &[f32], inputs: usize, outputs: usize, first: usize, rows: &mut [f32])
        => weight_gradient::<FMA, WIDE>
}

/// `rows[o] = Σ_r dy[r][first + o] x[r]`, in tiles of `T` weight rows by `V` vectors of inputs,
/// each summed over the whole batch before it is stored: per batch row, `V` vector loads of `x`,
/// `T` broadcasts of `dy` and `T · V` multiply-adds. With `WIDE`, blocks of 64 inputs in tiles of
/// 6 rows (24 registers); then blocks of 16 inputs; then the last inputs one by one.
#[inline(always)]
fn weight_gradient<const FMA: bool, const WIDE: bool>(
    x: &[f32],
    dy: &[f32],
    inputs: usize,
    outputs: usize,
    first: usize,
    rows: &mut [f32],
) {
    let gradient = Gradient { x, dy, inputs, outputs, first, batch: dy.len() / outputs };
    let mut start = 0;
    if WIDE {
        while start + 4 * LANES <= inputs {
            gradient.columns::<FMA, 4, 6>(rows, start);
            start += 4 * LANES;
        }
    }
    while start + LANES <= inputs {
        gradient.columns::<FMA, 1, 6>(rows, start);
        start += LANES;
    }
    for (o, row) in rows.chunks_exact_mut(inputs).enumerate() {
        for (k, value) in row.iter_mut().enumerate().skip(start) {
            *value = (0..gradient.batch)
                .fold(0.0, |sum, r| madd::<FMA>(dy[r * outputs + first + o], x[r * inputs + k], sum));
        }
    }
}

/// The operands of [`weight_gradient`]: `batch` rows of `x` and `dy`, and the first weight row.
struct Gradient<'a> {
    x: &'a [f32],
    dy: &'a [f32],
    inputs: usize,
    outputs: usize,
    first: usize,
    batch: usize,
}

impl Gradient<'_> {
    /// Inputs `start..start + V · LANES` of every row of `rows`, `T` rows at a time.
    #[inline(always)]
    fn columns<const FMA: bool, const V: usize, const T: usize>(&self, rows: &mut [f32], start: usize) {
        let count = rows.len() / self.inputs;
        let mut tiles = rows.chunks_exact_mut(T * self.inputs);
        for (index, tile) in (&mut tiles).enumerate() {
            self.tile::<FMA, V, T>(tile, index * T, start);
        }
        // The last rows in tiles of 4 where they fit (a 1-row tile is load-bound), then 1.
        let done = count / T * T;
        let mut fours = tiles.into_remainder().chunks_exact_mut(4 * self.inputs);
        for (index, tile) in (&mut fours).enumerate() {
            self.tile::<FMA, V, 4>(tile, done + 4 * index, start);
        }
        let done = done + (count - done) / 4 * 4;
        for (index, row) in fours.into_remainder().chunks_exact_mut(self.inputs).enumerate() {
            self.tile::<FMA, V, 1>(row, done + index, start);
        }
    }

    /// The `T x V` vectors of rows `first + row..` and inputs `start..`, in registers over the
    /// whole batch.
    #[inline(always)]
    fn tile<const FMA: bool, const V: usize, const T: usize>(&self, rows: &mut [f32], row: usize, start: usize) {
        let (inputs, outputs, first) = (self.inputs, self.outputs, self.first + row);
        // Checked once here, so the loop needs no bounds checks.
        assert!(start + V * LANES <= inputs && first + T <= outputs, "a tile inside the matrices");
        let mut registers = [[[0.0f32; LANES]; V]; T];
        for (x, dy) in self.x.chunks_exact(inputs).zip(self.dy.chunks_exact(outputs)) {
            let x: &[f32] = &x[start..start + V * LANES];
            let x: [[f32; LANES]; V] =
                std::array::from_fn(|v| x[v * LANES..(v + 1) * LANES].try_into().expect("a full vector"));
            let deltas: [f32; T] = dy[first..first + T].try_into().expect("a full tile");
            for (registers, delta) in registers.iter_mut().zip(deltas) {
                for (register, x) in registers.iter_mut().zip(&x) {
                    for lane in 0..LANES {
                        register[lane] = madd::<FMA>(delta, x[lane], register[lane]);
                    }
                }
            }
        }
        // Indexed by the tile's constant shape: a loop bounded by the rows given would index the
        // accumulators dynamically and keep them in memory.
        for (t, registers) in registers.iter().enumerate() {
            for (v, register) in registers.iter().enumerate() {
                let at = t * inputs + start + v * LANES;
                rows[at..at + LANES].copy_from_slice(register);
            }
        }
    }
}

kernel! {
    /// Rows `first..first + n` of `dx[r] = Σ_o dy[r][o] W[o]` into `rows` (`n` rows of
    /// `inputs`), for `weight` (`outputs` rows of `inputs`) and `dy` (rows of `outputs`).
    pub fn dense_input_gradient(weight: &[f32], dy: &[f32], inputs: usize, outputs: usize, first: usize, rows: &mut [f32])
        => input_gradient
}

#[inline(always)]
fn input_gradient<const FMA: bool>(
    weight: &[f32],
    dy: &[f32],
    inputs: usize,
    outputs: usize,
    first: usize,
    rows: &mut [f32],
) {
    outer_product_sum::<FMA>(rows, inputs, weight, outputs, |o, r| dy[(first + r) * outputs + o]);
}

/// `C[m] = Σ_j scale(j, m) · B[j]` for the rows `m` of `C` and `j` of `B`, both `columns` wide. Blocks of four rows by [`OUTER_COLUMNS`] columns stay in
/// registers while all `j` stream by, and are written once at the end.
#[inline(always)]
fn outer_product_sum<const FMA: bool>(
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
            simd::outer_block::<FMA>(block, sources, |j, m| scale(j, m0 + m));
        }
        for m in full_rows..c_rows {
            let target = &mut c[m * columns + from..m * columns + from + OUTER_COLUMNS];
            target.fill(0.0);
            for j in 0..b_rows {
                simd::axpy::<FMA>(target, scale(j, m), b_row(j, from, from + OUTER_COLUMNS));
            }
        }
    }
    if full_columns < columns {
        for m in 0..c_rows {
            c[m * columns + full_columns..(m + 1) * columns].fill(0.0);
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
                dense_backward_rows(&weight, &x, &dy, &mut weight_gradient, &mut bias_gradient, Some(&mut dx));
                (y, weight_gradient, bias_gradient, dx)
            })
        };
        let one = run(1);
        for threads in [2, 3, 5] {
            assert!(run(threads) == one, "{threads} threads differ from one");
        }
    }

    /// The dispatched kernels and the portable versions, with and without `mul_add` and wide tiles.
    fn all_kernels() -> [Kernels; 4] {
        [DISPATCHED, portable::<false, false>(), portable::<true, false>(), portable::<true, true>()]
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
            for kernels in all_kernels() {
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
            for kernels in all_kernels() {
                let (mut weight_gradient, mut bias_gradient) = (weight_gradient.clone(), bias_gradient.clone());
                let mut dx = vec![9.0; rows * inputs];
                on_threads(3, || {
                    backward_rows(kernels, &weight, &x, &dy, &mut weight_gradient, &mut bias_gradient, Some(&mut dx))
                });
                assert_all_close(&weight_gradient, &expected_weight);
                assert_all_close(&bias_gradient, &expected_bias);
                assert_all_close(&dx, &expected_dx);
            }
        }
    }

    #[test]
    #[should_panic(expected = "inputs: 5 values are not 2 rows of 3")]
    fn forward_rows_rejects_ragged_input() {
        dense_forward_rows(&[0.0; 6], &[0.0; 2], &[0.0; 5], &mut [0.0; 4], &mut PanelScratch::default());
    }
}
