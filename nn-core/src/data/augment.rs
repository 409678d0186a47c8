//! Random geometric jitter of images: each training image seen a little shifted, turned,
//! resized and sheared, drawn afresh every time, so that a network learns the digit rather than
//! its exact pixels.

use rand::Rng;

/// How far [`Augment`] may move an image: the largest shift, rotation, change of size and shear
/// it draws, each uniformly in `[-largest, largest]`, per image. A zero leaves that part alone.
///
/// ```
/// use nn::data::Augment;
///
/// let augment = Augment::new([1, 28, 28]).shift(2.0).rotation(10.0);
/// assert_eq!((augment.shift, augment.rotation, augment.scale), (2.0, 10.0, 0.0));
/// assert_eq!(Augment::digits().shape, [1, 28, 28]);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Augment {
    /// The images' shape, `[channels, height, width]`; their values are channel-major, as a
    /// network's input is.
    pub shape: [usize; 3],
    /// The largest shift along each axis, in pixels.
    pub shift: f32,
    /// The largest rotation either way, in degrees.
    pub rotation: f32,
    /// The largest change of size, as a fraction (0.1: from 90% to 110%).
    pub scale: f32,
    /// The largest shear either way, in degrees.
    pub shear: f32,
}

/// One image's draw of [`Augment`]: the affine map that takes its centre to the centre moved by
/// `(dx, dy)`, rotated by `angle`, scaled by `scale` and sheared by `shear` (radians).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Jitter {
    /// The shift to the right, in pixels.
    pub dx: f32,
    /// The shift down, in pixels.
    pub dy: f32,
    /// The rotation, in radians (positive turns clockwise on screen, rows growing downwards).
    pub angle: f32,
    /// The factor of size.
    pub scale: f32,
    /// The horizontal shear, in radians.
    pub shear: f32,
}

impl Augment {
    /// No jitter yet for images of `shape` (`[channels, height, width]`); the builders add it.
    ///
    /// ```
    /// let augment = nn::data::Augment::new([3, 32, 32]);
    /// assert_eq!(augment.shift + augment.rotation + augment.scale + augment.shear, 0.0);
    /// ```
    pub fn new(shape: [usize; 3]) -> Self {
        Self { shape, shift: 0.0, rotation: 0.0, scale: 0.0, shear: 0.0 }
    }

    /// The usual jitter for 28x28 digits: shifts of up to 2 pixels, turns of up to 10 degrees,
    /// sizes from 90% to 110%, shears of up to 10 degrees.
    ///
    /// ```
    /// let digits = nn::data::Augment::digits();
    /// assert_eq!((digits.shift, digits.rotation, digits.scale, digits.shear), (2.0, 10.0, 0.1, 10.0));
    /// ```
    pub fn digits() -> Self {
        Self::new([1, 28, 28]).shift(2.0).rotation(10.0).scale(0.1).shear(10.0)
    }

    /// With shifts of up to `pixels` along each axis.
    ///
    /// ```
    /// assert_eq!(nn::data::Augment::new([1, 8, 8]).shift(1.5).shift, 1.5);
    /// ```
    pub fn shift(self, pixels: f32) -> Self {
        Self { shift: pixels, ..self }
    }

    /// With rotations of up to `degrees` either way.
    ///
    /// ```
    /// assert_eq!(nn::data::Augment::new([1, 8, 8]).rotation(15.0).rotation, 15.0);
    /// ```
    pub fn rotation(self, degrees: f32) -> Self {
        Self { rotation: degrees, ..self }
    }

    /// With sizes from `1 - fraction` to `1 + fraction`.
    ///
    /// ```
    /// assert_eq!(nn::data::Augment::new([1, 8, 8]).scale(0.2).scale, 0.2);
    /// ```
    pub fn scale(self, fraction: f32) -> Self {
        Self { scale: fraction, ..self }
    }

    /// With shears of up to `degrees` either way.
    ///
    /// ```
    /// assert_eq!(nn::data::Augment::new([1, 8, 8]).shear(5.0).shear, 5.0);
    /// ```
    pub fn shear(self, degrees: f32) -> Self {
        Self { shear: degrees, ..self }
    }

    /// The values of one image: `channels x height x width`.
    ///
    /// ```
    /// assert_eq!(nn::data::Augment::digits().values(), 784);
    /// ```
    pub fn values(&self) -> usize {
        self.shape.iter().product()
    }

    /// One image's jitter, drawn from `rng`.
    ///
    /// ```
    /// use nn::data::Augment;
    /// use nn::prelude::*;
    ///
    /// let jitter = Augment::digits().draw(&mut nn::Pcg64Mcg::seed_from_u64(1));
    /// assert!(jitter.dx.abs() <= 2.0 && (jitter.scale - 1.0).abs() <= 0.1);
    /// ```
    pub fn draw(&self, rng: &mut impl Rng) -> Jitter {
        let mut uniform = |largest: f32| if largest > 0.0 { rng.random_range(-largest..=largest) } else { 0.0 };
        Jitter {
            dx: uniform(self.shift),
            dy: uniform(self.shift),
            angle: uniform(self.rotation).to_radians(),
            scale: 1.0 + uniform(self.scale),
            shear: uniform(self.shear).to_radians(),
        }
    }

    /// Jitters every image of `images` in place, each with its own draw from `rng`. `scratch`
    /// holds a copy of one image; it grows once, so that later calls allocate nothing.
    ///
    /// ```
    /// use nn::data::Augment;
    /// use nn::prelude::*;
    ///
    /// let mut images = vec![[0.0f32; 784]; 2];
    /// images[0][14 * 28 + 14] = 1.0;
    /// let (mut rng, mut scratch) = (nn::Pcg64Mcg::seed_from_u64(2), Vec::new());
    /// Augment::digits().apply(&mut rng, &mut images, &mut scratch);
    /// assert!(images[0].iter().sum::<f32>() > 0.0); // the dot moved, and stayed
    /// assert_eq!(images[1], [0.0; 784]);
    /// ```
    ///
    /// # Panics
    /// If the images do not have `shape`'s number of values.
    pub fn apply<const IN: usize>(&self, rng: &mut impl Rng, images: &mut [[f32; IN]], scratch: &mut Vec<f32>) {
        assert_eq!(IN, self.values(), "images of {IN} values, but the shape {:?} has {}", self.shape, self.values());
        scratch.resize(IN, 0.0);
        for image in images {
            scratch.copy_from_slice(image);
            self.draw(rng).warp(self.shape, scratch, image);
        }
    }
}

impl Jitter {
    /// No change.
    pub const IDENTITY: Jitter = Jitter { dx: 0.0, dy: 0.0, angle: 0.0, scale: 1.0, shear: 0.0 };

    /// Writes `source` (an image of `shape`) moved by this jitter into `target`: each target
    /// pixel samples the source at the point the inverse map takes it to, interpolating its four
    /// neighbours bilinearly; points outside the image read 0. Every channel moves the same way.
    ///
    /// ```
    /// use nn::data::Jitter;
    ///
    /// let source = [0.0, 1.0, 0.0, 0.0]; // one row of four pixels
    /// let mut target = [0.0; 4];
    /// Jitter { dx: 1.0, ..Jitter::IDENTITY }.warp([1, 1, 4], &source, &mut target);
    /// assert_eq!(target, [0.0, 0.0, 1.0, 0.0]);
    /// ```
    ///
    /// # Panics
    /// If `source` or `target` does not have `shape`'s number of values.
    pub fn warp(&self, shape: [usize; 3], source: &[f32], target: &mut [f32]) {
        let [channels, height, width] = shape;
        let plane = height * width;
        assert!(source.len() == channels * plane && target.len() == source.len(), "images of shape {shape:?}");
        // Target -> source: undo the shift, then the inverse of (rotation x shear x scale), about
        // the image's centre (pixel i's centre is at i + 0.5).
        let (sin, cos) = self.angle.sin_cos();
        let forward = [
            [self.scale * cos, self.scale * (cos * self.shear.tan() - sin)],
            [self.scale * sin, self.scale * (sin * self.shear.tan() + cos)],
        ];
        let determinant = forward[0][0] * forward[1][1] - forward[0][1] * forward[1][0];
        let inverse = [
            [forward[1][1] / determinant, -forward[0][1] / determinant],
            [-forward[1][0] / determinant, forward[0][0] / determinant],
        ];
        let (centre_x, centre_y) = (width as f32 / 2.0, height as f32 / 2.0);
        for y in 0..height {
            for x in 0..width {
                let (u, v) = (x as f32 + 0.5 - centre_x - self.dx, y as f32 + 0.5 - centre_y - self.dy);
                let source_x = inverse[0][0] * u + inverse[0][1] * v + centre_x - 0.5;
                let source_y = inverse[1][0] * u + inverse[1][1] * v + centre_y - 0.5;
                for channel in 0..channels {
                    let plane_values = &source[channel * plane..(channel + 1) * plane];
                    target[channel * plane + y * width + x] = bilinear(plane_values, width, height, source_x, source_y);
                }
            }
        }
    }
}

/// The value of `plane` (`height` rows of `width`) at the fractional pixel `(x, y)`, 0 outside.
fn bilinear(plane: &[f32], width: usize, height: usize, x: f32, y: f32) -> f32 {
    let (left, top) = (x.floor(), y.floor());
    let (fx, fy) = (x - left, y - top);
    let pixel = |column: f32, row: f32| {
        if column < 0.0 || row < 0.0 || column >= width as f32 || row >= height as f32 {
            0.0
        } else {
            plane[row as usize * width + column as usize]
        }
    };
    let top_row = pixel(left, top) * (1.0 - fx) + pixel(left + 1.0, top) * fx;
    let bottom_row = pixel(left, top + 1.0) * (1.0 - fx) + pixel(left + 1.0, top + 1.0) * fx;
    top_row * (1.0 - fy) + bottom_row * fy
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    fn image(values: impl Fn(usize, usize) -> f32, height: usize, width: usize) -> Vec<f32> {
        (0..height * width).map(|i| values(i / width, i % width)).collect()
    }

    #[test]
    fn the_identity_changes_nothing() {
        let source = image(|row, column| (row * 7 + column) as f32, 5, 6);
        let mut target = vec![0.0; 30];
        Jitter::IDENTITY.warp([1, 5, 6], &source, &mut target);
        assert_eq!(target, source);
    }

    #[test]
    fn whole_pixel_shifts_move_every_channel_and_fill_with_zeros() {
        let source: Vec<f32> = (1..=2 * 12).map(|v| v as f32).collect(); // two channels of 3 x 4
        let mut target = vec![0.0; 24];
        Jitter { dx: 1.0, dy: 1.0, ..Jitter::IDENTITY }.warp([2, 3, 4], &source, &mut target);
        for channel in 0..2 {
            for (row, column) in (0..3).flat_map(|row| (0..4).map(move |column| (row, column))) {
                let expected =
                    if row == 0 || column == 0 { 0.0 } else { source[channel * 12 + (row - 1) * 4 + column - 1] };
                assert_eq!(target[channel * 12 + row * 4 + column], expected, "{channel} {row} {column}");
            }
        }
    }

    #[test]
    fn a_half_pixel_shift_averages_neighbours() {
        let source = [0.0, 2.0, 4.0, 6.0];
        let mut target = [0.0; 4];
        Jitter { dx: 0.5, ..Jitter::IDENTITY }.warp([1, 1, 4], &source, &mut target);
        assert_eq!(target, [0.0, 1.0, 3.0, 5.0]);
    }

    #[test]
    fn a_quarter_turn_maps_corners_to_corners() {
        // A 4 x 4 image with one pixel lit in the top-left corner: a quarter turn clockwise (on
        // screen) takes it to the top-right corner.
        let mut source = vec![0.0; 16];
        source[0] = 1.0;
        let mut target = vec![0.0; 16];
        Jitter { angle: std::f32::consts::FRAC_PI_2, ..Jitter::IDENTITY }.warp([1, 4, 4], &source, &mut target);
        let lit: Vec<usize> = (0..16).filter(|&i| target[i] > 0.5).collect();
        assert_eq!(lit, [3]);
    }

    #[test]
    fn scaling_up_about_the_centre_spreads_a_centred_square() {
        // A 2 x 2 square at the centre of 6 x 6, doubled: 4 x 4.
        let source = image(|row, column| f32::from(u8::from((2..4).contains(&row) && (2..4).contains(&column))), 6, 6);
        let mut target = vec![0.0; 36];
        Jitter { scale: 2.0, ..Jitter::IDENTITY }.warp([1, 6, 6], &source, &mut target);
        let full = target.iter().filter(|&&v| v > 0.99).count();
        assert_eq!(full, 4, "{target:?}"); // the inner 2 x 2 stays full; the ring around it blends
        assert!((target.iter().sum::<f32>() - 4.0 * source.iter().sum::<f32>()).abs() < 1.0);
    }

    #[test]
    fn draws_are_seeded_and_within_the_limits() {
        let augment = Augment::digits();
        let draws = |seed| {
            let mut rng = rand_pcg::Pcg64Mcg::seed_from_u64(seed);
            (0..100).map(|_| augment.draw(&mut rng)).collect::<Vec<_>>()
        };
        assert_eq!(draws(3), draws(3));
        assert_ne!(draws(3), draws(4));
        for jitter in draws(5) {
            assert!(jitter.dx.abs() <= 2.0 && jitter.dy.abs() <= 2.0);
            assert!(jitter.angle.abs() <= 10f32.to_radians() + 1e-6 && jitter.shear.abs() <= 10f32.to_radians() + 1e-6);
            assert!((0.9..=1.1).contains(&jitter.scale));
        }
        let none = Augment::new([1, 28, 28]).draw(&mut rand_pcg::Pcg64Mcg::seed_from_u64(1));
        assert_eq!(none, Jitter::IDENTITY);
    }

    #[test]
    #[should_panic(expected = "images of 10 values, but the shape [1, 28, 28] has 784")]
    fn images_of_another_size_are_refused() {
        Augment::digits().apply(&mut rand_pcg::Pcg64Mcg::seed_from_u64(1), &mut [[0.0; 10]], &mut Vec::new());
    }
}
