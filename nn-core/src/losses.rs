//! Loss functions: a scalar measure of how far an output is from its target, and its gradient.

/// A loss function over outputs of `N` values. Losses are shared by the threads of a batch
/// step, hence `Sync`.
///
/// ```
/// use nn::losses::{Loss, Mse};
///
/// let mut gradient = [0.0; 2];
/// let loss = Mse.loss_and_gradient(&[1.0, 0.0], &[0.0, 0.0], &mut gradient);
/// assert_eq!(loss, 0.5);
/// assert_eq!(gradient, [1.0, 0.0]);
/// ```
pub trait Loss: Sync {
    /// Whether this loss applies softmax itself and so expects raw scores (logits), not a
    /// network that already ends with `Softmax`.
    ///
    /// ```
    /// use nn::losses::{CrossEntropy, Loss, Mse};
    /// assert!(CrossEntropy::EXPECTS_LOGITS && !Mse::EXPECTS_LOGITS);
    /// ```
    const EXPECTS_LOGITS: bool = false;

    /// The loss of `output` against `target`.
    ///
    /// ```
    /// use nn::losses::{Loss, Mse};
    /// assert_eq!(Mse.loss(&[3.0, 1.0], &[1.0, 1.0]), 2.0);
    /// ```
    fn loss<const N: usize>(&self, output: &[f32; N], target: &[f32; N]) -> f32;

    /// The loss, with `∂loss/∂output` written into `gradient`.
    ///
    /// ```
    /// use nn::losses::{CrossEntropy, Loss};
    ///
    /// let mut gradient = [0.0; 2];
    /// let loss = CrossEntropy.loss_and_gradient(&[0.0, 0.0], &[1.0, 0.0], &mut gradient);
    /// assert!((loss - 2f32.ln()).abs() < 1e-6);
    /// assert_eq!(gradient, [-0.5, 0.5]); // softmax - target
    /// ```
    fn loss_and_gradient<const N: usize>(&self, output: &[f32; N], target: &[f32; N], gradient: &mut [f32; N]) -> f32;
}

/// Mean squared error, `L = (1/N) Σ (y_i - t_i)²`, with `∂L/∂y_i = 2 (y_i - t_i) / N`.
///
/// The same definition as PyTorch's `nn.MSELoss()` (mean reduction).
///
/// ```
/// use nn::losses::{Loss, Mse};
///
/// assert_eq!(Mse.loss(&[1.0, 3.0], &[0.0, 0.0]), 5.0);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Mse;

impl Loss for Mse {
    fn loss<const N: usize>(&self, output: &[f32; N], target: &[f32; N]) -> f32 {
        output.iter().zip(target).map(|(y, t)| (y - t) * (y - t)).sum::<f32>() / N as f32
    }

    fn loss_and_gradient<const N: usize>(&self, output: &[f32; N], target: &[f32; N], gradient: &mut [f32; N]) -> f32 {
        let scale = 2.0 / N as f32;
        for ((g, y), t) in gradient.iter_mut().zip(output).zip(target) {
            *g = scale * (y - t);
        }
        self.loss(output, target)
    }
}

/// Softmax cross-entropy on logits `z`: `L = -Σ t_i ln softmax(z)_i = (Σ t_i) LSE(z) - Σ t_i z_i`,
/// with `∂L/∂z_i = softmax(z)_i Σ t - t_i` (that is `softmax(z) - t` for a one-hot target).
///
/// Softmax is fused into the loss and computed through the log-sum-exp `LSE(z) = m + ln Σ e^(z_i - m)`
/// with `m = max z`, so logits of 1e4 give finite values. The same definition as PyTorch's
/// `nn.CrossEntropyLoss()` with probability targets. The network must end with its logits (no
/// trailing `Softmax`).
///
/// ```
/// use nn::losses::{CrossEntropy, Loss};
///
/// let mut gradient = [0.0; 2];
/// let loss = CrossEntropy.loss_and_gradient(&[1e4, 1e4], &[1.0, 0.0], &mut gradient);
/// assert_eq!(loss, std::f32::consts::LN_2);
/// assert_eq!(gradient, [-0.5, 0.5]);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct CrossEntropy;

impl Loss for CrossEntropy {
    const EXPECTS_LOGITS: bool = true;

    fn loss<const N: usize>(&self, output: &[f32; N], target: &[f32; N]) -> f32 {
        let mut probabilities = [0.0; N];
        self.loss_and_gradient(output, target, &mut probabilities)
    }

    fn loss_and_gradient<const N: usize>(&self, output: &[f32; N], target: &[f32; N], gradient: &mut [f32; N]) -> f32 {
        crate::kernels::softmax_cross_entropy(output, target, gradient)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{assert_close, numeric_derivative, sample_values};

    fn check_gradient(loss: impl Loss, target: [f32; 5]) {
        let mut output = sample_values::<5>(21).map(|v| v * 2.0);
        let mut gradient = [0.0; 5];
        loss.loss_and_gradient(&output, &target, &mut gradient);
        for (i, analytic) in gradient.into_iter().enumerate() {
            let numeric = numeric_derivative(&mut output, i, |y| loss.loss(y.try_into().unwrap(), &target));
            assert_close!(analytic, numeric, 2e-3);
        }
    }

    #[test]
    fn mse_gradient() {
        check_gradient(Mse, [0.0, 1.0, 0.0, 0.0, 0.0]);
        check_gradient(Mse, sample_values::<5>(22));
    }

    #[test]
    fn cross_entropy_gradient() {
        check_gradient(CrossEntropy, [0.0, 0.0, 1.0, 0.0, 0.0]);
        check_gradient(CrossEntropy, [0.1, 0.2, 0.3, 0.4, 0.0]);
    }

    #[test]
    fn cross_entropy_is_finite_for_huge_logits() {
        let mut gradient = [0.0; 3];
        let loss = CrossEntropy.loss_and_gradient(&[1e4, -1e4, 0.0], &[0.0, 1.0, 0.0], &mut gradient);
        assert_close!(loss, 2e4, 1e-6);
        assert_eq!(gradient, [1.0, -1.0, 0.0]);
    }

    /// From PyTorch 2.x:
    /// `torch.nn.CrossEntropyLoss()(torch.tensor([[2.0, 1.0, 0.1]]), torch.tensor([0]))` = 0.4170
    #[test]
    fn cross_entropy_matches_pytorch() {
        assert_close!(CrossEntropy.loss(&[2.0, 1.0, 0.1], &[1.0, 0.0, 0.0]), 0.4170, 1e-4);
    }
}
