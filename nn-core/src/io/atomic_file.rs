//! Replacing a file atomically: the new contents go to a temporary file beside it, which is
//! flushed to disk and then renamed over the old one. A reader sees the old file or the new
//! one, never a mix, and a save that fails or is interrupted leaves the old file as it was.
//!
//! Written with `std` alone rather than the `tempfile` crate: this is the one temporary file the
//! library makes, and `tempfile` (with `rustix`) would add seconds to every clean build.

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// Tries this many names before giving up (a name is taken only by a leftover of a crashed
/// process that had the same process id).
const NAME_ATTEMPTS: usize = 100;

/// Writes `bytes` to `path`, replacing what was there only once every byte is on disk.
///
/// As `File::create` would, a symbolic link is written through (its final target is replaced,
/// the link stays) and an existing file keeps its permissions. Temporaries left behind by
/// saving processes that no longer run are removed from the directory.
///
/// # Errors
/// Any error creating, writing, flushing or renaming the temporary file (which is then removed),
/// or a `path` without a file name.
pub(crate) fn write_atomically(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let path = &final_target(path)?;
    if path.file_name().is_none() {
        return Err(io::Error::new(io::ErrorKind::InvalidInput, "the path does not name a file"));
    }
    let directory = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    let permissions = std::fs::metadata(path).ok().filter(|metadata| metadata.is_file()).map(|m| m.permissions());
    let temporary = {
        // Bound in this order so that on an early return the file is closed before it is
        // removed; the block closes it before the rename.
        let (temporary, mut file) = create_temporary(directory)?;
        file.write_all(bytes)?;
        if let Some(permissions) = permissions {
            file.set_permissions(permissions)?;
        }
        file.sync_all()?;
        temporary
    };
    std::fs::rename(&temporary.path, path)?;
    temporary.persisted();
    sync_directory(directory);
    remove_stale_temporaries(directory);
    Ok(())
}

/// Symbolic links followed this many times at most, as the operating system does.
const LINK_LEVELS: usize = 40;

/// `path` with symbolic links followed to the file they finally name (which may not exist yet).
fn final_target(path: &Path) -> io::Result<PathBuf> {
    let mut path = path.to_path_buf();
    for _ in 0..LINK_LEVELS {
        match std::fs::symlink_metadata(&path) {
            Ok(metadata) if metadata.file_type().is_symlink() => {
                let target = std::fs::read_link(&path)?;
                // A relative target is relative to the link's directory; `join` keeps an
                // absolute one as it is.
                path = match path.parent() {
                    Some(parent) => parent.join(target),
                    None => target,
                };
            }
            _ => return Ok(path),
        }
    }
    Err(io::Error::other(format!("{}: too many levels of symbolic links", path.display())))
}

/// The first part of every temporary's name: short, so that a destination whose name is near
/// the file system's limit still has a temporary beside it, and fixed, so that leftovers are
/// recognised.
const TEMPORARY_PREFIX: &str = ".nn-save.";
const TEMPORARY_SUFFIX: &str = ".tmp";

/// A temporary file that is removed when dropped, unless it was renamed into place.
#[derive(Debug)]
struct Temporary {
    path: PathBuf,
    renamed: bool,
}

impl Temporary {
    fn persisted(mut self) {
        self.renamed = true;
    }
}

impl Drop for Temporary {
    fn drop(&mut self) {
        if !self.renamed {
            // Best effort: the error being returned matters more than a leftover.
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

/// Creates a new file `.nn-save.{process id}.{n}.tmp` in `directory`, never opening one that
/// exists.
fn create_temporary(directory: &Path) -> io::Result<(Temporary, File)> {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let process = std::process::id();
    let names = std::iter::repeat_with(|| COUNTER.fetch_add(1, Ordering::Relaxed))
        .map(|n| directory.join(format!("{TEMPORARY_PREFIX}{process}.{n}{TEMPORARY_SUFFIX}")));
    create_first_free(names.take(NAME_ATTEMPTS))
}

/// Removes the temporaries in `directory` whose saving process no longer runs (killed during a
/// save), so that they do not pile up. Best effort, and only where a process's liveness can be
/// told (Linux, through `/proc`); a temporary of a running process is never touched.
fn remove_stale_temporaries(directory: &Path) {
    let Ok(entries) = std::fs::read_dir(directory) else { return };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(process) = name.to_str().and_then(temporary_process) else { continue };
        if process != std::process::id() && process_ended(process) {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

/// The process id in a temporary's name, if `name` is one.
fn temporary_process(name: &str) -> Option<u32> {
    let middle = name.strip_prefix(TEMPORARY_PREFIX)?.strip_suffix(TEMPORARY_SUFFIX)?;
    let (process, counter) = middle.split_once('.')?;
    counter.parse::<u64>().ok()?;
    process.parse().ok()
}

/// Whether process `id` is known to have ended.
fn process_ended(id: u32) -> bool {
    if cfg!(target_os = "linux") {
        Path::new("/proc/self").exists() && !Path::new("/proc").join(id.to_string()).exists()
    } else {
        false
    }
}

/// Creates the first of `paths` that does not exist yet.
fn create_first_free(paths: impl Iterator<Item = PathBuf>) -> io::Result<(Temporary, File)> {
    let mut last_error = io::Error::new(io::ErrorKind::AlreadyExists, "no name was free");
    for path in paths {
        match OpenOptions::new().write(true).create_new(true).open(&path) {
            Ok(file) => return Ok((Temporary { path, renamed: false }, file)),
            Err(error) if error.kind() == io::ErrorKind::AlreadyExists => last_error = error,
            Err(error) => return Err(error),
        }
    }
    Err(last_error)
}

/// Flushes the directory entry of the rename to disk, where the platform allows it (Unix; on
/// other platforms, and on file systems that refuse it, the rename is still atomic, just not
/// yet durable).
fn sync_directory(directory: &Path) {
    #[cfg(unix)]
    if let Ok(directory) = File::open(directory) {
        let _ = directory.sync_all();
    }
    #[cfg(not(unix))]
    let _ = directory;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entries(directory: &Path) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(directory)
            .unwrap()
            .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn writes_a_new_file() {
        let directory = tempfile::tempdir().unwrap();
        let path = directory.path().join("model");
        write_atomically(&path, b"contents").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"contents");
        assert_eq!(entries(directory.path()), ["model"]);
    }

    #[test]
    fn replaces_an_existing_file_and_leaves_no_temporary() {
        let directory = tempfile::tempdir().unwrap();
        let path = directory.path().join("model");
        std::fs::write(&path, b"old contents, longer than the new").unwrap();
        write_atomically(&path, b"new").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"new");
        assert_eq!(entries(directory.path()), ["model"]);
    }

    #[test]
    fn concurrent_writers_leave_one_whole_file_and_no_temporaries() {
        let directory = tempfile::tempdir().unwrap();
        let path = directory.path().join("model");
        let contents: Vec<Vec<u8>> = (0..8u8).map(|writer| vec![writer; 64 * 1024]).collect();
        std::thread::scope(|scope| {
            for bytes in &contents {
                let path = &path;
                scope.spawn(move || (0..10).for_each(|_| write_atomically(path, bytes).unwrap()));
            }
        });
        assert!(contents.contains(&std::fs::read(&path).unwrap()), "one writer's bytes, whole");
        assert_eq!(entries(directory.path()), ["model"]);
    }

    #[test]
    fn a_failed_rename_removes_the_temporary_and_keeps_what_was_there() {
        let directory = tempfile::tempdir().unwrap();
        // A non-empty directory cannot be replaced by a file.
        let path = directory.path().join("taken");
        std::fs::create_dir(&path).unwrap();
        std::fs::write(path.join("inside"), b"kept").unwrap();
        assert!(write_atomically(&path, b"new").is_err());
        assert_eq!(entries(directory.path()), ["taken"]);
        assert_eq!(std::fs::read(path.join("inside")).unwrap(), b"kept");
    }

    #[test]
    fn a_missing_directory_is_an_error_that_creates_nothing() {
        let directory = tempfile::tempdir().unwrap();
        let error = write_atomically(&directory.path().join("missing").join("model"), b"x").unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::NotFound);
        assert!(entries(directory.path()).is_empty());
    }

    #[test]
    fn a_path_without_a_file_name_is_refused() {
        let error = write_atomically(Path::new("/"), b"x").unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::InvalidInput);
    }

    #[test]
    fn names_left_over_by_another_process_are_skipped_and_kept() {
        let directory = tempfile::tempdir().unwrap();
        let names: Vec<PathBuf> = ["a", "b", "c"].iter().map(|name| directory.path().join(name)).collect();
        std::fs::write(&names[0], b"left over").unwrap();
        std::fs::write(&names[1], b"left over").unwrap();
        let (temporary, _) = create_first_free(names.clone().into_iter()).unwrap();
        assert_eq!(temporary.path, names[2]);
        drop(temporary);
        assert_eq!(entries(directory.path()), ["a", "b"], "the temporary is removed when dropped");
        let error = create_first_free(names[..2].iter().cloned()).unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::AlreadyExists);
        assert_eq!(std::fs::read(&names[0]).unwrap(), b"left over");
    }
}
