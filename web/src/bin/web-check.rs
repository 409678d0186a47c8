//! The native half of `bash web/test.sh`.
//!
//! ```text
//! web-check digits N        # the first N test digits of the embedded MNIST sample, as JSON
//! web-check compare FILE    # the page's results (browser.mjs) against the native networks
//! ```
//!
//! `compare` runs the same networks natively on the 28x28 input the page made of each drawing
//! and fails unless every prediction agrees with the page's (and every probability within
//! 1e-4: the page's arithmetic has no fused multiply-add).

use nn::prelude::*;
use nn_web::{most_likely, Engine, Model};
use serde_json::{json, Value};
use std::process::ExitCode;

/// The most a page's probability may differ from the native one.
const TOLERANCE: f32 = 1e-4;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let outcome = match args.iter().map(String::as_str).collect::<Vec<_>>()[..] {
        ["digits", count] => count.parse().map_err(|_| format!("not a count: {count}")).and_then(digits),
        ["compare", file] => compare(file),
        _ => Err("usage: web-check digits N | web-check compare FILE".to_string()),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("web-check: {error}");
            ExitCode::FAILURE
        }
    }
}

/// Prints the first `count` test digits of the embedded sample with their labels.
fn digits(count: usize) -> Result<(), String> {
    let mnist = Mnist::embedded().map_err(|error| error.to_string())?;
    let digits: Vec<Value> = mnist
        .test
        .inputs
        .iter()
        .zip(&mnist.test.targets)
        .take(count)
        .map(|(pixels, label)| json!({ "label": label, "pixels": pixels.to_vec() }))
        .collect();
    println!("{}", Value::Array(digits));
    Ok(())
}

/// Checks every result of the page against the native network on the page's own input.
fn compare(file: &str) -> Result<(), String> {
    let text = std::fs::read_to_string(file).map_err(|error| format!("{file}: {error}"))?;
    let results: Vec<Value> = serde_json::from_str(&text).map_err(|error| format!("{file}: {error}"))?;
    let engine = Engine::embedded();
    let (mut disagreements, mut correct) = (0, [0usize; 2]);
    println!("digit label model    page native  largest difference");
    for result in &results {
        let field = |name: &str| result.get(name).ok_or_else(|| format!("{file}: a result without `{name}`"));
        let number =
            |name: &str| field(name).and_then(|v| v.as_u64().ok_or_else(|| format!("{file}: `{name}` is not a count")));
        let floats = |name: &str| -> Result<Vec<f32>, String> {
            let values = field(name)?.as_array().ok_or_else(|| format!("{file}: `{name}` is not an array"))?;
            values
                .iter()
                .map(|v| v.as_f64().map(|v| v as f32).ok_or_else(|| format!("{file}: `{name}` holds a non-number")))
                .collect()
        };
        let (index, label, model) = (number("index")?, number("label")?, number("model")?);
        let page = field("page")?.as_u64();
        let input: [f32; 784] = nn::to_array(&floats("input")?).map_err(|error| format!("{file}: input: {error}"))?;
        let page_probabilities = floats("probabilities")?;
        let model_kind = Model::from_number(model as u32);
        let native = engine.probabilities(model_kind, &input);
        let native_digit = most_likely(&native) as u64;
        let difference = native.iter().zip(&page_probabilities).map(|(a, b)| (a - b).abs()).fold(0.0f32, f32::max);
        let agrees = page == Some(native_digit) && page_probabilities.len() == 10 && difference <= TOLERANCE;
        disagreements += usize::from(!agrees);
        correct[model as usize % 2] += usize::from(native_digit == label);
        let page = page.map_or("blank".to_string(), |digit| digit.to_string());
        let name = ["MLP", "LeNet"][model as usize % 2];
        let mark = if agrees { "" } else { "  DISAGREES" };
        println!("{index:>5} {label:>5} {name:<6} {page:>6} {native_digit:>6}  {difference:.2e}{mark}");
    }
    let drawn = results.len() / 2;
    println!(
        "{} results; drawn digits read correctly: MLP {}/{drawn}, LeNet {}/{drawn}",
        results.len(),
        correct[0],
        correct[1]
    );
    match disagreements {
        0 if !results.is_empty() => Ok(()),
        0 => Err(format!("{file}: no results")),
        count => Err(format!("the page and the native networks disagree on {count} of {} results", results.len())),
    }
}
