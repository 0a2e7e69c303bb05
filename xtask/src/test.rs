//! `cargo xtask test`: the README's test command. Installs the real components, builds the
//! binaries the end-to-end tests drive, and runs every test in the workspace against them.

use crate::{sh, tools};
use anyhow::{Context, Result};
use std::path::PathBuf;

pub fn run(extra: &[String]) -> Result<()> {
    let tool_vars = tools::install(&[])?;
    let target = target_dir()?;

    sh::run(sh::cargo().args([
        "build",
        "--package",
        "provider",
        "--bin",
        "terraform-provider-spinnaker",
        "--package",
        "companion",
        "--bin",
        "spinhcl",
    ]))?;

    let mut cmd = sh::cargo();
    cmd.args(["test", "--workspace", "--no-fail-fast"])
        .args(extra);
    cmd.envs(tool_vars);
    cmd.env("TF_ACC", "1")
        .env("SPINHCL_REQUIRE_TOOLS", "1")
        .env("RUST_BACKTRACE", "0")
        .env(
            "SPINHCL_PROVIDER_BIN",
            target.join("debug/terraform-provider-spinnaker"),
        )
        .env("SPINHCL_BIN", target.join("debug/spinhcl"));
    sh::run(&mut cmd)
}

/// Cargo's target directory for this workspace (honours `CARGO_TARGET_DIR`).
pub fn target_dir() -> Result<PathBuf> {
    let meta = sh::output(sh::cargo().args(["metadata", "--format-version", "1", "--no-deps"]))?;
    let value: serde_json::Value =
        serde_json::from_str(&meta).context("cargo metadata printed invalid JSON")?;
    let dir = value
        .get("target_directory")
        .and_then(serde_json::Value::as_str)
        .context("cargo metadata has no target_directory")?;
    Ok(PathBuf::from(dir))
}
