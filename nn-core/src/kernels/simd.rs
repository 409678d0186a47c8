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

/// `Σ x[i]` in four blocks of vector partial sums, then the values past the last whole vector:
/// a chain of scalar additions would wait on the latency of each one.
#[inline(always)]
pub fn sum(x: &[f32]) -> f32 {
    let (vectors, tail) = x.as_chunks::<LANES>();
    let (groups, rest) = vectors.as_chunks::<4>();
    let mut partial = [[0.0f32; LANES]; 4];
    for group in groups {
        for (sums, vector) in partial.iter_mut().zip(group) {
            for lane in 0..LANES {
                sums[lane] += vector[lane];
            }
        }
    }
    for (sums, vector) in partial.iter_mut().zip(rest) {
        for lane in 0..LANES {
            sums[lane] += vector[lane];
        }
    }
    let whole = (sum_block(partial[0]) + sum_block(partial[1])) + (sum_block(partial[2]) + sum_block(partial[3]));
    tail.iter().fold(whole, |total, value| total + value)
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
