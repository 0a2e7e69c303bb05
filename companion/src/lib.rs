//! The `spinhcl` companion library: everything behind the CLI's subcommands, so tests and
//! benchmarks call [`convert::run`], [`review::run`] and friends directly.
//!
//! # Layout
//!
//! * [`input`]: reading files (or `-` for stdin) and telling pipeline JSON from Terraform files.
//! * [`hcl`]: pipeline JSON → `terraform fmt`-clean HCL (through `pipeline::blocks`), and `.tf`
//!   files → pipeline JSON with source positions.
//! * [`convert`], [`export`]: offline and live pipeline → HCL (with `imports.sh`/`imports.tf`).
//! * [`validate`]: the model crate's rules, reported as `file:line:col: message`.
//! * [`review`]: a `terraform show -json` plan → a pull-request comment.
//! * [`graph`]: the stage DAG as Mermaid, DOT or SVG (laid out in-process).
//! * [`judge`]: `spinhcl canary judge`.
//! * [`run`]: `spinhcl run` (trigger and follow an execution) and `spinhcl judge` (answer a
//!   manual judgment).
//!
//! Commands write their output to a caller-given writer and return a [`Status`]; errors are
//! [`Error`] values whose messages name the file or field.

pub mod convert;
pub mod error;
pub mod export;
pub mod graph;
pub mod hcl;
pub mod input;
pub mod judge;
pub mod live;
pub mod review;
pub mod run;
pub mod validate;

pub use error::Error;

/// How a command ended when it did not fail outright; `main` turns it into the exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Exit code 0.
    Success,
    /// Exit code 1: the command ran and found errors (e.g. `validate`).
    Findings,
    /// Exit code 2: a `--fail-on` gate of `review` triggered.
    Gated,
}

impl Status {
    /// The process exit code.
    pub fn code(self) -> u8 {
        match self {
            Status::Success => 0,
            Status::Findings => 1,
            Status::Gated => 2,
        }
    }
}
