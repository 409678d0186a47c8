//! The fully connected layer.

use crate::heap::{self, AsFlat};
use crate::init::Init;
use crate::kernels;
use crate::network::Update;
use rand::Rng;

/// A fully connected layer, `y = W x + b`, with `I` inputs and `O` outputs.
///
/// The weight is stored like PyTorch's `nn.Linear`: `O` rows of `I` columns, so `weight[o]` holds
/// the weights into output `o`. Both parameters live on the heap.
///
/// ```
/// use nn_core::layers::Linear;
/// use nn_core::init::Init;
/// use rand::SeedableRng;
///
/// let mut rng = rand::rngs::StdRng::seed_from_u64(0);
/// let layer = Linear::<3, 2>::new(Init::Xavier, &mut rng);
/// let mut y = [0.0; 2];
/// layer.forward(&[1.0, 0.0, 0.0], &mut y);
/// assert_eq!(y, [layer.weight[0][0], layer.weight[1][0]]);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Linear<const I: usize, const O: usize> {
    /// The weights, `O` rows of `I` (PyTorch's `weight`).
    pub weight: Box<[[f32; I]; O]>,
    /// The biases, one per output (PyTorch's `bias`).
    pub bias: Box<[f32; O]>,
}

/// The gradients of a [`Linear`] layer's parameters, shaped like the parameters.
#[derive(Clone, Debug, PartialEq)]
pub struct LinearGradients<const I: usize, const O: usize> {
    /// `∂L/∂weight`.
    pub weight: Box<[[f32; I]; O]>,
    /// `∂L/∂bias`.
    pub bias: Box<[f32; O]>,
}

impl<const I: usize, const O: usize> LinearGradients<I, O> {
    /// Zeroed gradients.
    pub fn zeroed() -> Self {
        Self { weight: heap::zeroed_matrix(), bias: heap::zeroed_array() }
    }
}

impl<const I: usize, const O: usize> Linear<I, O> {
    /// The number of parameters: `I * O` weights and `O` biases.
    pub const PARAMETERS: usize = I * O + O;

    /// A layer with weights drawn from `init` and zero biases.
    pub fn new<R: Rng + ?Sized>(init: Init, rng: &mut R) -> Self {
        let mut layer = Self::zeroed();
        init.fill(heap::flatten_mut(&mut layer.weight), I, O, rng);
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
    /// `∂L/∂b = dy` to `gradients`; with [`Update::Sgd`] it applies `W -= lr · dy xᵀ` and
    /// `b -= lr · dy` in the same sweep over `W` that computes `dx`, leaving `gradients` alone.
    ///
    /// ```
    /// use nn_core::layers::{Linear, LinearGradients};
    /// use nn_core::Update;
    ///
    /// let mut layer = Linear::<2, 1>::zeroed();
    /// layer.weight[0] = [1.0, 2.0];
    /// let mut gradients = LinearGradients::zeroed();
    /// let mut dx = [0.0; 2];
    /// layer.backward(&[3.0, 4.0], &[0.5], Some(&mut dx), &mut gradients, Update::Accumulate);
    /// assert_eq!(dx, [0.5, 1.0]);
    /// assert_eq!(gradients.weight[0], [1.5, 2.0]);
    /// assert_eq!(gradients.bias[0], 0.5);
    /// ```
    pub fn backward(
        &mut self,
        x: &[f32; I],
        dy: &[f32; O],
        dx: Option<&mut [f32; I]>,
        gradients: &mut LinearGradients<I, O>,
        update: Update,
    ) {
        let dx = dx.map(|dx| &mut dx[..]);
        match update {
            Update::Accumulate => kernels::dense_accumulate(
                self.weight.as_flat(),
                x,
                dy,
                gradients.weight.as_flat_mut(),
                &mut gradients.bias[..],
                dx,
            ),
            Update::Sgd { learning_rate } => {
                kernels::dense_backward_sgd(self.weight.as_flat_mut(), &mut self.bias[..], x, dy, dx, learning_rate)
            }
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
        let mut rng = rand::rngs::StdRng::seed_from_u64(3);
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

    #[test]
    fn gradients_match_finite_differences() {
        let mut layer = layer();
        let x = sample_values::<I>(5);
        let dy = sample_values::<O>(6);
        let mut gradients = LinearGradients::zeroed();
        let mut dx = [0.0; I];
        layer.backward(&x, &dy, Some(&mut dx), &mut gradients, Update::Accumulate);

        let mut x_probe = x;
        for (i, analytic) in dx.into_iter().enumerate() {
            let numeric = numeric_derivative(&mut x_probe, i, |x| objective(&layer, x.try_into().unwrap(), &dy));
            assert_close!(analytic, numeric, 1e-3);
        }
        for index in 0..I * O {
            let analytic = heap::flatten(&gradients.weight)[index];
            let mut probe = layer.clone();
            let numeric = numeric_derivative(heap::flatten_mut(&mut layer.weight), index, |w| {
                heap::flatten_mut(&mut probe.weight).copy_from_slice(w);
                objective(&probe, &x, &dy)
            });
            assert_close!(analytic, numeric, 1e-3);
        }
        for o in 0..O {
            let mut probe = layer.clone();
            let numeric = numeric_derivative(&mut layer.bias[..], o, |b| {
                probe.bias.copy_from_slice(b);
                objective(&probe, &x, &dy)
            });
            assert_close!(gradients.bias[o], numeric, 1e-3);
        }
    }

    #[test]
    fn fused_sgd_equals_accumulate_then_step() {
        let (x, dy, learning_rate) = (sample_values::<I>(7), sample_values::<O>(8), 0.1);
        let mut fused = layer();
        let mut fused_dx = [0.0; I];
        fused.backward(&x, &dy, Some(&mut fused_dx), &mut LinearGradients::zeroed(), Update::Sgd { learning_rate });

        let mut reference = layer();
        let mut gradients = LinearGradients::zeroed();
        let mut reference_dx = [0.0; I];
        reference.backward(&x, &dy, Some(&mut reference_dx), &mut gradients, Update::Accumulate);
        axpy(heap::flatten_mut(&mut reference.weight), -learning_rate, heap::flatten(&gradients.weight));
        axpy(&mut reference.bias[..], -learning_rate, &gradients.bias[..]);

        for (a, b) in fused_dx.iter().zip(&reference_dx) {
            assert_close!(*a, *b, 1e-6);
        }
        for (a, b) in heap::flatten(&fused.weight).iter().zip(heap::flatten(&reference.weight)) {
            assert_close!(*a, *b, 1e-6);
        }
        assert_eq!(fused.bias, reference.bias);
    }

    #[test]
    fn first_layer_sgd_without_input_gradient_updates_the_same_way() {
        let (x, dy, learning_rate) = (sample_values::<I>(9), sample_values::<O>(10), 0.05);
        let (mut with_dx, mut without_dx) = (layer(), layer());
        let mut dx = [0.0; I];
        with_dx.backward(&x, &dy, Some(&mut dx), &mut LinearGradients::zeroed(), Update::Sgd { learning_rate });
        without_dx.backward(&x, &dy, None, &mut LinearGradients::zeroed(), Update::Sgd { learning_rate });
        assert_eq!(with_dx, without_dx);
    }
}
