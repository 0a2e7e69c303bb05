//! Gate client: a small async client for Spinnaker's Gate API, shared by the Terraform
//! provider and the `spinhcl` CLI.
//!
//! # Layout
//! - [`Config`], [`Auth`], [`Secret`]: what to connect to and how to authenticate.
//! - [`Client`]: the one place an HTTP client is built; every call goes through one
//!   policy (auth, rate limit, parallelism cap, retries, error mapping, stats, logs).
//! - Typed calls, one module per Gate controller: applications, tasks, pipeline configs
//!   (with a per-client cache of each application's list), canary configs, executions.
//! - [`Error`]: every failure, with messages that say what to do.
//!
//! # Retries
//! Connection failures (nothing reached Gate) and 429 (honouring `Retry-After`) are retried
//! for every call. 502, 503 and 504 are retried only for idempotent calls: all GET, PUT and
//! DELETE calls, and `save_pipeline` when the pipeline carries an `id` (create-or-replace).
//! `submit_task`, `trigger_pipeline`, `create_canary_config`, `patch_stage` and id-less
//! pipeline saves are not. Waits use exponential backoff with full jitter.

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
