//! Test-only routes, enabled by `[testing] faults = true` (404 otherwise):
//! `POST /__spinhcl/faults` queues canned responses for the next matching requests,
//! `DELETE /__spinhcl/faults` clears them, and `GET /__spinhcl/requests` counts requests by
//! method and route template since start (benchmarks use it to count Gate calls).

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Body;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};

use super::JsonBody;
use crate::error::{ApiError, gate_error_body};
use crate::server::AppState;

/// Prefix of the test-only routes, which are never faulted or counted.
pub const PREFIX: &str = "/__spinhcl/";

/// One canned response.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaultResponse {
    /// HTTP status.
    pub status: u16,
    /// Seconds for a `Retry-After` header.
    #[serde(default)]
    pub retry_after: Option<u64>,
    /// Body; Gate's error body for `status` when absent.
    #[serde(default)]
    pub body: Option<Value>,
    /// Delay before answering, in milliseconds (to exercise client timeouts).
    #[serde(default)]
    pub delay_ms: Option<u64>,
}

/// A queued rule: the next requests whose path starts with `path_prefix` (and whose method is
/// `method`, when given) get `responses`, one each, in order.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaultRule {
    /// Path prefix to match, e.g. `/applications`.
    pub path_prefix: String,
    /// Method to match (any when absent).
    #[serde(default)]
    pub method: Option<String>,
    /// Responses to give, in order.
    pub responses: VecDeque<FaultResponse>,
}

/// The fault queue and request counters.
#[derive(Debug, Default)]
pub struct Faults {
    rules: Mutex<Vec<FaultRule>>,
    counts: Mutex<BTreeMap<String, u64>>,
}

impl Faults {
    fn take(&self, method: &str, path: &str) -> Option<FaultResponse> {
        let mut rules = self.rules.lock().ok()?;
        let position = rules.iter().position(|rule| {
            path.starts_with(&rule.path_prefix)
                && rule
                    .method
                    .as_deref()
                    .is_none_or(|m| m.eq_ignore_ascii_case(method))
                && !rule.responses.is_empty()
        })?;
        let rule = rules.get_mut(position)?;
        let response = rule.responses.pop_front();
        if rule.responses.is_empty() {
            rules.remove(position);
        }
        response
    }

    fn count(&self, key: String) {
        if let Ok(mut counts) = self.counts.lock() {
            *counts.entry(key).or_default() += 1;
        }
    }
}

/// The test-only routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/__spinhcl/faults",
            axum::routing::post(queue).delete(clear),
        )
        .route("/__spinhcl/requests", get(requests))
}

fn faults(state: &AppState) -> Result<&Arc<Faults>, ApiError> {
    state
        .faults
        .as_ref()
        .ok_or_else(|| ApiError::NotFound("Test routes are disabled".to_owned()))
}

async fn queue(
    State(state): State<AppState>,
    JsonBody(body): JsonBody,
) -> Result<Json<Value>, ApiError> {
    let faults = faults(&state)?;
    let rule: FaultRule = serde_json::from_value(body)
        .map_err(|e| ApiError::BadRequest(format!("Invalid fault rule: {e}")))?;
    if let Some(bad) = rule
        .responses
        .iter()
        .find(|r| StatusCode::from_u16(r.status).is_err())
    {
        return Err(ApiError::BadRequest(format!(
            "Invalid fault status {}",
            bad.status
        )));
    }
    let queued = rule.responses.len();
    faults
        .rules
        .lock()
        .map_err(|_| ApiError::BadRequest("fault queue unavailable".to_owned()))?
        .push(rule);
    Ok(Json(json!({"queued": queued})))
}

async fn clear(State(state): State<AppState>) -> Result<Json<Value>, ApiError> {
    let faults = faults(&state)?;
    if let Ok(mut rules) = faults.rules.lock() {
        rules.clear();
    }
    Ok(Json(json!({"queued": 0})))
}

async fn requests(State(state): State<AppState>) -> Result<Json<Value>, ApiError> {
    let faults = faults(&state)?;
    let counts = faults.counts.lock().map(|c| c.clone()).unwrap_or_default();
    let total: u64 = counts.values().sum();
    Ok(Json(json!({"total": total, "counts": counts})))
}

fn canned(response: &FaultResponse) -> Response {
    let status = StatusCode::from_u16(response.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let body = response
        .body
        .clone()
        .unwrap_or_else(|| gate_error_body(status, "Fault injected by spinhcl test switch"));
    let mut out = Response::new(Body::from(body.to_string()));
    *out.status_mut() = status;
    out.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    if let Some(seconds) = response.retry_after
        && let Ok(value) = HeaderValue::from_str(&seconds.to_string())
    {
        out.headers_mut().insert(header::RETRY_AFTER, value);
    }
    out
}

/// Middleware: counts requests and answers queued faults. A no-op unless enabled.
pub async fn observe(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let Some(faults) = state.faults.as_ref() else {
        return next.run(request).await;
    };
    let path = request.uri().path().to_owned();
    if path.starts_with(PREFIX) {
        return next.run(request).await;
    }
    let method = request.method().to_string();
    let template = request
        .extensions()
        .get::<MatchedPath>()
        .map_or("(unmatched)", MatchedPath::as_str)
        .to_owned();
    faults.count(format!("{method} {template}"));
    if let Some(response) = faults.take(&method, &path) {
        if let Some(ms) = response.delay_ms {
            tokio::time::sleep(Duration::from_millis(ms)).await;
        }
        tracing::debug!(%method, %path, status = response.status, "answering injected fault");
        return canned(&response);
    }
    next.run(request).await.into_response()
}
