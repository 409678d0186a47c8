//! The fully connected layer that reads a network's input.

use crate::heap::{self, AsFlat, CacheAligned};
use crate::init::Init;
use crate::kernels::{self, PanelScratch};
use crate::network::Update;
use rand::Rng;

/// A fully connected layer, `y = W x + b`, with `I` inputs and `O` outputs, that stores its
/// weight input-major and skips the inputs that are zero: the first layer of every network.
///
/// `weight[k]` holds the `O` weights fed by input `k` (the transpose of [`Linear`]'s and of
/// PyTorch's layout). A sample reads, and a training step writes, only the rows of its nonzero
/// inputs; data such as images is mostly zeros (81% of MNIST's pixels), so this does a fraction
/// of the work of a dense product. The layer computes no gradient for its input (nothing is
/// below it), which is why it only serves as a first layer.
///
/// [`Linear`]: super::Linear
///
/// ```
/// use nn_core::layers::InputLinear;
/// use nn_core::init::Init;
/// use rand::SeedableRng;
///
/// let mut rng = rand_pcg::Pcg64Mcg::seed_from_u64(0);
/// let layer = InputLinear::<3, 2>::new(Init::Xavier, &mut rng);
/// let mut y = [0.0; 2];
/// layer.forward(&[0.0, 1.0, 0.0], &mut y);
/// assert_eq!(y, layer.weight[1]);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct InputLinear<const I: usize, const O: usize> {
    /// The weights, `I` rows of `O` (`weight[k][o]` multiplies input `k` into output `o`),
    /// starting on a cache line.
    pub weight: Box<CacheAligned<[[f32; O]; I]>>,
    /// The biases, one per output (PyTorch's `bias`), starting on a cache line.
    pub bias: Box<CacheAligned<[f32; O]>>,
}

impl<const I: usize, const O: usize> InputLinear<I, O> {
    /// The number of parameters: `I * O` weights and `O` biases.
    pub const PARAMETERS: usize = I * O + O;

    /// A layer with weights drawn from `init` and zero biases. The weights are the ones
    /// [`Linear::new`](super::Linear::new) draws from the same generator, transposed.
    pub fn new<R: Rng + ?Sized>(init: Init, rng: &mut R) -> Self {
        let mut output_major = vec![0.0; I * O];
        init.fill(&mut output_major, I, O, rng);
        let mut layer = Self::zeroed();
        for (k, row) in layer.weight.iter_mut().enumerate() {
            for (o, weight) in row.iter_mut().enumerate() {
                *weight = output_major[o * I + k];
            }
        }
        layer
    }

    /// A layer whose parameters are all zero (the starting point for loading a saved model).
    pub fn zeroed() -> Self {
        Self { weight: heap::zeroed_matrix(), bias: heap::zeroed_array() }
    }

    /// `y = W x + b`, over the nonzero inputs.
    pub fn forward(&self, x: &[f32; I], y: &mut [f32; O]) {
        kernels::input_major_forward(self.weight.as_flat(), &self.bias[..], x, y);
    }

    /// Handles the parameter gradients of the last forward pass, given `dy = ∂L/∂y` for its
    /// input `x`: with [`Update::Accumulate`] it adds `∂L/∂W` and `∂L/∂b = dy` to the gradient
    /// slices (shaped like the parameters); with [`Update::Sgd`] it applies `W -= lr · ∂L/∂W`
    /// and `b -= lr · dy` at once, leaving them alone. Only the rows of nonzero inputs change.
    ///
    /// ```
    /// use nn_core::layers::InputLinear;
    /// use nn_core::Update;
    ///
    /// let mut layer = InputLinear::<2, 1>::zeroed();
    /// let (mut weight_gradient, mut bias_gradient) = ([0.0; 2], [0.0]);
    /// layer.backward(&[3.0, 0.0], &[0.5], &mut weight_gradient, &mut bias_gradient, Update::Accumulate);
    /// assert_eq!((weight_gradient, bias_gradient), ([1.5, 0.0], [0.5]));
    /// ```
    ///
    /// # Panics
    /// If the gradient slices are not shaped like the parameters.
    pub fn backward(
        &mut self,
        x: &[f32; I],
        dy: &[f32; O],
        weight_gradient: &mut [f32],
        bias_gradient: &mut [f32],
        update: Update,
    ) {
        match update {
            Update::Accumulate => {
                assert_eq!(bias_gradient.len(), O, "one bias gradient per output");
                kernels::input_major_update(weight_gradient, x, dy, 1.0);
                kernels::axpy(bias_gradient, 1.0, dy);
            }
            Update::Sgd { learning_rate } => {
                kernels::input_major_update(self.weight.as_flat_mut(), x, dy, -learning_rate);
                self.update_bias(dy, learning_rate);
            }
        }
    }

    /// The SGD step of the bias alone, `b -= learning_rate · dy` (for a layer whose weight update
    /// is deferred).
    ///
    /// ```
    /// let mut layer = nn_core::layers::InputLinear::<2, 1>::zeroed();
    /// layer.update_bias(&[0.5], 0.1);
    /// assert_eq!(layer.bias[0], -0.05);
    /// ```
    pub fn update_bias(&mut self, dy: &[f32; O], learning_rate: f32) {
        kernels::axpy(&mut self.bias[..], -learning_rate, dy);
    }

    /// `y[r] = W x[r] + b` for every row of a batch (a dense batch goes through a transposed copy
    /// of the weight in `scratch`; see [`kernels::input_major_forward_rows`]).
    ///
    /// ```
    /// use nn_core::layers::InputLinear;
    ///
    /// let mut layer = InputLinear::<2, 1>::zeroed();
    /// layer.weight[1] = [2.0];
    /// let mut y = [[0.0]; 2];
    /// layer.forward_rows(&[[1.0, 0.0], [0.0, 1.0]], &mut y, &mut Default::default());
    /// assert_eq!(y, [[0.0], [2.0]]);
    /// ```
    ///
    /// # Panics
    /// If `x` and `y` have different numbers of rows.
    pub fn forward_rows(&self, x: &[[f32; I]], y: &mut [[f32; O]], scratch: &mut PanelScratch) {
        assert_eq!(x.len(), y.len(), "one output row per input row");
        let (weight, bias) = (self.weight.as_flat(), &self.bias[..]);
        kernels::input_major_forward_rows(weight, bias, x.as_flattened(), y.as_flattened_mut(), scratch);
    }

    /// The parameter gradients of a batch, given `dy[r] = ∂L/∂y` for its rows `x[r]`: with
    /// [`Update::Accumulate`] it writes `Σ_r ∂L/∂W` and `Σ_r dy[r]` into the gradient slices
    /// (overwriting them); with [`Update::Sgd`] it applies `W -= lr · Σ_r ∂L/∂W` and
    /// `b -= lr · Σ_r dy[r]` at once, straight into the parameters (only the rows of inputs that
    /// are nonzero somewhere in the batch change), leaving the slices alone.
    ///
    /// ```
    /// use nn_core::layers::InputLinear;
    /// use nn_core::Update;
    ///
    /// let mut layer = InputLinear::<2, 1>::zeroed();
    /// let (mut weight_gradient, mut bias_gradient) = ([9.0; 2], [9.0]);
    /// let (x, dy) = ([[1.0, 0.0], [3.0, 0.0]], [[0.5], [1.0]]);
    /// layer.backward_rows(&x, &dy, &mut weight_gradient, &mut bias_gradient, Update::Accumulate);
    /// assert_eq!((weight_gradient, bias_gradient), ([3.5, 0.0], [1.5]));
    /// layer.backward_rows(&x, &dy, &mut weight_gradient, &mut bias_gradient, Update::Sgd { learning_rate: 0.5 });
    /// assert_eq!((layer.weight[0][0], layer.weight[1][0], layer.bias[0]), (-1.75, 0.0, -0.75));
    /// ```
    ///
    /// # Panics
    /// If the row counts differ or the gradient slices are not shaped like the parameters.
    pub fn backward_rows(
        &mut self,
        x: &[[f32; I]],
        dy: &[[f32; O]],
        weight_gradient: &mut [f32],
        bias_gradient: &mut [f32],
        update: Update,
    ) {
        assert_eq!(x.len(), dy.len(), "one output gradient row per input row");
        assert_eq!(bias_gradient.len(), O, "one bias gradient per output");
        let (rows, x, dy_flat) = (x.len(), x.as_flattened(), dy.as_flattened());
        match update {
            Update::Accumulate => {
                kernels::input_major_outer(x, dy_flat, rows, 1.0, weight_gradient, false);
                bias_gradient.fill(0.0);
                for dy in dy {
                    kernels::axpy(bias_gradient, 1.0, dy);
                }
            }
            Update::Sgd { learning_rate } => {
                kernels::input_major_outer(x, dy_flat, rows, -learning_rate, self.weight.as_flat_mut(), true);
                for dy in dy {
                    kernels::axpy(&mut self.bias[..], -learning_rate, dy);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernels::{axpy, dot};
    use crate::layers::Linear;
    use crate::testing::{assert_close, numeric_derivative, sample_values};
    use rand::SeedableRng;

    const I: usize = 20;
    const O: usize = 17;

    /// Sample values with some inputs zero, as the layer's sparse path sees them.
    fn input(seed: u64) -> [f32; I] {
        let mut x = sample_values::<I>(seed);
        x.iter_mut().step_by(4).for_each(|v| *v = 0.0);
        x
    }

    fn layer() -> InputLinear<I, O> {
        let mut rng = rand_pcg::Pcg64Mcg::seed_from_u64(3);
        let mut layer = InputLinear::new(Init::Xavier, &mut rng);
        layer.bias.copy_from_slice(&sample_values::<O>(4));
        layer
    }

    /// A scalar function of the output whose gradient is `weights`: `L = Σ weights[o] · y[o]`.
    fn objective(layer: &InputLinear<I, O>, x: &[f32; I], weights: &[f32; O]) -> f32 {
        let mut y = [0.0; O];
        layer.forward(x, &mut y);
        dot(&y, weights)
    }

    fn accumulated(layer: &mut InputLinear<I, O>, x: &[f32; I], dy: &[f32; O]) -> (Vec<f32>, Vec<f32>) {
        let (mut weight_gradient, mut bias_gradient) = (vec![0.0; I * O], vec![0.0; O]);
        layer.backward(x, dy, &mut weight_gradient, &mut bias_gradient, Update::Accumulate);
        (weight_gradient, bias_gradient)
    }

    #[test]
    fn computes_what_linear_computes_with_the_same_generator() {
        let mut rng = rand_pcg::Pcg64Mcg::seed_from_u64(5);
        let linear = Linear::<I, O>::new(Init::He, &mut rng);
        let mut rng = rand_pcg::Pcg64Mcg::seed_from_u64(5);
        let input_linear = InputLinear::<I, O>::new(Init::He, &mut rng);
        let x = input(6);
        let (mut expected, mut actual) = ([0.0; O], [0.0; O]);
        linear.forward(&x, &mut expected);
        input_linear.forward(&x, &mut actual);
        for (a, e) in actual.iter().zip(&expected) {
            assert_close!(*a, *e, 1e-6);
        }
    }

    #[test]
    fn gradients_match_finite_differences() {
        let mut layer = layer();
        let (x, dy) = (input(5), sample_values::<O>(6));
        let (weight_gradient, bias_gradient) = accumulated(&mut layer, &x, &dy);
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
        let (x, dy, learning_rate) = (input(7), sample_values::<O>(8), 0.1);
        let mut fused = layer();
        let (mut unused_weight, mut unused_bias) = (vec![0.0; I * O], vec![0.0; O]);
        fused.backward(&x, &dy, &mut unused_weight, &mut unused_bias, Update::Sgd { learning_rate });
        assert!(unused_weight.iter().chain(&unused_bias).all(|g| *g == 0.0));

        let mut reference = layer();
        let (weight_gradient, bias_gradient) = accumulated(&mut reference, &x, &dy);
        axpy(reference.weight.as_flat_mut(), -learning_rate, &weight_gradient);
        axpy(&mut reference.bias[..], -learning_rate, &bias_gradient);
        let parameters = |layer: &InputLinear<I, O>| [layer.weight.as_flat(), &layer.bias[..]].concat();
        for (a, b) in parameters(&fused).iter().zip(&parameters(&reference)) {
            assert_close!(*a, *b, 1e-6);
        }
    }

    #[test]
    fn fused_batch_sgd_equals_gradients_then_step() {
        let x: Vec<[f32; I]> = (0..5).map(|seed| input(40 + seed)).collect();
        let dy: Vec<[f32; O]> = (0..5).map(|seed| sample_values::<O>(50 + seed)).collect();
        let (mut fused, mut reference) = (layer(), layer());
        let (mut weight_gradient, mut bias_gradient) = (vec![0.0; I * O], vec![0.0; O]);
        fused.backward_rows(&x, &dy, &mut weight_gradient, &mut bias_gradient, Update::Sgd { learning_rate: 0.1 });
        assert!(weight_gradient.iter().chain(&bias_gradient).all(|g| *g == 0.0));
        reference.backward_rows(&x, &dy, &mut weight_gradient, &mut bias_gradient, Update::Accumulate);
        axpy(reference.weight.as_flat_mut(), -0.1, &weight_gradient);
        axpy(&mut reference.bias[..], -0.1, &bias_gradient);
        let parameters = |layer: &InputLinear<I, O>| [layer.weight.as_flat(), &layer.bias[..]].concat();
        for (a, b) in parameters(&fused).iter().zip(&parameters(&reference)) {
            assert_close!(*a, *b, 1e-6);
        }
    }

    #[test]
    fn batch_rows_equal_samples_one_by_one() {
        let mut layer = layer();
        let x: Vec<[f32; I]> = (0..7).map(|seed| input(20 + seed)).collect();
        let dy: Vec<[f32; O]> = (0..7).map(|seed| sample_values::<O>(30 + seed)).collect();
        let mut y = vec![[0.0; O]; 7];
        layer.forward_rows(&x, &mut y, &mut PanelScratch::default());
        let (mut weight_gradient, mut bias_gradient) = (vec![9.0; I * O], vec![9.0; O]);
        layer.backward_rows(&x, &dy, &mut weight_gradient, &mut bias_gradient, Update::Accumulate);

        let (mut expected_weight, mut expected_bias) = (vec![0.0; I * O], vec![0.0; O]);
        for row in 0..7 {
            let mut expected_y = [0.0; O];
            layer.forward(&x[row], &mut expected_y);
            let (w, b) = accumulated(&mut layer, &x[row], &dy[row]);
            axpy(&mut expected_weight, 1.0, &w);
            axpy(&mut expected_bias, 1.0, &b);
            for (a, e) in y[row].iter().zip(&expected_y) {
                assert_close!(*a, *e, 1e-5);
            }
        }
        for (a, e) in weight_gradient.iter().chain(&bias_gradient).zip(expected_weight.iter().chain(&expected_bias)) {
            assert_close!(*a, *e, 1e-5);
        }
    }
}
