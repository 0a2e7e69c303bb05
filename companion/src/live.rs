//! Talking to Gate from the CLI: the shared `--endpoint`/`--token` flags and a runtime to
//! drive the async `gate` client from synchronous commands.

use std::future::Future;

use clap::Args;

use crate::Error;

/// Gate connection flags shared by `export` and `graph`.
#[derive(Debug, Clone, Args)]
pub struct GateArgs {
    /// Gate's base URL, e.g. `https://gate.example.com` (or the embedded engine's).
    #[arg(long, env = "SPINNAKER_ENDPOINT", value_name = "URL")]
    pub endpoint: Option<String>,
    /// Bearer token for Gate (OAuth access token, IAP token). Never logged.
    #[arg(
        long,
        env = "SPINNAKER_TOKEN",
        value_name = "TOKEN",
        hide_env_values = true
    )]
    pub token: Option<String>,
}

impl GateArgs {
    /// A client for the endpoint.
    ///
    /// # Errors
    /// [`Error::Usage`] without `--endpoint` or with a malformed URL; [`Error::Gate`] when the
    /// client cannot be built.
    pub fn client(&self) -> Result<gate::Client, Error> {
        let Some(endpoint) = self.endpoint.as_deref() else {
            return Err(Error::Usage {
                flag: "--endpoint",
                message: "missing: give --endpoint or set SPINNAKER_ENDPOINT".into(),
            });
        };
        let url = url::Url::parse(endpoint).map_err(|e| Error::Usage {
            flag: "--endpoint",
            message: format!("{endpoint:?} is not a URL: {e}"),
        })?;
        let mut config = gate::Config::new(url);
        if let Some(token) = self.token.as_deref().filter(|t| !t.is_empty()) {
            config.auth = gate::Auth::Token(gate::Secret::new(token));
        }
        config.user_agent = format!("spinhcl/{}", env!("CARGO_PKG_VERSION"));
        gate::Client::new(config).map_err(|source| Error::Gate {
            context: format!("connecting to {endpoint}"),
            source,
        })
    }
}

/// Runs a future to completion on a small runtime of its own.
///
/// # Errors
/// [`Error::Output`] when the runtime cannot start.
pub fn block_on<F: Future>(future: F) -> Result<F::Output, Error> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    Ok(runtime.block_on(future))
}
