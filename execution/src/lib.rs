//! Orca's pipeline execution semantics, without HTTP or storage.
//!
//! The `engine` crate wires this core to Gate's API and SQLite; the core is its own crate so the
//! semantics are testable alone.
//!
//! # Layout
//!
//! * [`status`]: `ExecutionStatus` and its sets (defined in `pipeline::status`).
//! * [`model`]: Orca's execution JSON (`Execution`, `StageExecution`, `TaskExecution`).
//! * [`orchestrate`]: a pipeline config + trigger → a NOT_STARTED execution (`/orchestrate`).
//! * [`executor`]: the deterministic scheduler (`Executor::step`), queueing, cancel, pause,
//!   resume, judgments, timeouts.
//! * [`changes`]: the durable transition records and the `Store` trait (group commit).
//! * [`stages`]: one module per stage type behind `StageDefinition`.
//! * [`expressions`] and [`functions`]: the scope expressions see and `#stage`, `#judgment`, …
//! * [`triggers`]: webhook, pipeline and cron trigger matching; webhook signatures.
//! * [`clock`]: `Clock`, the system clock and a manual clock for tests.
//!
//! # Driving the core (what the engine does)
//!
//! ```text
//! let mut executor = Executor::new(StageRegistry::standard(http, jenkins_masters),
//!                                  Arc::new(Spel), configs, Settings { time_zone, .. });
//! for execution in store.unfinished() { executor.load(execution, clock.now_ms()) }  // resume
//! loop {
//!     let changes = executor.step(clock.now_ms());   // one scheduling round
//!     store.commit(&changes)?;                        // one transaction (group commit)
//!     for id in executor.take_completed() { /* pipeline triggers, eviction */ }
//!     if executor.has_work() { continue }
//!     select! { _ = executor.wait_io() => {}, _ = sleep_until(executor.next_wakeup()) => {},
//!               _ = api_notified() => {} }
//! }
//! ```
//!
//! API calls (`trigger`, `cancel`, `pause`, `resume`, `update_stage`) change the executor in
//! memory; the next `step` returns their changes with the rest, so an API handler calls `step`
//! and commits before it answers. Everything an execution needs to go on lives in its JSON
//! (stage start times, task statuses, `webhook.statusEndpoint`, Jenkins `buildNumber`,
//! `judgmentStatus`), so `load` after a crash resumes without starting anything over: waits keep
//! their start time, judgments keep waiting, monitors poll again. A network call that was in
//! flight at the crash runs again once: a webhook whose answer was not yet committed is called a
//! second time (as with Orca after a lost task result).

pub mod changes;
pub mod clock;
pub mod executor;
pub mod expressions;
pub mod functions;
pub mod jsonpath;
pub mod judgment;
pub mod model;
pub mod orchestrate;
pub mod spel;
pub mod stages;
pub mod triggers;

// `Secret` and `ExecutionStatus` are Spinnaker model types shared with the Gate client and
// the canary sources; they live in `pipeline` and keep their paths here.
pub use pipeline::{secret, status};

pub use changes::{Change, MemoryStore, Store};
pub use clock::{Clock, ManualClock, SystemClock};
pub use executor::{Executor, ExecutorError, PipelineConfigs, Settings};
pub use expressions::{ExpressionEngine, ExpressionError, Scope};
pub use judgment::Actor;
pub use model::{Execution, StageExecution, TaskExecution};
pub use spel::Spel;
pub use stages::{StageDefinition, StageRegistry};
pub use status::ExecutionStatus;
