//! Element-wise kernels of the activations.
//!
//! The activations are generic code, compiled once for the build target's baseline (SSE2 on
//! x86-64, four lanes). Their loops live here instead, so they run on the widest vectors the CPU
//! has: the sigmoid of a 100-unit layer went from a twelfth of a per-sample training step to a
//! fiftieth. Every value is computed with the same operations in every version (no fused
//! multiply-add), so the results do not depend on the CPU.

use super::kernel;

kernel! {
    /// `y[i] = 1 / (1 + e^-x[i])`, the logistic function.
    ///
    /// ```
    /// let mut y = [0.0; 2];
    /// nn::__private::kernels::sigmoid(&[0.0, 100.0], &mut y);
    /// assert_eq!(y, [0.5, 1.0]);
    /// ```
    ///
    /// # Panics
    /// If the slices differ in length.
    pub fn sigmoid(x: &[f32], y: &mut [f32]) => sigmoid_forward
}

#[inline(always)]
fn sigmoid_forward<const FMA: bool>(x: &[f32], y: &mut [f32]) {
    assert_eq!(x.len(), y.len(), "one output per input");
    for (y, x) in y.iter_mut().zip(x) {
        *y = 1.0 / (1.0 + crate::math::exp(-x));
    }
}

kernel! {
    /// `dx[i] = dy[i] · y[i] · (1 - y[i])`: the sigmoid's backward pass, given its output `y`.
    ///
    /// ```
    /// let mut dx = [0.0; 2];
    /// nn::__private::kernels::sigmoid_backward(&[0.5, 1.0], &[1.0, 1.0], &mut dx);
    /// assert_eq!(dx, [0.25, 0.0]);
    /// ```
    ///
    /// # Panics
    /// If the slices differ in length.
    pub fn sigmoid_backward(y: &[f32], dy: &[f32], dx: &mut [f32]) => sigmoid_gradient
}

#[inline(always)]
fn sigmoid_gradient<const FMA: bool>(y: &[f32], dy: &[f32], dx: &mut [f32]) {
    assert!(y.len() == dy.len() && dy.len() == dx.len(), "slices of different lengths");
    for ((dx, y), dy) in dx.iter_mut().zip(y).zip(dy) {
        *dx = dy * y * (1.0 - y);
    }
}

kernel! {
    /// `y[i] = x[i]` where `x[i] > 0` and `slope · x[i]` elsewhere: the leaky rectifier, or with
    /// a `slope` of 0 the rectifier, `max(x[i], 0)`.
    ///
    /// ```
    /// let mut y = [0.0; 3];
    /// nn::__private::kernels::rectify(&[-2.0, 0.0, 3.0], 0.0, &mut y);
    /// assert_eq!(y, [0.0, 0.0, 3.0]); // -0.0 == 0.0
    /// nn::__private::kernels::rectify(&[-2.0, 0.0, 3.0], 0.1, &mut y);
    /// assert_eq!(y, [-0.2, 0.0, 3.0]);
    /// ```
    ///
    /// # Panics
    /// If the slices differ in length.
    pub fn rectify(x: &[f32], slope: f32, y: &mut [f32]) => rectify_forward
}

#[inline(always)]
fn rectify_forward<const FMA: bool>(x: &[f32], slope: f32, y: &mut [f32]) {
    assert_eq!(x.len(), y.len(), "one output per input");
    // The factor is a select, not a branch: a unit's coin flip between firing or not would be
    // a misprediction each. A NaN input stays NaN (as in PyTorch), rather than hide as 0.
    for (y, x) in y.iter_mut().zip(x) {
        *y = x * if *x > 0.0 { 1.0 } else { slope };
    }
}

kernel! {
    /// `y[i] = max(y[i], 0)` in place, the same bits as [`rectify`] with a slope of 0: for a
    /// layer that rectifies its own output.
    ///
    /// ```
    /// let mut y = [-2.0, 0.0, 3.0];
    /// nn::__private::kernels::rectify_in_place(&mut y);
    /// assert_eq!(y, [0.0, 0.0, 3.0]);
    /// ```
    pub fn rectify_in_place(y: &mut [f32]) => rectify_own
}

#[inline(always)]
fn rectify_own<const FMA: bool>(y: &mut [f32]) {
    for y in y.iter_mut() {
        *y *= if *y > 0.0 { 1.0 } else { 0.0 };
    }
}

kernel! {
    /// `dx[i] = dy[i]` where `x[i] > 0`, and `dy[i] · slope` elsewhere: the backward pass of
    /// [`rectify`] (the derivative at 0 taken as `slope`, as PyTorch does).
    ///
    /// ```
    /// let mut dx = [9.0; 3];
    /// nn::__private::kernels::rectify_backward(&[-2.0, 0.0, 3.0], &[1.0, 1.0, 1.0], 0.0, &mut dx);
    /// assert_eq!(dx, [0.0, 0.0, 1.0]);
    /// ```
    ///
    /// # Panics
    /// If the slices differ in length.
    pub fn rectify_backward(x: &[f32], dy: &[f32], slope: f32, dx: &mut [f32]) => rectify_gradient
}

#[inline(always)]
fn rectify_gradient<const FMA: bool>(x: &[f32], dy: &[f32], slope: f32, dx: &mut [f32]) {
    assert!(x.len() == dy.len() && dy.len() == dx.len(), "slices of different lengths");
    for ((dx, x), dy) in dx.iter_mut().zip(x).zip(dy) {
        *dx = dy * if *x > 0.0 { 1.0 } else { slope };
    }
}

kernel! {
    /// Writes `softmax(x)` into `y` and returns `(m, ln Σ e^(x - m))` with `m = max x`, so that
    /// the log-sum-exp is their sum; kept apart, `x_i - m` loses no precision for large `x`.
    ///
    /// ```
    /// let mut y = [0.0; 2];
    /// let (max, log_sum) = nn::__private::kernels::softmax(&[1e4, 1e4], &mut y);
    /// assert_eq!((y, max, log_sum), ([0.5, 0.5], 1e4, std::f32::consts::LN_2));
    /// ```
    ///
    /// # Panics
    /// If the slices differ in length.
    pub fn softmax(x: &[f32], y: &mut [f32]) -> (f32, f32) => softmax_forward
}

#[inline(always)]
fn softmax_forward<const FMA: bool>(x: &[f32], y: &mut [f32]) -> (f32, f32) {
    assert_eq!(x.len(), y.len(), "one output per input");
    let max = x.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    for (y, x) in y.iter_mut().zip(x) {
        *y = crate::math::exp(x - max);
    }
    let sum: f32 = y.iter().sum();
    for y in y.iter_mut() {
        *y /= sum;
    }
    (max, sum.ln())
}

kernel! {
    /// Softmax cross-entropy of logits `z` against targets `t` (see
    /// [`CrossEntropy`](crate::losses::CrossEntropy)): returns the loss and writes its gradient,
    /// `softmax(z) Σ t - t`. Terms whose target is zero add nothing, even where `z` is `-∞`.
    ///
    /// ```
    /// let mut gradient = [0.0; 2];
    /// let loss = nn::__private::kernels::softmax_cross_entropy(&[1e4, 1e4], &[1.0, 0.0], &mut gradient);
    /// assert_eq!((loss, gradient), (std::f32::consts::LN_2, [-0.5, 0.5]));
    /// ```
    ///
    /// # Panics
    /// If the slices differ in length.
    pub fn softmax_cross_entropy(z: &[f32], t: &[f32], gradient: &mut [f32]) -> f32 => cross_entropy
}

#[inline(always)]
fn cross_entropy<const FMA: bool>(z: &[f32], t: &[f32], gradient: &mut [f32]) -> f32 {
    assert!(z.len() == t.len() && t.len() == gradient.len(), "slices of different lengths");
    let (max, log_sum) = softmax_forward::<FMA>(z, gradient);
    let target_mass: f32 = t.iter().sum();
    let mut loss = 0.0;
    for ((g, z), t) in gradient.iter_mut().zip(z).zip(t) {
        // A select, not a branch, so the loop vectorises.
        let term = t * (log_sum - (z - max));
        loss += if *t != 0.0 { term } else { 0.0 };
        *g = *g * target_mass - t;
    }
    loss
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernels::reference::{values, SIZES};

    #[test]
    fn largest_magnitude_is_the_largest_absolute_value_or_nan_first() {
        for n in [0, 1, 7, 8, 9, 33, 100] {
            let x: Vec<f32> = (0..n).map(|i| (i as f32 - 40.0) * 0.5).collect();
            let expected = x.iter().fold(0.0f32, |m, v| m.max(v.abs()));
            assert_eq!(largest_magnitude(&x), expected, "{n}");
            assert_eq!(largest_magnitude_impl::<false>(&x), expected, "{n}");
            for at in 0..n {
                let mut y = x.clone();
                y[at] = f32::NEG_INFINITY;
                assert_eq!(largest_magnitude(&y), f32::INFINITY);
                y[(at * 7) % n] = -f32::NAN;
                assert!(largest_magnitude(&y).is_nan());
            }
        }
    }

    #[test]
    fn all_finite_finds_any_non_finite_value_anywhere() {
        for n in SIZES {
            let x = values(n, 9);
            assert!(all_finite(&x) && all_finite_impl::<false>(&x), "{n}");
            for bad in [f32::NAN, f32::INFINITY, f32::NEG_INFINITY, -f32::NAN] {
                for at in [0, n / 2, n.saturating_sub(1)].into_iter().filter(|&at| at < n) {
                    let mut x = x.clone();
                    x[at] = bad;
                    assert!(!all_finite(&x) && !all_finite_impl::<false>(&x), "{bad} at {at} of {n}");
                }
            }
        }
        assert!(all_finite(&[f32::MAX, f32::MIN, f32::MIN_POSITIVE, -0.0]));
    }

    #[test]
    fn sigmoid_matches_the_scalar_formula() {
        for n in SIZES {
            let x: Vec<f32> = values(n, 1).iter().map(|v| v * 20.0).collect();
            let mut y = vec![0.0; n];
            sigmoid(&x, &mut y);
            for (x, y) in x.iter().zip(&y) {
                crate::testing::assert_close!(*y, (1.0 / (1.0 + f64::from(-x).exp())) as f32, 1e-6);
            }
            let (dy, mut dx) = (values(n, 2), vec![0.0; n]);
            sigmoid_backward(&y, &dy, &mut dx);
            for ((dx, y), dy) in dx.iter().zip(&y).zip(&dy) {
                assert_eq!(*dx, dy * y * (1.0 - y));
            }
        }
    }

    #[test]
    fn rectify_matches_the_scalar_formula() {
        for slope in [0.0, 0.01, 0.2] {
            for n in SIZES {
                let (x, dy) = (values(n, 3), values(n, 4));
                let (mut y, mut dx) = (vec![0.0; n], vec![0.0; n]);
                rectify(&x, slope, &mut y);
                rectify_backward(&x, &dy, slope, &mut dx);
                for (((x, y), dy), dx) in x.iter().zip(&y).zip(&dy).zip(&dx) {
                    let positive = *x > 0.0;
                    assert_eq!(*y, if positive { *x } else { x * slope });
                    assert_eq!(*dx, if positive { *dy } else { dy * slope });
                }
            }
        }
    }

    #[test]
    fn rectifying_in_place_gives_what_rectify_gives_bit_for_bit() {
        for n in SIZES {
            let mut x = values(n, 5);
            if n > 2 {
                x[1] = f32::NAN;
                x[2] = -0.0;
            }
            let mut expected = vec![0.0; n];
            rectify(&x, 0.0, &mut expected);
            rectify_in_place(&mut x);
            let bits = |values: &[f32]| values.iter().map(|v| v.to_bits()).collect::<Vec<_>>();
            assert_eq!(bits(&x), bits(&expected));
        }
    }

    #[test]
    fn nan_stays_nan() {
        let mut y = [0.0; 2];
        sigmoid(&[f32::NAN, 0.0], &mut y);
        assert!(y[0].is_nan());
        for slope in [0.0, 0.1] {
            rectify(&[f32::NAN, 1.0], slope, &mut y);
            assert!(y[0].is_nan());
        }
    }
}

kernel! {
    /// Whether every value of `x` is finite (neither NaN nor infinite): the check a training
    /// step makes on each input, so it runs on the widest vectors, without an exit per value.
    ///
    /// ```
    /// assert!(nn::__private::kernels::all_finite(&[0.0, -1e30, 5.0]));
    /// assert!(!nn::__private::kernels::all_finite(&[0.0, f32::INFINITY]));
    /// assert!(!nn::__private::kernels::all_finite(&[f32::NAN]));
    /// ```
    pub fn all_finite(x: &[f32]) -> bool => all_finite_impl
}

kernel! {
    /// The largest magnitude in `x` (0 for none): NaN if `x` holds a NaN, else infinity if it
    /// holds an infinity. How a training step bounds its updates before making them.
    ///
    /// ```
    /// use nn::__private::kernels::largest_magnitude;
    ///
    /// assert_eq!(largest_magnitude(&[0.5, -3.0, 2.0]), 3.0);
    /// assert_eq!(largest_magnitude(&[1.0, f32::NEG_INFINITY]), f32::INFINITY);
    /// assert!(largest_magnitude(&[f32::INFINITY, f32::NAN, 1.0]).is_nan());
    /// ```
    pub fn largest_magnitude(x: &[f32]) -> f32 => largest_magnitude_impl
}

/// The bits of `f32::INFINITY`: a value is finite exactly when its bits without the sign are
/// below these.
pub(super) const INFINITY_BITS: u32 = 0x7f80_0000;

#[inline(always)]
fn all_finite_impl<const FMA: bool>(x: &[f32]) -> bool {
    largest_magnitude_bits(x) < INFINITY_BITS
}

#[inline(always)]
fn largest_magnitude_impl<const FMA: bool>(x: &[f32]) -> f32 {
    f32::from_bits(largest_magnitude_bits(x))
}

/// The largest bits of `x`'s values without their signs: the largest magnitude, and above every
/// finite value's and infinity's, a NaN's. An integer maximum over the slice is a reduction the
/// loop vectoriser handles (a test with an exit per value, or flags kept per lane, it does not).
#[inline(always)]
fn largest_magnitude_bits(x: &[f32]) -> u32 {
    x.iter().fold(0, |largest: u32, value| largest.max(magnitude_bits(*value)))
}

/// The bits of `x` without its sign: ordered as the magnitudes are, with every NaN above
/// infinity.
#[inline(always)]
pub(super) fn magnitude_bits(x: f32) -> u32 {
    x.to_bits() & !SIGN_BIT
}

/// The sign bit of an `f32`.
const SIGN_BIT: u32 = 0x8000_0000;
