//! Client configuration: endpoint, authentication mode, TLS, retries and limits.

use std::fmt;
use std::time::Duration;

use crate::Secret;

/// How the client proves who it is to Gate (see Gate's authentication modes).
#[derive(Clone, Default)]
pub enum Auth {
    /// No credentials: Gate runs without authentication.
    #[default]
    None,
    /// `Authorization: Bearer <token>` on every request (OAuth 2.0 access token, IAP OIDC token).
    Token(Secret),
    /// Username and password: Gate's form login (`POST /login`, then the `SESSION` cookie);
    /// HTTP Basic on every request when the deployment has no form login.
    Basic {
        /// Login name.
        username: String,
        /// Password; never logged.
        password: Secret,
    },
    /// An x509 client certificate presented during the TLS handshake (Gate's x509 mode).
    ClientCertificate {
        /// PEM certificate chain, leaf first.
        cert_pem: Vec<u8>,
        /// PEM private key (PKCS#8, PKCS#1 or SEC1); never logged.
        key_pem: Secret,
    },
}

impl Auth {
    /// The mode's name as used in logs and error messages.
    pub fn mode(&self) -> &'static str {
        match self {
            Auth::None => "none",
            Auth::Token(_) => "token",
            Auth::Basic { .. } => "basic",
            Auth::ClientCertificate { .. } => "client_certificate",
        }
    }
}

impl fmt::Debug for Auth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Auth::None => f.write_str("None"),
            Auth::Token(_) => f.write_str("Token(<redacted>)"),
            Auth::Basic { username, .. } => f
                .debug_struct("Basic")
                .field("username", username)
                .field("password", &"<redacted>")
                .finish(),
            Auth::ClientCertificate { cert_pem, .. } => f
                .debug_struct("ClientCertificate")
                .field("cert_pem_bytes", &cert_pem.len())
                .field("key_pem", &"<redacted>")
                .finish(),
        }
    }
}

/// Everything [`crate::Client::new`] needs. Start from [`Config::new`] and change fields.
#[derive(Clone)]
pub struct Config {
    /// Gate's base URL, e.g. `https://gate.example.com` or `http://127.0.0.1:8084`.
    /// A path prefix (`https://host/gate`) is kept.
    pub endpoint: url::Url,
    /// Authentication mode.
    pub auth: Auth,
    /// Extra PEM CA certificates trusted in addition to the system roots.
    pub ca_bundle_pem: Option<Vec<u8>>,
    /// Skip TLS certificate verification. Explicit opt-in for test setups only.
    pub insecure: bool,
    /// Extra headers sent on every request (values are treated as sensitive).
    pub headers: Vec<(String, String)>,
    /// Bound for one HTTP request, from connect to the last body byte. Connecting gets at
    /// most half of it and never more than 5 s.
    pub request_timeout: Duration,
    /// Retries after the first attempt (connection errors, 502/503/504 on idempotent calls, 429).
    pub max_retries: u32,
    /// Client-side rate limit; `None` means unlimited.
    pub requests_per_second: Option<f64>,
    /// Requests in flight at once across all clones of the client.
    pub max_parallel_requests: usize,
    /// Overall bound for waiting on an Orca task (`wait_for_task`).
    pub task_timeout: Duration,
    /// Bound for waiting until a saved pipeline shows up in Front50's cache.
    pub visibility_timeout: Duration,
    /// `User-Agent` header.
    pub user_agent: String,
}

impl Config {
    /// Defaults: no auth, system CA roots, 30 s request timeout, 4 retries, no rate limit,
    /// 8 parallel requests, 5 min task timeout, 30 s visibility timeout.
    pub fn new(endpoint: url::Url) -> Self {
        Self {
            endpoint,
            auth: Auth::None,
            ca_bundle_pem: None,
            insecure: false,
            headers: Vec::new(),
            request_timeout: Duration::from_secs(30),
            max_retries: 4,
            requests_per_second: None,
            max_parallel_requests: 8,
            task_timeout: Duration::from_secs(300),
            visibility_timeout: Duration::from_secs(30),
            user_agent: format!("spinhcl-gate/{}", env!("CARGO_PKG_VERSION")),
        }
    }
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let header_names: Vec<&str> = self.headers.iter().map(|(name, _)| name.as_str()).collect();
        f.debug_struct("Config")
            .field("endpoint", &self.endpoint.as_str())
            .field("auth", &self.auth)
            .field("ca_bundle_pem", &self.ca_bundle_pem.as_ref().map(Vec::len))
            .field("insecure", &self.insecure)
            .field("header_names", &header_names)
            .field("request_timeout", &self.request_timeout)
            .field("max_retries", &self.max_retries)
            .field("requests_per_second", &self.requests_per_second)
            .field("max_parallel_requests", &self.max_parallel_requests)
            .field("task_timeout", &self.task_timeout)
            .field("visibility_timeout", &self.visibility_timeout)
            .field("user_agent", &self.user_agent)
            .finish()
    }
}
