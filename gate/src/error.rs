//! `Error`: every way a call to Gate can fail, with messages that say what to do.

use std::time::Duration;

/// A failed Gate call.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Gate answered 404 for something that has to exist.
    #[error("not found: {message}")]
    NotFound {
        /// Gate's message, or the request that found nothing.
        message: String,
    },
    /// Gate refused the request as invalid (400 or 422); the message is Gate's own.
    #[error("gate rejected the request (HTTP {status}): {message}")]
    BadRequest {
        /// HTTP status.
        status: u16,
        /// `message` from Gate's error body.
        message: String,
    },
    /// Gate wants credentials (401, or a redirect to `/login`).
    #[error(
        "not authenticated with gate at {endpoint} (auth mode: {mode}); check the token, username/password or client certificate"
    )]
    Unauthenticated {
        /// Gate's endpoint.
        endpoint: String,
        /// The configured auth mode.
        mode: &'static str,
    },
    /// Gate answered 403.
    #[error("access denied by gate: {message}; check the user's permissions on the application")]
    Forbidden {
        /// `message` from Gate's error body.
        message: String,
    },
    /// No connection could be made (refused, DNS failure, TLS failure, connect timeout).
    #[error(
        "cannot reach gate at {endpoint}: {reason}; check the endpoint and that gate is running"
    )]
    Unreachable {
        /// Gate's endpoint.
        endpoint: String,
        /// The innermost cause, e.g. `Connection refused (os error 111)`.
        reason: String,
        /// The transport error.
        #[source]
        source: reqwest::Error,
    },
    /// A request or wait took longer than its bound.
    #[error(
        "timed out after {after:?} waiting for {operation}; raise the timeout or check gate's health"
    )]
    Timeout {
        /// What was being waited for, e.g. `GET /applications/{app}` or `task 01H…`.
        operation: String,
        /// The bound that was hit.
        after: Duration,
    },
    /// An Orca task finished without succeeding.
    #[error("task {id} ended with status {status}: {message}")]
    TaskFailed {
        /// Task id (ULID).
        id: String,
        /// Final status, e.g. `TERMINAL`.
        status: String,
        /// The task's first error.
        message: String,
    },
    /// Gate kept asking the client to slow down (429) beyond what the client waits for.
    #[error(
        "gate is rate limiting requests (HTTP 429) and asked to wait {retry_after:?}; lower requests_per_second or max_parallel_requests"
    )]
    RateLimited {
        /// The wait Gate asked for, if it said.
        retry_after: Option<Duration>,
    },
    /// Any other unexpected HTTP status.
    #[error("gate answered HTTP {status} to {operation}: {message}")]
    Http {
        /// HTTP status.
        status: u16,
        /// Method and route, e.g. `GET /applications/{app}`.
        operation: String,
        /// `message` from Gate's error body, or the start of the body.
        message: String,
    },
    /// The connection broke after the request was sent.
    #[error("connection to gate broke during {operation}: {reason}")]
    Transport {
        /// Method and route.
        operation: String,
        /// The innermost cause.
        reason: String,
        /// The transport error.
        #[source]
        source: reqwest::Error,
    },
    /// Gate's answer was not the JSON shape expected.
    #[error("cannot decode gate's answer to {operation}: {source}")]
    Decode {
        /// Method and route.
        operation: String,
        /// The JSON error.
        #[source]
        source: serde_json::Error,
    },
    /// A configuration field is unusable.
    #[error("invalid gate client configuration `{field}`: {message}")]
    InvalidConfig {
        /// The [`crate::Config`] field.
        field: &'static str,
        /// What is wrong and what to do.
        message: String,
    },
    /// An argument to a call is unusable (e.g. a pipeline without `application`).
    #[error("invalid request field `{field}`: {message}")]
    InvalidRequest {
        /// The field at fault.
        field: &'static str,
        /// What is wrong.
        message: String,
    },
}

impl Error {
    /// Whether this is [`Error::NotFound`].
    pub fn is_not_found(&self) -> bool {
        matches!(self, Error::NotFound { .. })
    }
}
