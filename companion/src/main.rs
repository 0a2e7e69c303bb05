//! `spinhcl`: the companion CLI. `main` only parses arguments, sets up logging to stderr, and runs
//! the chosen subcommand; each subcommand lives in its own module (`server` here, the others in
//! the `companion` library so tests can call them directly).

mod server;

use std::io::IsTerminal;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use companion::{Status, convert, export, graph, judge, review, run, validate};

/// Keep Spinnaker delivery pipelines in Terraform: companion tools and an embedded engine.
#[derive(Debug, Parser)]
#[command(
    name = "spinhcl",
    version,
    about,
    after_help = "Exit codes: 0 success; 1 error or validation errors (one line on stderr naming \
the file or field); 2 `review --fail-on` triggered, or invalid command-line usage.\n\n\
Environment: SPINNAKER_ENDPOINT and SPINNAKER_TOKEN for --endpoint and --token; SPINHCL_LOG \
(e.g. `debug`) for log detail on stderr."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the embedded Spinnaker-compatible engine (Gate's HTTP API on SQLite).
    Server(server::ServerArgs),
    /// Write live pipelines as Terraform: one .tf per application, imports.sh and imports.tf.
    Export(export::ExportArgs),
    /// Convert pipeline JSON (one object or an array) to spinnaker_pipeline HCL, offline.
    Convert(convert::ConvertArgs),
    /// Check .tf files and pipeline JSON with the provider's plan-time rules.
    Validate(validate::ValidateArgs),
    /// Turn `terraform show -json PLAN` into a pull-request comment about pipeline changes.
    Review(review::ReviewArgs),
    /// Draw a pipeline's stage graph as Mermaid, DOT or SVG.
    Graph(graph::command::GraphArgs),
    /// Trigger a pipeline and follow its stages until it finishes or waits for judgment.
    Run(run::RunArgs),
    /// Answer a manual judgment: continue or stop, with an optional input.
    Judge(run::JudgeArgs),
    /// Canary analysis tools.
    #[command(subcommand)]
    Canary(judge::CanaryCommand),
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

fn dispatch(command: Command) -> anyhow::Result<Status> {
    let stdout = &mut std::io::stdout().lock();
    let result = match command {
        Command::Server(args) => return server::run(args).map(|()| Status::Success),
        Command::Export(args) => export::run(&args, stdout),
        Command::Convert(args) => convert::run(&args, stdout),
        Command::Validate(args) => validate::run(&args, stdout),
        Command::Review(args) => review::run(&args, stdout),
        Command::Graph(args) => graph::command::run(&args, stdout),
        Command::Canary(judge::CanaryCommand::Judge(args)) => judge::run(&args, stdout),
        Command::Run(args) => run::run(&args, stdout),
        Command::Judge(args) => run::judge(&args, stdout),
    };
    // Library errors already name their cause in one line; do not repeat the source chain.
    result.map_err(|e| anyhow::anyhow!("{e}"))
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging();
    match dispatch(cli.command) {
        Ok(status) => ExitCode::from(status.code()),
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}
