//! Preprocessing inside the network: a fitted per-feature shift and scale.

use crate::heap::AlignedBuffer;
use crate::layer::{Context, Layer, TensorKind, TensorMut, TensorName, Update};
use crate::layers::Tensor;

/// `y = (x - shift) · scale`, per value, with `shift` and `scale` fitted on the training
/// inputs ([`fit_standard`](Normalize::fit_standard): zero mean and unit variance per feature;
/// [`fit_min_max`](Normalize::fit_min_max): each feature onto `[0, 1]`;
/// [`fit_standard_pooled`](Normalize::fit_standard_pooled): one mean and deviation for all
/// values, as for images). They are buffers, not parameters: saved and loaded with the network
/// (and exported as `{index}.shift` and `{index}.scale`), never trained, so that inference
/// applies exactly the transform the network was trained behind. A fresh layer is the identity.
///
/// ```
/// use nn::layers::{Layer, Normalize};
///
/// let mut norm = Normalize::<2>::new();
/// norm.fit_standard(&[[1.0, 10.0], [3.0, 30.0]]);
/// let mut y = [0.0; 2];
/// norm.infer(&[3.0, 10.0], &mut y);
/// assert_eq!(y, [1.0, -1.0]);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Normalize<const N: usize> {
    /// Subtracted from each value.
    pub shift: AlignedBuffer,
    /// Then multiplied into it.
    pub scale: AlignedBuffer,
}

impl<const N: usize> Default for Normalize<N> {
    fn default() -> Self {
        Self::new()
    }
}

/// A spread below this is treated as none: a constant feature maps to 0 instead of dividing by
/// (nearly) zero.
const SMALLEST_SPREAD: f64 = 1e-12;

impl<const N: usize> Normalize<N> {
    /// The identity: shift 0, scale 1.
    ///
    /// ```
    /// let norm = nn::layers::Normalize::<3>::new();
    /// assert_eq!((norm.shift[0], norm.scale[0]), (0.0, 1.0));
    /// ```
    pub fn new() -> Self {
        let mut scale = AlignedBuffer::zeroed(N);
        scale.fill(1.0);
        Self { shift: AlignedBuffer::zeroed(N), scale }
    }

    /// Fits each feature to zero mean and unit (population) variance over `inputs`, as
    /// scikit-learn's `StandardScaler`; a constant feature gets scale 1.
    ///
    /// ```
    /// let mut norm = nn::layers::Normalize::<1>::new();
    /// norm.fit_standard(&[[2.0], [4.0], [6.0]]);
    /// assert_eq!(norm.shift[0], 4.0);
    /// assert!((norm.scale[0] - 1.0 / (8.0f32 / 3.0).sqrt()).abs() < 1e-6);
    /// ```
    pub fn fit_standard(&mut self, inputs: &[[f32; N]]) {
        for feature in 0..N {
            let (mean, deviation) = mean_and_deviation(inputs.iter().map(|input| input[feature]));
            self.set(feature, mean, deviation);
        }
    }

    /// Fits one mean and one deviation over every value of every input (pixels of images), so
    /// that all features are shifted and scaled alike.
    ///
    /// ```
    /// let mut norm = nn::layers::Normalize::<2>::new();
    /// norm.fit_standard_pooled(&[[0.0, 2.0], [0.0, 2.0]]);
    /// assert_eq!((norm.shift[1], norm.scale[1]), (1.0, 1.0));
    /// ```
    pub fn fit_standard_pooled(&mut self, inputs: &[[f32; N]]) {
        let (mean, deviation) = mean_and_deviation(inputs.iter().flatten().copied());
        for feature in 0..N {
            self.set(feature, mean, deviation);
        }
    }

    /// Fits each feature's smallest value to 0 and its largest to 1 over `inputs`, as
    /// scikit-learn's `MinMaxScaler`; a constant feature gets scale 1.
    ///
    /// ```
    /// let mut norm = nn::layers::Normalize::<1>::new();
    /// norm.fit_min_max(&[[2.0], [4.0], [6.0]]);
    /// assert_eq!((norm.shift[0], norm.scale[0]), (2.0, 0.25));
    /// ```
    pub fn fit_min_max(&mut self, inputs: &[[f32; N]]) {
        for feature in 0..N {
            let values = || inputs.iter().map(|input| f64::from(input[feature]));
            let (low, high) = (values().fold(f64::INFINITY, f64::min), values().fold(f64::NEG_INFINITY, f64::max));
            let low = if low.is_finite() { low } else { 0.0 };
            self.set(feature, low, high - low);
        }
    }

    /// Sets feature `feature` to `(x - center) / spread`.
    fn set(&mut self, feature: usize, center: f64, spread: f64) {
        self.shift[feature] = center as f32;
        self.scale[feature] = if spread > SMALLEST_SPREAD { (1.0 / spread) as f32 } else { 1.0 };
    }

    fn apply(&self, x: &[f32; N], y: &mut [f32; N]) {
        for (((y, x), shift), scale) in y.iter_mut().zip(x).zip(self.shift.iter()).zip(self.scale.iter()) {
            *y = (x - shift) * scale;
        }
    }

    fn scale_gradient(&self, dy: &[f32; N], dx: &mut [f32; N]) {
        for ((dx, dy), scale) in dx.iter_mut().zip(dy).zip(self.scale.iter()) {
            *dx = dy * scale;
        }
    }
}

/// The mean and the population standard deviation of `values`, summed in f64.
fn mean_and_deviation(values: impl Iterator<Item = f32> + Clone) -> (f64, f64) {
    let count = values.clone().count().max(1) as f64;
    let mean = values.clone().map(f64::from).sum::<f64>() / count;
    let variance = values.map(|value| (f64::from(value) - mean).powi(2)).sum::<f64>() / count;
    (mean, variance.sqrt())
}

impl<const N: usize> Layer<N, N> for Normalize<N> {
    const PARAMETERS: usize = 0;
    type Cache = ();
    type BatchCache = ();

    fn cache(&self) {}

    fn batch_cache(&self) {}

    fn infer(&self, x: &[f32; N], y: &mut [f32; N]) {
        self.apply(x, y);
    }

    fn backward(
        &mut self,
        _context: &mut Context,
        _cache: &mut (),
        _x: &[f32; N],
        _y: &[f32; N],
        dy: &[f32; N],
        dx: Option<&mut [f32; N]>,
        _gradients: &mut [f32],
        _update: Update,
    ) {
        if let Some(dx) = dx {
            self.scale_gradient(dy, dx);
        }
    }

    fn forward_rows(&self, _context: &mut Context, _cache: &mut (), x: &[[f32; N]], y: &mut [[f32; N]]) {
        assert_eq!(x.len(), y.len(), "one output row per input row");
        for (x, y) in x.iter().zip(y) {
            self.apply(x, y);
        }
    }

    fn backward_rows(
        &mut self,
        _context: &mut Context,
        _cache: &mut (),
        _x: &[[f32; N]],
        _y: &[[f32; N]],
        dy: &[[f32; N]],
        dx: Option<&mut [[f32; N]]>,
        _gradients: &mut [f32],
        _update: Update,
    ) {
        if let Some(dx) = dx {
            for (dx, dy) in dx.iter_mut().zip(dy) {
                self.scale_gradient(dy, dx);
            }
        }
    }

    fn visit_tensors(&self, layer: usize, _gradients: Option<&[f32]>, visitor: &mut dyn FnMut(Tensor<'_>)) {
        for (tensor, values) in [("shift", &self.shift), ("scale", &self.scale)] {
            let name = TensorName { layer, tensor };
            visitor(Tensor { name, shape: &[N], kind: TensorKind::Buffer, values, gradients: None });
        }
    }

    fn visit_tensors_mut(&mut self, layer: usize, visitor: &mut dyn FnMut(TensorMut<'_>)) {
        for (tensor, values) in [("shift", &mut self.shift), ("scale", &mut self.scale)] {
            let name = TensorName { layer, tensor };
            visitor(TensorMut { name, shape: &[N], kind: TensorKind::Buffer, values });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layers::elementwise::tests::{check_gradient, check_rows};

    #[test]
    fn fitted_inputs_have_zero_mean_and_unit_variance_and_gradients_scale() {
        let inputs = [[1.0, 5.0, 7.0], [2.0, -5.0, 7.0], [6.0, 0.0, 7.0]];
        let mut norm = Normalize::<3>::new();
        norm.fit_standard(&inputs);
        let mut outputs = [[0.0; 3]; 3];
        for (x, y) in inputs.iter().zip(&mut outputs) {
            norm.infer(x, y);
        }
        for feature in 0..2 {
            let (mean, deviation) = mean_and_deviation(outputs.iter().map(|y| y[feature]));
            assert!(mean.abs() < 1e-6 && (deviation - 1.0).abs() < 1e-6, "{feature}: {mean} {deviation}");
        }
        assert_eq!(outputs.map(|y| y[2]), [0.0; 3], "a constant feature maps to 0");
        let mut dx = [0.0; 3];
        norm.scale_gradient(&[1.0, 1.0, 1.0], &mut dx);
        assert_eq!(dx, [norm.scale[0], norm.scale[1], 1.0]);
        let mut six = Normalize::<6>::new();
        six.fit_standard(&[[1.0, 2.0, 3.0, 4.0, 5.0, 6.0], [2.0, 0.0, 1.0, 8.0, -5.0, 6.5]]);
        check_gradient(six.clone(), 1.0);
        check_rows(six);
    }
}
