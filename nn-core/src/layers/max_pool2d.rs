//! Two-dimensional max pooling.

use super::pool::{geometry, windows, TASK_ROWS};
use crate::buffers::grown;
use crate::kernels;
use crate::layer::{Context, Layer, Update};
use rayon::prelude::*;

/// PyTorch's `nn.MaxPool2d` without padding: the largest value of each `KH x KW` window, the
/// windows `SH x SW` apart (PyTorch's default stride is the kernel size), over each channel of a
/// `[C, H, W]` input, giving `[C, OH, OW]` with `OH = (H - KH) / SH + 1`. A NaN in a window
/// is its maximum, as in PyTorch. The backward pass routes each gradient to the input that was
/// the maximum (the first one on ties).
///
/// ```
/// use nn::layers::{Layer, MaxPool2d};
///
/// let pool = MaxPool2d::<1, 2, 2, 2, 2, 2, 4, 1, 2>;
/// let mut y = [0.0; 2];
/// pool.infer(&[1.0, 5.0, 2.0, 0.0, 3.0, 4.0, 8.0, 6.0], &mut y);
/// assert_eq!(y, [5.0, 8.0]);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct MaxPool2d<
    const C: usize,
    const KH: usize,
    const KW: usize,
    const SH: usize,
    const SW: usize,
    const H: usize,
    const W: usize,
    const OH: usize,
    const OW: usize,
>;

impl<
        const C: usize,
        const KH: usize,
        const KW: usize,
        const SH: usize,
        const SW: usize,
        const H: usize,
        const W: usize,
        const OH: usize,
        const OW: usize,
    > MaxPool2d<C, KH, KW, SH, SW, H, W, OH, OW>
{
    const GEOMETRY: super::conv2d::Geometry = geometry(C, (H, W), (KH, KW), (SH, SW), (OH, OW));

    /// PyTorch's default, 2 x 2 windows 2 apart, which has a vectorised kernel: its cache holds
    /// each window's winning tap (0 to 3) instead of an input index.
    const TWO_BY_TWO: bool = KH == 2 && KW == 2 && SH == 2 && SW == 2;

    /// Writes each window's maximum into `y` and where it came from into `argmax`, for whole
    /// samples laid end to end (`x` a multiple of `H·W·C` values).
    pub(crate) fn pool(x: &[f32], y: &mut [f32], argmax: &mut [u32]) {
        if Self::TWO_BY_TWO {
            kernels::max_pool_2x2(x, x.len() / (H * W), H, W, y, argmax);
            return;
        }
        let samples = x.chunks_exact(C * H * W).zip(y.chunks_exact_mut(C * OH * OW));
        for ((x, y), argmax) in samples.zip(argmax.chunks_exact_mut(C * OH * OW)) {
            windows(&Self::GEOMETRY, |output, corner| {
                let (best, at) = Self::maximum(x, corner);
                y[output] = best;
                argmax[output] = at as u32;
            });
        }
    }

    /// The largest input of a window and its index: the first on ties, a NaN if there is one.
    #[inline(always)]
    fn maximum(x: &[f32], corner: usize) -> (f32, usize) {
        let first = corner;
        let (mut best, mut at) = (x[first], first);
        for kh in 0..KH {
            for kw in 0..KW {
                let tap = corner + kh * W + kw;
                // A select, not a branch: which input wins is data, and mispredicts (hence `|`
                // and `&`, which do not short-circuit).
                let better = (x[tap] > best) | (x[tap].is_nan() & !best.is_nan());
                best = if better { x[tap] } else { best };
                at = if better { tap } else { at };
            }
        }
        (best, at)
    }

    /// Routes each gradient of `dy` to the input that won its window, for whole samples laid end
    /// to end; every other input gradient is 0. In the general path `dx[argmax[o]] += dy[o]` on
    /// a zeroed `dx`, where windows that do not overlap (a stride at least the kernel) give each
    /// input at most one gradient, which is then stored rather than added: no load waits on the
    /// store before it.
    pub(crate) fn route(argmax: &[u32], dy: &[f32], dx: &mut [f32]) {
        if Self::TWO_BY_TWO {
            kernels::max_pool_2x2_backward(argmax, dy, dx.len() / (H * W), H, W, dx);
            return;
        }
        let samples = dx.chunks_exact_mut(C * H * W).zip(dy.chunks_exact(C * OH * OW));
        for ((dx, dy), argmax) in samples.zip(argmax.chunks_exact(C * OH * OW)) {
            dx.fill(0.0);
            if SH >= KH && SW >= KW {
                for (at, gradient) in argmax.iter().zip(dy) {
                    dx[*at as usize] = *gradient;
                }
            } else {
                for (at, gradient) in argmax.iter().zip(dy) {
                    dx[*at as usize] += gradient;
                }
            }
        }
    }
}

impl<
        const C: usize,
        const KH: usize,
        const KW: usize,
        const SH: usize,
        const SW: usize,
        const H: usize,
        const W: usize,
        const OH: usize,
        const OW: usize,
        const I: usize,
        const O: usize,
    > Layer<I, O> for MaxPool2d<C, KH, KW, SH, SW, H, W, OH, OW>
{
    const PARAMETERS: usize = 0;
    /// Where each output's maximum came from: its window's tap for 2 x 2 windows 2 apart, its
    /// input index otherwise.
    type Cache = Vec<u32>;
    type BatchCache = Vec<u32>;

    fn cache(&self) -> Vec<u32> {
        Vec::new()
    }

    fn batch_cache(&self) -> Vec<u32> {
        Vec::new()
    }

    fn infer(&self, x: &[f32; I], y: &mut [f32; O]) {
        Self::GEOMETRY.check(I, O, C);
        windows(&Self::GEOMETRY, |output, corner| y[output] = Self::maximum(x, corner).0);
    }

    fn forward(&self, _context: &mut Context, cache: &mut Vec<u32>, x: &[f32; I], y: &mut [f32; O]) {
        Self::GEOMETRY.check(I, O, C);
        Self::pool(x, y, grown(cache, O));
    }

    fn backward(
        &mut self,
        _context: &mut Context,
        cache: &mut Vec<u32>,
        _x: &[f32; I],
        _y: &[f32; O],
        dy: &[f32; O],
        dx: Option<&mut [f32; I]>,
        _gradients: &mut [f32],
        _update: Update,
    ) {
        if let Some(dx) = dx {
            Self::route(&cache[..O], dy, dx);
        }
    }

    fn forward_rows(&self, _context: &mut Context, cache: &mut Vec<u32>, x: &[[f32; I]], y: &mut [[f32; O]]) {
        Self::GEOMETRY.check(I, O, C);
        assert_eq!(x.len(), y.len(), "one output row per input row");
        let argmax = grown(cache, x.len() * O);
        if super::pool::parallel(x.len() * I) {
            let rows =
                x.par_chunks(TASK_ROWS).zip(y.par_chunks_mut(TASK_ROWS)).zip(argmax.par_chunks_mut(TASK_ROWS * O));
            rows.for_each(|((x, y), argmax)| Self::pool(x.as_flattened(), y.as_flattened_mut(), argmax));
        } else {
            Self::pool(x.as_flattened(), y.as_flattened_mut(), argmax);
        }
    }

    fn backward_rows(
        &mut self,
        _context: &mut Context,
        cache: &mut Vec<u32>,
        _x: &[[f32; I]],
        _y: &[[f32; O]],
        dy: &[[f32; O]],
        dx: Option<&mut [[f32; I]]>,
        _gradients: &mut [f32],
        _update: Update,
    ) {
        if let Some(dx) = dx {
            let argmax = &cache[..dx.len() * O];
            if super::pool::parallel(dx.len() * I) {
                let rows =
                    dy.par_chunks(TASK_ROWS).zip(dx.par_chunks_mut(TASK_ROWS)).zip(argmax.par_chunks(TASK_ROWS * O));
                rows.for_each(|((dy, dx), argmax)| Self::route(argmax, dy.as_flattened(), dx.as_flattened_mut()));
            } else {
                Self::route(argmax, dy.as_flattened(), dx.as_flattened_mut());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layer::Mode;

    /// One channel of 2 x 4 pooled by 2 x 2 windows: two outputs.
    type Pool = MaxPool2d<1, 2, 2, 2, 2, 2, 4, 1, 2>;

    fn gradient(x: &[f32; 8]) -> ([f32; 2], [f32; 8]) {
        let (mut y, mut dx, mut cache) = ([0.0; 2], [0.0; 8], Vec::new());
        let mut context = Context::new(Mode::Train, 0);
        Pool::default().forward(&mut context, &mut cache, x, &mut y);
        let update = Update::Accumulate;
        Pool::default().backward(&mut context, &mut cache, x, &y, &[1.0, 2.0], Some(&mut dx), &mut [], update);
        (y, dx)
    }

    #[test]
    fn the_gradient_goes_to_the_first_maximum() {
        let (y, dx) = gradient(&[1.0, 3.0, 5.0, 0.0, 3.0, 2.0, 5.0, 4.0]);
        assert_eq!(y, [3.0, 5.0]);
        assert_eq!(dx, [0.0, 1.0, 2.0, 0.0, 0.0, 0.0, 0.0, 0.0]);
    }

    #[test]
    fn a_nan_is_the_maximum_and_takes_the_gradient() {
        let (y, dx) = gradient(&[1.0, 3.0, 5.0, 0.0, f32::NAN, 2.0, 5.0, 4.0]);
        assert!(y[0].is_nan());
        assert_eq!(y[1], 5.0);
        assert_eq!(dx[4], 1.0);
        assert_eq!(dx.iter().filter(|&&g| g != 0.0).count(), 2);
    }
}
