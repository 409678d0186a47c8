//! The element-wise updates of the optimizers with state, fused into one pass over a tensor and
//! its state (as generic code they would run on the baseline's four lanes). Each follows the
//! order of operations of PyTorch's single-tensor implementation, so that the results agree to
//! rounding; where PyTorch's vectorised CPU kernels fuse a multiply-add (`add` with `alpha`,
//! `lerp`), so do these.

use super::elementwise::{magnitude_bits, INFINITY_BITS};
use super::kernel;
use super::simd::madd;

/// State values smaller than this are stored as 0. A moment that decays geometrically (the
/// momentum of a weight whose input is always 0, such as an MNIST border pixel) would otherwise
/// sink into subnormal floats within a few hundred steps, and arithmetic on subnormals takes a
/// microcode assist on x86: Adam's epochs on MNIST ran about 10% slower from the second epoch
/// on. No update is changed that a parameter could show: a moment below 1e-30 moves a parameter
/// by at most `η·1e-30/ε`, about 1e-22 of the learning rate, below half an ulp of any parameter
/// of magnitude above 1e-14.
const NEGLIGIBLE: f32 = 1e-30;

/// `x`, or 0 if it is [`NEGLIGIBLE`].
#[inline(always)]
fn flush(x: f32) -> f32 {
    if x.abs() < NEGLIGIBLE {
        0.0
    } else {
        x
    }
}

/// The scalars of an SGD step with momentum, as `f32` the way PyTorch applies them.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SgdCoefficients {
    /// `-learning_rate`.
    pub step: f32,
    /// The L2 penalty added to the gradient (0 for none).
    pub weight_decay: f32,
    /// The momentum factor.
    pub momentum: f32,
    /// `1 - dampening`.
    pub undampened: f32,
    /// Nesterov momentum.
    pub nesterov: bool,
    /// Whether the velocity is empty (the first step): it starts as the gradient.
    pub first: bool,
}

kernel! {
    /// PyTorch's SGD with momentum on one tensor: `d = g + λp`; `v = d` on the first step,
    /// else `v = μv + (1 - τ)d`; `d = d + μv` (Nesterov) or `d = v`; `p = p - ηd`.
    ///
    /// Each kernel of this module keeps the parameters' values from before in `previous` when
    /// it is not empty, and returns whether every new parameter is finite: what a training step
    /// needs to undo an update that overflowed, in the same pass.
    ///
    /// ```
    /// use nn::__private::kernels::{sgd_momentum, SgdCoefficients};
    ///
    /// let (mut p, mut v, mut previous) = ([1.0], [0.0], [0.0]);
    /// let c = SgdCoefficients { step: -0.1, weight_decay: 0.0, momentum: 0.9, undampened: 1.0, nesterov: false, first: true };
    /// assert!(sgd_momentum(&mut p, &[1.0], &mut v, &mut [], c));
    /// assert!(sgd_momentum(&mut p, &[1.0], &mut v, &mut previous, SgdCoefficients { first: false, ..c }));
    /// assert_eq!((v, previous), ([1.9], [0.9]));
    /// assert!((p[0] - (1.0 - 0.1 - 0.19)).abs() < 1e-6);
    /// assert!(!sgd_momentum(&mut p, &[f32::MAX], &mut v, &mut previous, SgdCoefficients { step: -1e10, ..c }));
    /// ```
    pub fn sgd_momentum(parameters: &mut [f32], gradients: &[f32], velocity: &mut [f32], previous: &mut [f32], c: SgdCoefficients) -> bool
        => sgd_momentum_impl
}

#[inline(always)]
fn sgd_momentum_impl<const FMA: bool>(
    parameters: &mut [f32],
    gradients: &[f32],
    velocity: &mut [f32],
    previous: &mut [f32],
    c: SgdCoefficients,
) -> bool {
    assert!(parameters.len() == gradients.len() && gradients.len() == velocity.len(), "one value each");
    assert!(previous.is_empty() || previous.len() == parameters.len(), "a previous value each, or none");
    let values = parameters.iter_mut().zip(gradients).zip(velocity.iter_mut());
    let mut largest = 0;
    if previous.is_empty() {
        for ((p, g), v) in values {
            largest = largest.max(sgd_value::<FMA>(p, *g, v, &c));
        }
    } else {
        for (((p, g), v), previous) in values.zip(previous.iter_mut()) {
            *previous = *p;
            largest = largest.max(sgd_value::<FMA>(p, *g, v, &c));
        }
    }
    largest < INFINITY_BITS
}

/// One parameter's step of SGD with momentum; the new value's magnitude bits.
#[inline(always)]
fn sgd_value<const FMA: bool>(p: &mut f32, g: f32, v: &mut f32, c: &SgdCoefficients) -> u32 {
    let d = madd::<FMA>(*p, c.weight_decay, g);
    *v = flush(if c.first { d } else { madd::<FMA>(d, c.undampened, *v * c.momentum) });
    let d = if c.nesterov { madd::<FMA>(*v, c.momentum, d) } else { *v };
    *p = madd::<FMA>(d, c.step, *p);
    magnitude_bits(*p)
}

/// The scalars of an Adam or AdamW step, computed in `f64` and rounded to `f32` where PyTorch
/// rounds them.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AdamCoefficients {
    /// What each parameter is multiplied by first: `1 - ηλ` for AdamW's decoupled weight decay,
    /// else 1.
    pub decay: f32,
    /// The L2 penalty added to the gradient (Adam's weight decay; 0 for AdamW).
    pub weight_decay: f32,
    /// `1 - β₁`.
    pub one_minus_beta1: f32,
    /// `β₂`.
    pub beta2: f32,
    /// `1 - β₂`.
    pub one_minus_beta2: f32,
    /// `√(1 - β₂ᵗ)`.
    pub bias_correction2_sqrt: f32,
    /// `ε`.
    pub eps: f32,
    /// `-η / (1 - β₁ᵗ)`.
    pub step: f32,
}

kernel! {
    /// PyTorch's Adam (and AdamW) on one tensor: `m = m + (1-β₁)(g - m)`,
    /// `v = β₂v + (1-β₂)g²`, with AMSGrad `v̂ = max(v̂, v)` (pass an empty `max_v` without it),
    /// `p = p + step · m / (√v / √(1-β₂ᵗ) + ε)`.
    ///
    /// ```
    /// use nn::__private::kernels::{adam, AdamCoefficients};
    ///
    /// let (mut p, mut m, mut v) = ([1.0], [0.0], [0.0]);
    /// let c = AdamCoefficients {
    ///     decay: 1.0, weight_decay: 0.0, one_minus_beta1: 0.1, beta2: 0.999, one_minus_beta2: 0.001,
    ///     bias_correction2_sqrt: 0.001f64.sqrt() as f32, eps: 1e-8, step: -0.001 / 0.1,
    /// };
    /// let mut previous = [0.0];
    /// assert!(adam(&mut p, &[0.5], &mut m, &mut v, &mut [], &mut previous, c));
    /// assert!((p[0] - 0.999).abs() < 1e-6); // the first step moves each parameter by about η
    /// assert_eq!(previous, [1.0]);
    /// ```
    pub fn adam(parameters: &mut [f32], gradients: &[f32], m: &mut [f32], v: &mut [f32], max_v: &mut [f32], previous: &mut [f32], c: AdamCoefficients) -> bool
        => adam_impl
}

#[inline(always)]
fn adam_impl<const FMA: bool>(
    parameters: &mut [f32],
    gradients: &[f32],
    m: &mut [f32],
    v: &mut [f32],
    max_v: &mut [f32],
    previous: &mut [f32],
    c: AdamCoefficients,
) -> bool {
    let len = parameters.len();
    assert!(gradients.len() == len && m.len() == len && v.len() == len, "one value each");
    assert!(max_v.is_empty() || max_v.len() == len, "an AMSGrad maximum per value, or none");
    assert!(previous.is_empty() || previous.len() == len, "a previous value each, or none");
    // One loop for each case, over zipped slices, so that each vectorises.
    let values = parameters.iter_mut().zip(gradients).zip(m.iter_mut()).zip(v.iter_mut());
    let mut largest = 0;
    match (previous.is_empty(), max_v.is_empty()) {
        (true, true) => {
            for (((p, g), m), v) in values {
                largest = largest.max(adam_value::<FMA>(p, *g, m, v, None, &c));
            }
        }
        (true, false) => {
            for ((((p, g), m), v), max) in values.zip(max_v.iter_mut()) {
                largest = largest.max(adam_value::<FMA>(p, *g, m, v, Some(max), &c));
            }
        }
        (false, true) => {
            for ((((p, g), m), v), previous) in values.zip(previous.iter_mut()) {
                *previous = *p;
                largest = largest.max(adam_value::<FMA>(p, *g, m, v, None, &c));
            }
        }
        (false, false) => {
            for (((((p, g), m), v), max), previous) in values.zip(max_v.iter_mut()).zip(previous.iter_mut()) {
                *previous = *p;
                largest = largest.max(adam_value::<FMA>(p, *g, m, v, Some(max), &c));
            }
        }
    }
    largest < INFINITY_BITS
}

/// One parameter's Adam step (AMSGrad with `max`); the new value's magnitude bits.
#[inline(always)]
fn adam_value<const FMA: bool>(
    p: &mut f32,
    g: f32,
    m: &mut f32,
    v: &mut f32,
    max: Option<&mut f32>,
    c: &AdamCoefficients,
) -> u32 {
    let (decayed, v) = moments::<FMA>(p, g, m, v, c);
    let v = match max {
        Some(max) => {
            *max = max.max(v);
            *max
        }
        None => v,
    };
    *p = decayed + c.step * *m / (v.sqrt() / c.bias_correction2_sqrt + c.eps);
    magnitude_bits(*p)
}

/// Adam's moments updated from one gradient; returns the decayed parameter and the new `v`.
#[inline(always)]
fn moments<const FMA: bool>(p: &f32, g: f32, m: &mut f32, v: &mut f32, c: &AdamCoefficients) -> (f32, f32) {
    let decayed = *p * c.decay;
    let g = madd::<FMA>(decayed, c.weight_decay, g);
    *m = flush(madd::<FMA>(c.one_minus_beta1, g - *m, *m));
    *v = flush(*v * c.beta2 + c.one_minus_beta2 * g * g);
    (decayed, *v)
}

/// The scalars of an RMSprop step.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RmsPropCoefficients {
    /// `-learning_rate`.
    pub step: f32,
    /// The L2 penalty added to the gradient.
    pub weight_decay: f32,
    /// The smoothing constant `α`.
    pub alpha: f32,
    /// `1 - α`.
    pub one_minus_alpha: f32,
    /// `ε`.
    pub eps: f32,
    /// The momentum factor (0 for none).
    pub momentum: f32,
}

kernel! {
    /// PyTorch's RMSprop on one tensor: `s = αs + (1-α)g²`; centred (when `mean` is not empty)
    /// `ḡ = ḡ + (1-α)(g - ḡ)` and `a = √(s - ḡ²) + ε`, else `a = √s + ε`; with momentum
    /// `b = μb + g/a`, `p = p - ηb` (pass an empty `buffer` without), else `p = p - ηg/a`.
    ///
    /// ```
    /// use nn::__private::kernels::{rms_prop, RmsPropCoefficients};
    ///
    /// let (mut p, mut s) = ([1.0], [0.0]);
    /// let c = RmsPropCoefficients { step: -0.01, weight_decay: 0.0, alpha: 0.99, one_minus_alpha: 0.01, eps: 1e-8, momentum: 0.0 };
    /// assert!(rms_prop(&mut p, &[2.0], &mut s, &mut [], &mut [], &mut [], c));
    /// assert!((p[0] - 0.9).abs() < 1e-5); // g / √(0.01 g²) = 10
    /// ```
    pub fn rms_prop(parameters: &mut [f32], gradients: &[f32], square: &mut [f32], mean: &mut [f32], buffer: &mut [f32], previous: &mut [f32], c: RmsPropCoefficients) -> bool
        => rms_prop_impl
}

#[inline(always)]
fn rms_prop_impl<const FMA: bool>(
    parameters: &mut [f32],
    gradients: &[f32],
    square: &mut [f32],
    mean: &mut [f32],
    buffer: &mut [f32],
    previous: &mut [f32],
    c: RmsPropCoefficients,
) -> bool {
    let len = parameters.len();
    assert!(gradients.len() == len && square.len() == len, "one value each");
    assert!(mean.is_empty() || mean.len() == len, "a mean per value when centred, or none");
    assert!(buffer.is_empty() || buffer.len() == len, "a momentum buffer per value, or none");
    assert!(previous.is_empty() || previous.len() == len, "a previous value each, or none");
    let (centred, momentum, keep) = (!mean.is_empty(), !buffer.is_empty(), !previous.is_empty());
    let mut largest = 0;
    for (index, ((p, g), s)) in parameters.iter_mut().zip(gradients).zip(square.iter_mut()).enumerate() {
        if keep {
            previous[index] = *p;
        }
        let g = madd::<FMA>(*p, c.weight_decay, *g);
        *s = flush(*s * c.alpha + c.one_minus_alpha * g * g);
        let average = if centred {
            let mean = &mut mean[index];
            *mean = flush(madd::<FMA>(c.one_minus_alpha, g - *mean, *mean));
            (*s + -1.0 * *mean * *mean).sqrt() + c.eps
        } else {
            s.sqrt() + c.eps
        };
        if momentum {
            let b = &mut buffer[index];
            *b = flush(*b * c.momentum + g / average);
            *p = madd::<FMA>(*b, c.step, *p);
        } else {
            *p += c.step * g / average;
        }
        largest = largest.max(magnitude_bits(*p));
    }
    largest < INFINITY_BITS
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Whether `x` is 0 or a normal float: never subnormal.
    fn settled(x: f32) -> bool {
        x == 0.0 || x.is_normal()
    }

    /// Adam's default decay rates, no weight decay or bias correction, with `eps` and `step`.
    fn adam_coefficients(eps: f32, step: f32) -> AdamCoefficients {
        AdamCoefficients {
            decay: 1.0,
            weight_decay: 0.0,
            one_minus_beta1: 0.1,
            beta2: 0.999,
            one_minus_beta2: 0.001,
            bias_correction2_sqrt: 1.0,
            eps,
            step,
        }
    }

    #[test]
    fn decaying_state_reaches_zero_without_passing_through_subnormals() {
        // One gradient, then zeros: every moment decays geometrically.
        let adam_c = adam_coefficients(1e-8, -1e-3);
        let sgd_c = SgdCoefficients {
            step: -0.1,
            weight_decay: 0.0,
            momentum: 0.9,
            undampened: 1.0,
            nesterov: true,
            first: false,
        };
        let rms_c = RmsPropCoefficients {
            step: -0.01,
            weight_decay: 0.0,
            alpha: 0.9,
            one_minus_alpha: 0.1,
            eps: 1e-8,
            momentum: 0.5,
        };
        let (mut p, mut m, mut v) = ([1.0], [0.0], [0.0]);
        let (mut q, mut velocity) = ([1.0], [0.0]);
        let (mut r, mut square, mut mean, mut buffer) = ([1.0], [0.0], [0.0], [0.0]);
        for step in 0..100_000 {
            let g = if step == 0 { [1e-3] } else { [0.0] };
            assert!(adam(&mut p, &g, &mut m, &mut v, &mut [], &mut [], adam_c));
            assert!(sgd_momentum(&mut q, &g, &mut velocity, &mut [], sgd_c));
            assert!(rms_prop(&mut r, &g, &mut square, &mut mean, &mut buffer, &mut [], rms_c));
            let state = [m[0], v[0], velocity[0], square[0], mean[0], buffer[0]];
            assert!(state.iter().all(|&x| settled(x)), "step {step}: {state:?}");
        }
        assert_eq!([m[0], v[0], velocity[0], square[0], mean[0], buffer[0]], [0.0; 6]);
        assert!(p[0] < 1.0 && q[0] < 1.0 && r[0] < 1.0);
    }

    #[test]
    fn kept_values_are_the_ones_before_and_an_overflow_is_reported() {
        let adam_c = adam_coefficients(0.0, -1.0);
        let before: Vec<f32> = (0..37).map(|i| i as f32 - 18.0).collect();
        for amsgrad in [false, true] {
            let (mut p, mut m, mut v, mut max_v) = (before.clone(), vec![0.0; 37], vec![0.0; 37], vec![0.0; 37]);
            let (mut previous, gradients) = (vec![9.0; 37], vec![1.0; 37]);
            let max_v = if amsgrad { &mut max_v[..] } else { &mut [][..] };
            assert!(adam(&mut p, &gradients, &mut m, &mut v, max_v, &mut previous, adam_c));
            assert_eq!(previous, before);
            // eps 0 and a zero gradient on a fresh moment: 0 / 0, as PyTorch would compute it.
            let (mut m, mut v) = (vec![0.0; 37], vec![0.0; 37]);
            let max_v = if amsgrad { &mut vec![0.0; 37][..] } else { &mut [][..] };
            assert!(!adam(&mut p, &[0.0; 37], &mut m, &mut v, max_v, &mut previous, adam_c));
        }
    }
}
