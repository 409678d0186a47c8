//! The in-memory data set every reader returns: inputs of any size, with any target.

use super::table::split_indices;

/// Samples of `IN` input values, each with a target of type `T`: a class (`u8` for MNIST's
/// digits, `usize` for the classes of a CSV file) or a vector of values (`[f32; OUT]`, for
/// regression). MNIST's images are `Dataset<784, u8>`, a CSV file's classified rows a
/// [`Table`](super::Table) (`Dataset<IN, usize>`), its numeric rows [`Values`](super::Values)
/// (`Dataset<IN, [f32; OUT]>`).
///
/// ```
/// use nn::data::Dataset;
///
/// let points = Dataset::<2, u8> { inputs: vec![[0.0, 0.1], [0.9, 1.0]], targets: vec![0, 1], classes: vec![] };
/// let (train, test) = points.split(0.5, 7);
/// assert_eq!((train.len(), test.len()), (1, 1));
/// assert_eq!(points.one_hot_targets::<2>()[1], [0.0, 1.0]);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Dataset<const IN: usize, T> {
    /// The inputs of each sample (for images, channel-major pixels).
    pub inputs: Vec<[f32; IN]>,
    /// The target of each sample.
    pub targets: Vec<T>,
    /// The class names by class index, when the targets are classes that a file named (the
    /// labels of a CSV file, say); empty otherwise.
    pub classes: Vec<String>,
}

impl<const IN: usize, T> Default for Dataset<IN, T> {
    fn default() -> Self {
        Self { inputs: Vec::new(), targets: Vec::new(), classes: Vec::new() }
    }
}

impl<const IN: usize, T: Clone> Dataset<IN, T> {
    /// The number of samples.
    ///
    /// ```
    /// let mnist = nn::data::mnist::Mnist::embedded()?;
    /// assert_eq!(mnist.test.len(), 1_000);
    /// # Ok::<(), nn::data::DataError>(())
    /// ```
    pub fn len(&self) -> usize {
        self.inputs.len()
    }

    /// Whether there are no samples.
    ///
    /// ```
    /// assert!(nn::data::Dataset::<3, u8>::default().is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.inputs.is_empty()
    }

    /// The samples at `indices`, in that order, with the same class names.
    ///
    /// ```
    /// let mnist = nn::data::mnist::Mnist::embedded()?;
    /// let firsts = mnist.test.select(&[0, 1]);
    /// assert_eq!(firsts.targets, mnist.test.targets[..2]);
    /// # Ok::<(), nn::data::DataError>(())
    /// ```
    ///
    /// # Panics
    /// If an index is not below [`len`](Self::len).
    pub fn select(&self, indices: &[usize]) -> Self {
        Self {
            inputs: indices.iter().map(|&i| self.inputs[i]).collect(),
            targets: indices.iter().map(|&i| self.targets[i].clone()).collect(),
            classes: self.classes.clone(),
        }
    }

    /// A seeded split into a kept part and a held-out `fraction` of the samples (rounded): the
    /// same seed always gives the same split.
    ///
    /// ```
    /// let mnist = nn::data::mnist::Mnist::embedded()?;
    /// let (train, validation) = mnist.train.split(0.2, 7);
    /// assert_eq!((train.len(), validation.len()), (4_000, 1_000));
    /// # Ok::<(), nn::data::DataError>(())
    /// ```
    pub fn split(&self, fraction: f32, seed: u64) -> (Self, Self) {
        let (kept, held_out) = split_indices(&vec![0; self.len()], fraction, seed, false);
        (self.select(&kept), self.select(&held_out))
    }
}

impl<const IN: usize, T: Copy + Into<usize>> Dataset<IN, T> {
    /// The classes as one-hot targets of `CLASSES` values, the targets for
    /// [`CrossEntropy`](crate::losses::CrossEntropy) or [`Mse`](crate::losses::Mse).
    ///
    /// ```
    /// let mnist = nn::data::mnist::Mnist::embedded()?;
    /// let targets = mnist.test.one_hot_targets::<10>();
    /// assert_eq!(targets[0][usize::from(mnist.test.targets[0])], 1.0);
    /// assert_eq!(targets[0].iter().sum::<f32>(), 1.0);
    /// # Ok::<(), nn::data::DataError>(())
    /// ```
    ///
    /// # Panics
    /// If a class is not below `CLASSES`.
    pub fn one_hot_targets<const CLASSES: usize>(&self) -> Vec<[f32; CLASSES]> {
        self.targets.iter().map(|&class| crate::one_hot(class.into())).collect()
    }

    /// The class of each sample, as an index.
    ///
    /// ```
    /// let points = nn::data::Dataset::<1, u8> { inputs: vec![[0.0], [1.0]], targets: vec![3, 1], classes: vec![] };
    /// assert_eq!(points.class_indices(), [3, 1]);
    /// ```
    pub fn class_indices(&self) -> Vec<usize> {
        self.targets.iter().map(|&class| class.into()).collect()
    }

    /// As [`split`](Self::split), keeping each class's share the same in both parts (as
    /// scikit-learn's `stratify=`).
    ///
    /// ```
    /// let table = nn::data::Table::<1> {
    ///     inputs: (0..10).map(|i| [i as f32]).collect(),
    ///     targets: vec![0, 0, 0, 0, 0, 0, 0, 0, 1, 1],
    ///     classes: vec!["a".into(), "b".into()],
    /// };
    /// let (train, test) = table.split_stratified(0.5, 7);
    /// assert_eq!((train.len(), test.len()), (5, 5));
    /// assert_eq!(test.targets.iter().filter(|&&class| class == 1).count(), 1);
    /// ```
    pub fn split_stratified(&self, fraction: f32, seed: u64) -> (Self, Self) {
        let (kept, held_out) = split_indices(&self.class_indices(), fraction, seed, true);
        (self.select(&kept), self.select(&held_out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn numbered(count: usize) -> Dataset<3, u8> {
        Dataset {
            inputs: (0..count).map(|i| [i as f32; 3]).collect(),
            targets: (0..count).map(|i| (i % 10) as u8).collect(),
            classes: Vec::new(),
        }
    }

    #[test]
    fn split_is_a_seeded_partition() {
        let (train, held_out) = numbered(100).split(0.2, 7);
        assert_eq!((train.len(), held_out.len()), (80, 20));
        let mut seen: Vec<usize> = train.inputs.iter().chain(&held_out.inputs).map(|input| input[0] as usize).collect();
        seen.sort();
        assert_eq!(seen, (0..100).collect::<Vec<_>>());
        assert_eq!(numbered(100).split(0.2, 7).1, held_out);
        assert_ne!(numbered(100).split(0.2, 8).1, held_out);
    }

    #[test]
    fn inputs_keep_their_targets_through_a_split() {
        for (train, held_out) in [numbered(50).split(0.5, 1), numbered(50).split_stratified(0.5, 1)] {
            for part in [train, held_out] {
                for (input, target) in part.inputs.iter().zip(&part.targets) {
                    assert_eq!(input[0] as usize % 10, usize::from(*target));
                }
            }
        }
    }

    #[test]
    fn a_stratified_split_holds_out_each_class_in_proportion() {
        let (_, held_out) = numbered(100).split_stratified(0.3, 4);
        for class in 0..10 {
            assert_eq!(held_out.targets.iter().filter(|&&target| target == class).count(), 3, "class {class}");
        }
    }

    #[test]
    fn vector_targets_split_with_their_inputs() {
        let values = Dataset::<1, [f32; 2]> {
            inputs: (0..10).map(|i| [i as f32]).collect(),
            targets: (0..10).map(|i| [2.0 * i as f32, 1.0]).collect(),
            classes: Vec::new(),
        };
        let (train, test) = values.split(0.3, 7);
        assert_eq!((train.len(), test.len()), (7, 3));
        assert!(test.inputs.iter().zip(&test.targets).all(|(x, y)| y[0] == 2.0 * x[0]));
    }
}
