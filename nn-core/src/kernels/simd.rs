//! The loop bodies of the kernels, in fixed-width blocks that vectorise, generic over whether
//! fused multiply-add is available. Always inlined into the multiversioned kernels, so they are
//! compiled once per instruction set.

/// Values per block: one AVX-512 register, two AVX2 registers, four NEON or SSE registers.
pub const LANES: usize = 16;

/// `a * b + c`, fused when the target has FMA (without it `mul_add` would be a library call).
#[inline(always)]
pub fn madd<const FMA: bool>(a: f32, b: f32, c: f32) -> f32 {
    if FMA {
        a.mul_add(b, c)
    } else {
        a * b + c
    }
}

/// The sum of a block, added pairwise (a tree, not a chain).
#[inline(always)]
pub fn sum_block(mut block: [f32; LANES]) -> f32 {
    let mut width = LANES / 2;
    while width > 0 {
        for lane in 0..width {
            block[lane] += block[lane + width];
        }
        width /= 2;
    }
    block[0]
}

/// The last vector of `x` with the lanes already covered by its whole vectors zeroed: `x`'s
/// last `len % LANES` values in the top lanes. Multiplied with the last `LANES` values of a row
/// of the same length, it adds the row's tail to a dot product without a scalar loop.
/// `x` must hold at least [`LANES`] values.
#[inline(always)]
fn masked_tail(x: &[f32]) -> [f32; LANES] {
    let covered = LANES - x.len() % LANES;
    let last: &[f32; LANES] = x[x.len() - LANES..].try_into().expect("at least one vector");
    let mut tail = [0.0; LANES];
    for lane in 0..LANES {
        tail[lane] = if lane >= covered { last[lane] } else { 0.0 };
    }
    tail
}

/// The last `LANES` values of `row`.
#[inline(always)]
fn last_vector(row: &[f32]) -> &[f32; LANES] {
    row[row.len() - LANES..].try_into().expect("at least one vector")
}

/// `Σ a[i] b[i]` with four independent blocks of partial sums (one would wait on the latency of
/// each fused multiply-add), and the tail as one masked vector.
#[inline(always)]
pub fn dot<const FMA: bool>(a: &[f32], b: &[f32]) -> f32 {
    if a.len() < LANES {
        return a.iter().zip(b).fold(0.0, |total, (x, y)| madd::<FMA>(*x, *y, total));
    }
    // Groups of four whole vectors, so that each block of sums is named by a constant (an index
    // computed from a loop counter would keep the sums in memory).
    let (a_groups, a_rest) = a.as_chunks::<LANES>().0.as_chunks::<4>();
    let (b_groups, b_rest) = b.as_chunks::<LANES>().0.as_chunks::<4>();
    let mut partial = [[0.0f32; LANES]; 4];
    for (x, y) in a_groups.iter().zip(b_groups) {
        for (sums, (x, y)) in partial.iter_mut().zip(x.iter().zip(y)) {
            for lane in 0..LANES {
                sums[lane] = madd::<FMA>(x[lane], y[lane], sums[lane]);
            }
        }
    }
    for (sums, (x, y)) in partial.iter_mut().zip(a_rest.iter().zip(b_rest)) {
        for lane in 0..LANES {
            sums[lane] = madd::<FMA>(x[lane], y[lane], sums[lane]);
        }
    }
    if !a.len().is_multiple_of(LANES) {
        let (x, y) = (last_vector(a), masked_tail(b));
        for lane in 0..LANES {
            partial[3][lane] = madd::<FMA>(x[lane], y[lane], partial[3][lane]);
        }
    }
    (sum_block(partial[0]) + sum_block(partial[1])) + (sum_block(partial[2]) + sum_block(partial[3]))
}

/// Four dot products `rows[k] · x` at once, sharing every load of `x`, with two blocks of
/// partial sums per row (so eight independent chains of fused multiply-adds) and the tail as
/// one masked vector.
#[inline(always)]
pub fn dot4<const FMA: bool>(rows: [&[f32]; 4], x: &[f32]) -> [f32; 4] {
    if x.len() < LANES {
        let mut sums = [0.0; 4];
        for (sum, row) in sums.iter_mut().zip(rows) {
            *sum = row.iter().zip(x).fold(0.0, |total, (w, x)| madd::<FMA>(*w, *x, total));
        }
        return sums;
    }
    // Pairs of vectors, so that each block of sums is named by a constant (see `dot`).
    let (x_pairs, x_rest) = pairs(x);
    let (r0, r0_rest) = pairs(rows[0]);
    let (r1, r1_rest) = pairs(rows[1]);
    let (r2, r2_rest) = pairs(rows[2]);
    let (r3, r3_rest) = pairs(rows[3]);
    let mut partial = [[[0.0f32; LANES]; 2]; 4];
    for ((((x, a), b), c), d) in x_pairs.iter().zip(r0).zip(r1).zip(r2).zip(r3) {
        for half in 0..2 {
            for lane in 0..LANES {
                partial[0][half][lane] = madd::<FMA>(a[half][lane], x[half][lane], partial[0][half][lane]);
                partial[1][half][lane] = madd::<FMA>(b[half][lane], x[half][lane], partial[1][half][lane]);
                partial[2][half][lane] = madd::<FMA>(c[half][lane], x[half][lane], partial[2][half][lane]);
                partial[3][half][lane] = madd::<FMA>(d[half][lane], x[half][lane], partial[3][half][lane]);
            }
        }
    }
    if let (Some(x), Some(a), Some(b), Some(c), Some(d)) = (x_rest, r0_rest, r1_rest, r2_rest, r3_rest) {
        for lane in 0..LANES {
            partial[0][0][lane] = madd::<FMA>(a[lane], x[lane], partial[0][0][lane]);
            partial[1][0][lane] = madd::<FMA>(b[lane], x[lane], partial[1][0][lane]);
            partial[2][0][lane] = madd::<FMA>(c[lane], x[lane], partial[2][0][lane]);
            partial[3][0][lane] = madd::<FMA>(d[lane], x[lane], partial[3][0][lane]);
        }
    }
    finish_dot4::<FMA>(partial, rows, x)
}

/// The whole pairs of vectors of `values`, and the whole vector left over, if any.
#[inline(always)]
fn pairs(values: &[f32]) -> (&[[[f32; LANES]; 2]], Option<[f32; LANES]>) {
    let (pairs, rest) = values.as_chunks::<LANES>().0.as_chunks::<2>();
    (pairs, rest.first().copied())
}

/// The tail and the final sums of [`dot4`].
#[inline(always)]
fn finish_dot4<const FMA: bool>(mut partial: [[[f32; LANES]; 2]; 4], rows: [&[f32]; 4], x: &[f32]) -> [f32; 4] {
    if !x.len().is_multiple_of(LANES) {
        let tail = masked_tail(x);
        for (sums, row) in partial.iter_mut().zip(rows) {
            let w = last_vector(row);
            for lane in 0..LANES {
                sums[1][lane] = madd::<FMA>(w[lane], tail[lane], sums[1][lane]);
            }
        }
    }
    let mut sums = [0.0; 4];
    for (sum, [first, second]) in sums.iter_mut().zip(partial) {
        *sum = sum_block(first) + sum_block(second);
    }
    sums
}

/// `y[i] += alpha * x[i]`. Element-wise loops are written plainly: the loop vectoriser handles
/// them, while hand-made blocks lead it to vectorise across blocks with gathers and scatters.
#[inline(always)]
pub fn axpy<const FMA: bool>(y: &mut [f32], alpha: f32, x: &[f32]) {
    for (y, x) in y.iter_mut().zip(x) {
        *y = madd::<FMA>(alpha, *x, *y);
    }
}

/// One weight row of a fused backward pass with SGD: `dx[i] += delta * w[i]` through the old
/// weights, then `w[i] += step * x[i]` (with `step = -learning_rate * delta`), in one sweep.
#[inline(always)]
pub fn backprop_and_step<const FMA: bool>(w: &mut [f32], x: &[f32], dx: &mut [f32], delta: f32, step: f32) {
    for ((w, x), dx) in w.iter_mut().zip(x).zip(dx.iter_mut()) {
        *dx = madd::<FMA>(delta, *w, *dx);
        *w = madd::<FMA>(step, *x, *w);
    }
}

/// Columns per block of [`outer_block`]: four vector blocks.
pub const OUTER_COLUMNS: usize = 4 * LANES;

/// A 4 x [`OUTER_COLUMNS`] block of `C = Σ_j a(j, m) · B[j]`, kept in registers over all `j`:
/// `c[m]` are four output rows (already offset to the block), `b_rows[j]` the block of row `j` of
/// `B`, and `scale(j, m)` the scalar that multiplies it for output row `m`.
#[inline(always)]
pub fn outer_block<'b, const FMA: bool>(
    c: [&mut [f32]; 4],
    b_rows: impl Iterator<Item = (usize, &'b [f32])>,
    scale: impl Fn(usize, usize) -> f32,
) {
    let mut accumulators = [[0.0f32; OUTER_COLUMNS]; 4];
    for (j, b) in b_rows {
        let b: &[f32; OUTER_COLUMNS] = b[..OUTER_COLUMNS].try_into().expect("a full block");
        for (m, accumulator) in accumulators.iter_mut().enumerate() {
            let s = scale(j, m);
            for lane in 0..OUTER_COLUMNS {
                accumulator[lane] = madd::<FMA>(s, b[lane], accumulator[lane]);
            }
        }
    }
    for (row, accumulator) in c.into_iter().zip(accumulators) {
        row[..OUTER_COLUMNS].copy_from_slice(&accumulator);
    }
}
