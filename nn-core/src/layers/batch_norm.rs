//! Batch normalization.

use super::linear::{parameter, parameter_mut, split, split_optional};
use crate::buffers::grown;
use crate::heap::AlignedBuffer;
use crate::kernels;
use crate::layer::{check_gradients_len, Context, Layer, Mode, Tensor, TensorKind, TensorMut, TensorName, Update};

/// PyTorch's `nn.BatchNorm1d` and `nn.BatchNorm2d`: each of `C` channels, of `S` values per
/// sample (1 for `BatchNorm1d(C)` on `[C]`, `H·W` for `BatchNorm2d(C)` on `[C, H, W]`), is
/// normalised, `y = γ (x - μ) / √(σ² + ε) + β`, with ε = 1e-5.
///
/// In train mode μ and σ² are the channel's mean and (biased) variance over the batch and its
/// positions, and the running statistics move toward them with momentum 0.1 (the variance
/// unbiased, as in PyTorch); in eval mode the running statistics are used. The running
/// statistics are updated by the backward pass of a training step (a step whose loss is not
/// finite leaves them alone), and `num_batches_tracked` counts those steps. They are buffers:
/// saved, loaded and visited, never handed to an optimizer. Train mode needs more than one
/// value per channel: a training step of one sample through `BatchNorm1d` is refused (see
/// [`TRAINING_ROWS`](Layer::TRAINING_ROWS)).
///
/// ```
/// use nn::layers::{BatchNorm, Context, Layer, Mode};
///
/// let norm = BatchNorm::<1, 1>::new();
/// let mut context = Context::new(Mode::Train, 0);
/// let mut y = [[0.0]; 2];
/// norm.forward_rows(&mut context, &mut Default::default(), &[[1.0], [3.0]], &mut y);
/// assert!((y[0][0] + 1.0).abs() < 1e-4 && (y[1][0] - 1.0).abs() < 1e-4);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct BatchNorm<const C: usize, const S: usize> {
    /// γ, one per channel (PyTorch's `weight`), initially 1.
    pub weight: AlignedBuffer,
    /// β, one per channel (PyTorch's `bias`), initially 0.
    pub bias: AlignedBuffer,
    /// The running mean per channel, initially 0.
    pub running_mean: AlignedBuffer,
    /// The running (unbiased) variance per channel, initially 1.
    pub running_var: AlignedBuffer,
    /// The number of training steps that updated the running statistics.
    pub num_batches_tracked: [f32; 1],
}

/// The statistics of the last forward pass, for the backward pass.
///
/// ```
/// use nn::layers::{BatchNorm, BatchNormCache, Context, Layer, Mode};
///
/// let norm = BatchNorm::<2, 1>::new();
/// let mut cache = BatchNormCache::default();
/// let mut y = [[0.0; 2]; 2];
/// norm.forward_rows(&mut Context::new(Mode::Train, 0), &mut cache, &[[1.0, 0.0], [3.0, 0.0]], &mut y);
/// assert!((y[1][0] - 1.0).abs() < 1e-4);
/// ```
#[derive(Clone, Debug, Default)]
pub struct BatchNormCache {
    /// `x̂ = (x - μ) / √(σ² + ε)`, laid out like the input rows.
    normalized: Vec<f32>,
    /// μ per channel (train mode).
    mean: Vec<f32>,
    /// The biased σ² per channel (train mode).
    variance: Vec<f32>,
    /// `1 / √(σ² + ε)` per channel, of the statistics the pass used.
    inverse_std: Vec<f32>,
    /// Values per channel in the pass: rows times `S`.
    count: usize,
    /// `dγ` and `dβ` of one sample, before they are added to the gradients.
    sums: Vec<f32>,
    mode: Option<Mode>,
}

/// The 1-D form: `C` features of one value each.
///
/// ```
/// use nn::layers::{BatchNorm1d, Layer};
/// assert_eq!(<BatchNorm1d<8> as Layer<8, 8>>::PARAMETERS, 16);
/// ```
pub type BatchNorm1d<const C: usize> = BatchNorm<C, 1>;

impl<const C: usize, const S: usize> BatchNorm<C, S> {
    /// ε, added to the variance.
    ///
    /// ```
    /// assert_eq!(nn::layers::BatchNorm::<1, 1>::EPS, 1e-5);
    /// ```
    pub const EPS: f32 = 1e-5;
    /// How far the running statistics move toward each batch's.
    ///
    /// ```
    /// assert_eq!(nn::layers::BatchNorm::<1, 1>::MOMENTUM, 0.1);
    /// ```
    pub const MOMENTUM: f32 = 0.1;

    /// γ = 1, β = 0, running mean 0 and running variance 1, as PyTorch starts.
    ///
    /// ```
    /// let norm = nn::layers::BatchNorm::<3, 4>::new();
    /// assert_eq!((norm.weight[0], norm.running_var[2]), (1.0, 1.0));
    /// ```
    pub fn new() -> Self {
        let mut norm = Self {
            weight: AlignedBuffer::zeroed(C),
            bias: AlignedBuffer::zeroed(C),
            running_mean: AlignedBuffer::zeroed(C),
            running_var: AlignedBuffer::zeroed(C),
            num_batches_tracked: [0.0],
        };
        norm.weight.fill(1.0);
        norm.running_var.fill(1.0);
        norm
    }

    /// The values of channel `c` in the rows of `x` (each row `[C, S]`).
    fn channel(x: &[f32], c: usize) -> impl Iterator<Item = &f32> {
        x.chunks_exact(C * S).flat_map(move |row| &row[c * S..(c + 1) * S])
    }

    /// Normalises the rows of `x` into `y` in the context's mode, keeping `x̂` and the
    /// statistics in `cache`.
    fn normalize(&self, mode: Mode, cache: &mut BatchNormCache, x: &[f32], y: &mut [f32]) {
        let count = x.len() / C.max(1) / S.max(1) * S;
        cache.count = count;
        cache.mode = Some(mode);
        let [mean, variance, inverse_std] =
            [&mut cache.mean, &mut cache.variance, &mut cache.inverse_std].map(|b| grown(b, C));
        for c in 0..C {
            let (mu, var) = match mode {
                Mode::Train => {
                    let mu = Self::channel(x, c).map(|&v| f64::from(v)).sum::<f64>() / count as f64;
                    let var = Self::channel(x, c).map(|&v| (f64::from(v) - mu).powi(2)).sum::<f64>() / count as f64;
                    (mu as f32, var as f32)
                }
                Mode::Eval => (self.running_mean[c], self.running_var[c]),
            };
            (mean[c], variance[c], inverse_std[c]) = (mu, var, 1.0 / (var + Self::EPS).sqrt());
        }
        let normalized = grown(&mut cache.normalized, x.len());
        for ((x_row, y_row), n_row) in
            x.chunks_exact(C * S).zip(y.chunks_exact_mut(C * S)).zip(normalized.chunks_exact_mut(C * S))
        {
            for c in 0..C {
                let (gamma, beta, mu, inv) = (self.weight[c], self.bias[c], mean[c], inverse_std[c]);
                let span = c * S..(c + 1) * S;
                for ((x, y), n) in x_row[span.clone()].iter().zip(&mut y_row[span.clone()]).zip(&mut n_row[span]) {
                    *n = (x - mu) * inv;
                    *y = gamma * *n + beta;
                }
            }
        }
    }

    /// The gradients of the last pass: `dγ`, `dβ` into `weight_gradient`, `bias_gradient`
    /// (overwritten), and `dx` when given.
    fn gradients(
        &self,
        cache: &BatchNormCache,
        dy: &[f32],
        dx: Option<&mut [f32]>,
        weight_gradient: &mut [f32],
        bias_gradient: &mut [f32],
    ) {
        let normalized = &cache.normalized[..dy.len()];
        for c in 0..C {
            let dy_c = Self::channel(dy, c);
            let (sum, sum_scaled) = dy_c
                .zip(Self::channel(normalized, c))
                .fold((0.0f64, 0.0f64), |(s, t), (dy, n)| (s + f64::from(*dy), t + f64::from(*dy) * f64::from(*n)));
            (bias_gradient[c], weight_gradient[c]) = (sum as f32, sum_scaled as f32);
        }
        let train = cache.mode == Some(Mode::Train);
        if let Some(dx) = dx {
            let count = cache.count as f32;
            for ((dy_row, dx_row), n_row) in
                dy.chunks_exact(C * S).zip(dx.chunks_exact_mut(C * S)).zip(normalized.chunks_exact(C * S))
            {
                for c in 0..C {
                    let scale = self.weight[c] * cache.inverse_std[c];
                    let (sum, sum_scaled) = (bias_gradient[c] / count, weight_gradient[c] / count);
                    let span = c * S..(c + 1) * S;
                    for ((dx, dy), n) in dx_row[span.clone()].iter_mut().zip(&dy_row[span.clone()]).zip(&n_row[span]) {
                        *dx = match train {
                            true => scale * (dy - sum - n * sum_scaled),
                            false => scale * dy,
                        };
                    }
                }
            }
        }
    }

    /// Moves the running statistics towards those of the last train-mode pass (nothing after an
    /// eval-mode one).
    fn update_running_statistics(&mut self, cache: &BatchNormCache) {
        if cache.mode != Some(Mode::Train) {
            return;
        }
        let unbiased = cache.count as f32 / (cache.count as f32 - 1.0).max(1.0);
        for c in 0..C {
            let m = Self::MOMENTUM;
            self.running_mean[c] = (1.0 - m) * self.running_mean[c] + m * cache.mean[c];
            self.running_var[c] = (1.0 - m) * self.running_var[c] + m * cache.variance[c] * unbiased;
        }
        self.num_batches_tracked[0] += 1.0;
    }

    /// Handles the gradients of the last pass as `update` says: `Accumulate` adds them to
    /// `gradients` when `add`, or overwrites them; `Sgd` applies them; `Propagate` computes
    /// them apart, for `dx` alone. The running statistics wait for [`Layer::commit`].
    fn finish(
        &mut self,
        cache: &mut BatchNormCache,
        dy: &[f32],
        dx: Option<&mut [f32]>,
        gradients: &mut [f32],
        update: Update,
        add: bool,
    ) {
        let (weight_gradient, bias_gradient) = split(gradients, C, C);
        match (update, add) {
            (Update::Accumulate, true) | (Update::Propagate, _) => {
                // Computed apart (then added): taken out of the cache for the call.
                let mut sums = std::mem::take(&mut cache.sums);
                let (w, b) = grown(&mut sums, 2 * C).split_at_mut(C);
                self.gradients(cache, dy, dx, w, b);
                if update == Update::Accumulate {
                    kernels::axpy(weight_gradient, 1.0, w);
                    kernels::axpy(bias_gradient, 1.0, b);
                }
                cache.sums = sums;
            }
            (Update::Accumulate, false) => self.gradients(cache, dy, dx, weight_gradient, bias_gradient),
            (Update::Sgd { learning_rate }, _) => {
                self.gradients(cache, dy, dx, weight_gradient, bias_gradient);
                kernels::axpy(&mut self.weight, -learning_rate, weight_gradient);
                kernels::axpy(&mut self.bias, -learning_rate, bias_gradient);
            }
        }
    }
}

impl<const C: usize, const S: usize> Default for BatchNorm<C, S> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const C: usize, const S: usize, const N: usize> Layer<N, N> for BatchNorm<C, S> {
    const PARAMETERS: usize = 2 * C;
    const TRAINING_ROWS: usize = if S > 1 { 1 } else { 2 };
    const BATCH_STATISTICS: bool = true;
    type Cache = BatchNormCache;
    type BatchCache = BatchNormCache;

    fn cache(&self) -> BatchNormCache {
        BatchNormCache::default()
    }

    fn batch_cache(&self) -> BatchNormCache {
        BatchNormCache::default()
    }

    /// Eval mode: normalised with the running statistics.
    fn infer(&self, x: &[f32; N], y: &mut [f32; N]) {
        assert_eq!(N, C * S, "a BatchNorm of {C} channels of {S} values");
        for c in 0..C {
            let inverse_std = 1.0 / (self.running_var[c] + Self::EPS).sqrt();
            let (scale, mean, beta) = (self.weight[c] * inverse_std, self.running_mean[c], self.bias[c]);
            for (y, x) in y[c * S..(c + 1) * S].iter_mut().zip(&x[c * S..(c + 1) * S]) {
                *y = scale * (x - mean) + beta;
            }
        }
    }

    fn forward(&self, context: &mut Context, cache: &mut BatchNormCache, x: &[f32; N], y: &mut [f32; N]) {
        assert_eq!(N, C * S, "a BatchNorm of {C} channels of {S} values");
        self.normalize(context.mode(), cache, x, y);
    }

    fn backward(
        &mut self,
        _context: &mut Context,
        cache: &mut BatchNormCache,
        _x: &[f32; N],
        _y: &[f32; N],
        dy: &[f32; N],
        dx: Option<&mut [f32; N]>,
        gradients: &mut [f32],
        update: Update,
    ) {
        self.finish(cache, dy, dx.map(|dx| &mut dx[..]), gradients, update, true);
    }

    fn forward_rows(&self, context: &mut Context, cache: &mut BatchNormCache, x: &[[f32; N]], y: &mut [[f32; N]]) {
        assert_eq!(N, C * S, "a BatchNorm of {C} channels of {S} values");
        assert_eq!(x.len(), y.len(), "one output row per input row");
        self.normalize(context.mode(), cache, x.as_flattened(), y.as_flattened_mut());
    }

    fn backward_rows(
        &mut self,
        _context: &mut Context,
        cache: &mut BatchNormCache,
        _x: &[[f32; N]],
        _y: &[[f32; N]],
        dy: &[[f32; N]],
        dx: Option<&mut [[f32; N]]>,
        gradients: &mut [f32],
        update: Update,
    ) {
        self.finish(cache, dy.as_flattened(), dx.map(|dx| dx.as_flattened_mut()), gradients, update, false);
    }

    /// The running statistics move towards the last train-mode pass's.
    fn commit(&mut self, cache: &BatchNormCache) {
        self.update_running_statistics(cache);
    }

    /// The running statistics move towards the last train-mode batch's.
    fn commit_rows(&mut self, cache: &BatchNormCache) {
        self.update_running_statistics(cache);
    }

    /// `n · max|dy| · max(√n, 1)` for the `n` values of a channel in the pass: `dβ` sums `n`
    /// values of `dy`, `dγ` sums `n` products of `dy` and a normalised value, and normalised
    /// values are at most `√n` in magnitude (their squares sum to at most `n`).
    fn gradient_bound(&self, x: &[[f32; N]], dy: &[[f32; N]]) -> f64 {
        let n = (x.len() * S) as f64;
        let largest_normalized = if n < 1.0 { 1.0 } else { n.sqrt() };
        n * f64::from(kernels::largest_magnitude(dy.as_flattened())) * largest_normalized
    }

    /// `weight`, `bias` (parameters), `running_mean`, `running_var` and `num_batches_tracked`
    /// (buffers, the last a scalar), as PyTorch's state dict holds them.
    fn visit_tensors(&self, layer: usize, gradients: Option<&[f32]>, visitor: &mut dyn FnMut(Tensor<'_>)) {
        let (weight_gradient, bias_gradient) = split_optional(gradients, C, C);
        visitor(parameter(layer, "weight", &[C], &self.weight, weight_gradient));
        visitor(parameter(layer, "bias", &[C], &self.bias, bias_gradient));
        let buffer = |tensor, shape, values| Tensor {
            name: TensorName { layer, tensor },
            shape,
            kind: TensorKind::Buffer,
            values,
            gradients: None,
        };
        visitor(buffer("running_mean", &[C], &self.running_mean));
        visitor(buffer("running_var", &[C], &self.running_var));
        visitor(buffer("num_batches_tracked", &[], &self.num_batches_tracked));
    }

    fn visit_tensors_mut(&mut self, layer: usize, visitor: &mut dyn FnMut(TensorMut<'_>)) {
        visitor(parameter_mut(layer, "weight", &[C], &mut self.weight));
        visitor(parameter_mut(layer, "bias", &[C], &mut self.bias));
        let name = |tensor| TensorName { layer, tensor };
        let kind = TensorKind::Buffer;
        visitor(TensorMut { name: name("running_mean"), shape: &[C], kind, values: &mut self.running_mean });
        visitor(TensorMut { name: name("running_var"), shape: &[C], kind, values: &mut self.running_var });
        visitor(TensorMut {
            name: name("num_batches_tracked"),
            shape: &[],
            kind,
            values: &mut self.num_batches_tracked,
        });
    }

    fn visit_parameters_mut(&mut self, gradients: &[f32], visitor: &mut dyn FnMut(&mut [f32], &[f32])) {
        check_gradients_len(gradients, 2 * C);
        let (weight_gradient, bias_gradient) = gradients.split_at(C);
        visitor(&mut self.weight, weight_gradient);
        visitor(&mut self.bias, bias_gradient);
    }
}
