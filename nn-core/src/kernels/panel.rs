//! The forward pass of a dense layer over a batch, `y[r] = W x[r] + b`, as a register-blocked
//! matrix product.
//!
//! Up to [`PANEL_ROWS`] rows at a time are copied, [`SLICE_INPUTS`] inputs at a time, into a
//! panel with the batch dimension contiguous (`panel[k][r] = x[r][k]`, 32 KiB, so it stays in
//! L1). A tile of `T` outputs by `V` vectors of 16 rows then accumulates in registers while the
//! slice streams by: per input `k`, `V` vector loads from the panel, `T` broadcasts of the weights
//! `W[o][k]` and `T · V` multiply-adds, with no horizontal sums (the older dot-product tiles spent
//! a quarter of their loads and all their reductions on those).
//!
//! The panel and the partial sums live in a per-thread scratch buffer that grows on the first
//! call of a shape and is reused after, so a warmed-up training step allocates nothing.

use super::simd::{madd, LANES};
use std::cell::RefCell;

/// Rows per panel: four vectors of [`LANES`].
pub const PANEL_ROWS: usize = 4 * LANES;

/// Inputs per panel slice: 128 x 64 floats are 32 KiB, within a 48 KiB L1 data cache.
pub const SLICE_INPUTS: usize = 128;

/// The per-thread working memory: the packed panel slice and the partial sums of every output for
/// every row of the panel (`sums[o * PANEL_ROWS + r]`).
#[derive(Default)]
struct Scratch {
    panel: Vec<f32>,
    sums: Vec<f32>,
}

thread_local! {
    static SCRATCH: RefCell<Scratch> = RefCell::new(Scratch::default());
}

/// Makes `buffer` at least `len` long; it only ever grows.
fn reserve(buffer: &mut Vec<f32>, len: usize) {
    if buffer.len() < len {
        buffer.resize(len, 0.0);
    }
}

/// `y[r] = W x[r] + b` for the `rows` rows of `x` (each `inputs` wide) and of `y` (each
/// `bias.len()` wide). `WIDE` picks tiles for 32 vector registers of 16 floats (AVX-512);
/// otherwise the tiles fit 16 registers of 8 floats (AVX2) or 32 of 4 (NEON).
/// The caller has checked the shapes.
#[inline(always)]
pub fn forward_rows<const FMA: bool, const WIDE: bool>(
    weight: &[f32],
    bias: &[f32],
    x: &[f32],
    y: &mut [f32],
    inputs: usize,
) {
    let outputs = bias.len();
    let rows = y.len() / outputs;
    // Taken out and put back rather than borrowed in a closure: closures do not inherit the
    // target features of the multiversioned kernel, and `mul_add` would become a library call.
    let mut scratch = SCRATCH.take();
    reserve(&mut scratch.panel, SLICE_INPUTS * PANEL_ROWS);
    reserve(&mut scratch.sums, outputs * PANEL_ROWS);
    for first in (0..rows).step_by(PANEL_ROWS) {
        let count = (rows - first).min(PANEL_ROWS);
        let block = Block {
            weight,
            inputs,
            outputs,
            x: &x[first * inputs..(first + count) * inputs],
            panel: &mut scratch.panel,
            sums: &mut scratch.sums,
        };
        match (count.div_ceil(LANES), WIDE) {
            (1, true) => block.run::<FMA, 1, 12>(),
            (2, true) => block.run::<FMA, 2, 12>(),
            (3, true) => block.run::<FMA, 3, 8>(),
            (_, true) => block.run::<FMA, 4, 6>(),
            (1, false) => block.run::<FMA, 1, 6>(),
            (2, false) => block.run::<FMA, 2, 3>(),
            (3, false) => block.run::<FMA, 3, 2>(),
            (_, false) => block.run::<FMA, 4, 1>(),
        }
        for (r, y) in y[first * outputs..(first + count) * outputs].chunks_exact_mut(outputs).enumerate() {
            for ((y, sums), bias) in y.iter_mut().zip(scratch.sums.chunks_exact(PANEL_ROWS)).zip(bias) {
                *y = sums[r] + bias;
            }
        }
    }
    SCRATCH.set(scratch);
}

/// One panel's worth of rows (at most [`PANEL_ROWS`]) and the buffers to compute them in.
struct Block<'a> {
    weight: &'a [f32],
    inputs: usize,
    outputs: usize,
    x: &'a [f32],
    panel: &'a mut [f32],
    sums: &'a mut [f32],
}

impl Block<'_> {
    /// Fills `sums[o][r] = W[o] · x[r]` for every output and row, `V` vectors of rows wide, in
    /// tiles of `T` outputs.
    #[inline(always)]
    fn run<const FMA: bool, const V: usize, const T: usize>(self) {
        let Block { weight, inputs, outputs, x, panel, sums } = self;
        let width = V * LANES;
        for start in (0..inputs).step_by(SLICE_INPUTS) {
            let len = (inputs - start).min(SLICE_INPUTS);
            let panel = &mut panel[..len * width];
            pack(panel, x, inputs, start, width);
            let panel: &[[f32; LANES]] = panel.as_chunks().0;
            let weights = |output: usize| &weight[output * inputs + start..output * inputs + start + len];
            let mut tiles = sums[..outputs * PANEL_ROWS].chunks_exact_mut(T * PANEL_ROWS);
            for (tile_index, tile_sums) in (&mut tiles).enumerate() {
                let first = tile_index * T;
                tile::<FMA, V, T>(panel, std::array::from_fn(|t| weights(first + t)), tile_sums, start == 0);
            }
            let first = outputs / T * T;
            for (t, row_sums) in tiles.into_remainder().chunks_exact_mut(PANEL_ROWS).enumerate() {
                tile::<FMA, V, 1>(panel, [weights(first + t)], row_sums, start == 0);
            }
        }
    }
}

/// Rows and inputs per block of [`pack`]'s transpose.
const SQUARE: usize = 4;

/// Copies `x[r][start..start + len]` for every row `r` into `panel[k][r]` (rows `width` apart),
/// and zeroes the panel's columns past the last row.
#[inline(always)]
fn pack(panel: &mut [f32], x: &[f32], inputs: usize, start: usize, width: usize) {
    let rows = x.len() / inputs;
    let len = panel.len() / width;
    let (full_rows, full_len) = (rows / SQUARE * SQUARE, len / SQUARE * SQUARE);
    for r0 in (0..full_rows).step_by(SQUARE) {
        let sources: [&[f32]; SQUARE] = std::array::from_fn(|r| &x[(r0 + r) * inputs + start..][..len]);
        for k0 in (0..full_len).step_by(SQUARE) {
            let block: [[f32; SQUARE]; SQUARE] =
                std::array::from_fn(|r| sources[r][k0..k0 + SQUARE].try_into().expect("a full block"));
            for k in 0..SQUARE {
                let column: [f32; SQUARE] = std::array::from_fn(|r| block[r][k]);
                panel[(k0 + k) * width + r0..][..SQUARE].copy_from_slice(&column);
            }
        }
        for k in full_len..len {
            for r in 0..SQUARE {
                panel[k * width + r0 + r] = sources[r][k];
            }
        }
    }
    for (k, panel_row) in panel.chunks_exact_mut(width).enumerate() {
        for (r, value) in panel_row[full_rows..rows].iter_mut().enumerate() {
            *value = x[(full_rows + r) * inputs + start + k];
        }
        panel_row[rows..].fill(0.0);
    }
}

/// Adds `weights[t] · panel` to `sums[t]` (or starts them, on the first slice) for the `T`
/// outputs of a tile, holding the `T x V` vectors of sums in registers over the whole slice.
/// `sums` holds `T` rows of [`PANEL_ROWS`].
#[inline(always)]
fn tile<const FMA: bool, const V: usize, const T: usize>(
    panel: &[[f32; LANES]],
    weights: [&[f32]; T],
    sums: &mut [f32],
    first_slice: bool,
) {
    let mut registers = [[[0.0f32; LANES]; V]; T];
    if !first_slice {
        for (registers, stored) in registers.iter_mut().zip(sums.chunks_exact(PANEL_ROWS)) {
            registers.copy_from_slice(&stored.as_chunks().0[..V]);
        }
    }
    for (k, x) in panel.chunks_exact(V).enumerate() {
        let x: [[f32; LANES]; V] = std::array::from_fn(|v| x[v]);
        for (registers, weights) in registers.iter_mut().zip(&weights) {
            let w = weights[k];
            for (register, x) in registers.iter_mut().zip(&x) {
                for lane in 0..LANES {
                    register[lane] = madd::<FMA>(w, x[lane], register[lane]);
                }
            }
        }
    }
    for (registers, stored) in registers.iter().zip(sums.chunks_exact_mut(PANEL_ROWS)) {
        stored.as_chunks_mut().0[..V].copy_from_slice(registers);
    }
}
