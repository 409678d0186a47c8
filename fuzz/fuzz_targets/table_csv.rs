//! Any bytes, raw or gzip, read as a general CSV file of classes (or of values) are an error or
//! a table, never a panic or an allocation beyond the limits: with a header and the class by
//! name, and without one, the class by index and `;` between fields.
#![no_main]

use libfuzzer_sys::fuzz_target;
use nn::data::{read_csv_classes, read_csv_values, CsvOptions};

mod scratch;

fuzz_target!(|bytes: &[u8]| {
    let path = scratch::scratch_file(bytes);
    let by_name = CsvOptions::new("species");
    if let Ok(table) = read_csv_classes::<4>(&path, &by_name) {
        check(&table);
    }
    let by_index = CsvOptions::new(0).without_header().with_delimiter(b';').with_features([2, 1]);
    if let Ok(table) = read_csv_classes::<2>(&path, &by_index) {
        check(&table);
    }
    if let Ok(values) = read_csv_values::<2, 1>(&path, &by_index) {
        assert_eq!(values.inputs.len(), values.targets.len());
        assert!(values.inputs.iter().flatten().chain(values.targets.iter().flatten()).all(|v| v.is_finite()));
    }
});

/// A table that loads is consistent: one label per sample, each naming a class, every feature
/// a finite number.
fn check<const IN: usize>(table: &nn::data::Table<IN>) {
    assert_eq!(table.inputs.len(), table.targets.len());
    assert!(table.targets.iter().all(|&label| label < table.classes.len()));
    assert!(table.inputs.iter().flatten().all(|value| value.is_finite()));
}
