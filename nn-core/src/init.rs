//! Weight initialisation.
//!
//! `network!` picks the scheme for each `Linear` from the activation that follows it:
//! [`Init::He`] before `ReLU` and `LeakyReLU`, [`Init::Xavier`] before everything else (sigmoid,
//! tanh, softmax, or no activation at all, as for the logits of a classifier). Biases start at 0.

use rand::Rng;

/// A weight initialisation scheme for a layer with `fan_in` inputs and `fan_out` outputs.
///
/// ```
/// use nn::init::Init;
/// use rand::SeedableRng;
///
/// let mut rng = rand_pcg::Pcg64Mcg::seed_from_u64(7);
/// let mut weights = vec![0.0; 784 * 100];
/// Init::He.fill(&mut weights, 784, 100, &mut rng);
/// let bound = Init::He.bound(784, 100);
/// assert!(weights.iter().all(|w| w.abs() <= bound));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Init {
    /// Glorot & Bengio (2010), uniform: `U(-a, a)` with `a = sqrt(6 / (fan_in + fan_out))`.
    /// Keeps the variance of signals and gradients balanced through sigmoid and tanh.
    Xavier,
    /// He et al. (2015), uniform: `U(-a, a)` with `a = sqrt(6 / fan_in)`. Compensates for ReLU
    /// zeroing half of its inputs, so deep ReLU stacks neither vanish nor explode.
    He,
}

impl Init {
    /// The half-width `a` of the uniform distribution `U(-a, a)` the weights are drawn from.
    ///
    /// ```
    /// use nn::init::Init;
    /// assert_eq!(Init::He.bound(6, 1), 1.0);
    /// assert_eq!(Init::Xavier.bound(4, 2), 1.0);
    /// ```
    pub fn bound(self, fan_in: usize, fan_out: usize) -> f32 {
        match self {
            Init::Xavier => (6.0 / (fan_in + fan_out) as f32).sqrt(),
            Init::He => (6.0 / fan_in as f32).sqrt(),
        }
    }

    /// Fills `weights` with independent draws from this scheme's distribution.
    ///
    /// ```
    /// use nn::init::Init;
    /// use nn::rand::SeedableRng;
    ///
    /// let mut weights = [0.0; 100];
    /// Init::He.fill(&mut weights, 24, 10, &mut nn::Pcg64Mcg::seed_from_u64(1));
    /// assert!(weights.iter().all(|w| w.abs() <= 0.5) && weights.iter().any(|w| w.abs() > 0.25));
    /// ```
    pub fn fill<R: Rng + ?Sized>(self, weights: &mut [f32], fan_in: usize, fan_out: usize, rng: &mut R) {
        let bound = self.bound(fan_in, fan_out);
        for weight in weights {
            *weight = rng.random_range(-bound..=bound);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    fn variance(values: &[f32]) -> f32 {
        let mean = values.iter().sum::<f32>() / values.len() as f32;
        values.iter().map(|v| (v - mean).powi(2)).sum::<f32>() / values.len() as f32
    }

    #[test]
    fn he_variance_is_two_over_fan_in() {
        let mut rng = rand_pcg::Pcg64Mcg::seed_from_u64(1);
        let mut weights = vec![0.0; 784 * 100];
        Init::He.fill(&mut weights, 784, 100, &mut rng);
        let expected = 2.0 / 784.0;
        assert!((variance(&weights) / expected - 1.0).abs() < 0.03);
    }

    #[test]
    fn xavier_variance_is_two_over_fan_sum() {
        let mut rng = rand_pcg::Pcg64Mcg::seed_from_u64(2);
        let mut weights = vec![0.0; 784 * 100];
        Init::Xavier.fill(&mut weights, 784, 100, &mut rng);
        let expected = 2.0 / (784.0 + 100.0);
        assert!((variance(&weights) / expected - 1.0).abs() < 0.03);
    }
}
