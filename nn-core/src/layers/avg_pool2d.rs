//! Two-dimensional average pooling.

use super::pool::{geometry, windows};
use crate::layer::{Context, Layer, Update};

/// PyTorch's `nn.AvgPool2d` without padding: the mean of each `KH x KW` window, the windows
/// `SH x SW` apart (PyTorch's default stride is the kernel size), over each channel of a
/// `[C, H, W]` input, giving `[C, OH, OW]` with `OH = (H - KH) / SH + 1`. The backward pass
/// spreads each gradient evenly over its window.
///
/// ```
/// use nn::layers::{AvgPool2d, Layer};
///
/// let pool = AvgPool2d::<1, 2, 2, 2, 2, 2, 4, 1, 2>;
/// let mut y = [0.0; 2];
/// pool.infer(&[1.0, 5.0, 2.0, 0.0, 3.0, 4.0, 8.0, 6.0], &mut y);
/// assert_eq!(y, [3.25, 4.0]);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct AvgPool2d<
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
    > AvgPool2d<C, KH, KW, SH, SW, H, W, OH, OW>
{
    const GEOMETRY: super::conv2d::Geometry = geometry(C, (H, W), (KH, KW), (SH, SW), (OH, OW));

    fn pool(x: &[f32], y: &mut [f32]) {
        let scale = 1.0 / (KH * KW) as f32;
        windows(&Self::GEOMETRY, |output, corner| {
            let mut sum = 0.0;
            for kh in 0..KH {
                for kw in 0..KW {
                    sum += x[corner + kh * W + kw];
                }
            }
            y[output] = sum * scale;
        });
    }

    fn spread(dy: &[f32], dx: &mut [f32]) {
        dx.fill(0.0);
        let scale = 1.0 / (KH * KW) as f32;
        windows(&Self::GEOMETRY, |output, corner| {
            for kh in 0..KH {
                for kw in 0..KW {
                    dx[corner + kh * W + kw] += dy[output] * scale;
                }
            }
        });
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
    > Layer<I, O> for AvgPool2d<C, KH, KW, SH, SW, H, W, OH, OW>
{
    const PARAMETERS: usize = 0;
    type Cache = ();
    type BatchCache = ();

    fn cache(&self) {}

    fn batch_cache(&self) {}

    fn infer(&self, x: &[f32; I], y: &mut [f32; O]) {
        Self::GEOMETRY.check(I, O, C);
        Self::pool(x, y);
    }

    fn backward(
        &mut self,
        _context: &mut Context,
        _cache: &mut (),
        _x: &[f32; I],
        _y: &[f32; O],
        dy: &[f32; O],
        dx: Option<&mut [f32; I]>,
        _gradients: &mut [f32],
        _update: Update,
    ) {
        if let Some(dx) = dx {
            Self::spread(dy, dx);
        }
    }

    fn forward_rows(&self, _context: &mut Context, _cache: &mut (), x: &[[f32; I]], y: &mut [[f32; O]]) {
        Self::GEOMETRY.check(I, O, C);
        assert_eq!(x.len(), y.len(), "one output row per input row");
        for (x, y) in x.iter().zip(y) {
            Self::pool(x, y);
        }
    }

    fn backward_rows(
        &mut self,
        _context: &mut Context,
        _cache: &mut (),
        _x: &[[f32; I]],
        _y: &[[f32; O]],
        dy: &[[f32; O]],
        dx: Option<&mut [[f32; I]]>,
        _gradients: &mut [f32],
        _update: Update,
    ) {
        if let Some(dx) = dx {
            for (dy, dx) in dy.iter().zip(dx) {
                Self::spread(dy, dx);
            }
        }
    }
}
