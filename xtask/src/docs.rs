//! `cargo xtask docs`: regenerates the Registry-style docs from the provider schema and
//! `examples/` by running the provider's docs-freshness test in update mode.

use crate::sh;
use anyhow::Result;

pub fn run(_args: &[String]) -> Result<()> {
    sh::run(
        sh::cargo()
            .args([
                "test",
                "--package",
                "provider",
                "--test",
                "it",
                "--",
                "docs",
            ])
            .env("SPINHCL_UPDATE_DOCS", "1"),
    )
}
