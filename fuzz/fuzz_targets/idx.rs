//! Any bytes, raw or gzip, read as an IDX images file and as an IDX labels file are an error or
//! their contents, never a panic or an allocation beyond the limits.
#![no_main]

use libfuzzer_sys::fuzz_target;

mod scratch;

fuzz_target!(|bytes: &[u8]| {
    let path = scratch::scratch_file(bytes);
    if let Ok(images) = nn::data::read_idx_images(&path) {
        assert_eq!(images.pixels.len(), images.count * images.rows as usize * images.columns as usize);
    }
    let _ = nn::data::read_idx_labels(&path);
});
