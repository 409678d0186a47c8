//! Save and load: round trips, atomic replacement, and every kind of bad file.

use nn::io::ModelFileError;
use nn::prelude::*;
use std::path::Path;

network! {
    struct Small {
        Linear(4, 3) -> ReLU -> Linear(3, 2)
    }

    struct Other {
        Linear(4, 3) -> Tanh -> Linear(3, 2)
    }
}

fn trained() -> Small {
    Small::new(&mut nn::rand::rngs::StdRng::seed_from_u64(1))
}

fn saved(directory: &Path) -> (std::path::PathBuf, Vec<u8>) {
    let path = directory.join("small.model");
    trained().save(&path).unwrap();
    let bytes = std::fs::read(&path).unwrap();
    (path, bytes)
}

fn load_bytes(directory: &Path, bytes: &[u8]) -> ModelFileError {
    let path = directory.join("bad.model");
    std::fs::write(&path, bytes).unwrap();
    Small::load(&path).unwrap_err()
}

#[test]
fn round_trip_restores_every_parameter() {
    let directory = tempfile::tempdir().unwrap();
    let (path, bytes) = saved(directory.path());
    assert_eq!(Small::load(&path).unwrap(), trained());
    assert!(bytes.starts_with(b"nn-model"));
}

#[test]
fn saving_replaces_the_old_file_and_leaves_no_temporary_behind() {
    let directory = tempfile::tempdir().unwrap();
    let path = directory.path().join("small.model");
    std::fs::write(&path, b"the previous model").unwrap();
    trained().save(&path).unwrap();
    assert_eq!(Small::load(&path).unwrap(), trained());
    let files: Vec<_> = std::fs::read_dir(directory.path()).unwrap().collect();
    assert_eq!(files.len(), 1);
}

#[test]
fn a_failed_save_keeps_nothing_half_written() {
    let directory = tempfile::tempdir().unwrap();
    let missing = directory.path().join("no-such-directory").join("small.model");
    let error = trained().save(&missing).unwrap_err();
    assert!(matches!(error, ModelFileError::Io { .. }));
    assert!(error.to_string().contains("no-such-directory"), "{error}");
    assert_eq!(std::fs::read_dir(directory.path()).unwrap().count(), 0);
}

#[test]
fn loading_into_another_architecture_names_both() {
    let directory = tempfile::tempdir().unwrap();
    let (path, _) = saved(directory.path());
    let error = Other::load(&path).unwrap_err();
    assert_eq!(
        error.to_string(),
        format!(
            "{}: the file holds the network `Linear(4, 3) -> ReLU -> Linear(3, 2)`, but it is being loaded into \
             `Linear(4, 3) -> Tanh -> Linear(3, 2)`",
            path.display()
        )
    );
}

#[test]
fn every_truncation_is_an_error() {
    let directory = tempfile::tempdir().unwrap();
    let (_, bytes) = saved(directory.path());
    for length in 0..bytes.len() {
        let error = load_bytes(directory.path(), &bytes[..length]);
        assert!(
            matches!(
                error,
                ModelFileError::NotAModelFile { .. }
                    | ModelFileError::CorruptedHeader { .. }
                    | ModelFileError::WrongLength { .. }
            ),
            "length {length}: {error:?}"
        );
    }
}

#[test]
fn every_flipped_byte_is_an_error() {
    let directory = tempfile::tempdir().unwrap();
    let (_, bytes) = saved(directory.path());
    for position in 0..bytes.len() {
        let mut corrupted = bytes.clone();
        corrupted[position] ^= 0x41;
        let error = load_bytes(directory.path(), &corrupted);
        assert!(!matches!(error, ModelFileError::Io { .. }), "byte {position}: {error:?}");
    }
}

#[test]
fn appended_bytes_are_an_error() {
    let directory = tempfile::tempdir().unwrap();
    let (_, mut bytes) = saved(directory.path());
    bytes.push(0);
    assert!(matches!(load_bytes(directory.path(), &bytes), ModelFileError::WrongLength { .. }));
}

#[test]
fn a_foreign_file_is_not_a_model() {
    let directory = tempfile::tempdir().unwrap();
    let error = load_bytes(directory.path(), b"PK\x03\x04 this is a zip file, not a model");
    assert!(
        error.to_string().ends_with("not an nn model file (it does not start with the bytes \"nn-model\")"),
        "{error}"
    );
}

#[test]
fn a_header_announcing_a_huge_tensor_table_fails_without_allocating_it() {
    let directory = tempfile::tempdir().unwrap();
    let mut bytes = b"nn-model".to_vec();
    bytes.push(2); // format version
    bytes.push(0); // empty architecture string
    bytes.extend([0xfd, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x0f]); // 2^60 tensors
    let error = load_bytes(directory.path(), &bytes);
    assert!(matches!(error, ModelFileError::CorruptedHeader { .. }), "{error:?}");
}

#[test]
fn a_missing_file_names_the_path() {
    let error = Small::load("/no/such/model.bin").unwrap_err();
    assert!(error.to_string().starts_with("/no/such/model.bin: "), "{error}");
}
