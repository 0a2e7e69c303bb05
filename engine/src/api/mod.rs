//! Gate's HTTP API: one module per Gate controller, plus the shared request/response plumbing
//! (the JSON body extractor and the middleware that gives every error Gate's body shape).

pub mod applications;
pub mod auth;
pub mod canary_configs;
pub mod executions;
pub mod health;
pub mod pipeline_configs;
pub mod tasks;
pub mod testing;
pub mod webhooks;

use axum::body::{Body, Bytes};
use axum::extract::{FromRequest, Request};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::Value;

use crate::error::{ApiError, gate_error_response};
use crate::server::AppState;

/// Header Gate echoes for request correlation.
pub const REQUEST_ID_HEADER: &str = "x-spinnaker-request-id";

/// A request body parsed as JSON, with Gate-shaped 400/413 errors naming the problem.
#[derive(Debug)]
pub struct JsonBody(pub Value);

impl FromRequest<AppState> for JsonBody {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &AppState) -> Result<Self, ApiError> {
        let bytes = Bytes::from_request(request, state)
            .await
            .map_err(|rejection| {
                if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                    ApiError::PayloadTooLarge(state.config.limits.max_body_bytes)
                } else {
                    ApiError::BadRequest(format!(
                        "Cannot read request body: {}",
                        rejection.body_text()
                    ))
                }
            })?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Err(ApiError::BadRequest(
                "Required request body is missing".to_owned(),
            ));
        }
        serde_json::from_slice(&bytes)
            .map(JsonBody)
            .map_err(|e| ApiError::BadRequest(format!("JSON parse error: {e}")))
    }
}

/// Milliseconds since the epoch.
pub fn now_ms() -> i64 {
    jiff::Timestamp::now().as_millisecond()
}

/// A 200 response whose body is already-serialised JSON.
pub fn raw_json(bytes: Vec<u8>) -> Response {
    let mut response = Response::new(Body::from(bytes));
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

/// Middleware: any 4xx/5xx that is not already JSON (framework rejections, 405s) is rewritten
/// into Gate's error body, keeping its text as the message. Also echoes `X-SPINNAKER-REQUEST-ID`.
pub async fn gate_errors(request: Request, next: Next) -> Response {
    let request_id = request.headers().get(REQUEST_ID_HEADER).cloned();
    let mut response = next.run(request).await;
    let status = response.status();
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if (status.is_client_error() || status.is_server_error()) && !is_json {
        let (parts, body) = response.into_parts();
        let text = axum::body::to_bytes(body, 64 * 1024)
            .await
            .map(|b| String::from_utf8_lossy(&b).trim().to_owned())
            .unwrap_or_default();
        let message = if text.is_empty() {
            status.canonical_reason().unwrap_or("Error").to_owned()
        } else {
            text
        };
        let mut shaped = gate_error_response(status, &message);
        for (name, value) in &parts.headers {
            if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
                shaped.headers_mut().insert(name.clone(), value.clone());
            }
        }
        response = shaped;
    }
    if let Some(id) = request_id {
        response.headers_mut().insert(REQUEST_ID_HEADER, id);
    }
    response
}

/// Fallback for unknown routes.
pub async fn not_found(request: Request) -> Response {
    ApiError::NotFound(format!(
        "No handler found for {} {}",
        request.method(),
        request.uri().path()
    ))
    .into_response()
}

/// Fallback for a known route with the wrong method.
pub async fn method_not_allowed(request: Request) -> Response {
    ApiError::MethodNotAllowed(request.method().to_string()).into_response()
}

/// The object inside a JSON body, or a 400 naming what was expected.
///
/// # Errors
/// [`ApiError::BadRequest`] when the body is not an object.
pub fn expect_object(value: Value, what: &str) -> Result<serde_json::Map<String, Value>, ApiError> {
    match value {
        Value::Object(map) => Ok(map),
        other => Err(ApiError::BadRequest(format!(
            "{what} must be a JSON object, got {}",
            kind(&other)
        ))),
    }
}

/// A JSON value's kind, for error messages.
pub fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// `StatusCode::OK` with an empty body, as Spring answers `void` endpoints.
pub fn empty_ok() -> Response {
    StatusCode::OK.into_response()
}
