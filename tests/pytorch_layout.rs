//! Tensors leave and enter a network in PyTorch's layout: a PyTorch `state_dict` copied in by
//! name gives PyTorch's logits, through every path (the first layer stores its weight
//! transposed inside, which nothing outside it may see), and survives a save and a load.
// The fixtures are PyTorch's values printed with nine digits, which round-trip every f32.
#![allow(clippy::excessive_precision)]

use nn::layers::{TensorKind, TensorName};
use nn::prelude::*;
use std::collections::HashMap;

network! {
    /// PyTorch's `nn.Sequential(nn.Linear(4, 3), nn.SiLU(), nn.Linear(3, 2))`.
    struct Small {
        Linear(4, 3) -> SiLU -> Linear(3, 2)
    }
}

/// `python3 scripts/fixtures/state_dict.py` (torch 2.15): name, shape, values.
const STATE_DICT: [(&str, &[usize], &[f32]); 4] = [
    (
        "0.weight",
        &[3, 4],
        &[
            -0.00374341011,
            0.268221796,
            -0.411522567,
            -0.367969513,
            -0.192577183,
            0.134078681,
            -0.00990658998,
            0.396444738,
            -0.0443720222,
            0.132306278,
            -0.151106536,
            -0.0982826948,
        ],
    ),
    ("0.bias", &[3], &[-0.477674246, -0.331141055, -0.20611155]),
    ("2.weight", &[2, 3], &[0.0213871151, 0.228246883, 0.346423328, -0.391409457, -0.251414567, 0.20970349]),
    ("2.bias", &[2], &[0.479424685, -0.118818782]),
];

/// The same script's inputs and PyTorch's logits for them.
const INPUTS: [[f32; 4]; 2] = [[0.5, -1.0, 0.0, 2.0], [0.0, 0.0, 1.5, 0.0]];
const LOGITS: [[f32; 2]; 2] = [[0.432708681, -0.0864489526], [0.381842136, -0.011044614]];

/// A network with the state dict copied in by name, every tensor's shape checked first.
fn from_state_dict() -> Small {
    let state: HashMap<&str, (&[usize], &[f32])> =
        STATE_DICT.iter().map(|(name, shape, values)| (*name, (*shape, *values))).collect();
    let mut net = Small::zeroed();
    let mut copied = 0;
    net.visit_tensors_mut(&mut |tensor| {
        let (shape, values) = state[tensor.name.to_string().as_str()];
        assert_eq!(tensor.shape, shape, "{}", tensor.name);
        tensor.values.copy_from_slice(values);
        copied += 1;
    });
    assert_eq!(copied, STATE_DICT.len());
    net
}

fn assert_logits(actual: &[f32; 2], expected: &[f32; 2]) {
    for (a, e) in actual.iter().zip(expected) {
        assert!((a - e).abs() < 1e-6, "{actual:?} against PyTorch's {expected:?}");
    }
}

#[test]
fn a_pytorch_state_dict_copied_by_name_gives_pytorchs_logits() {
    let net = from_state_dict();
    for (input, logits) in INPUTS.iter().zip(&LOGITS) {
        assert_logits(&net.forward(input), logits);
    }
    let mut workspace = net.workspace();
    let mut outputs = [[0.0; 2]; 2];
    net.forward_batch(&mut workspace, &INPUTS, &mut outputs).unwrap();
    for (output, logits) in outputs.iter().zip(&LOGITS) {
        assert_logits(output, logits);
    }
    // The first layer really holds its weight transposed (`weight[k][o]` is PyTorch's
    // `weight[o][k]`), and converts at the boundary.
    assert_eq!(net.layer0.weight[0][1], STATE_DICT[0].2[4]);
}

#[test]
fn tensors_leave_with_pytorchs_names_shapes_and_values() {
    let net = from_state_dict();
    let mut index = 0;
    net.visit_tensors(&mut |tensor| {
        let (name, shape, values) = STATE_DICT[index];
        assert_eq!(tensor.name.to_string(), name);
        assert_eq!((tensor.shape, tensor.values, tensor.kind), (shape, values, TensorKind::Parameter));
        index += 1;
    });
    assert_eq!(index, 4);
}

#[test]
fn saved_files_hold_pytorchs_layout_and_load_back() {
    let net = from_state_dict();
    let path = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("pytorch_layout.model");
    net.save(&path).unwrap();
    let bytes = std::fs::read(&path).unwrap();
    // The first layer's weight, row-major `[3, 4]` as in PyTorch, right after the header.
    let weight: Vec<u8> = STATE_DICT[0].2.iter().flat_map(|v| v.to_le_bytes()).collect();
    assert!(bytes.windows(weight.len()).any(|window| window == weight), "0.weight stored as PyTorch holds it");
    let loaded = Small::load(&path).unwrap();
    assert_eq!(loaded, net);
    assert_logits(&loaded.forward(&INPUTS[0]), &LOGITS[0]);
}

#[test]
fn gradients_leave_in_the_layout_of_their_values() {
    let mut net = from_state_dict();
    let mut workspace = net.workspace();
    let output = *net.forward_with(&mut workspace, &INPUTS[0]);
    let mut gradient = [0.0; 2];
    CrossEntropy.loss_and_gradient(&output, &one_hot(1), &mut gradient);
    workspace.gradients_mut().fill(0.0);
    net.backward(&mut workspace, &gradient, nn::layers::Update::Accumulate);
    // ∂L/∂W[o][k] = dy[o] x[k] for the first layer: row o of the PyTorch-layout gradient.
    let mut first = None;
    net.visit_gradients(&workspace, &mut |tensor| {
        if tensor.name == (TensorName { layer: 0, tensor: "weight" }) {
            first = Some(tensor.gradients.unwrap().to_vec());
        }
    });
    let first = first.unwrap();
    let bias_gradient = {
        let mut bias = Vec::new();
        net.visit_gradients(&workspace, &mut |tensor| {
            if tensor.name.to_string() == "0.bias" {
                bias = tensor.gradients.unwrap().to_vec();
            }
        });
        bias
    };
    for (o, row) in first.chunks(4).enumerate() {
        for (k, value) in row.iter().enumerate() {
            assert!((value - bias_gradient[o] * INPUTS[0][k]).abs() < 1e-7, "0.weight[{o}][{k}]");
        }
    }
}

network! {
    /// tests/network.rs's `Convolutional`, PyTorch's model in scripts/fixtures/convolutional.py.
    struct Convolutional: [2, 7, 6] {
        Conv2d(2, 3, (3, 2), stride = 2, padding = 1) -> Tanh -> MaxPool2d(2, stride = 1)
            -> Conv2d(3, 4, 2) -> SiLU -> AvgPool2d((1, 2)) -> Flatten -> Linear(8, 3)
    }
}

/// PyTorch's convolutional fixture: the state dict, inputs, targets, logits and gradients.
mod convolutional {
    include!("fixtures/convolutional.rs");
}

fn convolutional_from_pytorch() -> Convolutional {
    let mut net = Convolutional::zeroed();
    let mut tensors = convolutional::TENSORS.iter();
    net.visit_tensors_mut(&mut |tensor| {
        let (name, shape, values, _) = tensors.next().expect("as many tensors as PyTorch's");
        assert_eq!((tensor.name.to_string().as_str(), tensor.shape), (*name, *shape));
        tensor.values.copy_from_slice(values);
    });
    assert!(tensors.next().is_none());
    assert_eq!(Convolutional::PARAMETERS, convolutional::TENSORS.iter().map(|t| t.2.len()).sum::<usize>());
    net
}

fn assert_close(actual: &[f32], expected: &[f32], tolerance: f32, what: &str) {
    assert_eq!(actual.len(), expected.len(), "{what}");
    for (index, (a, e)) in actual.iter().zip(expected).enumerate() {
        assert!((a - e).abs() <= tolerance * e.abs().max(1.0), "{what}[{index}]: {a} against PyTorch's {e}");
    }
}

#[test]
fn a_convolutional_network_gives_pytorchs_logits() {
    let net = convolutional_from_pytorch();
    let mut workspace = net.workspace();
    let mut outputs = [[0.0; 3]; 3];
    net.forward_batch(&mut workspace, &convolutional::INPUTS, &mut outputs).unwrap();
    for ((input, output), logits) in convolutional::INPUTS.iter().zip(&outputs).zip(&convolutional::LOGITS) {
        assert_close(&net.forward(input), logits, 1e-5, "forward");
        assert_close(output, logits, 1e-5, "forward_batch");
    }
}

/// An optimizer that leaves the parameters alone, so a batch step only computes gradients.
struct Frozen;

impl Optimizer for Frozen {
    fn learning_rate(&self) -> f64 {
        0.0
    }

    fn set_learning_rate(&mut self, _learning_rate: f64) {}

    fn update(&mut self, _slot: usize, _parameters: &mut [f32], _gradients: &[f32]) {}
}

#[test]
fn a_convolutional_network_gives_pytorchs_gradients_per_sample_and_per_batch() {
    let mut net = convolutional_from_pytorch();
    let targets: Vec<[f32; 3]> = convolutional::TARGETS.iter().map(|&class| one_hot(class)).collect();

    // Per sample: the gradients of the three samples' losses, summed, then averaged.
    let mut workspace = net.workspace();
    workspace.gradients_mut().fill(0.0);
    for (input, target) in convolutional::INPUTS.iter().zip(&targets) {
        let output = *net.forward_with(&mut workspace, input);
        let mut gradient = [0.0; 3];
        CrossEntropy.loss_and_gradient(&output, target, &mut gradient);
        net.backward(&mut workspace, &gradient.map(|g| g / 3.0), nn::layers::Update::Accumulate);
    }
    let mut tensors = convolutional::TENSORS.iter();
    net.visit_gradients(&workspace, &mut |tensor| {
        let (name, _, _, expected) = tensors.next().unwrap();
        assert_close(tensor.gradients.unwrap(), expected, 1e-4, &format!("per-sample {name}"));
    });

    // Per batch: one step that leaves the parameters alone keeps the batch's mean gradients.
    let mut workspace = net.workspace();
    net.train_batch(&mut workspace, &convolutional::INPUTS, &targets, &CrossEntropy, &mut Frozen).unwrap();
    let mut tensors = convolutional::TENSORS.iter();
    net.visit_gradients(&workspace, &mut |tensor| {
        let (name, _, _, expected) = tensors.next().unwrap();
        assert_close(tensor.gradients.unwrap(), expected, 1e-4, &format!("batch {name}"));
    });
}

network! {
    /// scripts/fixtures/normalized.py's model: batch normalization of an image and of features.
    struct Normalized: [2, 5, 4] {
        Conv2d(2, 3, 3, padding = 1) -> BatchNorm2d(3) -> ReLU -> Flatten -> Linear(60, 6) -> BatchNorm1d(6)
            -> Tanh -> Linear(6, 3)
    }
}

/// PyTorch's batch normalization fixture.
mod normalized {
    include!("fixtures/normalized.rs");
}

#[test]
fn batch_normalization_matches_pytorch_in_train_and_eval_mode() {
    let mut net = Normalized::zeroed();
    let mut tensors = normalized::TENSORS.iter();
    net.visit_tensors_mut(&mut |tensor| {
        let (name, shape, values, _, _) = tensors.next().expect("as many tensors as PyTorch's state_dict");
        assert_eq!((tensor.name.to_string().as_str(), tensor.shape), (*name, *shape));
        tensor.values.copy_from_slice(values);
    });
    assert!(tensors.next().is_none());
    let parameters: usize =
        normalized::TENSORS.iter().filter(|tensor| !tensor.3.is_empty()).map(|tensor| tensor.2.len()).sum();
    assert_eq!(Normalized::PARAMETERS, parameters, "PyTorch's parameter count");

    // Train mode: one step that leaves the parameters alone gives the loss and the gradients,
    // and moves the running statistics.
    let targets: Vec<[f32; 3]> = normalized::TARGETS.iter().map(|&class| one_hot(class)).collect();
    let mut workspace = net.workspace();
    let loss = net.train_batch(&mut workspace, &normalized::INPUTS, &targets, &CrossEntropy, &mut Frozen).unwrap();
    assert_close(&[loss], &[normalized::TRAIN_LOSS], 1e-5, "train-mode loss");
    let mut tensors = normalized::TENSORS.iter();
    net.visit_gradients(&workspace, &mut |tensor| {
        let (name, _, _, gradients, after) = tensors.next().unwrap();
        match tensor.gradients {
            Some(actual) => assert_close(actual, gradients, 2e-4, &format!("gradient of {name}")),
            None => assert_close(tensor.values, after, 1e-5, &format!("{name} after the step")),
        }
    });

    // Eval mode: the running statistics.
    for (input, logits) in normalized::INPUTS.iter().zip(&normalized::EVAL_LOGITS) {
        assert_close(&net.forward(input), logits, 1e-5, "eval-mode forward");
    }
    let mut outputs = [[0.0; 3]; 4];
    net.forward_batch(&mut workspace, &normalized::INPUTS, &mut outputs).unwrap();
    for (output, logits) in outputs.iter().zip(&normalized::EVAL_LOGITS) {
        assert_close(output, logits, 1e-5, "eval-mode forward_batch");
    }
}
