//! Kaggle's digit recognizer end to end: Kaggle-layout CSV files in, a valid submission out,
//! one line per test image, in the file's order.

use nn::data::{read_kaggle_test, read_kaggle_train, write_kaggle_submission};
use nn::fit::{Progress, Trainer};
use nn::prelude::*;
use std::fmt::Write;
use std::path::Path;

network! {
    struct Digits {
        Linear(784, 32) -> ReLU -> Linear(32, 10)
    }
}

/// Digits as Kaggle lays them out: a header, then the label (train only) and 784 pixels 0-255.
fn kaggle_csv(images: &[[f32; 784]], labels: Option<&[u8]>) -> String {
    let mut text = String::new();
    let pixels: Vec<String> = (0..784).map(|i| format!("pixel{i}")).collect();
    writeln!(text, "{}{}", if labels.is_some() { "label," } else { "" }, pixels.join(",")).unwrap();
    for (index, image) in images.iter().enumerate() {
        if let Some(labels) = labels {
            write!(text, "{},", labels[index]).unwrap();
        }
        let values: Vec<String> = image.iter().map(|v| ((v * 255.0).round() as u8).to_string()).collect();
        writeln!(text, "{}", values.join(",")).unwrap();
    }
    text
}

/// Reads a submission: its header and its (id, label) rows.
fn read_submission(path: &Path) -> (String, Vec<(usize, usize)>) {
    let text = std::fs::read_to_string(path).unwrap();
    let mut lines = text.lines();
    let header = lines.next().unwrap().to_owned();
    let rows = lines
        .map(|line| {
            let (id, label) = line.split_once(',').unwrap();
            (id.parse().unwrap(), label.parse().unwrap())
        })
        .collect();
    (header, rows)
}

/// Trains on `train`, predicts `test`, writes the submission and checks it.
fn end_to_end(train: &Path, test: &Path, submission: &Path, epochs: usize) -> f32 {
    let train = read_kaggle_train(train).unwrap();
    let test = read_kaggle_test(test).unwrap();
    let mut net = Digits::new(&mut nn::Pcg64Mcg::seed_from_u64(3));
    let history = Trainer::new(Adam::new(3e-3), CrossEntropy)
        .epochs(epochs)
        .validation_split(0.1)
        .progress(Progress::Silent)
        .fit(&mut net, &train.inputs, &train.one_hot_targets(), None)
        .unwrap();
    let predictions: Vec<usize> = test.iter().map(|image| net.predict(image)).collect();
    write_kaggle_submission(submission, &predictions).unwrap();
    let (header, rows) = read_submission(submission);
    assert_eq!(header, "ImageId,Label");
    assert_eq!(rows.len(), test.len());
    for (index, &(id, label)) in rows.iter().enumerate() {
        assert_eq!((id, label), (index + 1, predictions[index]), "row {}", index + 2);
    }
    history.epochs.last().unwrap().validation_accuracy.unwrap()
}

#[test]
fn a_submission_has_the_header_and_one_row_per_test_image_in_order() {
    let directory = tempfile::tempdir().unwrap();
    let mnist = Mnist::embedded().unwrap();
    let (train, test) = (directory.path().join("train.csv"), directory.path().join("test.csv"));
    std::fs::write(&train, kaggle_csv(&mnist.train.inputs[..600], Some(&mnist.train.targets[..600]))).unwrap();
    std::fs::write(&test, kaggle_csv(&mnist.test.inputs[..120], None)).unwrap();
    let accuracy = end_to_end(&train, &test, &directory.path().join("submission.csv"), 8);
    assert!(accuracy > 0.6, "held-out accuracy {accuracy}");
}

#[test]
fn a_prediction_that_is_not_a_digit_is_refused_naming_its_image() {
    let directory = tempfile::tempdir().unwrap();
    let path = directory.path().join("submission.csv");
    let error = write_kaggle_submission(&path, &[1, 2, 10]).unwrap_err();
    assert!(error.to_string().contains("line 4, column 2 (Label of ImageId 3)"), "{error}");
    assert!(!path.exists());
}

#[test]
#[ignore = "needs the Kaggle sample in ../shared/mnist/kaggle-sample"]
fn the_kaggle_sample_trains_and_gives_a_full_submission() {
    let sample = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/mnist/kaggle-sample");
    assert!(sample.is_dir(), "this test needs {}", sample.display());
    let directory = tempfile::tempdir().unwrap();
    let submission = directory.path().join("submission.csv");
    let accuracy = end_to_end(&sample.join("train.csv.gz"), &sample.join("test.csv.gz"), &submission, 15);
    assert!(accuracy > 0.9, "held-out accuracy {accuracy}");
    assert_eq!(read_submission(&submission).1.len(), 1000);
}
