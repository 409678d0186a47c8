//! The scalar loops every layer is built from, written so that LLVM vectorises them.
//!
//! A float sum is not reassociated by the compiler, so [`dot`] keeps eight independent partial
//! sums; the element-wise loops vectorise as written.

const LANES: usize = 8;

/// `Σ a[i] * b[i]`, with eight partial sums so the loop vectorises.
///
/// ```
/// assert_eq!(nn_core::kernels::dot(&[1.0, 2.0, 3.0], &[4.0, 5.0, 6.0]), 32.0);
/// ```
#[inline]
pub fn dot(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len(), "dot of slices of different lengths");
    let mut partial = [0.0f32; LANES];
    let (a_chunks, a_rest) = a.as_chunks::<LANES>();
    let (b_chunks, b_rest) = b.as_chunks::<LANES>();
    for (x, y) in a_chunks.iter().zip(b_chunks) {
        for lane in 0..LANES {
            partial[lane] += x[lane] * y[lane];
        }
    }
    let tail: f32 = a_rest.iter().zip(b_rest).map(|(x, y)| x * y).sum();
    partial.iter().sum::<f32>() + tail
}

/// `y[i] += alpha * x[i]` (BLAS `axpy`).
///
/// ```
/// let mut y = [1.0, 1.0];
/// nn_core::kernels::axpy(&mut y, 2.0, &[3.0, 4.0]);
/// assert_eq!(y, [7.0, 9.0]);
/// ```
#[inline]
pub fn axpy(y: &mut [f32], alpha: f32, x: &[f32]) {
    assert_eq!(y.len(), x.len(), "axpy of slices of different lengths");
    for (y, x) in y.iter_mut().zip(x) {
        *y += alpha * x;
    }
}

/// One row of a fused Linear backward pass with plain SGD: passes the gradient to the layer
/// below through the old weights (`dx[i] += delta * w[i]`) and updates the weights in the same
/// sweep (`w[i] -= step * x[i]`, where `step = learning_rate * delta`).
///
/// ```
/// let mut w = [1.0, 2.0];
/// let mut dx = [0.0, 0.0];
/// nn_core::kernels::backprop_and_step(&mut w, &[1.0, 1.0], &mut dx, 0.5, 0.1);
/// assert_eq!(dx, [0.5, 1.0]);
/// assert_eq!(w, [0.9, 1.9]);
/// ```
#[inline]
pub fn backprop_and_step(w: &mut [f32], x: &[f32], dx: &mut [f32], delta: f32, step: f32) {
    assert!(w.len() == x.len() && w.len() == dx.len(), "slices of different lengths");
    for ((w, x), dx) in w.iter_mut().zip(x).zip(dx.iter_mut()) {
        *dx += delta * *w;
        *w -= step * x;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::assert_close;

    fn ramp(n: usize, scale: f32) -> Vec<f32> {
        (0..n).map(|i| ((i * 7919) % 23) as f32 * scale - 1.0).collect()
    }

    #[test]
    fn dot_matches_the_plain_sum_on_odd_lengths() {
        for n in [0, 1, 3, 8, 17, 100, 784] {
            let (a, b) = (ramp(n, 0.1), ramp(n + 5, 0.07)[5..].to_vec());
            let plain: f64 = a.iter().zip(&b).map(|(x, y)| (*x as f64) * (*y as f64)).sum();
            assert_close!(dot(&a, &b), plain as f32, 1e-5);
        }
    }

    #[test]
    fn backprop_and_step_equals_axpy_twice() {
        let (mut w, x) = (ramp(17, 0.1), ramp(17, 0.05));
        let mut dx = vec![0.5; 17];
        let (mut expected_w, mut expected_dx) = (w.clone(), dx.clone());
        axpy(&mut expected_dx, 0.3, &expected_w);
        axpy(&mut expected_w, -0.01, &x);
        backprop_and_step(&mut w, &x, &mut dx, 0.3, 0.01);
        assert_eq!((w, dx), (expected_w, expected_dx));
    }
}
