//! A confusion matrix as a heat map.

use super::{render, Figure, PlotError, FONT};
use crate::metrics::ConfusionMatrix;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use std::path::Path;

/// `matrix` as a heat map: a row per actual class, a column per predicted class, each cell
/// shaded by the share of its row (so a class's recall is its diagonal's shade, whatever its
/// count) and labelled with its count.
///
/// ```
/// use nn::metrics::ConfusionMatrix;
///
/// let outputs = [[0.9, 0.1], [0.2, 0.8], [0.6, 0.4]];
/// let matrix = ConfusionMatrix::of(&outputs, &[0, 1, 1]);
/// nn::plot::confusion_matrix(&matrix, std::env::temp_dir().join("confusion.svg"))?;
/// # Ok::<(), nn::plot::PlotError>(())
/// ```
///
/// # Errors
/// A matrix without classes, a file name not ending in `.png` or `.svg`, or a file that could
/// not be written.
pub fn confusion_matrix(matrix: &ConfusionMatrix, path: impl AsRef<Path>) -> Result<(), PlotError> {
    let path = path.as_ref();
    if matrix.classes() == 0 {
        return Err(PlotError::Empty { path: path.to_owned(), what: "the confusion matrix has no classes" });
    }
    render(&HeatMap { matrix }, path)
}

struct HeatMap<'m> {
    matrix: &'m ConfusionMatrix,
}

/// The lightest and darkest shades (matplotlib's "Blues").
const LIGHT: (f64, f64, f64) = (247.0, 251.0, 255.0);
const DARK: (f64, f64, f64) = (8.0, 48.0, 107.0);

/// The shade of a cell holding `share` of its row.
fn shade(share: f64) -> RGBColor {
    // A square root spreads the small shares (the errors) over visibly different shades.
    let t = share.clamp(0.0, 1.0).sqrt();
    let mix = |light: f64, dark: f64| (light + (dark - light) * t).round() as u8;
    RGBColor(mix(LIGHT.0, DARK.0), mix(LIGHT.1, DARK.1), mix(LIGHT.2, DARK.2))
}

impl Figure for HeatMap<'_> {
    fn size(&self) -> (u32, u32) {
        let side = (self.matrix.classes() as u32 * 56).clamp(360, 1400);
        (side + 110, side + 120)
    }

    fn draw<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
    ) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
        let classes = self.matrix.classes() as i32;
        let title = format!(
            "Confusion matrix: {} samples, accuracy {:.2}%",
            self.matrix.total(),
            100.0 * self.matrix.accuracy()
        );
        let mut chart = ChartBuilder::on(root)
            .caption(title, (FONT, 24))
            .margin(16)
            .x_label_area_size(56)
            .y_label_area_size(56)
            // Integer ranges are inclusive in plotters: 0..classes - 1 has `classes` segments.
            .build_cartesian_2d((0..classes - 1).into_segmented(), (0..classes - 1).into_segmented())?;
        // Row 0 at the top, as the matrix is read.
        let row_label = |value: &SegmentValue<i32>| match value {
            SegmentValue::CenterOf(row) => (classes - 1 - row).to_string(),
            _ => String::new(),
        };
        let column_label = |value: &SegmentValue<i32>| match value {
            SegmentValue::CenterOf(column) => column.to_string(),
            _ => String::new(),
        };
        chart
            .configure_mesh()
            .disable_mesh()
            .x_labels(classes as usize)
            .y_labels(classes as usize)
            .x_label_formatter(&column_label)
            .y_label_formatter(&row_label)
            .x_desc("predicted class")
            .y_desc("actual class")
            .label_style((FONT, 16))
            .axis_desc_style((FONT, 18))
            .draw()?;
        let font = (self.size().0 as f64 / classes as f64 / 4.2).clamp(9.0, 18.0);
        for actual in 0..classes {
            let row_total: u64 = (0..classes).map(|p| self.matrix.count(actual as usize, p as usize)).sum();
            for predicted in 0..classes {
                let count = self.matrix.count(actual as usize, predicted as usize);
                let share = if row_total == 0 { 0.0 } else { count as f64 / row_total as f64 };
                let y = classes - 1 - actual;
                let corners = [
                    (SegmentValue::Exact(predicted), SegmentValue::Exact(y)),
                    (SegmentValue::Exact(predicted + 1), SegmentValue::Exact(y + 1)),
                ];
                chart.draw_series([Rectangle::new(corners, shade(share).filled())])?;
                if count > 0 {
                    let ink = if share > 0.45 { WHITE } else { BLACK };
                    let style =
                        TextStyle::from((FONT, font).into_font()).color(&ink).pos(Pos::new(HPos::Center, VPos::Center));
                    let centre = (SegmentValue::CenterOf(predicted), SegmentValue::CenterOf(y));
                    chart.draw_series([Text::new(count.to_string(), centre, style)])?;
                }
            }
        }
        Ok(())
    }
}
