//! Pipeline executions: trigger, read, list, patch a stage (manual judgment), cancel.

use http::Method;
use serde_json::Value;

use crate::request::{Call, Idempotency, segment};
use crate::{Client, Error, ExecutionStatus};

impl Client {
    /// `POST /pipelines/{app}/{nameOrId}` with `trigger` as the body; returns the execution id
    /// from Gate's `{"ref": "/pipelines/<id>"}`. Never retried on 502/503/504: it may have started.
    pub async fn trigger_pipeline(
        &self,
        application: &str,
        name_or_id: &str,
        trigger: &Value,
    ) -> Result<String, Error> {
        let call = Call::new(
            Method::POST,
            "/pipelines/{app}/{nameOrId}",
            format!(
                "/pipelines/{}/{}",
                segment(application),
                segment(name_or_id)
            ),
            Idempotency::NotIdempotent,
        )
        .json(trigger);
        let reply = self.send(call).await?;
        let body: Value = reply.json()?;
        body.get("ref")
            .and_then(Value::as_str)
            .and_then(|r| r.rsplit('/').next())
            .filter(|id| !id.is_empty())
            .map(str::to_owned)
            .ok_or_else(|| Error::Http {
                status: reply.status.as_u16(),
                operation: reply.operation.clone(),
                message: "the answer has no execution `ref`".into(),
            })
    }

    /// `GET /pipelines/{id}`: the execution JSON.
    pub async fn get_execution(&self, id: &str) -> Result<Value, Error> {
        let call = Call::get("/pipelines/{id}", format!("/pipelines/{}", segment(id)));
        self.send(call).await?.json()
    }

    /// `GET /applications/{app}/pipelines?limit=&statuses=`. Gate applies `limit` per
    /// pipeline config and sorts ascending by start time.
    pub async fn list_executions(
        &self,
        application: &str,
        limit: Option<u32>,
        statuses: &[ExecutionStatus],
    ) -> Result<Vec<Value>, Error> {
        let mut call = Call::get(
            "/applications/{app}/pipelines",
            format!("/applications/{}/pipelines", segment(application)),
        );
        if let Some(limit) = limit {
            call = call.query("limit", limit.to_string());
        }
        if !statuses.is_empty() {
            let joined: Vec<&str> = statuses.iter().map(|s| s.as_str()).collect();
            call = call.query("statuses", joined.join(","));
        }
        Ok(self.send(call).await?.json_opt()?.unwrap_or_default())
    }

    /// `PATCH /pipelines/{id}/stages/{stageId}`: merges `patch` into the stage context
    /// (e.g. `{"judgmentStatus": "continue"}`); returns the execution. Not retried on 5xx.
    pub async fn patch_stage(
        &self,
        execution_id: &str,
        stage_id: &str,
        patch: &Value,
    ) -> Result<Value, Error> {
        let call = Call::new(
            Method::PATCH,
            "/pipelines/{id}/stages/{stageId}",
            format!(
                "/pipelines/{}/stages/{}",
                segment(execution_id),
                segment(stage_id)
            ),
            Idempotency::NotIdempotent,
        )
        .json(patch);
        Ok(self.send(call).await?.json_opt()?.unwrap_or(Value::Null))
    }

    /// `PUT /pipelines/{id}/cancel[?reason=…]`.
    pub async fn cancel_execution(&self, id: &str, reason: Option<&str>) -> Result<(), Error> {
        let mut call = Call::new(
            Method::PUT,
            "/pipelines/{id}/cancel",
            format!("/pipelines/{}/cancel", segment(id)),
            Idempotency::Idempotent,
        );
        if let Some(reason) = reason {
            call = call.query("reason", reason);
        }
        self.send(call).await.map(drop)
    }
}
