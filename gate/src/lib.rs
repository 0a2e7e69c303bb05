//! Gate client: a small async client for Spinnaker's Gate API, shared by the Terraform
//! provider and the `spinhcl` CLI.
//!
//! # Layout
//! - [`Config`], [`Auth`], [`Secret`]: what to connect to and how to authenticate.
//! - [`Client`]: the one place an HTTP client is built; every call goes through one
//!   policy (auth, rate limit, parallelism cap, retries, error mapping, stats, logs).
//! - Typed calls, one module per Gate controller: applications, tasks, pipeline configs
//!   (with a per-client cache of each application's list, which `save_and_read_pipeline`
//!   and `delete_pipeline` patch rather than drop), canary configs, executions.
//! - [`Error`]: every failure, with messages that say what to do.
//!
//! # Retries
//! Refused connections (nothing reached Gate) and 429 (honouring `Retry-After`, up to
//! 120 s) are retried for every call. 502, 503 and 504, and connections that break after
//! sending, are retried only for idempotent calls: all GET, PUT and DELETE calls, the form
//! login, and `save_pipeline` / `save_and_read_pipeline` when the pipeline carries an `id`
//! (create-or-replace).
//! `submit_task`, `trigger_pipeline`, `create_canary_config`, `patch_stage` and id-less
//! pipeline saves are not. TLS failures, connect timeouts (at most 5 s) and request
//! timeouts are not retried. Waits use exponential backoff with full jitter
//! (ceiling 200 ms doubling to 10 s), at most `max_retries` times.
//!
//! # Authentication
//! Bearer tokens go in `Authorization`; when Gate answers with a redirect to `/login`
//! (an OAuth deployment that wants a session) the client calls `GET /login` with the token
//! once and keeps the `SESSION` cookie. Username/password log in through Gate's form
//! `POST /login` and keep `SESSION` (logging in again when it expires), or send HTTP Basic
//! on every request when Gate has no form login. A client certificate is presented in the
//! TLS handshake. Nothing secret is ever logged.

mod api;
mod auth;
mod client;
mod config;
mod error;
mod model;
mod rate_limit;
mod request;
mod retry;
mod secret;
mod stats;
mod transport;

pub use client::Client;
pub use config::{Auth, Config};
pub use error::Error;
pub use model::{
    Application, ApplicationSpec, ExecutionStatus, Permissions,
    SERVER_MANAGED_APPLICATION_ATTRIBUTES, Task, TaskOutcome, TaskRef,
};
pub use secret::Secret;
pub use stats::RequestStats;
