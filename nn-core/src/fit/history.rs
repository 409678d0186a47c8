//! What a fit did: one record per epoch.

/// One epoch's figures.
///
/// ```
/// let record = nn::fit::EpochRecord {
///     epoch: 3,
///     train_loss: 0.25,
///     train_accuracy: 0.9,
///     validation_loss: Some(0.3),
///     validation_accuracy: Some(0.875),
///     validation_metrics: vec![("top3".to_owned(), 0.99)],
///     learning_rate: 0.01,
///     seconds: 1.5,
/// };
/// assert_eq!(
///     record.to_string(),
///     "loss=0.2500 acc=0.9000 val_loss=0.3000 val_acc=0.8750 val_top3=0.9900 lr=0.01 time=1.50s"
/// );
/// ```
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct EpochRecord {
    /// The epoch, from 1.
    pub epoch: usize,
    /// The mean loss of the epoch's steps, over its samples.
    pub train_loss: f32,
    /// The fraction of the epoch's samples whose largest output was their target's largest, as
    /// the network was when it trained on them (a running accuracy, as Keras reports).
    pub train_accuracy: f32,
    /// The mean loss on the validation data after the epoch.
    pub validation_loss: Option<f32>,
    /// The fraction of validation samples whose largest output is their target's largest.
    pub validation_accuracy: Option<f32>,
    /// The [metrics](crate::metrics::Metric) asked for, on the validation data, by name.
    pub validation_metrics: Vec<(String, f32)>,
    /// The optimizer's learning rate at the epoch's first step.
    pub learning_rate: f64,
    /// Seconds spent training the epoch (validation excluded).
    pub seconds: f64,
}

impl std::fmt::Display for EpochRecord {
    /// `loss=0.1234 acc=0.9500 val_loss=0.2345 val_acc=0.9123 lr=0.001 time=0.52s`
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(formatter, "loss={:.4} acc={:.4}", self.train_loss, self.train_accuracy)?;
        if let Some(loss) = self.validation_loss {
            write!(formatter, " val_loss={loss:.4}")?;
        }
        if let Some(accuracy) = self.validation_accuracy {
            write!(formatter, " val_acc={accuracy:.4}")?;
        }
        for (name, value) in &self.validation_metrics {
            write!(formatter, " val_{name}={value:.4}")?;
        }
        // Four significant digits: a scheduled rate such as 0.000316227766 reads as 0.0003162.
        write!(formatter, " lr={} time={:.2}s", round_rate(self.learning_rate), self.seconds)
    }
}

/// `rate` to 4 significant digits: what a log line needs of a scheduled rate.
fn round_rate(rate: f64) -> f64 {
    if rate == 0.0 || !rate.is_finite() {
        return rate;
    }
    let scale = 10f64.powi(3 - rate.abs().log10().floor() as i32);
    (rate * scale).round() / scale
}

/// What a fit did, epoch by epoch.
///
/// ```
/// use nn::fit::{EpochRecord, History};
///
/// let record = |epoch, validation_loss| EpochRecord { epoch, validation_loss: Some(validation_loss), ..Default::default() };
/// let history = History { epochs: vec![record(1, 0.5), record(2, 0.4)], best_epoch: Some(2), stopped_early: false };
/// assert_eq!(history.validation_losses(), [0.5, 0.4]);
/// ```
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct History {
    /// Every epoch trained, in order.
    pub epochs: Vec<EpochRecord>,
    /// The epoch with the lowest monitored loss.
    pub best_epoch: Option<usize>,
    /// Whether early stopping (or a callback) ended the fit before its last epoch.
    pub stopped_early: bool,
}

impl History {
    /// The training loss of each epoch.
    ///
    /// ```
    /// assert!(nn::fit::History::default().train_losses().is_empty());
    /// ```
    pub fn train_losses(&self) -> Vec<f32> {
        self.epochs.iter().map(|record| record.train_loss).collect()
    }

    /// The validation loss of each epoch that had validation data.
    ///
    /// ```
    /// assert!(nn::fit::History::default().validation_losses().is_empty());
    /// ```
    pub fn validation_losses(&self) -> Vec<f32> {
        self.epochs.iter().filter_map(|record| record.validation_loss).collect()
    }

    /// The best (lowest) validation loss, or training loss without validation data.
    ///
    /// ```
    /// assert_eq!(nn::fit::History::default().best_loss(), None);
    /// ```
    pub fn best_loss(&self) -> Option<f32> {
        let best = self.best_epoch?;
        let record = self.epochs.iter().find(|record| record.epoch == best)?;
        Some(record.validation_loss.unwrap_or(record.train_loss))
    }
}
