//! Process-level tests of `spinhcl server`: the real binary as a child process.

mod cli;
mod durability;
mod executions;
mod hostile;
mod server_cli;
mod support;
