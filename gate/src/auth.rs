//! Authentication state: bearer header (plus a `SESSION` opened with it when Gate's OAuth
//! filter insists on one), Gate form login with the `SESSION` cookie (re-done when the
//! session expires), or HTTP Basic when Gate has no form login.

use http::StatusCode;
use http::header::{HeaderValue, LOCATION, SET_COOKIE};
use tokio::sync::Mutex;

use crate::{Auth, Error, Secret};

/// What to attach to the next request.
#[derive(Debug, Clone)]
pub(crate) enum Credential {
    /// Nothing (no auth, client certificate, or the session cookie the jar adds itself).
    Nothing,
    /// `Authorization: Bearer …` (sensitive header value).
    Bearer(HeaderValue),
    /// `Authorization: Basic …` per request.
    HttpBasic { username: String, password: Secret },
}

/// Where the username/password login stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LoginState {
    /// Not logged in yet.
    Pending,
    /// Logged in; the cookie jar holds `SESSION`. The number counts logins.
    Session(u64),
    /// Gate has no usable form login; send HTTP Basic on every request.
    HttpBasic,
}

/// The client's authentication, shared by all clones.
#[derive(Debug)]
pub(crate) struct Authenticator {
    bearer: Option<HeaderValue>,
    basic: Option<(String, Secret)>,
    login: Mutex<LoginState>,
}

impl Authenticator {
    pub(crate) fn new(auth: &Auth) -> Result<Self, Error> {
        let mut bearer = None;
        let mut basic = None;
        match auth {
            Auth::None | Auth::ClientCertificate { .. } => {}
            Auth::Token(token) => {
                if token.expose().trim().is_empty() {
                    return Err(Error::InvalidConfig {
                        field: "auth.token",
                        message:
                            "the token is empty; set a bearer token or choose another auth mode"
                                .into(),
                    });
                }
                let mut value = HeaderValue::try_from(format!("Bearer {}", token.expose().trim()))
                    .map_err(|_| Error::InvalidConfig {
                        field: "auth.token",
                        message: "the token contains characters not allowed in an HTTP header"
                            .into(),
                    })?;
                value.set_sensitive(true);
                bearer = Some(value);
            }
            Auth::Basic { username, password } => {
                if username.is_empty() {
                    return Err(Error::InvalidConfig {
                        field: "auth.username",
                        message: "the username is empty".into(),
                    });
                }
                basic = Some((username.clone(), password.clone()));
            }
        }
        Ok(Self {
            bearer,
            basic,
            login: Mutex::new(LoginState::Pending),
        })
    }

    /// Whether this client may hold a `SESSION` cookie (username/password or bearer token).
    pub(crate) fn uses_session(&self) -> bool {
        self.basic.is_some() || self.bearer.is_some()
    }

    /// The `Authorization: Bearer …` value, in token mode.
    pub(crate) fn bearer(&self) -> Option<&HeaderValue> {
        self.bearer.as_ref()
    }

    /// The login state after making sure a login was tried.
    pub(crate) async fn current(
        &self,
        client: &crate::client::Inner,
    ) -> Result<(Credential, LoginState), Error> {
        if let Some(bearer) = &self.bearer {
            return Ok((Credential::Bearer(bearer.clone()), LoginState::Pending));
        }
        let Some((username, password)) = &self.basic else {
            return Ok((Credential::Nothing, LoginState::Pending));
        };
        let mut state = self.login.lock().await;
        if *state == LoginState::Pending {
            *state = self.log_in(client, username, password, 0).await?;
        }
        Ok(match *state {
            LoginState::HttpBasic => (
                Credential::HttpBasic {
                    username: username.clone(),
                    password: password.clone(),
                },
                *state,
            ),
            other => (Credential::Nothing, other),
        })
    }

    /// Logs in again after Gate rejected the session `seen` (unless another request already did).
    pub(crate) async fn renew(
        &self,
        client: &crate::client::Inner,
        seen: LoginState,
    ) -> Result<(), Error> {
        let Some((username, password)) = &self.basic else {
            return Ok(());
        };
        let mut state = self.login.lock().await;
        if let (LoginState::Session(current), LoginState::Session(old)) = (*state, seen)
            && current == old
        {
            *state = self.log_in(client, username, password, current).await?;
        }
        Ok(())
    }

    /// Gate's form login: `POST /login` with `username` and `password`.
    async fn log_in(
        &self,
        client: &crate::client::Inner,
        username: &str,
        password: &Secret,
        logins: u64,
    ) -> Result<LoginState, Error> {
        let form = [("username", username), ("password", password.expose())];
        let reply = client.send_login(&form).await?;
        let status = reply.status;
        let redirected_to_login = reply
            .headers
            .get(LOCATION)
            .and_then(|l| l.to_str().ok())
            .is_some_and(is_login_location);
        let got_session = reply.headers.get_all(SET_COOKIE).iter().any(|cookie| {
            cookie
                .to_str()
                .is_ok_and(|c| c.trim_start().starts_with("SESSION="))
        });
        if status == StatusCode::NOT_FOUND || status == StatusCode::METHOD_NOT_ALLOWED {
            tracing::debug!("gate has no form login; using HTTP Basic per request");
            return Ok(LoginState::HttpBasic);
        }
        if status == StatusCode::UNAUTHORIZED
            || status == StatusCode::FORBIDDEN
            || redirected_to_login
        {
            return Err(client.unauthenticated());
        }
        if status.is_success() || status.is_redirection() {
            if got_session {
                tracing::debug!("gate form login succeeded; reusing the session cookie");
                return Ok(LoginState::Session(logins + 1));
            }
            tracing::debug!("gate login set no session cookie; using HTTP Basic per request");
            return Ok(LoginState::HttpBasic);
        }
        Err(client.status_error(status, &reply.body, "POST /login"))
    }
}

/// Whether a redirect target is Gate's login page (`/login`, `/login?error`, absolute or not).
pub(crate) fn is_login_location(location: &str) -> bool {
    let without_query = location.split(['?', '#']).next().unwrap_or(location);
    without_query.trim_end_matches('/').ends_with("/login")
}

#[cfg(test)]
mod tests {
    use super::is_login_location;

    #[test]
    fn login_locations() {
        assert!(is_login_location("http://localhost/login"));
        assert!(is_login_location("/login?error"));
        assert!(is_login_location("https://gate.example.com/gate/login"));
        assert!(!is_login_location("http://localhost/"));
        assert!(!is_login_location("/applications/login-app"));
    }
}
