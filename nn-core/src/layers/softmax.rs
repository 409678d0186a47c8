//! Softmax over one sample's values.

use crate::kernels;
use crate::layer::{Context, Layer, Update};

/// `softmax(x)_i = e^(x_i - m) / Σ_j e^(x_j - m)` with `m = max x`, so large inputs do not
/// overflow. Back-propagation: `dx = y ⊙ (dy - ⟨dy, y⟩)`. It normalises each sample (each row of
/// a batch) as a whole.
///
/// To train a classifier, end the network with its logits and use
/// [`CrossEntropy`](crate::losses::CrossEntropy), which fuses softmax into the loss; a trailing
/// `Softmax` is for networks whose output must itself be a distribution.
///
/// ```
/// use nn::layers::{Layer, Softmax};
///
/// let mut y = [0.0; 2];
/// Layer::<2, 2>::infer(&Softmax, &[1e4, 1e4], &mut y);
/// assert_eq!(y, [0.5, 0.5]);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Softmax;

impl Softmax {
    fn gradient(y: &[f32], dy: &[f32], dx: &mut [f32]) {
        let inner = kernels::dot(dy, y);
        for ((dx, y), dy) in dx.iter_mut().zip(y).zip(dy) {
            *dx = y * (dy - inner);
        }
    }
}

impl<const N: usize> Layer<N, N> for Softmax {
    const PARAMETERS: usize = 0;
    type Cache = ();
    type BatchCache = ();

    fn cache(&self) {}

    fn batch_cache(&self) {}

    fn infer(&self, x: &[f32; N], y: &mut [f32; N]) {
        kernels::softmax(x, y);
    }

    fn backward(
        &mut self,
        _context: &mut Context,
        _cache: &mut (),
        _x: &[f32; N],
        y: &[f32; N],
        dy: &[f32; N],
        dx: Option<&mut [f32; N]>,
        _gradients: &mut [f32],
        _update: Update,
    ) {
        if let Some(dx) = dx {
            Self::gradient(y, dy, dx);
        }
    }

    fn forward_rows(&self, _context: &mut Context, _cache: &mut (), x: &[[f32; N]], y: &mut [[f32; N]]) {
        assert_eq!(x.len(), y.len(), "one output row per input row");
        for (x, y) in x.iter().zip(y) {
            kernels::softmax(x, y);
        }
    }

    fn backward_rows(
        &mut self,
        _context: &mut Context,
        _cache: &mut (),
        _x: &[[f32; N]],
        y: &[[f32; N]],
        dy: &[[f32; N]],
        dx: Option<&mut [[f32; N]]>,
        _gradients: &mut [f32],
        _update: Update,
    ) {
        if let Some(dx) = dx {
            assert!(y.len() == dy.len() && dy.len() == dx.len(), "rows of different counts");
            for ((y, dy), dx) in y.iter().zip(dy).zip(dx) {
                Self::gradient(y, dy, dx);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layers::elementwise::tests::{check_gradient, check_rows};
    use crate::testing::assert_close;

    #[test]
    fn gradient_matches_finite_differences() {
        check_gradient(Softmax, 3.0);
        check_rows(Softmax);
    }

    #[test]
    fn is_stable_for_huge_inputs() {
        let mut y = [0.0; 3];
        let (max, log_sum) = kernels::softmax(&[1e4, -1e4, 1e4 - 1.0], &mut y);
        assert!(y.iter().all(|p| p.is_finite()));
        assert_close!(y.iter().sum::<f32>(), 1.0, 1e-6);
        assert_eq!(max, 1e4);
        assert_close!(log_sum, (1.0 + (-1.0f32).exp()).ln(), 1e-6);
    }
}
