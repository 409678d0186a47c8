//! Two-dimensional convolution.

use super::linear::{parameter, parameter_mut, split};
use crate::heap::AlignedBuffer;
use crate::init::Init;
use crate::kernels;
use crate::layer::{check_gradients_len, Context, Layer, Tensor, TensorMut, Update};
use rand::Rng;

/// A 2-D convolution, PyTorch's `nn.Conv2d` (a cross-correlation): `OC` filters of `C x KH x KW`
/// slide over a `[C, H, W]` input with stride `SH x SW` and zero padding `PH x PW`, giving an
/// `[OC, OH, OW]` output with `OH = (H + 2·PH - KH) / SH + 1` (and `OW` likewise). Inputs and
/// outputs are flat and channel-major, as PyTorch lays them out.
///
/// The weight is PyTorch's, `[OC, C, KH, KW]`, and the bias `[OC]`. Training and batches run
/// the convolution as a dense layer over patches: the `C·KH·KW` input values under the kernel
/// at each output position (im2col) times the weight, through the blocked matrix kernels of
/// [`Linear`](super::Linear). `network!` writes every size; by hand, the const parameters must
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

    /// Values under the kernel at one position, over all channels.
    pub fn patch(&self) -> usize {
        self.channels * self.kernel.0 * self.kernel.1
    }

    /// The input row and column under kernel offset `(kh, kw)` at output position `(oh, ow)`,
    /// or `None` in the padding.
    #[inline(always)]
    pub fn source(&self, oh: usize, ow: usize, kh: usize, kw: usize) -> Option<(usize, usize)> {
        let row = (oh * self.stride.0 + kh).checked_sub(self.padding.0)?;
        let column = (ow * self.stride.1 + kw).checked_sub(self.padding.1)?;
        (row < self.height && column < self.width).then_some((row, column))
    }

    /// Writes the patch of every output position of `x` (`[C, H, W]`) as the rows of `patches`
    /// (`positions` rows of `patch` values, channel, then kernel row, then kernel column).
    pub fn im2col(&self, x: &[f32], patches: &mut [f32]) {
        let (kh_size, kw_size) = self.kernel;
        let mut rows = patches.chunks_exact_mut(self.patch());
        for oh in 0..self.output.0 {
            for ow in 0..self.output.1 {
                let row = rows.next().expect("one row per position");
                let mut values = row.iter_mut();
                for c in 0..self.channels {
                    let plane = &x[c * self.height * self.width..(c + 1) * self.height * self.width];
                    for kh in 0..kh_size {
                        for kw in 0..kw_size {
                            let value = values.next().expect("one value per kernel tap");
                            *value = self.source(oh, ow, kh, kw).map_or(0.0, |(r, col)| plane[r * self.width + col]);
                        }
                    }
                }
            }
        }
    }

    /// The inverse scatter of [`im2col`](Self::im2col): adds each patch value's gradient to the
    /// input value it was read from; `dx` is overwritten.
    pub fn col2im(&self, patch_gradients: &[f32], dx: &mut [f32]) {
        dx.fill(0.0);
        let (kh_size, kw_size) = self.kernel;
        let mut rows = patch_gradients.chunks_exact(self.patch());
        for oh in 0..self.output.0 {
            for ow in 0..self.output.1 {
                let mut values = rows.next().expect("one row per position").iter();
                for c in 0..self.channels {
                    let plane = &mut dx[c * self.height * self.width..(c + 1) * self.height * self.width];
                    for kh in 0..kh_size {
                        for kw in 0..kw_size {
                            let gradient = values.next().expect("one value per kernel tap");
                            if let Some((r, col)) = self.source(oh, ow, kh, kw) {
                                plane[r * self.width + col] += gradient;
                            }
                        }
                    }
                }
            }
        }
    }
}

/// `out[j][i] = matrix[i][j]` for a `rows x columns` matrix.
fn transpose(matrix: &[f32], rows: usize, columns: usize, out: &mut [f32]) {
    for (i, row) in matrix.chunks_exact(columns).enumerate().take(rows) {
        for (j, value) in row.iter().enumerate() {
            out[j * rows + i] = *value;
        }
    }
}

/// Grows `buffer` to at least `len` values (allocating only when a larger size first appears).
fn grown(buffer: &mut Vec<f32>, len: usize) -> &mut [f32] {
    if buffer.len() < len {
        buffer.resize(len, 0.0);
    }
    &mut buffer[..len]
}

/// The working memory of a convolution's passes: patches, position-major outputs or output
/// gradients, patch gradients and parameter gradients. It grows on first use and is reused.
#[derive(Clone, Debug, Default)]
pub struct ConvScratch {
    patches: Vec<f32>,
    rows: Vec<f32>,
    patch_gradients: Vec<f32>,
    gradients: Vec<f32>,
}

/// Samples per block of a batch pass: as many as keep the block's patches within this many
/// values (at least one sample), so each matrix product has many rows without a huge buffer.
const BLOCK_VALUES: usize = 1 << 17;

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

    /// A layer with weights drawn from `init` (fan-in `C·KH·KW`, fan-out `OC·KH·KW`) and zero
    /// biases.
    pub fn new<R: Rng + ?Sized>(init: Init, rng: &mut R) -> Self {
        let mut layer = Self::zeroed();
        init.fill(&mut layer.weight, Self::PATCH, OC * KH * KW, rng);
        layer
    }

    /// A layer whose parameters are all zero.
    pub fn zeroed() -> Self {
        Self { weight: AlignedBuffer::zeroed(OC * Self::PATCH), bias: AlignedBuffer::zeroed(OC) }
    }

    /// The output of one sample from the patches already in `scratch`, position-major through
    /// the dense kernel, then transposed to channel-major `y`.
    fn forward_patches(&self, context: &mut Context, scratch: &mut ConvScratch, samples: usize, y: &mut [f32]) {
        let positions = samples * Self::POSITIONS;
        let patches = &scratch.patches[..positions * Self::PATCH];
        let rows = grown(&mut scratch.rows, positions * OC);
        kernels::dense_forward_rows(&self.weight, &self.bias, patches, rows, &mut context.scratch);
        for (rows, y) in rows.chunks_exact(Self::POSITIONS * OC).zip(y.chunks_exact_mut(OC * Self::POSITIONS)) {
            transpose(rows, Self::POSITIONS, OC, y);
        }
    }

    /// The parameter gradients of `samples` samples whose patches are in `scratch`, given their
    /// channel-major output gradients `dy`, into `scratch.gradients` (weight, then bias);
    /// with `dx`, the patch gradients too, scattered back to each sample's input.
    fn backward_patches(&self, scratch: &mut ConvScratch, samples: usize, dy: &[f32], dx: Option<&mut [f32]>) {
        let positions = samples * Self::POSITIONS;
        let rows = grown(&mut scratch.rows, positions * OC);
        for (dy, rows) in dy.chunks_exact(OC * Self::POSITIONS).zip(rows.chunks_exact_mut(Self::POSITIONS * OC)) {
            transpose(dy, OC, Self::POSITIONS, rows);
        }
        let gradients = grown(&mut scratch.gradients, OC * Self::PATCH + OC);
        let (weight_gradient, bias_gradient) = gradients.split_at_mut(OC * Self::PATCH);
        let patches = &scratch.patches[..positions * Self::PATCH];
        let patch_gradients = dx.is_some().then(|| grown(&mut scratch.patch_gradients, positions * Self::PATCH));
        kernels::dense_backward_rows(
            &self.weight,
            patches,
            rows,
            weight_gradient,
            bias_gradient,
            patch_gradients.map(|g| &mut g[..]),
        );
        if let Some(dx) = dx {
            let patch_gradients = &scratch.patch_gradients[..positions * Self::PATCH];
            for (patch_gradients, dx) in
                patch_gradients.chunks_exact(Self::POSITIONS * Self::PATCH).zip(dx.chunks_exact_mut(C * H * W))
            {
                Self::GEOMETRY.col2im(patch_gradients, dx);
            }
        }
    }

    /// Applies `gradients` (weight, then bias) as an SGD step.
    fn step(&mut self, gradients: &[f32], learning_rate: f32) {
        let (weight_gradient, bias_gradient) = gradients.split_at(OC * Self::PATCH);
        kernels::axpy(&mut self.weight, -learning_rate, weight_gradient);
        kernels::axpy(&mut self.bias, -learning_rate, bias_gradient);
    }

    /// Samples per block of a batch pass.
    fn block_samples() -> usize {
        (BLOCK_VALUES / (Self::POSITIONS * Self::PATCH).max(1)).max(1)
    }

    fn check<const I: usize, const O: usize>() {
        Self::GEOMETRY.check(I, O, OC);
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

    /// Keeps the sample's patches in the cache for the backward pass.
    fn forward(&self, context: &mut Context, cache: &mut ConvScratch, x: &[f32; I], y: &mut [f32; O]) {
        Self::check::<I, O>();
        Self::GEOMETRY.im2col(x, grown(&mut cache.patches, Self::POSITIONS * Self::PATCH));
        self.forward_patches(context, cache, 1, y);
    }

    /// With [`Update::Accumulate`] adds `∂L/∂W` and `∂L/∂b` to `gradients` (weight, then bias);
    /// with [`Update::Sgd`] applies them (after `dx` is computed with the old weights).
    fn backward(
        &mut self,
        _context: &mut Context,
        cache: &mut ConvScratch,
        _x: &[f32; I],
        _y: &[f32; O],
        dy: &[f32; O],
        dx: Option<&mut [f32; I]>,
        gradients: &mut [f32],
        update: Update,
    ) {
        self.backward_patches(cache, 1, dy, dx.map(|dx| &mut dx[..]));
        let computed = &cache.gradients[..OC * Self::PATCH + OC];
        match update {
            Update::Accumulate => {
                check_gradients_len(gradients, OC * Self::PATCH + OC);
                kernels::axpy(gradients, 1.0, computed);
            }
            Update::Sgd { learning_rate } => self.step(computed, learning_rate),
        }
    }

    fn forward_rows(&self, context: &mut Context, cache: &mut ConvScratch, x: &[[f32; I]], y: &mut [[f32; O]]) {
        Self::check::<I, O>();
        assert_eq!(x.len(), y.len(), "one output row per input row");
        let block = Self::block_samples();
        for (x, y) in x.chunks(block).zip(y.chunks_mut(block)) {
            let patches = grown(&mut cache.patches, x.len() * Self::POSITIONS * Self::PATCH);
            for (x, patches) in x.iter().zip(patches.chunks_exact_mut(Self::POSITIONS * Self::PATCH)) {
                Self::GEOMETRY.im2col(x, patches);
            }
            self.forward_patches(context, cache, x.len(), y.as_flattened_mut());
        }
    }

    /// Writes the parameter gradients summed over the rows into `gradients` with
    /// [`Update::Accumulate`], or applies them with [`Update::Sgd`]; the blocks' sums are added
    /// in order, so the result does not depend on the thread count.
    fn backward_rows(
        &mut self,
        _context: &mut Context,
        cache: &mut ConvScratch,
        x: &[[f32; I]],
        _y: &[[f32; O]],
        dy: &[[f32; O]],
        mut dx: Option<&mut [[f32; I]]>,
        gradients: &mut [f32],
        update: Update,
    ) {
        assert_eq!(x.len(), dy.len(), "one output gradient row per input row");
        let (weight_gradient, bias_gradient) = split(gradients, OC * Self::PATCH, OC);
        weight_gradient.fill(0.0);
        bias_gradient.fill(0.0);
        let block = Self::block_samples();
        for (index, (x, dy)) in x.chunks(block).zip(dy.chunks(block)).enumerate() {
            let patches = grown(&mut cache.patches, x.len() * Self::POSITIONS * Self::PATCH);
            for (x, patches) in x.iter().zip(patches.chunks_exact_mut(Self::POSITIONS * Self::PATCH)) {
                Self::GEOMETRY.im2col(x, patches);
            }
            let dx = dx.as_deref_mut().map(|dx| dx[index * block..index * block + x.len()].as_flattened_mut());
            self.backward_patches(cache, x.len(), dy.as_flattened(), dx);
            let computed = &cache.gradients[..OC * Self::PATCH + OC];
            kernels::axpy(weight_gradient, 1.0, &computed[..OC * Self::PATCH]);
            kernels::axpy(bias_gradient, 1.0, &computed[OC * Self::PATCH..]);
        }
        if let Update::Sgd { learning_rate } = update {
            kernels::axpy(&mut self.weight, -learning_rate, weight_gradient);
            kernels::axpy(&mut self.bias, -learning_rate, bias_gradient);
        }
    }

    /// `weight` (`[OC, C, KH, KW]`) and `bias` (`[OC]`), as PyTorch's `nn.Conv2d` holds them.
    fn visit_tensors(&self, layer: usize, gradients: Option<&[f32]>, visitor: &mut dyn FnMut(Tensor<'_>)) {
        let (weight_gradient, bias_gradient) = match gradients {
            Some(gradients) => {
                check_gradients_len(gradients, OC * Self::PATCH + OC);
                let (weight, bias) = gradients.split_at(OC * Self::PATCH);
                (Some(weight), Some(bias))
            }
            None => (None, None),
        };
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
