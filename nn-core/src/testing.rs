//! Test helpers shared by the unit tests of every module.

/// Asserts that two floats agree within an absolute-or-relative tolerance.
macro_rules! assert_close {
    ($actual:expr, $expected:expr, $tolerance:expr) => {{
        let (actual, expected, tolerance): (f32, f32, f32) = ($actual, $expected, $tolerance);
        let scale = 1.0f32.max(expected.abs());
        assert!(
            (actual - expected).abs() <= tolerance * scale,
            "{} = {actual}, expected {expected} (tolerance {tolerance})",
            stringify!($actual)
        );
    }};
}
pub(crate) use assert_close;

/// The central finite difference of `f` with respect to `values[index]`, in f64 steps.
pub(crate) fn numeric_derivative(values: &mut [f32], index: usize, mut f: impl FnMut(&[f32]) -> f32) -> f32 {
    let step = 1e-2f32.min(values[index].abs().max(1.0) * 1e-2);
    let original = values[index];
    values[index] = original + step;
    let plus = f(values) as f64;
    values[index] = original - step;
    let minus = f(values) as f64;
    values[index] = original;
    ((plus - minus) / (2.0 * step as f64)) as f32
}

/// Deterministic pseudo-random values in `[-1, 1)` for tests.
pub(crate) fn sample_values<const N: usize>(seed: u64) -> [f32; N] {
    use rand::{Rng, SeedableRng};
    let mut rng = rand_pcg::Pcg64Mcg::seed_from_u64(seed);
    std::array::from_fn(|_| rng.random_range(-1.0..1.0))
}
