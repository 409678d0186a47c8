//! Tabular data end to end: a CSV file with named classes, a stratified split, standardisation
//! fitted on the training part and saved inside the network, and every reader error naming the
//! file, line and column.

use nn::data::{k_fold, read_csv_classes, read_csv_values, split_indices, Column, CsvOptions, DataError};
use nn::fit::{Progress, Trainer};
use nn::prelude::*;
use std::path::{Path, PathBuf};

network! {
    struct Iris {
        Normalize(4) -> Linear(4, 16) -> ReLU -> Linear(16, 3)
    }
}

fn iris_csv() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/data/iris.csv")
}

#[test]
fn iris_trains_saves_reloads_and_predicts_the_same() {
    let table = read_csv_classes::<4>(iris_csv(), &CsvOptions::new("species")).unwrap();
    assert_eq!(
        (table.len(), table.classes.as_slice()),
        (150, &["setosa", "versicolor", "virginica"].map(String::from)[..])
    );
    let (train, test) = table.split_stratified(0.2, 7);
    for class in 0..3 {
        assert_eq!(test.targets.iter().filter(|&&label| label == class).count(), 10, "stratified: 10 of each 50");
    }
    let mut net = Iris::new(&mut nn::Pcg64Mcg::seed_from_u64(7));
    net.layer0.fit_standard(&train.inputs);
    Trainer::new(Adam::new(0.01), CrossEntropy)
        .epochs(60)
        .batch_size(16)
        .progress(Progress::Silent)
        .fit(&mut net, &train.inputs, &train.one_hot_targets(), None)
        .unwrap();
    let accuracy = net.accuracy(&test.inputs, &test.targets).unwrap();
    assert!(accuracy >= 0.9, "test accuracy {accuracy}");

    let directory = tempfile::tempdir().unwrap();
    let path = directory.path().join("iris.model");
    net.save_with_classes(&path, &table.classes).unwrap();
    let (reloaded, classes) = Iris::load_with_classes(&path).unwrap();
    assert_eq!(reloaded, net, "the fitted standardisation is saved with the weights");
    assert_eq!(classes, ["setosa", "versicolor", "virginica"], "and the species' names");
    for flower in &test.inputs {
        assert_eq!(reloaded.forward(flower), net.forward(flower));
    }
    // The fitted statistics are tensors like any other: exported by name for PyTorch too.
    let mut names = Vec::new();
    net.visit_tensors(&mut |tensor| names.push(tensor.name.to_string()));
    assert_eq!(names[..2], ["0.shift", "0.scale"]);
}

/// Writes `text` as a CSV file and reads it with `options`.
fn read(text: &str, options: &CsvOptions) -> Result<nn::data::Table<2>, DataError> {
    let directory = tempfile::tempdir().unwrap();
    let path = directory.path().join("data.csv");
    std::fs::write(&path, text).unwrap();
    read_csv_classes::<2>(&path, options)
}

#[test]
fn every_reader_error_names_the_line_and_the_column() {
    let options = CsvOptions::new("kind");
    let cases = [
        ("a,b,kind\n1,2,x\n3,,y\n", "line 3, column 2 (`b`): the value is missing"),
        ("a,b,kind\n1,2,x\n3,4,\n", "line 3, column 3 (`kind`): the value is missing"),
        ("a,b,kind\n1,two,x\n", "line 2, column 2 (`b`): `two` is not a finite number"),
        ("a,b,kind\n1,inf,x\n", "line 2, column 2 (`b`): `inf` is not a finite number"),
        ("a,b,kind\n1,2,x\n1,2\n", "line 3: 2 columns, expected 3"),
        ("a,b,c,kind\n1,2,3,x\n", "line 1: 3 columns, expected 2 (feature columns, one per network input)"),
        ("a,b,species\n1,2,x\n", "line 1: no column `kind` among its 3 columns"),
        ("a,b,kind\n", "the file holds no samples"),
    ];
    for (text, expected) in cases {
        let error = read(text, &options).unwrap_err();
        let message = error.to_string();
        assert!(message.contains("data.csv") && message.contains(expected), "{message} lacks {expected}");
    }
}

#[test]
fn headerless_files_other_delimiters_chosen_columns_and_integer_classes_read() {
    let options = CsvOptions::new(0).without_header().with_delimiter(b';').with_features([3, 1]);
    let table = read("2;10;x;30\n0;11;y;31\n", &options).unwrap();
    assert_eq!(table.inputs, [[30.0, 10.0], [31.0, 11.0]]);
    assert_eq!((table.targets, table.classes), (vec![2, 0], vec!["0".into(), "1".into(), "2".into()]));
    let named = CsvOptions::new("kind").with_features([Column::from("b"), Column::from("a")]);
    assert_eq!(read("a,b,kind\n1,2,x\n", &named).unwrap().inputs, [[2.0, 1.0]]);
}

#[test]
fn a_huge_integer_label_is_an_error_not_a_hundred_million_classes() {
    // Found by fuzz/fuzz_targets/table_csv.rs: 13 bytes made the reader allocate 2.4 GB of
    // class names.
    let options = CsvOptions::new(0).without_header().with_delimiter(b';').with_features([2, 1]);
    let error = read("99999999;5;3\n", &options).unwrap_err();
    assert!(
        error.to_string().ends_with(
            "line 1, column 1 (`column 1`): integer class label 99999999 is outside 0..=65535 (name the classes instead)"
        ),
        "{error}"
    );
    assert_eq!(read("65535;5;3\n", &options).unwrap().classes.len(), 65_536);
}

#[test]
fn a_stratified_split_groups_the_labels_present() {
    // A label of a billion makes one group of one sample, at once.
    let labels = [0, 1_000_000_000, 0, 1_000_000_000];
    let (kept, held_out) = split_indices(&labels, 0.5, 1, true);
    assert_eq!((kept.len(), held_out.len()), (2, 2));
    assert_eq!(held_out.iter().map(|&i| labels[i]).sum::<usize>(), 1_000_000_000);
}

#[test]
fn splits_are_seeded_and_folds_cover_every_sample_once() {
    let labels: Vec<usize> = (0..40).map(|i| usize::from(i >= 30)).collect();
    let (kept, held_out) = split_indices(&labels, 0.2, 3, true);
    assert_eq!((kept.len(), held_out.len()), (32, 8));
    assert_eq!(held_out.iter().filter(|&&i| labels[i] == 1).count(), 2, "a fifth of each class");
    assert_eq!(split_indices(&labels, 0.2, 3, true), (kept.clone(), held_out.clone()));
    assert_ne!(split_indices(&labels, 0.2, 4, true).1, held_out);
    let folds = k_fold(40, 6, 1);
    let mut validated: Vec<usize> = folds.iter().flat_map(|(_, validation)| validation.clone()).collect();
    validated.sort_unstable();
    assert_eq!(validated, (0..40).collect::<Vec<_>>());
    for (train, validation) in &folds {
        assert_eq!(train.len() + validation.len(), 40);
        assert!((6..=7).contains(&validation.len()));
        assert!(validation.iter().all(|i| !train.contains(i)));
    }
}

network! {
    /// Two values from two features, standardised first.
    struct Regressor {
        Normalize(2) -> Linear(2, 16) -> Tanh -> Linear(16, 2)
    }
}

#[test]
fn numeric_targets_read_split_and_train_to_a_small_error() {
    // y0 = 2a - b + 1 and y1 = a * b / 10, on features of different scales.
    let rows: String = (0..300)
        .map(|i| {
            let (a, b) = ((i % 17) as f32 - 8.0, ((i * 7) % 23) as f32 * 3.0);
            format!("{a},{b},{},{}\n", 2.0 * a - b + 1.0, a * b / 10.0)
        })
        .collect();
    let directory = tempfile::tempdir().unwrap();
    let path = directory.path().join("values.csv");
    std::fs::write(&path, format!("a,b,y0,y1\n{rows}")).unwrap();
    let options = CsvOptions::new("y0").with_targets(["y0", "y1"]);
    let values = read_csv_values::<2, 2>(&path, &options).unwrap();
    assert_eq!((values.len(), values.targets[1]), (300, [2.0 * -7.0 - 21.0 + 1.0, -7.0 * 21.0 / 10.0]));
    let (train, test) = values.split(0.2, 3);
    assert_eq!((train.len(), test.len()), (240, 60));

    let mut net = Regressor::new(&mut nn::Pcg64Mcg::seed_from_u64(9));
    net.layer0.fit_standard(&train.inputs);
    Trainer::new(Adam::new(0.01), Mse)
        .epochs(300)
        .batch_size(16)
        .progress(Progress::Silent)
        .fit(&mut net, &train.inputs, &train.targets, None)
        .unwrap();
    let squared: f32 = test
        .inputs
        .iter()
        .zip(&test.targets)
        .map(|(x, y)| net.forward(x).iter().zip(y).map(|(p, t)| (p - t) * (p - t)).sum::<f32>() / 2.0)
        .sum();
    let variance: f32 = test.targets.iter().map(|y| y.iter().map(|t| t * t).sum::<f32>() / 2.0).sum();
    assert!(squared / variance < 0.01, "test error {} of the targets' {}", squared, variance);

    let error = read_csv_values::<2, 1>(&path, &options).unwrap_err();
    assert!(
        error.to_string().ends_with("line 1: 2 columns, expected 1 (target columns, one per network output)"),
        "{error}"
    );
    let error = read_csv_classes::<2>(&path, &options).unwrap_err();
    assert!(error.to_string().ends_with("expected 1 (class columns: read_csv_classes takes one)"), "{error}");
}
