//! `spinhcl server`: runs the embedded engine (`engine::server::run`) until SIGINT or SIGTERM.

use std::path::PathBuf;

use anyhow::Context;
use clap::Args;

/// Flags of `spinhcl server`.
#[derive(Debug, Args)]
pub struct ServerArgs {
    /// Address to listen on: `host:port`, or `:port` for 127.0.0.1 (`:0` picks a free port).
    #[arg(long, default_value = engine::server::DEFAULT_LISTEN)]
    listen: String,
    /// Storage folder (default: `<user data dir>/spinhcl`).
    #[arg(long, value_name = "DIR", conflicts_with = "dev")]
    data: Option<PathBuf>,
    /// Use a fresh temporary storage folder, announced on stderr and deleted on exit.
    #[arg(long)]
    dev: bool,
    /// TOML configuration file (auth, limits, ...; see docs/engine.md).
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
}

/// Builds a runtime and runs the server.
pub fn run(args: ServerArgs) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let options = engine::ServerOptions {
        listen: Some(args.listen),
        data: args.data,
        dev: args.dev,
        config: args.config,
    };
    runtime
        .block_on(engine::run(options))
        .context("spinhcl server failed")
}
