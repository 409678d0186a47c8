//! A drawing made into the input MNIST would have made of it.
//!
//! The MNIST digits were scanned, scaled (keeping their aspect ratio) to fit a 20x20 box with
//! anti-aliasing, and placed in a 28x28 field so that their centre of mass is at its centre. A
//! digit drawn with a finger sits anywhere on the canvas at any size, so it goes through the
//! same steps before the network sees it.

/// The side of the network's input image.
pub const SIDE: usize = 28;

/// The side of the box a digit is scaled to fit, as in MNIST.
const BOX: usize = 20;

/// The input values of one digit, row-major, 0 (no ink) to 1.
pub type Input = [f32; SIDE * SIDE];

/// The network input for `ink` (`width x height` values, row-major, 0 for paper to 255 for full
/// ink): the drawing cropped to the bounding box of its ink, scaled to fit 20x20 keeping its
/// aspect ratio (each output pixel the mean of the area it covers), then placed in a 28x28
/// field with its centre of mass as near the centre as the field allows. An empty drawing gives
/// zeros. Nothing is allocated.
///
/// ```
/// use nn_web::drawing::{mnist_input, SIDE};
///
/// // A 100 x 40 bar of ink on a 280 x 280 canvas becomes a 20 x 8 bar, centred.
/// let mut ink = vec![0u8; 280 * 280];
/// for y in 120..160 {
///     ink[y * 280 + 90..y * 280 + 190].fill(255);
/// }
/// let input = mnist_input(&ink, 280, 280);
/// let inked: Vec<usize> = (0..SIDE * SIDE).filter(|&i| input[i] > 0.0).collect();
/// assert_eq!(inked.len(), 20 * 8);
/// assert_eq!((inked[0] / SIDE, inked[0] % SIDE), (10, 4)); // rows 10..18, columns 4..24
/// ```
///
/// # Panics
/// If `ink` does not hold `width x height` values.
pub fn mnist_input(ink: &[u8], width: usize, height: usize) -> Input {
    assert_eq!(ink.len(), width * height, "one ink value per canvas pixel");
    let mut input = [0.0; SIDE * SIDE];
    let Some(bounds) = Bounds::of(ink, width) else {
        return input;
    };
    let mut scaled = [0.0f32; BOX * BOX];
    let (columns, rows) = bounds.scale_into(ink, width, &mut scaled);
    let (x, y) = centred_offset(&scaled, columns, rows);
    for row in 0..rows {
        let to = (y + row) * SIDE + x;
        input[to..to + columns].copy_from_slice(&scaled[row * BOX..row * BOX + columns]);
    }
    input
}

/// The smallest rectangle holding every inked pixel: columns `left..right`, rows `top..bottom`.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Bounds {
    left: usize,
    right: usize,
    top: usize,
    bottom: usize,
}

impl Bounds {
    /// The bounds of the ink, or `None` for a blank drawing.
    fn of(ink: &[u8], width: usize) -> Option<Bounds> {
        let mut bounds: Option<Bounds> = None;
        for (y, row) in ink.chunks_exact(width).enumerate() {
            let (Some(first), Some(last)) = (row.iter().position(|&v| v > 0), row.iter().rposition(|&v| v > 0)) else {
                continue;
            };
            let b = bounds.get_or_insert(Bounds { left: first, right: last + 1, top: y, bottom: y + 1 });
            (b.left, b.right, b.bottom) = (b.left.min(first), b.right.max(last + 1), y + 1);
        }
        bounds
    }

    /// Scales the ink inside the bounds to fit a 20x20 box, keeping the aspect ratio, into the
    /// top-left of `scaled` (rows of 20, values 0 to 1); returns the columns and rows used.
    fn scale_into(self, ink: &[u8], width: usize, scaled: &mut [f32; BOX * BOX]) -> (usize, usize) {
        let (source_columns, source_rows) = (self.right - self.left, self.bottom - self.top);
        let longest = source_columns.max(source_rows) as f32;
        let fitted = |length: usize| ((length as f32 * BOX as f32 / longest).round() as usize).clamp(1, BOX);
        let (columns, rows) = (fitted(source_columns), fitted(source_rows));
        for row in 0..rows {
            let (y0, y1) = span(row, rows, source_rows);
            for column in 0..columns {
                let (x0, x1) = span(column, columns, source_columns);
                scaled[row * BOX + column] = self.mean(ink, width, (x0, x1), (y0, y1));
            }
        }
        (columns, rows)
    }

    /// The mean ink (0 to 1) over the source area `xs x ys` (in pixels from the bounds' corner,
    /// fractional), each pixel weighted by how much of it the area covers.
    fn mean(self, ink: &[u8], width: usize, (x0, x1): (f32, f32), (y0, y1): (f32, f32)) -> f32 {
        let mut total = 0.0;
        for y in y0.floor() as usize..(y1.ceil() as usize) {
            let cover_y = overlap(y, y0, y1);
            let (first, last) = (x0.floor() as usize, x1.ceil() as usize);
            let row = &ink[(self.top + y) * width + self.left + first..][..last - first];
            for (x, &value) in (first..).zip(row) {
                total += f32::from(value) * cover_y * overlap(x, x0, x1);
            }
        }
        total / (255.0 * (x1 - x0) * (y1 - y0))
    }
}

/// The source interval of output pixel `index` of `outputs` covering `inputs` pixels.
fn span(index: usize, outputs: usize, inputs: usize) -> (f32, f32) {
    let step = inputs as f32 / outputs as f32;
    (index as f32 * step, ((index + 1) as f32 * step).min(inputs as f32))
}

/// How much of pixel `pixel` (the interval `pixel..pixel + 1`) lies in `from..to`.
fn overlap(pixel: usize, from: f32, to: f32) -> f32 {
    let (start, end) = (pixel as f32, pixel as f32 + 1.0);
    (end.min(to) - start.max(from)).max(0.0)
}

/// Where the `columns x rows` image in `scaled` goes in the 28x28 field: its centre of mass at
/// the field's centre, moved in as little as keeps it whole.
fn centred_offset(scaled: &[f32; BOX * BOX], columns: usize, rows: usize) -> (usize, usize) {
    let (mut mass, mut x_moment, mut y_moment) = (0.0f32, 0.0f32, 0.0f32);
    for row in 0..rows {
        for column in 0..columns {
            let value = scaled[row * BOX + column];
            // Pixel `i` covers `i..i + 1`: its mass sits at `i + 0.5`.
            (mass, x_moment, y_moment) =
                (mass + value, x_moment + value * (column as f32 + 0.5), y_moment + value * (row as f32 + 0.5));
        }
    }
    let centre = SIDE as f32 / 2.0;
    let place = |moment: f32, length: usize| {
        let offset = (centre - moment / mass).round().max(0.0) as usize;
        offset.min(SIDE - length)
    };
    (place(x_moment, columns), place(y_moment, rows))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn blank() -> Vec<u8> {
        vec![0; 280 * 280]
    }

    #[test]
    fn a_blank_drawing_is_all_zeros() {
        assert_eq!(mnist_input(&blank(), 280, 280), [0.0; SIDE * SIDE]);
    }

    #[test]
    fn a_tall_stroke_fills_the_box_height_and_is_centred() {
        // A 10 x 200 stroke near the left edge: scaled to 1 x 20, its centre (x 0.5) moved to
        // 14.5: the half-pixel tie rounds away from zero.
        let mut ink = blank();
        for y in 30..230 {
            ink[y * 280 + 5..y * 280 + 15].fill(255);
        }
        let input = mnist_input(&ink, 280, 280);
        let inked: Vec<(usize, usize)> =
            (0..SIDE * SIDE).filter(|&i| input[i] > 0.0).map(|i| (i / SIDE, i % SIDE)).collect();
        assert_eq!(inked.len(), 20);
        assert!(inked.iter().all(|&(row, column)| (4..24).contains(&row) && column == 14), "{inked:?}");
        assert!(inked.iter().all(|&(row, column)| input[row * SIDE + column] == 1.0));
    }

    #[test]
    fn partial_coverage_gives_grey_levels_and_keeps_the_mean() {
        // 30 x 30 of ink with a 15-pixel wide half: each output pixel averages 1.5 x 1.5 source
        // pixels, so the edge column is half inked.
        let mut ink = vec![0u8; 30 * 30];
        for y in 0..30 {
            ink[y * 30..y * 30 + 30].fill(if y < 15 { 255 } else { 0 });
        }
        ink[29 * 30] = 255; // a single dot at the bottom keeps the bounds 30 x 30
        let input = mnist_input(&ink, 30, 30);
        let total: f32 = input.iter().sum();
        let expected = (15.0 * 30.0 + 1.0) / (30.0 * 30.0) * 400.0;
        assert!((total - expected).abs() < 1e-2, "{total} vs {expected}");
    }

    #[test]
    fn the_centre_of_mass_lands_at_the_centre() {
        // An L shape: heavy at the bottom, so the box sits higher than its middle.
        let mut ink = blank();
        for y in 40..240 {
            ink[y * 280 + 100..y * 280 + 120].fill(255);
        }
        for y in 220..240 {
            ink[y * 280 + 100..y * 280 + 240].fill(255);
        }
        let input = mnist_input(&ink, 280, 280);
        let mass: f32 = input.iter().sum();
        let centre = |coordinate: fn(usize) -> usize| {
            (0..SIDE * SIDE).map(|i| input[i] * (coordinate(i) as f32 + 0.5)).sum::<f32>() / mass
        };
        let (x, y) = (centre(|i| i % SIDE), centre(|i| i / SIDE));
        assert!((x - 14.0).abs() <= 0.5 && (y - 14.0).abs() <= 0.5, "centre of mass at ({x}, {y})");
    }

    #[test]
    fn an_mnist_digit_drawn_ten_times_larger_comes_back() {
        // Each MNIST digit already fills its 20x20 box and is centred by mass: drawn at 10x
        // size anywhere on the canvas, it comes back to within one pixel's shift.
        let mnist = nn::data::mnist::Mnist::embedded().expect("the embedded sample");
        for (index, digit) in mnist.test.inputs.iter().take(50).enumerate() {
            let mut ink = blank();
            for (i, value) in digit.iter().enumerate() {
                let (row, column) = (i / SIDE, i % SIDE);
                for y in 0..10 {
                    let start = (row * 10 + y) * 280 + column * 10;
                    ink[start..start + 10].fill((value * 255.0).round() as u8);
                }
            }
            let input = mnist_input(&ink, 280, 280);
            let shifts = [-1isize, 0, 1];
            let best = shifts
                .iter()
                .flat_map(|&dy| shifts.iter().map(move |&dx| (dx, dy)))
                .map(|(dx, dy)| difference(&input, digit, dx, dy))
                .fold(f32::INFINITY, f32::min);
            assert!(best < 0.05, "digit {index}: mean difference {best}");
        }
    }

    /// The mean absolute difference between `a` and `b` moved by `(dx, dy)`.
    fn difference(a: &Input, b: &Input, dx: isize, dy: isize) -> f32 {
        let mut total = 0.0;
        for row in 0..SIDE as isize {
            for column in 0..SIDE as isize {
                let (r, c) = (row - dy, column - dx);
                let moved = if (0..SIDE as isize).contains(&r) && (0..SIDE as isize).contains(&c) {
                    b[(r * SIDE as isize + c) as usize]
                } else {
                    0.0
                };
                total += (a[(row * SIDE as isize + column) as usize] - moved).abs();
            }
        }
        total / (SIDE * SIDE) as f32
    }
}
