//! The leaky rectifier.

use super::Elementwise;
use crate::kernels;

/// The leaky rectifier, `x` for `x > 0` and `slope · x` otherwise.
///
/// ```
/// use nn::layers::{Layer, LeakyReLU};
///
/// let mut y = [0.0; 2];
/// Layer::<2, 2>::infer(&LeakyReLU { slope: 0.1 }, &[-2.0, 3.0], &mut y);
/// assert_eq!(y, [-0.2, 3.0]);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LeakyReLU {
    /// The gradient for negative inputs.
    pub slope: f32,
}

impl LeakyReLU {
    /// The slope used when none is given: 0.01, as in PyTorch.
    ///
    /// ```
    /// use nn::layers::LeakyReLU;
    /// assert_eq!(LeakyReLU::default().slope, LeakyReLU::DEFAULT_SLOPE);
    /// ```
    pub const DEFAULT_SLOPE: f32 = 0.01;
}

impl Default for LeakyReLU {
    fn default() -> Self {
        Self { slope: Self::DEFAULT_SLOPE }
    }
}

impl Elementwise for LeakyReLU {
    fn apply(&self, x: &[f32], y: &mut [f32]) {
        kernels::rectify(x, self.slope, y);
    }

    fn gradient(&self, x: &[f32], _y: &[f32], dy: &[f32], dx: &mut [f32]) {
        kernels::rectify_backward(x, dy, self.slope, dx);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layers::elementwise::tests::{check_gradient, check_rows};

    #[test]
    fn gradient_matches_finite_differences() {
        check_gradient(LeakyReLU { slope: 0.2 }, 3.0);
        check_gradient(LeakyReLU::default(), 3.0);
        check_rows(LeakyReLU { slope: 0.2 });
    }
}
