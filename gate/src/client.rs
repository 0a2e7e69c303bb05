//! `Client`: builds the one `reqwest::Client`, and sends every request through the
//! shared policy: auth, rate limit, parallelism cap, retries, error mapping, stats, logs.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use http::header::{HeaderMap, HeaderName, HeaderValue, LOCATION, RETRY_AFTER};
use http::{Method, StatusCode};
use serde::de::DeserializeOwned;
use serde_json::Value;
use tokio::sync::{OnceCell, Semaphore};

use crate::auth::{Authenticator, Credential, LoginState, is_login_location};
use crate::rate_limit::RateLimiter;
use crate::retry::{RETRY_AFTER_MAX, backoff, is_retryable_status, parse_retry_after};
use crate::stats::{RequestStats, StatsRecorder};
use crate::{Auth, Config, Error};

/// Longest connect phase; an unreachable Gate fails fast even with a long request timeout.
const CONNECT_TIMEOUT_MAX: Duration = Duration::from_secs(5);

/// An async Gate client. Cheap to clone: clones share connections, limits, session and cache.
#[derive(Clone, Debug)]
pub struct Client {
    pub(crate) inner: Arc<Inner>,
}

/// Cached pipeline-config lists, one cell per lower-cased application name.
pub(crate) type PipelineCache = std::sync::Mutex<HashMap<String, Arc<OnceCell<Arc<Vec<Value>>>>>>;

#[derive(Debug)]
pub(crate) struct Inner {
    http: reqwest::Client,
    endpoint: url::Url,
    auth: Authenticator,
    auth_mode: &'static str,
    limiter: Option<RateLimiter>,
    permits: Semaphore,
    stats: StatsRecorder,
    pub(crate) config: Config,
    pub(crate) pipeline_cache: PipelineCache,
}

/// Whether a call may be repeated after a transient server failure (502/503/504, broken
/// connection). Every call is retried on 429 and when the connection could not be opened,
/// because Gate has then done nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Idempotency {
    /// GET, PUT, DELETE, and POSTs known to be create-or-replace.
    Idempotent,
    /// Other POSTs and PATCH.
    NotIdempotent,
}

/// A request body.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Body<'a> {
    Empty,
    Json(&'a Value),
}

/// One logical call to Gate.
#[derive(Debug)]
pub(crate) struct Call<'a> {
    pub(crate) method: Method,
    /// Route template for stats and logs, e.g. `/applications/{app}`.
    pub(crate) route: &'static str,
    /// Percent-encoded path below the endpoint, e.g. `/applications/my%20app`.
    pub(crate) path: String,
    pub(crate) query: Vec<(&'static str, String)>,
    pub(crate) body: Body<'a>,
    pub(crate) idempotency: Idempotency,
}

impl<'a> Call<'a> {
    pub(crate) fn get(route: &'static str, path: String) -> Self {
        Self::new(Method::GET, route, path, Idempotency::Idempotent)
    }

    pub(crate) fn new(
        method: Method,
        route: &'static str,
        path: String,
        idempotency: Idempotency,
    ) -> Self {
        Self {
            method,
            route,
            path,
            query: Vec::new(),
            body: Body::Empty,
            idempotency,
        }
    }

    pub(crate) fn query(mut self, key: &'static str, value: impl Into<String>) -> Self {
        self.query.push((key, value.into()));
        self
    }

    pub(crate) fn json(mut self, body: &'a Value) -> Self {
        self.body = Body::Json(body);
        self
    }

    fn operation(&self) -> String {
        format!("{} {}", self.method, self.route)
    }
}

/// A received answer, body read in full.
#[derive(Debug)]
pub(crate) struct Reply {
    pub(crate) status: StatusCode,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Vec<u8>,
    pub(crate) operation: String,
}

impl Reply {
    /// Decodes the body as JSON.
    pub(crate) fn json<T: DeserializeOwned>(&self) -> Result<T, Error> {
        serde_json::from_slice(&self.body).map_err(|source| Error::Decode {
            operation: self.operation.clone(),
            source,
        })
    }

    /// Decodes the body, treating an empty body as `None`.
    pub(crate) fn json_opt<T: DeserializeOwned>(&self) -> Result<Option<T>, Error> {
        if self.body.iter().all(u8::is_ascii_whitespace) {
            return Ok(None);
        }
        self.json().map(Some)
    }
}

/// Turns `Err(NotFound)` into `Ok(None)`.
pub(crate) fn optional<T>(result: Result<T, Error>) -> Result<Option<T>, Error> {
    match result {
        Ok(value) => Ok(Some(value)),
        Err(Error::NotFound { .. }) => Ok(None),
        Err(other) => Err(other),
    }
}

/// Percent-encodes one path segment (application, pipeline name, id).
pub(crate) fn segment(value: &str) -> String {
    const SEGMENT: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
        .remove(b'-')
        .remove(b'_')
        .remove(b'.')
        .remove(b'~');
    percent_encoding::utf8_percent_encode(value, SEGMENT).to_string()
}

impl Client {
    /// Validates `config` and builds the client. This is the only place a `reqwest::Client`
    /// is built, so timeouts, TLS and redirect policy are set once here.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] naming the field at fault.
    pub fn new(config: Config) -> Result<Client, Error> {
        validate(&config)?;
        let auth = Authenticator::new(&config.auth)?;
        let mut builder = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(config.request_timeout.min(CONNECT_TIMEOUT_MAX))
            .timeout(config.request_timeout)
            .user_agent(config.user_agent.clone())
            .default_headers(extra_headers(&config.headers)?)
            .cookie_store(auth.uses_login())
            .pool_max_idle_per_host(config.max_parallel_requests);
        if let Some(pem) = &config.ca_bundle_pem {
            let certs =
                reqwest::Certificate::from_pem_bundle(pem).map_err(|e| Error::InvalidConfig {
                    field: "ca_bundle_pem",
                    message: format!("cannot read the PEM CA bundle: {}", innermost(&e)),
                })?;
            if certs.is_empty() {
                return Err(Error::InvalidConfig {
                    field: "ca_bundle_pem",
                    message: "the CA bundle holds no PEM certificate".into(),
                });
            }
            builder = builder.tls_certs_merge(certs);
        }
        if let Auth::ClientCertificate { cert_pem, key_pem } = &config.auth {
            let mut pem = cert_pem.clone();
            pem.push(b'\n');
            pem.extend_from_slice(key_pem.expose().as_bytes());
            let identity = reqwest::Identity::from_pem(&pem).map_err(|e| Error::InvalidConfig {
                field: "auth.client_certificate",
                message: format!(
                    "cannot use the client certificate and key (PEM certificate plus an unencrypted PKCS#8, PKCS#1 or SEC1 key expected): {}",
                    innermost(&e)
                ),
            })?;
            builder = builder.identity(identity);
        }
        if config.insecure {
            tracing::warn!(endpoint = %config.endpoint, "TLS certificate verification is off (insecure = true)");
            builder = builder.tls_danger_accept_invalid_certs(true);
        }
        let http = builder.build().map_err(|e| Error::InvalidConfig {
            field: "tls",
            message: format!("cannot set up the HTTP client: {}", innermost(&e)),
        })?;
        let limiter = config.requests_per_second.map(RateLimiter::new);
        let inner = Inner {
            http,
            endpoint: config.endpoint.clone(),
            auth_mode: config.auth.mode(),
            auth,
            limiter,
            permits: Semaphore::new(config.max_parallel_requests),
            stats: StatsRecorder::default(),
            pipeline_cache: PipelineCache::default(),
            config,
        };
        Ok(Client {
            inner: Arc::new(inner),
        })
    }

    /// Requests sent so far by this client and its clones.
    pub fn stats(&self) -> RequestStats {
        self.inner.stats.snapshot()
    }

    /// The configuration the client was built from.
    pub fn config(&self) -> &Config {
        &self.inner.config
    }

    pub(crate) async fn send(&self, call: Call<'_>) -> Result<Reply, Error> {
        self.inner.send(&call).await
    }
}

fn validate(config: &Config) -> Result<(), Error> {
    let endpoint = &config.endpoint;
    if !matches!(endpoint.scheme(), "http" | "https") {
        return Err(Error::InvalidConfig {
            field: "endpoint",
            message: format!(
                "the scheme must be http or https, got `{}`",
                endpoint.scheme()
            ),
        });
    }
    if endpoint.host_str().is_none_or(str::is_empty) {
        return Err(Error::InvalidConfig {
            field: "endpoint",
            message: "the URL has no host".into(),
        });
    }
    if matches!(config.auth, Auth::ClientCertificate { .. }) && endpoint.scheme() != "https" {
        return Err(Error::InvalidConfig {
            field: "endpoint",
            message: "a client certificate is only presented over https; use an https endpoint"
                .into(),
        });
    }
    if config.max_parallel_requests == 0 {
        return Err(Error::InvalidConfig {
            field: "max_parallel_requests",
            message: "must be at least 1".into(),
        });
    }
    if let Some(rate) = config.requests_per_second
        && !(rate.is_finite() && rate > 0.0)
    {
        return Err(Error::InvalidConfig {
            field: "requests_per_second",
            message: format!("must be a positive number, got {rate}"),
        });
    }
    if config.request_timeout.is_zero() {
        return Err(Error::InvalidConfig {
            field: "request_timeout",
            message: "must be longer than zero".into(),
        });
    }
    if config.task_timeout.is_zero() {
        return Err(Error::InvalidConfig {
            field: "task_timeout",
            message: "must be longer than zero".into(),
        });
    }
    Ok(())
}

fn extra_headers(headers: &[(String, String)]) -> Result<HeaderMap, Error> {
    let mut map = HeaderMap::new();
    for (name, value) in headers {
        let header_name =
            HeaderName::try_from(name.as_str()).map_err(|_| Error::InvalidConfig {
                field: "headers",
                message: format!("`{name}` is not a valid HTTP header name"),
            })?;
        let mut header_value =
            HeaderValue::try_from(value.as_str()).map_err(|_| Error::InvalidConfig {
                field: "headers",
                message: format!(
                    "the value of header `{name}` has characters not allowed in HTTP headers"
                ),
            })?;
        header_value.set_sensitive(true);
        map.append(header_name, header_value);
    }
    Ok(map)
}

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
    /// The connection could not be opened: nothing reached Gate.
    ConnectFailed(reqwest::Error),
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

    /// Sends `POST /login` (form). Counted and logged like any request, never with its body.
    pub(crate) async fn send_login(&self, form: &[(&str, &str)]) -> Result<Reply, Error> {
        let url = self.url("/login", &[]);
        let operation = "POST /login".to_owned();
        let request = self.http.post(url).form(form);
        match self.attempt(request, "POST", "/login", "/login", 0).await {
            Attempt::Reply(reply) => Ok(reply),
            Attempt::ConnectFailed(source) => Err(self.unreachable(source)),
            Attempt::TimedOut => Err(Error::Timeout {
                operation,
                after: self.config.request_timeout,
            }),
            Attempt::Broken(source) => Err(Error::Transport {
                operation,
                reason: innermost(&source),
                source,
            }),
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
                    Attempt::ConnectFailed(error)
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
            let can_retry = attempt < self.config.max_retries;
            let wait = match outcome {
                Attempt::Reply(reply) => {
                    let status = reply.status;
                    if status.is_success() {
                        return Ok(reply);
                    }
                    if is_unauthenticated(&reply) {
                        if matches!(login, LoginState::Session(_)) && !renewed_session {
                            renewed_session = true;
                            tracing::debug!("gate session expired; logging in again");
                            self.auth.renew(self, login).await?;
                            continue;
                        }
                        return Err(self.unauthenticated());
                    }
                    let retry_after = reply
                        .headers
                        .get(RETRY_AFTER)
                        .and_then(|v| v.to_str().ok())
                        .and_then(|v| parse_retry_after(v, SystemTime::now()));
                    if status == StatusCode::TOO_MANY_REQUESTS {
                        let wait = retry_after.unwrap_or_else(|| backoff(attempt));
                        if !can_retry || wait > RETRY_AFTER_MAX {
                            return Err(Error::RateLimited { retry_after });
                        }
                        wait
                    } else if is_retryable_status(status.as_u16())
                        && call.idempotency == Idempotency::Idempotent
                        && can_retry
                    {
                        backoff(attempt).max(retry_after.unwrap_or_default().min(RETRY_AFTER_MAX))
                    } else {
                        return Err(self.status_error(status, &reply.body, &operation));
                    }
                }
                Attempt::ConnectFailed(source) => {
                    if !can_retry {
                        return Err(self.unreachable(source));
                    }
                    backoff(attempt)
                }
                Attempt::TimedOut => {
                    return Err(Error::Timeout {
                        operation,
                        after: self.config.request_timeout,
                    });
                }
                Attempt::Broken(source) => {
                    if call.idempotency == Idempotency::NotIdempotent || !can_retry {
                        return Err(Error::Transport {
                            operation,
                            reason: innermost(&source),
                            source,
                        });
                    }
                    backoff(attempt)
                }
            };
            tracing::debug!(
                operation,
                attempt,
                wait_ms = wait.as_millis(),
                "retrying gate request"
            );
            tokio::time::sleep(wait).await;
            attempt += 1;
        }
    }
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
