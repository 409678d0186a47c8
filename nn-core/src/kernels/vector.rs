//! Vector kernels.

use super::{kernel, simd};

kernel! {
    /// `Σ a[i] * b[i]`.
    ///
    /// ```
    /// assert_eq!(nn::__private::kernels::dot(&[1.0, 2.0, 3.0], &[4.0, 5.0, 6.0]), 32.0);
    /// ```
    ///
    /// # Panics
    /// If the slices differ in length.
    pub fn dot(a: &[f32], b: &[f32]) -> f32 => dot_checked
}

#[inline(always)]
fn dot_checked<const FMA: bool>(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len(), "dot of slices of different lengths");
    simd::dot::<FMA>(a, b)
}

kernel! {
    /// `Σ x[i]`, in vector blocks of partial sums.
    ///
    /// ```
    /// let values: Vec<f32> = (1..=100).map(|v| v as f32).collect();
    /// assert_eq!(nn::__private::kernels::sum(&values), 5050.0);
    /// ```
    pub fn sum(x: &[f32]) -> f32 => sum_blocks
}

#[inline(always)]
fn sum_blocks<const FMA: bool>(x: &[f32]) -> f32 {
    simd::sum(x)
}

kernel! {
    /// `y[i] += alpha * x[i]` (BLAS `axpy`).
    ///
    /// ```
    /// let mut y = [1.0, 1.0];
    /// nn::__private::kernels::axpy(&mut y, 2.0, &[3.0, 4.0]);
    /// assert_eq!(y, [7.0, 9.0]);
    /// ```
    ///
    /// # Panics
    /// If the slices differ in length.
    pub fn axpy(y: &mut [f32], alpha: f32, x: &[f32]) => axpy_checked
}

#[inline(always)]
fn axpy_checked<const FMA: bool>(y: &mut [f32], alpha: f32, x: &[f32]) {
    assert_eq!(y.len(), x.len(), "axpy of slices of different lengths");
    simd::axpy::<FMA>(y, alpha, x);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernels::reference::{self, values, SIZES};
    use crate::testing::assert_close;

    #[test]
    fn dot_matches_the_scalar_loop() {
        for n in SIZES {
            let (a, b) = (values(n, 1), values(n, 2));
            assert_close!(dot(&a, &b), reference::dot(&a, &b), 1e-5);
        }
    }

    #[test]
    fn sum_matches_the_sum_in_f64() {
        for n in SIZES.into_iter().chain([63, 64, 65, 576, 1000]) {
            let x = values(n, 5);
            let expected = x.iter().map(|&v| f64::from(v)).sum::<f64>() as f32;
            assert_close!(sum(&x), expected, 1e-5);
        }
    }

    #[test]
    fn axpy_matches_the_scalar_loop() {
        for n in SIZES {
            let (mut y, x) = (values(n, 3), values(n, 4));
            let expected: Vec<f32> = y.iter().zip(&x).map(|(y, x)| y + 0.7 * x).collect();
            axpy(&mut y, 0.7, &x);
            for (actual, expected) in y.iter().zip(&expected) {
                assert_close!(*actual, *expected, 1e-6);
            }
        }
    }

    #[test]
    #[should_panic(expected = "different lengths")]
    fn dot_rejects_different_lengths() {
        dot(&[1.0], &[1.0, 2.0]);
    }
}
