//! The generated code against the definitions: gradients by finite differences, the two
//! forward paths, the fused SGD path, mini-batch averaging, errors, and large networks.

use nn::layers::Update;
use nn::prelude::*;

network! {
    /// Every layer kind, small enough for a finite-difference check of every parameter.
    pub struct Every {
        Linear(5, 6) -> Tanh -> Linear(6, 6) -> LeakyReLU(0.3) -> Linear(6, 5) -> Sigmoid
            -> Linear(5, 5) -> ReLU -> Linear(5, 5) -> SiLU -> Linear(5, 4) -> Softmax
    }

    /// Every 2-D layer on a small non-square image: stride 2, padding 1, a non-square kernel.
    pub struct Convolutional: [2, 7, 6] {
        Conv2d(2, 3, (3, 2), stride = 2, padding = 1) -> Tanh -> MaxPool2d(2, stride = 1)
            -> Conv2d(3, 4, 2) -> SiLU -> AvgPool2d((1, 2)) -> Flatten -> Linear(8, 3)
    }

    /// Batch normalization of an image and of features, and dropout, trained in batches.
    pub struct Normalized: [2, 5, 4] {
        Conv2d(2, 3, 3, padding = 1) -> BatchNorm2d(3) -> ReLU -> Dropout(0.3) -> Flatten -> Linear(60, 6)
            -> BatchNorm1d(6) -> Tanh -> Linear(6, 3)
    }

    /// A convolution whose patch (8 x 3 x 3 = 72 values) and positions (16 x 16) take the
    /// weight gradient through the transposed columns.
    pub struct WidePatch: [8, 16, 16] {
        Conv2d(8, 2, 3, padding = 1) -> Tanh -> AvgPool2d(4) -> Flatten -> Linear(32, 3)
    }

    /// A classifier on logits.
    pub struct Logits {
        Linear(5, 8) -> LeakyReLU -> Linear(8, 3)
    }

    /// Wide enough that a batch of 64 splits its first layer across threads (over
    /// `kernels::PARALLEL_WORK` multiply-adds), with a hidden layer that needs input gradients.
    pub struct Splittable {
        Linear(1100, 256) -> ReLU -> Linear(256, 40) -> Tanh -> Linear(40, 3)
    }
}

fn rng(seed: u64) -> nn::Pcg64Mcg {
    nn::Pcg64Mcg::seed_from_u64(seed)
}

fn sample<const N: usize>(seed: u64) -> [f32; N] {
    use nn::rand::Rng;
    let mut rng = rng(seed);
    std::array::from_fn(|_| rng.random_range(-1.0..1.0))
}

fn parameters<const I: usize, const O: usize>(net: &impl Network<I, O>) -> Vec<(String, Vec<f32>)> {
    let mut all = Vec::new();
    net.visit_tensors(&mut |tensor| all.push((tensor.name.to_string(), tensor.values.to_vec())));
    all
}

/// The workspace's gradients, per tensor, in PyTorch's layout like the values.
fn gradients<const I: usize, const O: usize, N: Network<I, O>>(net: &N, ws: &Workspace<N, I, O>) -> Vec<Vec<f32>> {
    let mut all = Vec::new();
    net.visit_gradients(ws, &mut |tensor| all.push(tensor.gradients.expect("a parameter's gradients").to_vec()));
    all
}

/// Compares back-propagated gradients of `loss(net(x), target)` with central differences in
/// every parameter.
fn check_gradients<const I: usize, const O: usize, N: Network<I, O> + Clone>(
    net: &N,
    loss: &impl Loss,
    target: [f32; O],
) {
    let input = sample::<I>(5);
    let mut net = net.clone();
    let mut ws = net.workspace();
    let mut output_gradient = [0.0; O];
    let output = *net.forward_with(&mut ws, &input);
    loss.loss_and_gradient(&output, &target, &mut output_gradient);
    net.backward(&mut ws, &output_gradient, Update::Accumulate);
    let analytic = gradients(&net, &ws);

    let loss_of = |net: &N| f64::from(loss.loss(&net.forward(&input), &target));
    let mut tensor = 0;
    let mut probe = net.clone();
    let mut checked = 0;
    net.visit_tensors(&mut |visited| {
        let (name, values) = (visited.name, visited.values);
        for index in 0..values.len() {
            let step = 1e-3;
            let mut perturbed = |delta: f32| {
                probe.visit_tensors_mut(&mut |probe_tensor| {
                    if probe_tensor.name == name {
                        probe_tensor.values[index] = values[index] + delta;
                    }
                });
                loss_of(&probe)
            };
            let numeric = ((perturbed(step) - perturbed(-step)) / (2.0 * f64::from(step))) as f32;
            perturbed(0.0);
            let expected = analytic[tensor][index];
            let tolerance = 2e-2 * numeric.abs().max(expected.abs()).max(1e-2);
            assert!(
                (numeric - expected).abs() <= tolerance,
                "{name}[{index}]: backprop {expected}, finite difference {numeric}"
            );
            checked += 1;
        }
        tensor += 1;
    });
    assert_eq!(checked, N::PARAMETERS);
}

#[test]
fn every_layer_kind_matches_finite_differences_under_mse() {
    check_gradients(&Every::new(&mut rng(1)), &Mse, [0.1, 0.2, 0.3, 0.4]);
}

#[test]
fn convolutions_and_pooling_match_finite_differences() {
    check_gradients(&Convolutional::new(&mut rng(6)), &CrossEntropy, one_hot(2));
}

#[test]
fn a_wide_patch_matches_finite_differences_and_the_mean_gradient() {
    check_gradients(&WidePatch::new(&mut rng(40)), &CrossEntropy, one_hot(1));
    let inputs: Vec<[f32; 2048]> = (0..11).map(|seed| sample::<2048>(41 + seed)).collect();
    let targets: Vec<[f32; 3]> = (0..11).map(|i| one_hot(i % 3)).collect();
    check_batch_step(&WidePatch::new(&mut rng(42)), &inputs, &targets);
}

#[test]
fn logits_match_finite_differences_under_cross_entropy() {
    check_gradients(&Logits::new(&mut rng(2)), &CrossEntropy, one_hot(1));
}

#[test]
fn forward_and_forward_with_agree() {
    let net = Every::new(&mut rng(3));
    let mut ws = net.workspace();
    let input = sample::<5>(4);
    assert_eq!(net.forward(&input), *net.forward_with(&mut ws, &input));
}

#[test]
fn constants_names_and_summary() {
    assert_eq!((Every::INPUTS, Every::OUTPUTS), (5, 4));
    assert_eq!(Every::PARAMETERS, 36 + 42 + 35 + 30 + 30 + 24);
    assert_eq!(<Every as Network<5, 4>>::PARAMETERS, Every::PARAMETERS);
    assert_eq!(
        Every::ARCHITECTURE,
        "Linear(5, 6) -> Tanh -> Linear(6, 6) -> LeakyReLU(0.3) -> Linear(6, 5) -> Sigmoid -> Linear(5, 5) -> ReLU \
         -> Linear(5, 5) -> SiLU -> Linear(5, 4) -> Softmax"
    );
    assert_eq!(Logits::ARCHITECTURE, "Linear(5, 8) -> LeakyReLU(0.01) -> Linear(8, 3)");
    let names: Vec<String> = parameters(&Logits::zeroed()).into_iter().map(|(name, _)| name).collect();
    assert_eq!(names, ["0.weight", "0.bias", "2.weight", "2.bias"]);
    assert_eq!(
        Logits::zeroed().summary(),
        "Logits (input shape [5])\n\
         #  Layer            Output shape  Parameters\n\
         0  Linear(5, 8)     [8]                   48\n\
         1  LeakyReLU(0.01)  [8]                    0\n\
         2  Linear(8, 3)     [3]                   27\n\
         Total parameters: 75"
    );
}

#[test]
fn initialisation_is_seeded_and_biases_start_at_zero() {
    assert_eq!(Logits::new(&mut rng(7)), Logits::new(&mut rng(7)));
    assert_ne!(Logits::new(&mut rng(7)), Logits::new(&mut rng(8)));
    let net = Logits::new(&mut rng(7));
    assert!(net.layer0.bias.iter().all(|&b| b == 0.0));
    // He before LeakyReLU: bound sqrt(6 / 5); Xavier for the logits: sqrt(6 / 11).
    let largest = net.layer0.weight.iter().flatten().fold(0.0f32, |m, v| m.max(v.abs()));
    assert!(largest <= (6.0f32 / 5.0).sqrt());
    assert!(net.layer2.weight.iter().flatten().all(|w| w.abs() <= (6.0f32 / 11.0).sqrt()));
}

#[test]
fn fused_sgd_step_equals_the_general_optimizer_path() {
    /// SGD without the fused fast path: the trait's general path.
    struct GeneralSgd(Sgd);
    impl Optimizer for GeneralSgd {
        fn learning_rate(&self) -> f64 {
            self.0.learning_rate()
        }

        fn set_learning_rate(&mut self, learning_rate: f64) {
            self.0.set_learning_rate(learning_rate);
        }

        fn update(&mut self, slot: usize, parameters: &mut [f32], gradients: &[f32]) {
            self.0.update(slot, parameters, gradients);
        }
    }
    let (input, target) = (sample::<5>(9), one_hot::<3>(2));
    let (mut fused, mut general) = (Logits::new(&mut rng(10)), Logits::new(&mut rng(10)));
    let (mut ws_fused, mut ws_general) = (fused.workspace(), general.workspace());
    for _ in 0..3 {
        let a = fused.train_step(&mut ws_fused, &input, &target, &CrossEntropy, &mut Sgd::new(0.1)).unwrap();
        let b = general
            .train_step(&mut ws_general, &input, &target, &CrossEntropy, &mut GeneralSgd(Sgd::new(0.1)))
            .unwrap();
        assert_eq!(a, b);
    }
    for ((_, a), (_, b)) in parameters(&fused).iter().zip(parameters(&general)) {
        for (x, y) in a.iter().zip(&b) {
            assert!((x - y).abs() < 1e-6, "{x} vs {y}");
        }
    }
}

fn assert_parameters_close<const I: usize, const O: usize>(a: &impl Network<I, O>, b: &impl Network<I, O>) {
    for ((name, a), (_, b)) in parameters(a).iter().zip(parameters(b)) {
        for (x, y) in a.iter().zip(&b) {
            assert!((x - y).abs() <= 1e-5 * x.abs().max(1.0), "{name}: {x} vs {y}");
        }
    }
}

#[test]
fn train_samples_equals_one_step_after_another() {
    let inputs: Vec<[f32; 5]> = (0..40).map(|seed| sample::<5>(300 + seed)).collect();
    let targets: Vec<[f32; 4]> = (0..40).map(|i| one_hot(i % 4)).collect();
    let start = Every::new(&mut rng(32));

    let mut stepped = start.clone();
    let mut ws = stepped.workspace();
    let mut total = 0.0;
    for (input, target) in inputs.iter().zip(&targets) {
        total += stepped.train_step(&mut ws, input, target, &Mse, &mut Sgd::new(0.2)).unwrap();
    }

    let mut sequence = start.clone();
    let mut ws = sequence.workspace();
    let mean = sequence.train_samples(&mut ws, inputs.iter().zip(&targets), &Mse, &mut Sgd::new(0.2)).unwrap();
    // The same SGD, with the first layer's updates applied in batches: equal up to rounding.
    assert_parameters_close(&sequence, &stepped);
    assert!((mean - total / 40.0).abs() < 1e-6);
    assert_eq!(sequence.train_samples(&mut ws, std::iter::empty(), &Mse, &mut Sgd::new(0.2)), Ok(0.0));
}

#[test]
fn train_samples_stops_at_a_non_finite_loss() {
    let inputs: Vec<[f32; 5]> = (0..10).map(|seed| sample::<5>(400 + seed)).collect();
    let mut targets: Vec<[f32; 3]> = (0..10).map(|i| one_hot(i % 3)).collect();
    targets[6][1] = f32::INFINITY;
    let mut expected = Logits::new(&mut rng(33));
    let mut net = expected.clone();
    let mut ws = expected.workspace();
    for (input, target) in inputs.iter().zip(&targets).take(6) {
        expected.train_step(&mut ws, input, target, &CrossEntropy, &mut Sgd::new(0.1)).unwrap();
    }
    let error = net.train_samples(&mut ws, inputs.iter().zip(&targets), &CrossEntropy, &mut Sgd::new(0.1)).unwrap_err();
    assert!(matches!(error, TrainError::NonFiniteLoss { sample: 6, .. }), "{error:?}");
    // Trained on the six samples before (their deferred updates applied), untouched by the seventh.
    assert_parameters_close(&net, &expected);
    assert_ne!(net, Logits::new(&mut rng(33)));
}

/// Checks that one `train_batch` with SGD moves `start` by the mean of the single-sample
/// gradients, and returns the mean loss.
fn check_batch_step<const I: usize, const O: usize, N: Network<I, O> + Clone>(
    start: &N,
    inputs: &[[f32; I]],
    targets: &[[f32; O]],
) {
    let mut batched = start.clone();
    let mut ws = batched.workspace();
    let mean_loss = batched.train_batch(&mut ws, inputs, targets, &CrossEntropy, &mut Sgd::new(0.3)).unwrap();

    let mut reference = start.clone();
    let mut ws = reference.workspace();
    let mut sum: Vec<Vec<f32>> = vec![];
    let mut losses = 0.0;
    for (input, target) in inputs.iter().zip(targets) {
        let mut probe = start.clone();
        let mut gradient = [0.0; O];
        let output = *probe.forward_with(&mut ws, input);
        losses += CrossEntropy.loss_and_gradient(&output, target, &mut gradient);
        ws.gradients_mut().fill(0.0);
        probe.backward(&mut ws, &gradient, Update::Accumulate);
        let sample_gradients = gradients(&probe, &ws);
        if sum.is_empty() {
            sum = sample_gradients;
        } else {
            for (total, g) in sum.iter_mut().zip(sample_gradients) {
                total.iter_mut().zip(g).for_each(|(t, g)| *t += g);
            }
        }
    }
    let (mut slot, count) = (0, inputs.len() as f32);
    reference.visit_tensors_mut(&mut |tensor| {
        for (value, total) in tensor.values.iter_mut().zip(&sum[slot]) {
            *value -= 0.3 * total / count;
        }
        slot += 1;
    });
    assert!((mean_loss - losses / count).abs() < 1e-6);
    for ((name, a), (_, b)) in parameters(&batched).iter().zip(parameters(&reference)) {
        for (x, y) in a.iter().zip(&b) {
            assert!((x - y).abs() < 1e-6, "{name}: {x} vs {y}");
        }
    }
}

#[test]
fn a_batch_step_applies_the_mean_gradient() {
    let inputs = [sample::<5>(11), sample::<5>(12), sample::<5>(13)];
    let targets = [one_hot::<3>(0), one_hot(1), one_hot(2)];
    check_batch_step(&Logits::new(&mut rng(14)), &inputs, &targets);
}

#[test]
fn a_convolutional_batch_step_applies_the_mean_gradient() {
    let inputs: Vec<[f32; 84]> = (0..5).map(|seed| sample::<84>(15 + seed)).collect();
    let targets: Vec<[f32; 3]> = (0..5).map(|i| one_hot(i % 3)).collect();
    check_batch_step(&Convolutional::new(&mut rng(16)), &inputs, &targets);
}

#[test]
fn a_batch_step_in_whole_network_shards_applies_the_mean_gradient() {
    // 96 rows of a convolution-heavy network: two shards of 48, each running the whole network.
    let inputs: Vec<[f32; 144]> = (0..96).map(|seed| sample::<144>(600 + seed)).collect();
    let targets: Vec<[f32; 3]> = (0..96).map(|i| one_hot(i % 3)).collect();
    check_batch_step(&SplittableCnn::new(&mut rng(41)), &inputs, &targets);
}

#[test]
fn a_nan_in_a_later_shard_is_named_and_leaves_the_parameters_alone() {
    let mut net = SplittableCnn::new(&mut rng(43));
    let before = net.clone();
    let mut ws = net.workspace();
    let inputs: Vec<[f32; 144]> = (0..64).map(|seed| sample::<144>(800 + seed)).collect();
    let mut targets: Vec<[f32; 3]> = (0..64).map(|i| one_hot(i % 3)).collect();
    targets[45][2] = f32::NAN;
    targets[50][0] = f32::INFINITY;
    let error = net.train_batch(&mut ws, &inputs, &targets, &CrossEntropy, &mut Sgd::new(0.1)).unwrap_err();
    assert!(matches!(error, TrainError::NonFiniteLoss { sample: 45, .. }), "{error:?}");
    assert_eq!(net, before);
    // The workspace still trains afterwards, from the same parameters.
    targets[45] = one_hot(0);
    targets[50] = one_hot(2);
    net.train_batch(&mut ws, &inputs, &targets, &CrossEntropy, &mut Sgd::new(0.1)).unwrap();
    assert_ne!(net, before);
}

#[test]
fn convolutional_batched_forward_equals_forward_on_every_row() {
    let net = Convolutional::new(&mut rng(31));
    let mut ws = net.workspace();
    let inputs: Vec<[f32; 84]> = (0..37).map(|seed| sample::<84>(500 + seed)).collect();
    let mut outputs = vec![[0.0; 3]; inputs.len()];
    net.forward_batch(&mut ws, &inputs, &mut outputs).unwrap();
    for (input, output) in inputs.iter().zip(&outputs) {
        for (a, b) in output.iter().zip(net.forward(input)) {
            assert!((a - b).abs() < 1e-5, "{a} vs {b}");
        }
    }
}

#[test]
fn convolutional_train_samples_equals_one_step_after_another() {
    let inputs: Vec<[f32; 84]> = (0..20).map(|seed| sample::<84>(600 + seed)).collect();
    let targets: Vec<[f32; 3]> = (0..20).map(|i| one_hot(i % 3)).collect();
    let start = Convolutional::new(&mut rng(34));
    let mut stepped = start.clone();
    let mut ws = stepped.workspace();
    for (input, target) in inputs.iter().zip(&targets) {
        stepped.train_step(&mut ws, input, target, &CrossEntropy, &mut Sgd::new(0.1)).unwrap();
    }
    let mut sequence = start.clone();
    let mut ws = sequence.workspace();
    sequence.train_samples(&mut ws, inputs.iter().zip(&targets), &CrossEntropy, &mut Sgd::new(0.1)).unwrap();
    assert_eq!(parameters(&sequence), parameters(&stepped), "no deferred first layer: the same steps");
}

#[test]
fn batched_forward_equals_forward_on_every_row() {
    let net = Every::new(&mut rng(30));
    let mut ws = net.workspace();
    let inputs: Vec<[f32; 5]> = (0..37).map(|seed| sample::<5>(100 + seed)).collect();
    let mut outputs = vec![[0.0; 4]; inputs.len()];
    net.forward_batch(&mut ws, &inputs, &mut outputs).unwrap();
    for (input, output) in inputs.iter().zip(&outputs) {
        for (a, b) in output.iter().zip(net.forward(input)) {
            assert!((a - b).abs() < 1e-6, "{a} vs {b}");
        }
    }
    let error = net.forward_batch(&mut ws, &inputs, &mut outputs[..3]).unwrap_err();
    assert!(error.to_string().contains("37 inputs but 3 output slots"), "{error}");
}

#[test]
fn accuracy_needs_one_label_per_input() {
    let net = Logits::new(&mut rng(41));
    let inputs = [sample::<5>(1), sample::<5>(2)];
    let predicted = [net.predict(&inputs[0]) as u8, net.predict(&inputs[1]) as u8];
    assert_eq!(net.accuracy(&inputs, &predicted), Ok(1.0));
    let wrong = if predicted[1] == 0 { 1 } else { 0 };
    assert_eq!(net.accuracy(&inputs, &[predicted[0], wrong]), Ok(0.5));
    assert_eq!(net.accuracy(&[], &[] as &[u8]), Ok(0.0));
    let error = net.accuracy(&inputs, &predicted[..1]).unwrap_err();
    assert_eq!(error.to_string(), "the batch has 2 inputs but 1 labels; they must pair up one to one");
}

#[test]
fn accuracy_counts_every_row_across_its_passes_and_shards() {
    let net = Logits::new(&mut rng(43));
    // More rows than one pass of `accuracy` (4,096), so the rows go in two passes of shards.
    let inputs: Vec<[f32; 5]> = (0..4_133).map(|seed| sample::<5>(1_000 + seed)).collect();
    let predicted: Vec<u8> = inputs.iter().map(|input| net.predict(input) as u8).collect();
    assert_eq!(net.accuracy(&inputs, &predicted), Ok(1.0));
    // Every seventh label wrong, the last row's included: 591 of 4,133.
    let labels: Vec<u8> = predicted
        .iter()
        .enumerate()
        .map(|(row, &label)| if (row + 1) % 7 == 0 || row == 4_132 { (label + 1) % 3 } else { label })
        .collect();
    assert_eq!(net.accuracy(&inputs, &labels), Ok((4_133 - 591) as f32 / 4_133.0));
}

/// Every tensor of a network by name, and the outputs of a batch.
type Outcome<const O: usize> = (Vec<(String, Vec<f32>)>, Vec<[f32; O]>);

/// Trains a fresh `N` on batches of 64, 64, 17 and 64 rows and runs batched inference, on a
/// pool of `threads` threads: its parameters and outputs.
fn train_on_threads<const I: usize, const O: usize, N: Network<I, O>>(
    threads: usize,
    seed: u64,
    inputs: &[[f32; I]],
    targets: &[[f32; O]],
) -> Outcome<O> {
    let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
    pool.install(|| {
        let mut net = N::new(&mut rng(seed));
        let mut ws = net.workspace();
        for batch in [64, 64, 17, 64] {
            net.train_batch(&mut ws, &inputs[..batch], &targets[..batch], &CrossEntropy, &mut Sgd::new(0.1)).unwrap();
        }
        let mut outputs = vec![[0.0; O]; inputs.len()];
        net.forward_batch(&mut ws, inputs, &mut outputs).unwrap();
        (parameters(&net), outputs)
    })
}

#[test]
fn batch_steps_give_the_same_bits_on_any_number_of_threads() {
    let inputs: Vec<[f32; 1100]> = (0..64).map(|seed| sample::<1100>(200 + seed)).collect();
    const { assert!(64 * 1100 * 256 >= nn::__private::kernels::PARALLEL_WORK, "the first layer splits") };
    let targets: Vec<[f32; 3]> = (0..64).map(|i| one_hot(i % 3)).collect();
    let one = train_on_threads::<1100, 3, Splittable>(1, 31, &inputs, &targets);
    assert_eq!(train_on_threads::<1100, 3, Splittable>(1, 31, &inputs, &targets), one, "one thread: run to run");
    for threads in [2, 3] {
        assert!(train_on_threads::<1100, 3, Splittable>(threads, 31, &inputs, &targets) == one, "{threads} threads");
    }
}

network! {
    /// Its second convolution's batch passes spread over the threads (2^21 multiply-adds at 64
    /// rows), in tasks whose partial gradients are added in a fixed order.
    struct SplittableCnn: [1, 12, 12] {
        Conv2d(1, 8, 3) -> ReLU -> Conv2d(8, 8, 3, padding = 1) -> MaxPool2d(2) -> Flatten -> Linear(200, 3)
    }
}

#[test]
fn convolutional_batch_steps_give_the_same_bits_on_any_number_of_threads() {
    let inputs: Vec<[f32; 144]> = (0..64).map(|seed| sample::<144>(900 + seed)).collect();
    let targets: Vec<[f32; 3]> = (0..64).map(|i| one_hot(i % 3)).collect();
    let one = train_on_threads::<144, 3, SplittableCnn>(1, 39, &inputs, &targets);
    for threads in [2, 3] {
        assert!(train_on_threads::<144, 3, SplittableCnn>(threads, 39, &inputs, &targets) == one, "{threads} threads");
    }
}

network! {
    /// Each convolution applies the ReLU after it itself (`FusedReLU`), the first without an
    /// input gradient to write; large enough that the second splits over the threads.
    struct FusedCnn: [2, 9, 8] {
        Conv2d(2, 4, 3, padding = 1) -> ReLU -> Conv2d(4, 64, 3, stride = 2) -> ReLU -> Flatten -> Linear(768, 3)
    }

    /// `FusedCnn` with the ReLUs as leaky rectifiers of slope 0: the same values, unfused.
    struct UnfusedCnn: [2, 9, 8] {
        Conv2d(2, 4, 3, padding = 1) -> LeakyReLU(0.0) -> Conv2d(4, 64, 3, stride = 2) -> LeakyReLU(0.0) -> Flatten
            -> Linear(768, 3)
    }

    /// A fused ReLU as the network's output.
    struct FusedLast: [1, 5, 4] {
        Conv2d(1, 1, 1) -> Tanh -> Conv2d(1, 2, 3) -> ReLU
    }

    /// `FusedLast`, unfused.
    struct UnfusedLast: [1, 5, 4] {
        Conv2d(1, 1, 1) -> Tanh -> Conv2d(1, 2, 3) -> LeakyReLU(0.0)
    }

    /// Each convolution applies the ReLU and the max pooling after it (`FusedReLUMaxPool`),
    /// the second over the threads, its pooling's windows not square.
    struct FusedPoolCnn: [2, 12, 12] {
        Conv2d(2, 4, 3, padding = 1) -> ReLU -> MaxPool2d(2) -> Conv2d(4, 64, 3) -> ReLU -> MaxPool2d((1, 2))
            -> Flatten -> Linear(512, 3)
    }

    /// `FusedPoolCnn`, unfused.
    struct UnfusedPoolCnn: [2, 12, 12] {
        Conv2d(2, 4, 3, padding = 1) -> LeakyReLU(0.0) -> MaxPool2d(2) -> Conv2d(4, 64, 3) -> LeakyReLU(0.0)
            -> MaxPool2d((1, 2)) -> Flatten -> Linear(512, 3)
    }

    /// A fused max pooling as the network's output.
    struct FusedPoolLast: [1, 5, 4] {
        Conv2d(1, 1, 1) -> Tanh -> Conv2d(1, 2, 3) -> ReLU -> MaxPool2d((1, 2))
    }

    /// `FusedPoolLast`, unfused.
    struct UnfusedPoolLast: [1, 5, 4] {
        Conv2d(1, 1, 1) -> Tanh -> Conv2d(1, 2, 3) -> LeakyReLU(0.0) -> MaxPool2d((1, 2))
    }
}

/// Trains a copy of `net` and of its unfused twin `twin` in every way a network trains (single
/// steps, per-sample SGD, batches with SGD and with Adam, on two threads) and asserts that
/// both end with the same bits in every parameter and output.
fn assert_trains_like_unfused<const I: usize, const O: usize, F: Network<I, O>, U: Network<I, O>>(seed: u64) {
    let pool = rayon::ThreadPoolBuilder::new().num_threads(2).build().unwrap();
    pool.install(|| {
        let mut fused = F::new(&mut rng(seed));
        let mut unfused = U::zeroed();
        let values = parameters(&fused);
        unfused.visit_tensors_mut(&mut |tensor| {
            let (_, source) = values.iter().find(|(name, _)| *name == tensor.name.to_string()).unwrap();
            tensor.values.copy_from_slice(source);
        });
        let inputs: Vec<[f32; I]> = (0..64).map(|row| sample::<I>(seed + 100 + row)).collect();
        let targets: Vec<[f32; O]> = (0..64).map(|row| sample::<O>(seed + 200 + row).map(f32::abs)).collect();
        let (mut fused_ws, mut unfused_ws) = (fused.workspace(), unfused.workspace());
        let (mut fused_adam, mut unfused_adam) = (Adam::new(1e-3), Adam::new(1e-3));
        fused.train_step(&mut fused_ws, &inputs[0], &targets[0], &Mse, &mut Sgd::new(0.01)).unwrap();
        unfused.train_step(&mut unfused_ws, &inputs[0], &targets[0], &Mse, &mut Sgd::new(0.01)).unwrap();
        fused.train_samples(&mut fused_ws, inputs.iter().zip(&targets), &Mse, &mut Sgd::new(0.005)).unwrap();
        unfused.train_samples(&mut unfused_ws, inputs.iter().zip(&targets), &Mse, &mut Sgd::new(0.005)).unwrap();
        for rows in [64, 17] {
            fused.train_batch(&mut fused_ws, &inputs[..rows], &targets[..rows], &Mse, &mut Sgd::new(0.01)).unwrap();
            unfused.train_batch(&mut unfused_ws, &inputs[..rows], &targets[..rows], &Mse, &mut Sgd::new(0.01)).unwrap();
            fused.train_batch(&mut fused_ws, &inputs[..rows], &targets[..rows], &Mse, &mut fused_adam).unwrap();
            unfused.train_batch(&mut unfused_ws, &inputs[..rows], &targets[..rows], &Mse, &mut unfused_adam).unwrap();
        }
        assert_eq!(parameters(&fused), parameters(&unfused));
        assert_ne!(parameters(&fused), values, "trained");
        let (mut fused_outputs, mut unfused_outputs) = (vec![[0.0; O]; 64], vec![[0.0; O]; 64]);
        fused.forward_batch(&mut fused_ws, &inputs, &mut fused_outputs).unwrap();
        unfused.forward_batch(&mut unfused_ws, &inputs, &mut unfused_outputs).unwrap();
        assert_eq!(fused_outputs, unfused_outputs);
        assert_eq!(fused.forward(&inputs[3]), unfused.forward(&inputs[3]));
    });
}

#[test]
fn a_convolution_applying_the_relu_after_it_trains_bit_for_bit_like_the_two_layers_apart() {
    assert_trains_like_unfused::<144, 3, FusedCnn, UnfusedCnn>(41);
    assert_trains_like_unfused::<20, 12, FusedLast, UnfusedLast>(42);
}

#[test]
fn a_convolution_applying_the_relu_and_max_pooling_after_it_trains_bit_for_bit_like_the_layers_apart() {
    // The second convolution's 64 rows x 64 x 36 x 16 multiply-adds are past the 2^21 from
    // which a convolution's batch passes split over the threads.
    assert_trains_like_unfused::<288, 3, FusedPoolCnn, UnfusedPoolCnn>(43);
    assert_trains_like_unfused::<20, 6, FusedPoolLast, UnfusedPoolLast>(44);
}

#[test]
fn nan_input_is_an_error_and_leaves_the_parameters_alone() {
    let mut net = Logits::new(&mut rng(15));
    let before = net.clone();
    let mut ws = net.workspace();
    let mut input = sample::<5>(16);
    input[2] = f32::NAN;
    let error = net.train_step(&mut ws, &input, &one_hot(0), &CrossEntropy, &mut Sgd::new(0.1)).unwrap_err();
    assert!(matches!(error, TrainError::NonFiniteInput { sample: 0, index: 2, .. }), "{error:?}");
    assert_eq!(
        error.to_string(),
        "input 2 of sample 0 in this step is NaN, not a finite number; the parameters were not updated"
    );
    let batch = [sample::<5>(17), input];
    let error =
        net.train_batch(&mut ws, &batch, &[one_hot(0), one_hot(1)], &CrossEntropy, &mut Sgd::new(0.1)).unwrap_err();
    assert!(matches!(error, TrainError::NonFiniteInput { sample: 1, .. }), "{error:?}");
    // A NaN target makes the loss NaN: refused too, naming the sample.
    let error = net
        .train_batch(&mut ws, &[sample::<5>(17); 2], &[one_hot(0), [f32::NAN; 3]], &CrossEntropy, &mut Sgd::new(0.1))
        .unwrap_err();
    assert!(matches!(error, TrainError::NonFiniteLoss { sample: 1, .. }), "{error:?}");
    assert!(error.to_string().contains("not a finite number; the parameters were not updated"), "{error}");
    assert_eq!(net, before);
}

network! {
    /// Saturating activations: an infinite input has a derivative of exactly 0 behind it.
    struct Saturating {
        Linear(5, 4) -> Sigmoid -> Linear(4, 3) -> Tanh
    }
}

#[test]
fn an_infinite_input_is_refused_on_every_path_and_changes_nothing() {
    let mut net = Saturating::new(&mut rng(50));
    let before = net.clone();
    let mut ws = net.workspace();
    let mut bad = sample::<5>(51);
    bad[3] = f32::INFINITY;
    let good: Vec<[f32; 5]> = (0..40).map(|seed| sample::<5>(60 + seed)).collect();
    let targets: Vec<[f32; 3]> = (0..40).map(|i| one_hot(i % 3)).collect();
    let refused = |error: TrainError, sample: usize| {
        assert!(matches!(error, TrainError::NonFiniteInput { sample: s, index: 3, .. } if s == sample), "{error:?}");
    };
    // One sample, with plain SGD (fused update) and with an optimizer that takes gradients.
    refused(net.train_step(&mut ws, &bad, &targets[0], &Mse, &mut Sgd::new(0.1)).unwrap_err(), 0);
    refused(net.train_step(&mut ws, &bad, &targets[0], &Mse, &mut Halving(0.1)).unwrap_err(), 0);
    // A batch, whether the bad row is first or last.
    for at in [0, 39] {
        let mut inputs = good.clone();
        inputs[at] = bad;
        refused(net.train_batch(&mut ws, &inputs, &targets, &Mse, &mut Sgd::new(0.1)).unwrap_err(), at);
    }
    assert_eq!(net, before);
    // A sequence: the samples before the bad one are trained on, then it is named.
    let mut inputs = good.clone();
    inputs[21] = bad;
    let mut trained = before.clone();
    let mut reference_ws = trained.workspace();
    trained.train_samples(&mut reference_ws, inputs[..21].iter().zip(&targets), &Mse, &mut Sgd::new(0.1)).unwrap();
    refused(net.train_samples(&mut ws, inputs.iter().zip(&targets), &Mse, &mut Sgd::new(0.1)).unwrap_err(), 21);
    assert_eq!(net, trained);
    let mut stepwise = before.clone();
    refused(stepwise.train_samples(&mut ws, inputs.iter().zip(&targets), &Mse, &mut Halving(0.1)).unwrap_err(), 21);
    assert!(parameters(&stepwise).iter().all(|(_, values)| values.iter().all(|v| v.is_finite())));
}

/// Gradient descent through the `Optimizer` trait, so steps take the path that stores gradients.
struct Halving(f32);

impl Optimizer for Halving {
    fn learning_rate(&self) -> f64 {
        self.0.into()
    }

    fn set_learning_rate(&mut self, learning_rate: f64) {
        self.0 = learning_rate as f32;
    }

    fn update(&mut self, _slot: usize, parameters: &mut [f32], gradients: &[f32]) {
        parameters.iter_mut().zip(gradients).for_each(|(p, g)| *p -= self.0 * g);
    }
}

#[test]
fn a_negative_or_non_finite_learning_rate_is_refused() {
    let mut net = Saturating::new(&mut rng(52));
    let before = net.clone();
    let mut ws = net.workspace();
    for learning_rate in [-0.1, f32::NAN, f32::INFINITY] {
        // Set after construction, which refuses it.
        let mut sgd = Sgd::new(0.1);
        sgd.learning_rate = learning_rate;
        let error = net.train_step(&mut ws, &sample::<5>(1), &one_hot(0), &Mse, &mut sgd).unwrap_err();
        assert!(matches!(error, TrainError::InvalidHyperParameter(_)), "{error:?}");
        let error = net.train_batch(&mut ws, &[sample::<5>(1)], &[one_hot(0)], &Mse, &mut sgd).unwrap_err();
        assert!(error.to_string().contains("Sgd: the learning rate is"), "{error}");
        assert!(error.to_string().ends_with("it must be a finite number of at least 0"), "{error}");
    }
    assert_eq!(net, before);
}

#[test]
fn mismatched_or_empty_batches_are_errors() {
    let mut net = Logits::new(&mut rng(18));
    let mut ws = net.workspace();
    let error = net.train_batch(&mut ws, &[sample::<5>(1); 2], &[one_hot(0)], &Mse, &mut Sgd::new(0.1)).unwrap_err();
    assert_eq!(error, TrainError::BatchSizeMismatch { inputs: 2, targets: 1, what: "targets" });
    let error = net.train_batch(&mut ws, &[], &[], &Mse, &mut Sgd::new(0.1)).unwrap_err();
    assert_eq!(error, TrainError::EmptyBatch);
}

#[test]
fn cross_entropy_after_softmax_is_refused() {
    let mut net = Every::new(&mut rng(19));
    let mut ws = net.workspace();
    let error = net.train_step(&mut ws, &sample(1), &one_hot(0), &CrossEntropy, &mut Sgd::new(0.1)).unwrap_err();
    assert!(error.to_string().contains("already ends with Softmax"), "{error}");
}

network! {
    /// 16.8 million parameters: far more than any thread's stack.
    struct Wide {
        Linear(4096, 4096) -> ReLU -> Linear(4096, 10)
    }
}

#[test]
fn a_4096_wide_network_trains_on_a_256_kib_stack() {
    let handle = std::thread::Builder::new()
        .stack_size(256 * 1024)
        .spawn(|| {
            let mut net = Wide::new(&mut rng(20));
            let mut ws = net.workspace();
            let input = [0.5; 4096];
            let before = net.forward(&input);
            net.train_step(&mut ws, &input, &one_hot(3), &CrossEntropy, &mut Sgd::new(0.01)).unwrap();
            (before, net.forward(&input))
        })
        .unwrap();
    let (before, after) = handle.join().expect("no stack overflow");
    let probability = |logits: [f32; 10]| {
        let mut probabilities = [0.0; 10];
        nn::__private::kernels::softmax(&logits, &mut probabilities);
        probabilities[3]
    };
    assert!(probability(after) > probability(before), "the step made class 3 less likely: {before:?} -> {after:?}");
}

network! {
    /// Hidden activations of 25,600 values (100 KB each): they must not live on the stack.
    struct Tall {
        Linear(16, 25_600) -> ReLU -> Linear(25_600, 10)
    }
}

/// Every inference and training call of a fresh `N` on a thread with a 256 KiB stack, in a
/// debug build: nothing large may live on the stack. Checks that `forward` reuses the thread's
/// buffers, that the steps move the parameters, and that `predict` agrees with `forward`.
fn every_call_on_a_256_kib_stack<const I: usize, N: Network<I, 10> + 'static>(seed: u64) {
    let handle = std::thread::Builder::new()
        .stack_size(256 * 1024)
        .spawn(move || {
            let mut net = N::new(&mut rng(seed));
            let mut ws = net.workspace();
            let inputs = [sample::<I>(seed + 1), sample::<I>(seed + 2)];
            let targets = [one_hot(3), one_hot(4)];
            let before = net.forward(&inputs[0]);
            assert_eq!(net.forward(&inputs[0]), before, "the thread's buffers are reused");
            net.train_step(&mut ws, &inputs[0], &targets[0], &CrossEntropy, &mut Sgd::new(0.01)).unwrap();
            net.train_samples(&mut ws, inputs.iter().zip(&targets), &CrossEntropy, &mut Sgd::new(0.01)).unwrap();
            net.train_batch(&mut ws, &inputs, &targets, &CrossEntropy, &mut Sgd::new(0.01)).unwrap();
            let mut outputs = [[0.0; 10]; 2];
            net.forward_batch(&mut ws, &inputs, &mut outputs).unwrap();
            assert_ne!(net.forward(&inputs[0]), before, "the steps moved the parameters");
            (net.predict(&inputs[1]), net.forward(&inputs[1]))
        })
        .unwrap();
    let (predicted, output) = handle.join().expect("no stack overflow");
    assert_eq!(predicted, argmax(&output));
}

#[test]
fn a_network_with_100_kb_activations_infers_and_trains_on_a_256_kib_stack() {
    every_call_on_a_256_kib_stack::<16, Tall>(21);
}

network! {
    /// 32 x 26 x 26 activations (86 KB) after the convolution.
    struct WideImage: [1, 28, 28] {
        Conv2d(1, 32, 3) -> ReLU -> Flatten -> Linear(32 * 26 * 26, 10)
    }
}

#[test]
fn a_cnn_with_32_x_26_x_26_activations_infers_and_trains_on_a_256_kib_stack() {
    every_call_on_a_256_kib_stack::<784, WideImage>(24);
}

/// The mean cross-entropy of a batch in train mode, with the dropout masks of `seed`, without
/// touching the network (its running statistics move only in a backward pass).
fn train_mode_loss<const I: usize, const O: usize, N: Network<I, O>>(
    net: &N,
    inputs: &[[f32; I]],
    targets: &[[f32; O]],
    seed: u64,
) -> f64 {
    let mut context = nn::layers::Context::new(nn::layers::Mode::Train, seed);
    let mut buffers = nn::__private::Sequential::batch_buffers(net);
    let outputs = nn::__private::Sequential::forward_rows(net, &mut context, &mut buffers, inputs);
    let losses = outputs.iter().zip(targets).map(|(output, target)| f64::from(CrossEntropy.loss(output, target)));
    losses.sum::<f64>() / inputs.len() as f64
}

#[test]
fn batch_normalization_and_dropout_match_finite_differences_over_a_batch() {
    let inputs: Vec<[f32; 40]> = (0..5).map(|seed| sample::<40>(700 + seed)).collect();
    let targets: Vec<[f32; 3]> = (0..5).map(|i| one_hot(i % 3)).collect();
    let net = Normalized::new(&mut rng(35));
    // The analytic gradients of the same batch loss, through the batch passes.
    let mut probe = net.clone();
    let mut context = nn::layers::Context::new(nn::layers::Mode::Train, 9);
    let mut buffers = nn::__private::Sequential::batch_buffers(&probe);
    let outputs = nn::__private::Sequential::forward_rows(&probe, &mut context, &mut buffers, &inputs).to_vec();
    let output_gradients: Vec<[f32; 3]> = outputs
        .iter()
        .zip(&targets)
        .map(|(output, target)| {
            let mut gradient = [0.0; 3];
            CrossEntropy.loss_and_gradient(output, target, &mut gradient);
            gradient.map(|g| g / inputs.len() as f32)
        })
        .collect();
    let mut gradients = vec![0.0; Normalized::PARAMETERS];
    nn::__private::Sequential::backward_rows(
        &mut probe,
        &mut context,
        &mut buffers,
        &inputs,
        &output_gradients,
        &mut gradients,
        Update::Accumulate,
    );
    let mut analytic = Vec::new();
    nn::__private::Sequential::each_tensor(&net, Some(&gradients), &mut |tensor| {
        if let Some(gradients) = tensor.gradients {
            analytic.push((tensor.name, gradients.to_vec()));
        }
    });
    let mut checked = 0;
    for (name, expected) in analytic {
        for (index, expected) in expected.into_iter().enumerate() {
            let perturbed = |delta: f32| {
                let mut probe = net.clone();
                probe.visit_tensors_mut(&mut |tensor| {
                    if tensor.name == name {
                        tensor.values[index] += delta;
                    }
                });
                train_mode_loss(&probe, &inputs, &targets, 9)
            };
            let step = 1e-3;
            let numeric = ((perturbed(step) - perturbed(-step)) / (2.0 * f64::from(step))) as f32;
            let tolerance = 2e-2 * numeric.abs().max(expected.abs()).max(1e-2);
            assert!(
                (numeric - expected).abs() <= tolerance,
                "{name}[{index}]: backprop {expected}, finite difference {numeric}"
            );
            checked += 1;
        }
    }
    assert_eq!(checked, Normalized::PARAMETERS);
}

#[test]
fn batch_normalization_of_single_values_refuses_single_sample_steps() {
    let mut net = Normalized::new(&mut rng(36));
    let before = net.clone();
    let mut ws = net.workspace();
    let (input, target) = (sample::<40>(37), one_hot::<3>(1));
    let error = net.train_step(&mut ws, &input, &target, &CrossEntropy, &mut Sgd::new(0.1)).unwrap_err();
    assert!(matches!(error, TrainError::BatchTooSmall { samples: 1, needed: 2, .. }), "{error:?}");
    assert!(error.to_string().contains("needs at least 2 samples per step in train mode"), "{error}");
    let error = net.train_samples(&mut ws, [(&input, &target)], &CrossEntropy, &mut Sgd::new(0.1)).unwrap_err();
    assert!(matches!(error, TrainError::BatchTooSmall { .. }), "{error:?}");
    let error = net.train_batch(&mut ws, &[input], &[target], &CrossEntropy, &mut Sgd::new(0.1)).unwrap_err();
    assert!(matches!(error, TrainError::BatchTooSmall { .. }), "{error:?}");
    assert_eq!(net, before);
    assert_eq!(Normalized::MIN_TRAINING_BATCH, 2);
    assert_eq!(Convolutional::MIN_TRAINING_BATCH, 1);
}

#[test]
fn running_statistics_move_in_training_and_survive_save_and_load() {
    let inputs: Vec<[f32; 40]> = (0..8).map(|seed| sample::<40>(800 + seed)).collect();
    let targets: Vec<[f32; 3]> = (0..8).map(|i| one_hot(i % 3)).collect();
    let mut net = Normalized::new(&mut rng(38));
    let mut ws = net.workspace();
    for _ in 0..3 {
        net.train_batch(&mut ws, &inputs, &targets, &CrossEntropy, &mut Sgd::new(0.1)).unwrap();
    }
    assert_eq!(net.layer1.num_batches_tracked, [3.0]);
    assert!(net.layer6.running_mean.iter().any(|&mean| mean != 0.0));
    let path = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("normalized.model");
    net.save(&path).unwrap();
    let loaded = Normalized::load(&path).unwrap();
    assert_eq!(loaded, net);
    assert_eq!(loaded.predict(&inputs[0]), net.predict(&inputs[0]));
}

/// An input with a finite value so large (`value`) that one step of learning rate 0.1 would
/// move a weight by 1e28 or more, on the way to infinity: a step refuses it before any layer
/// changes.
fn extreme<const N: usize>(seed: u64, value: f32) -> [f32; N] {
    let mut input = sample::<N>(seed);
    input[N / 2] = value;
    input
}

#[test]
fn an_update_too_large_for_f32_is_refused_on_every_path_and_changes_nothing() {
    let mut net = Logits::new(&mut rng(70));
    let before = net.clone();
    let mut ws = net.workspace();
    let good: Vec<[f32; 5]> = (0..40).map(|seed| sample::<5>(71 + seed)).collect();
    let targets: Vec<[f32; 3]> = (0..40).map(|i| one_hot(i % 3)).collect();
    let refused = |error: TrainError, sample: Option<usize>| {
        let TrainError::NonFiniteUpdate { sample: named, layer, largest_gradient } = error.clone() else {
            panic!("{error:?}");
        };
        assert_eq!(named, sample, "{error}");
        assert!(layer == 0 || layer == 2, "{error}");
        assert!(largest_gradient >= 1e28, "{error}");
        assert!(error.to_string().contains("the parameters were not updated"), "{error}");
    };
    // One sample: plain SGD (the checked two-pass step), and SGD with momentum. The target is a
    // class the network gets wrong: a confident right answer has no gradient to bound.
    let bad = extreme::<5>(90, 1e33);
    let wrong = one_hot((net.predict(&bad) + 1) % 3);
    refused(net.train_step(&mut ws, &bad, &wrong, &CrossEntropy, &mut Sgd::new(0.1)).unwrap_err(), Some(0));
    let mut momentum = Sgd::new(1e10).with_momentum(0.9);
    let error = net.train_step(&mut ws, &bad, &wrong, &CrossEntropy, &mut momentum).unwrap_err();
    assert!(matches!(error, TrainError::NonFiniteUpdate { sample: None, .. }), "{error:?}");
    assert_eq!(net, before);
    // A batch names its most extreme row.
    for at in [0, 17, 39] {
        let (mut inputs, mut targets) = (good.clone(), targets.clone());
        (inputs[at], targets[at]) = (bad, wrong);
        refused(net.train_batch(&mut ws, &inputs, &targets, &CrossEntropy, &mut Sgd::new(0.1)).unwrap_err(), Some(at));
    }
    assert_eq!(net, before);
    // A sequence: the samples before the bad one are trained on, then it is named.
    let (mut inputs, mut targets) = (good.clone(), targets.clone());
    (inputs[21], targets[21]) = (bad, wrong);
    let mut trained = before.clone();
    let mut reference_ws = trained.workspace();
    trained
        .train_samples(&mut reference_ws, inputs[..21].iter().zip(&targets), &CrossEntropy, &mut Sgd::new(0.1))
        .unwrap();
    let error = net.train_samples(&mut ws, inputs.iter().zip(&targets), &CrossEntropy, &mut Sgd::new(0.1)).unwrap_err();
    refused(error, Some(21));
    assert_eq!(net, trained);
}

/// Steps that multiply every parameter by a factor: the second of 1e20 overflows.
struct Exploding(f32);

impl Optimizer for Exploding {
    fn learning_rate(&self) -> f64 {
        1.0
    }

    fn set_learning_rate(&mut self, _learning_rate: f64) {}

    fn update(&mut self, _slot: usize, parameters: &mut [f32], _gradients: &[f32]) {
        parameters.iter_mut().for_each(|p| *p *= self.0);
    }
}

network! {
    /// One layer: its outputs stay finite for weights of 1e19.
    struct OneLayer {
        Linear(5, 3)
    }
}

#[test]
fn an_optimizer_whose_update_overflows_is_refused_and_undone() {
    let mut net = OneLayer::new(&mut rng(80));
    let mut ws = net.workspace();
    let (inputs, targets) = ([sample::<5>(81), sample::<5>(82)], [one_hot(0), one_hot(1)]);
    net.train_batch(&mut ws, &inputs, &targets, &CrossEntropy, &mut Exploding(1e20)).unwrap();
    let after_one = net.clone();
    let error = net.train_batch(&mut ws, &inputs, &targets, &CrossEntropy, &mut Exploding(1e20)).unwrap_err();
    assert!(matches!(error, TrainError::NonFiniteUpdate { layer: 0, .. }), "{error:?}");
    assert_eq!(net, after_one);
    let error = net.train_step(&mut ws, &inputs[0], &targets[0], &CrossEntropy, &mut Exploding(1e20)).unwrap_err();
    assert!(matches!(error, TrainError::NonFiniteUpdate { layer: 0, .. }), "{error:?}");
    assert_eq!(net, after_one);
}

#[test]
fn an_extreme_row_in_a_later_shard_is_named_and_changes_nothing() {
    let mut net = SplittableCnn::new(&mut rng(83));
    let before = net.clone();
    let mut ws = net.workspace();
    let mut inputs: Vec<[f32; 144]> = (0..64).map(|seed| sample::<144>(900 + seed)).collect();
    let targets: Vec<[f32; 3]> = (0..64).map(|i| one_hot(i % 3)).collect();
    let mut targets = targets;
    inputs[45] = extreme::<144>(7, 1e34);
    targets[45] = one_hot((net.predict(&inputs[45]) + 1) % 3);
    let error = net.train_batch(&mut ws, &inputs, &targets, &CrossEntropy, &mut Sgd::new(0.1)).unwrap_err();
    assert!(matches!(error, TrainError::NonFiniteUpdate { sample: Some(45), .. }), "{error:?}");
    assert_eq!(net, before);
    let mut adam = Adam::new(1e-3);
    inputs[45][72] = 3e38;
    let error = net.train_batch(&mut ws, &inputs, &targets, &CrossEntropy, &mut adam);
    // Adam's steps are at most about its learning rate, whatever the gradient: a finite gradient
    // trains; an infinite one is refused.
    if let Err(error) = error {
        assert!(matches!(error, TrainError::NonFiniteUpdate { sample: Some(45), .. }), "{error:?}");
        assert_eq!(net, before);
    }
    assert!(parameters(&net).iter().all(|(_, values)| values.iter().all(|v| v.is_finite())));
}
