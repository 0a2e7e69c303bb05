//! Repository hygiene checks, run by `cargo test` (as a unit test of xtask) and `cargo xtask tidy`:
//! every Rust module opens with a `//!` line saying what it owns.

use crate::sh;
use anyhow::{Result, bail};
use std::path::{Path, PathBuf};

/// Folders that hold hand-written Rust code.
const CRATES: &[&str] = &[
    "pipeline",
    "gate",
    "engine",
    "canary",
    "provider",
    "companion",
    "xtask",
    "tests",
];

pub fn run() -> Result<()> {
    let problems = check(&sh::root());
    for p in &problems {
        eprintln!("{p}");
    }
    if !problems.is_empty() {
        bail!("{} tidy problem(s)", problems.len());
    }
    eprintln!("xtask: tidy: ok");
    Ok(())
}

/// Returns one line per file that breaks a rule.
pub fn check(root: &Path) -> Vec<String> {
    let mut files = Vec::new();
    for krate in CRATES {
        collect_rs(&root.join(krate), &mut files);
    }
    let mut problems = Vec::new();
    for file in files {
        let Ok(text) = std::fs::read_to_string(&file) else {
            problems.push(format!("{}: cannot be read as UTF-8", file.display()));
            continue;
        };
        let first = text.lines().map(str::trim).find(|l| !l.is_empty());
        if !first.is_some_and(|l| l.starts_with("//!")) {
            let rel = file.strip_prefix(root).unwrap_or(&file);
            problems.push(format!(
                "{}:1: module does not start with a `//!` line saying what it owns",
                rel.display()
            ));
        }
    }
    problems
}

fn collect_rs(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if path.is_dir() {
            if name == "target" || name == "snapshots" || name.starts_with('.') {
                continue;
            }
            collect_rs(&path, out);
        } else if name.ends_with(".rs") {
            out.push(path);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_module_starts_with_a_doc_line() {
        let problems = check(&sh::root());
        assert!(
            problems.is_empty(),
            "tidy problems:\n{}",
            problems.join("\n")
        );
    }

    #[test]
    fn a_module_without_a_doc_line_is_reported() {
        let dir = std::env::temp_dir().join(format!("xtask-tidy-{}", std::process::id()));
        let krate = dir.join("pipeline/src");
        std::fs::create_dir_all(&krate).unwrap();
        std::fs::write(krate.join("good.rs"), "//! Owns good things.\nfn a() {}\n").unwrap();
        std::fs::write(krate.join("bad.rs"), "// just a comment\nfn b() {}\n").unwrap();
        let problems = check(&dir);
        std::fs::remove_dir_all(&dir).ok();
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(problems[0].contains("bad.rs"));
    }
}
