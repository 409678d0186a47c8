//! What the pooling layers share: their window geometry and the loop over windows.

use super::conv2d::Geometry;

/// Calls `visit(output_index, input_indices)` for every output of a pooling layer over one
/// sample: channel by channel, each window's input positions (flat, channel-major).
#[inline(always)]
pub(crate) fn windows(geometry: &Geometry, mut visit: impl FnMut(usize, &mut dyn Iterator<Item = usize>)) {
    let (height, width) = (geometry.height, geometry.width);
    let (kernel_h, kernel_w) = geometry.kernel;
    let mut output = 0;
    for c in 0..geometry.channels {
        for oh in 0..geometry.output.0 {
            for ow in 0..geometry.output.1 {
                let mut taps = (0..kernel_h).flat_map(move |kh| {
                    (0..kernel_w).filter_map(move |kw| {
                        geometry.source(oh, ow, kh, kw).map(|(r, col)| c * height * width + r * width + col)
                    })
                });
                visit(output, &mut taps);
                output += 1;
            }
        }
    }
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
