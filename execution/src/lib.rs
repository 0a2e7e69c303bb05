//! Orca's pipeline execution semantics, without HTTP or storage.
//!
//! The `engine` crate wires this core to Gate's API and SQLite; the core is its own crate so the
//! semantics are testable alone.
//!
//! # Layout
//!
//! * [`status`]: `ExecutionStatus` and its sets.
//! * [`model`]: Orca's execution JSON (`Execution`, `StageExecution`, `TaskExecution`).
//! * [`orchestrate`]: a pipeline config + trigger → a NOT_STARTED execution (`/orchestrate`).
//! * [`executor`]: the deterministic scheduler (`Executor::step`), queueing, cancel, pause,
//!   resume, judgments, timeouts.
//! * [`changes`]: the durable transition records and the `Store` trait (group commit).
//! * [`stages`]: one module per stage type behind `StageDefinition`.
//! * [`expressions`] and [`functions`]: the scope expressions see and `#stage`, `#judgment`, …
//! * [`triggers`]: webhook, pipeline and cron trigger matching; webhook signatures.
//! * [`clock`]: `Clock`, the system clock and a manual clock for tests.

pub mod changes;
pub mod clock;
pub mod executor;
pub mod expressions;
pub mod functions;
pub mod jsonpath;
pub mod judgment;
pub mod model;
pub mod orchestrate;
pub mod secret;
pub mod spel;
pub mod stages;
pub mod status;
pub mod triggers;

pub use changes::{Change, MemoryStore, Store};
pub use clock::{Clock, ManualClock, SystemClock};
pub use executor::{Executor, ExecutorError, PipelineConfigs, Settings};
pub use expressions::{ExpressionEngine, ExpressionError, Scope};
pub use judgment::Actor;
pub use model::{Execution, StageExecution, TaskExecution};
pub use spel::Spel;
pub use stages::{StageDefinition, StageRegistry};
pub use status::ExecutionStatus;
