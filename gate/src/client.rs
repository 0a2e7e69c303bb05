//! `Client`: validates the configuration and builds the one `reqwest::Client` (timeouts,
//! TLS, redirect policy, cookies); clones share connections, limits, session and cache.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use http::header::{HeaderMap, HeaderName, HeaderValue};
use serde_json::Value;
use tokio::sync::{OnceCell, Semaphore};

use crate::auth::Authenticator;
use crate::rate_limit::RateLimiter;
use crate::request::{Call, Reply};
use crate::stats::{RequestStats, StatsRecorder};
use crate::transport::innermost;
use crate::{Auth, Config, Error};

/// Longest connect phase; an unreachable Gate fails fast even with a long request timeout.
/// The connect phase also gets at most half the request timeout, so a connection that
/// cannot be opened reports as `Unreachable` rather than as a request timeout.
const CONNECT_TIMEOUT_MAX: Duration = Duration::from_secs(5);

/// An async Gate client. Cheap to clone: clones share connections, limits, session and cache.
#[derive(Clone, Debug)]
pub struct Client {
    pub(crate) inner: Arc<Inner>,
}

/// Cached pipeline-config lists, one cell per lower-cased application name.
pub(crate) type PipelineCache = std::sync::Mutex<HashMap<String, Arc<OnceCell<Arc<Vec<Value>>>>>>;

/// State shared by all clones of a [`Client`].
#[derive(Debug)]
pub(crate) struct Inner {
    pub(crate) http: reqwest::Client,
    pub(crate) endpoint: url::Url,
    pub(crate) auth: Authenticator,
    pub(crate) auth_mode: &'static str,
    pub(crate) limiter: Option<RateLimiter>,
    pub(crate) permits: Semaphore,
    pub(crate) stats: StatsRecorder,
    pub(crate) config: Config,
    pub(crate) pipeline_cache: PipelineCache,
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
            .connect_timeout((config.request_timeout / 2).min(CONNECT_TIMEOUT_MAX))
            .timeout(config.request_timeout)
            .user_agent(config.user_agent.clone())
            .default_headers(extra_headers(&config.headers)?)
            .cookie_store(auth.uses_session())
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
    if !endpoint.username().is_empty() || endpoint.password().is_some() {
        return Err(Error::InvalidConfig {
            field: "endpoint",
            message: "the URL must not carry credentials (they would end up in logs); use the token or username/password settings".into(),
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
