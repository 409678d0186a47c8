//! The rectifier.

use super::Elementwise;
use crate::kernels;

/// The rectifier, `max(0, x)`; its derivative is taken as 0 at `x = 0`, and a NaN input gives a
/// NaN output, as in PyTorch.
///
/// ```
/// use nn::layers::{Layer, ReLU};
///
/// let mut y = [0.0; 3];
/// Layer::<3, 3>::infer(&ReLU, &[-1.0, 0.0, 2.0], &mut y);
/// assert_eq!(y, [0.0, 0.0, 2.0]);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct ReLU;

impl Elementwise for ReLU {
    fn apply(&self, x: &[f32], y: &mut [f32]) {
        kernels::rectify(x, 0.0, y);
    }

    fn gradient(&self, x: &[f32], _y: &[f32], dy: &[f32], dx: &mut [f32]) {
        kernels::rectify_backward(x, dy, 0.0, dx);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layers::elementwise::tests::{check_gradient, check_rows};

    #[test]
    fn gradient_matches_finite_differences() {
        check_gradient(ReLU, 3.0);
        check_rows(ReLU);
    }
}
