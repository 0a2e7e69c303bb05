//! `cargo xtask tools`: installs Terraform 1.0.3, the Go null provider, moto and Prometheus
//! through `scripts/tools.sh`, and reads back where they are.

use crate::sh;
use anyhow::Result;
use std::process::Command;

/// One installed tool: the environment variable that names it and its path.
pub type ToolVar = (String, String);

/// Installs the named tools (all when `which` is empty) and returns their `KEY=path` pairs.
pub fn install(which: &[&str]) -> Result<Vec<ToolVar>> {
    let script = sh::root().join("scripts/tools.sh");
    let out = sh::output(Command::new("bash").arg(script).args(which))?;
    Ok(out
        .lines()
        .filter_map(|line| line.split_once('='))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect())
}

pub fn run(args: &[String]) -> Result<()> {
    let which: Vec<&str> = args.iter().map(String::as_str).collect();
    for (key, value) in install(&which)? {
        eprintln!("{key}={value}");
    }
    Ok(())
}
