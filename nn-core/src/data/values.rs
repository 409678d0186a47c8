//! Regression data: samples of `IN` numeric features and `OUT` numeric targets each, read from a
//! CSV file and split.

use super::table::{read_rows, CsvOptions, Shape};
use super::{DataError, Dataset};
use std::path::Path;

/// Samples with `IN` features and `OUT` target values each: what a network with `OUT` outputs
/// learns to predict (with [`Mse`](crate::losses::Mse), say), and what [`read_csv_values`]
/// returns.
///
/// ```
/// let values = nn::data::Values::<1, 2> { inputs: vec![[0.5], [1.5]], targets: vec![[1.0, 2.0], [3.0, 4.0]], classes: vec![] };
/// assert_eq!(values.select(&[1]).targets, [[3.0, 4.0]]);
/// ```
pub type Values<const IN: usize, const OUT: usize> = Dataset<IN, [f32; OUT]>;

/// Reads samples of `IN` numeric features and `OUT` numeric targets from a CSV file (raw or
/// `.gz`): the target columns are `options`' [`targets`](CsvOptions::targets), in the order of
/// the network's outputs, and the features the columns `options` names (or every other column).
/// Every error names the file, the line and the column, as [`read_csv_classes`](super::read_csv_classes)'s do.
///
/// ```
/// use nn::data::{read_csv_values, CsvOptions};
///
/// let path = std::env::temp_dir().join(format!("houses-{}.csv", std::process::id()));
/// std::fs::write(&path, "rooms,area,price,rent\n3,70,210,0.9\n5,120,380,1.4\n")?;
/// let options = CsvOptions::new("price").with_targets(["price", "rent"]);
/// let values = read_csv_values::<2, 2>(&path, &options)?;
/// assert_eq!((values.inputs[1], values.targets[1]), ([5.0, 120.0], [380.0, 1.4]));
///
/// std::fs::write(&path, "rooms,area,price,rent\n3,70,cheap,0.9\n")?;
/// let error = read_csv_values::<2, 2>(&path, &options).unwrap_err();
/// assert!(error.to_string().ends_with("line 2, column 3 (`price`): `cheap` is not a finite number"), "{error}");
/// # std::fs::remove_file(&path)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Errors
/// [`DataError::MissingValue`], [`DataError::NotANumber`], [`DataError::WrongColumnCount`] (also
/// for a count of target columns other than `OUT`), [`DataError::UnknownColumn`],
/// [`DataError::Empty`], and the reader's I/O and CSV errors.
pub fn read_csv_values<const IN: usize, const OUT: usize>(
    path: impl AsRef<Path>,
    options: &CsvOptions,
) -> Result<Values<IN, OUT>, DataError> {
    let mut values = Values::default();
    let shape = Shape { features: IN, targets: OUT, what: "target columns, one per network output" };
    read_rows(path.as_ref(), options, shape, |layout, record, line| {
        let input = layout.features::<IN>(record, line)?;
        let mut target = [0.0; OUT];
        for (value, &column) in target.iter_mut().zip(&layout.targets) {
            *value = layout.number(&record[column], line, column)?;
        }
        values.inputs.push(input);
        values.targets.push(target);
        Ok(())
    })?;
    Ok(values)
}
