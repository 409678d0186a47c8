//! Two-dimensional convolution.

use super::linear::{parameter, parameter_mut, split_optional};
use super::max_pool2d::MaxPool2d;
use crate::buffers::grown;
use crate::heap::AlignedBuffer;
use crate::init::Init;
use crate::kernels;
use crate::layer::{check_gradients_len, Context, FusedReLU, FusedReLUMaxPool, Layer, Tensor, TensorMut, Update};
use rand::Rng;
use rayon::prelude::*;

/// A 2-D convolution, PyTorch's `nn.Conv2d` (a cross-correlation): `OC` filters of `C x KH x KW`
/// slide over a `[C, H, W]` input with stride `SH x SW` and zero padding `PH x PW`, giving an
/// `[OC, OH, OW]` output with `OH = (H + 2·PH - KH) / SH + 1` (and `OW` likewise). Inputs and
/// outputs are flat and channel-major, as PyTorch lays them out.
///
/// The weight is PyTorch's, `[OC, C, KH, KW]`, and the bias `[OC]`. Training and batches run
/// the convolution as a matrix product: the input values under each kernel tap at every
/// output position (im2col, one row per tap) times the weight give the output channel-major,
/// and the backward pass is two more products and the scatter back (col2im). Single-sample
/// inference computes it tap by tap, without scratch. `network!` writes every size; by hand,
/// the const parameters must
/// agree (`OH` and `OW` as above), which the passes assert.
///
/// ```
/// use nn::layers::{Conv2d, Layer};
///
/// // One 2 x 2 filter of ones over a 1 x 3 x 3 input, stride 1, no padding: 2 x 2 sums.
/// let mut conv = Conv2d::<1, 1, 2, 2, 1, 1, 0, 0, 3, 3, 2, 2>::zeroed();
/// conv.weight.fill(1.0);
/// let mut y = [0.0; 4];
/// conv.infer(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0], &mut y);
/// assert_eq!(y, [12.0, 16.0, 24.0, 28.0]);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Conv2d<
    const C: usize,
    const OC: usize,
    const KH: usize,
    const KW: usize,
    const SH: usize,
    const SW: usize,
    const PH: usize,
    const PW: usize,
    const H: usize,
    const W: usize,
    const OH: usize,
    const OW: usize,
> {
    /// The filters, `[OC, C, KH, KW]` row-major (PyTorch's `weight`), starting on a cache line.
    pub weight: AlignedBuffer,
    /// One bias per output channel (PyTorch's `bias`).
    pub bias: AlignedBuffer,
}

/// The sizes of a convolution or a pooling window, as values, so the loops over them are
/// compiled once rather than once per layer shape.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Geometry {
    pub channels: usize,
    pub height: usize,
    pub width: usize,
    pub kernel: (usize, usize),
    pub stride: (usize, usize),
    pub padding: (usize, usize),
    pub output: (usize, usize),
}

impl Geometry {
    /// Asserts that the output size follows from the others, and that `inputs` and `outputs`
    /// (the flat sizes a layer is used with) are those of the shapes, for `output_channels`.
    pub fn check(&self, inputs: usize, outputs: usize, output_channels: usize) {
        let out = |size: usize, kernel: usize, stride: usize, padding: usize| {
            assert!(stride > 0 && size + 2 * padding >= kernel, "a window of {kernel} over {size} (+{padding} x 2)");
            (size + 2 * padding - kernel) / stride + 1
        };
        let expected = (
            out(self.height, self.kernel.0, self.stride.0, self.padding.0),
            out(self.width, self.kernel.1, self.stride.1, self.padding.1),
        );
        assert_eq!(self.output, expected, "the output size of {self:?}");
        assert_eq!(inputs, self.channels * self.height * self.width, "inputs of {self:?}");
        assert_eq!(outputs, output_channels * self.output.0 * self.output.1, "outputs of {self:?}");
    }

    /// The input row and column under kernel offset `(kh, kw)` at output position `(oh, ow)`,
    /// or `None` in the padding.
    #[inline(always)]
    pub fn source(&self, oh: usize, ow: usize, kh: usize, kw: usize) -> Option<(usize, usize)> {
        let row = (oh * self.stride.0 + kh).checked_sub(self.padding.0)?;
        let column = (ow * self.stride.1 + kw).checked_sub(self.padding.1)?;
        (row < self.height && column < self.width).then_some((row, column))
    }

    /// The range of output columns `ow` whose input column `ow·SW + kw - PW` is inside the
    /// input, for a stride of 1: the others read the padding.
    #[inline(always)]
    fn inside(&self, kw: usize) -> std::ops::Range<usize> {
        let start = self.padding.1.saturating_sub(kw).min(self.output.1);
        let end = (self.width + self.padding.1).saturating_sub(kw).min(self.output.1).max(start);
        start..end
    }

    /// Writes the input values under every kernel tap of `x` (`[C, H, W]`) as the rows of
    /// `columns`: one row per tap (channel, kernel row, kernel column), one value per output
    /// position, zero in the padding (im2col, in the layout whose product with the weight is
    /// the output, channel-major). Inlined into each layer, whose sizes are constants, so the
    /// row copies compile to fixed-size moves rather than calls of `memmove`.
    #[inline(always)]
    pub fn im2col(&self, x: &[f32], columns: &mut [f32]) {
        let (out_h, out_w) = self.output;
        let mut rows = columns.chunks_exact_mut(out_h * out_w);
        for plane in x.chunks_exact(self.height * self.width).take(self.channels) {
            for kh in 0..self.kernel.0 {
                for kw in 0..self.kernel.1 {
                    let row = rows.next().expect("one row per kernel tap");
                    for (oh, out) in row.chunks_exact_mut(out_w).enumerate() {
                        let Some(input_row) =
                            (oh * self.stride.0 + kh).checked_sub(self.padding.0).filter(|&r| r < self.height)
                        else {
                            out.fill(0.0);
                            continue;
                        };
                        let source = &plane[input_row * self.width..(input_row + 1) * self.width];
                        if self.stride.1 == 1 {
                            let inside = self.inside(kw);
                            let shift = kw as isize - self.padding.1 as isize;
                            out[..inside.start].fill(0.0);
                            out[inside.end..].fill(0.0);
                            let from = (inside.start as isize + shift) as usize;
                            out[inside.clone()].copy_from_slice(&source[from..from + inside.len()]);
                        } else {
                            for (ow, value) in out.iter_mut().enumerate() {
                                let column = (ow * self.stride.1 + kw).checked_sub(self.padding.1);
                                *value = column.and_then(|column| source.get(column)).copied().unwrap_or(0.0);
                            }
                        }
                    }
                }
            }
        }
    }

    /// The transpose of [`im2col`](Self::im2col), written directly: one row per output
    /// position holding the input values under every kernel tap (channel, kernel row, kernel
    /// column), zero in the padding. The weight gradient of a large image is a product with these
    /// rows; building them costs a fraction of building the columns and transposing them. A
    /// kernel row's taps are one run of the input row, copied at once unless it reaches into the
    /// padding.
    #[inline(always)]
    pub fn im2row(&self, x: &[f32], rows: &mut [f32]) {
        let (kernel_h, kernel_w) = self.kernel;
        let patch = self.channels * kernel_h * kernel_w;
        let mut rows = rows.chunks_exact_mut(patch);
        for oh in 0..self.output.0 {
            for ow in 0..self.output.1 {
                let row = rows.next().expect("one row per output position");
                let first_column = (ow * self.stride.1).checked_sub(self.padding.1);
                let whole = first_column.filter(|&column| column + kernel_w <= self.width);
                for (c, plane) in x.chunks_exact(self.height * self.width).take(self.channels).enumerate() {
                    for kh in 0..kernel_h {
                        let taps = &mut row[(c * kernel_h + kh) * kernel_w..][..kernel_w];
                        let Some(input_row) =
                            (oh * self.stride.0 + kh).checked_sub(self.padding.0).filter(|&r| r < self.height)
                        else {
                            taps.fill(0.0);
                            continue;
                        };
                        let source = &plane[input_row * self.width..(input_row + 1) * self.width];
                        match whole {
                            Some(column) => taps.copy_from_slice(&source[column..column + kernel_w]),
                            None => {
                                for (kw, tap) in taps.iter_mut().enumerate() {
                                    let column = (ow * self.stride.1 + kw).checked_sub(self.padding.1);
                                    *tap = column.and_then(|column| source.get(column)).copied().unwrap_or(0.0);
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /// The inverse scatter of [`im2col`](Self::im2col): adds each tap's gradient to the input
    /// value it was read from; `dx` is overwritten.
    #[inline(always)]
    pub fn col2im(&self, columns: &[f32], dx: &mut [f32]) {
        dx.fill(0.0);
        let (out_h, out_w) = self.output;
        let mut rows = columns.chunks_exact(out_h * out_w);
        for plane in dx.chunks_exact_mut(self.height * self.width).take(self.channels) {
            for kh in 0..self.kernel.0 {
                for kw in 0..self.kernel.1 {
                    let row = rows.next().expect("one row per kernel tap");
                    for (oh, gradients) in row.chunks_exact(out_w).enumerate() {
                        let Some(input_row) =
                            (oh * self.stride.0 + kh).checked_sub(self.padding.0).filter(|&r| r < self.height)
                        else {
                            continue;
                        };
                        let target = &mut plane[input_row * self.width..(input_row + 1) * self.width];
                        if self.stride.1 == 1 {
                            let inside = self.inside(kw);
                            let from = (inside.start as isize + kw as isize - self.padding.1 as isize) as usize;
                            for (target, gradient) in
                                target[from..from + inside.len()].iter_mut().zip(&gradients[inside])
                            {
                                *target += gradient;
                            }
                        } else {
                            for (ow, gradient) in gradients.iter().enumerate() {
                                if let Some(target) = (ow * self.stride.1 + kw)
                                    .checked_sub(self.padding.1)
                                    .and_then(|column| target.get_mut(column))
                                {
                                    *target += gradient;
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// One task's working memory: a sample's im2col columns and their gradients.
#[derive(Clone, Debug, Default)]
pub struct Columns {
    columns: Vec<f32>,
    column_gradients: Vec<f32>,
    /// The columns transposed, one row per position, for the weight gradient.
    positions: Vec<f32>,
    /// A sample's output gradient routed back through a fused pooling.
    output_gradient: Vec<f32>,
    /// A sample's output before a fused pooling.
    output: Vec<f32>,
    /// A sample's output gradient masked by a fused ReLU (the pooled one, with a pooling).
    masked_gradient: Vec<f32>,
}

/// The working memory of a convolution's passes: the columns of each task of a batch, each
/// task's partial parameter gradients, and the weight transposed. It grows on first use and
/// is reused.
///
/// ```
/// use nn::layers::{Context, Conv2d, ConvScratch, Layer, Mode};
///
/// // A 2x2 kernel over a 1x3x3 image: a 1x2x2 output.
/// let mut conv = Conv2d::<1, 1, 2, 2, 1, 1, 0, 0, 3, 3, 2, 2>::zeroed();
/// conv.weight.fill(1.0);
/// let mut scratch = ConvScratch::default(); // grows on the first batch, reused after
/// let mut y = [[0.0; 4]];
/// conv.forward_rows(&mut Context::new(Mode::Eval, 0), &mut scratch, &[[1.0; 9]], &mut y);
/// assert_eq!(y, [[4.0; 4]]);
/// ```
#[derive(Clone, Debug, Default)]
pub struct ConvScratch {
    tasks: Vec<Columns>,
    partials: Vec<f32>,
    transposed_weight: Vec<f32>,
    /// Where each pooled output's maximum came from, when a max pooling is fused in.
    argmax: Vec<u32>,
}

impl ConvScratch {
    /// The first `count` tasks' memory, created on first use.
    fn tasks(&mut self, count: usize) -> &mut [Columns] {
        if self.tasks.len() < count {
            self.tasks.resize_with(count, Columns::default);
        }
        &mut self.tasks[..count]
    }
}

/// One task's rows of a backward pass: inputs, outputs and output gradients, and where a
/// fused pooling's maxima came from.
struct TaskRows<'a, const I: usize, const O: usize> {
    x: &'a [[f32; I]],
    y: &'a [[f32; O]],
    dy: &'a [[f32; O]],
    argmax: &'a [u32],
}

/// What a convolution's batch pass applies to each sample's output after the product.
#[derive(Clone, Copy)]
enum Then {
    Nothing,
    /// A `ReLU` ([`FusedReLU`]).
    ReLU,
    /// A `ReLU`, then a max pooling whose windows do not overlap ([`FusedReLUMaxPool`]), its
    /// passes over one sample, and its outputs per sample.
    ReLUMaxPool {
        pool: fn(&[f32], &mut [f32], &mut [u32]),
        route: fn(&[u32], &[f32], &mut [f32]),
        outputs: usize,
    },
}

impl Then {
    /// The values of a sample's final output, given the convolution's.
    fn outputs(self, convolution_outputs: usize) -> usize {
        match self {
            Then::ReLUMaxPool { outputs, .. } => outputs,
            Then::Nothing | Then::ReLU => convolution_outputs,
        }
    }

    /// The length of a sample's argmax (1 without pooling, so that its chunks are never empty).
    fn argmax_len(self) -> usize {
        match self {
            Then::ReLUMaxPool { outputs, .. } => outputs,
            Then::Nothing | Then::ReLU => 1,
        }
    }

    /// The gradient of the convolution's output from the final output `y` and its gradient
    /// `dy`: `dy` itself, masked where the ReLU gave 0, or also routed back through the
    /// pooling's maxima (a pooled output is > 0 exactly where the maximum it took was), in
    /// `masked` and `output_gradient`, which grow to the sizes.
    fn output_gradient<'s>(
        self,
        y: &[f32],
        dy: &'s [f32],
        argmax: &[u32],
        masked: &'s mut Vec<f32>,
        output_gradient: &'s mut Vec<f32>,
        outputs: usize,
    ) -> &'s [f32] {
        match self {
            Then::Nothing => dy,
            Then::ReLU => {
                let masked = grown(masked, dy.len());
                kernels::rectify_backward(y, dy, 0.0, masked);
                masked
            }
            Then::ReLUMaxPool { route, .. } => {
                let masked = grown(masked, dy.len());
                kernels::rectify_backward(y, dy, 0.0, masked);
                let output_gradient = grown(output_gradient, outputs);
                route(argmax, masked, output_gradient);
                output_gradient
            }
        }
    }
}

/// Samples per task of a batch pass. The tasks, and the order their partial gradients are
/// added in, do not depend on the number of threads, so neither do the results.
const TASK_SAMPLES: usize = 8;

/// Patch values (kernel taps over all channels) from which the weight gradient is a `gemm`
/// with the rows of [`Geometry::im2row`]: a product `n` (the patch) of at least a vector wide.
const ROWS_MIN_PATCH: usize = 16;

/// Multiply-adds of a batch pass above which its tasks are spread over the rayon threads.
const PARALLEL_WORK: usize = 1 << 21;

impl<
        const C: usize,
        const OC: usize,
        const KH: usize,
        const KW: usize,
        const SH: usize,
        const SW: usize,
        const PH: usize,
        const PW: usize,
        const H: usize,
        const W: usize,
        const OH: usize,
        const OW: usize,
    > Conv2d<C, OC, KH, KW, SH, SW, PH, PW, H, W, OH, OW>
{
    const GEOMETRY: Geometry = Geometry {
        channels: C,
        height: H,
        width: W,
        kernel: (KH, KW),
        stride: (SH, SW),
        padding: (PH, PW),
        output: (OH, OW),
    };
    const PATCH: usize = C * KH * KW;
    const POSITIONS: usize = OH * OW;
    /// Whether the weight gradient is `dy` times the rows of [`Geometry::im2row`] (a product
    /// whose `k` is the positions, for the register-blocked gemm, its sums in registers over
    /// all of them) rather than dot products of `dy`'s planes with the columns, each summed
    /// across its vector at the end: the dot products stay only for patches narrower than a
    /// vector (a 3x3 kernel over one channel), where the gemm's tiles would be mostly empty.
    const WEIGHT_GRADIENT_BY_ROWS: bool = Self::PATCH >= ROWS_MIN_PATCH;

    /// A layer with weights drawn from `init` (fan-in `C·KH·KW`, fan-out `OC·KH·KW`) and zero
    /// biases.
    ///
    /// ```
    /// use nn::init::Init;
    /// use nn::layers::Conv2d;
    /// use nn::rand::SeedableRng;
    ///
    /// let conv = Conv2d::<1, 6, 5, 5, 1, 1, 0, 0, 28, 28, 24, 24>::new(Init::He, &mut nn::Pcg64Mcg::seed_from_u64(1));
    /// let bound = Init::He.bound(25, 150);
    /// assert!(conv.weight.iter().all(|w| w.abs() <= bound) && conv.bias.iter().all(|&b| b == 0.0));
    /// ```
    pub fn new<R: Rng + ?Sized>(init: Init, rng: &mut R) -> Self {
        let mut layer = Self::zeroed();
        init.fill(&mut layer.weight, Self::PATCH, OC * KH * KW, rng);
        layer
    }

    /// A layer whose parameters are all zero.
    ///
    /// ```
    /// let conv = nn::layers::Conv2d::<1, 6, 5, 5, 1, 1, 0, 0, 28, 28, 24, 24>::zeroed();
    /// assert_eq!(conv.weight.len(), 6 * 25);
    /// ```
    pub fn zeroed() -> Self {
        Self { weight: AlignedBuffer::zeroed(OC * Self::PATCH), bias: AlignedBuffer::zeroed(OC) }
    }

    /// One sample's output from its columns: `y = W · columns + b`, channel-major.
    fn forward_columns(&self, columns: &[f32], y: &mut [f32]) {
        // Each plane starts as its bias and the product is added: `gemm` adds each complete sum
        // once, so this is `Σ + b` exactly, in one pass over `y` fewer than adding the bias after.
        for (plane, bias) in y.chunks_exact_mut(Self::POSITIONS).zip(self.bias.iter()) {
            plane.fill(*bias);
        }
        kernels::gemm(&self.weight, columns, y, OC, Self::PATCH, Self::POSITIONS, true);
    }

    /// One sample's forward pass through a task's memory, rectified with `relu` while the
    /// output is in cache.
    fn forward_sample(&self, task: &mut Columns, x: &[f32], y: &mut [f32], relu: bool) {
        let columns = grown(&mut task.columns, Self::PATCH * Self::POSITIONS);
        Self::GEOMETRY.im2col(x, columns);
        self.forward_columns(columns, y);
        if relu {
            kernels::rectify_in_place(y);
        }
    }

    /// One sample's backward pass from its input `x` (and, for the dot-product weight gradient,
    /// its columns in `task`): adds `∂L/∂W = dy · columnsᵀ` and
    /// `∂L/∂b` (the sums of `dy`'s planes) to `gradients` (weight, then bias), and with `dx`
    /// scatters `Wᵀ · dy` back to the input (`transposed` is `Wᵀ`).
    fn backward_columns(
        &self,
        task: &mut Columns,
        transposed: &[f32],
        x: &[f32],
        dy: &[f32],
        dx: Option<&mut [f32]>,
        gradients: Option<&mut [f32]>,
    ) {
        if let Some(gradients) = gradients {
            self.add_gradients(task, x, dy, gradients);
        }
        if let Some(dx) = dx {
            let column_gradients = grown(&mut task.column_gradients, Self::PATCH * Self::POSITIONS);
            kernels::gemm(transposed, dy, column_gradients, Self::PATCH, OC, Self::POSITIONS, false);
            Self::GEOMETRY.col2im(column_gradients, dx);
        }
    }

    /// Adds one sample's `∂L/∂W` and `∂L/∂b` to `gradients` (weight, then bias).
    fn add_gradients(&self, task: &mut Columns, x: &[f32], dy: &[f32], gradients: &mut [f32]) {
        let (weight_gradient, bias_gradient) = gradients.split_at_mut(OC * Self::PATCH);
        if Self::WEIGHT_GRADIENT_BY_ROWS {
            let rows = grown(&mut task.positions, Self::PATCH * Self::POSITIONS);
            Self::GEOMETRY.im2row(x, rows);
            kernels::gemm(dy, rows, weight_gradient, OC, Self::POSITIONS, Self::PATCH, true);
        } else {
            let columns = &task.columns[..Self::PATCH * Self::POSITIONS];
            kernels::gemm_transposed(dy, columns, weight_gradient, OC, Self::PATCH, Self::POSITIONS, true);
        }
        for (gradient, plane) in bias_gradient.iter_mut().zip(dy.chunks_exact(Self::POSITIONS)) {
            *gradient += kernels::sum(plane);
        }
    }

    /// `Wᵀ` (`C·KH·KW` rows of `OC`) into the scratch, for the input gradients.
    fn transpose_weight<'s>(&self, scratch: &'s mut ConvScratch) -> &'s [f32] {
        let transposed = grown(&mut scratch.transposed_weight, OC * Self::PATCH);
        for (o, row) in self.weight.chunks_exact(Self::PATCH).enumerate() {
            for (k, value) in row.iter().enumerate() {
                transposed[k * OC + o] = *value;
            }
        }
        transposed
    }

    /// Applies `gradients` (weight, then bias) as an SGD step.
    fn step(&mut self, gradients: &[f32], learning_rate: f32) {
        let (weight_gradient, bias_gradient) = gradients.split_at(OC * Self::PATCH);
        kernels::axpy(&mut self.weight, -learning_rate, weight_gradient);
        kernels::axpy(&mut self.bias, -learning_rate, bias_gradient);
    }

    /// Whether a batch pass over `rows` samples is worth spreading over the threads.
    fn parallel(rows: usize) -> bool {
        rows > TASK_SAMPLES
            && rows * OC * Self::PATCH * Self::POSITIONS >= PARALLEL_WORK
            && rayon::current_num_threads() > 1
    }

    fn check<const I: usize, const O: usize>() {
        Self::GEOMETRY.check(I, O, OC);
    }

    /// The ReLU and a max pooling of the output whose windows do not overlap, as a batch pass
    /// applies them ([`FusedReLUMaxPool`]).
    fn max_pool<
        const KH2: usize,
        const KW2: usize,
        const SH2: usize,
        const SW2: usize,
        const OH2: usize,
        const OW2: usize,
    >() -> Then {
        assert!(SH2 >= KH2 && SW2 >= KW2, "a fused max pooling's windows do not overlap");
        Then::ReLUMaxPool {
            pool: MaxPool2d::<OC, KH2, KW2, SH2, SW2, OH, OW, OH2, OW2>::pool,
            route: MaxPool2d::<OC, KH2, KW2, SH2, SW2, OH, OW, OH2, OW2>::route,
            outputs: OC * OH2 * OW2,
        }
    }

    /// One sample's backward pass from the output `y` of its forward pass followed by `then`
    /// and that output's gradient `dy`, turned into the convolution's output gradient in the
    /// task's memory first (see [`Then::output_gradient`]).
    #[allow(clippy::too_many_arguments)]
    fn backward_one_then<const I: usize>(
        &mut self,
        cache: &mut ConvScratch,
        x: &[f32; I],
        y: &[f32],
        dy: &[f32],
        dx: Option<&mut [f32; I]>,
        gradients: &mut [f32],
        update: Update,
        then: Then,
    ) {
        let task = &mut cache.tasks(1)[0];
        let (mut output_gradient, mut masked) =
            (std::mem::take(&mut task.output_gradient), std::mem::take(&mut task.masked_gradient));
        let argmax = match then {
            Then::ReLUMaxPool { outputs, .. } => &cache.argmax[..outputs],
            Then::Nothing | Then::ReLU => &[],
        };
        let routed = then.output_gradient(y, dy, argmax, &mut masked, &mut output_gradient, OC * Self::POSITIONS);
        self.backward_one(cache, x, routed, dx, gradients, update);
        (cache.tasks[0].output_gradient, cache.tasks[0].masked_gradient) = (output_gradient, masked);
    }

    /// One sample's backward pass (see [`Layer::backward`]).
    fn backward_one<const I: usize>(
        &mut self,
        cache: &mut ConvScratch,
        x: &[f32; I],
        dy: &[f32],
        dx: Option<&mut [f32; I]>,
        gradients: &mut [f32],
        update: Update,
    ) {
        check_gradients_len(gradients, OC * Self::PATCH + OC);
        if let Update::Sgd { .. } = update {
            gradients.fill(0.0);
        }
        if dx.is_some() {
            self.transpose_weight(cache);
        }
        let ConvScratch { tasks, transposed_weight, .. } = cache;
        let sums = (update != Update::Propagate).then_some(&mut *gradients);
        self.backward_columns(&mut tasks[0], transposed_weight, x, dy, dx.map(|dx| &mut dx[..]), sums);
        if let Update::Sgd { learning_rate } = update {
            self.step(gradients, learning_rate);
        }
    }

    /// [`Layer::forward_rows`], each sample's output followed by `then` while it is in cache:
    /// `y` is the convolution's output, or with [`Then::ReLUMaxPool`] the pooled one.
    fn forward_batch<const I: usize, const Y: usize>(
        &self,
        cache: &mut ConvScratch,
        x: &[[f32; I]],
        y: &mut [[f32; Y]],
        then: Then,
    ) {
        Self::GEOMETRY.check(I, OC * Self::POSITIONS, OC);
        assert_eq!(x.len(), y.len(), "one output row per input row");
        assert_eq!(Y, then.outputs(OC * Self::POSITIONS), "an output row of the pooled size");
        let run = |task: &mut Columns, x: &[[f32; I]], y: &mut [[f32; Y]], argmax: &mut [u32]| {
            let mut output = std::mem::take(&mut task.output);
            for ((x, y), argmax) in x.iter().zip(y).zip(argmax.chunks_mut(then.argmax_len())) {
                match then {
                    Then::Nothing => self.forward_sample(task, x, y, false),
                    Then::ReLU => self.forward_sample(task, x, y, true),
                    Then::ReLUMaxPool { pool, .. } => {
                        let output = grown(&mut output, OC * Self::POSITIONS);
                        self.forward_sample(task, x, output, true);
                        pool(output, y, argmax);
                    }
                }
            }
            task.output = output;
        };
        let parallel = Self::parallel(x.len());
        cache.tasks(if parallel { x.len().div_ceil(TASK_SAMPLES) } else { 1 });
        let ConvScratch { tasks, argmax, .. } = cache;
        let argmax = grown(argmax, x.len() * then.argmax_len());
        if parallel {
            let (rows, argmax_rows) = (TASK_SAMPLES, TASK_SAMPLES * then.argmax_len());
            let work = tasks.par_iter_mut().zip(x.par_chunks(rows).zip(y.par_chunks_mut(rows)));
            work.zip(argmax.par_chunks_mut(argmax_rows)).for_each(|((task, (x, y)), argmax)| run(task, x, y, argmax));
        } else {
            run(&mut tasks[0], x, y, argmax);
        }
    }

    /// [`Layer::backward_rows`] from the output `y` of [`forward_batch`](Self::forward_batch)
    /// with the same `then` and its gradient `dy`, which each sample turns into the
    /// convolution's output gradient in its task's memory first.
    #[allow(clippy::too_many_arguments)]
    fn backward_batch<const I: usize, const Y: usize>(
        &mut self,
        cache: &mut ConvScratch,
        x: &[[f32; I]],
        y: &[[f32; Y]],
        dy: &[[f32; Y]],
        dx: Option<&mut [[f32; I]]>,
        gradients: &mut [f32],
        update: Update,
        then: Then,
    ) {
        assert!(x.len() == dy.len() && y.len() == dy.len(), "one output and output gradient row per input row");
        assert_eq!(Y, then.outputs(OC * Self::POSITIONS), "an output row of the pooled size");
        check_gradients_len(gradients, OC * Self::PATCH + OC);
        let propagate_only = update == Update::Propagate;
        if propagate_only && dx.is_none() {
            return;
        }
        let (count, size) = (x.len().div_ceil(TASK_SAMPLES), OC * Self::PATCH + OC);
        if dx.is_some() {
            self.transpose_weight(cache);
        }
        cache.tasks(count);
        let ConvScratch { tasks, partials, transposed_weight, argmax } = cache;
        let partials = grown(partials, count * size);
        let argmax = &argmax[..x.len() * then.argmax_len()];
        let (tasks, transposed) = (&mut tasks[..count], &transposed_weight[..]);
        let run = |task: &mut Columns,
                   partial: &mut [f32],
                   TaskRows { x, y, dy, argmax }: TaskRows<I, Y>,
                   mut dx: Option<&mut [[f32; I]]>| {
            partial.fill(0.0);
            let (mut output_gradient, mut masked) =
                (std::mem::take(&mut task.output_gradient), std::mem::take(&mut task.masked_gradient));
            let rows = x.iter().zip(y).zip(dy).zip(argmax.chunks(then.argmax_len()));
            for (row, (((x, y), dy), argmax)) in rows.enumerate() {
                if !Self::WEIGHT_GRADIENT_BY_ROWS && !propagate_only {
                    Self::GEOMETRY.im2col(x, grown(&mut task.columns, Self::PATCH * Self::POSITIONS));
                }
                let dy = then.output_gradient(y, dy, argmax, &mut masked, &mut output_gradient, OC * Self::POSITIONS);
                let dx = dx.as_deref_mut().map(|dx| &mut dx[row][..]);
                let partial = (!propagate_only).then_some(&mut *partial);
                self.backward_columns(task, transposed, x, dy, dx, partial);
            }
            (task.output_gradient, task.masked_gradient) = (output_gradient, masked);
        };
        let argmax_rows = TASK_SAMPLES * then.argmax_len();
        let rows = |(((x, y), dy), argmax)| TaskRows { x, y, dy, argmax };
        let work = tasks.par_iter_mut().zip(partials.par_chunks_mut(size)).zip(
            x.par_chunks(TASK_SAMPLES)
                .zip(y.par_chunks(TASK_SAMPLES))
                .zip(dy.par_chunks(TASK_SAMPLES))
                .zip(argmax.par_chunks(argmax_rows)),
        );
        match (dx, Self::parallel(x.len())) {
            (Some(dx), true) => work
                .zip(dx.par_chunks_mut(TASK_SAMPLES))
                .for_each(|(((task, partial), chunk), dx)| run(task, partial, rows(chunk), Some(dx))),
            (None, true) => work.for_each(|((task, partial), chunk)| run(task, partial, rows(chunk), None)),
            (mut dx, false) => {
                let chunks = tasks.iter_mut().zip(partials.chunks_exact_mut(size)).zip(
                    x.chunks(TASK_SAMPLES)
                        .zip(y.chunks(TASK_SAMPLES))
                        .zip(dy.chunks(TASK_SAMPLES))
                        .zip(argmax.chunks(argmax_rows)),
                );
                for (index, ((task, partial), chunk)) in chunks.enumerate() {
                    let chunk = rows(chunk);
                    let dx =
                        dx.as_deref_mut().map(|dx| &mut dx[index * TASK_SAMPLES..index * TASK_SAMPLES + chunk.x.len()]);
                    run(task, partial, chunk, dx);
                }
            }
        }
        if propagate_only {
            return;
        }
        gradients.fill(0.0);
        for partial in partials.chunks_exact(size) {
            kernels::axpy(gradients, 1.0, partial);
        }
        if let Update::Sgd { learning_rate } = update {
            self.step(gradients, learning_rate);
        }
    }
}

impl<
        const C: usize,
        const OC: usize,
        const KH: usize,
        const KW: usize,
        const SH: usize,
        const SW: usize,
        const PH: usize,
        const PW: usize,
        const H: usize,
        const W: usize,
        const OH: usize,
        const OW: usize,
        const I: usize,
        const O: usize,
    > Layer<I, O> for Conv2d<C, OC, KH, KW, SH, SW, PH, PW, H, W, OH, OW>
{
    const PARAMETERS: usize = OC * C * KH * KW + OC;
    const MULTIPLY_ADDS: usize = OC * C * KH * KW * OH * OW;
    type Cache = ConvScratch;
    type BatchCache = ConvScratch;

    fn cache(&self) -> ConvScratch {
        ConvScratch::default()
    }

    fn batch_cache(&self) -> ConvScratch {
        ConvScratch::default()
    }

    /// The convolution computed directly, tap by tap: nothing allocated.
    fn infer(&self, x: &[f32; I], y: &mut [f32; O]) {
        Self::check::<I, O>();
        let geometry = Self::GEOMETRY;
        for (oc, (plane, bias)) in y.chunks_exact_mut(Self::POSITIONS).zip(self.bias.iter()).enumerate() {
            plane.fill(*bias);
            let filter = &self.weight[oc * Self::PATCH..(oc + 1) * Self::PATCH];
            for c in 0..C {
                let input = &x[c * H * W..(c + 1) * H * W];
                for kh in 0..KH {
                    for kw in 0..KW {
                        let tap = filter[(c * KH + kh) * KW + kw];
                        for oh in 0..OH {
                            for ow in 0..OW {
                                if let Some((r, col)) = geometry.source(oh, ow, kh, kw) {
                                    plane[oh * OW + ow] += tap * input[r * W + col];
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /// Keeps the sample's im2col columns in the cache for the backward pass.
    fn forward(&self, _context: &mut Context, cache: &mut ConvScratch, x: &[f32; I], y: &mut [f32; O]) {
        Self::check::<I, O>();
        self.forward_sample(&mut cache.tasks(1)[0], x, y, false);
    }

    /// With [`Update::Accumulate`] adds `∂L/∂W` and `∂L/∂b` to `gradients` (weight, then bias);
    /// with [`Update::Sgd`] applies them (after `dx` is computed with the old weights), using
    /// `gradients` as scratch; with [`Update::Propagate`] only computes `dx`.
    fn backward(
        &mut self,
        _context: &mut Context,
        cache: &mut ConvScratch,
        x: &[f32; I],
        _y: &[f32; O],
        dy: &[f32; O],
        dx: Option<&mut [f32; I]>,
        gradients: &mut [f32],
        update: Update,
    ) {
        self.backward_one(cache, x, dy, dx, gradients, update);
    }

    /// The rows in tasks of 8 samples, spread over the threads when the batch is large.
    fn forward_rows(&self, _context: &mut Context, cache: &mut ConvScratch, x: &[[f32; I]], y: &mut [[f32; O]]) {
        self.forward_batch(cache, x, y, Then::Nothing);
    }

    /// Writes the parameter gradients summed over the rows into `gradients` with
    /// [`Update::Accumulate`], applies them with [`Update::Sgd`], or only computes `dx` with
    /// [`Update::Propagate`]. Each task of
    /// 8 rows sums its own, and the tasks' sums are added in order: the result
    /// is the same on any number of threads.
    fn backward_rows(
        &mut self,
        _context: &mut Context,
        cache: &mut ConvScratch,
        x: &[[f32; I]],
        y: &[[f32; O]],
        dy: &[[f32; O]],
        dx: Option<&mut [[f32; I]]>,
        gradients: &mut [f32],
        update: Update,
    ) {
        self.backward_batch(cache, x, y, dy, dx, gradients, update, Then::Nothing);
    }

    /// `positions · Σ_r max|dy[r]| · max(max|x[r]|, 1)`: each weight gradient is a sum over the
    /// rows and the output positions of one product `dy · x` (a padded `x` adds zeros), each
    /// bias gradient of one `dy`.
    fn gradient_bound(&self, x: &[[f32; I]], dy: &[[f32; O]]) -> f64 {
        super::linear::sum_of_products_bound(Self::POSITIONS, x, dy)
    }

    /// `weight` (`[OC, C, KH, KW]`) and `bias` (`[OC]`), as PyTorch's `nn.Conv2d` holds them.
    fn visit_tensors(&self, layer: usize, gradients: Option<&[f32]>, visitor: &mut dyn FnMut(Tensor<'_>)) {
        let (weight_gradient, bias_gradient) = split_optional(gradients, OC * Self::PATCH, OC);
        visitor(parameter(layer, "weight", &[OC, C, KH, KW], &self.weight, weight_gradient));
        visitor(parameter(layer, "bias", &[OC], &self.bias, bias_gradient));
    }

    fn visit_tensors_mut(&mut self, layer: usize, visitor: &mut dyn FnMut(TensorMut<'_>)) {
        visitor(parameter_mut(layer, "weight", &[OC, C, KH, KW], &mut self.weight));
        visitor(parameter_mut(layer, "bias", &[OC], &mut self.bias));
    }

    fn visit_parameters_mut(&mut self, gradients: &[f32], visitor: &mut dyn FnMut(&mut [f32], &[f32])) {
        check_gradients_len(gradients, OC * Self::PATCH + OC);
        let (weight_gradient, bias_gradient) = gradients.split_at(OC * Self::PATCH);
        visitor(&mut self.weight, weight_gradient);
        visitor(&mut self.bias, bias_gradient);
    }
}

/// The ReLU after a convolution, applied to each sample's output and output gradient while
/// they are in cache.
impl<
        const C: usize,
        const OC: usize,
        const KH: usize,
        const KW: usize,
        const SH: usize,
        const SW: usize,
        const PH: usize,
        const PW: usize,
        const H: usize,
        const W: usize,
        const OH: usize,
        const OW: usize,
        const I: usize,
        const O: usize,
    > FusedReLU<I, O> for Conv2d<C, OC, KH, KW, SH, SW, PH, PW, H, W, OH, OW>
{
    fn forward_relu(&self, _context: &mut Context, cache: &mut ConvScratch, x: &[f32; I], y: &mut [f32; O]) {
        Self::check::<I, O>();
        self.forward_sample(&mut cache.tasks(1)[0], x, y, true);
    }

    fn backward_relu(
        &mut self,
        _context: &mut Context,
        cache: &mut ConvScratch,
        x: &[f32; I],
        y: &[f32; O],
        dy: &[f32; O],
        dx: Option<&mut [f32; I]>,
        gradients: &mut [f32],
        update: Update,
    ) {
        self.backward_one_then(cache, x, y, dy, dx, gradients, update, Then::ReLU);
    }

    fn forward_rows_relu(&self, _context: &mut Context, cache: &mut ConvScratch, x: &[[f32; I]], y: &mut [[f32; O]]) {
        self.forward_batch(cache, x, y, Then::ReLU);
    }

    fn backward_rows_relu(
        &mut self,
        _context: &mut Context,
        cache: &mut ConvScratch,
        x: &[[f32; I]],
        y: &[[f32; O]],
        dy: &[[f32; O]],
        dx: Option<&mut [[f32; I]]>,
        gradients: &mut [f32],
        update: Update,
    ) {
        self.backward_batch(cache, x, y, dy, dx, gradients, update, Then::ReLU);
    }
}

/// The ReLU and the max pooling after a convolution, applied to each sample's output while it
/// is in cache; the pooled gradient routed back and masked the same way.
impl<
        const C: usize,
        const OC: usize,
        const KH: usize,
        const KW: usize,
        const SH: usize,
        const SW: usize,
        const PH: usize,
        const PW: usize,
        const H: usize,
        const W: usize,
        const OH: usize,
        const OW: usize,
        const PKH: usize,
        const PKW: usize,
        const PSH: usize,
        const PSW: usize,
        const POH: usize,
        const POW: usize,
        const I: usize,
        const M: usize,
        const O: usize,
    > FusedReLUMaxPool<MaxPool2d<OC, PKH, PKW, PSH, PSW, OH, OW, POH, POW>, I, M, O>
    for Conv2d<C, OC, KH, KW, SH, SW, PH, PW, H, W, OH, OW>
{
    fn forward_relu_max_pool(&self, _context: &mut Context, cache: &mut ConvScratch, x: &[f32; I], y: &mut [f32; O]) {
        let then = Self::max_pool::<PKH, PKW, PSH, PSW, POH, POW>();
        self.forward_batch(cache, std::slice::from_ref(x), std::slice::from_mut(y), then);
    }

    fn backward_relu_max_pool(
        &mut self,
        _context: &mut Context,
        cache: &mut ConvScratch,
        x: &[f32; I],
        y: &[f32; O],
        dy: &[f32; O],
        dx: Option<&mut [f32; I]>,
        gradients: &mut [f32],
        update: Update,
    ) {
        let then = Self::max_pool::<PKH, PKW, PSH, PSW, POH, POW>();
        self.backward_one_then(cache, x, y, dy, dx, gradients, update, then);
    }

    fn forward_rows_relu_max_pool(
        &self,
        _context: &mut Context,
        cache: &mut ConvScratch,
        x: &[[f32; I]],
        y: &mut [[f32; O]],
    ) {
        self.forward_batch(cache, x, y, Self::max_pool::<PKH, PKW, PSH, PSW, POH, POW>());
    }

    fn backward_rows_relu_max_pool(
        &mut self,
        _context: &mut Context,
        cache: &mut ConvScratch,
        x: &[[f32; I]],
        y: &[[f32; O]],
        dy: &[[f32; O]],
        dx: Option<&mut [[f32; I]]>,
        gradients: &mut [f32],
        update: Update,
    ) {
        let then = Self::max_pool::<PKH, PKW, PSH, PSW, POH, POW>();
        self.backward_batch(cache, x, y, dy, dx, gradients, update, then);
    }

    fn gradient_bound_max_pool(&self, x: &[[f32; I]], dy: &[[f32; O]]) -> f64 {
        super::linear::sum_of_products_bound(Self::POSITIONS, x, dy)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernels::reference::values;

    proptest::proptest! {
        /// Any geometry: the rows are the columns transposed, value for value.
        #[test]
        fn im2row_is_the_transpose_of_im2col_for_any_geometry(
            channels in 1usize..4, height in 1usize..10, width in 1usize..10,
            kernel in (1usize..5, 1usize..5), stride in (1usize..4, 1usize..4), padding in (0usize..3, 0usize..3),
        ) {
            proptest::prop_assume!(height + 2 * padding.0 >= kernel.0 && width + 2 * padding.1 >= kernel.1);
            let out = |size: usize, k: usize, s: usize, p: usize| (size + 2 * p - k) / s + 1;
            let output = (out(height, kernel.0, stride.0, padding.0), out(width, kernel.1, stride.1, padding.1));
            let geometry = Geometry { channels, height, width, kernel, stride, padding, output };
            let (patch, positions) = (channels * kernel.0 * kernel.1, output.0 * output.1);
            let x = values(channels * height * width, 5);
            let (mut columns, mut rows) = (vec![f32::NAN; patch * positions], vec![f32::NAN; patch * positions]);
            geometry.im2col(&x, &mut columns);
            geometry.im2row(&x, &mut rows);
            for tap in 0..patch {
                for position in 0..positions {
                    proptest::prop_assert_eq!(rows[position * patch + tap], columns[tap * positions + position]);
                }
            }
        }

        /// Any batch size on any number of threads: the batch passes of a convolution whose
        /// weight gradient takes each path give every row's output of `infer`, and the sum of
        /// the rows' single-sample gradients.
        #[test]
        fn batch_passes_equal_the_rows_one_by_one(rows in 1usize..40, threads in 1usize..4) {
            check_batch_against_rows::<Wide>(rows, threads);
            check_batch_against_rows::<Narrow>(rows, threads);
        }
    }

    /// 3 channels of 3x3 taps (27 values: the rows path), stride 2, padding 1.
    type Wide = Conv2d<3, 4, 3, 3, 2, 2, 1, 1, 9, 8, 5, 4>;
    /// One channel of 2x3 taps (6 values: the dot-product path).
    type Narrow = Conv2d<1, 3, 2, 3, 1, 1, 0, 0, 7, 9, 6, 7>;

    fn check_batch_against_rows<L: BatchConv>(rows: usize, threads: usize) {
        let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
        pool.install(|| L::check(rows));
    }

    /// The sizes of the two test layers, for the generic check.
    trait BatchConv {
        fn check(rows: usize);
    }

    macro_rules! batch_conv {
        ($layer:ty, $inputs:expr, $outputs:expr) => {
            impl BatchConv for $layer {
                fn check(rows: usize) {
                    use crate::layer::Mode;
                    use rand::SeedableRng;
                    let layer =
                        <$layer>::new(crate::init::Init::He, &mut rand_pcg::Pcg64Mcg::seed_from_u64(rows as u64));
                    let x: Vec<[f32; $inputs]> =
                        (0..rows).map(|r| values($inputs, r as u64).try_into().unwrap()).collect();
                    let dy: Vec<[f32; $outputs]> =
                        (0..rows).map(|r| values($outputs, 100 + r as u64).try_into().unwrap()).collect();
                    let mut context = Context::new(Mode::Train, 0);
                    let (mut cache, mut y) = (ConvScratch::default(), vec![[0.0; $outputs]; rows]);
                    Layer::forward_rows(&layer, &mut context, &mut cache, &x, &mut y);
                    let (mut dx, mut gradients) =
                        (vec![[0.0; $inputs]; rows], vec![0.0; <$layer as Layer<$inputs, $outputs>>::PARAMETERS]);
                    let mut batch = layer.clone();
                    Layer::backward_rows(
                        &mut batch,
                        &mut context,
                        &mut cache,
                        &x,
                        &y,
                        &dy,
                        Some(&mut dx),
                        &mut gradients,
                        Update::Accumulate,
                    );
                    let mut expected_gradients = vec![0.0; gradients.len()];
                    for row in 0..rows {
                        let mut single = [0.0; $outputs];
                        Layer::infer(&layer, &x[row], &mut single);
                        crate::kernels::reference::assert_all_close(&y[row], &single, 1e-5);
                        let (mut sample_cache, mut sample_dx, mut sample_y) =
                            (ConvScratch::default(), [0.0; $inputs], [0.0; $outputs]);
                        let mut sample = layer.clone();
                        Layer::forward(&sample, &mut context, &mut sample_cache, &x[row], &mut sample_y);
                        Layer::backward(
                            &mut sample,
                            &mut context,
                            &mut sample_cache,
                            &x[row],
                            &sample_y,
                            &dy[row],
                            Some(&mut sample_dx),
                            &mut expected_gradients,
                            Update::Accumulate,
                        );
                        crate::kernels::reference::assert_all_close(&dx[row], &sample_dx, 1e-5);
                    }
                    crate::kernels::reference::assert_all_close(&gradients, &expected_gradients, 1e-4);
                }
            }
        };
    }
    batch_conv!(Wide, 216, 80);
    batch_conv!(Narrow, 63, 126);

    #[test]
    fn im2row_is_the_transpose_of_im2col() {
        // Stride, padding, non-square kernels and inputs, and a kernel as wide as the input.
        for (channels, (height, width), kernel, stride, padding) in [
            (1, (5, 5), (3, 3), (1, 1), (0, 0)),
            (3, (7, 6), (3, 2), (2, 2), (1, 1)),
            (2, (4, 9), (2, 3), (1, 2), (0, 2)),
            (2, (6, 4), (3, 4), (2, 1), (1, 0)),
        ] {
            let out = |size: usize, k: usize, s: usize, p: usize| (size + 2 * p - k) / s + 1;
            let output = (out(height, kernel.0, stride.0, padding.0), out(width, kernel.1, stride.1, padding.1));
            let geometry = Geometry { channels, height, width, kernel, stride, padding, output };
            let (patch, positions) = (channels * kernel.0 * kernel.1, output.0 * output.1);
            let x = values(channels * height * width, 3);
            let (mut columns, mut rows) = (vec![f32::NAN; patch * positions], vec![f32::NAN; patch * positions]);
            geometry.im2col(&x, &mut columns);
            geometry.im2row(&x, &mut rows);
            for tap in 0..patch {
                for position in 0..positions {
                    assert_eq!(rows[position * patch + tap], columns[tap * positions + position], "{geometry:?}");
                }
            }
        }
    }
}
