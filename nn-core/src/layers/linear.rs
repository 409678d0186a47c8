//! The fully connected layer.

use crate::heap::{self, AsFlat, CacheAligned};
use crate::init::Init;
use crate::kernels::{self, PanelScratch};
use crate::network::Update;
use rand::Rng;

/// A fully connected layer, `y = W x + b`, with `I` inputs and `O` outputs.
///
/// The weight is stored like PyTorch's `nn.Linear`: `O` rows of `I` columns, so `weight[o]` holds
/// the weights into output `o`. Both parameters live on the heap. Parameter gradients are passed
/// in as flat slices shaped like the parameters.
///
/// ```
/// use nn_core::layers::Linear;
/// use nn_core::init::Init;
/// use rand::SeedableRng;
///
/// let mut rng = rand_pcg::Pcg64Mcg::seed_from_u64(0);
/// let layer = Linear::<3, 2>::new(Init::Xavier, &mut rng);
/// let mut y = [0.0; 2];
/// layer.forward(&[1.0, 0.0, 0.0], &mut y);
/// assert_eq!(y, [layer.weight[0][0], layer.weight[1][0]]);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Linear<const I: usize, const O: usize> {
    /// The weights, `O` rows of `I` (PyTorch's `weight`), starting on a cache line.
    pub weight: Box<CacheAligned<[[f32; I]; O]>>,
    /// The biases, one per output (PyTorch's `bias`), starting on a cache line.
    pub bias: Box<CacheAligned<[f32; O]>>,
}

impl<const I: usize, const O: usize> Linear<I, O> {
    /// The number of parameters: `I * O` weights and `O` biases.
    pub const PARAMETERS: usize = I * O + O;

    /// A layer with weights drawn from `init` and zero biases.
    pub fn new<R: Rng + ?Sized>(init: Init, rng: &mut R) -> Self {
        let mut layer = Self::zeroed();
        init.fill(layer.weight.as_flat_mut(), I, O, rng);
        layer
    }

    /// A layer whose parameters are all zero (the starting point for loading a saved model).
    pub fn zeroed() -> Self {
        Self { weight: heap::zeroed_matrix(), bias: heap::zeroed_array() }
    }

    /// `y = W x + b`.
    pub fn forward(&self, x: &[f32; I], y: &mut [f32; O]) {
        kernels::dense_forward(self.weight.as_flat(), &self.bias[..], x, y);
    }

    /// Back-propagates `dy = ∂L/∂y` for the input `x` of the last forward pass.
    ///
    /// Writes `∂L/∂x = Wᵀ dy` into `dx` when given (the first layer of a network needs no input
    /// gradient and passes `None`). With [`Update::Accumulate`] it adds `∂L/∂W = dy xᵀ` and
    /// `∂L/∂b = dy` to the gradient slices; with [`Update::Sgd`] it applies `W -= lr · dy xᵀ`
    /// and `b -= lr · dy` in the same sweep over `W` that computes `dx`, leaving them alone.
    ///
    /// ```
    /// use nn_core::layers::Linear;
    /// use nn_core::Update;
    ///
    /// let mut layer = Linear::<2, 1>::zeroed();
    /// layer.weight[0] = [1.0, 2.0];
    /// let (mut weight_gradient, mut bias_gradient, mut dx) = ([0.0; 2], [0.0], [0.0; 2]);
    /// layer.backward(&[3.0, 4.0], &[0.5], Some(&mut dx), &mut weight_gradient, &mut bias_gradient, Update::Accumulate);
    /// assert_eq!((dx, weight_gradient, bias_gradient), ([0.5, 1.0], [1.5, 2.0], [0.5]));
    /// ```
    ///
    /// # Panics
    /// If the gradient slices are not shaped like the parameters.
    pub fn backward(
        &mut self,
        x: &[f32; I],
        dy: &[f32; O],
        dx: Option<&mut [f32; I]>,
        weight_gradient: &mut [f32],
        bias_gradient: &mut [f32],
        update: Update,
    ) {
        let dx = dx.map(|dx| &mut dx[..]);
        match update {
            Update::Accumulate => {
                kernels::dense_accumulate(self.weight.as_flat(), x, dy, weight_gradient, bias_gradient, dx)
            }
            Update::Sgd { learning_rate } => {
                kernels::dense_backward_sgd(self.weight.as_flat_mut(), &mut self.bias[..], x, dy, dx, learning_rate)
            }
        }
    }

    /// `y[r] = W x[r] + b` for every row of a batch.
    ///
    /// ```
    /// use nn_core::layers::Linear;
    ///
    /// let mut layer = Linear::<2, 1>::zeroed();
    /// layer.weight[0] = [1.0, 2.0];
    /// let mut y = [[0.0]; 2];
    /// layer.forward_rows(&[[1.0, 0.0], [0.0, 1.0]], &mut y, &mut Default::default());
    /// assert_eq!(y, [[1.0], [2.0]]);
    /// ```
    ///
    /// # Panics
    /// If `x` and `y` have different numbers of rows.
    pub fn forward_rows(&self, x: &[[f32; I]], y: &mut [[f32; O]], scratch: &mut PanelScratch) {
        assert_eq!(x.len(), y.len(), "one output row per input row");
        let (weight, bias) = (self.weight.as_flat(), &self.bias[..]);
        kernels::dense_forward_rows(weight, bias, x.as_flattened(), y.as_flattened_mut(), scratch);
    }

    /// Back-propagates a batch: writes `dx[r] = Wᵀ dy[r]` when given, and `Σ_r dy[r] x[r]ᵀ` and
    /// `Σ_r dy[r]` into the gradient slices (overwriting them). With [`Update::Sgd`] it then
    /// applies `W -= lr · ∂W`, `b -= lr · ∂b` (`dx` is computed with the old weights).
    ///
    /// # Panics
    /// If the row counts differ or the gradient slices are not shaped like the parameters.
    pub fn backward_rows(
        &mut self,
        x: &[[f32; I]],
        dy: &[[f32; O]],
        dx: Option<&mut [[f32; I]]>,
        weight_gradient: &mut [f32],
        bias_gradient: &mut [f32],
        update: Update,
    ) {
        assert_eq!(x.len(), dy.len(), "one output gradient row per input row");
        let dx = dx.map(|dx| dx.as_flattened_mut());
        kernels::dense_backward_rows(
            self.weight.as_flat(),
            x.as_flattened(),
            dy.as_flattened(),
            weight_gradient,
            bias_gradient,
            dx,
        );
        if let Update::Sgd { learning_rate } = update {
            kernels::axpy(self.weight.as_flat_mut(), -learning_rate, weight_gradient);
            kernels::axpy(&mut self.bias[..], -learning_rate, bias_gradient);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernels::{axpy, dot};
    use crate::testing::{assert_close, numeric_derivative, sample_values};
    use rand::SeedableRng;

    const I: usize = 5;
    const O: usize = 3;

    fn layer() -> Linear<I, O> {
        let mut rng = rand_pcg::Pcg64Mcg::seed_from_u64(3);
        let mut layer = Linear::new(Init::Xavier, &mut rng);
        layer.bias.copy_from_slice(&sample_values::<O>(4));
        layer
    }

    /// A scalar function of the output whose gradient is `weights`: `L = Σ weights[o] · y[o]`.
    fn objective(layer: &Linear<I, O>, x: &[f32; I], weights: &[f32; O]) -> f32 {
        let mut y = [0.0; O];
        layer.forward(x, &mut y);
        dot(&y, weights)
    }

    /// `(dx, weight gradient, bias gradient)` of one accumulating backward pass.
    fn accumulated(layer: &mut Linear<I, O>, x: &[f32; I], dy: &[f32; O]) -> ([f32; I], Vec<f32>, Vec<f32>) {
        let (mut dx, mut weight_gradient, mut bias_gradient) = ([0.0; I], vec![0.0; I * O], vec![0.0; O]);
        layer.backward(x, dy, Some(&mut dx), &mut weight_gradient, &mut bias_gradient, Update::Accumulate);
        (dx, weight_gradient, bias_gradient)
    }

    #[test]
    fn gradients_match_finite_differences() {
        let mut layer = layer();
        let x = sample_values::<I>(5);
        let dy = sample_values::<O>(6);
        let (dx, weight_gradient, bias_gradient) = accumulated(&mut layer, &x, &dy);

        let mut x_probe = x;
        for (i, analytic) in dx.into_iter().enumerate() {
            let numeric = numeric_derivative(&mut x_probe, i, |x| objective(&layer, x.try_into().unwrap(), &dy));
            assert_close!(analytic, numeric, 1e-3);
        }
        for (index, analytic) in weight_gradient.into_iter().enumerate() {
            let mut probe = layer.clone();
            let numeric = numeric_derivative(layer.weight.as_flat_mut(), index, |w| {
                probe.weight.as_flat_mut().copy_from_slice(w);
                objective(&probe, &x, &dy)
            });
            assert_close!(analytic, numeric, 1e-3);
        }
        for (o, analytic) in bias_gradient.into_iter().enumerate() {
            let mut probe = layer.clone();
            let numeric = numeric_derivative(&mut layer.bias[..], o, |b| {
                probe.bias.copy_from_slice(b);
                objective(&probe, &x, &dy)
            });
            assert_close!(analytic, numeric, 1e-3);
        }
    }

    #[test]
    fn fused_sgd_equals_accumulate_then_step() {
        let (x, dy, learning_rate) = (sample_values::<I>(7), sample_values::<O>(8), 0.1);
        let mut fused = layer();
        let mut fused_dx = [0.0; I];
        let (mut unused_weight, mut unused_bias) = (vec![0.0; I * O], vec![0.0; O]);
        fused.backward(
            &x,
            &dy,
            Some(&mut fused_dx),
            &mut unused_weight,
            &mut unused_bias,
            Update::Sgd { learning_rate },
        );
        assert!(unused_weight.iter().chain(&unused_bias).all(|g| *g == 0.0));

        let mut reference = layer();
        let (reference_dx, weight_gradient, bias_gradient) = accumulated(&mut reference, &x, &dy);
        axpy(reference.weight.as_flat_mut(), -learning_rate, &weight_gradient);
        axpy(&mut reference.bias[..], -learning_rate, &bias_gradient);

        for (a, b) in fused_dx.iter().zip(&reference_dx) {
            assert_close!(*a, *b, 1e-6);
        }
        for (a, b) in fused.weight.as_flat().iter().zip(reference.weight.as_flat()) {
            assert_close!(*a, *b, 1e-6);
        }
        for (a, b) in fused.bias.iter().zip(reference.bias.iter()) {
            assert_close!(*a, *b, 1e-6);
        }
    }

    #[test]
    fn batch_rows_equal_samples_one_by_one() {
        let mut layer = layer();
        let x: Vec<[f32; I]> = (0..6).map(|seed| sample_values::<I>(20 + seed)).collect();
        let dy: Vec<[f32; O]> = (0..6).map(|seed| sample_values::<O>(30 + seed)).collect();
        let mut y = vec![[0.0; O]; 6];
        layer.forward_rows(&x, &mut y, &mut PanelScratch::default());
        let (mut dx, mut weight_gradient, mut bias_gradient) = (vec![[0.0; I]; 6], vec![0.0; I * O], vec![0.0; O]);
        layer.backward_rows(&x, &dy, Some(&mut dx), &mut weight_gradient, &mut bias_gradient, Update::Accumulate);

        let (mut expected_weight, mut expected_bias) = (vec![0.0; I * O], vec![0.0; O]);
        for row in 0..6 {
            let mut expected_y = [0.0; O];
            layer.forward(&x[row], &mut expected_y);
            let (expected_dx, w, b) = accumulated(&mut layer, &x[row], &dy[row]);
            axpy(&mut expected_weight, 1.0, &w);
            axpy(&mut expected_bias, 1.0, &b);
            for (a, e) in y[row].iter().chain(&dx[row]).zip(expected_y.iter().chain(&expected_dx)) {
                assert_close!(*a, *e, 1e-5);
            }
        }
        for (a, e) in weight_gradient.iter().chain(&bias_gradient).zip(expected_weight.iter().chain(&expected_bias)) {
            assert_close!(*a, *e, 1e-5);
        }
    }
}
