//! Save and load: round trips, atomic replacement, and every kind of bad file.

use nn::io::ModelFileError;
use nn::prelude::*;
use std::path::{Path, PathBuf};

network! {
    struct Small {
        Linear(4, 3) -> ReLU -> Linear(3, 2)
    }

    struct Other {
        Linear(4, 3) -> Tanh -> Linear(3, 2)
    }
}

/// A fresh, empty directory for one test, under Cargo's scratch directory for integration tests.
fn scratch(test: &str) -> PathBuf {
    let directory = Path::new(env!("CARGO_TARGET_TMPDIR")).join("save_load").join(test);
    match std::fs::remove_dir_all(&directory) {
        Err(error) if error.kind() != std::io::ErrorKind::NotFound => panic!("{}: {error}", directory.display()),
        _ => {}
    }
    std::fs::create_dir_all(&directory).unwrap();
    directory
}

fn trained() -> Small {
    Small::new(&mut nn::Pcg64Mcg::seed_from_u64(1))
}

fn saved(directory: &Path) -> (PathBuf, Vec<u8>) {
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
    let directory = scratch("round_trip_restores_every_parameter");
    let (path, bytes) = saved(&directory);
    assert_eq!(Small::load(&path).unwrap(), trained());
    assert!(bytes.starts_with(b"nn-model"));
}

#[test]
fn saving_replaces_the_old_file_and_leaves_no_temporary_behind() {
    let directory = scratch("saving_replaces_the_old_file_and_leaves_no_temporary_behind");
    let path = directory.join("small.model");
    std::fs::write(&path, b"the previous model").unwrap();
    trained().save(&path).unwrap();
    assert_eq!(Small::load(&path).unwrap(), trained());
    let files: Vec<_> = std::fs::read_dir(&directory).unwrap().collect();
    assert_eq!(files.len(), 1);
}

#[test]
fn a_failed_save_keeps_nothing_half_written() {
    let directory = scratch("a_failed_save_keeps_nothing_half_written");
    let missing = directory.join("no-such-directory").join("small.model");
    let error = trained().save(&missing).unwrap_err();
    assert!(matches!(error, ModelFileError::Io { .. }));
    assert!(error.to_string().contains("no-such-directory"), "{error}");
    assert_eq!(std::fs::read_dir(&directory).unwrap().count(), 0);
}

#[test]
fn loading_into_another_architecture_names_both() {
    let directory = scratch("loading_into_another_architecture_names_both");
    let (path, _) = saved(&directory);
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
    let directory = scratch("every_truncation_is_an_error");
    let (_, bytes) = saved(&directory);
    for length in 0..bytes.len() {
        let error = load_bytes(&directory, &bytes[..length]);
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
    let directory = scratch("every_flipped_byte_is_an_error");
    let (_, bytes) = saved(&directory);
    for position in 0..bytes.len() {
        let mut corrupted = bytes.clone();
        corrupted[position] ^= 0x41;
        let error = load_bytes(&directory, &corrupted);
        assert!(!matches!(error, ModelFileError::Io { .. }), "byte {position}: {error:?}");
    }
}

#[test]
fn appended_bytes_are_an_error() {
    let directory = scratch("appended_bytes_are_an_error");
    let (_, mut bytes) = saved(&directory);
    bytes.push(0);
    assert!(matches!(load_bytes(&directory, &bytes), ModelFileError::WrongLength { .. }));
}

#[test]
fn a_foreign_file_is_not_a_model() {
    let directory = scratch("a_foreign_file_is_not_a_model");
    let error = load_bytes(&directory, b"PK\x03\x04 this is a zip file, not a model");
    assert!(
        error.to_string().ends_with("not an nn model file (it does not start with the bytes \"nn-model\")"),
        "{error}"
    );
}

#[test]
fn a_header_announcing_a_huge_tensor_table_fails_without_allocating_it() {
    let directory = scratch("a_header_announcing_a_huge_tensor_table_fails_without_allocating_it");
    let mut bytes = b"nn-model".to_vec();
    bytes.push(3); // format version
    bytes.push(0); // empty architecture string
    bytes.extend([0xfd, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x0f]); // 2^60 tensors
    let error = load_bytes(&directory, &bytes);
    assert!(matches!(error, ModelFileError::CorruptedHeader { .. }), "{error:?}");
}

#[test]
fn a_missing_file_names_the_path() {
    let error = Small::load("/no/such/model.bin").unwrap_err();
    assert!(error.to_string().starts_with("/no/such/model.bin: "), "{error}");
}

/// CRC-32 (IEEE), bit by bit: the checksum of model files, written out for the hand-made file.
fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for byte in bytes {
        crc ^= u32::from(*byte);
        for _ in 0..8 {
            crc = if crc & 1 == 1 { (crc >> 1) ^ 0xedb8_8320 } else { crc >> 1 };
        }
    }
    !crc
}

/// A model file of format version 2, as the previous release wrote it: tensor lengths only,
/// the first layer's weight input-major (`[in, out]`).
fn version_2_file(net: &Small) -> Vec<u8> {
    version_2_file_of(net, Small::ARCHITECTURE)
}

/// bincode's variable-length integer: one byte below 251, else a marker and the little-endian
/// bytes.
fn varint(value: usize) -> Vec<u8> {
    match value {
        0..=250 => vec![value as u8],
        251..=0xffff => [vec![251], (value as u16).to_le_bytes().to_vec()].concat(),
        _ => [vec![252], (value as u32).to_le_bytes().to_vec()].concat(),
    }
}

/// [`version_2_file`] with any architecture string.
fn version_2_file_of(net: &Small, architecture: &str) -> Vec<u8> {
    let mut tensors = Vec::new();
    net.visit_tensors(&mut |tensor| {
        tensors.push((tensor.name.to_string(), tensor.shape.to_vec(), tensor.values.to_vec()))
    });
    let mut bytes = b"nn-model".to_vec();
    bytes.push(2); // format version, a one-byte varint
    bytes.extend(varint(architecture.len()));
    bytes.extend_from_slice(architecture.as_bytes());
    bytes.push(tensors.len() as u8);
    for (name, _, values) in &tensors {
        bytes.push(name.len() as u8);
        bytes.extend_from_slice(name.as_bytes());
        bytes.push(values.len() as u8);
    }
    for (name, shape, values) in &tensors {
        let stored = match name.as_str() {
            "0.weight" => (0..shape[1]).flat_map(|k| (0..shape[0]).map(move |o| values[o * shape[1] + k])).collect(),
            _ => values.clone(),
        };
        bytes.extend(stored.iter().flat_map(|value: &f32| value.to_le_bytes()));
    }
    let checksum = crc32(&bytes);
    bytes.extend_from_slice(&checksum.to_le_bytes());
    bytes
}

#[test]
fn files_of_the_previous_format_still_load() {
    let directory = scratch("files_of_the_previous_format_still_load");
    let path = directory.join("v2.model");
    std::fs::write(&path, version_2_file(&trained())).unwrap();
    assert_eq!(Small::load(&path).unwrap(), trained());
}

/// A version 3 file of `network`: version 4's bytes without the (empty) class names, the last
/// byte of the header.
fn version_3_file(network: &Small) -> Vec<u8> {
    let mut bytes = network.to_bytes();
    let header_end = bytes.len() - 4 - Small::PARAMETERS * 4;
    assert_eq!(bytes[header_end - 1], 0, "no class names: a zero-length vector");
    bytes.remove(header_end - 1);
    bytes[8] = 3;
    let body = bytes.len() - 4;
    let checksum = crc32(&bytes[..body]);
    bytes[body..].copy_from_slice(&checksum.to_le_bytes());
    bytes
}

#[test]
fn files_of_format_3_still_load() {
    let directory = scratch("files_of_format_3_still_load");
    let path = directory.join("v3.model");
    std::fs::write(&path, version_3_file(&trained())).unwrap();
    assert_eq!(Small::load(&path).unwrap(), trained());
    assert_eq!(Small::load_with_classes(&path).unwrap(), (trained(), Vec::new()));
}

#[test]
fn class_names_are_saved_with_the_model() {
    let directory = scratch("class_names_are_saved_with_the_model");
    let path = directory.join("named.model");
    let classes = vec!["cat".to_owned(), "dog, or wolf".to_owned()];
    trained().save_with_classes(&path, &classes).unwrap();
    assert_eq!(Small::load_with_classes(&path).unwrap(), (trained(), classes.clone()));
    assert_eq!(Small::load(&path).unwrap(), trained());
    // One name per output, or none.
    for wrong in [vec!["cat".to_owned()], vec!["a".to_owned(); 3]] {
        let error = trained().save_with_classes(directory.join("wrong.model"), &wrong).unwrap_err();
        assert!(matches!(error, ModelFileError::ClassNames { outputs: 2, .. }), "{error:?}");
        assert!(error.to_string().contains("class names"), "{error}");
    }
    let huge = vec!["x".repeat(300_000); 2];
    let error = trained().save_with_classes(directory.join("huge.model"), &huge).unwrap_err();
    assert!(matches!(error, ModelFileError::ClassNames { bytes: 600_000, .. }), "{error:?}");
    // A file naming another number of outputs is refused, checksum and all correct.
    let mut bytes = std::fs::read(&path).unwrap();
    let at = bytes.windows(3).position(|window| window == b"cat").unwrap() - 2;
    assert_eq!(bytes[at], 2, "two names");
    bytes[at] = 1;
    bytes.drain(at + 1 + 1 + 3..at + 1 + 1 + 3 + 1 + "dog, or wolf".len());
    let body = bytes.len() - 4;
    let checksum = crc32(&bytes[..body]);
    bytes[body..].copy_from_slice(&checksum.to_le_bytes());
    let error = load_bytes(&directory, &bytes);
    assert!(matches!(error, ModelFileError::ClassNames { outputs: 2, found: 1, .. }), "{error:?}");
}

#[test]
fn a_file_of_an_unknown_version_names_it() {
    let directory = scratch("a_file_of_an_unknown_version_names_it");
    let mut bytes = version_2_file(&trained());
    bytes[8] = 1;
    let error = load_bytes(&directory, &bytes);
    assert!(error.to_string().ends_with("model file format version 1; this library reads versions 2 to 4"), "{error}");
}

#[test]
fn the_header_describes_every_tensor_with_its_shape() {
    let directory = scratch("the_header_describes_every_tensor_with_its_shape");
    let (path, _) = saved(&directory);
    network! {
        struct Renamed { Linear(4, 3) -> ReLU -> Linear(3, 2) }
    }
    // Same architecture string, so the load gets as far as the tensors; swap one shape in the file.
    let mut bytes = std::fs::read(&path).unwrap();
    let at = bytes.windows(8).position(|window| window == b"0.weight").unwrap() + 8;
    assert_eq!(&bytes[at..at + 3], [2, 3, 4], "shape [3, 4] as a vector of two varints");
    bytes[at + 1..at + 3].copy_from_slice(&[4, 3]);
    let error = load_bytes(&directory, &bytes);
    assert!(matches!(error, ModelFileError::ChecksumMismatch { .. }), "{error:?}");
    let body = bytes.len() - 4;
    let checksum = crc32(&bytes[..body]);
    bytes[body..].copy_from_slice(&checksum.to_le_bytes());
    let path = directory.join("reshaped.model");
    std::fs::write(&path, &bytes).unwrap();
    let error = Renamed::load(&path).unwrap_err();
    assert!(
        error.to_string().ends_with(
            "tensor 0 is `0.weight [4, 3] (parameter)` in the file but `0.weight [3, 4] (parameter)` in the network"
        ),
        "{error}"
    );
}

#[test]
fn an_architecture_of_100_kb_is_quoted_short() {
    let directory = scratch("an_architecture_of_100_kb_is_quoted_short");
    let architecture = "Linear(4, 3) -> ".repeat(6_400);
    let error = load_bytes(&directory, &version_2_file_of(&trained(), &architecture));
    assert!(matches!(error, ModelFileError::ArchitectureMismatch { .. }), "{error:?}");
    let message = error.to_string();
    assert!(message.len() < 600, "{} bytes: {}", message.len(), &message[..600.min(message.len())]);
    assert!(message.contains("(102200 more characters)"), "{message}");
}

#[test]
fn a_newer_format_is_named_by_its_version_even_with_another_header_or_length() {
    let directory = scratch("a_newer_format_is_named_by_its_version_even_with_another_header_or_length");
    for tail in [vec![0xff; 7], vec![7; 2 << 20]] {
        let bytes = [b"nn-model".to_vec(), vec![5], tail].concat();
        let error = load_bytes(&directory, &bytes);
        assert!(
            error.to_string().ends_with("model file format version 5; this library reads versions 2 to 4"),
            "{error}"
        );
    }
}

#[test]
fn a_file_longer_than_any_model_of_the_network_is_refused_unread() {
    let directory = scratch("a_file_longer_than_any_model_of_the_network_is_refused_unread");
    let (_, bytes) = saved(&directory);
    let long = [bytes, vec![0; 2 << 20]].concat();
    let error = load_bytes(&directory, &long);
    assert!(matches!(error, ModelFileError::TooLong { .. }), "{error:?}");
}

#[test]
fn a_directory_or_a_device_is_not_loaded() {
    let directory = scratch("a_directory_or_a_device_is_not_loaded");
    let error = Small::load(&directory).unwrap_err();
    assert!(error.to_string().ends_with("not a regular file (a directory); a model is loaded from a file"), "{error}");
    #[cfg(unix)]
    {
        let error = Small::load("/dev/zero").unwrap_err();
        assert!(error.to_string().contains("(a character device)"), "{error}");
    }
}

#[cfg(unix)]
#[test]
fn a_pipe_is_refused_instead_of_waited_on() {
    let directory = scratch("a_pipe_is_refused_instead_of_waited_on");
    let fifo = directory.join("model.fifo");
    let status = std::process::Command::new("mkfifo").arg(&fifo).status().expect("mkfifo runs");
    assert!(status.success());
    // No writer ever opens it: opening it to read would block for ever.
    let error = Small::load(&fifo).unwrap_err();
    assert!(error.to_string().contains("(a pipe)"), "{error}");
}

#[cfg(unix)]
#[test]
fn saving_keeps_the_permissions_of_the_file_it_replaces() {
    use std::os::unix::fs::PermissionsExt;
    let directory = scratch("saving_keeps_the_permissions_of_the_file_it_replaces");
    let (path, _) = saved(&directory);
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
    trained().save(&path).unwrap();
    assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
}

#[cfg(unix)]
#[test]
fn saving_through_a_symbolic_link_writes_its_target() {
    let directory = scratch("saving_through_a_symbolic_link_writes_its_target");
    let (target, _) = saved(&directory);
    let link = directory.join("latest.model");
    std::os::unix::fs::symlink("small.model", &link).unwrap();
    let other = Small::new(&mut nn::Pcg64Mcg::seed_from_u64(99));
    other.save(&link).unwrap();
    assert!(std::fs::symlink_metadata(&link).unwrap().file_type().is_symlink(), "the link stays a link");
    assert_eq!(Small::load(&target).unwrap(), other);
}

#[test]
fn a_file_name_near_the_limit_saves() {
    let directory = scratch("a_file_name_near_the_limit_saves");
    let path = directory.join(format!("{}.model", "m".repeat(244)));
    trained().save(&path).unwrap();
    assert_eq!(Small::load(&path).unwrap(), trained());
}

#[cfg(target_os = "linux")]
#[test]
fn temporaries_of_ended_saves_are_cleaned_up() {
    let directory = scratch("temporaries_of_ended_saves_are_cleaned_up");
    // Process 4294967295 cannot exist; process 1 always does.
    let stale = directory.join(".nn-save.4294967295.0.tmp");
    let running = directory.join(".nn-save.1.0.tmp");
    let unrelated = directory.join(".nn-save.notes.tmp");
    for path in [&stale, &running, &unrelated] {
        std::fs::write(path, b"partial").unwrap();
    }
    trained().save(directory.join("small.model")).unwrap();
    assert!(!stale.exists(), "the temporary of an ended process is removed");
    assert!(running.exists() && unrelated.exists(), "others are left alone");
}
