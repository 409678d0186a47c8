//! A grid of misclassified images.

use super::{render, Figure, PlotError, FONT};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use std::path::Path;

/// The most images in the grid.
const MOST: usize = 40;
/// Images per row.
const COLUMNS: usize = 8;

/// A grid of the first (at most 40) images whose prediction differs from their label, each
/// captioned with its true and predicted class: what a classifier gets wrong, at a glance.
/// `images` are greyscale, `width` pixels per row, row after row (MNIST's `[f32; 784]` with a
/// width of 28); each is shaded from its own lowest value (white) to its highest (black), so raw,
/// scaled and standardised pixels all show.
///
/// ```
/// let images = [[0.0; 784], [1.0; 784]];
/// let shown = nn::plot::misclassified(&images, &[3, 5], &[3, 6], 28, std::env::temp_dir().join("wrong.png"))?;
/// assert_eq!(shown, 1);
/// # Ok::<(), nn::plot::PlotError>(())
/// ```
///
/// Returns how many images it drew.
///
/// # Errors
/// Labels or predictions not one per image, a `width` that does not divide the image size, a
/// file name not ending in `.png` or `.svg`, or a file that could not be written.
pub fn misclassified<const PIXELS: usize>(
    images: &[[f32; PIXELS]],
    labels: &[usize],
    predictions: &[usize],
    width: usize,
    path: impl AsRef<Path>,
) -> Result<usize, PlotError> {
    let path = path.as_ref();
    let mismatch = |reason: String| PlotError::Mismatch { path: path.to_owned(), reason };
    if labels.len() != images.len() || predictions.len() != images.len() {
        return Err(mismatch(format!(
            "{} images, {} labels and {} predictions: they must be one per image",
            images.len(),
            labels.len(),
            predictions.len()
        )));
    }
    if width == 0 || !PIXELS.is_multiple_of(width) {
        return Err(mismatch(format!("an image of {PIXELS} pixels cannot be {width} pixels wide")));
    }
    let wrong: Vec<usize> = (0..images.len()).filter(|&i| labels[i] != predictions[i]).take(MOST).collect();
    let grid = Grid { images, labels, predictions, wrong: &wrong, width, height: PIXELS / width };
    render(&grid, path)?;
    Ok(wrong.len())
}

struct Grid<'a, const PIXELS: usize> {
    images: &'a [[f32; PIXELS]],
    labels: &'a [usize],
    predictions: &'a [usize],
    /// The images drawn, by index.
    wrong: &'a [usize],
    width: usize,
    height: usize,
}

/// Pixels per image pixel: MNIST's 28 rows become 84.
fn scale(width: usize, height: usize) -> u32 {
    (84 / width.max(height)).max(1) as u32
}

impl<const PIXELS: usize> Figure for Grid<'_, PIXELS> {
    fn size(&self) -> (u32, u32) {
        let scale = scale(self.width, self.height);
        let rows = self.wrong.len().div_ceil(COLUMNS).max(1) as u32;
        let cell = (self.width as u32 * scale + 24, self.height as u32 * scale + 34);
        (cell.0 * COLUMNS as u32 + 16, cell.1 * rows + 64)
    }

    fn draw<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
    ) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
        let title = match self.wrong.len() {
            0 => "No misclassified images".to_owned(),
            count => format!("{count} misclassified images: true class, predicted class"),
        };
        let area = root.titled(&title, (FONT, 24))?.margin(4, 4, 8, 8);
        let rows = self.wrong.len().div_ceil(COLUMNS).max(1);
        let cells = area.split_evenly((rows, COLUMNS));
        for (&index, cell) in self.wrong.iter().zip(&cells) {
            let caption = format!("{} as {}", self.labels[index], self.predictions[index]);
            let caption_style = TextStyle::from((FONT, 17).into_font()).pos(Pos::new(HPos::Center, VPos::Top));
            let (cell_width, _) = cell.dim_in_pixel();
            cell.draw(&Text::new(caption, (cell_width as i32 / 2, 2), caption_style))?;
            self.draw_image(cell, &self.images[index], (cell_width as i32, 24))?;
        }
        Ok(())
    }
}

impl<const PIXELS: usize> Grid<'_, PIXELS> {
    /// One image centred below its caption, at `(cell width, top)`.
    fn draw_image<DB: DrawingBackend>(
        &self,
        cell: &DrawingArea<DB, Shift>,
        image: &[f32; PIXELS],
        (cell_width, top): (i32, i32),
    ) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
        let scale = scale(self.width, self.height) as i32;
        let left = (cell_width - self.width as i32 * scale) / 2;
        let finite = || image.iter().copied().filter(|value| value.is_finite());
        let low = finite().fold(f32::INFINITY, f32::min);
        let high = finite().fold(f32::NEG_INFINITY, f32::max);
        let spread = if high > low { high - low } else { 1.0 };
        let frame = [(left - 1, top - 1), (left + self.width as i32 * scale, top + self.height as i32 * scale)];
        cell.draw(&Rectangle::new(frame, RGBColor(200, 200, 200)))?;
        for (i, value) in image.iter().enumerate() {
            let ink = if value.is_finite() { ((value - low) / spread).clamp(0.0, 1.0) } else { 0.0 };
            if ink < 0.02 {
                continue; // the background is already white
            }
            let grey = (255.0 * (1.0 - ink)).round() as u8;
            let (x, y) = (left + (i % self.width) as i32 * scale, top + (i / self.width) as i32 * scale);
            let pixel = [(x, y), (x + scale, y + scale)];
            cell.draw(&Rectangle::new(pixel, RGBColor(grey, grey, grey).filled()))?;
        }
        Ok(())
    }
}
