//! Hostile files go through every reader in a child process whose address space is capped at
//! 1 GiB: each must end in an error naming what was wrong, within the reader's limits, where
//! before the limits they made the process allocate gigabytes or abort. Linux only (`ulimit -v`).
#![cfg(target_os = "linux")]

use flate2::write::GzEncoder;
use flate2::Compression;
use nn::data::{limits, mnist, read_idx_images, read_kaggle_test, read_kaggle_train, set_limits, DataError, Limits};
use nn::prelude::*;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The address space the child may map, in KiB.
const CAP_KIB: u64 = 1 << 20;

network! {
    struct Net: [1, 6, 6] { Conv2d(1, 2, 3) -> BatchNorm2d(2) -> ReLU -> Flatten -> Linear(32, 3) }
}

#[test]
fn hostile_files_stay_within_a_capped_address_space() {
    let output = Command::new("sh")
        .arg("-c")
        .arg(format!("ulimit -v {CAP_KIB} && exec \"$@\""))
        .arg("sh")
        .arg(std::env::current_exe().unwrap())
        .args(["--exact", "hostile_files_fail_within_the_limits", "--test-threads=1"])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "the capped child failed ({}):\n{}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(String::from_utf8_lossy(&output.stdout).contains("1 passed"), "the child ran no test");
}

/// What the capped child runs (also a test on its own, uncapped): the default limits first, then
/// lowered ones, each case an error of the right kind. It is the only test in this file that
/// changes the process's limits.
#[test]
fn hostile_files_fail_within_the_limits() {
    let directory = tempfile::tempdir().unwrap();
    let dir = directory.path();
    assert_eq!(limits(), Limits::DEFAULT);

    // Not regular files, and no line breaks: refused within a megabyte.
    let error = read_kaggle_test("/dev/zero").unwrap_err();
    assert!(error.to_string().contains("line 1 is longer than 1048576 bytes"), "{error}");
    assert!(Net::load("/dev/zero").is_err());
    assert!(Net::load_safetensors("/dev/zero").is_err());

    // A small gzip file of one 64 MiB line (once a 4 GiB allocation).
    let line = write(dir, "line.csv.gz", &members(&vec![b'7'; 1 << 20], 64));
    let error = read_kaggle_train(&line).unwrap_err();
    assert!(error.to_string().contains("line 1 is longer than"), "{error}");

    // A header announcing 3.4 GB of images: refused before reading.
    let error = read_idx_images(write(dir, "huge.idx", &idx_header(u32::MAX))).unwrap_err();
    assert!(matches!(error, DataError::TooLarge { setting: "idx_bytes", .. }), "{error}");

    // Lowered limits bound what the same kinds of file can take, and say which limit they hit.
    set_limits(Limits { line_bytes: 64 << 10, text_bytes: 16 << 20, idx_bytes: 32 << 20, dataset_bytes: 64 << 20 });

    // 1.3 million images of zeros in a 1 MB file: 1 GB of pixels and 4 GB as floats.
    let bomb = [idx_header(1_300_000), members(&vec![0; 1 << 20], 1_000)].concat();
    let bomb = write(dir, "bomb-images.gz", &bomb);
    let labels =
        write(dir, "labels.idx", &[0x0801u32, 40_000].iter().flat_map(|w| w.to_be_bytes()).collect::<Vec<_>>());
    let error = read_idx_images(&bomb).unwrap_err();
    assert!(matches!(error, DataError::TooLarge { setting: "idx_bytes", .. }), "{error}");
    let error = mnist::read_idx_pair(&bomb, &labels).unwrap_err();
    assert!(matches!(error, DataError::TooLarge { setting: "dataset_bytes", .. }), "{error}");

    // 40,000 images: 31 MB of pixels fit `idx_bytes`, but not the 125 MB of floats.
    let many = write(dir, "many-images.gz", &[idx_header(40_000), members(&vec![0; 784], 40_000)].concat());
    let error = mnist::read_idx_pair(&many, &labels).unwrap_err();
    assert!(matches!(error, DataError::TooLarge { setting: "dataset_bytes", .. }), "{error}");
    assert!(error.to_string().contains("raise it with `nn::data::set_limits`"), "{error}");

    // 64 MiB of valid Kaggle rows: stops at 16 MiB of text.
    let row = format!("1{}\n", ",0".repeat(784));
    let header = format!("label{}\n", (0..784).map(|i| format!(",pixel{i}")).collect::<String>());
    let rows = write(dir, "rows.csv.gz", &[gzip(header.as_bytes()), members(row.repeat(668).as_bytes(), 64)].concat());
    let error = read_kaggle_train(&rows).unwrap_err();
    assert!(error.to_string().contains("more than 16777216 bytes of text (the limit `Limits::text_bytes`"), "{error}");

    // A 100 KiB line, over the lowered 64 KiB.
    let error = read_kaggle_test(write(dir, "wide.csv", &vec![b'1'; 100 << 10])).unwrap_err();
    assert!(error.to_string().contains("line 1 is longer than 65536 bytes"), "{error}");
    set_limits(Limits::DEFAULT);
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = GzEncoder::new(Vec::new(), Compression::best());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

/// `count` gzip members of `bytes` each: a valid file that expands `count` times `bytes`,
/// compressed once.
fn members(bytes: &[u8], count: usize) -> Vec<u8> {
    gzip(bytes).repeat(count)
}

/// The gzip member of an IDX images header for `count` images of 28x28.
fn idx_header(count: u32) -> Vec<u8> {
    gzip(&[0x0803u32, count, 28, 28].iter().flat_map(|w| w.to_be_bytes()).collect::<Vec<_>>())
}
