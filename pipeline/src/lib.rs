//! The pure Spinnaker pipeline model shared by the provider, the engine and the CLI.
//!
//! # Layout
//!
//! * [`model`]: lossless pipeline JSON ([`model::Pipeline`], stage and trigger views, parsing,
//!   server-owned fields and diff normalisation).
//! * [`stage_types`]: the one list of infrastructure and modelled stage types.
//! * [`graph`]: the stage DAG built from `requisiteStageRefIds`.
//! * [`validate`]: plan-time rules returning [`validate::Diagnostic`]s with JSON paths.
//! * [`expr`]: the SpEL subset: lexer, parser, evaluator and `${...}` templates.
//! * [`cron`]: Quartz cron expressions with Echo's `H` fuzzing, in a time zone.
//! * [`naming`]: Frigga names for clusters and server groups.
//! * [`import_id`]: Terraform import IDs such as `<application>/<pipeline_name>`.
//!
//! Everything here is pure: no I/O, no async, no network. Callers read files and pass bytes.

pub mod blocks;
pub mod cron;
pub mod expr;
pub mod graph;
pub mod import_id;
pub mod model;
pub mod naming;
pub mod stage_types;
pub mod validate;
