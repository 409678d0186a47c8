//! MNIST: 28x28 grey-scale handwritten digits in ten classes.
//!
//! Read the four standard IDX files with [`Mnist::load`], or use [`Mnist::embedded`]: a real
//! sample of 5,000 training and 1,000 test digits compiled into the crate, so examples and tests
//! run with no files at all. The Kaggle CSV layout is read by
//! [`read_kaggle_train`](super::read_kaggle_train).

use super::idx::{parse_images_checked, parse_labels};
use super::source::open;
use super::{DataError, Dataset};
use std::io::Read;
use std::path::{Path, PathBuf};

/// MNIST's digits: 784 pixels in `[0, 1]` (row-major 28 x 28) and a class, `0..=9`, each.
pub type Digits = Dataset<PIXELS, u8>;

/// Pixels per image (28 x 28).
///
/// ```
/// assert_eq!(nn::data::mnist::PIXELS, 784);
/// ```
pub const PIXELS: usize = 28 * 28;
/// The number of classes (the digits 0-9).
///
/// ```
/// assert_eq!(nn::one_hot::<{ nn::data::mnist::CLASSES }>(3)[3], 1.0);
/// ```
pub const CLASSES: usize = 10;

/// The training and test sets of MNIST.
///
/// ```
/// let mnist = nn::data::mnist::Mnist::embedded()?;
/// assert_eq!((mnist.train.len(), mnist.test.len()), (5_000, 1_000));
/// # Ok::<(), nn::data::DataError>(())
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Mnist {
    /// The training digits (60,000 in the full set).
    pub train: Digits,
    /// The test digits (10,000 in the full set).
    pub test: Digits,
}

const EMBEDDED: [(&str, &[u8]); 4] = [
    ("train-images-idx3-ubyte.gz", include_bytes!("../../data/mnist-sample/train-images-idx3-ubyte.gz")),
    ("train-labels-idx1-ubyte.gz", include_bytes!("../../data/mnist-sample/train-labels-idx1-ubyte.gz")),
    ("t10k-images-idx3-ubyte.gz", include_bytes!("../../data/mnist-sample/t10k-images-idx3-ubyte.gz")),
    ("t10k-labels-idx1-ubyte.gz", include_bytes!("../../data/mnist-sample/t10k-labels-idx1-ubyte.gz")),
];

impl Mnist {
    /// Reads the four standard files from `directory`: `train-images-idx3-ubyte`,
    /// `train-labels-idx1-ubyte`, `t10k-images-idx3-ubyte`, `t10k-labels-idx1-ubyte`, each raw
    /// or with a `.gz` suffix (the `name.idx3-ubyte` spelling is accepted too).
    ///
    /// ```no_run
    /// let mnist = nn::data::mnist::Mnist::load("data/mnist")?;
    /// assert_eq!((mnist.train.len(), mnist.test.len()), (60_000, 10_000));
    /// # Ok::<(), nn::data::DataError>(())
    /// ```
    pub fn load(directory: impl AsRef<Path>) -> Result<Mnist, DataError> {
        let directory = directory.as_ref();
        let file = |stem, kind| find_file(directory, stem, kind);
        Ok(Mnist {
            train: read_idx_pair(&file("train-images", "idx3-ubyte")?, &file("train-labels", "idx1-ubyte")?)?,
            test: read_idx_pair(&file("t10k-images", "idx3-ubyte")?, &file("t10k-labels", "idx1-ubyte")?)?,
        })
    }

    /// The sample compiled into the crate: the first 5,000 training and first 1,000 test digits
    /// of MNIST (extracted by `scripts/extract-mnist-sample.py`).
    ///
    /// ```
    /// let mnist = nn::data::mnist::Mnist::embedded()?;
    /// assert_eq!((mnist.train.len(), mnist.test.len()), (5_000, 1_000));
    /// # Ok::<(), nn::data::DataError>(())
    /// ```
    pub fn embedded() -> Result<Mnist, DataError> {
        let part = |index: usize| {
            let (name, bytes) = EMBEDDED[index];
            (PathBuf::from(format!("(embedded)/{name}")), flate2::read::GzDecoder::new(bytes))
        };
        let pair = |images: usize, labels: usize| {
            let ((images_path, images), (labels_path, labels)) = (part(images), part(labels));
            dataset(images, &images_path, labels, &labels_path)
        };
        Ok(Mnist { train: pair(0, 1)?, test: pair(2, 3)? })
    }
}

/// Reads one images file and its labels file into [`Digits`], checking that the images are
/// 28x28, that the counts agree and that every label is a digit.
///
/// ```no_run
/// use std::path::Path;
/// let test = nn::data::mnist::read_idx_pair(Path::new("mnist/t10k-images-idx3-ubyte.gz"), Path::new("mnist/t10k-labels-idx1-ubyte.gz"))?;
/// assert_eq!(test.len(), 10_000);
/// # Ok::<(), nn::data::DataError>(())
/// ```
pub fn read_idx_pair(images_path: &Path, labels_path: &Path) -> Result<Digits, DataError> {
    dataset(open(images_path)?, images_path, open(labels_path)?, labels_path)
}

fn dataset(images: impl Read, images_path: &Path, labels: impl Read, labels_path: &Path) -> Result<Digits, DataError> {
    // The size and the count are checked from the header, before gigabytes of images of another
    // size, or more than the floats may take, are read.
    let images = parse_images_checked(images, images_path, |count, rows, columns| match (rows, columns) {
        (28, 28) => check_dataset_bytes(count as usize, images_path),
        _ => Err(DataError::WrongImageSize { path: images_path.to_owned(), rows, columns }),
    })?;
    if images.count == 0 {
        return Err(DataError::Empty { path: images_path.to_owned() });
    }
    let labels = parse_labels(labels, labels_path)?;
    if images.count != labels.len() {
        return Err(DataError::CountMismatch {
            images_path: images_path.to_owned(),
            images: images.count,
            labels_path: labels_path.to_owned(),
            labels: labels.len(),
        });
    }
    if let Some(index) = labels.iter().position(|&label| label as usize >= CLASSES) {
        return Err(DataError::OutOfRange {
            path: labels_path.to_owned(),
            location: format!("offset {}", 8 + index),
            what: "label",
            value: i64::from(labels[index]),
            range: "0..=9",
        });
    }
    let images =
        images.pixels.chunks_exact(PIXELS).map(|chunk| std::array::from_fn(|i| f32::from(chunk[i]) / 255.0)).collect();
    Ok(Digits { inputs: images, targets: labels, classes: Vec::new() })
}

/// Refuses `count` images whose floats would take more than [`Limits::dataset_bytes`](super::Limits).
fn check_dataset_bytes(count: usize, path: &Path) -> Result<(), DataError> {
    let (bytes, limit) = ((count as u64).saturating_mul(4 * PIXELS as u64), super::limits().dataset_bytes);
    if bytes <= limit {
        return Ok(());
    }
    let announced = format!("{count} images, {bytes} bytes as floats");
    Err(DataError::TooLarge { path: path.to_owned(), announced, limit, setting: "dataset_bytes" })
}

fn find_file(directory: &Path, stem: &str, kind: &str) -> Result<PathBuf, DataError> {
    let candidates =
        [format!("{stem}-{kind}"), format!("{stem}-{kind}.gz"), format!("{stem}.{kind}"), format!("{stem}.{kind}.gz")];
    candidates.iter().map(|name| directory.join(name)).find(|path| path.is_file()).ok_or_else(|| {
        DataError::MissingFile {
            directory: directory.to_owned(),
            wanted: if stem.ends_with("images") { "images file" } else { "labels file" },
            candidates: candidates.join(", "),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_sample_is_real_mnist() {
        let mnist = Mnist::embedded().unwrap();
        assert_eq!((mnist.train.len(), mnist.test.len()), (5_000, 1_000));
        // The first training digit of MNIST is a 5, the first test digit a 7.
        assert_eq!((mnist.train.targets[0], mnist.test.targets[0]), (5, 7));
        for class in 0..CLASSES as u8 {
            assert!(mnist.train.targets.iter().filter(|&&l| l == class).count() > 350);
        }
        let mean: f32 = mnist.train.inputs.iter().flatten().sum::<f32>() / (5_000 * PIXELS) as f32;
        assert!((0.12..0.14).contains(&mean), "mean pixel {mean}");
    }

    #[test]
    fn count_mismatch_names_both_files() {
        let images: Vec<u8> =
            [0x0803u32, 2, 28, 28].iter().flat_map(|w| w.to_be_bytes()).chain(vec![0; 2 * PIXELS]).collect();
        let labels: Vec<u8> = [0x0801u32, 3].iter().flat_map(|w| w.to_be_bytes()).chain([1, 2, 3]).collect();
        let error = dataset(&images[..], Path::new("i.idx"), &labels[..], Path::new("l.idx")).unwrap_err();
        assert_eq!(error.to_string(), "i.idx holds 2 images but l.idx holds 3 labels");
    }

    #[test]
    fn label_out_of_range_names_the_offset() {
        let images: Vec<u8> =
            [0x0803u32, 2, 28, 28].iter().flat_map(|w| w.to_be_bytes()).chain(vec![0; 2 * PIXELS]).collect();
        let labels: Vec<u8> = [0x0801u32, 2].iter().flat_map(|w| w.to_be_bytes()).chain([1, 12]).collect();
        let error = dataset(&images[..], Path::new("i.idx"), &labels[..], Path::new("l.idx")).unwrap_err();
        assert_eq!(error.to_string(), "l.idx: offset 9: label 12 is outside 0..=9");
    }

    #[test]
    fn a_set_of_no_digits_is_an_error() {
        let images: Vec<u8> = [0x0803u32, 0, 28, 28].iter().flat_map(|w| w.to_be_bytes()).collect();
        let labels: Vec<u8> = [0x0801u32, 0].iter().flat_map(|w| w.to_be_bytes()).collect();
        let error = dataset(&images[..], Path::new("i.idx"), &labels[..], Path::new("l.idx")).unwrap_err();
        assert_eq!(error.to_string(), "i.idx: the file holds no samples");
    }

    #[test]
    fn images_of_another_size_are_refused_before_their_data_is_read() {
        // 100,000 images of 64x64 announced, none present: the size is the error, not the length.
        let images: Vec<u8> = [0x0803u32, 100_000, 64, 64].iter().flat_map(|w| w.to_be_bytes()).collect();
        let labels: Vec<u8> = [0x0801u32, 0].iter().flat_map(|w| w.to_be_bytes()).collect();
        let error = dataset(&images[..], Path::new("i.idx"), &labels[..], Path::new("l.idx")).unwrap_err();
        assert_eq!(error.to_string(), "i.idx: images are 64x64, expected 28x28");
    }

    #[test]
    fn missing_directory_lists_the_names_tried() {
        let error = Mnist::load("/nonexistent").unwrap_err();
        assert!(error.to_string().contains("train-images-idx3-ubyte.gz"), "{error}");
    }
}
