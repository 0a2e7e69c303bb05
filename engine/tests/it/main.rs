//! Contract tests for the engine's Gate API: an in-process server on a port-0 listener, driven
//! with reqwest. One module per Gate controller, plus auth, bad input, faults, concurrency,
//! property and corpus round-trips.

mod applications;
mod auth;
mod bad_input;
mod canary_configs;
mod concurrency;
mod corpus;
mod execution_stages;
mod execution_triggers;
mod executions;
mod faults;
mod health;
mod pipeline_configs;
mod properties;
mod support;
mod tasks;
