//! Tests of the companion commands through the library (`companion::*::run` and helpers) and,
//! where the shell matters, the `spinhcl` binary.

mod convert;
mod graph;
mod review;
mod validate;

use std::path::PathBuf;

/// `../shared/corpus` next to the repository, or `None` (the caller prints that it skips).
pub fn corpus(sub: &str, test: &str) -> Option<Vec<PathBuf>> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/corpus")
        .join(sub);
    let Ok(read) = std::fs::read_dir(&dir) else {
        eprintln!("skipping {test}: {} not found", dir.display());
        return None;
    };
    let mut files: Vec<PathBuf> = read
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    Some(files)
}

/// The `terraform` on PATH, if any.
pub fn terraform() -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join("terraform"))
        .find(|p| p.is_file())
}

/// Runs a library command, returning its status and output text.
pub fn run_command(
    f: impl FnOnce(&mut Vec<u8>) -> Result<companion::Status, companion::Error>,
) -> (companion::Status, String) {
    let mut out = Vec::new();
    let status = f(&mut out).unwrap_or_else(|e| panic!("command failed: {e}"));
    (status, String::from_utf8(out).expect("utf-8 output"))
}
