//! Typed Gate calls, one module per Gate controller.

mod applications;
mod canary_configs;
mod executions;
mod pipeline_configs;
mod tasks;
