//! PyTorch interop through safetensors: models saved by PyTorch (float32, float16, bfloat16, a
//! convolution with BatchNorm and its int64 counter) load and give PyTorch's logits; our files
//! load back exactly; every way a file can fail to fit is reported, all differences at once.
// The fixtures are PyTorch's values printed with nine digits, which round-trip every f32.
#![allow(clippy::excessive_precision, clippy::unreadable_literal)]

use nn::io::{ModelFileError, TensorProblem};
use nn::prelude::*;
use std::path::{Path, PathBuf};

#[path = "fixtures/pytorch_mlp.rs"]
mod pytorch_mlp;
#[path = "fixtures/small.rs"]
mod small;

network! {
    /// `nn.Sequential(nn.Linear(784, 128), nn.ReLU(), nn.Linear(128, 10))`.
    struct PytorchMlp {
        Linear(784, 128) -> ReLU -> Linear(128, 10)
    }

    /// `nn.Sequential(nn.Linear(4, 5), nn.Tanh(), nn.Linear(5, 3))`.
    struct Small {
        Linear(4, 5) -> Tanh -> Linear(5, 3)
    }

    /// `nn.Sequential(nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2), nn.ReLU(), nn.Flatten(), nn.Linear(32, 3))`.
    struct ConvBn: [1, 6, 6] {
        Conv2d(1, 2, 3) -> BatchNorm2d(2) -> ReLU -> Flatten -> Linear(32, 3)
    }
}

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(name)
}

fn assert_close<const N: usize>(found: &[f32; N], expected: &[f32; N], tolerance: f32, what: &str) {
    for (index, (a, b)) in found.iter().zip(expected).enumerate() {
        assert!((a - b).abs() <= tolerance * b.abs().max(1.0), "{what}[{index}]: {a} vs PyTorch's {b}");
    }
}

#[test]
fn a_float16_mlp_trained_in_pytorch_gives_pytorchs_logits() {
    let net = PytorchMlp::load_safetensors(fixture("pytorch_mlp.safetensors")).unwrap();
    let mnist = Mnist::embedded().unwrap();
    for (index, expected) in pytorch_mlp::LOGITS.iter().enumerate() {
        assert_close(&net.forward(&mnist.test.inputs[index]), expected, 1e-5, &format!("digit {index}"));
    }
    let accuracy = net.accuracy(&mnist.test.inputs, &mnist.test.targets).unwrap();
    assert_eq!(accuracy, pytorch_mlp::SAMPLE_TEST_ACCURACY);
}

#[test]
fn float32_and_bfloat16_files_load() {
    let f32_net = Small::load_safetensors(fixture("small.f32.safetensors")).unwrap();
    let bf16_net = Small::load_safetensors(fixture("small.bf16.safetensors")).unwrap();
    for (index, input) in small::SMALL_INPUTS.iter().enumerate() {
        assert_close(&f32_net.forward(input), &small::SMALL_LOGITS[index], 1e-6, "f32");
        assert_close(&bf16_net.forward(input), &small::SMALL_BF16_LOGITS[index], 1e-6, "bf16");
    }
    assert_ne!(f32_net, bf16_net);
}

#[test]
fn a_convolution_with_batch_norm_statistics_loads_with_its_counter() {
    let net = ConvBn::load_safetensors(fixture("conv_bn.safetensors")).unwrap();
    for (input, expected) in small::CONV_INPUTS.iter().zip(&small::CONV_LOGITS) {
        assert_close(&net.forward(input), expected, 1e-5, "conv");
    }
    let mut tracked = None;
    net.visit_tensors(&mut |tensor| {
        if tensor.name.to_string() == "1.num_batches_tracked" {
            tracked = Some(tensor.values[0]);
        }
    });
    assert_eq!(tracked, Some(3.0));
}

#[test]
fn our_files_load_back_exactly_with_pytorchs_names_types_and_shapes() {
    let directory = tempfile::tempdir().unwrap();
    let path = directory.path().join("conv.safetensors");
    let net = ConvBn::load_safetensors(fixture("conv_bn.safetensors")).unwrap();
    net.save_safetensors(&path).unwrap();
    assert_eq!(ConvBn::load_safetensors(&path).unwrap(), net);
    let bytes = std::fs::read(&path).unwrap();
    let header_len = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
    let header = std::str::from_utf8(&bytes[8..8 + header_len]).unwrap();
    for entry in [
        r#""1.num_batches_tracked":{"dtype":"I64","shape":[]"#,
        r#""0.weight":{"dtype":"F32","shape":[2,1,3,3]"#,
        r#""4.weight":{"dtype":"F32","shape":[3,32]"#,
        r#""__metadata__":{"format":"pt"}"#,
    ] {
        assert!(header.contains(entry), "{entry} not in {header}");
    }
}

/// A safetensors file made by hand: its header's JSON and its data.
fn handmade(directory: &Path, header: &str, data: &[u8]) -> PathBuf {
    let path = directory.join("handmade.safetensors");
    let mut bytes = (header.len() as u64).to_le_bytes().to_vec();
    bytes.extend_from_slice(header.as_bytes());
    bytes.extend_from_slice(data);
    std::fs::write(&path, bytes).unwrap();
    path
}

/// The `Small` network's tensors in a header, with `changes` applied, and data for them.
fn small_header(entries: &[(&str, &str, &[usize])]) -> (String, Vec<u8>) {
    let mut offset = 0;
    let mut json = Vec::new();
    for (name, dtype, shape) in entries {
        let width = if *dtype == "F32" || *dtype == "I32" { 4 } else { 2 };
        let len = width * shape.iter().product::<usize>();
        json.push(format!(
            r#""{name}":{{"dtype":"{dtype}","shape":{shape:?},"data_offsets":[{offset},{}]}}"#,
            offset + len
        ));
        offset += len;
    }
    (format!("{{{}}}", json.join(",")), vec![0; offset])
}

#[test]
fn every_difference_is_listed_at_once() {
    let directory = tempfile::tempdir().unwrap();
    let (header, data) = small_header(&[
        ("0.weight", "F32", &[4, 5]),
        ("0.bias", "I32", &[5]),
        ("2.bias", "F32", &[3]),
        ("3.weight", "F32", &[2, 2]),
    ]);
    let path = handmade(directory.path(), &header, &data);
    let error = Small::load_safetensors(&path).unwrap_err();
    let ModelFileError::TensorsDoNotFit { problems, .. } = &error else { panic!("{error}") };
    assert_eq!(
        problems,
        &[
            TensorProblem::WrongShape { name: "0.weight".into(), expected: vec![5, 4], found: vec![4, 5] },
            TensorProblem::WrongDtype { name: "0.bias".into(), found: "I32".into() },
            TensorProblem::Missing { name: "2.weight".into(), shape: vec![3, 5] },
            TensorProblem::Unexpected { name: "3.weight".into(), shape: vec![2, 2] },
        ]
    );
    let message = error.to_string();
    assert!(message.contains("handmade.safetensors") && message.contains("Linear(4, 5)"), "{message}");
    assert_eq!(message.lines().count(), 5, "{message}");
}

#[test]
fn a_nan_weight_is_refused_with_its_place() {
    let directory = tempfile::tempdir().unwrap();
    let (header, mut data) = small_header(&[
        ("0.weight", "F32", &[5, 4]),
        ("0.bias", "F32", &[5]),
        ("2.weight", "F32", &[3, 5]),
        ("2.bias", "F32", &[3]),
    ]);
    data[4 * 7..4 * 8].copy_from_slice(&f32::NAN.to_le_bytes());
    let error = Small::load_safetensors(handmade(directory.path(), &header, &data)).unwrap_err();
    assert!(error.to_string().contains("`0.weight` holds NaN at index 7"), "{error}");
}

#[test]
fn files_that_are_not_safetensors_are_refused_without_reading_them_whole() {
    let directory = tempfile::tempdir().unwrap();
    let path = directory.path().join("bad.safetensors");
    let (header, data) = small_header(&[
        ("0.weight", "F32", &[5, 4]),
        ("0.bias", "F32", &[5]),
        ("2.weight", "F32", &[3, 5]),
        ("2.bias", "F32", &[3]),
    ]);
    let mut valid = (header.len() as u64).to_le_bytes().to_vec();
    valid.extend_from_slice(header.as_bytes());
    valid.extend_from_slice(&data);
    let cases: Vec<(Vec<u8>, &str)> = vec![
        (vec![1, 2, 3], "shorter than the 8 bytes"),
        (u64::MAX.to_le_bytes().to_vec(), "a header of 18446744073709551615 bytes"),
        ([&16u64.to_le_bytes()[..], b"{not json at all"].concat(), "its header"),
        (valid[..valid.len() - 1].to_vec(), "fewer"),
        ([&valid[..], &[0]].concat(), "more"),
        (valid[..20].to_vec(), "but the file ends after"),
    ];
    for (bytes, expected) in cases {
        std::fs::write(&path, &bytes).unwrap();
        let error = Small::load_safetensors(&path).unwrap_err();
        assert!(matches!(error, ModelFileError::NotSafetensors { .. }), "{error}");
        assert!(error.to_string().contains(expected), "{error} lacks {expected}");
    }
    std::fs::write(&path, &valid).unwrap();
    assert!(Small::load_safetensors(&path).is_ok());
    let error = Small::load_safetensors(directory.path()).unwrap_err();
    assert!(matches!(error, ModelFileError::NotAFile { .. }), "{error}");
}

#[test]
#[ignore = "needs the full MNIST in ../shared/mnist"]
fn the_pytorch_mlp_scores_pytorchs_accuracy_on_the_full_test_set() {
    let directory = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/mnist");
    assert!(directory.is_dir(), "this test needs the four MNIST IDX files in {}", directory.display());
    let mnist = Mnist::load(&directory).unwrap();
    let net = PytorchMlp::load_safetensors(fixture("pytorch_mlp.safetensors")).unwrap();
    assert_eq!(net.accuracy(&mnist.test.inputs, &mnist.test.targets).unwrap(), pytorch_mlp::TEST_ACCURACY);
}
