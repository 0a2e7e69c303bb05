//! Wiring: the shared [`AppState`], the [`router`], [`serve`] on a bound listener with a shutdown
//! future, and [`run`] (what `spinhcl server` calls: config, data folder, bind, signals).

use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::middleware;
use tokio::net::TcpListener;

use crate::api::{self, testing::Faults};
use crate::auth::{self, Authenticator};
use crate::config::{Config, ConfigError};
use crate::executions::Executions;
use crate::store::{Store, StoreError};

/// Gate's default address.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8084";

/// State shared by every handler; cheap to clone.
#[derive(Clone)]
pub struct AppState {
    /// The database.
    pub store: Store,
    /// The loaded configuration.
    pub config: Arc<Config>,
    /// Resolves callers.
    pub auth: Arc<Authenticator>,
    /// Fault queue and counters, when `[testing] faults = true`.
    pub faults: Option<Arc<Faults>>,
    /// The pipeline execution driver.
    pub executions: Executions,
}

impl AppState {
    /// Builds the state from an opened store and a configuration, and starts the execution
    /// driver (which resumes unfinished executions) on the current tokio runtime.
    pub fn new(store: Store, config: Config) -> Self {
        Self::with_clock(store, config, Arc::new(execution::SystemClock))
    }

    /// [`AppState::new`] with executions on `clock` (tests pass a `ManualClock` and call
    /// `executions.tick()` after moving it).
    pub fn with_clock(store: Store, config: Config, clock: Arc<dyn execution::Clock>) -> Self {
        let auth = Arc::new(Authenticator::new(&config.auth));
        let faults = config.testing.faults.then(|| Arc::new(Faults::default()));
        let executions = Executions::start(store.clone(), &config, clock);
        Self {
            store,
            config: Arc::new(config),
            auth,
            faults,
            executions,
        }
    }
}

/// The whole HTTP API. New controllers add `.merge(api::<controller>::routes())` here.
pub fn router(state: AppState) -> Router {
    let mut routes = Router::new()
        .merge(api::health::routes())
        .merge(api::auth::routes())
        .merge(api::applications::routes())
        .merge(api::tasks::routes())
        .merge(api::pipeline_configs::routes())
        .merge(api::canary_configs::routes())
        .merge(api::executions::routes())
        .merge(api::webhooks::routes());
    if state.faults.is_some() {
        routes = routes.merge(api::testing::routes());
    }
    routes
        .fallback(api::not_found)
        .method_not_allowed_fallback(api::method_not_allowed)
        .layer(middleware::from_fn_with_state(
            state.clone(),
            auth::authenticate,
        ))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            api::testing::observe,
        ))
        .layer(middleware::from_fn(api::gate_errors))
        .layer(DefaultBodyLimit::max(state.config.limits.max_body_bytes))
        .with_state(state)
}

/// Serves the API on `listener` until `shutdown` completes, then finishes in-flight requests.
///
/// # Errors
/// The I/O error that stopped the server.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router(state))
        .with_graceful_shutdown(shutdown)
        .await
}

/// Options of `spinhcl server`.
#[derive(Debug, Clone, Default)]
pub struct ServerOptions {
    /// `--listen`: `host:port`, or `:port` for loopback. Default `127.0.0.1:8084`.
    pub listen: Option<String>,
    /// `--data DIR`: the storage folder. Default `<user data dir>/spinhcl`.
    pub data: Option<PathBuf>,
    /// `--dev`: use a fresh temporary folder, removed on exit.
    pub dev: bool,
    /// `--config FILE`: TOML configuration.
    pub config: Option<PathBuf>,
}

/// Why the server could not start or stopped.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ServerError {
    /// The configuration file is unusable.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// `--dev` and `--data` were both given.
    #[error("--dev and --data cannot be used together")]
    DevWithData,
    /// No data folder was given and the user's data directory is unknown.
    #[error("cannot determine the user's data directory; pass --data DIR")]
    NoDataDir,
    /// The data folder could not be created.
    #[error("cannot create data folder {path}")]
    DataDir {
        /// The folder.
        path: PathBuf,
        /// The I/O failure.
        #[source]
        source: std::io::Error,
    },
    /// The database could not be opened.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The address could not be bound.
    #[error("cannot listen on {addr}")]
    Bind {
        /// The address asked for.
        addr: String,
        /// The I/O failure.
        #[source]
        source: std::io::Error,
    },
    /// The server stopped with an I/O error.
    #[error("server failed")]
    Serve(#[source] std::io::Error),
}

/// `:8084` means loopback; anything else is used as given.
pub fn listen_address(listen: Option<&str>) -> String {
    match listen.map(str::trim) {
        None | Some("") => DEFAULT_LISTEN.to_owned(),
        Some(port) if port.starts_with(':') => format!("127.0.0.1{port}"),
        Some(addr) => addr.to_owned(),
    }
}

/// Runs `spinhcl server` until SIGINT or SIGTERM.
///
/// # Errors
/// [`ServerError`] naming what failed (config file, data folder, database, bind address).
pub async fn run(options: ServerOptions) -> Result<(), ServerError> {
    let config = match &options.config {
        Some(path) => Config::load(path)?,
        None => Config::default(),
    };
    if config.testing.faults {
        tracing::warn!("[testing] faults = true: test-only fault injection routes are enabled");
    }
    let (data_dir, _dev_dir) = if options.dev {
        if options.data.is_some() {
            return Err(ServerError::DevWithData);
        }
        let dir = tempfile::Builder::new()
            .prefix("spinhcl-dev-")
            .tempdir()
            .map_err(|source| ServerError::DataDir {
                path: std::env::temp_dir(),
                source,
            })?;
        tracing::info!(
            "spinhcl server --dev: using fresh data folder {} (deleted on exit)",
            dir.path().display()
        );
        (dir.path().to_owned(), Some(dir))
    } else {
        let dir = match &options.data {
            Some(dir) => dir.clone(),
            None => dirs::data_dir()
                .ok_or(ServerError::NoDataDir)?
                .join("spinhcl"),
        };
        std::fs::create_dir_all(&dir).map_err(|source| ServerError::DataDir {
            path: dir.clone(),
            source,
        })?;
        tracing::info!("using data folder {}", dir.display());
        (dir, None)
    };
    let store = Store::open(&data_dir)?;
    let addr = listen_address(options.listen.as_deref());
    let listener = TcpListener::bind(&addr)
        .await
        .map_err(|source| ServerError::Bind {
            addr: addr.clone(),
            source,
        })?;
    let local: SocketAddr = listener.local_addr().map_err(|source| ServerError::Bind {
        addr: addr.clone(),
        source,
    })?;
    tracing::info!("spinhcl server listening on http://{local}");
    let state = AppState::new(store.clone(), config);
    let result = serve(listener, state, shutdown_signal()).await;
    tracing::info!("shutting down: finishing queued writes");
    store.shutdown();
    result.map_err(ServerError::Serve)
}

/// Completes on SIGINT (Ctrl-C) or SIGTERM.
pub async fn shutdown_signal() {
    let interrupt = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => tracing::info!("received SIGINT"),
        () = terminate => tracing::info!("received SIGTERM"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listen_shorthands() {
        assert_eq!(listen_address(None), "127.0.0.1:8084");
        assert_eq!(listen_address(Some(":0")), "127.0.0.1:0");
        assert_eq!(listen_address(Some("0.0.0.0:9000")), "0.0.0.0:9000");
    }
}
