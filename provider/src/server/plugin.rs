//! go-plugin's side services: GRPCController (Shutdown) and GRPCStdio
//! (a stream that stays open, silent, until shutdown).

use std::pin::Pin;

use futures::Stream;
use tokio_util::sync::CancellationToken;
use tonic::{Request, Response, Status};

use super::proto::plugin::{
    Empty, StdioData, grpc_controller_server::GrpcController, grpc_stdio_server::GrpcStdio,
};

/// Shuts the server down when Terraform asks.
pub(crate) struct Controller {
    pub shutdown: CancellationToken,
}

#[tonic::async_trait]
impl GrpcController for Controller {
    async fn shutdown(&self, _: Request<Empty>) -> Result<Response<Empty>, Status> {
        tracing::debug!("shutdown requested by terraform");
        self.shutdown.cancel();
        Ok(Response::new(Empty {}))
    }
}

/// The stdio stream: logs go straight to stderr, so it carries nothing.
pub(crate) struct Stdio {
    pub shutdown: CancellationToken,
}

type StdioStream = Pin<Box<dyn Stream<Item = Result<StdioData, Status>> + Send>>;

#[tonic::async_trait]
impl GrpcStdio for Stdio {
    type StreamStdioStream = StdioStream;

    async fn stream_stdio(&self, _: Request<Empty>) -> Result<Response<StdioStream>, Status> {
        let shutdown = self.shutdown.clone();
        let stream = futures::stream::unfold(Some(shutdown), |state| async move {
            state?.cancelled().await;
            None::<(Result<StdioData, Status>, Option<CancellationToken>)>
        });
        Ok(Response::new(Box::pin(stream)))
    }
}
