//! Integration tests of the canary crate: judge fidelity, metric sources against real
//! or documented-format servers, and the CLI entry point.

mod cli;
mod datadog;
mod fidelity;
mod prometheus;
