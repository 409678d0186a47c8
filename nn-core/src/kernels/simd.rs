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

/// `Σ a[i] b[i]` with two independent blocks of partial sums.
#[inline(always)]
pub fn dot<const FMA: bool>(a: &[f32], b: &[f32]) -> f32 {
    let (a_blocks, a_tail) = a.as_chunks::<LANES>();
    let (b_blocks, b_tail) = b.as_chunks::<LANES>();
    let mut partial = [[0.0f32; LANES]; 2];
    let mut pairs = a_blocks.iter().zip(b_blocks);
    for (index, (x, y)) in (&mut pairs).enumerate() {
        let sums = &mut partial[index % 2];
        for lane in 0..LANES {
            sums[lane] = madd::<FMA>(x[lane], y[lane], sums[lane]);
        }
    }
    let mut total = sum_block(partial[0]) + sum_block(partial[1]);
    for (x, y) in a_tail.iter().zip(b_tail) {
        total = madd::<FMA>(*x, *y, total);
    }
    total
}

/// Four dot products `rows[k] · x` at once, sharing every load of `x`.
#[inline(always)]
pub fn dot4<const FMA: bool>(rows: [&[f32]; 4], x: &[f32]) -> [f32; 4] {
    let (x_blocks, x_tail) = x.as_chunks::<LANES>();
    let [(r0, t0), (r1, t1), (r2, t2), (r3, t3)] = rows.map(|row| row.as_chunks::<LANES>());
    let mut partial = [[0.0f32; LANES]; 4];
    for ((((x, a), b), c), d) in x_blocks.iter().zip(r0).zip(r1).zip(r2).zip(r3) {
        for lane in 0..LANES {
            partial[0][lane] = madd::<FMA>(a[lane], x[lane], partial[0][lane]);
            partial[1][lane] = madd::<FMA>(b[lane], x[lane], partial[1][lane]);
            partial[2][lane] = madd::<FMA>(c[lane], x[lane], partial[2][lane]);
            partial[3][lane] = madd::<FMA>(d[lane], x[lane], partial[3][lane]);
        }
    }
    let mut sums = partial.map(sum_block);
    for (index, x) in x_tail.iter().enumerate() {
        for (sum, tail) in sums.iter_mut().zip([t0, t1, t2, t3]) {
            *sum = madd::<FMA>(tail[index], *x, *sum);
        }
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
