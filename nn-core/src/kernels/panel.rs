//! The forward pass of a dense layer over a batch, `y[r] = W x[r] + b`, as a register-blocked
//! matrix product over a packed panel of inputs.
//!
//! Up to [`PANEL_ROWS`] rows of inputs are copied into a panel with the batch dimension
//! contiguous (`panel[k][r] = x[r][k]`). A tile of `T` outputs by `V` vectors of 16 rows then
//! accumulates in registers while [`SLICE_INPUTS`] inputs of the panel stream by (32 KiB, so the
//! slice stays in L1 while every tile passes over it): per input `k`, `V` vector loads from the
//! panel, `T` broadcasts of the weights `W[o][k]` and `T · V` multiply-adds, with no horizontal
//! sums (the older dot-product tiles spent a quarter of their loads and all their reductions on
//! those).
//!
//! The results are partial sums laid out output-major (`sums[o][r]`), so that disjoint ranges of
//! outputs are disjoint slices and can be computed on different threads. The panel and the sums
//! live in a [`PanelScratch`] owned by the caller.

use super::kernel;
use super::simd::{madd, LANES};

/// Rows per panel: four vectors of [`LANES`].
pub const PANEL_ROWS: usize = 4 * LANES;

/// Inputs per panel slice: 128 x 64 floats are 32 KiB, within a 48 KiB L1 data cache.
pub const SLICE_INPUTS: usize = 128;

/// The panel width for `rows` rows: whole vectors.
pub fn panel_width(rows: usize) -> usize {
    rows.div_ceil(LANES) * LANES
}

/// The working memory of the batch kernels: the packed panel of inputs and the partial sums of
/// [`dense_forward_rows`](super::dense_forward_rows), the packed panels of
/// [`matrix_product`](super::matrix_product), and the lists of nonzero inputs of the sparse
/// first layer. It grows on the first call of a shape and is reused after, so a warmed-up step
/// allocates nothing; generated networks keep one in their batch buffers.
///
/// ```
/// let mut scratch = nn::__private::kernels::PanelScratch::default();
/// let mut y = [0.0; 2];
/// nn::__private::kernels::dense_forward_rows(&[1.0, 2.0], &[0.5], &[1.0, 1.0, 2.0, 2.0], &mut y, &mut scratch);
/// assert_eq!(y, [3.5, 6.5]);
/// ```
#[derive(Clone, Debug, Default)]
pub struct PanelScratch {
    /// `panel[k * width + r] = x[r][k]`.
    pub(super) panel: Vec<f32>,
    /// `sums[o * PANEL_ROWS + r] = W[o] · x[r]`.
    pub(super) sums: Vec<f32>,
    /// The packed panels of [`matrix_product`](super::matrix_product).
    pub(super) product: super::product::ProductScratch,
    /// The inputs nonzero in a tile of a sparse batch.
    pub(super) indices: Vec<u32>,
}

impl PanelScratch {
    /// Grows the buffers to hold a full panel of `inputs` and its sums for `outputs`.
    pub(super) fn grow(&mut self, inputs: usize, outputs: usize) {
        for (buffer, len) in [(&mut self.panel, inputs * PANEL_ROWS), (&mut self.sums, outputs * PANEL_ROWS)] {
            if buffer.len() < len {
                buffer.resize(len, 0.0);
            }
        }
    }
}

kernel! {
    /// Copies inputs `start..start + panel.len() / width` of every row of `x` (rows of `inputs`)
    /// into `panel[k][r]`, rows `width` apart, and zeroes the columns past the last row.
    pub fn pack_panel(x: &[f32], inputs: usize, start: usize, width: usize, panel: &mut [f32]) => pack
}

/// Rows and inputs per block of [`pack`]'s transpose: 4 x 4 compiles to register shuffles, and
/// larger blocks only add register pressure.
const SQUARE: usize = 4;

/// (`FMA` is unused: packing only moves values.)
#[inline(always)]
pub(super) fn pack<const FMA: bool>(x: &[f32], inputs: usize, start: usize, width: usize, panel: &mut [f32]) {
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
            for (r, source) in sources.iter().enumerate() {
                panel[k * width + r0 + r] = source[k];
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

kernel! {
    /// `sums[o][r] = weight[o] · x[r]` for the weight rows given (each `inputs` wide) and the rows
    /// packed in `panel` (`inputs` rows of a width of whole vectors, at most [`PANEL_ROWS`]);
    /// `sums` holds one row of [`PANEL_ROWS`] per weight row.
    pub fn panel_products(weight: &[f32], inputs: usize, panel: &[f32], sums: &mut [f32]) => products::<FMA, WIDE>
}

/// `WIDE` picks tiles for 32 vector registers of 16 floats (AVX-512); otherwise the tiles fit 16
/// registers of 8 floats (AVX2) or 32 of 4 (NEON). The tile heights divide [`TASK_OUTPUTS`].
#[inline(always)]
pub(super) fn products<const FMA: bool, const WIDE: bool>(
    weight: &[f32],
    inputs: usize,
    panel: &[f32],
    sums: &mut [f32],
) {
    let panel = Panel { weight, inputs, panel, sums };
    match (panel.panel.len() / inputs / LANES, WIDE) {
        (1, true) => panel.run::<FMA, 1, 12>(),
        (2, true) => panel.run::<FMA, 2, 12>(),
        (3, true) => panel.run::<FMA, 3, 8>(),
        (_, true) => panel.run::<FMA, 4, 6>(),
        (1, false) => panel.run::<FMA, 1, 6>(),
        (2, false) => panel.run::<FMA, 2, 3>(),
        (3, false) => panel.run::<FMA, 3, 2>(),
        (_, false) => panel.run::<FMA, 4, 1>(),
    }
}

/// Outputs per task when a batch forward pass is split across threads: a multiple of every tile
/// height above.
pub const TASK_OUTPUTS: usize = 24;

/// The operands of [`panel_products`].
struct Panel<'a> {
    weight: &'a [f32],
    inputs: usize,
    panel: &'a [f32],
    sums: &'a mut [f32],
}

impl Panel<'_> {
    /// Every output's sums, `V` vectors of rows wide, in tiles of `T` outputs, one panel slice
    /// at a time.
    #[inline(always)]
    fn run<const FMA: bool, const V: usize, const T: usize>(self) {
        let Panel { weight, inputs, panel, sums } = self;
        let outputs = weight.len() / inputs;
        let width = V * LANES;
        for start in (0..inputs).step_by(SLICE_INPUTS) {
            let len = (inputs - start).min(SLICE_INPUTS);
            let slice: &[[f32; LANES]] = panel[start * width..(start + len) * width].as_chunks().0;
            let weights = |output: usize| &weight[output * inputs + start..output * inputs + start + len];
            let mut tiles = sums[..outputs * PANEL_ROWS].chunks_exact_mut(T * PANEL_ROWS);
            for (index, tile_sums) in (&mut tiles).enumerate() {
                let first = index * T;
                tile::<FMA, V, T>(slice, std::array::from_fn(|t| weights(first + t)), tile_sums, start == 0);
            }
            // The last outputs in tiles of 4 where they fit (a 1-output tile is load-bound), then 1.
            let first = outputs / T * T;
            let mut fours = tiles.into_remainder().chunks_exact_mut(4 * PANEL_ROWS);
            for (index, tile_sums) in (&mut fours).enumerate() {
                let first = first + 4 * index;
                tile::<FMA, V, 4>(slice, std::array::from_fn(|t| weights(first + t)), tile_sums, start == 0);
            }
            let first = first + (outputs - first) / 4 * 4;
            for (t, row_sums) in fours.into_remainder().chunks_exact_mut(PANEL_ROWS).enumerate() {
                tile::<FMA, V, 1>(slice, [weights(first + t)], row_sums, start == 0);
            }
        }
    }
}

/// Adds `weights[t] · slice` to `sums[t]` (or starts them, on the first slice) for the `T`
/// outputs of a tile, holding the `T x V` vectors of sums in registers over the whole slice.
/// `sums` holds `T` rows of [`PANEL_ROWS`].
#[inline(always)]
fn tile<const FMA: bool, const V: usize, const T: usize>(
    slice: &[[f32; LANES]],
    weights: [&[f32]; T],
    sums: &mut [f32],
    first_slice: bool,
) {
    // The accumulators are only ever indexed by the tile's constant shape: a loop bounded by a
    // slice's length would index them dynamically, and LLVM would then store all of them to
    // memory on every iteration.
    let mut registers = [[[0.0f32; LANES]; V]; T];
    if !first_slice {
        for (t, registers) in registers.iter_mut().enumerate() {
            for (v, register) in registers.iter_mut().enumerate() {
                let at = t * PANEL_ROWS + v * LANES;
                register.copy_from_slice(&sums[at..at + LANES]);
            }
        }
    }
    for (k, x) in slice.chunks_exact(V).enumerate() {
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
    for (t, registers) in registers.iter().enumerate() {
        for (v, register) in registers.iter().enumerate() {
            let at = t * PANEL_ROWS + v * LANES;
            sums[at..at + LANES].copy_from_slice(register);
        }
    }
}
