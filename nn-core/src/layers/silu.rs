//! The sigmoid-weighted linear unit.

use super::Elementwise;
use crate::math::exp;

/// SiLU (also called swish), `x · σ(x)` with `σ(x) = 1 / (1 + e^-x)`, as PyTorch's `nn.SiLU`;
/// its derivative is `σ(x) (1 + x (1 - σ(x)))`.
///
/// ```
/// use nn::layers::{Layer, SiLU};
///
/// let mut y = [0.0; 3];
/// Layer::<3, 3>::infer(&SiLU, &[0.0, 100.0, -100.0], &mut y);
/// assert_eq!(y, [0.0, 100.0, -0.0]);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct SiLU;

/// `σ(x)`, saturating to exactly 0 or 1 without NaN.
fn sigmoid(x: f32) -> f32 {
    1.0 / (1.0 + exp(-x))
}

impl Elementwise for SiLU {
    fn apply(&self, x: &[f32], y: &mut [f32]) {
        assert_eq!(x.len(), y.len(), "one output per input");
        for (y, x) in y.iter_mut().zip(x) {
            *y = x * sigmoid(*x);
        }
    }

    fn gradient(&self, x: &[f32], _y: &[f32], dy: &[f32], dx: &mut [f32]) {
        assert!(x.len() == dy.len() && dy.len() == dx.len(), "slices of different lengths");
        for ((dx, x), dy) in dx.iter_mut().zip(x).zip(dy) {
            let s = sigmoid(*x);
            *dx = dy * s * (1.0 + x * (1.0 - s));
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
        check_gradient(SiLU, 3.0);
        check_rows(SiLU);
    }

    #[test]
    // PyTorch's values printed with nine digits, which round-trip every f32.
    #[allow(clippy::excessive_precision)]
    fn matches_pytorch() {
        // From `python3 scripts/fixtures/silu.py` (torch 2.15, float64 rounded to float32).
        let x = [-20.0, -6.0, -2.5, -1.0, -0.3, 0.0, 0.25, 1.0, 3.0, 8.0, 30.0];
        let dy = [0.3, -1.2, 0.7, 1.0, -0.4, 0.9, -2.0, 0.5, 1.5, -0.8, 0.6];
        let expected_y = [
            -4.12230712e-08,
            -0.0148357386,
            -0.189645454,
            -0.268941432,
            -0.127667248,
            0.0,
            0.140544131,
            0.731058598,
            2.85772228,
            7.99731731,
            30.0,
        ];
        let expected_dx = [
            -1.17485754e-08,
            0.0147917187,
            -0.0695807785,
            0.0723294914,
            -0.140887991,
            0.449999988,
            -1.24742007,
            0.463835269,
            1.63215613,
            -0.80187726,
            0.600000024,
        ];
        let (mut y, mut dx) = ([0.0; 11], [0.0; 11]);
        SiLU.apply(&x, &mut y);
        SiLU.gradient(&x, &y, &dy, &mut dx);
        for (actual, expected) in y.iter().zip(expected_y).chain(dx.iter().zip(expected_dx)) {
            assert_close!(*actual, expected, 1e-6);
        }
    }
}
