//! `cargo xtask bench`: runs the benchmark targets in release mode, with the real components
//! installed, and prints their figures (recorded by hand in docs/performance.md).

use crate::{sh, test, tools};
use anyhow::{Result, bail};

/// (name, package, bench target, tools it needs)
const BENCHES: &[(&str, &str, &str, &[&str])] = &[
    ("engine", "engine", "storage", &[]),
    ("provider", "e2e", "provider_plan", &["terraform", "null"]),
    ("pipelines", "e2e", "pipeline_plan", &["terraform", "null"]),
    ("executions", "engine", "executions", &[]),
    ("execution-core", "execution", "scheduler", &[]),
    ("gate", "gate", "client", &[]),
    ("cli", "companion", "cli", &[]),
    ("pipeline", "pipeline", "pipeline", &[]),
    ("canary", "canary", "judge", &[]),
];

pub fn run(args: &[String]) -> Result<()> {
    let wanted = args.first().map(String::as_str);
    if let Some(name) = wanted
        && !BENCHES.iter().any(|(n, ..)| *n == name)
    {
        let known: Vec<&str> = BENCHES.iter().map(|(n, ..)| *n).collect();
        bail!("unknown benchmark `{name}`; known: {}", known.join(", "));
    }
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    eprintln!("xtask: benchmarks on a machine with {cores} cores");
    let target = test::target_dir()?;
    for (name, package, bench, needs) in BENCHES {
        if wanted.is_some_and(|w| w != *name) {
            continue;
        }
        let bench_file = sh::root()
            .join(package_dir(package))
            .join(format!("benches/{bench}.rs"));
        if !bench_file.exists() {
            eprintln!(
                "xtask: skipping {name}: {} does not exist yet",
                bench_file.display()
            );
            continue;
        }
        let vars = if needs.is_empty() {
            Vec::new()
        } else {
            tools::install(needs)?
        };
        if *package == "e2e" {
            sh::run(sh::cargo().args([
                "build",
                "--release",
                "--package",
                "provider",
                "--bin",
                "terraform-provider-spinnaker",
                "--package",
                "companion",
                "--bin",
                "spinhcl",
            ]))?;
        }
        let mut cmd = sh::cargo();
        cmd.args(["bench", "--package", package, "--bench", bench])
            .envs(vars)
            .env("RUST_BACKTRACE", "0")
            .env(
                "SPINHCL_PROVIDER_BIN",
                target.join("release/terraform-provider-spinnaker"),
            )
            .env("SPINHCL_BIN", target.join("release/spinhcl"));
        sh::run(&mut cmd)?;
    }
    Ok(())
}

fn package_dir(package: &str) -> &str {
    match package {
        "e2e" => "tests",
        other => other,
    }
}
