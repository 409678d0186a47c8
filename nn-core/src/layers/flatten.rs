//! Flattening a multi-dimensional activation.

use crate::layer::{Context, Layer, Update};

/// PyTorch's `nn.Flatten`: `[C, H, W]` becomes `[C·H·W]`. Activations are stored flat and
/// channel-major already, so the values pass through unchanged; the layer exists for the
/// shapes, which the macro checks (a `Linear` after it must take `C·H·W` inputs).
///
/// ```
/// use nn::layers::{Flatten, Layer};
///
/// let mut y = [0.0; 3];
/// Layer::<3, 3>::infer(&Flatten, &[1.0, 2.0, 3.0], &mut y);
/// assert_eq!(y, [1.0, 2.0, 3.0]);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Flatten;

impl<const N: usize> Layer<N, N> for Flatten {
    const PARAMETERS: usize = 0;
    type Cache = ();
    type BatchCache = ();

    fn cache(&self) {}

    fn batch_cache(&self) {}

    fn infer(&self, x: &[f32; N], y: &mut [f32; N]) {
        y.copy_from_slice(x);
    }

    fn backward(
        &mut self,
        _context: &mut Context,
        _cache: &mut (),
        _x: &[f32; N],
        _y: &[f32; N],
        dy: &[f32; N],
        dx: Option<&mut [f32; N]>,
        _gradients: &mut [f32],
        _update: Update,
    ) {
        if let Some(dx) = dx {
            dx.copy_from_slice(dy);
        }
    }

    fn forward_rows(&self, _context: &mut Context, _cache: &mut (), x: &[[f32; N]], y: &mut [[f32; N]]) {
        y.copy_from_slice(x);
    }

    fn backward_rows(
        &mut self,
        _context: &mut Context,
        _cache: &mut (),
        _x: &[[f32; N]],
        _y: &[[f32; N]],
        dy: &[[f32; N]],
        dx: Option<&mut [[f32; N]]>,
        _gradients: &mut [f32],
        _update: Update,
    ) {
        if let Some(dx) = dx {
            dx.copy_from_slice(dy);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layers::elementwise::tests::{check_gradient, check_rows};

    #[test]
    fn passes_values_and_gradients_through() {
        check_gradient(Flatten, 1.0);
        check_rows(Flatten);
    }
}
