//! Integration tests for the execution core: one binary, a manual clock, local HTTP servers.

mod canary;
mod corpus_expressions;
mod corpus_runs;
mod flow;
mod http_stages;
mod properties;
mod resume;
mod stages;
mod support;
mod triggers;
