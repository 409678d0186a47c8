//! What every element-wise activation shares: one trait over slices, and the [`Layer`] passes
//! written once for all of them.

use crate::layer::{Context, Layer, Update};
use rayon::prelude::*;
use std::fmt::Debug;
use std::ops::Range;

/// Values of an element-wise batch pass from which it is spread over the threads: below, the
/// hand-off to a second thread costs more than the pass.
const PARALLEL_VALUES: usize = 1 << 16;

/// Runs `pass(range, output_chunk)` over `output` split into one contiguous chunk per thread
/// (whole vectors, so each chunk's loop stays vectorised), or over all of it on one thread
/// when it is small. Each value is computed on its own, so the result does not depend on the
/// split.
pub(crate) fn in_parallel_chunks(output: &mut [f32], pass: impl Fn(Range<usize>, &mut [f32]) + Sync) {
    let threads = rayon::current_num_threads();
    if output.len() < PARALLEL_VALUES || threads == 1 {
        pass(0..output.len(), output);
        return;
    }
    let chunk = output.len().div_ceil(threads).next_multiple_of(16);
    output.par_chunks_mut(chunk).enumerate().for_each(|(index, values)| {
        let start = index * chunk;
        pass(start..start + values.len(), values);
    });
}

/// An activation applied to each value on its own, `y[i] = f(x[i])`, on any shape.
///
/// Implementing it is all an element-wise activation needs: every type that does is a
/// [`Layer`] of any size, whose batch passes run over all rows as one slice.
///
/// ```
/// use nn::layers::{Elementwise, Layer};
///
/// /// `y = 2x`.
/// #[derive(Clone, Debug, PartialEq)]
/// struct Double;
///
/// impl Elementwise for Double {
///     fn apply(&self, x: &[f32], y: &mut [f32]) {
///         y.iter_mut().zip(x).for_each(|(y, x)| *y = 2.0 * x);
///     }
///     fn gradient(&self, _x: &[f32], _y: &[f32], dy: &[f32], dx: &mut [f32]) {
///         dx.iter_mut().zip(dy).for_each(|(dx, dy)| *dx = 2.0 * dy);
///     }
/// }
///
/// let mut y = [0.0; 2];
/// Layer::<2, 2>::infer(&Double, &[1.0, -3.0], &mut y);
/// assert_eq!(y, [2.0, -6.0]);
/// ```
pub trait Elementwise: Clone + Debug + PartialEq + Send + Sync {
    /// `y = f(x)`, value by value.
    ///
    /// ```
    /// use nn::layers::{Elementwise, ReLU};
    ///
    /// let mut y = [0.0; 3];
    /// ReLU.apply(&[-1.0, 0.0, 2.0], &mut y);
    /// assert_eq!(y, [0.0, 0.0, 2.0]);
    /// ```
    fn apply(&self, x: &[f32], y: &mut [f32]);

    /// `dx = f'(x) ⊙ dy`, given the input `x` and the output `y` of the forward pass.
    ///
    /// ```
    /// use nn::layers::{Elementwise, Sigmoid};
    ///
    /// let mut dx = [0.0];
    /// Sigmoid.gradient(&[0.0], &[0.5], &[1.0], &mut dx);
    /// assert_eq!(dx, [0.25]); // σ'(0) = σ(0) (1 - σ(0))
    /// ```
    fn gradient(&self, x: &[f32], y: &[f32], dy: &[f32], dx: &mut [f32]);
}

impl<A: Elementwise, const N: usize> Layer<N, N> for A {
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
        x: &[f32; N],
        y: &[f32; N],
        dy: &[f32; N],
        dx: Option<&mut [f32; N]>,
        _gradients: &mut [f32],
        _update: Update,
    ) {
        if let Some(dx) = dx {
            self.gradient(x, y, dy, dx);
        }
    }

    fn forward_rows(&self, _context: &mut Context, _cache: &mut (), x: &[[f32; N]], y: &mut [[f32; N]]) {
        assert_eq!(x.len(), y.len(), "one output row per input row");
        let x = x.as_flattened();
        in_parallel_chunks(y.as_flattened_mut(), |range, y| self.apply(&x[range], y));
    }

    fn backward_rows(
        &mut self,
        _context: &mut Context,
        _cache: &mut (),
        x: &[[f32; N]],
        y: &[[f32; N]],
        dy: &[[f32; N]],
        dx: Option<&mut [[f32; N]]>,
        _gradients: &mut [f32],
        _update: Update,
    ) {
        if let Some(dx) = dx {
            assert!(x.len() == y.len() && y.len() == dy.len() && dy.len() == dx.len(), "rows of different counts");
            let (x, y, dy) = (x.as_flattened(), y.as_flattened(), dy.as_flattened());
            in_parallel_chunks(dx.as_flattened_mut(), |range, dx| {
                self.gradient(&x[range.clone()], &y[range.clone()], &dy[range], dx);
            });
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::testing::{assert_close, numeric_derivative, sample_values};

    const N: usize = 6;

    /// Checks `gradient` against central differences of `L = Σ dy_i · f(x)_i`, on values in
    /// `[-scale, scale)`.
    pub(crate) fn check_gradient(activation: impl Layer<N, N>, scale: f32) {
        let mut x = sample_values::<N>(11).map(|v| v * scale);
        let dy = sample_values::<N>(12);
        let (mut y, mut dx) = ([0.0; N], [0.0; N]);
        activation.infer(&x, &mut y);
        let mut context = Context::new(crate::layer::Mode::Train, 0);
        let mut activation = activation;
        let mut cache = activation.cache();
        activation.backward(&mut context, &mut cache, &x, &y, &dy, Some(&mut dx), &mut [], Update::Accumulate);
        for (i, analytic) in dx.into_iter().enumerate() {
            let numeric = numeric_derivative(&mut x, i, |x| {
                let mut y = [0.0; N];
                activation.infer(x.try_into().unwrap(), &mut y);
                crate::kernels::dot(&y, &dy)
            });
            assert_close!(analytic, numeric, 2e-3);
        }
    }

    /// Checks that the batch passes give each row what the single-sample passes give it.
    pub(crate) fn check_rows(activation: impl Layer<N, N>) {
        let x: Vec<[f32; N]> = (0..3).map(|seed| sample_values::<N>(20 + seed).map(|v| 3.0 * v)).collect();
        let dy: Vec<[f32; N]> = (0..3).map(|seed| sample_values::<N>(30 + seed)).collect();
        let mut context = Context::new(crate::layer::Mode::Train, 0);
        let mut activation = activation;
        let (mut y, mut dx) = (vec![[0.0; N]; 3], vec![[0.0; N]; 3]);
        let mut batch_cache = activation.batch_cache();
        activation.forward_rows(&mut context, &mut batch_cache, &x, &mut y);
        activation.backward_rows(
            &mut context,
            &mut batch_cache,
            &x,
            &y,
            &dy,
            Some(&mut dx),
            &mut [],
            Update::Accumulate,
        );
        for row in 0..3 {
            let (mut expected_y, mut expected_dx) = ([0.0; N], [0.0; N]);
            activation.infer(&x[row], &mut expected_y);
            let mut cache = activation.cache();
            let update = Update::Accumulate;
            activation.backward(
                &mut context,
                &mut cache,
                &x[row],
                &expected_y,
                &dy[row],
                Some(&mut expected_dx),
                &mut [],
                update,
            );
            assert_eq!((y[row], dx[row]), (expected_y, expected_dx));
        }
    }
}
