//! The hyperbolic tangent.

use super::Elementwise;

/// The hyperbolic tangent; `tanh'(x) = 1 - tanh²(x)`.
///
/// ```
/// use nn::layers::{Layer, Tanh};
///
/// let mut y = [0.0; 1];
/// Layer::<1, 1>::infer(&Tanh, &[0.0], &mut y);
/// assert_eq!(y, [0.0]);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Tanh;

impl Elementwise for Tanh {
    fn apply(&self, x: &[f32], y: &mut [f32]) {
        assert_eq!(x.len(), y.len(), "one output per input");
        for (y, x) in y.iter_mut().zip(x) {
            *y = x.tanh();
        }
    }

    fn gradient(&self, _x: &[f32], y: &[f32], dy: &[f32], dx: &mut [f32]) {
        assert!(y.len() == dy.len() && dy.len() == dx.len(), "slices of different lengths");
        for ((dx, y), dy) in dx.iter_mut().zip(y).zip(dy) {
            *dx = dy * (1.0 - y * y);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layers::elementwise::tests::{check_gradient, check_rows};

    #[test]
    fn gradient_matches_finite_differences() {
        check_gradient(Tanh, 2.0);
        check_rows(Tanh);
    }
}
