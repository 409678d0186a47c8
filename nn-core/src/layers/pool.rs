//! What the pooling layers share: their window geometry and the loop over windows.

use super::conv2d::Geometry;

/// Calls `visit(output, corner)` for every output of a pooling layer over one sample, channel
/// by channel, where `corner` is the flat (channel-major) index of the window's top-left input:
/// tap `(kh, kw)` is at `corner + kh·W + kw`. Pools have no padding, so every tap is inside.
#[inline(always)]
pub(crate) fn windows(geometry: &Geometry, mut visit: impl FnMut(usize, usize)) {
    let (height, width) = (geometry.height, geometry.width);
    let mut output = 0;
    for c in 0..geometry.channels {
        for oh in 0..geometry.output.0 {
            for ow in 0..geometry.output.1 {
                visit(output, c * height * width + oh * geometry.stride.0 * width + ow * geometry.stride.1);
                output += 1;
            }
        }
    }
}

/// Rows per task when a pooling pass over a batch is spread over the threads.
pub(crate) const TASK_ROWS: usize = 8;

/// Whether a pooling pass reading `values` inputs is worth spreading over the threads.
pub(crate) fn parallel(values: usize) -> bool {
    values >= 1 << 16 && rayon::current_num_threads() > 1
}

/// The geometry of a pooling layer over `[C, H, W]` (no padding).
pub(crate) const fn geometry(
    channels: usize,
    (height, width): (usize, usize),
    kernel: (usize, usize),
    stride: (usize, usize),
    output: (usize, usize),
) -> Geometry {
    Geometry { channels, height, width, kernel, stride, padding: (0, 0), output }
}
