/// Writes `bytes` to this process's scratch file and returns its path: the readers under test
/// take paths, and go through the same opening, sniffing and bounds as a user's call.
pub fn scratch_file(bytes: &[u8]) -> std::path::PathBuf {
    let path = std::env::temp_dir().join(format!("nn-fuzz-{}", std::process::id()));
    std::fs::write(&path, bytes).expect("the scratch file is writable");
    path
}
