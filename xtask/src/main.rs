//! `cargo xtask`: the project's automation (tools, tests, quickstart, benchmarks, docs, tidy).
//!
//! Thin on purpose: each subcommand lives in its own module and shells out to `cargo`,
//! `terraform` and `scripts/tools.sh`, so that what CI runs is what a developer runs.

mod bench;
mod docs;
mod http;
mod quickstart;
mod sh;
mod test;
mod tidy;
mod tools;

use anyhow::{Result, bail};
use std::process::ExitCode;

const USAGE: &str = "\
usage: cargo xtask <command>

commands:
  quickstart   build everything, start the embedded engine, apply examples/quickstart
               with Terraform, trigger the pipeline and show the result
  test         install the real components (Terraform 1.0.3, null provider, moto,
               Prometheus) and run every test of the workspace against them
  tools        install the real components only, and print where they are
  bench [NAME] run the benchmarks (release builds); NAME picks one: engine, provider,
               pipelines, executions, execution-core, gate, cli, pipeline, canary
  docs         regenerate docs/ from the provider schema and examples/
  tidy         check repository hygiene (module docs)
";

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            // `{:#}` prints the whole cause chain on one line, without a backtrace.
            eprintln!("xtask: error: {err:#}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(command) = args.first() else {
        eprint!("{USAGE}");
        bail!("no command given");
    };
    let rest = &args[1..];
    match command.as_str() {
        "quickstart" => quickstart::run(rest),
        "test" => test::run(rest),
        "tools" => tools::run(rest),
        "bench" => bench::run(rest),
        "docs" => docs::run(rest),
        "tidy" => tidy::run(),
        "-h" | "--help" | "help" => {
            eprint!("{USAGE}");
            Ok(())
        }
        other => {
            eprint!("{USAGE}");
            bail!("unknown command `{other}`")
        }
    }
}
