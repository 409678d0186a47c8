//! Element-wise activations and softmax. They hold no parameters.
//!
//! Each one maps `x` to `y` of the same size and back-propagates `dy = ∂L/∂y` to
//! `dx = ∂L/∂x`, given both the input and the output of its forward pass. The element-wise
//! loops run in [`kernels`], compiled for the widest vectors the CPU has.

use crate::kernels;

/// An activation function between layers.
///
/// ```
/// use nn_core::activations::{Activation, Sigmoid};
///
/// let mut y = [0.0; 2];
/// Sigmoid.forward(&[0.0, 100.0], &mut y);
/// assert_eq!(y, [0.5, 1.0]);
/// let mut dx = [0.0; 2];
/// Sigmoid.backward(&[0.0, 100.0], &y, &[1.0, 1.0], &mut dx);
/// assert_eq!(dx, [0.25, 0.0]);
/// ```
pub trait Activation {
    /// `y = f(x)`.
    fn forward<const N: usize>(&self, x: &[f32; N], y: &mut [f32; N]);
    /// `dx = J_f(x)ᵀ dy`, where `y = f(x)` is the output of the forward pass.
    fn backward<const N: usize>(&self, x: &[f32; N], y: &[f32; N], dy: &[f32; N], dx: &mut [f32; N]);

    /// [`forward`](Activation::forward) on every row of a batch.
    fn forward_rows<const N: usize>(&self, x: &[[f32; N]], y: &mut [[f32; N]]) {
        assert_eq!(x.len(), y.len(), "one output row per input row");
        for (x, y) in x.iter().zip(y) {
            self.forward(x, y);
        }
    }

    /// [`backward`](Activation::backward) on every row of a batch.
    fn backward_rows<const N: usize>(&self, x: &[[f32; N]], y: &[[f32; N]], dy: &[[f32; N]], dx: &mut [[f32; N]]) {
        assert!(x.len() == y.len() && y.len() == dy.len() && dy.len() == dx.len(), "rows of different counts");
        for (((x, y), dy), dx) in x.iter().zip(y).zip(dy).zip(dx) {
            self.backward(x, y, dy, dx);
        }
    }
}

/// The logistic function, `σ(x) = 1 / (1 + e^-x)`; `σ'(x) = σ(x)(1 - σ(x))`.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Sigmoid;

impl Activation for Sigmoid {
    fn forward<const N: usize>(&self, x: &[f32; N], y: &mut [f32; N]) {
        kernels::sigmoid(x, y);
    }

    fn backward<const N: usize>(&self, _x: &[f32; N], y: &[f32; N], dy: &[f32; N], dx: &mut [f32; N]) {
        kernels::sigmoid_backward(y, dy, dx);
    }

    fn forward_rows<const N: usize>(&self, x: &[[f32; N]], y: &mut [[f32; N]]) {
        assert_eq!(x.len(), y.len(), "one output row per input row");
        kernels::sigmoid(x.as_flattened(), y.as_flattened_mut());
    }

    fn backward_rows<const N: usize>(&self, _x: &[[f32; N]], y: &[[f32; N]], dy: &[[f32; N]], dx: &mut [[f32; N]]) {
        kernels::sigmoid_backward(y.as_flattened(), dy.as_flattened(), dx.as_flattened_mut());
    }
}

/// The rectifier, `max(0, x)`; its derivative is taken as 0 at `x = 0`, and a NaN input gives a
/// NaN output, as in PyTorch.
///
/// ```
/// use nn_core::activations::{Activation, ReLU};
///
/// let mut y = [0.0; 3];
/// ReLU.forward(&[-1.0, 0.0, 2.0], &mut y);
/// assert_eq!(y, [0.0, 0.0, 2.0]);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct ReLU;

impl Activation for ReLU {
    fn forward<const N: usize>(&self, x: &[f32; N], y: &mut [f32; N]) {
        kernels::rectify(x, 0.0, y);
    }

    fn backward<const N: usize>(&self, x: &[f32; N], _y: &[f32; N], dy: &[f32; N], dx: &mut [f32; N]) {
        kernels::rectify_backward(x, dy, 0.0, dx);
    }

    fn forward_rows<const N: usize>(&self, x: &[[f32; N]], y: &mut [[f32; N]]) {
        assert_eq!(x.len(), y.len(), "one output row per input row");
        kernels::rectify(x.as_flattened(), 0.0, y.as_flattened_mut());
    }

    fn backward_rows<const N: usize>(&self, x: &[[f32; N]], _y: &[[f32; N]], dy: &[[f32; N]], dx: &mut [[f32; N]]) {
        kernels::rectify_backward(x.as_flattened(), dy.as_flattened(), 0.0, dx.as_flattened_mut());
    }
}

/// The leaky rectifier, `x` for `x > 0` and `slope · x` otherwise.
///
/// ```
/// use nn_core::activations::{Activation, LeakyReLU};
///
/// let mut y = [0.0; 2];
/// LeakyReLU { slope: 0.1 }.forward(&[-2.0, 3.0], &mut y);
/// assert_eq!(y, [-0.2, 3.0]);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LeakyReLU {
    /// The gradient for negative inputs.
    pub slope: f32,
}

impl LeakyReLU {
    /// The slope used when none is given: 0.01, as in PyTorch.
    pub const DEFAULT_SLOPE: f32 = 0.01;
}

impl Default for LeakyReLU {
    fn default() -> Self {
        Self { slope: Self::DEFAULT_SLOPE }
    }
}

impl Activation for LeakyReLU {
    fn forward<const N: usize>(&self, x: &[f32; N], y: &mut [f32; N]) {
        kernels::rectify(x, self.slope, y);
    }

    fn backward<const N: usize>(&self, x: &[f32; N], _y: &[f32; N], dy: &[f32; N], dx: &mut [f32; N]) {
        kernels::rectify_backward(x, dy, self.slope, dx);
    }

    fn forward_rows<const N: usize>(&self, x: &[[f32; N]], y: &mut [[f32; N]]) {
        assert_eq!(x.len(), y.len(), "one output row per input row");
        kernels::rectify(x.as_flattened(), self.slope, y.as_flattened_mut());
    }

    fn backward_rows<const N: usize>(&self, x: &[[f32; N]], _y: &[[f32; N]], dy: &[[f32; N]], dx: &mut [[f32; N]]) {
        kernels::rectify_backward(x.as_flattened(), dy.as_flattened(), self.slope, dx.as_flattened_mut());
    }
}

/// The hyperbolic tangent; `tanh'(x) = 1 - tanh²(x)`.
///
/// ```
/// use nn_core::activations::{Activation, Tanh};
///
/// let mut y = [0.0; 1];
/// Tanh.forward(&[0.0], &mut y);
/// assert_eq!(y, [0.0]);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Tanh;

impl Activation for Tanh {
    fn forward<const N: usize>(&self, x: &[f32; N], y: &mut [f32; N]) {
        for (y, x) in y.iter_mut().zip(x) {
            *y = x.tanh();
        }
    }

    fn backward<const N: usize>(&self, _x: &[f32; N], y: &[f32; N], dy: &[f32; N], dx: &mut [f32; N]) {
        for ((dx, y), dy) in dx.iter_mut().zip(y).zip(dy) {
            *dx = dy * (1.0 - y * y);
        }
    }
}

/// `softmax(x)_i = e^(x_i - m) / Σ_j e^(x_j - m)` with `m = max x`, so large inputs do not
/// overflow. Back-propagation: `dx = y ⊙ (dy - ⟨dy, y⟩)`.
///
/// To train a classifier, end the network with its logits and use
/// [`CrossEntropy`](crate::losses::CrossEntropy), which fuses softmax into the loss; a trailing
/// `Softmax` is for networks whose output must itself be a distribution.
///
/// ```
/// use nn_core::activations::{Activation, Softmax};
///
/// let mut y = [0.0; 2];
/// Softmax.forward(&[1e4, 1e4], &mut y);
/// assert_eq!(y, [0.5, 0.5]);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Softmax;

impl Activation for Softmax {
    fn forward<const N: usize>(&self, x: &[f32; N], y: &mut [f32; N]) {
        kernels::softmax(x, y);
    }

    fn backward<const N: usize>(&self, _x: &[f32; N], y: &[f32; N], dy: &[f32; N], dx: &mut [f32; N]) {
        let inner = crate::kernels::dot(dy, y);
        for ((dx, y), dy) in dx.iter_mut().zip(y).zip(dy) {
            *dx = y * (dy - inner);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{assert_close, numeric_derivative, sample_values};

    const N: usize = 6;

    /// Checks `backward` against finite differences of `L = Σ dy_i · f(x)_i`.
    fn check_gradient(activation: impl Activation, scale: f32) {
        let mut x = sample_values::<N>(11).map(|v| v * scale);
        let dy = sample_values::<N>(12);
        let (mut y, mut dx) = ([0.0; N], [0.0; N]);
        activation.forward(&x, &mut y);
        activation.backward(&x, &y, &dy, &mut dx);
        for (i, analytic) in dx.into_iter().enumerate() {
            let numeric = numeric_derivative(&mut x, i, |x| {
                let mut y = [0.0; N];
                activation.forward(x.try_into().unwrap(), &mut y);
                crate::kernels::dot(&y, &dy)
            });
            assert_close!(analytic, numeric, 2e-3);
        }
    }

    #[test]
    fn sigmoid_gradient() {
        check_gradient(Sigmoid, 3.0);
    }

    #[test]
    fn relu_gradient() {
        check_gradient(ReLU, 3.0);
    }

    #[test]
    fn leaky_relu_gradient() {
        check_gradient(LeakyReLU { slope: 0.2 }, 3.0);
        check_gradient(LeakyReLU::default(), 3.0);
    }

    #[test]
    fn tanh_gradient() {
        check_gradient(Tanh, 2.0);
    }

    #[test]
    fn softmax_gradient() {
        check_gradient(Softmax, 3.0);
    }

    #[test]
    fn softmax_is_stable_for_huge_inputs() {
        let mut y = [0.0; 3];
        let (max, log_sum) = kernels::softmax(&[1e4, -1e4, 1e4 - 1.0], &mut y);
        assert!(y.iter().all(|p| p.is_finite()));
        assert_close!(y.iter().sum::<f32>(), 1.0, 1e-6);
        assert_eq!(max, 1e4);
        assert_close!(log_sum, (1.0 + (-1.0f32).exp()).ln(), 1e-6);
    }

    #[test]
    fn sigmoid_saturates_without_nan() {
        let mut y = [0.0; 2];
        Sigmoid.forward(&[-1e4, 1e4], &mut y);
        assert_eq!(y, [0.0, 1.0]);
    }
}
