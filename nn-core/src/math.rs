//! Elementary functions written so that a loop over them vectorises (the standard library's
//! call out to the C math library, one value at a time).

/// `e^x`, within 2 ulp of the exact value for every finite `x`; NaN stays NaN, `e^∞ = ∞` and
/// `e^-∞ = 0`. Results below `2^-126` flush towards zero.
///
/// The classic reduction (Cephes `expf`): `x = n ln 2 + r` with `|r| <= ln 2 / 2`, a degree-6
/// polynomial for `e^r`, and `2^n` built in the exponent bits. Every step is plain arithmetic
/// (the rounding to `n` uses the 1.5 · 2^23 trick, not `round`, and `n` is read back from the
/// bits rather than converted), so a loop of them compiles to
/// vector instructions.
///
/// ```
/// let exact = 1.5f64.exp() as f32;
/// assert!((nn::__private::math::exp(1.5) - exact).abs() <= 2.0 * f32::EPSILON * exact);
/// ```
#[inline(always)]
pub fn exp(x: f32) -> f32 {
    const LOG2_E: f32 = std::f32::consts::LOG2_E;
    // ln 2 split so that `n * LN2_HIGH` is exact for the `n` that occur.
    const LN2_HIGH: f32 = 0.693_359_4;
    const LN2_LOW: f32 = -2.121_944_4e-4;
    const ROUND: f32 = 12_582_912.0; // 1.5 · 2^23: adding it rounds to an integer.
                                     // Past these, e^x is infinite or below the normal range.
    const HIGH: f32 = 88.722_84;
    const LOW: f32 = -87.336_55;

    let clamped = x.clamp(LOW, HIGH);
    let rounded = clamped * LOG2_E + ROUND;
    let n = rounded - ROUND;
    let r = clamped - n * LN2_HIGH - n * LN2_LOW;
    let polynomial = ((((((1.987_569_1e-4 * r + 1.398_199_9e-3) * r + 8.333_452e-3) * r + 4.166_579_6e-2) * r
        + 1.666_666_5e-1)
        * r
        + 0.5)
        * r
        * r)
        + r
        + 1.0;
    // 2^n from exponent bits, in two halves: `n` is within [-126, 128], and 2^128 itself is
    // not a finite float although e^x (with r < 0) still is.
    // `n` as an integer is read from the bits of `rounded` (ROUND's last mantissa bit is worth
    // 1), not with `as i32`, whose saturating conversion compiles to a scalar loop.
    let n = (rounded.to_bits() as i32).wrapping_sub(ROUND.to_bits() as i32);
    let power_of_two = |k: i32| f32::from_bits(((k + 127) as u32) << 23);
    let result = polynomial * power_of_two(n >> 1) * power_of_two(n - (n >> 1));
    match x {
        _ if x.is_nan() => x,
        _ if x > HIGH => f32::INFINITY,
        _ if x < LOW => 0.0,
        _ => result,
    }
}

#[cfg(test)]
mod tests {
    use super::exp;

    /// The distance between `a` and `b` in units of the last place of `b`.
    fn ulps(a: f32, b: f32) -> f32 {
        let ulp = f32::from_bits(b.abs().to_bits() + 1) - b.abs();
        (a - b).abs() / ulp
    }

    #[test]
    fn is_within_two_ulp_of_the_exact_value() {
        let mut worst = 0.0f32;
        for i in -1_000_000..=1_000_000 {
            let x = i as f32 * 8.7e-5;
            let exact = f64::from(x).exp() as f32;
            worst = worst.max(ulps(exp(x), exact));
        }
        assert!(worst <= 2.0, "worst error {worst} ulp");
    }

    #[test]
    fn handles_the_edges() {
        assert!(exp(f32::NAN).is_nan());
        assert_eq!(exp(f32::INFINITY), f32::INFINITY);
        assert_eq!(exp(f32::NEG_INFINITY), 0.0);
        assert_eq!(exp(100.0), f32::INFINITY);
        assert_eq!(exp(-100.0), 0.0);
        assert_eq!(exp(0.0), 1.0);
        assert!(ulps(exp(88.0), 88.0f64.exp() as f32) <= 2.0);
        assert!(ulps(exp(88.7), f64::from(88.7f32).exp() as f32) <= 2.0);
        assert!(ulps(exp(-87.0), (-87.0f64).exp() as f32) <= 2.0);
    }
}
