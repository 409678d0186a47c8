//! Data sets: MNIST from the IDX files or the Kaggle CSV, and an embedded sample.

mod augment;
mod dataset;
mod error;
mod idx;
mod kaggle;
mod limits;
mod loader;
pub mod mnist;
mod source;
mod table;
mod values;

pub use augment::{Augment, Jitter};
pub use dataset::Dataset;
pub use error::DataError;
pub use idx::{read_idx_images, read_idx_labels, IdxImages};
pub use kaggle::{read_kaggle_test, read_kaggle_train, write_kaggle_submission};
pub use limits::{limits, set_limits, Limits};
pub use loader::{Batch, Loader};
pub use table::{k_fold, read_csv_classes, split_indices, Column, CsvOptions, Table};
pub use values::{read_csv_values, Values};
