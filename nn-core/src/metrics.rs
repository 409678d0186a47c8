//! Measures of a trained network: for classifiers a confusion matrix (accuracy, per-class
//! precision, recall and F1, an aligned table) and top-k accuracy; for regression the mean
//! squared and mean absolute errors.

use crate::losses::Loss;
use crate::network::argmax;
use std::fmt;

/// Counts of (actual class, predicted class) pairs.
///
/// ```
/// use nn::metrics::ConfusionMatrix;
///
/// let outputs = [[0.9, 0.1], [0.2, 0.8], [0.6, 0.4], [0.3, 0.7]];
/// let matrix = ConfusionMatrix::of(&outputs, &[0, 1, 1, 1]);
/// assert_eq!(matrix.count(1, 0), 1); // one 1 taken for a 0
/// assert_eq!(matrix.accuracy(), 0.75);
/// assert_eq!((matrix.precision(0), matrix.recall(1)), (0.5, 2.0 / 3.0));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfusionMatrix {
    classes: usize,
    /// `counts[actual * classes + predicted]`.
    counts: Vec<u64>,
}

impl ConfusionMatrix {
    /// An empty matrix of `classes` classes.
    ///
    /// ```
    /// let matrix = nn::metrics::ConfusionMatrix::new(10);
    /// assert_eq!(matrix.total(), 0);
    /// ```
    pub fn new(classes: usize) -> Self {
        Self { classes, counts: vec![0; classes * classes] }
    }

    /// The matrix of networks' `outputs` (the predicted class is the largest output) against the
    /// `labels`, one each.
    ///
    /// # Panics
    /// If the counts differ or a label is not a class.
    ///
    /// ```
    /// let matrix = nn::metrics::ConfusionMatrix::of(&[[0.2, 0.5, 0.3]], &[1]);
    /// assert_eq!(matrix.accuracy(), 1.0);
    /// ```
    pub fn of<const N: usize>(outputs: &[[f32; N]], labels: &[usize]) -> Self {
        assert_eq!(outputs.len(), labels.len(), "one label per output");
        let mut matrix = Self::new(N);
        for (output, &label) in outputs.iter().zip(labels) {
            matrix.add(label, argmax(output));
        }
        matrix
    }

    /// The number of classes.
    ///
    /// ```
    /// assert_eq!(nn::metrics::ConfusionMatrix::new(10).classes(), 10);
    /// ```
    pub fn classes(&self) -> usize {
        self.classes
    }

    /// Counts one sample of class `actual` predicted as `predicted`.
    ///
    /// # Panics
    /// If either is not a class.
    ///
    /// ```
    /// let mut matrix = nn::metrics::ConfusionMatrix::new(3);
    /// matrix.add(2, 0);
    /// assert_eq!(matrix.count(2, 0), 1);
    /// ```
    pub fn add(&mut self, actual: usize, predicted: usize) {
        assert!(actual < self.classes && predicted < self.classes, "classes are 0..{}", self.classes);
        self.counts[actual * self.classes + predicted] += 1;
    }

    /// Samples of class `actual` predicted as `predicted`.
    ///
    /// ```
    /// assert_eq!(nn::metrics::ConfusionMatrix::new(2).count(0, 1), 0);
    /// ```
    pub fn count(&self, actual: usize, predicted: usize) -> u64 {
        self.counts[actual * self.classes + predicted]
    }

    /// All samples counted.
    ///
    /// ```
    /// assert_eq!(nn::metrics::ConfusionMatrix::of(&[[1.0, 0.0]; 3], &[0, 1, 1]).total(), 3);
    /// ```
    pub fn total(&self) -> u64 {
        self.counts.iter().sum()
    }

    /// The fraction predicted right (0 for none).
    ///
    /// ```
    /// assert_eq!(nn::metrics::ConfusionMatrix::of(&[[1.0, 0.0]; 4], &[0, 1, 0, 0]).accuracy(), 0.75);
    /// ```
    pub fn accuracy(&self) -> f32 {
        let right: u64 = (0..self.classes).map(|class| self.count(class, class)).sum();
        ratio(right, self.total())
    }

    /// Of the samples predicted as `class`, the fraction that are (0 when none is).
    ///
    /// ```
    /// assert_eq!(nn::metrics::ConfusionMatrix::of(&[[1.0, 0.0]; 4], &[0, 1, 0, 0]).precision(0), 0.75);
    /// ```
    pub fn precision(&self, class: usize) -> f32 {
        let predicted: u64 = (0..self.classes).map(|actual| self.count(actual, class)).sum();
        ratio(self.count(class, class), predicted)
    }

    /// Of the samples of `class`, the fraction predicted as it (0 when there are none).
    ///
    /// ```
    /// assert_eq!(nn::metrics::ConfusionMatrix::of(&[[1.0, 0.0]; 4], &[0, 1, 0, 0]).recall(1), 0.0);
    /// ```
    pub fn recall(&self, class: usize) -> f32 {
        let actual: u64 = (0..self.classes).map(|predicted| self.count(class, predicted)).sum();
        ratio(self.count(class, class), actual)
    }

    /// The harmonic mean of `class`'s precision and recall (0 when both are).
    ///
    /// ```
    /// let matrix = nn::metrics::ConfusionMatrix::of(&[[1.0, 0.0]; 4], &[0, 1, 0, 0]);
    /// assert!((matrix.f1(0) - 2.0 * 0.75 / 1.75).abs() < 1e-6);
    /// ```
    pub fn f1(&self, class: usize) -> f32 {
        let (precision, recall) = (self.precision(class), self.recall(class));
        if precision + recall == 0.0 {
            0.0
        } else {
            2.0 * precision * recall / (precision + recall)
        }
    }
}

/// `part / whole`, 0 for an empty whole.
fn ratio(part: u64, whole: u64) -> f32 {
    if whole == 0 {
        0.0
    } else {
        (part as f64 / whole as f64) as f32
    }
}

/// The matrix as an aligned table, actual classes in rows and predicted ones in columns, with
/// each class's precision, recall and F1, and the accuracy.
///
/// ```
/// let table = nn::metrics::ConfusionMatrix::of(&[[0.9, 0.1], [0.4, 0.6]], &[0, 0]).to_string();
/// assert!(table.lines().next().unwrap().contains("predicted"));
/// assert!(table.contains("accuracy 0.5000"));
/// ```
impl fmt::Display for ConfusionMatrix {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        let width = self
            .counts
            .iter()
            .max()
            .map_or(1, |largest| largest.to_string().len())
            .max(self.classes.to_string().len())
            .max(2);
        writeln!(formatter, "actual \\ predicted")?;
        write!(formatter, "{:>6}", "")?;
        for class in 0..self.classes {
            write!(formatter, " {class:>width$}")?;
        }
        writeln!(formatter, "   precision  recall      f1")?;
        for actual in 0..self.classes {
            write!(formatter, "{actual:>6}")?;
            for predicted in 0..self.classes {
                write!(formatter, " {:>width$}", self.count(actual, predicted))?;
            }
            let (precision, recall, f1) = (self.precision(actual), self.recall(actual), self.f1(actual));
            writeln!(formatter, "   {precision:>9.4} {recall:>7.4} {f1:>7.4}")?;
        }
        write!(formatter, "accuracy {:.4} over {} samples", self.accuracy(), self.total())
    }
}

/// The fraction of samples whose label is among the `k` largest outputs (ties broken towards
/// the lower class, as by [`argmax`]).
///
/// # Panics
/// If the counts differ.
///
/// ```
/// let outputs = [[0.5, 0.3, 0.2], [0.1, 0.3, 0.6]];
/// assert_eq!(nn::metrics::top_k_accuracy(&outputs, &[1, 1], 1), 0.0);
/// assert_eq!(nn::metrics::top_k_accuracy(&outputs, &[1, 1], 2), 1.0);
/// ```
pub fn top_k_accuracy<const N: usize>(outputs: &[[f32; N]], labels: &[usize], k: usize) -> f32 {
    assert_eq!(outputs.len(), labels.len(), "one label per output");
    let hits = outputs
        .iter()
        .zip(labels)
        .filter(|(output, &label)| {
            // The label's rank: the outputs above it, and those equal to it at a lower class.
            let above = output
                .iter()
                .enumerate()
                .filter(|&(class, value)| *value > output[label] || (*value == output[label] && class < label));
            above.count() < k
        })
        .count();
    ratio(hits as u64, outputs.len() as u64)
}

/// The mean over samples and values of `(output - target)²`.
///
/// # Panics
/// If the counts differ.
///
/// ```
/// assert_eq!(nn::metrics::mean_squared_error(&[[1.0, 3.0]], &[[0.0, 1.0]]), 2.5);
/// ```
pub fn mean_squared_error<const N: usize>(outputs: &[[f32; N]], targets: &[[f32; N]]) -> f32 {
    mean_over(outputs, targets, |difference| difference * difference)
}

/// The mean over samples and values of `|output - target|`.
///
/// # Panics
/// If the counts differ.
///
/// ```
/// assert_eq!(nn::metrics::mean_absolute_error(&[[1.0, 3.0]], &[[0.0, 1.0]]), 1.5);
/// ```
pub fn mean_absolute_error<const N: usize>(outputs: &[[f32; N]], targets: &[[f32; N]]) -> f32 {
    mean_over(outputs, targets, f64::abs)
}

/// The mean of `loss` over samples.
///
/// # Panics
/// If the counts differ.
///
/// ```
/// use nn::losses::Mse;
///
/// assert_eq!(nn::metrics::mean_loss(&[[1.0, 3.0], [0.0, 0.0]], &[[0.0, 1.0], [0.0, 0.0]], &Mse), 1.25);
/// ```
pub fn mean_loss<const N: usize>(outputs: &[[f32; N]], targets: &[[f32; N]], loss: &impl Loss) -> f32 {
    assert_eq!(outputs.len(), targets.len(), "one target per output");
    let total: f64 = outputs.iter().zip(targets).map(|(output, target)| f64::from(loss.loss(output, target))).sum();
    (total / outputs.len().max(1) as f64) as f32
}

/// A measure of outputs against targets that a [`Trainer`](crate::fit::Trainer) reports on the
/// validation data after each epoch, beside the loss and the accuracy (Keras's `metrics=`).
///
/// ```
/// use nn::metrics::Metric;
///
/// let (outputs, targets) = ([[0.5, 0.3, 0.2]], [[0.0, 1.0, 0.0]]);
/// assert_eq!(Metric::TopK(2).name(), "top2");
/// assert_eq!(Metric::TopK(2).measure(&outputs, &targets), 1.0);
/// assert_eq!(Metric::TopK(1).measure(&outputs, &targets), 0.0);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Metric {
    /// [`top_k_accuracy`] with the target's largest value as the label.
    TopK(usize),
    /// [`mean_squared_error`].
    MeanSquaredError,
    /// [`mean_absolute_error`].
    MeanAbsoluteError,
}

impl Metric {
    /// The short name that progress lines show after `val_`: `top3`, `mse`, `mae`.
    ///
    /// ```
    /// assert_eq!(nn::metrics::Metric::MeanAbsoluteError.name(), "mae");
    /// ```
    pub fn name(&self) -> String {
        match self {
            Metric::TopK(k) => format!("top{k}"),
            Metric::MeanSquaredError => "mse".to_owned(),
            Metric::MeanAbsoluteError => "mae".to_owned(),
        }
    }

    /// The measure of `outputs` against `targets`, one each.
    ///
    /// # Panics
    /// If the counts differ.
    ///
    /// ```
    /// assert_eq!(nn::metrics::Metric::MeanSquaredError.measure(&[[1.0, 3.0]], &[[0.0, 1.0]]), 2.5);
    /// ```
    pub fn measure<const N: usize>(&self, outputs: &[[f32; N]], targets: &[[f32; N]]) -> f32 {
        match *self {
            Metric::TopK(k) => {
                let labels: Vec<usize> = targets.iter().map(|target| argmax(target)).collect();
                top_k_accuracy(outputs, &labels, k)
            }
            Metric::MeanSquaredError => mean_squared_error(outputs, targets),
            Metric::MeanAbsoluteError => mean_absolute_error(outputs, targets),
        }
    }
}

/// The mean of `error(output - target)` over every value, summed in f64.
fn mean_over<const N: usize>(outputs: &[[f32; N]], targets: &[[f32; N]], error: impl Fn(f64) -> f64) -> f32 {
    assert_eq!(outputs.len(), targets.len(), "one target per output");
    let values = outputs.iter().flatten().zip(targets.iter().flatten());
    let total: f64 = values.map(|(output, target)| error(f64::from(*output) - f64::from(*target))).sum();
    let count = (outputs.len() * N).max(1);
    (total / count as f64) as f32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_aligns_its_columns_whatever_the_counts() {
        let mut matrix = ConfusionMatrix::new(3);
        for _ in 0..1234 {
            matrix.add(0, 0);
        }
        matrix.add(2, 1);
        let table = matrix.to_string();
        let rows: Vec<&str> = table.lines().skip(1).take(4).collect();
        assert!(rows.windows(2).all(|pair| pair[0].len() == pair[1].len()), "{table}");
        assert!(rows[1].contains("1234") && rows[3].trim_start().starts_with('2'), "{table}");
        assert!(table.ends_with("accuracy 0.9992 over 1235 samples"), "{table}");
    }

    #[test]
    fn top_k_counts_ties_towards_the_lower_class_like_argmax() {
        let outputs = [[0.5, 0.5, 0.0]];
        assert_eq!(top_k_accuracy(&outputs, &[0], 1), 1.0);
        assert_eq!(top_k_accuracy(&outputs, &[1], 1), 0.0);
        assert_eq!(top_k_accuracy(&outputs, &[1], 2), 1.0);
        assert_eq!(top_k_accuracy(&[[0.0f32; 3]; 0], &[], 1), 0.0);
    }
}
