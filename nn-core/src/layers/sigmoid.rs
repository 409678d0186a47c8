//! The logistic function.

use super::Elementwise;
use crate::kernels;

/// The logistic function, `σ(x) = 1 / (1 + e^-x)`; `σ'(x) = σ(x)(1 - σ(x))`.
///
/// ```
/// use nn::layers::{Layer, Sigmoid};
///
/// let mut y = [0.0; 2];
/// Layer::<2, 2>::infer(&Sigmoid, &[0.0, 100.0], &mut y);
/// assert_eq!(y, [0.5, 1.0]);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Sigmoid;

impl Elementwise for Sigmoid {
    fn apply(&self, x: &[f32], y: &mut [f32]) {
        kernels::sigmoid(x, y);
    }

    fn gradient(&self, _x: &[f32], y: &[f32], dy: &[f32], dx: &mut [f32]) {
        kernels::sigmoid_backward(y, dy, dx);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layers::elementwise::tests::{check_gradient, check_rows};

    #[test]
    fn gradient_matches_finite_differences() {
        check_gradient(Sigmoid, 3.0);
        check_rows(Sigmoid);
    }

    #[test]
    fn saturates_without_nan() {
        let mut y = [0.0; 2];
        Sigmoid.apply(&[-1e4, 1e4], &mut y);
        assert_eq!(y, [0.0, 1.0]);
    }
}
