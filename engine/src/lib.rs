//! spinhcl's embedded, Spinnaker-compatible engine: Gate's HTTP API for applications, tasks,
//! pipeline configs, canary configs and pipeline executions, on durable SQLite storage.
//!
//! # Layout
//! * [`server`]: state, router, `serve`, and `run` (used by `spinhcl server`).
//! * [`api`]: one module per Gate controller; [`error`]: Gate's error body.
//! * [`auth`]: callers and Fiat-style application permissions; [`config`]: the TOML file.
//! * [`aws`]: the `[aws]` account and the `clusterSize` precondition's lookup of AWS clusters.
//! * Domain rules, one module per entity: [`applications`] (Orca's application jobs),
//!   [`orchestration`] (tasks), [`pipelines`] (Front50's save rules), [`canary_configs`]
//!   (Kayenta's rules).
//! * [`executions`]: running pipelines (the `execution` core driven by one task, its rounds
//!   group-committed to SQLite, resumed after a restart; cron and pipeline triggers).
//! * [`store`]: SQLite with group commit and migrations.

pub mod api;
pub mod applications;
pub mod auth;
pub mod aws;
pub mod canary_accounts;
pub mod canary_configs;
pub mod config;
pub mod error;
pub mod executions;
pub mod orchestration;
pub mod pipelines;
pub mod server;
pub mod store;

pub use config::Config;
pub use error::ApiError;
pub use server::{AppState, ServerOptions, router, run, serve};
pub use store::Store;
