//! Small dense matrix products for the convolutions, on row-major matrices whose rows are
//! long (an image's output positions): `C = A·B` and `C = A·Bᵀ`.

use super::kernel;
use super::simd::{madd, LANES};

/// Rows of `C` per register block of [`gemm`].
const ROWS: usize = 4;
/// Columns of `C` per register block of [`gemm`]: two vectors.
const COLUMNS: usize = 2 * LANES;
/// Rows of `b` from which a block of 4 vectors of them (256 bytes a row) outgrows L1.
const L1_ROWS: usize = 128;

kernel! {
    /// `c (+)= a·b`: `a` is `m x k`, `b` is `k x n`, `c` is `m x n`, all row-major; with
    /// `accumulate` the product is added to `c`, otherwise it replaces it.
    ///
    /// ```
    /// let (a, b) = ([1.0, 2.0], [3.0, 4.0, 5.0, 6.0]); // 1 x 2 and 2 x 2
    /// let mut c = [0.0; 2];
    /// nn::__private::kernels::gemm(&a, &b, &mut c, 1, 2, 2, false);
    /// assert_eq!(c, [13.0, 16.0]);
    /// ```
    ///
    /// # Panics
    /// If the slices do not hold the matrices.
    pub fn gemm(a: &[f32], b: &[f32], c: &mut [f32], m: usize, k: usize, n: usize, accumulate: bool) => gemm_impl::<FMA, WIDE>
}

#[inline(always)]
fn gemm_impl<const FMA: bool, const WIDE: bool>(
    a: &[f32],
    b: &[f32],
    c: &mut [f32],
    m: usize,
    k: usize,
    n: usize,
    accumulate: bool,
) {
    assert!(a.len() == m * k && b.len() == k * n && c.len() == m * n, "matrices of {m} x {k} and {k} x {n}");
    if n == 0 {
        return;
    }
    let mut row = 0;
    // With 32 vector registers and a long `k`, 8 rows of 2 vectors: 16 sums, and each vector
    // of `b` (read from L2 once its `k` rows outgrow L1) serves 8 rows instead of 4.
    while WIDE && k >= L1_ROWS && row + 2 * ROWS <= m {
        gemm_rows::<FMA, { 2 * ROWS }, COLUMNS>(a, b, c, row, k, n, accumulate);
        row += 2 * ROWS;
    }
    while row + ROWS <= m {
        // With 32 vector registers, 4 rows of 4 vectors: 16 sums, 4 vectors of `b`, a broadcast.
        match WIDE {
            true => gemm_rows::<FMA, ROWS, { 2 * COLUMNS }>(a, b, c, row, k, n, accumulate),
            false => gemm_rows::<FMA, ROWS, COLUMNS>(a, b, c, row, k, n, accumulate),
        }
        row += ROWS;
    }
    // Two rows at a time where they remain: one row alone loads a vector of `b` per FMA.
    while row + 2 <= m {
        gemm_rows::<FMA, 2, COLUMNS>(a, b, c, row, k, n, accumulate);
        row += 2;
    }
    while row < m {
        gemm_rows::<FMA, 1, COLUMNS>(a, b, c, row, k, n, accumulate);
        row += 1;
    }
}

/// Rows `row..row + R` of `c (+)= a·b`, in blocks of `B` columns kept in registers over all of
/// `k`, then one vector at a time, then the last columns as one vector overlapping the one
/// before (one by one only in a row narrower than a vector). Each block's sums are complete
/// before they reach `c`: without `accumulate` they are stored, so `c` needs no clearing first
/// (a whole pass over it).
#[inline(always)]
fn gemm_rows<const FMA: bool, const R: usize, const B: usize>(
    a: &[f32],
    b: &[f32],
    c: &mut [f32],
    row: usize,
    k: usize,
    n: usize,
    accumulate: bool,
) {
    let store = |out: &mut f32, sum: f32| *out = if accumulate { *out + sum } else { sum };
    let a_rows: [&[f32]; R] = std::array::from_fn(|r| &a[(row + r) * k..(row + r + 1) * k]);
    let mut column = 0;
    while column + B <= n {
        let mut sums = [[0.0f32; B]; R];
        for (kk, b_row) in b.chunks_exact(n).enumerate().take(k) {
            let b: &[f32; B] = b_row[column..column + B].try_into().expect("a block");
            for (sums, a_row) in sums.iter_mut().zip(&a_rows) {
                let scale = a_row[kk];
                for lane in 0..B {
                    sums[lane] = madd::<FMA>(scale, b[lane], sums[lane]);
                }
            }
        }
        for (r, sums) in sums.iter().enumerate() {
            let out = &mut c[(row + r) * n + column..(row + r) * n + column + B];
            for (out, sum) in out.iter_mut().zip(sums) {
                store(out, *sum);
            }
        }
        column += B;
    }
    while column + LANES <= n {
        let mut sums = [[0.0f32; LANES]; R];
        for kk in 0..k {
            let b: &[f32; LANES] = b[kk * n + column..kk * n + column + LANES].try_into().expect("a vector");
            for (r, sums) in sums.iter_mut().enumerate() {
                let scale = a[(row + r) * k + kk];
                for lane in 0..LANES {
                    sums[lane] = madd::<FMA>(scale, b[lane], sums[lane]);
                }
            }
        }
        for (r, sums) in sums.iter().enumerate() {
            let out = &mut c[(row + r) * n + column..(row + r) * n + column + LANES];
            for (out, sum) in out.iter_mut().zip(sums) {
                store(out, *sum);
            }
        }
        column += LANES;
    }
    if column < n && n >= LANES {
        // The last columns as one vector that ends at the last column and overlaps the one
        // before it; only its new lanes are stored. One by one, each column would be a strided
        // walk down `b`.
        let start = n - LANES;
        let mut sums = [[0.0f32; LANES]; R];
        for kk in 0..k {
            let b: &[f32; LANES] = b[kk * n + start..kk * n + n].try_into().expect("a vector");
            for (r, sums) in sums.iter_mut().enumerate() {
                let scale = a[(row + r) * k + kk];
                for lane in 0..LANES {
                    sums[lane] = madd::<FMA>(scale, b[lane], sums[lane]);
                }
            }
        }
        for (r, sums) in sums.iter().enumerate() {
            let out = &mut c[(row + r) * n + column..(row + r) * n + n];
            for (out, sum) in out.iter_mut().zip(&sums[column - start..]) {
                store(out, *sum);
            }
        }
        column = n;
    }
    for column in column..n {
        for r in 0..R {
            let mut sum = 0.0;
            for kk in 0..k {
                sum = madd::<FMA>(a[(row + r) * k + kk], b[kk * n + column], sum);
            }
            store(&mut c[(row + r) * n + column], sum);
        }
    }
}

/// `c (+)= a·bᵀ`: `a` is `m x n`, `b` is `k x n`, `c` is `m x k`, all row-major (dot products
/// of rows); with `accumulate` the product is added to `c`. Four rows of `a` at a time go
/// through the four-row dot product kernel of the dense layers, so each row of `b` is read once
/// per four.
///
/// ```
/// let (a, b) = ([1.0, 2.0], [3.0, 4.0, 5.0, 6.0]); // 1 x 2 and 2 x 2
/// let mut c = [0.0; 2];
/// nn::__private::kernels::gemm_transposed(&a, &b, &mut c, 1, 2, 2, false);
/// assert_eq!(c, [11.0, 17.0]);
/// ```
///
/// # Panics
/// If the slices do not hold the matrices.
pub fn gemm_transposed(a: &[f32], b: &[f32], c: &mut [f32], m: usize, k: usize, n: usize, accumulate: bool) {
    assert!(a.len() == m * n && b.len() == k * n && c.len() == m * k, "matrices of {m} x {n} and {k} x {n}");
    if !accumulate {
        c.fill(0.0);
    }
    if n == 0 {
        return;
    }
    let row = |index: usize| &a[index * n..(index + 1) * n];
    for first in (0..m).step_by(4) {
        // The last group repeats its last row to make four; the repeats are not stored.
        let group = [row(first), row((first + 1).min(m - 1)), row((first + 2).min(m - 1)), row((first + 3).min(m - 1))];
        for (j, b_row) in b.chunks_exact(n).enumerate() {
            let sums = super::dense::dot4(group, b_row);
            for (r, sum) in sums.iter().enumerate().take(m - first) {
                c[(first + r) * k + j] += sum;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernels::reference::{assert_all_close, values};

    /// `a·b` in f64, `a` m x k, `b` k x n.
    fn product(a: &[f32], b: &[f32], m: usize, k: usize, n: usize) -> Vec<f32> {
        let mut c = vec![0.0; m * n];
        for i in 0..m {
            for j in 0..n {
                c[i * n + j] = (0..k).map(|kk| f64::from(a[i * k + kk]) * f64::from(b[kk * n + j])).sum::<f64>() as f32;
            }
        }
        c
    }

    const SHAPES: [(usize, usize, usize); 8] =
        [(1, 1, 1), (6, 25, 576), (16, 150, 64), (3, 7, 33), (5, 1, 17), (4, 9, 31), (9, 4, 48), (2, 3, 0)];

    #[test]
    fn gemm_equals_the_product_on_odd_shapes() {
        for (seed, (m, k, n)) in SHAPES.into_iter().enumerate() {
            let (a, b) = (values(m * k, seed as u64), values(k * n, 100 + seed as u64));
            let expected = product(&a, &b, m, k, n);
            let mut c = values(m * n, 200);
            gemm(&a, &b, &mut c, m, k, n, false);
            assert_all_close(&c, &expected, 1e-5);
            let start = values(m * n, 300);
            let mut accumulated = start.clone();
            gemm(&a, &b, &mut accumulated, m, k, n, true);
            let expected: Vec<f32> = expected.iter().zip(&start).map(|(e, s)| e + s).collect();
            assert_all_close(&accumulated, &expected, 1e-5);
        }
    }

    proptest::proptest! {
        /// Any shape, accumulating or not, against the product in f64.
        #[test]
        fn gemm_and_gemm_transposed_equal_the_product(
            m in 1usize..20, k in 0usize..40, n in 0usize..90, seed in 0u64..1000, accumulate: bool,
        ) {
            let (a, b) = (values(m * k, seed), values(k * n, seed + 1));
            let start = values(m * n, seed + 2);
            let base = if accumulate { start.clone() } else { vec![0.0; m * n] };
            let expected: Vec<f32> = product(&a, &b, m, k, n).iter().zip(&base).map(|(p, s)| p + s).collect();
            let mut c = start.clone();
            gemm(&a, &b, &mut c, m, k, n, accumulate);
            assert_all_close(&c, &expected, 1e-5);
            // The same product as dot products of rows: a·(bᵀ)ᵀ.
            let b_transposed: Vec<f32> = (0..n * k).map(|i| b[(i % k) * n + i / k]).collect();
            let mut c = start;
            gemm_transposed(&a, &b_transposed, &mut c, m, n, k, accumulate);
            assert_all_close(&c, &expected, 1e-5);
        }
    }

    #[test]
    fn gemm_transposed_equals_the_product_on_odd_shapes() {
        for (seed, (m, k, n)) in SHAPES.into_iter().enumerate() {
            let (a, b) = (values(m * n, seed as u64), values(k * n, 100 + seed as u64));
            let mut b_transposed = vec![0.0; n * k];
            for (row, values) in b.chunks(n.max(1)).enumerate().take(k) {
                for (column, value) in values.iter().enumerate() {
                    b_transposed[column * k + row] = *value;
                }
            }
            let expected = product(&a, &b_transposed, m, n, k);
            let mut c = values(m * k, 200);
            gemm_transposed(&a, &b, &mut c, m, k, n, false);
            assert_all_close(&c, &expected, 1e-5);
        }
    }
}
