//! `spinhcl`: the companion CLI. `main` only parses arguments, sets up logging to stderr, and runs
//! the chosen subcommand; each subcommand lives in its own module (`src/<command>.rs`).

mod server;

use std::io::IsTerminal;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Keep Spinnaker delivery pipelines in Terraform: companion tools and an embedded engine.
#[derive(Debug, Parser)]
#[command(name = "spinhcl", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the embedded Spinnaker-compatible engine (Gate's HTTP API on SQLite).
    Server(server::ServerArgs),
}

fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("SPINHCL_LOG")
        .or_else(|_| tracing_subscriber::EnvFilter::try_from_default_env())
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .with_ansi(std::io::stderr().is_terminal())
        .init();
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging();
    let result = match cli.command {
        Command::Server(args) => server::run(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}
