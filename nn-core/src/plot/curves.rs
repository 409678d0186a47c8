//! Figures per epoch: loss, accuracy, learning rate.

use super::{render, Figure, PlotError, FONT, TRAIN, VALIDATION};
use crate::fit::History;
use plotters::coord::Shift;
use plotters::prelude::*;
use std::path::Path;

/// Training and validation loss per epoch.
///
/// ```
/// # use nn::fit::{EpochRecord, History};
/// # let record = EpochRecord { epoch: 1, train_loss: 0.5, train_accuracy: 0.8, validation_loss: Some(0.6),
/// #     validation_accuracy: Some(0.75), learning_rate: 0.1, ..Default::default() };
/// # let history = History { epochs: vec![record], best_epoch: Some(1), stopped_early: false };
/// nn::plot::loss(&history, std::env::temp_dir().join("loss.png"))?;
/// # Ok::<(), nn::plot::PlotError>(())
/// ```
///
/// # Errors
/// A history without epochs, a file name not ending in `.png` or `.svg`, or a file that could
/// not be written.
pub fn loss(history: &History, path: impl AsRef<Path>) -> Result<(), PlotError> {
    let train = history.epochs.iter().map(|record| (record.epoch, f64::from(record.train_loss))).collect();
    let validation =
        history.epochs.iter().filter_map(|record| Some((record.epoch, f64::from(record.validation_loss?))));
    let curves = Curves {
        title: "Loss",
        y_label: "mean loss",
        series: vec![("training", TRAIN, train), ("validation", VALIDATION, validation.collect())],
        from_zero: true,
        legend_at: SeriesLabelPosition::UpperRight,
    };
    draw(&curves, path.as_ref(), "the history has no epochs")
}

/// Training (running, over each epoch's steps) and validation accuracy per epoch.
///
/// ```
/// # use nn::fit::{EpochRecord, History};
/// # let record = EpochRecord { epoch: 1, train_loss: 0.5, train_accuracy: 0.8, validation_loss: Some(0.6),
/// #     validation_accuracy: Some(0.75), learning_rate: 0.1, ..Default::default() };
/// # let history = History { epochs: vec![record], best_epoch: Some(1), stopped_early: false };
/// nn::plot::accuracy(&history, std::env::temp_dir().join("accuracy.svg"))?;
/// # Ok::<(), nn::plot::PlotError>(())
/// ```
///
/// # Errors
/// As [`loss`].
pub fn accuracy(history: &History, path: impl AsRef<Path>) -> Result<(), PlotError> {
    let train = history.epochs.iter().map(|record| (record.epoch, f64::from(record.train_accuracy))).collect();
    let validation =
        history.epochs.iter().filter_map(|record| Some((record.epoch, f64::from(record.validation_accuracy?))));
    let curves = Curves {
        title: "Accuracy",
        y_label: "share of correct predictions",
        series: vec![("training", TRAIN, train), ("validation", VALIDATION, validation.collect())],
        from_zero: false,
        legend_at: SeriesLabelPosition::LowerRight,
    };
    draw(&curves, path.as_ref(), "the history has no epochs")
}

/// The learning rate of each epoch (at its first step).
///
/// ```
/// # use nn::fit::{EpochRecord, History};
/// # let record = EpochRecord { epoch: 1, train_loss: 0.5, learning_rate: 0.1, ..Default::default() };
/// # let history = History { epochs: vec![record], best_epoch: Some(1), stopped_early: false };
/// nn::plot::learning_rate(&history, std::env::temp_dir().join("learning_rate.png"))?;
/// # Ok::<(), nn::plot::PlotError>(())
/// ```
///
/// # Errors
/// As [`loss`].
pub fn learning_rate(history: &History, path: impl AsRef<Path>) -> Result<(), PlotError> {
    let rates = history.epochs.iter().map(|record| (record.epoch, record.learning_rate)).collect();
    let curves = Curves {
        title: "Learning rate",
        y_label: "learning rate",
        series: vec![("learning rate", TRAIN, rates)],
        from_zero: true,
        legend_at: SeriesLabelPosition::UpperRight,
    };
    draw(&curves, path.as_ref(), "the history has no epochs")
}

/// Draws `curves`, or [`PlotError::Empty`] saying `empty` when there is no point.
fn draw(curves: &Curves, path: &Path, empty: &'static str) -> Result<(), PlotError> {
    if curves.series.iter().all(|(_, _, points)| points.is_empty()) {
        return Err(PlotError::Empty { path: path.to_owned(), what: empty });
    }
    render(curves, path)
}

/// One line: its name in the legend, its colour, its (epoch, value) points.
type Series = (&'static str, RGBColor, Vec<(usize, f64)>);

/// Lines over epochs, with a legend.
struct Curves {
    title: &'static str,
    y_label: &'static str,
    /// The lines; those without points are left out.
    series: Vec<Series>,
    /// Whether the value axis starts at 0 (losses, rates) or just below the lowest value
    /// (accuracies, whose last points would be flattened against the top otherwise).
    from_zero: bool,
    /// Where the legend goes: where the lines are not.
    legend_at: SeriesLabelPosition,
}

impl Curves {
    /// The epochs' axis and the values' axis.
    fn ranges(&self) -> (std::ops::Range<f64>, std::ops::Range<f64>) {
        let points = || self.series.iter().flat_map(|(_, _, points)| points.iter());
        let last = points().map(|&(epoch, _)| epoch).max().unwrap_or(1).max(2);
        let values = || points().map(|&(_, value)| value).filter(|value| value.is_finite());
        let high = values().fold(f64::NEG_INFINITY, f64::max);
        let low = values().fold(f64::INFINITY, f64::min);
        let (high, low) = if high.is_finite() { (high, low) } else { (1.0, 0.0) };
        let bottom = if self.from_zero { 0.0f64.min(low) } else { low };
        // A flat line (a constant rate) still gets an axis around it.
        let spread = (high - bottom).max(high.abs() * 0.1).max(1e-12);
        let bottom = if self.from_zero { bottom } else { bottom - 0.1 * spread };
        (1.0..last as f64, bottom..high + 0.08 * spread)
    }
}

impl Figure for Curves {
    fn size(&self) -> (u32, u32) {
        (800, 500)
    }

    fn draw<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
    ) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
        let (epochs, values) = self.ranges();
        let decimals = decimals_for(values.end - values.start);
        let mut chart = ChartBuilder::on(root)
            .caption(self.title, (FONT, 28))
            .margin(18)
            .x_label_area_size(50)
            .y_label_area_size(80)
            .build_cartesian_2d(epochs, values)?;
        chart
            .configure_mesh()
            .x_desc("epoch")
            .y_desc(self.y_label)
            .x_label_formatter(&|epoch| whole_epoch(*epoch))
            .y_label_formatter(&|value| format!("{value:.decimals$}"))
            .label_style((FONT, 15))
            .axis_desc_style((FONT, 18))
            .light_line_style(RGBColor(240, 240, 240))
            .bold_line_style(RGBColor(215, 215, 215))
            .draw()?;
        for (name, colour, points) in self.series.iter().filter(|(_, _, points)| !points.is_empty()) {
            let points: Vec<(f64, f64)> = points.iter().map(|&(epoch, value)| (epoch as f64, value)).collect();
            let line = colour.stroke_width(2);
            chart
                .draw_series(LineSeries::new(points.iter().copied(), line))?
                .label(*name)
                .legend(move |(x, y)| PathElement::new([(x, y), (x + 24, y)], line));
            if points.len() <= 60 {
                chart.draw_series(points.iter().map(|&point| Circle::new(point, 3, colour.filled())))?;
            }
        }
        if self.series.len() == 1 {
            return Ok(()); // the title names the one line
        }
        chart
            .configure_series_labels()
            .position(self.legend_at.clone())
            .label_font((FONT, 16))
            .background_style(WHITE.mix(0.9))
            .border_style(RGBColor(190, 190, 190))
            .draw()
    }
}

/// Decimals enough to tell apart the labels of an axis spanning `span`: 2 for a loss from 0 to
/// 0.8, 4 for a learning rate from 0 to 0.001.
fn decimals_for(span: f64) -> usize {
    (1 - span.log10().floor() as i32).clamp(0, 12) as usize
}

/// An epoch axis label: whole epochs only.
fn whole_epoch(epoch: f64) -> String {
    if (epoch - epoch.round()).abs() < 1e-6 {
        format!("{}", epoch.round())
    } else {
        String::new()
    }
}
