//! Tasks: submit an orchestration (`POST /tasks`) and poll `GET /tasks/{id}` with backoff
//! until it completes or `task_timeout` passes.

use std::time::Duration;

use http::Method;
use serde_json::Value;
use tokio::time::Instant;

use crate::request::{Call, Idempotency, segment};
use crate::{Client, Error, ExecutionStatus, Task, TaskOutcome, TaskRef};

/// First pause between task polls.
const POLL_FIRST: Duration = Duration::from_millis(100);
/// Longest pause between task polls.
const POLL_MAX: Duration = Duration::from_secs(5);
/// 404s in a row tolerated while a new task becomes visible (about 3 s of polling).
const NOT_FOUND_TOLERANCE: u32 = 5;

impl Client {
    /// `POST /tasks`. Not retried on 502/503/504: Orca may already have started the task.
    pub async fn submit_task(&self, task: &Value) -> Result<TaskRef, Error> {
        let call = Call::new(
            Method::POST,
            "/tasks",
            "/tasks".into(),
            Idempotency::NotIdempotent,
        )
        .json(task);
        let reply = self.send(call).await?;
        let body: Value = reply.json()?;
        body.get("ref")
            .and_then(Value::as_str)
            .and_then(TaskRef::from_ref)
            .ok_or_else(|| Error::Http {
                status: reply.status.as_u16(),
                operation: reply.operation.clone(),
                message: "the answer has no task `ref`".into(),
            })
    }

    /// `GET /tasks/{id}` once.
    pub async fn get_task(&self, id: &str) -> Result<Task, Error> {
        let reply = self
            .send(Call::get("/tasks/{id}", format!("/tasks/{}", segment(id))))
            .await?;
        let raw: Value = reply.json()?;
        Ok(task_from_view(id, raw))
    }

    /// Polls the task until it completes (first poll at once, then backing off from 100 ms
    /// to 5 s) or `task_timeout` passes. A few 404s in a row are taken as "not visible yet".
    ///
    /// # Errors
    /// [`Error::TaskFailed`] when the task ends TERMINAL, CANCELED or FAILED_CONTINUE;
    /// [`Error::Timeout`] when it is still running at the deadline.
    pub async fn wait_for_task(&self, task: &TaskRef) -> Result<Task, Error> {
        let timeout = self.config().task_timeout;
        let deadline = Instant::now() + timeout;
        let mut pause = POLL_FIRST;
        let mut not_found = 0;
        loop {
            match self.get_task(&task.id).await {
                Ok(view) => match view.status {
                    Some(status) if status.is_complete() => {
                        if status.is_successful() {
                            return Ok(view);
                        }
                        let message = view
                            .error_message()
                            .unwrap_or_else(|| "the task reported no error message".into());
                        return Err(Error::TaskFailed {
                            id: task.id.clone(),
                            status: status.to_string(),
                            message,
                        });
                    }
                    status => {
                        not_found = 0;
                        tracing::debug!(task = %task.id, ?status, "task still running");
                    }
                },
                Err(Error::NotFound { .. }) if not_found < NOT_FOUND_TOLERANCE => {
                    not_found += 1;
                    tracing::debug!(task = %task.id, "task not visible yet");
                }
                Err(other) => return Err(other),
            }
            let now = Instant::now();
            if now >= deadline {
                return Err(Error::Timeout {
                    operation: format!("task {}", task.id),
                    after: timeout,
                });
            }
            tokio::time::sleep(pause.min(deadline - now)).await;
            pause = (pause * 2).min(POLL_MAX);
        }
    }
}

impl Task {
    /// The outcome of a task that finished successfully.
    /// A task that [`Client::wait_for_task`] returned, whose status is therefore known and
    /// successful.
    pub(crate) fn into_outcome(self) -> TaskOutcome {
        TaskOutcome {
            id: self.id,
            status: self.status.unwrap_or(ExecutionStatus::Succeeded),
        }
    }
}

fn task_from_view(id: &str, raw: Value) -> Task {
    let text = |key: &str| raw.get(key).and_then(Value::as_str).map(str::to_owned);
    let status = raw
        .get("status")
        .and_then(Value::as_str)
        .and_then(|s| s.parse().ok());
    Task {
        id: text("id").unwrap_or_else(|| id.to_owned()),
        name: text("name"),
        application: text("application"),
        status,
        raw,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn task_views_keep_known_statuses_and_tolerate_others() {
        let failed = task_from_view("t", json!({"status": "FAILED_CONTINUE", "name": "n"}));
        assert_eq!(failed.status, Some(ExecutionStatus::FailedContinue));
        assert_eq!(
            (failed.id.as_str(), failed.name.as_deref()),
            ("t", Some("n"))
        );
        let weird = task_from_view("t", json!({"id": "u", "status": "WEIRD"}));
        assert_eq!((weird.id.as_str(), weird.status), ("u", None));
        assert_eq!(task_from_view("t", json!({"status": 3})).status, None);
        assert_eq!(task_from_view("t", json!({})).status, None);
    }
}
