//! Where and how a fit reports its progress: a live bar on a terminal, lines elsewhere.

use super::EpochRecord;
#[cfg(not(target_arch = "wasm32"))]
use std::io::IsTerminal;
use std::io::Write;

/// Where a [`Trainer`](super::Trainer) reports its progress.
///
/// ```
/// use nn::fit::{Progress, Trainer};
/// use nn::prelude::*;
///
/// // One line per epoch into a log file, whatever standard output is.
/// let log = std::fs::File::create(std::env::temp_dir().join("fit.log"))?;
/// let trainer = Trainer::new(Sgd::new(0.1), Mse).progress(Progress::To(Box::new(log)));
/// # Ok::<(), std::io::Error>(())
/// ```
pub enum Progress {
    /// A live bar (samples done, samples per second, time left, running loss and accuracy)
    /// when standard output is a terminal, one line per epoch otherwise (a log file, a pipe, CI).
    Auto,
    /// One line per epoch on standard output.
    Lines,
    /// One line per epoch into a writer.
    To(Box<dyn Write + Send>),
    /// Nothing.
    Silent,
}

impl std::fmt::Debug for Progress {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str(match self {
            Progress::Auto => "Auto",
            Progress::Lines => "Lines",
            Progress::To(_) => "To(..)",
            Progress::Silent => "Silent",
        })
    }
}

/// Reports progress the way [`Progress`] says. (A WebAssembly module has no terminal, and
/// indicatif would pull in JavaScript bindings there: no bar on `wasm32`.)
pub(super) enum Reporter<'p> {
    #[cfg(not(target_arch = "wasm32"))]
    Bar {
        bar: indicatif::ProgressBar,
        epochs: usize,
    },
    /// Lines into a writer, or on standard output without one.
    Lines {
        out: Option<&'p mut (dyn Write + Send)>,
        epochs: usize,
    },
    Silent,
}

impl<'p> Reporter<'p> {
    pub(super) fn new(progress: &'p mut Progress, epochs: usize, samples: usize) -> Self {
        #[cfg(target_arch = "wasm32")]
        let _ = samples;
        match progress {
            #[cfg(not(target_arch = "wasm32"))]
            Progress::Auto if std::io::stdout().is_terminal() => {
                let style = indicatif::ProgressStyle::with_template(
                    "{prefix} [{bar:25}] {human_pos}/{human_len} {rate}, {eta} left, {msg}",
                )
                .expect("a valid template")
                .with_key("rate", |state: &indicatif::ProgressState, out: &mut dyn std::fmt::Write| {
                    let _ = write!(out, "{:.0} samples/s", state.per_sec());
                })
                .progress_chars("=> ");
                let bar = indicatif::ProgressBar::new(samples as u64).with_style(style);
                Reporter::Bar { bar, epochs }
            }
            Progress::Auto | Progress::Lines => Reporter::Lines { out: None, epochs },
            Progress::To(writer) => Reporter::Lines { out: Some(writer.as_mut()), epochs },
            Progress::Silent => Reporter::Silent,
        }
    }

    /// Whether [`Reporter::step`] shows anything: the loop skips the running figures if not.
    pub(super) fn is_live(&self) -> bool {
        match self {
            #[cfg(not(target_arch = "wasm32"))]
            Reporter::Bar { .. } => true,
            _ => false,
        }
    }

    pub(super) fn begin_epoch(&mut self, epoch: usize) {
        #[cfg(not(target_arch = "wasm32"))]
        if let Reporter::Bar { bar, epochs } = self {
            bar.reset();
            bar.set_prefix(format!("epoch {epoch}/{epochs}"));
        }
        let _ = epoch;
    }

    /// `samples` of the epoch done, with the running mean loss and accuracy over them.
    pub(super) fn step(&mut self, samples: usize, running_loss: f32, running_accuracy: f32) {
        #[cfg(not(target_arch = "wasm32"))]
        if let Reporter::Bar { bar, .. } = self {
            bar.set_position(samples as u64);
            bar.set_message(format!("loss={running_loss:.4} acc={running_accuracy:.4}"));
        }
        let _ = (samples, running_loss, running_accuracy);
    }

    pub(super) fn end_epoch(&mut self, record: &EpochRecord) {
        match self {
            #[cfg(not(target_arch = "wasm32"))]
            Reporter::Bar { bar, epochs } => bar.println(format!("epoch {}/{epochs} {record}", record.epoch)),
            Reporter::Lines { out, epochs } => {
                let line = format!("epoch {}/{epochs} {record}", record.epoch);
                // Progress is best effort: a closed pipe must not stop training.
                let _ = match out {
                    Some(out) => writeln!(out, "{line}"),
                    None => writeln!(std::io::stdout(), "{line}"),
                };
            }
            Reporter::Silent => {}
        }
    }

    pub(super) fn finish(&mut self) {
        #[cfg(not(target_arch = "wasm32"))]
        if let Reporter::Bar { bar, .. } = self {
            bar.finish_and_clear();
        }
    }
}
