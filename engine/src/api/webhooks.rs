//! Echo's generic webhook endpoint behind Gate: `POST /webhooks/webhook/{source}` starts every
//! enabled pipeline with an enabled `webhook` trigger for `source` whose `payloadConstraints`
//! match. A source listed under `[webhooks.sources.<source>]` needs a valid
//! `X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the raw body>` (or `X-Hub-Signature:
//! sha1=<hex>`); other requests get 403. Like Gate, the path needs no credentials.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use execution::triggers::signature::{self, LEGACY_SIGNATURE_HEADER, SIGNATURE_HEADER};
use serde_json::{Value, json};

use crate::error::{ApiError, gate_error_response};
use crate::server::AppState;
use crate::store::StoreError;

/// The routes of this controller.
pub fn routes() -> Router<AppState> {
    Router::new().route("/webhooks/{kind}/{source}", post(webhook))
}

async fn webhook(
    State(state): State<AppState>,
    Path((kind, source)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    if kind != "webhook" {
        return Err(ApiError::NotFound(format!(
            "webhook type {kind:?} is not supported by this engine (only /webhooks/webhook/{{source}})"
        )));
    }
    if let Some(entry) = state.config.webhooks.sources.get(&source) {
        let header = headers
            .get(SIGNATURE_HEADER)
            .or_else(|| headers.get(LEGACY_SIGNATURE_HEADER))
            .and_then(|v| v.to_str().ok());
        if let Err(refused) = signature::verify(entry.secret.expose().as_bytes(), &body, header) {
            tracing::warn!(source, "webhook refused: {refused}");
            return Ok(gate_error_response(
                StatusCode::FORBIDDEN,
                &format!("webhook source {source}: {refused}"),
            ));
        }
    }
    let payload: Value = if body.iter().all(u8::is_ascii_whitespace) {
        json!({})
    } else {
        serde_json::from_slice(&body)
            .map_err(|e| ApiError::BadRequest(format!("JSON parse error: {e}")))?
    };
    if !payload.is_object() {
        return Err(ApiError::BadRequest(format!(
            "webhook payload must be a JSON object, got {}",
            super::kind(&payload)
        )));
    }
    let configs: Vec<Value> = state
        .store
        .read(|conn| {
            let mut stmt = conn.prepare_cached("SELECT body FROM pipelines ORDER BY id")?;
            let bodies = stmt
                .query_map([], |r| r.get::<_, String>(0))?
                .collect::<Result<Vec<_>, _>>()?;
            Ok::<_, StoreError>(
                bodies
                    .iter()
                    .filter_map(|b| serde_json::from_str(b).ok())
                    .collect(),
            )
        })
        .await?;
    let event_id = uuid::Uuid::new_v4().to_string();
    for (config, trigger) in
        execution::triggers::webhook::fired(&configs, &source, &payload, &event_id)
    {
        let pipeline = config
            .get("id")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        match state.executions.trigger(config, trigger).await {
            Ok(id) => {
                tracing::info!(source, pipeline, execution = %id, "webhook started an execution")
            }
            Err(e) => {
                tracing::warn!(source, pipeline, error = %e, "webhook trigger could not start")
            }
        }
    }
    Ok(Json(json!({"eventProcessed": true, "eventId": event_id})).into_response())
}
