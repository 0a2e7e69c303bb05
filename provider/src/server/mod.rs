//! The plugin server: go-plugin handshake (magic cookie, protocol version,
//! unix socket, AutoMTLS), the gRPC services, shutdown, and `--debug`
//! reattach mode. The generated protocol types stay private to this module.

mod grpc;
mod logging;
mod plugin;
mod tls;

use std::io::Write as _;
use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;

use tokio::net::UnixListener;
use tokio_stream::wrappers::UnixListenerStream;
use tokio_util::sync::CancellationToken;
use tonic::transport::Server;

use crate::provider::SpinnakerProvider;

#[allow(
    clippy::all,
    clippy::pedantic,
    dead_code,
    missing_docs,
    unreachable_pub
)]
mod proto {
    pub mod tfplugin5 {
        tonic::include_proto!("tfplugin5");
    }
    pub mod plugin {
        tonic::include_proto!("plugin");
    }
}

/// go-plugin's magic cookie for Terraform providers.
const MAGIC_COOKIE_KEY: &str = "TF_PLUGIN_MAGIC_COOKIE";
const MAGIC_COOKIE_VALUE: &str = "d602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2";
/// The address Terraform knows this provider by in reattach mode.
pub const PROVIDER_ADDRESS: &str = "registry.terraform.io/spinhcl/spinnaker";

const NOT_A_COMMAND: &str = "This binary is a plugin. These are not meant to be executed directly.\n\
Please execute the program that consumes these plugins, which will\n\
load any plugins automatically";

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ServeError {
    /// Terraform asked for protocol versions this provider does not speak.
    #[error(
        "terraform offered plugin protocol versions {0:?}, but this provider speaks only version 5"
    )]
    Protocol(String),
    /// The socket could not be created.
    #[error("cannot listen on a unix socket in {dir}: {source}")]
    Listen { dir: String, source: std::io::Error },
    /// The AutoMTLS certificate could not be made.
    #[error("cannot generate the TLS certificate: {0}")]
    Certificate(#[from] rcgen::Error),
    /// TLS could not be configured.
    #[error(transparent)]
    Tls(#[from] tls::TlsError),
    /// The gRPC server failed.
    #[error("grpc server failed: {0}")]
    Transport(#[from] tonic::transport::Error),
    /// Writing the handshake failed.
    #[error("cannot write the handshake: {0}")]
    Handshake(std::io::Error),
    /// The async runtime could not start.
    #[error("cannot start the async runtime: {0}")]
    Runtime(std::io::Error),
}

/// The binary's entry point: `terraform-provider-spinnaker [--debug]`.
pub fn main() -> ExitCode {
    let debug = std::env::args()
        .skip(1)
        .any(|a| a == "--debug" || a == "-debug");
    if !debug && std::env::var(MAGIC_COOKIE_KEY).ok().as_deref() != Some(MAGIC_COOKIE_VALUE) {
        eprintln!("{NOT_A_COMMAND}");
        return ExitCode::from(1);
    }
    logging::init();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("terraform-provider-spinnaker: {}", ServeError::Runtime(e));
            return ExitCode::from(1);
        }
    };
    match runtime.block_on(serve(debug)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{e}");
            eprintln!("terraform-provider-spinnaker: {e}");
            ExitCode::from(1)
        }
    }
}

/// Serves until Terraform calls GRPCController.Shutdown (or, in debug mode, Ctrl-C).
async fn serve(debug: bool) -> Result<(), ServeError> {
    if !debug
        && let Ok(versions) = std::env::var("PLUGIN_PROTOCOL_VERSIONS")
        && !versions.split(',').any(|v| v.trim() == "5")
    {
        return Err(ServeError::Protocol(versions));
    }
    let dir = tempfile::Builder::new()
        .prefix("spinnaker-plugin")
        .tempdir()
        .map_err(|source| ServeError::Listen {
            dir: std::env::temp_dir().display().to_string(),
            source,
        })?;
    let socket = dir.path().join("provider.sock");
    let listener = UnixListener::bind(&socket).map_err(|source| ServeError::Listen {
        dir: dir.path().display().to_string(),
        source,
    })?;

    let shutdown = CancellationToken::new();
    let provider = Arc::new(SpinnakerProvider::default());
    let router = Server::builder()
        .add_service(proto::tfplugin5::provider_server::ProviderServer::new(
            grpc::Tf5 {
                provider: provider.clone(),
            },
        ))
        .add_service(
            proto::plugin::grpc_controller_server::GrpcControllerServer::new(plugin::Controller {
                shutdown: shutdown.clone(),
            }),
        )
        .add_service(proto::plugin::grpc_stdio_server::GrpcStdioServer::new(
            plugin::Stdio {
                shutdown: shutdown.clone(),
            },
        ));
    let on_shutdown = {
        let token = shutdown.clone();
        async move { token.cancelled().await }
    };

    if debug {
        // Reattach mode: Terraform connects without AutoMTLS.
        announce_reattach(&socket)?;
        let stop = shutdown.clone();
        tokio::spawn(async move {
            let _ = tokio::signal::ctrl_c().await;
            stop.cancel();
        });
        router
            .serve_with_incoming_shutdown(UnixListenerStream::new(listener), on_shutdown)
            .await?;
    } else if let Ok(client_pem) = std::env::var("PLUGIN_CLIENT_CERT") {
        // AutoMTLS: Terraform refuses plain text once it sent a certificate.
        let cert = tls::server_cert()?;
        let acceptor = tls::acceptor(&cert, &client_pem)?;
        handshake(&socket, &cert.handshake_b64)?;
        let incoming = tls_incoming(listener, acceptor, shutdown.clone());
        router
            .serve_with_incoming_shutdown(incoming, on_shutdown)
            .await?;
    } else {
        handshake(&socket, "")?;
        router
            .serve_with_incoming_shutdown(UnixListenerStream::new(listener), on_shutdown)
            .await?;
    }
    provider.stop();
    drop(dir);
    Ok(())
}

/// Accepts connections and completes their TLS handshakes concurrently,
/// yielding the established ones; a failed handshake is logged and dropped.
fn tls_incoming(
    listener: UnixListener,
    acceptor: tokio_rustls::TlsAcceptor,
    shutdown: CancellationToken,
) -> tokio_stream::wrappers::ReceiverStream<std::io::Result<tls::TlsConn>> {
    let (tx, rx) = tokio::sync::mpsc::channel(16);
    tokio::spawn(async move {
        loop {
            let accepted = tokio::select! {
                () = shutdown.cancelled() => break,
                a = listener.accept() => a,
            };
            let socket = match accepted {
                Ok((socket, _)) => socket,
                Err(e) => {
                    tracing::warn!("accepting a connection failed: {e}");
                    continue;
                }
            };
            let (acceptor, tx) = (acceptor.clone(), tx.clone());
            tokio::spawn(async move {
                match acceptor.accept(socket).await {
                    Ok(stream) => {
                        let _ = tx.send(Ok(tls::TlsConn(stream))).await;
                    }
                    Err(e) => tracing::warn!("TLS handshake with terraform failed: {e}"),
                }
            });
        }
    });
    tokio_stream::wrappers::ReceiverStream::new(rx)
}

/// Writes go-plugin's handshake line: the only thing this process ever
/// writes to stdout.
#[allow(clippy::print_stdout)]
fn handshake(socket: &Path, cert_b64: &str) -> Result<(), ServeError> {
    let mut out = std::io::stdout().lock();
    writeln!(out, "1|5|unix|{}|grpc|{cert_b64}", socket.display())
        .map_err(ServeError::Handshake)?;
    out.flush().map_err(ServeError::Handshake)
}

/// Prints how to point Terraform at this process in `--debug` mode.
#[allow(clippy::print_stdout)]
fn announce_reattach(socket: &Path) -> Result<(), ServeError> {
    let value = serde_json::json!({
        PROVIDER_ADDRESS: {
            "Protocol": "grpc",
            "ProtocolVersion": 5,
            "Pid": std::process::id(),
            "Test": true,
            "Addr": {"Network": "unix", "String": socket.display().to_string()},
        }
    });
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "Provider started. To attach Terraform CLI, set the TF_REATTACH_PROVIDERS environment variable:\n\n\
         \tTF_REATTACH_PROVIDERS='{value}'\n"
    )
    .map_err(ServeError::Handshake)?;
    out.flush().map_err(ServeError::Handshake)
}

/// The GetProviderSchema response as Terraform receives it, rendered as
/// JSON (for the schema snapshot test).
pub fn provider_schema_json(provider: &SpinnakerProvider) -> serde_json::Value {
    grpc::provider_schema_json(provider)
}
