//! terraform-provider-spinnaker: a Terraform provider (plugin protocol 5)
//! managing Spinnaker through Gate.
//!
//! # Layout
//! - [`server`]: go-plugin handshake and the gRPC services; the only module
//!   that sees protocol types.
//! - [`provider`]: `SpinnakerProvider`, the protocol operations on domain types.
//! - [`value`], [`schema`], [`diag`]: cty values and codecs, the schema
//!   builder, diagnostics with attribute paths.
//! - [`lifecycle`], [`resource`], [`import_id`]: rules every resource shares.
//! - [`config`]: the provider block.
//! - [`aws`]: the provider's `aws` block, AWS clients and views, plan-time cluster checks.
//! - [`resources`], [`data_sources`]: one module per type.
//! - [`docs`]: renders the Registry documentation from schemas and examples.

pub mod aws;
pub mod config;
pub mod data_sources;
pub mod diag;
pub mod docs;
pub mod import_id;
pub mod lifecycle;
pub mod provider;
pub mod resource;
pub mod resources;
pub mod schema;
pub mod server;
pub mod value;
