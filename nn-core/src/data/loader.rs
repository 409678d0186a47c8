//! Shuffled mini-batches gathered into reused buffers.

use rand::seq::SliceRandom;
use rand::Rng;
use std::sync::mpsc::sync_channel;

/// A batch of a [`Loader`]: its inputs, which the caller may change (augment) before training,
/// and its targets.
pub type Batch<'l, const IN: usize, const OUT: usize> = (&'l mut [[f32; IN]], &'l [[f32; OUT]]);

/// Yields an epoch's mini-batches: the samples in a seeded shuffled order, each batch copied
/// into buffers the loader keeps, so that after the first epoch no batch allocates. The last
/// batch of an epoch may be smaller (kept, by default) or dropped. The fit loop uses one; a
/// hand-written loop can too.
///
/// ```
/// use nn::data::Loader;
/// use nn::prelude::*;
///
/// let inputs: Vec<[f32; 2]> = (0..10).map(|i| [i as f32, 0.0]).collect();
/// let targets: Vec<[f32; 1]> = (0..10).map(|i| [i as f32]).collect();
/// let mut loader = Loader::new(4);
/// let mut rng = nn::Pcg64Mcg::seed_from_u64(1);
/// loader.shuffle(inputs.len(), &mut rng);
/// let mut sizes = Vec::new();
/// while let Some((batch_inputs, batch_targets)) = loader.next_batch(&inputs, &targets) {
///     assert_eq!(batch_inputs[0][0], batch_targets[0][0]); // pairs stay together
///     sizes.push(batch_inputs.len());
/// }
/// assert_eq!(sizes, [4, 4, 2]);
/// ```
#[derive(Clone, Debug, Default)]
pub struct Loader<const IN: usize, const OUT: usize> {
    batch_size: usize,
    drop_last: bool,
    order: Vec<usize>,
    position: usize,
    inputs: Vec<[f32; IN]>,
    targets: Vec<[f32; OUT]>,
}

impl<const IN: usize, const OUT: usize> Loader<IN, OUT> {
    /// A loader of batches of `batch_size` (at least 1) that keeps a smaller last batch.
    ///
    /// ```
    /// let loader = nn::data::Loader::<784, 10>::new(64);
    /// assert_eq!(loader.batches(1000), 16);
    /// ```
    pub fn new(batch_size: usize) -> Self {
        Self { batch_size: batch_size.max(1), ..Self::default() }
    }

    /// Whether to drop an epoch's last batch when it is smaller than the others.
    ///
    /// ```
    /// let loader = nn::data::Loader::<784, 10>::new(64).drop_last(true);
    /// assert_eq!(loader.batches(1000), 15);
    /// ```
    pub fn drop_last(self, drop_last: bool) -> Self {
        Self { drop_last, ..self }
    }

    /// The batches an epoch of `count` samples yields.
    ///
    /// ```
    /// assert_eq!(nn::data::Loader::<1, 1>::new(3).batches(7), 3);
    /// ```
    pub fn batches(&self, count: usize) -> usize {
        if self.drop_last {
            count / self.batch_size
        } else {
            count.div_ceil(self.batch_size)
        }
    }

    /// Starts an epoch over `count` samples: their original order shuffled with `rng`, so the
    /// order depends on the generator alone.
    ///
    /// ```
    /// use nn::prelude::*;
    ///
    /// let mut loader = nn::data::Loader::<1, 1>::new(2);
    /// loader.shuffle(5, &mut nn::Pcg64Mcg::seed_from_u64(3));
    /// let mut order = loader.order().to_vec();
    /// order.sort_unstable();
    /// assert_eq!(order, [0, 1, 2, 3, 4]);
    /// ```
    pub fn shuffle(&mut self, count: usize, rng: &mut impl Rng) {
        self.order.clear();
        self.order.extend(0..count);
        self.order.shuffle(rng);
        self.position = 0;
    }

    /// The epoch's order of samples.
    ///
    /// ```
    /// assert!(nn::data::Loader::<1, 1>::new(2).order().is_empty());
    /// ```
    pub fn order(&self) -> &[usize] {
        &self.order
    }

    /// The epoch's next batch, gathered from `inputs` and `targets` into the loader's buffers;
    /// `None` at the end of the epoch. The inputs are the loader's copies, the caller's to change
    /// before training on them (an [`Augment`](super::Augment)ed batch).
    ///
    /// # Panics
    /// If `inputs` or `targets` are shorter than the count the epoch was shuffled for.
    ///
    /// ```
    /// let mut loader = nn::data::Loader::<1, 1>::new(2);
    /// assert!(loader.next_batch(&[], &[]).is_none()); // no epoch started
    /// ```
    pub fn next_batch(&mut self, inputs: &[[f32; IN]], targets: &[[f32; OUT]]) -> Option<Batch<'_, IN, OUT>> {
        let remaining = self.order.len() - self.position;
        let size = remaining.min(self.batch_size);
        if size == 0 || (self.drop_last && size < self.batch_size) {
            return None;
        }
        let indices = &self.order[self.position..self.position + size];
        self.position += size;
        self.inputs.clear();
        self.targets.clear();
        self.inputs.extend(indices.iter().map(|&i| inputs[i]));
        self.targets.extend(indices.iter().map(|&i| targets[i]));
        Some((&mut self.inputs, &self.targets))
    }

    /// Runs `step` on each of the epoch's remaining batches while a second thread gathers the
    /// next one (and hands it to `prepare`, an augmentation, say): the gather's cache misses, a
    /// shuffled batch's rows coming from all over memory, overlap the step. Worth it when the
    /// step itself leaves a core idle. The batches, and `prepare`'s calls, come in the same order
    /// as from [`next_batch`](Loader::next_batch), so the results are the same. Stops at the
    /// first error of `step`, and returns it.
    ///
    /// ```
    /// use nn::data::Loader;
    /// use nn::prelude::*;
    ///
    /// let inputs: Vec<[f32; 1]> = (0..10).map(|i| [i as f32]).collect();
    /// let mut loader = Loader::<1, 1>::new(4);
    /// loader.shuffle(10, &mut nn::Pcg64Mcg::seed_from_u64(1));
    /// let mut seen = Vec::new();
    /// loader.run_in_background(&inputs, &inputs, |_| {}, |batch, _| {
    ///     seen.extend(batch.iter().map(|x| x[0] as usize));
    ///     Ok::<(), ()>(())
    /// })?;
    /// seen.sort_unstable();
    /// assert_eq!(seen, (0..10).collect::<Vec<_>>());
    /// # Ok::<(), ()>(())
    /// ```
    ///
    /// # Panics
    /// If `inputs` or `targets` are shorter than the count the epoch was shuffled for.
    pub fn run_in_background<E>(
        &mut self,
        inputs: &[[f32; IN]],
        targets: &[[f32; OUT]],
        mut prepare: impl FnMut(&mut [[f32; IN]]) + Send,
        mut step: impl FnMut(&[[f32; IN]], &[[f32; OUT]]) -> Result<(), E>,
    ) -> Result<(), E> {
        let start = self.position;
        let remaining = self.batches(self.order.len() - start);
        let (order, batch_size) = (&self.order[..], self.batch_size);
        let rows = |batch: usize| {
            let first = start + batch * batch_size;
            &order[first..(first + batch_size).min(order.len())]
        };
        let spare = (std::mem::take(&mut self.inputs), std::mem::take(&mut self.targets));
        let (result, kept) = std::thread::scope(|scope| {
            // Two pairs of buffers go round: the gatherer fills one while the step reads the other.
            let (to_gatherer, empty) = sync_channel::<Buffers<IN, OUT>>(2);
            let (to_step, full) = sync_channel::<Buffers<IN, OUT>>(1);
            scope.spawn(move || {
                for batch in 0..remaining {
                    let Ok((mut batch_inputs, mut batch_targets)) = empty.recv() else { return };
                    batch_inputs.clear();
                    batch_targets.clear();
                    batch_inputs.extend(rows(batch).iter().map(|&i| inputs[i]));
                    batch_targets.extend(rows(batch).iter().map(|&i| targets[i]));
                    prepare(&mut batch_inputs);
                    if to_step.send((batch_inputs, batch_targets)).is_err() {
                        return;
                    }
                }
            });
            // The gatherer takes one buffer per batch and ends after the last: with one batch (or
            // none) it may be gone before it is offered the second (or the first), which then
            // stays here.
            let mut kept = (Vec::new(), Vec::new());
            if let Err(refused) = to_gatherer.send(spare) {
                kept = refused.0;
            }
            // Refused only when the gatherer has ended: nothing was allocated in it to keep.
            let _ = to_gatherer.send((Vec::new(), Vec::new()));
            let mut result = Ok(());
            for _ in 0..remaining {
                let (batch_inputs, batch_targets) = full.recv().expect("the gatherer sends every batch");
                result = step(&batch_inputs, &batch_targets);
                if result.is_err() {
                    break;
                }
                // The gatherer may have finished: then the buffers stay here.
                if let Err(returned) = to_gatherer.send((batch_inputs, batch_targets)) {
                    kept = returned.0;
                }
            }
            // Closing both channels ends a gatherer that is still waiting to send or receive.
            drop((to_gatherer, full));
            (result, kept)
        });
        (self.inputs, self.targets) = kept;
        self.position = self.order.len();
        result
    }
}

/// A batch's inputs and targets, as they travel between the gatherer and the step.
type Buffers<const IN: usize, const OUT: usize> = (Vec<[f32; IN]>, Vec<[f32; OUT]>);

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn epochs_of_one_batch_or_none_end_whenever_the_gatherer_does() {
        // The gatherer of a one-batch epoch may end before it is offered its second buffer (under
        // emulation, or on a busy machine, it did, and the offer panicked): many short epochs.
        let inputs: Vec<[f32; 1]> = (0..3).map(|i| [i as f32]).collect();
        let mut loader = Loader::<1, 1>::new(4);
        for round in 0..2_000 {
            let count = round % 2 * inputs.len();
            loader.shuffle(count, &mut rand_pcg::Pcg64Mcg::seed_from_u64(round as u64));
            let mut seen = 0;
            let result = loader.run_in_background(
                &inputs,
                &inputs,
                |_| {},
                |batch, _| {
                    seen += batch.len();
                    Ok::<(), ()>(())
                },
            );
            assert_eq!((result, seen), (Ok(()), count));
        }
    }

    #[test]
    fn an_epoch_visits_every_sample_once_and_drop_last_drops_only_the_short_batch() {
        let inputs: Vec<[f32; 1]> = (0..11).map(|i| [i as f32]).collect();
        let targets = inputs.clone();
        let mut rng = rand_pcg::Pcg64Mcg::seed_from_u64(5);
        for (drop_last, expected) in [(false, 11), (true, 9)] {
            let mut loader = Loader::new(3).drop_last(drop_last);
            loader.shuffle(inputs.len(), &mut rng);
            let mut seen = Vec::new();
            while let Some((batch, _)) = loader.next_batch(&inputs, &targets) {
                seen.extend(batch.iter().map(|x| x[0] as usize));
            }
            assert_eq!(seen.len(), expected);
            assert_eq!(seen[..], loader.order()[..expected]);
            seen.sort_unstable();
            seen.dedup();
            assert_eq!(seen.len(), expected, "no sample twice");
        }
    }
}
