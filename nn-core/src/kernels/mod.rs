//! The numeric loops every layer is built from.
//!
//! Each public kernel is compiled several times by [`multiversion`]: for AVX-512 (with FMA),
//! for AVX2 with FMA, and once for the baseline of the build target (on AArch64 the baseline
//! has NEON and FMA, so that one version serves). The first call picks the best version the
//! running CPU supports, so one binary is fast on any x86-64 and correct everywhere. The loops themselves are plain Rust written in fixed-width blocks
//! (`simd.rs`) that LLVM turns into vector instructions for whichever version it compiles;
//! fused multiply-add is used exactly where the version's CPU has it.
//!
//! Every kernel is tested against a plain scalar loop on odd sizes.

mod batch;
mod dense;
mod elementwise;
mod input_major;
mod matrix;
mod optim;
mod panel;
mod pooling;
mod product;
mod simd;
mod vector;

pub(crate) use batch::split_across_threads as batch_splits;
pub use batch::{dense_backward_rows, dense_forward_rows, dense_input_gradient_rows, dense_sgd_rows, PARALLEL_WORK};
pub use dense::{dense_accumulate, dense_backward_sgd, dense_forward, dense_input_gradient};
pub use elementwise::{
    all_finite, largest_magnitude, rectify, rectify_backward, rectify_in_place, sigmoid, sigmoid_backward, softmax,
    softmax_cross_entropy,
};
pub use input_major::{
    input_major_forward, input_major_forward_rows, input_major_outer, input_major_update, DENSE_FRACTION,
};
pub use matrix::{gemm, gemm_transposed};
pub use optim::{adam, rms_prop, sgd_momentum, AdamCoefficients, RmsPropCoefficients, SgdCoefficients};
pub use panel::PanelScratch;
pub use pooling::{max_pool_2x2, max_pool_2x2_backward};
pub use product::{matrix_product, MatrixView, ProductScratch, Store};
pub use vector::{axpy, dot, sum};

/// Defines a public kernel that dispatches at run time to the best compiled version of an
/// `#[inline(always)]` implementation generic over `FMA` (whether `mul_add` is one instruction),
/// and, in the `=> implementation::<FMA, WIDE>` form, over `WIDE` (whether there are 32 vector
/// registers of 16 floats, as with AVX-512, for larger register tiles).
macro_rules! kernel {
    ($(#[$meta:meta])* $vis:vis fn $name:ident($($arg:ident: $ty:ty),* $(,)?) $(-> $ret:ty)? => $implementation:ident) => {
        kernel!(@versions $(#[$meta])* $vis fn $name($($arg: $ty),*) $(-> $ret)? {
            if multiversion::target::target_cfg_f!(any(target_arch = "aarch64", target_feature = "fma")) {
                $implementation::<true>($($arg),*)
            } else {
                $implementation::<false>($($arg),*)
            }
        });
    };
    ($(#[$meta:meta])* $vis:vis fn $name:ident$(<$($lifetime:lifetime),+>)?($($arg:ident: $ty:ty),* $(,)?) $(-> $ret:ty)? => $implementation:ident::<FMA, WIDE>) => {
        kernel!(@versions $(#[$meta])* $vis fn $name$(<$($lifetime),+>)?($($arg: $ty),*) $(-> $ret)? {
            if multiversion::target::target_cfg_f!(target_feature = "avx512f") {
                $implementation::<true, true>($($arg),*)
            } else if multiversion::target::target_cfg_f!(any(target_arch = "aarch64", target_feature = "fma")) {
                $implementation::<true, false>($($arg),*)
            } else {
                $implementation::<false, false>($($arg),*)
            }
        });
    };
    // The compiled versions, named once for both forms.
    (@versions $(#[$meta:meta])* $vis:vis fn $name:ident$(<$($lifetime:lifetime),+>)?($($arg:ident: $ty:ty),*) $(-> $ret:ty)? $body:block) => {
        $(#[$meta])*
        #[multiversion::multiversion(targets("x86_64+avx512f+avx512vl+avx2+fma", "x86_64+avx2+fma"))]
        $vis fn $name$(<$($lifetime),+>)?($($arg: $ty),*) $(-> $ret)? $body
    };
}
pub(crate) use kernel;

#[cfg(test)]
pub(crate) mod reference {
    //! Plain scalar versions of the kernels, in f64, for the tests.

    pub fn dot(a: &[f32], b: &[f32]) -> f32 {
        a.iter().zip(b).map(|(x, y)| f64::from(*x) * f64::from(*y)).sum::<f64>() as f32
    }

    /// Values in `[-1, 1)` that differ for every `seed` and index.
    pub fn values(len: usize, seed: u64) -> Vec<f32> {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_pcg::Pcg64Mcg::seed_from_u64(seed);
        (0..len).map(|_| rng.random_range(-1.0..1.0)).collect()
    }

    /// The sizes the kernels are tested on: below, at and above the block widths.
    pub const SIZES: [usize; 8] = [1, 3, 4, 16, 17, 33, 100, 784];

    /// Asserts that `actual` and `expected` have the same length and agree value by value within
    /// `tolerance` (relative for large values, absolute near zero).
    pub fn assert_all_close(actual: &[f32], expected: &[f32], tolerance: f32) {
        assert_eq!(actual.len(), expected.len());
        for (a, e) in actual.iter().zip(expected) {
            crate::testing::assert_close!(*a, *e, tolerance);
        }
    }
}
