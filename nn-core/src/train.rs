//! The training and batched-inference steps, written once for every [`Network`].
//!
//! A mini-batch runs through the network once, layer by layer over all its rows; kernels with
//! enough work split it across the rayon threads by ranges of outputs (see
//! [`dense_forward_rows`](kernels::dense_forward_rows)). Every value is computed by one
//! thread in a fixed order, so results are bit-identical whatever the number of threads, and
//! there are no per-thread gradients to add up. (Splitting the batch into one shard per thread
//! instead made two threads slower than one here: each shard wrote its own copy of the
//! gradients, which then had to travel between the cores' caches to be summed.) Batched
//! inference, with no gradients, does split the rows into one shard per thread.

use crate::heap::AlignedBuffer;
use crate::kernels;
use crate::layer::{Mode, Update, BLOCK_SAMPLES};
use crate::losses::Loss;
use crate::network::{argmax, Network};
use crate::optim::Optimizer;
use crate::workspace::{Batch, Shard, TrainingShard, Workspace};
use rand::Rng;
use rayon::prelude::*;

/// Rows per call of `forward_rows` in batched inference: small enough that each layer's output
/// is still in cache for the next.
const INFERENCE_BLOCK_ROWS: usize = 64;

/// Why a step refused to run. The network's parameters are left as they were.
///
/// ```
/// use nn::prelude::*;
///
/// network! { struct Net { Linear(2, 1) } }
/// let mut net = Net::zeroed();
/// let mut workspace = net.workspace();
/// let error = net.train_step(&mut workspace, &[f32::NAN, 0.0], &[1.0], &Mse, &mut Sgd::new(0.1)).unwrap_err();
/// assert!(matches!(error, TrainError::NonFiniteInput { sample: 0, index: 0, .. }), "{error}");
/// assert_eq!(net, Net::zeroed()); // untouched
/// ```
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum TrainError {
    /// The loss (or its gradient) was NaN or infinite.
    #[error(
        "the loss of sample {sample} in this step is {loss}, not a finite number; the parameters \
         were not updated (check the input for NaN or infinity, or lower the learning rate)"
    )]
    NonFiniteLoss {
        /// The index of the offending sample within the step (0 for a single-sample step).
        sample: usize,
        /// The loss value that was computed.
        loss: f32,
    },
    /// An input held NaN or an infinity, which would reach the parameters (an activation whose
    /// derivative is 0 there still multiplies the input into the weight update: 0 x inf = NaN).
    #[error(
        "input {index} of sample {sample} in this step is {value}, not a finite number; the parameters \
         were not updated"
    )]
    NonFiniteInput {
        /// The index of the offending sample within the step (0 for a single-sample step).
        sample: usize,
        /// The index of the first non-finite value in its input.
        index: usize,
        /// That value.
        value: f32,
    },
    /// A step's parameter gradients held NaN or an infinity, or were so large that the update
    /// could take a parameter out of `f32`'s range: checked before any parameter changes.
    #[error(
        "{} was refused: the gradients of layer {layer} {}, too large for an update to keep its \
         parameters finite; the parameters were not updated (lower the learning rate, or look for \
         extreme values in the data)",
        describe_sample(*sample),
        describe_gradients(*largest_gradient)
    )]
    NonFiniteUpdate {
        /// The sample within the step whose values are the most extreme (0 for a single-sample
        /// step), when the step knows it.
        sample: Option<usize>,
        /// The position of the layer in the network (its tensors' prefix: `2` in `2.weight`).
        layer: usize,
        /// How large the layer's gradients are, or could be: NaN, infinite, or a bound past
        /// which a step of this learning rate leaves `f32`'s range.
        largest_gradient: f64,
    },
    /// The optimizer's hyper-parameters are outside its range (a negative or non-finite learning
    /// rate, a beta of 1, ...), checked before the step changes anything.
    #[error(transparent)]
    InvalidHyperParameter(#[from] crate::optim::InvalidHyperParameter),
    /// A batch had a different number of inputs and targets (or outputs).
    #[error("the batch has {inputs} inputs but {targets} {what}; they must pair up one to one")]
    BatchSizeMismatch {
        /// The number of inputs.
        inputs: usize,
        /// The number of targets or output slots.
        targets: usize,
        /// `"targets"` or `"output slots"`.
        what: &'static str,
    },
    /// A label that is not one of the network's classes (`0..classes`).
    #[error("label {sample} is {label}, but the network's classes are 0 to {}", classes - 1)]
    InvalidLabel {
        /// The index of the label.
        sample: usize,
        /// The label, as given.
        label: String,
        /// The network's outputs: its classes.
        classes: usize,
    },
    /// A mini-batch had no samples.
    #[error("the batch is empty: a training step needs at least one sample")]
    EmptyBatch,
    /// The step has fewer samples than the network's batch normalization needs.
    #[error(
        "this step has {samples} sample(s), but the network ({architecture}) normalizes batches with one value \
         per channel, which needs at least {needed} samples per step in train mode; train it with train_batch \
         on batches of at least {needed}"
    )]
    BatchTooSmall {
        /// The samples in the step (1 for a single-sample step).
        samples: usize,
        /// The fewest the network takes.
        needed: usize,
        /// The network's architecture.
        architecture: &'static str,
    },
    /// A file the fit loop writes (a checkpoint, the best model) could not be written.
    #[error("the fit loop could not save {}: {reason}", path.display())]
    Save {
        /// The file.
        path: std::path::PathBuf,
        /// Why, as the save's error says.
        reason: String,
    },
    /// The checkpoint a fit was to resume from could not be read.
    #[error("the fit loop could not resume from {}: {reason}", path.display())]
    Resume {
        /// The checkpoint.
        path: std::path::PathBuf,
        /// Why.
        reason: String,
    },
    /// A setting of the fit loop is outside its range.
    #[error("the {setting} is {value}; it must be {requirement}")]
    InvalidSetting {
        /// The setting, in words.
        setting: &'static str,
        /// The value given.
        value: String,
        /// What it must be.
        requirement: &'static str,
    },
    /// The loss applies softmax itself but the network already ends with `Softmax`.
    #[error(
        "this loss applies softmax to the network's output itself, but the network ({architecture}) \
         already ends with Softmax; remove the trailing Softmax so the network outputs logits"
    )]
    SoftmaxBeforeLogitLoss {
        /// The network's architecture.
        architecture: &'static str,
    },
}

/// How an error names the sample of a step.
fn describe_sample(sample: Option<usize>) -> String {
    match sample {
        Some(sample) => format!("sample {sample} of this step"),
        None => "this step".to_string(),
    }
}

/// How an error describes a layer's gradients.
fn describe_gradients(largest: f64) -> String {
    match largest {
        largest if largest.is_nan() => "hold NaN".to_string(),
        largest if largest.is_infinite() => "reach infinity".to_string(),
        largest => format!("reach {largest:.3e}"),
    }
}

/// The largest `learning_rate · |∂L/∂p|` a plain SGD step applies: below it, no update can take
/// a finite `f32` parameter out of range (`p + Δ` with `|Δ|` under half an ulp of `f32::MAX`,
/// `2^103`, rounds to at most `f32::MAX`), even summed over the 16 steps of a block whose first
/// layer defers its updates (`16 · 2^96 = 2^100`).
const LARGEST_STEP: f64 = (1u128 << 96) as f64;

/// `Ok` if a plain SGD step of `learning_rate` on gradients bounded by `bound` (in the layer at
/// position `layer`) keeps every parameter finite; else the error, naming `sample`.
fn check_step(learning_rate: f32, (bound, layer): (f64, usize), sample: Option<usize>) -> Result<(), TrainError> {
    // Written so that a NaN fails (as does 0 · ∞: a zero rate times an infinite gradient is NaN).
    if f64::from(learning_rate) * bound < LARGEST_STEP {
        return Ok(());
    }
    Err(TrainError::NonFiniteUpdate { sample, layer, largest_gradient: bound })
}

pub(crate) fn train_step<N, L, O, const IN: usize, const OUT: usize>(
    network: &mut N,
    workspace: &mut Workspace<N, IN, OUT>,
    input: &[f32; IN],
    target: &[f32; OUT],
    loss: &L,
    optimizer: &mut O,
) -> Result<f32, TrainError>
where
    N: Network<IN, OUT>,
    L: Loss,
    O: Optimizer + ?Sized,
{
    check_loss_fits::<N, L, IN, OUT>()?;
    check_batch_size::<N, IN, OUT>(1)?;
    optimizer.check()?;
    let mut gradient = [0.0; OUT];
    let Workspace { context, buffers, gradients, correct, parameters, .. } = workspace;
    context.set_mode(Mode::Train);
    let output = network.forward_sample(context, buffers, input);
    let value = checked_loss(loss, output, target, &mut gradient, 0).map_err(|error| explained(error, &[*input], 0))?;
    let hit = predicted(output, target);
    let step = match optimizer.plain_sgd_learning_rate() {
        Some(learning_rate) => sgd_sample(network, context, buffers, &gradient, gradients, learning_rate, 0),
        None => {
            gradients.fill(0.0);
            network.backward_sample(context, buffers, &gradient, gradients, Update::Accumulate);
            check_gradients(network, gradients, || Some(0))
                .and_then(|()| apply_gradients(network, gradients, optimizer, parameters))
        }
    };
    step.map_err(|error| explained(error, &[*input], 0))?;
    network.commit_sample(buffers);
    *correct += usize::from(hit);
    Ok(value)
}

/// The backward pass of a plain SGD step on one sample (number `sample` of the step): every
/// layer's input gradient first, then, if no update can make a parameter NaN or infinite, the
/// updates.
fn sgd_sample<N: Network<IN, OUT>, const IN: usize, const OUT: usize>(
    network: &mut N,
    context: &mut crate::layer::Context,
    buffers: &mut N::Buffers,
    output_gradient: &[f32; OUT],
    gradients: &mut [f32],
    learning_rate: f32,
    sample: usize,
) -> Result<(), TrainError> {
    network.backward_sample(context, buffers, output_gradient, gradients, Update::Propagate);
    check_step(learning_rate, network.gradient_bound_sample(buffers, output_gradient), Some(sample))?;
    network.backward_sample(context, buffers, output_gradient, gradients, Update::Sgd { learning_rate });
    Ok(())
}

pub(crate) fn train_samples<'s, N, L, O, const IN: usize, const OUT: usize>(
    network: &mut N,
    workspace: &mut Workspace<N, IN, OUT>,
    samples: impl IntoIterator<Item = (&'s [f32; IN], &'s [f32; OUT])>,
    loss: &L,
    optimizer: &mut O,
) -> Result<f32, TrainError>
where
    N: Network<IN, OUT>,
    L: Loss,
    O: Optimizer + ?Sized,
{
    check_loss_fits::<N, L, IN, OUT>()?;
    check_batch_size::<N, IN, OUT>(1)?;
    optimizer.check()?;
    match optimizer.plain_sgd_learning_rate() {
        Some(learning_rate) => train_samples_deferred(network, workspace, samples, loss, learning_rate),
        None => train_samples_stepwise(network, workspace, samples, loss, optimizer),
    }
}

/// Per-sample SGD in blocks whose first layer may defer its weight updates (see
/// `Network::train_samples`).
fn train_samples_deferred<'s, N, L, const IN: usize, const OUT: usize>(
    network: &mut N,
    workspace: &mut Workspace<N, IN, OUT>,
    samples: impl IntoIterator<Item = (&'s [f32; IN], &'s [f32; OUT])>,
    loss: &L,
    learning_rate: f32,
) -> Result<f32, TrainError>
where
    N: Network<IN, OUT>,
    L: Loss,
{
    let Workspace { context, buffers, gradients, correct, .. } = workspace;
    context.set_mode(Mode::Train);
    let (mut total, mut count) = (0.0f64, 0usize);
    let mut gradient = [0.0; OUT];
    let mut samples = samples.into_iter();
    loop {
        // The next block of samples, held as references on the stack: nothing allocated.
        let mut block: [Option<(&[f32; IN], &[f32; OUT])>; BLOCK_SAMPLES] = [None; _];
        let mut len = 0;
        for slot in block.iter_mut() {
            *slot = samples.next();
            if slot.is_none() {
                break;
            }
            len += 1;
        }
        let Some((first, _)) = block[0] else {
            return Ok(mean(total, count));
        };
        // A sample with a non-finite input ends the block before it: the samples before it are
        // trained on, then the error names it. (The scan also brings the block's inputs into
        // the cache in one streaming pass: without it, the steps are slower.)
        let mut stop = None;
        if let Some(bad) = block[..len].iter().flatten().position(|(input, _)| !kernels::all_finite(*input)) {
            stop = check_input(block[bad].expect("a sample").0, count + bad).err();
            len = bad;
            for slot in &mut block[bad..] {
                *slot = None;
            }
        }
        if len == 0 {
            return Err(stop.expect("a block is cut short only by a bad input"));
        }
        let inputs: [&[f32; IN]; BLOCK_SAMPLES] = std::array::from_fn(|t| block[t].map_or(first, |(input, _)| input));
        network.begin_block(buffers, &inputs[..len]);
        for (input, target) in block.iter().map_while(|sample| *sample) {
            let output = network.forward_sample(context, buffers, input);
            let value = checked_loss(loss, output, target, &mut gradient, count);
            let hit = predicted(output, target);
            let step = value.and_then(|value| {
                sgd_sample(network, context, buffers, &gradient, gradients, learning_rate, count).map(|()| value)
            });
            match step {
                Ok(value) => total += f64::from(value),
                Err(error) => {
                    network.end_block(buffers);
                    return Err(explained(error, &[*input], count));
                }
            }
            network.commit_sample(buffers);
            count += 1;
            *correct += usize::from(hit);
        }
        network.end_block(buffers);
        if let Some(error) = stop {
            return Err(error);
        }
    }
}

/// Per-sample training with an optimizer that needs the gradients: one `train_step` per sample.
fn train_samples_stepwise<'s, N, L, O, const IN: usize, const OUT: usize>(
    network: &mut N,
    workspace: &mut Workspace<N, IN, OUT>,
    samples: impl IntoIterator<Item = (&'s [f32; IN], &'s [f32; OUT])>,
    loss: &L,
    optimizer: &mut O,
) -> Result<f32, TrainError>
where
    N: Network<IN, OUT>,
    L: Loss,
    O: Optimizer + ?Sized,
{
    let (mut total, mut count) = (0.0f64, 0usize);
    for (input, target) in samples {
        let value = train_step(network, workspace, input, target, loss, optimizer).map_err(|error| match error {
            TrainError::NonFiniteLoss { loss, .. } => TrainError::NonFiniteLoss { sample: count, loss },
            TrainError::NonFiniteInput { index, value, .. } => {
                TrainError::NonFiniteInput { sample: count, index, value }
            }
            TrainError::NonFiniteUpdate { layer, largest_gradient, .. } => {
                TrainError::NonFiniteUpdate { sample: Some(count), layer, largest_gradient }
            }
            other => other,
        })?;
        total += f64::from(value);
        count += 1;
    }
    Ok(mean(total, count))
}

pub(crate) fn train_batch<N, L, O, const IN: usize, const OUT: usize>(
    network: &mut N,
    workspace: &mut Workspace<N, IN, OUT>,
    inputs: &[[f32; IN]],
    targets: &[[f32; OUT]],
    loss: &L,
    optimizer: &mut O,
) -> Result<f32, TrainError>
where
    N: Network<IN, OUT>,
    L: Loss,
    O: Optimizer + ?Sized,
{
    check_loss_fits::<N, L, IN, OUT>()?;
    check_batch(inputs.len(), targets.len(), "targets")?;
    check_batch_size::<N, IN, OUT>(inputs.len())?;
    optimizer.check()?;
    // The inputs are checked only once a step fails (see `explained`): a non-finite one makes a
    // loss, a gradient or an update bound non-finite, which refuses the step.
    let shards = shard_count::<N, IN, OUT>(inputs.len());
    if shards > 1 {
        let total = train_batch_in_shards(network, workspace, inputs, targets, loss, optimizer, shards)
            .map_err(|error| explained(error, inputs, 0))?;
        return Ok(mean(total, targets.len()));
    }
    let Workspace { gradients, batch, context, correct, parameters, .. } = workspace;
    let Batch { buffers, output_gradients } = batch;
    context.set_mode(Mode::Train);
    // A step too small for its kernels to split stays on the calling thread.
    let split = kernels::batch_splits(inputs.len() * N::MULTIPLY_ADDS);
    let total = on_worker_thread(split, || -> Result<f64, TrainError> {
        // The inputs are read where they are: the first layer reads only each row's nonzero
        // values, and an aligned copy (which the dense kernels wanted) now costs more than it saves.
        crate::buffers::grow_rows(output_gradients, inputs.len());
        let output_gradients = &mut output_gradients[..inputs.len()];
        let outputs = network.forward_rows(context, buffers, inputs);
        // The loss of the batch is the mean over its rows, so each row's gradient is scaled by 1/n.
        let scale = 1.0 / inputs.len() as f32;
        let mut total = 0.0f64;
        for (row, ((output, target), gradient)) in
            outputs.iter().zip(targets).zip(output_gradients.iter_mut()).enumerate()
        {
            total += f64::from(checked_loss(loss, output, target, gradient, row)?);
            for value in gradient.iter_mut() {
                *value *= scale;
            }
        }
        let hits = count_predicted(outputs, targets);
        let output_gradients = &output_gradients[..];
        let extreme_row = |network: &N, buffers: &N::BatchBuffers| {
            extreme_row(network, buffers, inputs, output_gradients).map(|(row, _)| row)
        };
        match optimizer.plain_sgd_learning_rate() {
            Some(learning_rate) => {
                network.backward_rows(context, buffers, inputs, output_gradients, gradients, Update::Propagate);
                let bound = network.gradient_bound_rows(buffers, inputs, output_gradients, 0..inputs.len());
                check_step(learning_rate, bound, None)
                    .map_err(|error| with_sample(error, extreme_row(network, buffers)))?;
                let update = Update::Sgd { learning_rate };
                network.backward_rows(context, buffers, inputs, output_gradients, gradients, update);
            }
            None => {
                network.backward_rows(context, buffers, inputs, output_gradients, gradients, Update::Accumulate);
                check_gradients(network, gradients, || extreme_row(network, buffers))?;
                apply_gradients(network, gradients, optimizer, parameters)?;
            }
        }
        network.commit_rows(buffers);
        *correct += hits;
        Ok(total)
    })
    .map_err(|error| explained(error, inputs, 0))?;
    Ok(mean(total, targets.len()))
}

/// Whether a batch step of `rows` runs on the calling thread alone (too little work to split,
/// and no shards) while another thread is free: then a second thread can gather the next batch
/// meanwhile.
pub(crate) fn step_leaves_a_core_idle<N: Network<IN, OUT>, const IN: usize, const OUT: usize>(rows: usize) -> bool {
    rayon::current_num_threads() > 1
        && shard_count::<N, IN, OUT>(rows) == 1
        && !kernels::batch_splits(rows * N::MULTIPLY_ADDS)
}

/// Rows per shard from which a batch step runs in whole-network shards.
const SHARD_ROWS: usize = 32;

/// Multiply-adds per sample per parameter from which a network's batch steps run in shards:
/// each shard then spends far more on its rows than on the copy and the sum of the parameters
/// and their gradients that sharding costs.
const SHARD_WORK_PER_PARAMETER: usize = 4;

/// How many shards a batch step of `rows` runs in: 1 (the layer-by-layer step) unless the
/// network is convolution-heavy (many multiply-adds per parameter), has no batch statistics, and
/// the batch holds at least two shards of [`SHARD_ROWS`]; then the largest power of two of
/// shards that keeps that many rows each, so that they spread evenly over a power-of-two number
/// of cores. The count depends on the batch alone, never on the threads, so the results do not
/// either.
fn shard_count<N: Network<IN, OUT>, const IN: usize, const OUT: usize>(rows: usize) -> usize {
    let heavy = N::MULTIPLY_ADDS >= SHARD_WORK_PER_PARAMETER * N::PARAMETERS;
    if N::BATCH_STATISTICS || !heavy || rows < 2 * SHARD_ROWS {
        return 1;
    }
    1 << (rows / SHARD_ROWS).ilog2()
}

/// A batch step in `count` shards of consecutive rows, each running the whole network, forward
/// and backward, as one task: one hand-over between threads per step instead of several per
/// layer, and each shard's activations stay in its core's cache. The first shard runs `network`
/// and stores its gradients in the workspace's; the others run copies of it. The gradients are
/// added in shard order and applied once. Returns the summed loss; on an error (the first
/// sample's, in row order) nothing is applied.
fn train_batch_in_shards<N, L, O, const IN: usize, const OUT: usize>(
    network: &mut N,
    workspace: &mut Workspace<N, IN, OUT>,
    inputs: &[[f32; IN]],
    targets: &[[f32; OUT]],
    loss: &L,
    optimizer: &mut O,
    count: usize,
) -> Result<f64, TrainError>
where
    N: Network<IN, OUT>,
    L: Loss,
    O: Optimizer + ?Sized,
{
    let Workspace { gradients, training_shards, parameters, context, correct: correct_count, .. } = workspace;
    let shards = TrainingShard::first(training_shards, network, count);
    copy_parameters(network, gradients, parameters, &mut shards[1..]);
    for shard in shards.iter_mut() {
        // Each shard's dropout masks come from a seed drawn in shard order: the same on any
        // number of threads.
        shard.context.reseed(context.rng().random());
        shard.context.set_mode(Mode::Train);
    }
    let rows = inputs.len().div_ceil(count);
    let rows_of = |index: usize| index * rows..((index + 1) * rows).min(inputs.len());
    let pass = Pass { inputs, targets, loss, scale: 1.0 / inputs.len() as f32 };
    let (first, rest) = shards.split_first_mut().expect("at least two shards");
    let (first_total, ()) = rayon::join(
        || pass.run(network, first, gradients, rows_of(0)),
        || {
            rest.par_iter_mut().enumerate().for_each(|(index, shard)| {
                let mut copy = shard.network.take().expect("every shard but the first has a copy");
                let mut shard_gradients = std::mem::take(&mut shard.gradients);
                shard.total = pass.run(&mut copy, shard, &mut shard_gradients, rows_of(index + 1));
                (shard.network, shard.gradients) = (Some(copy), shard_gradients);
            })
        },
    );
    let (mut total, mut correct) = first_total?;
    for shard in rest.iter() {
        let (shard_total, shard_correct) = shard.total.clone()?;
        (total, correct) = (total + shard_total, correct + shard_correct);
    }
    for shard in rest.iter() {
        add_in_parallel(gradients, &shard.gradients);
    }
    let extreme_row = |network: &N| {
        let rows = shards.iter().enumerate().map(|(index, shard)| {
            let copy = shard.network.as_ref().unwrap_or(network);
            let range = rows_of(index);
            let output_gradients = &shard.output_gradients[..range.len()];
            extreme_row(copy, &shard.buffers, &inputs[range.clone()], output_gradients)
                .map(|(row, bound)| (range.start + row, bound))
        });
        // The most extreme row of all the shards' (the first of equals).
        rows.flatten()
            .fold(None, |extreme: Option<(usize, f64)>, (row, bound)| match extreme {
                Some((_, largest)) if !bound.abs().total_cmp(&largest.abs()).is_gt() => extreme,
                _ => Some((row, bound)),
            })
            .map(|(row, _)| row)
    };
    match optimizer.plain_sgd_learning_rate() {
        Some(learning_rate) => {
            check_gradient_step(network, gradients, learning_rate, || extreme_row(network))?;
            network.each_parameter_mut(gradients, &mut |parameters, gradients| {
                kernels::axpy(parameters, -learning_rate, gradients)
            });
        }
        None => {
            check_gradients(network, gradients, || extreme_row(network))?;
            apply_gradients(network, gradients, optimizer, parameters)?;
        }
    }
    *correct_count += correct;
    Ok(total)
}

/// One shard's part of a batch step: what every shard shares.
struct Pass<'a, L, const IN: usize, const OUT: usize> {
    inputs: &'a [[f32; IN]],
    targets: &'a [[f32; OUT]],
    loss: &'a L,
    /// `1 / rows` of the whole batch: the loss is the batch's mean.
    scale: f32,
}

impl<L: Loss, const IN: usize, const OUT: usize> Pass<'_, L, IN, OUT> {
    /// Forward, loss and backward over `rows` of the batch through `network`, with the shard's
    /// buffers and context, writing the parameter gradients (summed over the rows, scaled to the
    /// batch's mean) into `gradients`. Returns the summed loss and the correct predictions.
    fn run<N: Network<IN, OUT>>(
        &self,
        network: &mut N,
        shard: &mut TrainingShard<N, IN, OUT>,
        gradients: &mut [f32],
        rows: std::ops::Range<usize>,
    ) -> Result<(f64, usize), TrainError> {
        let (inputs, targets) = (&self.inputs[rows.clone()], &self.targets[rows.clone()]);
        let TrainingShard { buffers, output_gradients, context, .. } = shard;
        crate::buffers::grow_rows(output_gradients, inputs.len());
        let output_gradients = &mut output_gradients[..inputs.len()];
        let outputs = network.forward_rows(context, buffers, inputs);
        let mut total = 0.0f64;
        for (row, ((output, target), gradient)) in
            outputs.iter().zip(targets).zip(output_gradients.iter_mut()).enumerate()
        {
            total += f64::from(checked_loss(self.loss, output, target, gradient, rows.start + row)?);
            gradient.iter_mut().for_each(|value| *value *= self.scale);
        }
        let correct = count_predicted(outputs, targets);
        network.backward_rows(context, buffers, inputs, output_gradients, gradients, Update::Accumulate);
        Ok((total, correct))
    }
}

/// Copies `network`'s parameters into every shard's copy, through `parameters` (the
/// parameter visitor lends one network at a time); `gradients` only sizes the visits.
fn copy_parameters<N: Network<IN, OUT>, const IN: usize, const OUT: usize>(
    network: &mut N,
    gradients: &[f32],
    parameters: &mut AlignedBuffer,
    shards: &mut [TrainingShard<N, IN, OUT>],
) {
    parameters.grow(N::PARAMETERS);
    let mut offset = 0;
    network.each_parameter_mut(gradients, &mut |values, _| {
        parameters[offset..offset + values.len()].copy_from_slice(values);
        offset += values.len();
    });
    for copy in shards.iter_mut().filter_map(|shard| shard.network.as_mut()) {
        let mut offset = 0;
        copy.each_parameter_mut(gradients, &mut |values, _| {
            values.copy_from_slice(&parameters[offset..offset + values.len()]);
            offset += values.len();
        });
    }
}

/// Values per task of [`add_in_parallel`].
const ADD_CHUNK: usize = 1 << 16;

/// `total += part`, in chunks spread over the threads (each value is one addition, so the
/// result does not depend on them).
fn add_in_parallel(total: &mut [f32], part: &[f32]) {
    total.par_chunks_mut(ADD_CHUNK).zip(part.par_chunks(ADD_CHUNK)).for_each(|(total, part)| {
        kernels::axpy(total, 1.0, part);
    });
}

pub(crate) fn forward_batch<N: Network<IN, OUT>, const IN: usize, const OUT: usize>(
    network: &N,
    workspace: &mut Workspace<N, IN, OUT>,
    inputs: &[[f32; IN]],
    outputs: &mut [[f32; OUT]],
) -> Result<(), TrainError> {
    if inputs.len() != outputs.len() {
        return Err(TrainError::BatchSizeMismatch {
            inputs: inputs.len(),
            targets: outputs.len(),
            what: "output slots",
        });
    }
    forward_in_shards(network, &mut workspace.shards, inputs, outputs);
    Ok(())
}

/// The outputs of `inputs` (as many as `outputs` holds), written to `outputs`.
fn forward_in_shards<N: Network<IN, OUT>, const IN: usize, const OUT: usize>(
    network: &N,
    shards: &mut Vec<Shard<N, IN, OUT>>,
    inputs: &[[f32; IN]],
    outputs: &mut [[f32; OUT]],
) {
    if inputs.is_empty() {
        return;
    }
    // Inference has no gradients to gather, so here the rows are split into one shard per thread
    // (whose kernels then find the other threads busy and keep their work to themselves). The
    // inputs are not copied to aligned memory as in training: the forward pass reads each input
    // once, to pack it, and the copy would cost more than it saves.
    let rows = inputs.len().div_ceil(rayon::current_num_threads()).max(INFERENCE_BLOCK_ROWS);
    let shards = Shard::first(shards, network, inputs.len().div_ceil(rows));
    shards.par_iter_mut().zip(inputs.par_chunks(rows)).zip(outputs.par_chunks_mut(rows)).for_each(
        |((shard, inputs), outputs)| {
            for (inputs, outputs) in inputs.chunks(INFERENCE_BLOCK_ROWS).zip(outputs.chunks_mut(INFERENCE_BLOCK_ROWS)) {
                outputs.copy_from_slice(network.forward_rows(&mut shard.context, &mut shard.buffers, inputs));
            }
        },
    );
}

/// Rows per pass of [`accuracy`]: their outputs are kept, so the buffer stays small.
const ACCURACY_CHUNK_ROWS: usize = 4096;

/// The fraction of `inputs` whose largest output is at the index of the label with the same
/// index (0 for none), with the rows run through the batched forward pass.
pub(crate) fn accuracy<N, L, const IN: usize, const OUT: usize>(
    network: &N,
    inputs: &[[f32; IN]],
    labels: &[L],
) -> Result<f32, TrainError>
where
    N: Network<IN, OUT>,
    L: Copy + TryInto<usize> + std::fmt::Display,
{
    check_pairs(inputs.len(), labels.len(), "labels")?;
    let labels = labels
        .iter()
        .enumerate()
        .map(|(sample, &label)| match label.try_into() {
            Ok(class) if class < OUT => Ok(class),
            _ => Err(TrainError::InvalidLabel { sample, label: label.to_string(), classes: OUT }),
        })
        .collect::<Result<Vec<usize>, _>>()?;
    let (mut shards, mut outputs) = (Vec::new(), vec![[0.0; OUT]; inputs.len().min(ACCURACY_CHUNK_ROWS)]);
    let mut correct = 0;
    for (inputs, labels) in inputs.chunks(ACCURACY_CHUNK_ROWS).zip(labels.chunks(ACCURACY_CHUNK_ROWS)) {
        let outputs = &mut outputs[..inputs.len()];
        forward_in_shards(network, &mut shards, inputs, outputs);
        correct += outputs.iter().zip(labels).filter(|(output, &label)| argmax(*output) == label).count();
    }
    Ok(if inputs.is_empty() { 0.0 } else { correct as f32 / inputs.len() as f32 })
}

/// Runs `work` on a rayon worker thread (at once if this is one), so that the kernels' parallel
/// splits inside it are forks of a worker, which a spinning sibling steals at once, rather than
/// jobs injected from outside the pool, each of which has to wake a sleeping worker and then the
/// caller (tens of microseconds on a VM, several times per step). When nothing inside will
/// `split`, the work stays on the calling thread rather than pay that hand-over twice.
fn on_worker_thread<R: Send>(split: bool, work: impl FnOnce() -> R + Send) -> R {
    if split {
        rayon::scope(|_| work())
    } else {
        work()
    }
}

/// The mean of `count` losses summing to `total` (0 for none).
fn mean(total: f64, count: usize) -> f32 {
    if count == 0 {
        0.0
    } else {
        (total / count as f64) as f32
    }
}

fn check_batch(inputs: usize, targets: usize, what: &'static str) -> Result<(), TrainError> {
    check_pairs(inputs, targets, what)?;
    if inputs == 0 {
        return Err(TrainError::EmptyBatch);
    }
    Ok(())
}

/// An error unless `inputs` and `targets` (or labels, or output slots) pair up.
pub(crate) fn check_pairs(inputs: usize, targets: usize, what: &'static str) -> Result<(), TrainError> {
    if inputs == targets {
        return Ok(());
    }
    Err(TrainError::BatchSizeMismatch { inputs, targets, what })
}

/// Refuses a step of fewer `samples` than the network's batch normalization needs.
fn check_batch_size<N: Network<IN, OUT>, const IN: usize, const OUT: usize>(samples: usize) -> Result<(), TrainError> {
    if samples < N::MIN_TRAINING_BATCH {
        return Err(TrainError::BatchTooSmall {
            samples,
            needed: N::MIN_TRAINING_BATCH,
            architecture: N::ARCHITECTURE,
        });
    }
    Ok(())
}

fn check_loss_fits<N: Network<IN, OUT>, L: Loss, const IN: usize, const OUT: usize>() -> Result<(), TrainError> {
    if N::ENDS_WITH_SOFTMAX && L::EXPECTS_LOGITS {
        return Err(TrainError::SoftmaxBeforeLogitLoss { architecture: N::ARCHITECTURE });
    }
    Ok(())
}

/// The error a refused step reports: a non-finite input (the first, numbered from
/// `first_sample`) explains a non-finite loss or update, so it is named instead.
fn explained<const IN: usize>(error: TrainError, inputs: &[[f32; IN]], first_sample: usize) -> TrainError {
    if !matches!(error, TrainError::NonFiniteLoss { .. } | TrainError::NonFiniteUpdate { .. }) {
        return error;
    }
    let checks = inputs.iter().enumerate().map(|(offset, input)| check_input(input, first_sample + offset));
    checks.filter_map(Result::err).next().unwrap_or(error)
}

/// An error naming `sample` and the first non-finite value of its `input`, if it has one.
fn check_input(input: &[f32], sample: usize) -> Result<(), TrainError> {
    if kernels::all_finite(input) {
        return Ok(());
    }
    let index = input.iter().position(|value| !value.is_finite()).expect("a non-finite value");
    Err(TrainError::NonFiniteInput { sample, index, value: input[index] })
}

/// The loss of one sample, with its gradient written to `gradient`; an error if either is not
/// finite.
fn checked_loss<L: Loss, const OUT: usize>(
    loss: &L,
    output: &[f32; OUT],
    target: &[f32; OUT],
    gradient: &mut [f32; OUT],
    sample: usize,
) -> Result<f32, TrainError> {
    let value = loss.loss_and_gradient(output, target, gradient);
    if !value.is_finite() || !gradient.iter().all(|g| g.is_finite()) {
        return Err(TrainError::NonFiniteLoss { sample, loss: value });
    }
    Ok(value)
}

/// Whether `output`'s largest value is where `target` has its largest: a correct prediction.
fn predicted<const OUT: usize>(output: &[f32; OUT], target: &[f32; OUT]) -> bool {
    argmax(output) == argmax(target)
}

/// How many rows of `outputs` are correct predictions of their `targets`.
pub(crate) fn count_predicted<const OUT: usize>(outputs: &[[f32; OUT]], targets: &[[f32; OUT]]) -> usize {
    outputs.iter().zip(targets).filter(|(output, target)| predicted(output, target)).count()
}

/// Hands the flat `gradients` to the optimizer's `prepare` (clipping), then each parameter
/// tensor and its slice of them to its `update_checked`, which keeps the tensor's values from
/// before in `snapshot`: if an update leaves a parameter NaN or infinite (an optimizer's own
/// arithmetic can overflow where the gradients did not), every tensor updated so far is put back
/// and the step is refused. The optimizer's state keeps the refused step.
fn apply_gradients<N: Network<IN, OUT>, O: Optimizer + ?Sized, const IN: usize, const OUT: usize>(
    network: &mut N,
    gradients: &mut [f32],
    optimizer: &mut O,
    snapshot: &mut AlignedBuffer,
) -> Result<(), TrainError> {
    optimizer.prepare(gradients);
    optimizer.begin_step();
    snapshot.grow(N::PARAMETERS);
    let (mut slot, mut offset, mut fault) = (0, 0, None);
    network.each_parameter_mut(gradients, &mut |parameters, gradients| {
        if fault.is_some() {
            return;
        }
        let previous = &mut snapshot[offset..offset + parameters.len()];
        if !optimizer.update_checked(slot, parameters, gradients, previous) {
            fault = Some((offset, f64::from(kernels::largest_magnitude(gradients))));
        }
        (slot, offset) = (slot + 1, offset + parameters.len());
    });
    let Some((at, largest_gradient)) = fault else {
        return Ok(());
    };
    let mut restored = 0;
    network.each_parameter_mut(gradients, &mut |parameters, _| {
        if restored <= at {
            parameters.copy_from_slice(&snapshot[restored..restored + parameters.len()]);
        }
        restored += parameters.len();
    });
    Err(TrainError::NonFiniteUpdate { sample: None, layer: layer_at(network, at), largest_gradient })
}

/// `Ok` if every gradient is finite; else the error naming the layer of the first that is not,
/// and the sample `sample` finds.
fn check_gradients<N: Network<IN, OUT>, const IN: usize, const OUT: usize>(
    network: &N,
    gradients: &[f32],
    sample: impl FnOnce() -> Option<usize>,
) -> Result<(), TrainError> {
    if kernels::all_finite(gradients) {
        return Ok(());
    }
    let at = gradients.iter().position(|g| !g.is_finite()).expect("a non-finite gradient");
    let largest_gradient = f64::from(gradients[at].abs());
    Err(TrainError::NonFiniteUpdate { sample: sample(), layer: layer_at(network, at), largest_gradient })
}

/// `Ok` if a plain SGD step of `learning_rate` on `gradients` keeps every parameter finite;
/// else the error naming the layer of the first gradient that could not, and the sample
/// `sample` finds.
fn check_gradient_step<N: Network<IN, OUT>, const IN: usize, const OUT: usize>(
    network: &N,
    gradients: &[f32],
    learning_rate: f32,
    sample: impl FnOnce() -> Option<usize>,
) -> Result<(), TrainError> {
    let largest = f64::from(kernels::largest_magnitude(gradients));
    if check_step(learning_rate, (largest, 0), None).is_ok() {
        return Ok(());
    }
    let too_large = |g: &f32| check_step(learning_rate, (f64::from(g.abs()), 0), None).is_err();
    let at = gradients.iter().position(too_large).unwrap_or(0);
    let largest_gradient = f64::from(gradients[at].abs());
    Err(TrainError::NonFiniteUpdate { sample: sample(), layer: layer_at(network, at), largest_gradient })
}

/// The position of the layer whose parameters hold value `offset` of the flat gradients.
fn layer_at<N: Network<IN, OUT>, const IN: usize, const OUT: usize>(network: &N, offset: usize) -> usize {
    let (mut start, mut layer) = (0, 0);
    network.each_tensor(None, &mut |tensor| {
        if tensor.kind == crate::layer::TensorKind::Parameter {
            if (start..start + tensor.values.len()).contains(&offset) {
                layer = tensor.name.layer;
            }
            start += tensor.values.len();
        }
    });
    layer
}

/// The row of a batch whose values bound the parameter gradients the most (a NaN or an infinity
/// first), with its bound: the sample a refused batch step names.
fn extreme_row<N: Network<IN, OUT>, const IN: usize, const OUT: usize>(
    network: &N,
    buffers: &N::BatchBuffers,
    inputs: &[[f32; IN]],
    output_gradients: &[[f32; OUT]],
) -> Option<(usize, f64)> {
    let mut extreme: Option<(usize, f64)> = None;
    for row in 0..inputs.len() {
        // `abs` makes a NaN positive, which `total_cmp` places above infinity.
        let (bound, _) = network.gradient_bound_rows(buffers, inputs, output_gradients, row..row + 1);
        if extreme.is_none_or(|(_, largest)| bound.abs().total_cmp(&largest.abs()).is_gt()) {
            extreme = Some((row, bound));
        }
    }
    extreme
}

/// `error` naming `sample` when it is a refused update.
fn with_sample(error: TrainError, sample: Option<usize>) -> TrainError {
    match error {
        TrainError::NonFiniteUpdate { layer, largest_gradient, .. } => {
            TrainError::NonFiniteUpdate { sample, layer, largest_gradient }
        }
        other => other,
    }
}
