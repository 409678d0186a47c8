//! The fully connected layer that reads a network's input.

use super::deferred::DeferredUpdates;
use super::linear::{parameter, parameter_mut, split, split_optional};
use crate::heap::{self, AsFlat, CacheAligned};
use crate::init::Init;
use crate::kernels;
use crate::layer::{check_gradients_len, Context, Layer, Tensor, TensorMut, Update};
use rand::Rng;

/// A fully connected layer, `y = W x + b`, with `I` inputs and `O` outputs, that stores its
/// weight input-major and skips the inputs that are zero: the first layer of every network.
///
/// `weight[k]` holds the `O` weights fed by input `k` (the transpose of [`Linear`]'s and of
/// PyTorch's layout). A sample reads, and a training step writes, only the rows of its nonzero
/// inputs; data such as images is mostly zeros (81% of MNIST's pixels), so this does a fraction
/// of the work of a dense product. The layer computes no gradient for its input (nothing is
/// below it), which is why it only serves as a first layer: `network!` gives it to a `Linear`
/// that reads the network's input.
///
/// [`Linear`]: super::Linear
///
/// Outside the layer nothing sees the transposed store: its tensors leave it in PyTorch's layout.
///
/// ```
/// use nn::layers::{InputLinear, Layer};
/// use nn::init::Init;
/// use nn::prelude::*;
///
/// let mut rng = nn::Pcg64Mcg::seed_from_u64(0);
/// let layer = InputLinear::<3, 2>::new(Init::Xavier, &mut rng);
/// let mut y = [0.0; 2];
/// layer.infer(&[0.0, 1.0, 0.0], &mut y);
/// assert_eq!(y, layer.weight[1]);
/// layer.visit_tensors(0, None, &mut |tensor| {
///     if tensor.name.tensor == "weight" {
///         assert_eq!(tensor.shape, [2, 3]);
///         assert_eq!(tensor.values[3 + 1], layer.weight[1][1]);
///     }
/// });
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
    /// A layer with weights drawn from `init` and zero biases. The weights are the ones
    /// [`Linear::new`](super::Linear::new) draws from the same generator, transposed.
    ///
    /// ```
    /// use nn::init::Init;
    /// use nn::layers::{InputLinear, Linear};
    /// use nn::rand::SeedableRng;
    ///
    /// let input_major = InputLinear::<3, 2>::new(Init::Xavier, &mut nn::Pcg64Mcg::seed_from_u64(4));
    /// let output_major = Linear::<3, 2>::new(Init::Xavier, &mut nn::Pcg64Mcg::seed_from_u64(4));
    /// assert_eq!(input_major.weight[2][1], output_major.weight[1][2]);
    /// ```
    pub fn new<R: Rng + ?Sized>(init: Init, rng: &mut R) -> Self {
        let mut output_major = vec![0.0; I * O];
        init.fill(&mut output_major, I, O, rng);
        let mut layer = Self::zeroed();
        layer.set_output_major(&output_major);
        layer
    }

    /// A layer whose parameters are all zero (the starting point for loading a saved model).
    ///
    /// ```
    /// let layer = nn::layers::InputLinear::<784, 100>::zeroed();
    /// assert!(layer.weight.iter().flatten().all(|&w| w == 0.0));
    /// ```
    pub fn zeroed() -> Self {
        Self { weight: heap::zeroed_matrix(), bias: heap::zeroed_array() }
    }

    /// The weight in PyTorch's layout: `O` rows of `I`.
    fn output_major(&self) -> Vec<f32> {
        transposed(self.weight.as_flat(), I, O)
    }

    /// Sets the weight from PyTorch's layout (`O` rows of `I`).
    fn set_output_major(&mut self, output_major: &[f32]) {
        self.weight.as_flat_mut().copy_from_slice(&transposed(output_major, O, I));
    }
}

/// `matrix` (`rows` rows of `columns`) transposed: `columns` rows of `rows`.
fn transposed(matrix: &[f32], rows: usize, columns: usize) -> Vec<f32> {
    let mut out = vec![0.0; matrix.len()];
    for (r, row) in matrix.chunks_exact(columns.max(1)).enumerate() {
        for (c, value) in row.iter().enumerate() {
            out[c * rows + r] = *value;
        }
    }
    out
}

impl<const I: usize, const O: usize> Layer<I, O> for InputLinear<I, O> {
    const PARAMETERS: usize = I * O + O;
    /// The updates deferred over a block of per-sample SGD steps (see
    /// [`begin_block`](Layer::begin_block)).
    type Cache = DeferredUpdates;
    type BatchCache = ();

    fn cache(&self) -> DeferredUpdates {
        DeferredUpdates::default()
    }

    fn batch_cache(&self) {}

    /// `y = W x + b`, over the nonzero inputs.
    fn infer(&self, x: &[f32; I], y: &mut [f32; O]) {
        kernels::input_major_forward(self.weight.as_flat(), &self.bias[..], x, y);
    }

    /// [`infer`](Layer::infer), or inside a block the output the weights would give had the
    /// block's earlier updates been applied.
    fn forward(&self, _context: &mut Context, cache: &mut DeferredUpdates, x: &[f32; I], y: &mut [f32; O]) {
        if cache.in_block() {
            cache.next_output(x, &self.bias[..], y);
        } else {
            self.infer(x, y);
        }
    }

    /// Handles the parameter gradients given `dy = ∂L/∂y` for the input `x`: with
    /// [`Update::Accumulate`] it adds `∂L/∂W` and `∂L/∂b = dy` to `gradients` (shaped like the
    /// parameters, the weight input-major); with [`Update::Sgd`] it applies `W -= lr · ∂L/∂W`
    /// and `b -= lr · dy` at once (inside a block, the weight's part is deferred). Only the rows
    /// of nonzero inputs change. The layer computes no input gradient.
    ///
    /// # Panics
    /// If `dx` is given: nothing is below a first layer.
    fn backward(
        &mut self,
        _context: &mut Context,
        cache: &mut DeferredUpdates,
        x: &[f32; I],
        _y: &[f32; O],
        dy: &[f32; O],
        dx: Option<&mut [f32; I]>,
        gradients: &mut [f32],
        update: Update,
    ) {
        assert!(dx.is_none(), "InputLinear reads a network's input and computes no input gradient");
        match update {
            Update::Accumulate => {
                let (weight_gradient, bias_gradient) = split(gradients, I * O, O);
                kernels::input_major_update(weight_gradient, x, dy, 1.0);
                kernels::axpy(bias_gradient, 1.0, dy);
            }
            Update::Sgd { learning_rate } => {
                if cache.in_block() {
                    cache.push(dy, learning_rate);
                } else {
                    kernels::input_major_update(self.weight.as_flat_mut(), x, dy, -learning_rate);
                }
                kernels::axpy(&mut self.bias[..], -learning_rate, dy);
            }
            Update::Propagate => {}
        }
    }

    /// `y[r] = W x[r] + b` for every row of a batch (a dense batch goes through a transposed copy
    /// of the weight in the context's scratch; see [`kernels::input_major_forward_rows`]).
    fn forward_rows(&self, context: &mut Context, _cache: &mut (), x: &[[f32; I]], y: &mut [[f32; O]]) {
        assert_eq!(x.len(), y.len(), "one output row per input row");
        let (weight, bias) = (self.weight.as_flat(), &self.bias[..]);
        kernels::input_major_forward_rows(weight, bias, x.as_flattened(), y.as_flattened_mut(), &mut context.scratch);
    }

    /// The parameter gradients of a batch: with [`Update::Accumulate`] it writes `Σ_r ∂L/∂W` and
    /// `Σ_r dy[r]` into `gradients` (overwriting them); with [`Update::Sgd`] it applies
    /// `W -= lr · Σ_r ∂L/∂W` and `b -= lr · Σ_r dy[r]` straight into the parameters (only the
    /// rows of inputs that are nonzero somewhere in the batch change), leaving `gradients` alone.
    ///
    /// # Panics
    /// If `dx` is given, or the row counts differ.
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
        assert!(dx.is_none(), "InputLinear reads a network's input and computes no input gradient");
        let scratch = &mut context.scratch;
        assert_eq!(x.len(), dy.len(), "one output gradient row per input row");
        let (rows, x, dy_flat) = (x.len(), x.as_flattened(), dy.as_flattened());
        match update {
            Update::Accumulate => {
                let (weight_gradient, bias_gradient) = split(gradients, I * O, O);
                kernels::input_major_outer(x, dy_flat, rows, 1.0, weight_gradient, false, scratch);
                bias_gradient.fill(0.0);
                for dy in dy {
                    kernels::axpy(bias_gradient, 1.0, dy);
                }
            }
            Update::Sgd { learning_rate } => {
                let weight = self.weight.as_flat_mut();
                kernels::input_major_outer(x, dy_flat, rows, -learning_rate, weight, true, scratch);
                for dy in dy {
                    kernels::axpy(&mut self.bias[..], -learning_rate, dy);
                }
            }
            Update::Propagate => {}
        }
    }

    /// As [`Linear`](super::Linear)'s: `Σ_r max|dy[r]| · max(max|x[r]|, 1)`.
    fn gradient_bound(&self, x: &[[f32; I]], dy: &[[f32; O]]) -> f64 {
        super::linear::sum_of_products_bound(1, x, dy)
    }

    /// `weight` (`[O, I]`, transposed from the layer's input-major store) and `bias` (`[O]`),
    /// as PyTorch's `nn.Linear` holds them.
    fn visit_tensors(&self, layer: usize, gradients: Option<&[f32]>, visitor: &mut dyn FnMut(Tensor<'_>)) {
        let (weight_gradient, bias_gradient) = split_optional(gradients, I * O, O);
        let weight_gradient = weight_gradient.map(|weight| transposed(weight, I, O));
        let weight = self.output_major();
        visitor(parameter(layer, "weight", &[O, I], &weight, weight_gradient.as_deref()));
        visitor(parameter(layer, "bias", &[O], &self.bias[..], bias_gradient));
    }

    fn visit_tensors_mut(&mut self, layer: usize, visitor: &mut dyn FnMut(TensorMut<'_>)) {
        let mut weight = self.output_major();
        visitor(parameter_mut(layer, "weight", &[O, I], &mut weight));
        self.set_output_major(&weight);
        visitor(parameter_mut(layer, "bias", &[O], &mut self.bias[..]));
    }

    fn visit_parameters_mut(&mut self, gradients: &[f32], visitor: &mut dyn FnMut(&mut [f32], &[f32])) {
        check_gradients_len(gradients, I * O + O);
        let (weight_gradient, bias_gradient) = gradients.split_at(I * O);
        visitor(self.weight.as_flat_mut(), weight_gradient);
        visitor(&mut self.bias[..], bias_gradient);
    }

    /// Computes `W x_t` for the block's inputs as one matrix product, and defers the block's
    /// weight updates (see [`DeferredUpdates`]).
    ///
    /// # Panics
    /// If there are more than [`BLOCK_SAMPLES`](crate::layers::BLOCK_SAMPLES) inputs.
    fn begin_block(&self, cache: &mut DeferredUpdates, inputs: &[&[f32; I]]) {
        assert!(inputs.len() <= crate::layer::BLOCK_SAMPLES, "a block of {} inputs", inputs.len());
        cache.begin(self.weight.as_flat(), I, inputs.iter().map(|input| &input[..]));
    }

    fn end_block(&mut self, cache: &mut DeferredUpdates) {
        cache.apply(self.weight.as_flat_mut());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernels::{axpy, dot};
    use crate::layer::{Mode, TensorKind, TensorName};
    use crate::layers::Linear;
    use crate::testing::{assert_close, numeric_derivative, sample_values};
    use rand::SeedableRng;

    const I: usize = 20;
    const O: usize = 17;
    const P: usize = I * O + O;

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

    fn context() -> Context {
        Context::new(Mode::Train, 0)
    }

    /// A scalar function of the output whose gradient is `weights`: `L = Σ weights[o] · y[o]`.
    fn objective(layer: &InputLinear<I, O>, x: &[f32; I], weights: &[f32; O]) -> f32 {
        let mut y = [0.0; O];
        layer.infer(x, &mut y);
        dot(&y, weights)
    }

    fn backward(layer: &mut InputLinear<I, O>, x: &[f32; I], dy: &[f32; O], gradients: &mut [f32], update: Update) {
        let (mut cache, mut y) = (layer.cache(), [0.0; O]);
        layer.forward(&mut context(), &mut cache, x, &mut y);
        layer.backward(&mut context(), &mut cache, x, &y, dy, None, gradients, update);
    }

    fn accumulated(layer: &mut InputLinear<I, O>, x: &[f32; I], dy: &[f32; O]) -> Vec<f32> {
        let mut gradients = vec![0.0; P];
        backward(layer, x, dy, &mut gradients, Update::Accumulate);
        gradients
    }

    fn parameters(layer: &InputLinear<I, O>) -> Vec<f32> {
        [layer.weight.as_flat(), &layer.bias[..]].concat()
    }

    #[test]
    fn computes_what_linear_computes_with_the_same_generator() {
        let mut rng = rand_pcg::Pcg64Mcg::seed_from_u64(5);
        let linear = Linear::<I, O>::new(Init::He, &mut rng);
        let mut rng = rand_pcg::Pcg64Mcg::seed_from_u64(5);
        let input_linear = InputLinear::<I, O>::new(Init::He, &mut rng);
        let x = input(6);
        let (mut expected, mut actual) = ([0.0; O], [0.0; O]);
        linear.infer(&x, &mut expected);
        input_linear.infer(&x, &mut actual);
        for (a, e) in actual.iter().zip(&expected) {
            assert_close!(*a, *e, 1e-6);
        }
    }

    /// Every tensor a layer visits: name, shape, kind and values.
    fn tensors(layer: &impl Layer<I, O>) -> Vec<(TensorName, Vec<usize>, TensorKind, Vec<f32>)> {
        let mut all = Vec::new();
        layer.visit_tensors(0, None, &mut |tensor| {
            all.push((tensor.name, tensor.shape.to_vec(), tensor.kind, tensor.values.to_vec()))
        });
        all
    }

    #[test]
    fn tensors_leave_in_pytorch_layout_like_linear() {
        let mut rng = rand_pcg::Pcg64Mcg::seed_from_u64(5);
        let linear = Linear::<I, O>::new(Init::He, &mut rng);
        let mut rng = rand_pcg::Pcg64Mcg::seed_from_u64(5);
        let mut input_linear = InputLinear::<I, O>::new(Init::He, &mut rng);
        input_linear.bias.copy_from_slice(&linear.bias[..]);
        let expected = tensors(&linear);
        assert_eq!(tensors(&input_linear), expected);
        assert_eq!(expected[0].2, TensorKind::Parameter);

        // Written in PyTorch's layout, read back the same.
        let mut written = InputLinear::<I, O>::zeroed();
        let mut values = expected.iter().map(|(_, _, _, values)| values);
        written.visit_tensors_mut(0, &mut |tensor| tensor.values.copy_from_slice(values.next().unwrap()));
        assert_eq!(written, input_linear);
    }

    #[test]
    fn gradients_match_finite_differences() {
        let mut layer = layer();
        let (x, dy) = (input(5), sample_values::<O>(6));
        let gradients = accumulated(&mut layer, &x, &dy);
        let (weight_gradient, bias_gradient) = gradients.split_at(I * O);
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
        let (x, dy, learning_rate) = (input(7), sample_values::<O>(8), 0.1);
        let mut fused = layer();
        let mut unused = vec![0.0; P];
        backward(&mut fused, &x, &dy, &mut unused, Update::Sgd { learning_rate });
        assert!(unused.iter().all(|g| *g == 0.0));

        let mut reference = layer();
        let gradients = accumulated(&mut reference, &x, &dy);
        reference.visit_parameters_mut(&gradients, &mut |values, gradients| axpy(values, -learning_rate, gradients));
        for (a, b) in parameters(&fused).iter().zip(&parameters(&reference)) {
            assert_close!(*a, *b, 1e-6);
        }
    }

    #[test]
    fn a_deferred_block_equals_steps_one_after_another() {
        let inputs: Vec<[f32; I]> = (0..5).map(|seed| input(60 + seed)).collect();
        let dy: Vec<[f32; O]> = (0..5).map(|seed| sample_values::<O>(70 + seed)).collect();
        let update = Update::Sgd { learning_rate: 0.3 };
        let (mut stepped, mut blocked) = (layer(), layer());
        let (mut stepped_outputs, mut blocked_outputs) = (Vec::new(), Vec::new());
        for (x, dy) in inputs.iter().zip(&dy) {
            let mut y = [0.0; O];
            stepped.infer(x, &mut y);
            stepped_outputs.push(y);
            backward(&mut stepped, x, dy, &mut [], update);
        }
        let (mut context, mut cache) = (context(), blocked.cache());
        let references: Vec<&[f32; I]> = inputs.iter().collect();
        blocked.begin_block(&mut cache, &references);
        for (x, dy) in inputs.iter().zip(&dy) {
            let mut y = [0.0; O];
            blocked.forward(&mut context, &mut cache, x, &mut y);
            blocked_outputs.push(y);
            blocked.backward(&mut context, &mut cache, x, &y, dy, None, &mut [], update);
        }
        blocked.end_block(&mut cache);
        for (a, e) in blocked_outputs.iter().flatten().zip(stepped_outputs.iter().flatten()) {
            assert_close!(*a, *e, 1e-5);
        }
        for (a, e) in parameters(&blocked).iter().zip(&parameters(&stepped)) {
            assert_close!(*a, *e, 1e-5);
        }
    }

    #[test]
    fn fused_batch_sgd_equals_gradients_then_step() {
        let x: Vec<[f32; I]> = (0..5).map(|seed| input(40 + seed)).collect();
        let dy: Vec<[f32; O]> = (0..5).map(|seed| sample_values::<O>(50 + seed)).collect();
        let y = vec![[0.0; O]; 5];
        let (mut fused, mut reference, mut context) = (layer(), layer(), context());
        let mut gradients = vec![0.0; P];
        let update = Update::Sgd { learning_rate: 0.1 };
        fused.backward_rows(&mut context, &mut (), &x, &y, &dy, None, &mut gradients, update);
        assert!(gradients.iter().all(|g| *g == 0.0));
        reference.backward_rows(&mut context, &mut (), &x, &y, &dy, None, &mut gradients, Update::Accumulate);
        reference.visit_parameters_mut(&gradients, &mut |values, gradients| axpy(values, -0.1, gradients));
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
        let mut context = context();
        layer.forward_rows(&mut context, &mut (), &x, &mut y);
        let mut gradients = vec![9.0; P];
        layer.backward_rows(&mut context, &mut (), &x, &y, &dy, None, &mut gradients, Update::Accumulate);

        let mut expected = vec![0.0; P];
        for row in 0..7 {
            let mut expected_y = [0.0; O];
            layer.infer(&x[row], &mut expected_y);
            axpy(&mut expected, 1.0, &accumulated(&mut layer, &x[row], &dy[row]));
            for (a, e) in y[row].iter().zip(&expected_y) {
                assert_close!(*a, *e, 1e-5);
            }
        }
        for (a, e) in gradients.iter().zip(&expected) {
            assert_close!(*a, *e, 1e-5);
        }
    }
}
