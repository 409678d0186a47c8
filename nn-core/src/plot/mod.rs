//! Plots of a training run and of a trained classifier, written as PNG or SVG (chosen by the
//! file's extension) with [plotters](https://docs.rs/plotters): loss, accuracy and learning rate
//! per epoch from a [`History`](crate::fit::History), a confusion matrix as a heat map, and a
//! grid of misclassified images with their true and predicted labels.
//!
//! Enabled by the `plot` feature (`static-nn = { version = "0.1", features = ["plot"] }`). Text
//! is drawn with a font compiled into the crate, so plotting needs no system library.
//!
//! ```
//! use nn::fit::{Progress, Trainer};
//! use nn::prelude::*;
//!
//! network! { struct Net { Linear(2, 8) -> Tanh -> Linear(8, 2) } }
//!
//! let inputs = [[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]];
//! let targets = [one_hot(0), one_hot(1), one_hot(1), one_hot(0)];
//! let mut net = Net::new(&mut nn::Pcg64Mcg::seed_from_u64(1));
//! let history = Trainer::new(Adam::new(0.05), CrossEntropy)
//!     .epochs(20)
//!     .batch_size(4)
//!     .progress(Progress::Silent)
//!     .fit(&mut net, &inputs, &targets, Some((&inputs, &targets)))?;
//!
//! let directory = std::env::temp_dir();
//! nn::plot::loss(&history, directory.join("loss.svg"))?;
//! nn::plot::accuracy(&history, directory.join("accuracy.png"))?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod curves;
mod digits;
mod heat_map;

pub use curves::{accuracy, learning_rate, loss};
pub use digits::misclassified;
pub use heat_map::confusion_matrix;

use plotters::coord::Shift;
use plotters::prelude::*;
use std::path::{Path, PathBuf};

/// Why a plot was not written.
///
/// ```
/// let matrix = nn::metrics::ConfusionMatrix::new(10);
/// let error = nn::plot::confusion_matrix(&matrix, "confusion.pdf").unwrap_err();
/// assert_eq!(error.to_string(), "cannot plot to confusion.pdf: the file name must end in .png or .svg");
/// ```
#[derive(Debug, thiserror::Error)]
pub enum PlotError {
    /// The file's extension is neither `.png` nor `.svg`.
    #[error("cannot plot to {}: the file name must end in .png or .svg", path.display())]
    UnknownFormat {
        /// The file.
        path: PathBuf,
    },
    /// There is nothing to draw: a history without epochs, or without the figure asked for.
    #[error("nothing to plot in {}: {what}", path.display())]
    Empty {
        /// The file.
        path: PathBuf,
        /// What is missing.
        what: &'static str,
    },
    /// The images and their labels do not fit together.
    #[error("cannot plot {}: {reason}", path.display())]
    Mismatch {
        /// The file.
        path: PathBuf,
        /// What does not fit.
        reason: String,
    },
    /// Drawing or writing the file failed.
    #[error("could not draw {}: {reason}", path.display())]
    Drawing {
        /// The file.
        path: PathBuf,
        /// Why, as plotters says.
        reason: String,
    },
}

/// The font family of every text; registered once with plotters.
const FONT: &str = "sans-serif";

/// The colour of training figures (matplotlib's first colour).
const TRAIN: RGBColor = RGBColor(31, 119, 180);
/// The colour of validation figures (matplotlib's second).
const VALIDATION: RGBColor = RGBColor(255, 127, 14);

/// A figure drawn the same way on any plotters backend.
trait Figure {
    /// Width and height in pixels.
    fn size(&self) -> (u32, u32);

    /// Draws onto `root`, already filled white.
    fn draw<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
    ) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>>;
}

/// Draws `figure` into `path`, as PNG or SVG by its extension.
fn render(figure: &impl Figure, path: &Path) -> Result<(), PlotError> {
    register_font();
    let drawing = |reason: String| PlotError::Drawing { path: path.to_owned(), reason };
    let extension = path.extension().and_then(|extension| extension.to_str()).map(str::to_ascii_lowercase);
    match extension.as_deref() {
        Some("png") => {
            let root = BitMapBackend::new(path, figure.size()).into_drawing_area();
            draw_on(figure, &root).map_err(drawing)
        }
        Some("svg") => {
            let root = SVGBackend::new(path, figure.size()).into_drawing_area();
            draw_on(figure, &root).map_err(drawing)
        }
        _ => Err(PlotError::UnknownFormat { path: path.to_owned() }),
    }
}

/// Fills `root` white, draws `figure` and writes the file.
fn draw_on<DB: DrawingBackend>(figure: &impl Figure, root: &DrawingArea<DB, Shift>) -> Result<(), String> {
    root.fill(&WHITE).map_err(|error| error.to_string())?;
    figure.draw(root).map_err(|error| error.to_string())?;
    root.present().map_err(|error| error.to_string())
}

/// Registers the compiled-in font as [`FONT`], once per process.
fn register_font() {
    static REGISTERED: std::sync::Once = std::sync::Once::new();
    REGISTERED.call_once(|| {
        // A font compiled into the crate parses; if it ever did not, text would be missing
        // from the plots, and plotters would say so when drawing it.
        let _ = plotters::style::register_font(FONT, FontStyle::Normal, epaint_default_fonts::UBUNTU_LIGHT);
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fit::{EpochRecord, History};

    pub(super) fn history(epochs: usize) -> History {
        let epochs = (1..=epochs)
            .map(|epoch| EpochRecord {
                epoch,
                train_loss: 1.0 / epoch as f32,
                train_accuracy: 1.0 - 0.5 / epoch as f32,
                validation_loss: Some(1.2 / epoch as f32),
                validation_accuracy: Some(1.0 - 0.6 / epoch as f32),
                learning_rate: 0.1 * 0.5f64.powi(epoch as i32 / 3),
                ..Default::default()
            })
            .collect();
        History { epochs, best_epoch: None, stopped_early: false }
    }

    #[test]
    fn png_and_svg_files_are_written_by_extension_and_other_extensions_refused() {
        let directory = tempfile::tempdir().unwrap();
        let history = history(5);
        for name in ["loss.png", "loss.SVG"] {
            let path = directory.path().join(name);
            loss(&history, &path).unwrap();
            let bytes = std::fs::read(&path).unwrap();
            let png = bytes.starts_with(b"\x89PNG");
            let svg = String::from_utf8_lossy(&bytes).contains("<svg");
            assert!(png != svg && png == name.ends_with("png"), "{name}");
        }
        let error = loss(&history, directory.path().join("loss")).unwrap_err();
        assert!(matches!(error, PlotError::UnknownFormat { .. }), "{error}");
    }

    #[test]
    fn the_svg_carries_the_labels() {
        let directory = tempfile::tempdir().unwrap();
        let path = directory.path().join("accuracy.svg");
        accuracy(&history(4), &path).unwrap();
        let svg = std::fs::read_to_string(&path).unwrap();
        for text in ["Accuracy", "epoch", "training", "validation"] {
            assert!(svg.contains(text), "{text} missing");
        }
    }

    #[test]
    fn an_empty_history_or_matrix_is_an_error_not_an_empty_figure() {
        let directory = tempfile::tempdir().unwrap();
        let path = directory.path().join("empty.png");
        for result in [
            loss(&History::default(), &path),
            accuracy(&History::default(), &path),
            learning_rate(&History::default(), &path),
            confusion_matrix(&crate::metrics::ConfusionMatrix::new(0), &path),
        ] {
            assert!(matches!(result, Err(PlotError::Empty { .. })), "{result:?}");
        }
        assert!(!path.exists());
    }

    #[test]
    fn a_confusion_matrix_is_drawn_with_its_counts() {
        let directory = tempfile::tempdir().unwrap();
        let path = directory.path().join("confusion.svg");
        let outputs = [[0.9, 0.1, 0.0], [0.2, 0.8, 0.0], [0.6, 0.4, 0.0], [0.0, 0.0, 1.0]];
        confusion_matrix(&crate::metrics::ConfusionMatrix::of(&outputs, &[0, 1, 1, 2]), &path).unwrap();
        let svg = std::fs::read_to_string(&path).unwrap();
        assert!(svg.contains("accuracy 75.00%") && svg.contains("predicted class"), "{svg}");
    }

    #[test]
    fn misclassified_draws_the_wrong_ones_up_to_forty_and_checks_its_arguments() {
        let directory = tempfile::tempdir().unwrap();
        let path = directory.path().join("wrong.png");
        let images: Vec<[f32; 12]> = (0..50).map(|i| std::array::from_fn(|j| ((i + j) % 5) as f32)).collect();
        let labels: Vec<usize> = (0..50).map(|i| i % 3).collect();
        let mut predictions = labels.clone();
        predictions[7] = 0;
        assert_eq!(misclassified(&images, &labels, &predictions, 4, &path).unwrap(), 1);
        let all_wrong: Vec<usize> = labels.iter().map(|label| label + 1).collect();
        assert_eq!(misclassified(&images, &labels, &all_wrong, 3, &path).unwrap(), 40);
        assert_eq!(misclassified(&images, &labels, &labels, 3, &path).unwrap(), 0);
        let short = misclassified(&images, &labels[1..], &predictions, 4, &path).unwrap_err();
        assert!(short.to_string().contains("50 images, 49 labels and 50 predictions"), "{short}");
        let width = misclassified(&images, &labels, &predictions, 5, &path).unwrap_err();
        assert!(width.to_string().contains("an image of 12 pixels cannot be 5 pixels wide"), "{width}");
    }

    #[test]
    fn an_unwritable_file_is_an_error_naming_it() {
        let error = loss(&history(2), "/nonexistent-directory/loss.png").unwrap_err();
        assert!(matches!(error, PlotError::Drawing { .. }), "{error}");
        assert!(error.to_string().contains("/nonexistent-directory/loss.png"), "{error}");
    }
}
