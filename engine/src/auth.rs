//! Authentication (who is calling) and Fiat-style application authorization (READ / WRITE /
//! EXECUTE by group).
//!
//! * `none` mode, like Gate with security off: every caller is allowed; the user is the
//!   `X-SPINNAKER-USER` header, else `anonymous`. Permissions are not enforced.
//! * `token` mode: `Authorization: Bearer <token>` maps to a user and groups from the config;
//!   missing or unknown tokens get 401. An application's `permissions` attribute is enforced the
//!   way Fiat does: an application without permissions is open to every authenticated user;
//!   otherwise the caller needs one of the listed groups; EXECUTE falls back to READ when absent
//!   (Fiat's default `executeFallback`). Tokens are never logged.

use axum::extract::{Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::Value;

use crate::config::{AuthConfig, AuthMode, Secret};
use crate::error::ApiError;
use crate::server::AppState;

/// Header Gate reads the user from when security is off.
pub const USER_HEADER: &str = "x-spinnaker-user";

/// The authenticated caller of a request.
#[derive(Debug, Clone)]
pub struct Caller {
    /// The user name (`anonymous` when unknown).
    pub user: String,
    /// Groups (Fiat roles), lower-cased.
    pub groups: Vec<String>,
    /// Whether application permissions are enforced for this caller (`token` mode).
    pub enforced: bool,
}

/// An application permission, as in Front50's `permissions` map.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Authorization {
    /// See the application and its configs.
    Read,
    /// Change the application and its configs.
    Write,
    /// Run its pipelines.
    Execute,
}

impl Authorization {
    /// The key in the `permissions` map.
    pub fn key(self) -> &'static str {
        match self {
            Self::Read => "READ",
            Self::Write => "WRITE",
            Self::Execute => "EXECUTE",
        }
    }
}

impl Caller {
    /// Whether the caller holds `need` on an application whose `permissions` attribute is given
    /// (`None` for an application without permissions or one that does not exist).
    pub fn can(&self, permissions: Option<&Value>, need: Authorization) -> bool {
        if !self.enforced {
            return true;
        }
        let Some(Value::Object(perms)) = permissions else {
            return true;
        };
        let restricted = perms
            .values()
            .any(|v| v.as_array().is_some_and(|roles| !roles.is_empty()));
        if !restricted {
            return true;
        }
        let roles = perms.get(need.key()).or_else(|| {
            (need == Authorization::Execute).then(|| perms.get(Authorization::Read.key()))?
        });
        roles.and_then(Value::as_array).is_some_and(|roles| {
            roles.iter().filter_map(Value::as_str).any(|role| {
                let role = role.to_lowercase();
                self.groups.contains(&role)
            })
        })
    }

    /// [`Caller::can`] as a result.
    ///
    /// # Errors
    /// [`ApiError::Forbidden`] when the caller lacks the permission.
    pub fn require(
        &self,
        permissions: Option<&Value>,
        need: Authorization,
    ) -> Result<(), ApiError> {
        if self.can(permissions, need) {
            Ok(())
        } else {
            Err(ApiError::Forbidden)
        }
    }
}

/// Resolves callers from requests according to `[auth]`.
#[derive(Debug)]
pub struct Authenticator {
    mode: AuthMode,
    tokens: Vec<(Secret, Caller)>,
}

impl Authenticator {
    /// Builds the token table from the config.
    pub fn new(config: &AuthConfig) -> Self {
        let tokens = config
            .tokens
            .iter()
            .map(|entry| {
                let caller = Caller {
                    user: entry.user.clone(),
                    groups: entry.groups.iter().map(|g| g.to_lowercase()).collect(),
                    enforced: true,
                };
                (entry.token.clone(), caller)
            })
            .collect();
        Self {
            mode: config.mode,
            tokens,
        }
    }

    /// The caller of a request with these headers, or `None` when credentials are required and
    /// missing or wrong.
    pub fn authenticate(&self, headers: &http::HeaderMap) -> Option<Caller> {
        match self.mode {
            AuthMode::None => {
                let user = headers
                    .get(USER_HEADER)
                    .and_then(|v| v.to_str().ok())
                    .map(str::trim)
                    .filter(|u| !u.is_empty())
                    .unwrap_or("anonymous");
                Some(Caller {
                    user: user.to_owned(),
                    groups: Vec::new(),
                    enforced: false,
                })
            }
            AuthMode::Token => {
                let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
                let (scheme, token) = value.split_once(' ')?;
                if !scheme.eq_ignore_ascii_case("bearer") {
                    return None;
                }
                let token = token.trim();
                // Compare against every entry so timing does not reveal which one matched.
                let mut found = None;
                for (secret, caller) in &self.tokens {
                    if constant_time_eq(secret.expose().as_bytes(), token.as_bytes()) {
                        found = Some(caller);
                    }
                }
                found.cloned()
            }
        }
    }
}

impl Authenticator {
    /// The authenticated principal of a request: a token's user in `token` mode; `None` when
    /// nobody is authenticated, and always in `none` mode (Gate with security off has no
    /// principal, whatever `X-SPINNAKER-USER` says).
    pub fn principal(&self, headers: &http::HeaderMap) -> Option<Caller> {
        match self.mode {
            AuthMode::None => None,
            AuthMode::Token => self.authenticate(headers),
        }
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Paths answered without credentials, as in Gate (`POST /webhooks/**` is permit-all; signed
/// sources are checked by the webhook controller).
fn is_public(path: &str) -> bool {
    path == "/health"
        || path == "/auth/user"
        || path.starts_with("/__spinhcl/")
        || path.starts_with("/webhooks/")
}

/// Middleware: puts the [`Caller`] into request extensions, or answers 401.
pub async fn authenticate(
    State(state): State<AppState>,
    mut request: Request,
    next: Next,
) -> Response {
    match state.auth.authenticate(request.headers()) {
        Some(caller) => {
            request.extensions_mut().insert(caller);
            next.run(request).await
        }
        None if is_public(request.uri().path()) => {
            request.extensions_mut().insert(Caller {
                user: "anonymous".to_owned(),
                groups: Vec::new(),
                enforced: true,
            });
            next.run(request).await
        }
        None => ApiError::Unauthorized.into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn caller(groups: &[&str]) -> Caller {
        Caller {
            user: "u".into(),
            groups: groups.iter().map(|g| g.to_string()).collect(),
            enforced: true,
        }
    }

    #[test]
    fn open_application_allows_everyone() {
        assert!(caller(&[]).can(None, Authorization::Write));
        assert!(caller(&[]).can(Some(&json!({})), Authorization::Write));
        assert!(caller(&[]).can(Some(&json!({"READ": []})), Authorization::Write));
    }

    #[test]
    fn restricted_application_needs_a_listed_group() {
        let perms = json!({"READ": ["dev", "Ops"], "WRITE": ["ops"]});
        assert!(caller(&["dev"]).can(Some(&perms), Authorization::Read));
        assert!(!caller(&["dev"]).can(Some(&perms), Authorization::Write));
        assert!(caller(&["ops"]).can(Some(&perms), Authorization::Write));
        // EXECUTE absent: falls back to READ.
        assert!(caller(&["dev"]).can(Some(&perms), Authorization::Execute));
        assert!(!caller(&["qa"]).can(Some(&perms), Authorization::Read));
    }

    #[test]
    fn none_mode_is_not_enforced() {
        let mut c = caller(&[]);
        c.enforced = false;
        assert!(c.can(Some(&json!({"READ": ["x"]})), Authorization::Read));
    }
}
