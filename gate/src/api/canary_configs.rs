//! Canary configs (`/v2/canaryConfig`, served by Kayenta or Front50 behind Gate).

use http::Method;
use serde_json::Value;

use crate::request::{Call, Idempotency, optional, segment};
use crate::{Client, Error};

impl Client {
    /// `GET /v2/canaryConfig[?application=…]`: summaries `{id, name, updatedTimestamp, applications, …}`.
    pub async fn list_canary_configs(
        &self,
        application: Option<&str>,
    ) -> Result<Vec<Value>, Error> {
        let mut call = Call::get("/v2/canaryConfig", "/v2/canaryConfig".into());
        if let Some(application) = application {
            call = call.query("application", application);
        }
        Ok(self.send(call).await?.json_opt()?.unwrap_or_default())
    }

    /// `GET /v2/canaryConfig/{id}`; `None` on 404.
    pub async fn get_canary_config(&self, id: &str) -> Result<Option<Value>, Error> {
        let call = Call::get(
            "/v2/canaryConfig/{id}",
            format!("/v2/canaryConfig/{}", segment(id)),
        );
        match optional(self.send(call).await)? {
            Some(reply) => reply.json().map(Some),
            None => Ok(None),
        }
    }

    /// `POST /v2/canaryConfig`; returns the `canaryConfigId`. Not retried on 502/503/504
    /// (a repeated create of the same id is rejected as a duplicate).
    pub async fn create_canary_config(&self, config: &Value) -> Result<String, Error> {
        let call = Call::new(
            Method::POST,
            "/v2/canaryConfig",
            "/v2/canaryConfig".into(),
            Idempotency::NotIdempotent,
        )
        .json(config);
        canary_config_id(self.send(call).await?)
    }

    /// `PUT /v2/canaryConfig/{id}` (the config must exist); returns the `canaryConfigId`.
    pub async fn update_canary_config(&self, id: &str, config: &Value) -> Result<String, Error> {
        let call = Call::new(
            Method::PUT,
            "/v2/canaryConfig/{id}",
            format!("/v2/canaryConfig/{}", segment(id)),
            Idempotency::Idempotent,
        )
        .json(config);
        canary_config_id(self.send(call).await?)
    }

    /// `DELETE /v2/canaryConfig/{id}`.
    pub async fn delete_canary_config(&self, id: &str) -> Result<(), Error> {
        let call = Call::new(
            Method::DELETE,
            "/v2/canaryConfig/{id}",
            format!("/v2/canaryConfig/{}", segment(id)),
            Idempotency::Idempotent,
        );
        self.send(call).await.map(drop)
    }
}

fn canary_config_id(reply: crate::request::Reply) -> Result<String, Error> {
    let body: Value = reply.json()?;
    body.get("canaryConfigId")
        .and_then(Value::as_str)
        .map(str::to_owned)
        .ok_or_else(|| Error::Http {
            status: reply.status.as_u16(),
            operation: reply.operation.clone(),
            message: "the answer has no `canaryConfigId`".into(),
        })
}
