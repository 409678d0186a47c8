//! Tabular data end to end: Fisher's iris flowers (4 measurements, 3 species named in the file)
//! from a CSV file, a stratified split, standardisation fitted on the training part and saved
//! inside the network, training, a saved model (with the species' names) that reloads and
//! predicts the same.
//!
//! ```text
//! cargo run --release --example iris
//! cargo run --release --example iris -- --data flowers.csv --target species --save iris.model
//! ```
//!
//! The data is `examples/data/iris.csv` by default (150 flowers, the UCI data set). The first
//! layer, `Normalize(4)`, holds the per-feature mean and deviation of the training flowers:
//! they are saved and loaded with the weights, so the reloaded model standardises new
//! measurements exactly as the trained one did.

use nn::data::{read_csv_classes, CsvOptions};
use nn::fit::Trainer;
use nn::metrics::ConfusionMatrix;
use nn::prelude::*;
use std::path::PathBuf;

network! {
    /// Standardisation, then a small MLP over the four measurements.
    struct Iris {
        Normalize(4) -> Linear(4, 16) -> ReLU -> Linear(16, 3)
    }
}

const USAGE: &str = "usage: iris [--data FILE.csv] [--target COLUMN] [--save PATH] [--seed N]";

fn main() -> std::process::ExitCode {
    match run() {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn run() -> Result<(), Box<dyn std::error::Error>> {
    let mut data = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/data/iris.csv"));
    let (mut target, mut save, mut seed) = ("species".to_owned(), std::env::temp_dir().join("iris.model"), 7u64);
    let mut parser = lexopt::Parser::from_env();
    while let Some(arg) = parser.next()? {
        use lexopt::prelude::*;
        match arg {
            Long("data") => data = parser.value()?.into(),
            Long("target") => target = parser.value()?.string()?,
            Long("save") => save = parser.value()?.into(),
            Long("seed") => seed = parser.value()?.parse()?,
            Long("help") | Short('h') => {
                println!("{USAGE}");
                return Ok(());
            }
            _ => return Err(format!("{}\n{USAGE}", arg.unexpected()).into()),
        }
    }
    let table = read_csv_classes::<4>(&data, &CsvOptions::new(target.as_str()))?;
    let (train, test) = table.split_stratified(0.2, seed);
    println!(
        "{} flowers of {} species from {}: {} to train on, {} to test",
        table.len(),
        table.classes.len(),
        data.display(),
        train.len(),
        test.len()
    );

    let mut net = Iris::new(&mut nn::Pcg64Mcg::seed_from_u64(seed));
    net.layer0.fit_standard(&train.inputs);
    let history = Trainer::new(Adam::new(0.01), CrossEntropy)
        .epochs(100)
        .batch_size(16)
        .seed(seed)
        .progress(nn::fit::Progress::Silent)
        .fit(&mut net, &train.inputs, &train.one_hot_targets(), None)?;
    println!(
        "trained {} epochs: training loss {:.4}",
        history.epochs.len(),
        history.train_losses().last().unwrap_or(&0.0)
    );

    let mut outputs = vec![[0.0; 3]; test.len()];
    net.forward_batch(&mut net.workspace(), &test.inputs, &mut outputs)?;
    println!("{}", ConfusionMatrix::of(&outputs, &test.targets));

    net.save_with_classes(&save, &table.classes)?;
    let (reloaded, species_names) = Iris::load_with_classes(&save)?;
    let same = test.inputs.iter().all(|flower| reloaded.forward(flower) == net.forward(flower));
    println!(
        "saved to {} and reloaded: {}",
        save.display(),
        if same { "the same predictions" } else { "DIFFERENT predictions" }
    );

    let flower = [6.1, 2.8, 4.7, 1.2];
    let probabilities = reloaded.predict_proba(&flower);
    let species = argmax(&probabilities);
    println!("a flower measuring {flower:?}: {} ({:.1}%)", species_names[species], 100.0 * probabilities[species]);
    let accuracy = reloaded.accuracy(&test.inputs, &test.targets)?;
    println!("test_acc {accuracy:.4}");
    if !same {
        return Err("the reloaded model predicts differently".into());
    }
    Ok(())
}
