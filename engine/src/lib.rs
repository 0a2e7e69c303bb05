//! spinhcl's embedded, Spinnaker-compatible engine: Gate's HTTP API for applications, tasks,
//! pipeline configs and canary configs, on durable SQLite storage.
//!
//! # Layout
//! * [`server`]: state, router, `serve`, and `run` (used by `spinhcl server`).
//! * [`api`]: one module per Gate controller; [`error`]: Gate's error body.
//! * [`auth`]: callers and Fiat-style application permissions; [`config`]: the TOML file.
//! * Domain rules, one module per entity: [`applications`] (Orca's application jobs),
//!   [`orchestration`] (tasks), [`pipelines`] (Front50's save rules), [`canary_configs`]
//!   (Kayenta's rules).
//! * [`store`]: SQLite with group commit and migrations.

pub mod api;
pub mod applications;
pub mod auth;
pub mod canary_accounts;
pub mod canary_configs;
pub mod config;
pub mod error;
pub mod orchestration;
pub mod pipelines;
pub mod server;
pub mod store;

pub use config::Config;
pub use error::ApiError;
pub use server::{AppState, ServerOptions, router, run, serve};
pub use store::Store;
