use super::mnist::{CLASSES, PIXELS};
use crate::network::one_hot;
use rand::seq::SliceRandom;
use rand::SeedableRng;

/// Labelled digits: `images[i]` (784 pixels in `[0, 1]`, row-major 28x28) has class `labels[i]`.
///
/// ```
/// let mnist = nn::data::mnist::Mnist::embedded()?;
/// let (train, held_out) = mnist.train.split(0.1, 42);
/// assert_eq!(held_out.len(), mnist_len(&train) / 9);
/// # fn mnist_len(d: &nn::data::Dataset) -> usize { d.len() }
/// # Ok::<(), nn::data::DataError>(())
/// ```
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Dataset {
    /// The images, pixels scaled to `[0, 1]`.
    pub images: Vec<[f32; PIXELS]>,
    /// The class of each image, `0..=9`.
    pub labels: Vec<u8>,
}

impl Dataset {
    /// The number of samples.
    ///
    /// ```
    /// let mnist = nn::data::mnist::Mnist::embedded()?;
    /// assert_eq!(mnist.test.len(), 1_000);
    /// # Ok::<(), nn::data::DataError>(())
    /// ```
    pub fn len(&self) -> usize {
        self.images.len()
    }

    /// Whether there are no samples.
    ///
    /// ```
    /// assert!(nn::data::Dataset::default().is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.images.is_empty()
    }

    /// The labels as one-hot vectors, the targets for [`Mse`](crate::losses::Mse) or
    /// [`CrossEntropy`](crate::losses::CrossEntropy).
    ///
    /// ```
    /// let mnist = nn::data::mnist::Mnist::embedded()?;
    /// let targets = mnist.test.one_hot_targets();
    /// assert_eq!(targets[0][usize::from(mnist.test.labels[0])], 1.0);
    /// assert_eq!(targets[0].iter().sum::<f32>(), 1.0);
    /// # Ok::<(), nn::data::DataError>(())
    /// ```
    pub fn one_hot_targets(&self) -> Vec<[f32; CLASSES]> {
        self.labels.iter().map(|&label| one_hot(label as usize)).collect()
    }

    /// Splits off a held-out part: a seeded shuffle, then the last `fraction` of the samples
    /// (rounded down) go to the second data set. The same seed always gives the same split.
    ///
    /// ```
    /// let mnist = nn::data::mnist::Mnist::embedded()?;
    /// let (train, validation) = mnist.train.split(0.2, 7);
    /// assert_eq!((train.len(), validation.len()), (4_000, 1_000));
    /// # Ok::<(), nn::data::DataError>(())
    /// ```
    pub fn split(self, fraction: f32, seed: u64) -> (Dataset, Dataset) {
        let mut order: Vec<usize> = (0..self.len()).collect();
        order.shuffle(&mut rand_pcg::Pcg64Mcg::seed_from_u64(seed));
        let held_out = ((self.len() as f32) * fraction.clamp(0.0, 1.0)) as usize;
        let (keep, hold) = order.split_at(self.len() - held_out);
        (self.select(keep), self.select(hold))
    }

    /// The samples at `indices`, in that order.
    ///
    /// ```
    /// let mnist = nn::data::mnist::Mnist::embedded()?;
    /// let firsts = mnist.test.select(&[0, 1]);
    /// assert_eq!(firsts.labels, mnist.test.labels[..2]);
    /// # Ok::<(), nn::data::DataError>(())
    /// ```
    pub fn select(&self, indices: &[usize]) -> Dataset {
        Dataset {
            images: indices.iter().map(|&i| self.images[i]).collect(),
            labels: indices.iter().map(|&i| self.labels[i]).collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn numbered(count: usize) -> Dataset {
        Dataset {
            images: (0..count).map(|i| [i as f32; PIXELS]).collect(),
            labels: (0..count).map(|i| (i % 10) as u8).collect(),
        }
    }

    #[test]
    fn split_is_a_seeded_partition() {
        let (train, held_out) = numbered(100).split(0.2, 7);
        assert_eq!((train.len(), held_out.len()), (80, 20));
        let mut seen: Vec<usize> = train.images.iter().chain(&held_out.images).map(|image| image[0] as usize).collect();
        seen.sort();
        assert_eq!(seen, (0..100).collect::<Vec<_>>());
        assert_eq!(numbered(100).split(0.2, 7).1, held_out);
        assert_ne!(numbered(100).split(0.2, 8).1, held_out);
    }

    #[test]
    fn images_keep_their_labels_through_a_split() {
        let (train, _) = numbered(50).split(0.5, 1);
        for (image, label) in train.images.iter().zip(&train.labels) {
            assert_eq!(image[0] as usize % 10, *label as usize);
        }
    }
}
