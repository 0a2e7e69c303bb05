//! `ApiError`: every failure an HTTP handler can return, rendered as Gate's error body
//! `{timestamp, status, error, message}` (kork's error attributes without `path`).

use axum::body::Body;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::store::StoreError;

/// An error answered to an API client.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ApiError {
    /// 400: the request is wrong; the message says why (Gate/Front50 wording where one exists).
    #[error("bad request: {0}")]
    BadRequest(String),
    /// 401: no or unknown credentials.
    #[error("authentication required")]
    Unauthorized,
    /// 403: authenticated but lacking the application permission.
    #[error("access is denied")]
    Forbidden,
    /// 404: the thing does not exist; the message names it.
    #[error("not found: {0}")]
    NotFound(String),
    /// 405: the path exists but not for this method.
    #[error("method {0} not allowed")]
    MethodNotAllowed(String),
    /// 413: the body is larger than `limits.max_body_bytes`.
    #[error("request body larger than {0} bytes")]
    PayloadTooLarge(usize),
    /// 500: a storage failure; the detail is logged, never answered.
    #[error("storage failure")]
    Storage(#[from] StoreError),
}

impl ApiError {
    /// The HTTP status this error is answered with.
    pub fn status(&self) -> StatusCode {
        match self {
            Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::Unauthorized => StatusCode::UNAUTHORIZED,
            Self::Forbidden => StatusCode::FORBIDDEN,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::MethodNotAllowed(_) => StatusCode::METHOD_NOT_ALLOWED,
            Self::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            Self::Storage(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The `message` of the error body: the text real Gate gives where it has one.
    pub fn message(&self) -> String {
        match self {
            Self::BadRequest(message) | Self::NotFound(message) => message.clone(),
            Self::Unauthorized => {
                "Full authentication is required to access this resource".to_owned()
            }
            Self::Forbidden => "Access is denied".to_owned(),
            Self::MethodNotAllowed(method) => {
                format!("Request method '{method}' is not supported")
            }
            Self::PayloadTooLarge(limit) => {
                format!("Request body is larger than the limit of {limit} bytes")
            }
            Self::Storage(_) => "Internal Server Error".to_owned(),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if let Self::Storage(source) = &self {
            tracing::error!(error = %source, detail = ?source, "internal error answering request");
        }
        let mut response = gate_error_response(self.status(), &self.message());
        if matches!(self, Self::Unauthorized) {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"spinhcl\""),
            );
        }
        response
    }
}

/// Gate's error body for `status` with `message`.
pub fn gate_error_body(status: StatusCode, message: &str) -> serde_json::Value {
    json!({
        "timestamp": timestamp_now(),
        "status": status.as_u16(),
        "error": status.canonical_reason().unwrap_or("Error"),
        "message": message,
    })
}

/// A complete JSON response carrying Gate's error body.
pub fn gate_error_response(status: StatusCode, message: &str) -> Response {
    let body = gate_error_body(status, message).to_string();
    let mut response = Response::new(Body::from(body));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

/// Spring's timestamp format: `2023-04-07T18:26:46.757+00:00`.
fn timestamp_now() -> String {
    jiff::Timestamp::now()
        .strftime("%Y-%m-%dT%H:%M:%S%.3f+00:00")
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn body_has_gate_fields() {
        let body = gate_error_body(StatusCode::NOT_FOUND, "Application not found (id: x)");
        assert_eq!(body["status"], 404);
        assert_eq!(body["error"], "Not Found");
        assert_eq!(body["message"], "Application not found (id: x)");
        let ts = body["timestamp"].as_str().unwrap();
        assert!(ts.ends_with("+00:00") && ts.len() == 29, "{ts}");
    }
}
