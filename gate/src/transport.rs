//! Transport: every request goes through one policy here: credentials, rate limit,
//! parallelism cap, retries with backoff, `Retry-After`, error mapping, stats and logs.

use std::time::{Duration, Instant, SystemTime};

use http::StatusCode;
use http::header::{LOCATION, RETRY_AFTER};
use serde_json::Value;

use crate::Error;
use crate::auth::{Credential, LoginState, is_login_location};
use crate::client::Inner;
use crate::request::{Body, Call, Idempotency, Reply};
use crate::retry::{RETRY_AFTER_MAX, backoff, is_retryable_status, parse_retry_after};

/// The innermost error message of a chain, e.g. `Connection refused (os error 111)`.
pub(crate) fn innermost(error: &(dyn std::error::Error + 'static)) -> String {
    let mut current = error;
    while let Some(next) = current.source() {
        current = next;
    }
    current.to_string()
}

/// What one attempt produced.
enum Attempt {
    Reply(Reply),
    /// The connection could not be opened: nothing reached Gate. `permanent` when retrying
    /// cannot help (an untrusted certificate, a connect timeout).
    ConnectFailed {
        source: reqwest::Error,
        permanent: bool,
    },
    /// The request timed out.
    TimedOut,
    /// The connection broke after sending.
    Broken(reqwest::Error),
}

impl Inner {
    fn url(&self, path: &str, query: &[(&'static str, String)]) -> url::Url {
        let mut url = self.endpoint.clone();
        let base = url.path().trim_end_matches('/').to_owned();
        url.set_path(&format!("{base}{path}"));
        url.set_query(None);
        url.set_fragment(None);
        if !query.is_empty() {
            let mut pairs = url.query_pairs_mut();
            for (key, value) in query {
                pairs.append_pair(key, value);
            }
        }
        url
    }

    fn endpoint_text(&self) -> String {
        self.endpoint.as_str().trim_end_matches('/').to_owned()
    }

    pub(crate) fn unauthenticated(&self) -> Error {
        Error::Unauthenticated {
            endpoint: self.endpoint_text(),
            mode: self.auth_mode,
        }
    }

    /// Maps a non-success status to an error, reading Gate's error body `message`.
    pub(crate) fn status_error(&self, status: StatusCode, body: &[u8], operation: &str) -> Error {
        let message = gate_message(body)
            .unwrap_or_else(|| status.canonical_reason().unwrap_or("no message").to_owned());
        match status.as_u16() {
            400 | 422 => Error::BadRequest {
                status: status.as_u16(),
                message,
            },
            401 => self.unauthenticated(),
            403 => Error::Forbidden { message },
            404 => Error::NotFound {
                message: if gate_message(body).is_some() {
                    message
                } else {
                    operation.to_owned()
                },
            },
            code => Error::Http {
                status: code,
                operation: operation.to_owned(),
                message,
            },
        }
    }

    fn unreachable(&self, source: reqwest::Error) -> Error {
        Error::Unreachable {
            endpoint: self.endpoint_text(),
            reason: innermost(&source),
            source,
        }
    }

    /// One HTTP exchange under the rate limit and the parallelism cap.
    async fn attempt(
        &self,
        request: reqwest::RequestBuilder,
        method: &str,
        route: &'static str,
        path: &str,
        attempt: u32,
    ) -> Attempt {
        if let Some(limiter) = &self.limiter {
            limiter.acquire().await;
        }
        // The semaphore is never closed, so acquiring cannot fail; a closed one would only
        // lift the cap.
        let _permit = self.permits.acquire().await.ok();
        let request_id = uuid::Uuid::new_v4().to_string();
        self.stats.record(method, route);
        let started = Instant::now();
        let result = request
            .header("X-SPINNAKER-REQUEST-ID", &request_id)
            .send()
            .await;
        let result = match result {
            Ok(response) => {
                let status = response.status();
                let headers = response.headers().clone();
                response
                    .bytes()
                    .await
                    .map(|body| (status, headers, body.to_vec()))
            }
            Err(error) => Err(error),
        };
        let elapsed_ms = started.elapsed().as_millis();
        match result {
            Ok((status, headers, body)) => {
                tracing::debug!(
                    method,
                    path,
                    status = status.as_u16(),
                    elapsed_ms,
                    attempt,
                    request_id,
                    "gate request"
                );
                Attempt::Reply(Reply {
                    status,
                    headers,
                    body,
                    operation: format!("{method} {route}"),
                })
            }
            Err(error) => {
                let reason = innermost(&error);
                tracing::debug!(method, path, elapsed_ms, attempt, request_id, error = %reason, "gate request failed");
                if error.is_connect() {
                    // Refused connections are retried (Gate may be starting); a TLS failure
                    // or a connect timeout (a black-holed address) would only fail again.
                    let permanent = is_tls_failure(&error) || error.is_timeout();
                    Attempt::ConnectFailed {
                        source: error,
                        permanent,
                    }
                } else if error.is_timeout() {
                    Attempt::TimedOut
                } else {
                    Attempt::Broken(error)
                }
            }
        }
    }

    fn build(&self, call: &Call<'_>, credential: &Credential) -> reqwest::RequestBuilder {
        let url = self.url(&call.path, &call.query);
        let mut request = self.http.request(call.method.clone(), url);
        match credential {
            Credential::Nothing => {}
            Credential::Bearer(value) => {
                request = request.header(http::header::AUTHORIZATION, value.clone())
            }
            Credential::HttpBasic { username, password } => {
                request = request.basic_auth(username, Some(password.expose()));
            }
        }
        match call.body {
            Body::Empty => request,
            Body::Json(value) => request.json(value),
        }
    }

    /// Sends a call with the retry policy and maps the answer to `Ok(Reply)` (2xx) or an error.
    pub(crate) async fn send(&self, call: &Call<'_>) -> Result<Reply, Error> {
        let operation = call.operation();
        let method = call.method.as_str();
        let mut attempt: u32 = 0;
        let mut renewed_session = false;
        loop {
            let (credential, login) = self.auth.current(self).await?;
            let request = self.build(call, &credential);
            let outcome = self
                .attempt(request, method, call.route, &call.path, attempt)
                .await;
            if let Attempt::Reply(reply) = &outcome
                && is_unauthenticated(reply)
                && matches!(login, LoginState::Session(_))
                && !renewed_session
            {
                renewed_session = true;
                tracing::debug!("gate session expired; logging in again");
                self.auth.renew(self, login).await?;
                continue;
            }
            if let Attempt::Reply(reply) = &outcome
                && is_unauthenticated(reply)
                && !renewed_session
                && let Some(bearer) = self.auth.bearer()
            {
                renewed_session = true;
                self.open_bearer_session(bearer).await?;
                continue;
            }
            match self.judge(outcome, call.idempotency, attempt, &operation) {
                Verdict::Done(result) => return result,
                Verdict::Retry(wait) => self.pause(&operation, attempt, wait).await,
            }
            attempt += 1;
        }
    }

    /// Sends `POST /login` (form) and returns Gate's raw answer for the login logic to read.
    /// Repeating a login is harmless, so it is retried like an idempotent call.
    /// Counted and logged like any request, never with its body.
    pub(crate) async fn send_login(&self, form: &[(&str, &str)]) -> Result<Reply, Error> {
        let operation = "POST /login";
        let mut attempt: u32 = 0;
        loop {
            let request = self.http.post(self.url("/login", &[])).form(form);
            let outcome = self
                .attempt(request, "POST", "/login", "/login", attempt)
                .await;
            let outcome = match outcome {
                Attempt::Reply(reply)
                    if reply.status != StatusCode::TOO_MANY_REQUESTS
                        && !is_retryable_status(reply.status.as_u16()) =>
                {
                    return Ok(reply);
                }
                other => other,
            };
            match self.judge(outcome, Idempotency::Idempotent, attempt, operation) {
                Verdict::Done(result) => return result,
                Verdict::Retry(wait) => self.pause(operation, attempt, wait).await,
            }
            attempt += 1;
        }
    }

    /// Gate deployments whose OAuth filter wants a session answer a bare bearer token with a
    /// redirect to `/login`; like spin, call `GET /login` with the token once and keep the
    /// `SESSION` cookie it sets (the cookie jar stores it).
    async fn open_bearer_session(&self, bearer: &http::HeaderValue) -> Result<(), Error> {
        tracing::debug!("gate wants a session; opening one with the bearer token");
        let request = self
            .http
            .get(self.url("/login", &[]))
            .header(http::header::AUTHORIZATION, bearer.clone());
        match self.attempt(request, "GET", "/login", "/login", 0).await {
            Attempt::Reply(_) => Ok(()),
            outcome => match self.judge(outcome, Idempotency::Idempotent, u32::MAX, "GET /login") {
                Verdict::Done(result) => result.map(drop),
                Verdict::Retry(_) => Ok(()),
            },
        }
    }

    async fn pause(&self, operation: &str, attempt: u32, wait: Duration) {
        tracing::debug!(
            operation,
            attempt,
            wait_ms = wait.as_millis(),
            "retrying gate request"
        );
        tokio::time::sleep(wait).await;
    }

    /// Decides what an attempt means: a result, or a retry after a wait.
    fn judge(
        &self,
        outcome: Attempt,
        idempotency: Idempotency,
        attempt: u32,
        operation: &str,
    ) -> Verdict {
        let can_retry = attempt < self.config.max_retries;
        let idempotent = idempotency == Idempotency::Idempotent;
        match outcome {
            Attempt::Reply(reply) => {
                let status = reply.status;
                if status.is_success() {
                    return Verdict::Done(Ok(reply));
                }
                if is_unauthenticated(&reply) {
                    return Verdict::Done(Err(self.unauthenticated()));
                }
                let retry_after = reply
                    .headers
                    .get(RETRY_AFTER)
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| parse_retry_after(v, SystemTime::now()));
                if status == StatusCode::TOO_MANY_REQUESTS {
                    let wait = retry_after.unwrap_or_else(|| backoff(attempt));
                    if !can_retry || wait > RETRY_AFTER_MAX {
                        return Verdict::Done(Err(Error::RateLimited { retry_after }));
                    }
                    return Verdict::Retry(wait);
                }
                if is_retryable_status(status.as_u16()) && idempotent && can_retry {
                    let asked = retry_after.unwrap_or_default().min(RETRY_AFTER_MAX);
                    return Verdict::Retry(backoff(attempt).max(asked));
                }
                Verdict::Done(Err(self.status_error(status, &reply.body, operation)))
            }
            Attempt::ConnectFailed { source, permanent } => {
                if permanent || !can_retry {
                    return Verdict::Done(Err(self.unreachable(source)));
                }
                Verdict::Retry(backoff(attempt))
            }
            Attempt::TimedOut => Verdict::Done(Err(Error::Timeout {
                operation: operation.to_owned(),
                after: self.config.request_timeout,
            })),
            Attempt::Broken(source) => {
                if !idempotent || !can_retry {
                    return Verdict::Done(Err(Error::Transport {
                        operation: operation.to_owned(),
                        reason: innermost(&source),
                        source,
                    }));
                }
                Verdict::Retry(backoff(attempt))
            }
        }
    }
}

/// What [`Inner::judge`] decided.
enum Verdict {
    Done(Result<Reply, Error>),
    Retry(Duration),
}

/// 401, or a redirect to the login page (Gate's form-login modes answer that way).
fn is_unauthenticated(reply: &Reply) -> bool {
    if reply.status == StatusCode::UNAUTHORIZED {
        return true;
    }
    reply.status.is_redirection()
        && reply
            .headers
            .get(LOCATION)
            .and_then(|l| l.to_str().ok())
            .is_some_and(is_login_location)
}

/// `message` from Gate's error body (kork's error map or Gate's `UpstreamBadRequest`).
fn gate_message(body: &[u8]) -> Option<String> {
    let value: Value = serde_json::from_slice(body).ok()?;
    let message = value
        .get("message")
        .and_then(Value::as_str)
        .or_else(|| value.get("error").and_then(Value::as_str))?;
    let message = message.trim();
    (!message.is_empty()).then(|| message.to_owned())
}

/// Whether a connect failure is a TLS handshake failure (rustls reports those as
/// `InvalidData` I/O errors): retrying cannot fix an untrusted or mismatched certificate.
fn is_tls_failure(error: &(dyn std::error::Error + 'static)) -> bool {
    let mut current = Some(error);
    while let Some(e) = current {
        if let Some(io) = e.downcast_ref::<std::io::Error>() {
            // `io::Error::source` skips a wrapped error, so look inside explicitly.
            let mut io = Some(io);
            while let Some(inner) = io {
                if inner.kind() == std::io::ErrorKind::InvalidData {
                    return true;
                }
                io = inner
                    .get_ref()
                    .and_then(|e| e.downcast_ref::<std::io::Error>());
            }
        }
        current = e.source();
    }
    false
}
