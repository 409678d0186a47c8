//! Max pooling over 2 x 2 windows 2 apart, PyTorch's `MaxPool2d(2)`: the pooling of nearly every
//! CNN, and worth a kernel of its own.
//!
//! A general pooling loop visits one window at a time and scatters each gradient to an input
//! index it stored; neither vectorises. Here a window's four taps sit at fixed offsets (two
//! neighbours in two rows), so a row of windows is one pass over two input rows that LLVM
//! vectorises with interleaved loads and stores, the winner of each window is a small code
//! (0 to 3, row-major) instead of an index, and the backward pass writes every input gradient
//! (the gradient or 0) in the same pattern instead of zeroing and scattering.

use super::kernel;

kernel! {
    /// `y` = the maximum of each 2 x 2 window (stride 2) of `planes` planes of `height x width`
    /// values in `x`, and `taps` = which of its four inputs won (0 to 3, row-major; the first on
    /// ties; a NaN wins). `y` and `taps` hold `planes` planes of `height / 2 x width / 2`; a last
    /// odd row or column is not pooled, as in PyTorch.
    ///
    /// ```
    /// let mut y = [0.0; 2];
    /// let mut taps = [0; 2];
    /// nn::__private::kernels::max_pool_2x2(&[1.0, 5.0, 2.0, 0.0, 3.0, 4.0, 8.0, 8.0], 1, 2, 4, &mut y, &mut taps);
    /// assert_eq!((y, taps), ([5.0, 8.0], [1, 2]));
    /// ```
    ///
    /// # Panics
    /// If the slices' lengths do not match the sizes.
    pub fn max_pool_2x2(x: &[f32], planes: usize, height: usize, width: usize, y: &mut [f32], taps: &mut [u32])
        => max_pool_forward
}

#[inline(always)]
fn max_pool_forward<const FMA: bool>(
    x: &[f32],
    planes: usize,
    height: usize,
    width: usize,
    y: &mut [f32],
    taps: &mut [u32],
) {
    let (rows, columns) = (height / 2, width / 2);
    assert_eq!(x.len(), planes * height * width, "planes of height x width inputs");
    assert!(y.len() == planes * rows * columns && taps.len() == y.len(), "an output and a tap per window");
    if rows == 0 || columns == 0 {
        return;
    }
    let outputs = y.chunks_exact_mut(rows * columns).zip(taps.chunks_exact_mut(rows * columns));
    for (x, (y, taps)) in x.chunks_exact(height * width).zip(outputs) {
        let output_rows = y.chunks_exact_mut(columns).zip(taps.chunks_exact_mut(columns));
        for (pair, (y, taps)) in x.chunks_exact(2 * width).zip(output_rows) {
            let (top, bottom) = pair.split_at(width);
            pool_row(&top[..2 * columns], &bottom[..2 * columns], y, taps);
        }
    }
}

/// One row of windows: `top` and `bottom` hold their two input rows, two inputs per window.
#[inline(always)]
fn pool_row(top: &[f32], bottom: &[f32], y: &mut [f32], taps: &mut [u32]) {
    let windows = top.chunks_exact(2).zip(bottom.chunks_exact(2));
    for (((top, bottom), y), tap) in windows.zip(y.iter_mut()).zip(taps.iter_mut()) {
        // Selects, not branches: which input wins is data. `|` and `&` do not short-circuit.
        let (mut best, mut winner) = (top[0], 0);
        for (candidate, code) in [(top[1], 1), (bottom[0], 2), (bottom[1], 3)] {
            let better = (candidate > best) | (candidate.is_nan() & !best.is_nan());
            best = if better { candidate } else { best };
            winner = if better { code } else { winner };
        }
        (*y, *tap) = (best, winner);
    }
}

kernel! {
    /// The backward pass of [`max_pool_2x2`]: each input gradient in `dx` is its window's `dy`
    /// where `taps` names it and 0 elsewhere, a last odd row or column included. `dx` is
    /// overwritten.
    ///
    /// ```
    /// let mut dx = [9.0; 8];
    /// nn::__private::kernels::max_pool_2x2_backward(&[1, 2], &[0.5, 2.0], 1, 2, 4, &mut dx);
    /// assert_eq!(dx, [0.0, 0.5, 0.0, 0.0, 0.0, 0.0, 2.0, 0.0]);
    /// ```
    ///
    /// # Panics
    /// If the slices' lengths do not match the sizes.
    pub fn max_pool_2x2_backward(taps: &[u32], dy: &[f32], planes: usize, height: usize, width: usize, dx: &mut [f32])
        => max_pool_backward
}

#[inline(always)]
fn max_pool_backward<const FMA: bool>(
    taps: &[u32],
    dy: &[f32],
    planes: usize,
    height: usize,
    width: usize,
    dx: &mut [f32],
) {
    let (rows, columns) = (height / 2, width / 2);
    assert_eq!(dx.len(), planes * height * width, "planes of height x width input gradients");
    assert!(dy.len() == planes * rows * columns && taps.len() == dy.len(), "a gradient and a tap per window");
    if rows == 0 || columns == 0 {
        dx.fill(0.0);
        return;
    }
    for ((dx, dy), taps) in
        dx.chunks_exact_mut(height * width).zip(dy.chunks_exact(rows * columns)).zip(taps.chunks_exact(rows * columns))
    {
        let (pooled, rest) = dx.split_at_mut(2 * rows * width);
        rest.fill(0.0);
        for ((pair, dy), taps) in
            pooled.chunks_exact_mut(2 * width).zip(dy.chunks_exact(columns)).zip(taps.chunks_exact(columns))
        {
            let (top, bottom) = pair.split_at_mut(width);
            top[2 * columns..].fill(0.0);
            bottom[2 * columns..].fill(0.0);
            route_row(&mut top[..2 * columns], &mut bottom[..2 * columns], dy, taps);
        }
    }
}

/// One row of windows' gradients into their two input rows.
#[inline(always)]
fn route_row(top: &mut [f32], bottom: &mut [f32], dy: &[f32], taps: &[u32]) {
    let windows = top.chunks_exact_mut(2).zip(bottom.chunks_exact_mut(2));
    for (((top, bottom), dy), tap) in windows.zip(dy).zip(taps) {
        // The gradient's bits under an all-ones or all-zeros mask: with a comparison and a
        // select per tap, LLVM builds a jump table on the tap instead of vectorising.
        let gradient = |code: u32| f32::from_bits(dy.to_bits() & u32::from(*tap == code).wrapping_neg());
        (top[0], top[1], bottom[0], bottom[1]) = (gradient(0), gradient(1), gradient(2), gradient(3));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernels::reference::values;

    /// The window-by-window definition: the first maximum of each window, a NaN winning.
    fn reference(x: &[f32], planes: usize, height: usize, width: usize) -> (Vec<f32>, Vec<u32>) {
        let (mut y, mut taps) = (Vec::new(), Vec::new());
        for plane in 0..planes {
            for row in 0..height / 2 {
                for column in 0..width / 2 {
                    let at =
                        |code: usize| x[plane * height * width + (2 * row + code / 2) * width + 2 * column + code % 2];
                    let mut winner = 0;
                    for code in 1..4 {
                        if at(code) > at(winner) || (at(code).is_nan() && !at(winner).is_nan()) {
                            winner = code;
                        }
                    }
                    y.push(at(winner));
                    taps.push(winner as u32);
                }
            }
        }
        (y, taps)
    }

    proptest::proptest! {
        /// Any planes and sizes, with values from a few levels (so ties are common), against the
        /// window-by-window definition; the backward pass routes each gradient to the winner.
        #[test]
        fn pooling_matches_the_definition(
            planes in 1usize..5, height in 1usize..13, width in 1usize..13,
            levels in proptest::collection::vec(0u8..4, 1..700),
        ) {
            let x: Vec<f32> = (0..planes * height * width).map(|i| f32::from(levels[i % levels.len()])).collect();
            let (expected_y, expected_taps) = reference(&x, planes, height, width);
            let outputs = expected_y.len();
            let (mut y, mut taps) = (vec![0.0; outputs], vec![0; outputs]);
            max_pool_2x2(&x, planes, height, width, &mut y, &mut taps);
            proptest::prop_assert_eq!(&y, &expected_y);
            proptest::prop_assert_eq!(&taps, &expected_taps);
            let dy: Vec<f32> = (0..outputs).map(|i| i as f32 + 1.0).collect();
            let mut dx = vec![f32::NAN; x.len()];
            max_pool_2x2_backward(&taps, &dy, planes, height, width, &mut dx);
            proptest::prop_assert_eq!(dx.iter().sum::<f32>(), dy.iter().sum::<f32>());
            proptest::prop_assert_eq!(dx.iter().filter(|&&g| g != 0.0).count(), outputs);
        }
    }

    #[test]
    fn forward_and_backward_match_the_definition_on_odd_sizes() {
        for (planes, height, width) in [(1, 2, 2), (3, 5, 7), (2, 4, 9), (6, 24, 24), (2, 3, 1), (1, 1, 4)] {
            let mut x = values(planes * height * width, (height * 31 + width) as u64);
            // Ties and NaNs: every seventh input repeats its neighbour, one is NaN.
            for index in (1..x.len()).step_by(7) {
                x[index] = x[index - 1];
            }
            let middle = x.len() / 2;
            x[middle] = f32::NAN;
            let (expected_y, expected_taps) = reference(&x, planes, height, width);
            let outputs = planes * (height / 2) * (width / 2);
            let (mut y, mut taps) = (vec![0.0; outputs], vec![9; outputs]);
            max_pool_2x2(&x, planes, height, width, &mut y, &mut taps);
            max_pool_forward::<false>(&x, planes, height, width, &mut y.clone(), &mut taps.clone());
            assert_eq!(taps, expected_taps, "{planes} x {height} x {width}");
            assert!(y.iter().zip(&expected_y).all(|(a, b)| a == b || (a.is_nan() && b.is_nan())));

            let dy = values(outputs, 5);
            let mut dx = vec![7.0; x.len()];
            max_pool_2x2_backward(&taps, &dy, planes, height, width, &mut dx);
            let mut expected_dx = vec![0.0; x.len()];
            for (window, (&tap, &gradient)) in taps.iter().zip(&dy).enumerate() {
                let (plane, row, column) =
                    (window / ((height / 2) * (width / 2)), window / (width / 2) % (height / 2), window % (width / 2));
                let tap = tap as usize;
                expected_dx[plane * height * width + (2 * row + tap / 2) * width + 2 * column + tap % 2] = gradient;
            }
            assert_eq!(dx, expected_dx, "{planes} x {height} x {width}");
        }
    }
}
