//! Orca's `ExecutionStatus`: the one status enum of executions, stages and tasks, shared by the
//! execution core, the engine and the Gate client.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// The status of an execution, a stage or a task, exactly as Orca names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ExecutionStatus {
    /// Not yet started (also: queued behind a concurrency limit).
    NotStarted,
    /// Held back by a QoS buffer; never produced by this engine, accepted when read.
    Buffered,
    /// Running; a running task is re-run after its backoff.
    Running,
    /// Paused by a user.
    Paused,
    /// Complete but waiting for a trigger of some kind.
    Suspended,
    /// Success.
    Succeeded,
    /// Failed, but downstream stages may proceed.
    FailedContinue,
    /// Failed; nothing downstream runs.
    Terminal,
    /// Cancelled.
    Canceled,
    /// A task asking to jump back to its loop start.
    Redirect,
    /// The branch stopped (`failPipeline: false`); counts as success for the execution.
    Stopped,
    /// Skipped (`stageEnabled` false or manually skipped).
    Skipped,
}

impl ExecutionStatus {
    /// Every status, in Orca's declaration order.
    pub const ALL: [ExecutionStatus; 12] = [
        Self::NotStarted,
        Self::Buffered,
        Self::Running,
        Self::Paused,
        Self::Suspended,
        Self::Succeeded,
        Self::FailedContinue,
        Self::Terminal,
        Self::Canceled,
        Self::Redirect,
        Self::Stopped,
        Self::Skipped,
    ];

    /// Orca's COMPLETED set: CANCELED, SUCCEEDED, STOPPED, SKIPPED, TERMINAL, FAILED_CONTINUE.
    pub fn is_complete(self) -> bool {
        matches!(
            self,
            Self::Canceled
                | Self::Succeeded
                | Self::Stopped
                | Self::Skipped
                | Self::Terminal
                | Self::FailedContinue
        )
    }

    /// Halting statuses: nothing downstream runs (TERMINAL, CANCELED, STOPPED).
    pub fn is_halt(self) -> bool {
        matches!(self, Self::Terminal | Self::Canceled | Self::Stopped)
    }

    /// Orca's "successful" set: SUCCEEDED, STOPPED, SKIPPED.
    pub fn is_successful(self) -> bool {
        matches!(self, Self::Succeeded | Self::Stopped | Self::Skipped)
    }

    /// Orca's "failure" set: TERMINAL, STOPPED, FAILED_CONTINUE.
    pub fn is_failure(self) -> bool {
        matches!(self, Self::Terminal | Self::Stopped | Self::FailedContinue)
    }

    /// Whether a downstream stage may start after a parent ended with this status.
    pub fn lets_downstream_run(self) -> bool {
        matches!(self, Self::Succeeded | Self::FailedContinue | Self::Skipped)
    }

    /// The name Orca uses on the wire, e.g. `FAILED_CONTINUE`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::NotStarted => "NOT_STARTED",
            Self::Buffered => "BUFFERED",
            Self::Running => "RUNNING",
            Self::Paused => "PAUSED",
            Self::Suspended => "SUSPENDED",
            Self::Succeeded => "SUCCEEDED",
            Self::FailedContinue => "FAILED_CONTINUE",
            Self::Terminal => "TERMINAL",
            Self::Canceled => "CANCELED",
            Self::Redirect => "REDIRECT",
            Self::Stopped => "STOPPED",
            Self::Skipped => "SKIPPED",
        }
    }
}

impl fmt::Display for ExecutionStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A string that is not an Orca status name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown execution status {0:?}; expected one of NOT_STARTED, RUNNING, PAUSED, SUCCEEDED, FAILED_CONTINUE, TERMINAL, CANCELED, STOPPED, SKIPPED, …"
)]
pub struct UnknownStatus(pub String);

impl FromStr for ExecutionStatus {
    type Err = UnknownStatus;

    /// Parses a status name, ignoring case (Gate's `statuses` filter is case-insensitive).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|status| status.as_str().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| UnknownStatus(s.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sets_match_orca() {
        let complete: Vec<_> = ExecutionStatus::ALL
            .into_iter()
            .filter(|s| s.is_complete())
            .collect();
        assert_eq!(complete.len(), 6);
        assert!(ExecutionStatus::Stopped.is_halt() && ExecutionStatus::Stopped.is_successful());
        assert!(!ExecutionStatus::FailedContinue.is_halt());
        assert!(ExecutionStatus::FailedContinue.is_failure());
        assert!(!ExecutionStatus::Paused.is_complete());
    }

    #[test]
    fn wire_names_round_trip() {
        for status in ExecutionStatus::ALL {
            let json = serde_json::to_value(status).unwrap_or_default();
            assert_eq!(json, serde_json::Value::from(status.as_str()));
            assert_eq!(
                status.as_str().to_lowercase().parse::<ExecutionStatus>(),
                Ok(status)
            );
        }
        assert!("DONE".parse::<ExecutionStatus>().is_err());
    }
}
