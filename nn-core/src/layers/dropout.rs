//! Dropout.

use crate::buffers::grown;
use crate::layer::{Context, Layer, Mode, Update};
use crate::layers::elementwise::in_parallel_chunks;
use rand::RngCore;

/// PyTorch's `nn.Dropout(p)`, inverted: in train mode each value is zeroed with probability
/// `p` and the others are scaled by `1 / (1 - p)`, so eval mode is the identity. The mask is
/// drawn from the pass's [`Context`] generator (seeded by the workspace), two values per 64-bit
/// draw in order, so a run is reproducible and the same on any number of threads.
///
/// ```
/// use nn::layers::{Dropout, Layer};
///
/// let dropout = Dropout::new(0.5);
/// let mut y = [0.0; 2];
/// Layer::<2, 2>::infer(&dropout, &[1.0, 2.0], &mut y); // eval mode: the identity
/// assert_eq!(y, [1.0, 2.0]);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Dropout {
    /// The probability of zeroing a value, in `[0, 1)`.
    pub p: f32,
}

impl Dropout {
    /// Dropout with probability `p`.
    ///
    /// # Panics
    /// If `p` is not in `[0, 1)`.
    ///
    /// ```
    /// assert_eq!(nn::layers::Dropout::new(0.25).p, 0.25);
    /// ```
    pub fn new(p: f32) -> Self {
        assert!((0.0..1.0).contains(&p), "a dropout probability is in [0, 1), found {p}");
        Self { p }
    }

    /// Draws a multiplier per value into `mask` (0, or `1 / (1 - p)`) in train mode, or 1 in
    /// eval mode, and writes `y = x ⊙ mask`. The draws are in order on this thread (so the
    /// mask is the same on any number of threads); the product is spread over them.
    fn apply(&self, context: &mut Context, x: &[f32], y: &mut [f32], mask: &mut [f32]) {
        match context.mode() {
            Mode::Eval => mask.fill(1.0),
            Mode::Train => {
                let (rng, scale) = (context.rng(), 1.0 / (1.0 - self.p));
                // A value is dropped when a uniform 32-bit draw is below `p · 2^32`: each 64-bit
                // draw decides two values, with integer comparisons (a float drawn per value was
                // most of the layer's cost).
                let threshold = (f64::from(self.p) * 4_294_967_296.0) as u64;
                let multiplier = |bits: u32| if u64::from(bits) < threshold { 0.0 } else { scale };
                for pair in mask.chunks_mut(2) {
                    let bits = rng.next_u64();
                    for (value, half) in pair.iter_mut().zip([bits as u32, (bits >> 32) as u32]) {
                        *value = multiplier(half);
                    }
                }
            }
        }
        let mask = &*mask;
        in_parallel_chunks(y, |range, y| masked(&x[range.clone()], &mask[range], y));
    }
}

/// `y = x ⊙ mask`: the forward pass, and with `dy` for `x` the backward one.
fn masked(x: &[f32], mask: &[f32], y: &mut [f32]) {
    for ((y, x), multiplier) in y.iter_mut().zip(x).zip(mask) {
        *y = x * multiplier;
    }
}

impl<const N: usize> Layer<N, N> for Dropout {
    const PARAMETERS: usize = 0;
    /// The multipliers of the last forward pass.
    type Cache = Vec<f32>;
    type BatchCache = Vec<f32>;

    fn cache(&self) -> Vec<f32> {
        Vec::new()
    }

    fn batch_cache(&self) -> Vec<f32> {
        Vec::new()
    }

    fn infer(&self, x: &[f32; N], y: &mut [f32; N]) {
        y.copy_from_slice(x);
    }

    fn forward(&self, context: &mut Context, cache: &mut Vec<f32>, x: &[f32; N], y: &mut [f32; N]) {
        self.apply(context, x, y, grown(cache, N));
    }

    fn backward(
        &mut self,
        _context: &mut Context,
        cache: &mut Vec<f32>,
        _x: &[f32; N],
        _y: &[f32; N],
        dy: &[f32; N],
        dx: Option<&mut [f32; N]>,
        _gradients: &mut [f32],
        _update: Update,
    ) {
        if let Some(dx) = dx {
            masked(dy, &cache[..N], dx);
        }
    }

    fn forward_rows(&self, context: &mut Context, cache: &mut Vec<f32>, x: &[[f32; N]], y: &mut [[f32; N]]) {
        assert_eq!(x.len(), y.len(), "one output row per input row");
        let mask = grown(cache, x.len() * N);
        self.apply(context, x.as_flattened(), y.as_flattened_mut(), mask);
    }

    fn backward_rows(
        &mut self,
        _context: &mut Context,
        cache: &mut Vec<f32>,
        _x: &[[f32; N]],
        _y: &[[f32; N]],
        dy: &[[f32; N]],
        dx: Option<&mut [[f32; N]]>,
        _gradients: &mut [f32],
        _update: Update,
    ) {
        if let Some(dx) = dx {
            let (dy, mask) = (dy.as_flattened(), &cache[..dy.len() * N]);
            in_parallel_chunks(dx.as_flattened_mut(), |range, dx| masked(&dy[range.clone()], &mask[range], dx));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn train_mode_zeroes_about_p_and_scales_the_rest() {
        let dropout = Dropout::new(0.25);
        let mut context = Context::new(Mode::Train, 7);
        let (x, mut y, mut cache) = ([2.0; 4000], [0.0; 4000], Vec::new());
        dropout.forward(&mut context, &mut cache, &x, &mut y);
        let zeroed = y.iter().filter(|&&v| v == 0.0).count();
        assert!((900..1100).contains(&zeroed), "{zeroed} of 4000 zeroed");
        assert!(y.iter().all(|&v| v == 0.0 || (v - 2.0 / 0.75).abs() < 1e-6));
        // The gradient follows the same mask.
        let (dy, mut dx) = ([1.0; 4000], [0.0; 4000]);
        let mut dropout = dropout;
        dropout.backward(&mut context, &mut cache, &x, &y, &dy, Some(&mut dx), &mut [], Update::Accumulate);
        for (dx, y) in dx.iter().zip(&y) {
            assert_eq!(*dx, y / 2.0);
        }
    }

    #[test]
    fn eval_mode_and_p_zero_are_the_identity() {
        let mut context = Context::new(Mode::Eval, 7);
        let (x, mut y) = ([1.5; 10], [0.0; 10]);
        Dropout::new(0.9).forward(&mut context, &mut Vec::new(), &x, &mut y);
        assert_eq!(y, x);
        context.set_mode(Mode::Train);
        Dropout::new(0.0).forward(&mut context, &mut Vec::new(), &x, &mut y);
        assert_eq!(y, x);
    }

    #[test]
    fn the_same_seed_draws_the_same_mask() {
        let draw = |seed| {
            let mut context = Context::new(Mode::Train, seed);
            let mut y = [[0.0; 8]; 3];
            Dropout::new(0.5).forward_rows(&mut context, &mut Vec::new(), &[[1.0; 8]; 3], &mut y);
            y
        };
        assert_eq!(draw(1), draw(1));
        assert_ne!(draw(1), draw(2));
    }

    #[test]
    #[should_panic(expected = "a dropout probability is in [0, 1), found 1")]
    fn a_probability_of_one_is_refused() {
        Dropout::new(1.0);
    }
}
