//! Echo's webhook endpoints behind Gate. Like Gate, the paths need no credentials.
//!
//! * `POST /webhooks/webhook/{source}` starts every enabled pipeline with an enabled `webhook`
//!   trigger for `source` whose `payloadConstraints` match. A source listed under
//!   `[webhooks.sources.<source>]` needs a valid `X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of
//!   the raw body>` (or `X-Hub-Signature: sha1=<hex>`); other requests get 403.
//! * `POST /webhooks/git/{source}` (`github`, `gitlab`, `bitbucket`, `stash`) parses a push or
//!   pull-request event and starts every enabled pipeline with a matching enabled `git` trigger;
//!   a trigger's own `secret` is checked against `X-Hub-Signature`. Events the handler drops
//!   (GitHub pings, deleted refs, other event kinds) answer `{"eventProcessed": false}`.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use execution::triggers::git::{self, GitHeaders, GitSource};
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
    match kind.as_str() {
        "webhook" => generic(state, source, headers, body).await,
        "git" => git_event(state, source, headers, body).await,
        _ => Err(ApiError::NotFound(format!(
            "webhook type {kind:?} is not supported by this engine (only /webhooks/webhook/{{source}} \
             and /webhooks/git/{{github|gitlab|bitbucket|stash}})"
        ))),
    }
}

async fn generic(
    state: AppState,
    source: String,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    if let Some(entry) = state.config.webhooks.sources.get(&source) {
        let header = header(&headers, SIGNATURE_HEADER)
            .or_else(|| header(&headers, LEGACY_SIGNATURE_HEADER));
        if let Err(refused) = signature::verify(entry.secret.expose().as_bytes(), &body, header) {
            tracing::warn!(source, "webhook refused: {refused}");
            return Ok(gate_error_response(
                StatusCode::FORBIDDEN,
                &format!("webhook source {source}: {refused}"),
            ));
        }
    }
    let payload = payload_object(&body)?;
    let configs = pipeline_configs(&state).await?;
    let event_id = uuid::Uuid::new_v4().to_string();
    let fired = execution::triggers::webhook::fired(&configs, &source, &payload, &event_id);
    start_all(&state, "webhook", &source, fired).await;
    Ok(processed(&event_id))
}

async fn git_event(
    state: AppState,
    source: String,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let Some(scm) = GitSource::from_path(&source) else {
        return Err(ApiError::NotFound(format!(
            "git webhook source {source:?} is not supported (one of github, gitlab, bitbucket, stash)"
        )));
    };
    let payload = payload_object(&body)?;
    let git_headers = GitHeaders {
        github_event: header(&headers, git::GITHUB_EVENT_HEADER),
        event_key: header(&headers, git::EVENT_KEY_HEADER),
        hub_signature: header(&headers, git::GITHUB_SIGNATURE_HEADER),
    };
    let event = match git::parse(scm, &payload, &git_headers) {
        Ok(event) => event,
        Err(dropped) => {
            tracing::info!(source, "git webhook dropped: {dropped}");
            return Ok(Json(json!({"eventProcessed": false})).into_response());
        }
    };
    tracing::info!(
        source,
        project = event.project,
        slug = event.slug,
        branch = event.branch,
        hash = event.hash,
        action = event.action,
        "git webhook received"
    );
    let configs = pipeline_configs(&state).await?;
    let event_id = uuid::Uuid::new_v4().to_string();
    let fired = git::fired(
        &configs,
        &event,
        &body,
        git_headers.hub_signature,
        &event_id,
    );
    start_all(&state, "git", &source, fired).await;
    Ok(processed(&event_id))
}

fn header<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// The request body as a JSON object; an empty body is `{}`.
fn payload_object(body: &[u8]) -> Result<Value, ApiError> {
    let payload: Value = if body.iter().all(u8::is_ascii_whitespace) {
        json!({})
    } else {
        serde_json::from_slice(body)
            .map_err(|e| ApiError::BadRequest(format!("JSON parse error: {e}")))?
    };
    if !payload.is_object() {
        return Err(ApiError::BadRequest(format!(
            "webhook payload must be a JSON object, got {}",
            super::kind(&payload)
        )));
    }
    Ok(payload)
}

/// Every stored pipeline config, in id order (unreadable bodies skipped).
async fn pipeline_configs(state: &AppState) -> Result<Vec<Value>, ApiError> {
    Ok(state
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
        .await?)
}

/// Starts one execution per fired (config, run-time trigger); a failure to start one is logged
/// and does not stop the others.
async fn start_all(state: &AppState, kind: &str, source: &str, fired: Vec<(Value, Value)>) {
    for (config, trigger) in fired {
        let pipeline = config
            .get("id")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        match state.executions.trigger(config, trigger).await {
            Ok(id) => {
                tracing::info!(kind, source, pipeline, execution = %id, "webhook started an execution")
            }
            Err(e) => {
                tracing::warn!(kind, source, pipeline, error = %e, "webhook trigger could not start")
            }
        }
    }
}

fn processed(event_id: &str) -> Response {
    Json(json!({"eventProcessed": true, "eventId": event_id})).into_response()
}
