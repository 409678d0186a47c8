//! The fully connected layer.

use crate::heap::{self, AsFlat, CacheAligned};
use crate::init::Init;
use crate::kernels;
use crate::layer::{check_gradients_len, Context, Layer, Tensor, TensorKind, TensorMut, TensorName, Update};
use rand::Rng;

/// A fully connected layer, `y = W x + b`, with `I` inputs and `O` outputs.
///
/// The weight is stored like PyTorch's `nn.Linear`: `O` rows of `I` columns, so `weight[o]` holds
/// the weights into output `o`. Both parameters live on the heap. Its gradient slice is the
/// weight's gradients, then the bias's.
///
/// ```
/// use nn::layers::{Layer, Linear};
/// use nn::init::Init;
/// use nn::prelude::*;
///
/// let mut rng = nn::Pcg64Mcg::seed_from_u64(0);
/// let layer = Linear::<3, 2>::new(Init::Xavier, &mut rng);
/// let mut y = [0.0; 2];
/// layer.infer(&[1.0, 0.0, 0.0], &mut y);
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
    /// A layer with weights drawn from `init` and zero biases.
    ///
    /// ```
    /// use nn::init::Init;
    /// use nn::layers::Linear;
    /// use nn::rand::SeedableRng;
    ///
    /// let layer = Linear::<100, 10>::new(Init::Xavier, &mut nn::Pcg64Mcg::seed_from_u64(1));
    /// let bound = Init::Xavier.bound(100, 10);
    /// assert!(layer.weight.iter().flatten().all(|w| w.abs() <= bound));
    /// ```
    pub fn new<R: Rng + ?Sized>(init: Init, rng: &mut R) -> Self {
        let mut layer = Self::zeroed();
        init.fill(layer.weight.as_flat_mut(), I, O, rng);
        layer
    }

    /// A layer whose parameters are all zero (the starting point for loading a saved model).
    ///
    /// ```
    /// let layer = nn::layers::Linear::<4, 2>::zeroed();
    /// assert_eq!(layer.bias[..], [0.0; 2]);
    /// ```
    pub fn zeroed() -> Self {
        Self { weight: heap::zeroed_matrix(), bias: heap::zeroed_array() }
    }
}

impl<const I: usize, const O: usize> Layer<I, O> for Linear<I, O> {
    const PARAMETERS: usize = I * O + O;
    type Cache = ();
    type BatchCache = ();

    fn cache(&self) {}

    fn batch_cache(&self) {}

    /// `y = W x + b`.
    fn infer(&self, x: &[f32; I], y: &mut [f32; O]) {
        kernels::dense_forward(self.weight.as_flat(), &self.bias[..], x, y);
    }

    /// Writes `∂L/∂x = Wᵀ dy` into `dx` when given. With [`Update::Accumulate`] it adds
    /// `∂L/∂W = dy xᵀ` and `∂L/∂b = dy` to `gradients` (the weight's `O x I` values, then the
    /// bias's `O`); with [`Update::Sgd`] it applies `W -= lr · dy xᵀ` and `b -= lr · dy` in the
    /// same sweep over `W` that computes `dx`, and leaves `gradients` alone.
    fn backward(
        &mut self,
        _context: &mut Context,
        _cache: &mut (),
        x: &[f32; I],
        _y: &[f32; O],
        dy: &[f32; O],
        dx: Option<&mut [f32; I]>,
        gradients: &mut [f32],
        update: Update,
    ) {
        let dx = dx.map(|dx| &mut dx[..]);
        match update {
            Update::Accumulate => {
                let (weight_gradient, bias_gradient) = split(gradients, I * O, O);
                kernels::dense_accumulate(self.weight.as_flat(), x, dy, weight_gradient, bias_gradient, dx)
            }
            Update::Sgd { learning_rate } => {
                kernels::dense_backward_sgd(self.weight.as_flat_mut(), &mut self.bias[..], x, dy, dx, learning_rate)
            }
            Update::Propagate => {
                if let Some(dx) = dx {
                    kernels::dense_input_gradient(self.weight.as_flat(), dy, dx);
                }
            }
        }
    }

    /// `y[r] = W x[r] + b` for every row, as a blocked matrix product.
    fn forward_rows(&self, context: &mut Context, _cache: &mut (), x: &[[f32; I]], y: &mut [[f32; O]]) {
        assert_eq!(x.len(), y.len(), "one output row per input row");
        let (weight, bias) = (self.weight.as_flat(), &self.bias[..]);
        kernels::dense_forward_rows(weight, bias, x.as_flattened(), y.as_flattened_mut(), &mut context.scratch);
    }

    /// Writes `dx[r] = Wᵀ dy[r]` when given, and with [`Update::Accumulate`] `Σ_r dy[r] x[r]ᵀ`
    /// and `Σ_r dy[r]` into `gradients` (overwriting them). With [`Update::Sgd`] it applies
    /// `W -= lr · ∂W`, `b -= lr · ∂b` instead, the weight's gradient scaled into the weight as it
    /// is summed, never stored (`dx` is computed with the old weights).
    fn backward_rows(
        &mut self,
        context: &mut Context,
        _cache: &mut (),
        x: &[[f32; I]],
        _y: &[[f32; O]],
        dy: &[[f32; O]],
        dx: Option<&mut [[f32; I]]>,
        gradients: &mut [f32],
        update: Update,
    ) {
        assert_eq!(x.len(), dy.len(), "one output gradient row per input row");
        let scratch = &mut context.scratch;
        let dx = dx.map(|dx| dx.as_flattened_mut());
        let (x, dy) = (x.as_flattened(), dy.as_flattened());
        match update {
            Update::Propagate => {
                if let Some(dx) = dx {
                    kernels::dense_input_gradient_rows(self.weight.as_flat(), dy, O, dx, scratch);
                }
            }
            Update::Accumulate => {
                let (weight_gradient, bias_gradient) = split(gradients, I * O, O);
                kernels::dense_backward_rows(self.weight.as_flat(), x, dy, weight_gradient, bias_gradient, dx, scratch);
            }
            Update::Sgd { learning_rate } => {
                // The gradient slice is scratch here: only the bias's sums pass through it.
                let (_, bias_gradient) = split(gradients, I * O, O);
                let (weight, bias) = (self.weight.as_flat_mut(), &mut self.bias[..]);
                kernels::dense_sgd_rows(weight, bias, x, dy, learning_rate, bias_gradient, dx, scratch);
            }
        }
    }

    /// `Σ_r max|dy[r]| · max(max|x[r]|, 1)`: each gradient is a sum over the rows of one
    /// product `dy · x` (or of one `dy`, for the bias).
    fn gradient_bound(&self, x: &[[f32; I]], dy: &[[f32; O]]) -> f64 {
        sum_of_products_bound(1, x, dy)
    }

    /// `weight` (`[O, I]`) and `bias` (`[O]`), as PyTorch's `nn.Linear` holds them.
    fn visit_tensors(&self, layer: usize, gradients: Option<&[f32]>, visitor: &mut dyn FnMut(Tensor<'_>)) {
        let (weight_gradient, bias_gradient) = split_optional(gradients, I * O, O);
        visitor(parameter(layer, "weight", &[O, I], self.weight.as_flat(), weight_gradient));
        visitor(parameter(layer, "bias", &[O], &self.bias[..], bias_gradient));
    }

    fn visit_tensors_mut(&mut self, layer: usize, visitor: &mut dyn FnMut(TensorMut<'_>)) {
        visitor(parameter_mut(layer, "weight", &[O, I], self.weight.as_flat_mut()));
        visitor(parameter_mut(layer, "bias", &[O], &mut self.bias[..]));
    }

    fn visit_parameters_mut(&mut self, gradients: &[f32], visitor: &mut dyn FnMut(&mut [f32], &[f32])) {
        check_gradients_len(gradients, I * O + O);
        let (weight_gradient, bias_gradient) = gradients.split_at(I * O);
        visitor(self.weight.as_flat_mut(), weight_gradient);
        visitor(&mut self.bias[..], bias_gradient);
    }
}

/// A bound on a sum over rows of `terms` products per row of a value of `x[r]` and one of `dy[r]`
/// (or of `terms` values of `dy[r]`): `terms · Σ_r max|dy[r]| · max(max|x[r]|, 1)`, NaN or
/// infinite when a value is. Row by row, so that an extreme input whose row has no gradient
/// (a confident, correct prediction) bounds nothing.
pub(super) fn sum_of_products_bound<const I: usize, const O: usize>(
    terms: usize,
    x: &[[f32; I]],
    dy: &[[f32; O]],
) -> f64 {
    let rows = x.iter().zip(dy).map(|(x, dy)| {
        let largest_x = f64::from(kernels::largest_magnitude(x));
        // Written so that a NaN is kept (`f64::max` would drop it).
        let factor = if largest_x < 1.0 { 1.0 } else { largest_x };
        f64::from(kernels::largest_magnitude(dy)) * factor
    });
    terms as f64 * rows.sum::<f64>()
}

/// A layer's gradient slice split into its weight's `weights` values and its bias's `biases`.
pub(super) fn split(gradients: &mut [f32], weights: usize, biases: usize) -> (&mut [f32], &mut [f32]) {
    check_gradients_len(gradients, weights + biases);
    gradients.split_at_mut(weights)
}

/// A layer's gradients, when given, split into its weight's `weights` values and its bias's
/// `biases`.
pub(super) fn split_optional(
    gradients: Option<&[f32]>,
    weights: usize,
    biases: usize,
) -> (Option<&[f32]>, Option<&[f32]>) {
    match gradients {
        Some(gradients) => {
            check_gradients_len(gradients, weights + biases);
            let (weight, bias) = gradients.split_at(weights);
            (Some(weight), Some(bias))
        }
        None => (None, None),
    }
}

/// A parameter tensor as it leaves a layer.
pub(super) fn parameter<'a>(
    layer: usize,
    tensor: &'static str,
    shape: &'a [usize],
    values: &'a [f32],
    gradients: Option<&'a [f32]>,
) -> Tensor<'a> {
    Tensor { name: TensorName { layer, tensor }, shape, kind: TensorKind::Parameter, values, gradients }
}

/// A writable parameter tensor.
pub(super) fn parameter_mut<'a>(
    layer: usize,
    tensor: &'static str,
    shape: &'a [usize],
    values: &'a mut [f32],
) -> TensorMut<'a> {
    TensorMut { name: TensorName { layer, tensor }, shape, kind: TensorKind::Parameter, values }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernels::{axpy, dot};
    use crate::layer::Mode;
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

    fn context() -> Context {
        Context::new(Mode::Train, 0)
    }

    /// A scalar function of the output whose gradient is `weights`: `L = Σ weights[o] · y[o]`.
    fn objective(layer: &Linear<I, O>, x: &[f32; I], weights: &[f32; O]) -> f32 {
        let mut y = [0.0; O];
        layer.infer(x, &mut y);
        dot(&y, weights)
    }

    /// `(dx, gradients)` of one accumulating backward pass.
    fn accumulated(layer: &mut Linear<I, O>, x: &[f32; I], dy: &[f32; O]) -> ([f32; I], Vec<f32>) {
        let (mut dx, mut gradients, mut y) = ([0.0; I], vec![0.0; I * O + O], [0.0; O]);
        layer.infer(x, &mut y);
        layer.backward(&mut context(), &mut (), x, &y, dy, Some(&mut dx), &mut gradients, Update::Accumulate);
        (dx, gradients)
    }

    #[test]
    fn gradients_match_finite_differences() {
        let mut layer = layer();
        let x = sample_values::<I>(5);
        let dy = sample_values::<O>(6);
        let (dx, gradients) = accumulated(&mut layer, &x, &dy);
        let (weight_gradient, bias_gradient) = gradients.split_at(I * O);

        let mut x_probe = x;
        for (i, analytic) in dx.into_iter().enumerate() {
            let numeric = numeric_derivative(&mut x_probe, i, |x| objective(&layer, x.try_into().unwrap(), &dy));
            assert_close!(analytic, numeric, 1e-3);
        }
        for (index, analytic) in weight_gradient.iter().enumerate() {
            let mut probe = layer.clone();
            let numeric = numeric_derivative(layer.weight.as_flat_mut(), index, |w| {
                probe.weight.as_flat_mut().copy_from_slice(w);
                objective(&probe, &x, &dy)
            });
            assert_close!(*analytic, numeric, 1e-3);
        }
        for (o, analytic) in bias_gradient.iter().enumerate() {
            let mut probe = layer.clone();
            let numeric = numeric_derivative(&mut layer.bias[..], o, |b| {
                probe.bias.copy_from_slice(b);
                objective(&probe, &x, &dy)
            });
            assert_close!(*analytic, numeric, 1e-3);
        }
    }

    #[test]
    fn fused_sgd_equals_accumulate_then_step() {
        let (x, dy, learning_rate) = (sample_values::<I>(7), sample_values::<O>(8), 0.1);
        let mut fused = layer();
        let (mut fused_dx, mut y) = ([0.0; I], [0.0; O]);
        let mut unused = vec![0.0; I * O + O];
        fused.infer(&x, &mut y);
        let update = Update::Sgd { learning_rate };
        fused.backward(&mut context(), &mut (), &x, &y, &dy, Some(&mut fused_dx), &mut unused, update);
        assert!(unused.iter().all(|g| *g == 0.0));

        let mut reference = layer();
        let (reference_dx, gradients) = accumulated(&mut reference, &x, &dy);
        reference.visit_parameters_mut(&gradients, &mut |values, gradients| axpy(values, -learning_rate, gradients));

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
        let mut context = context();
        layer.forward_rows(&mut context, &mut (), &x, &mut y);
        let (mut dx, mut gradients) = (vec![[0.0; I]; 6], vec![9.0; I * O + O]);
        layer.backward_rows(&mut context, &mut (), &x, &y, &dy, Some(&mut dx), &mut gradients, Update::Accumulate);

        let mut expected = vec![0.0; I * O + O];
        for row in 0..6 {
            let mut expected_y = [0.0; O];
            layer.infer(&x[row], &mut expected_y);
            let (expected_dx, sample) = accumulated(&mut layer, &x[row], &dy[row]);
            axpy(&mut expected, 1.0, &sample);
            for (a, e) in y[row].iter().chain(&dx[row]).zip(expected_y.iter().chain(&expected_dx)) {
                assert_close!(*a, *e, 1e-5);
            }
        }
        for (a, e) in gradients.iter().zip(&expected) {
            assert_close!(*a, *e, 1e-5);
        }
    }

    #[test]
    fn tensors_leave_in_pytorch_layout() {
        let layer = layer();
        let gradients: Vec<f32> = (0..I * O + O).map(|i| i as f32).collect();
        let mut seen = Vec::new();
        layer.visit_tensors(4, Some(&gradients), &mut |tensor| {
            seen.push((tensor.name.to_string(), tensor.shape.to_vec(), tensor.kind, tensor.values.to_vec()));
            assert_eq!(tensor.gradients.map(|g| g.len()), Some(tensor.values.len()));
        });
        assert_eq!(seen[0].0, "4.weight");
        assert_eq!((seen[0].1.clone(), seen[0].2), (vec![O, I], TensorKind::Parameter));
        assert_eq!(seen[0].3[I + 2], layer.weight[1][2]);
        assert_eq!((seen[1].0.as_str(), seen[1].1.clone()), ("4.bias", vec![O]));
    }
}
