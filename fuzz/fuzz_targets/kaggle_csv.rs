//! Any bytes, raw or gzip, read as a Kaggle training or test CSV file are an error or digits,
//! never a panic or an allocation beyond the limits.
#![no_main]

use libfuzzer_sys::fuzz_target;

mod scratch;

fuzz_target!(|bytes: &[u8]| {
    let path = scratch::scratch_file(bytes);
    if let Ok(train) = nn::data::read_kaggle_train(&path) {
        assert_eq!(train.inputs.len(), train.targets.len());
        assert!(train.inputs.iter().flatten().all(|pixel| (0.0..=1.0).contains(pixel)));
    }
    let _ = nn::data::read_kaggle_test(&path);
});
