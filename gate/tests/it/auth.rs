//! Authentication modes against the mock: bearer, form login with the `SESSION` cookie
//! (reused, renewed on expiry), HTTP Basic fallback, and redirects to `/login`.

use axum::http::Method;
use gate::{Auth, Error, Secret};

use crate::mock::{Fault, MockAuth, MockGate};

fn form_login() -> MockAuth {
    MockAuth::FormLogin {
        username: "ops".into(),
        password: "pa55word".into(),
    }
}

fn with_auth(gate: &MockGate, auth: Auth) -> gate::Client {
    let mut config = gate.config();
    config.auth = auth;
    gate::Client::new(config).expect("client")
}

#[tokio::test]
async fn bearer_token_is_sent() {
    let gate = MockGate::start(MockAuth::Bearer("tok-123".into())).await;
    let client = with_auth(&gate, Auth::Token(Secret::new("tok-123")));
    client.list_applications().await.expect("authorized");
    let seen = gate
        .state()
        .seen
        .last()
        .and_then(|r| r.authorization.clone());
    assert_eq!(seen.as_deref(), Some("Bearer tok-123"));

    let wrong = with_auth(&gate, Auth::Token(Secret::new("other")));
    let error = wrong.list_applications().await.expect_err("401");
    assert!(
        matches!(error, Error::Unauthenticated { mode: "token", .. }),
        "{error:?}"
    );
}

#[tokio::test]
async fn bearer_token_opens_a_session_when_gate_wants_one() {
    let gate = MockGate::start(MockAuth::BearerSession("oauth-tok".into())).await;
    let client = with_auth(&gate, Auth::Token(Secret::new("oauth-tok")));
    for _ in 0..3 {
        client
            .list_applications()
            .await
            .expect("authorized through the session");
    }
    assert_eq!(client.stats().count("GET /login"), 1);
    assert_eq!(
        client.stats().count("GET /applications"),
        4,
        "one redirected, three served"
    );
    let session = gate.state().sessions[0].clone();
    let last = gate.state().seen.last().and_then(|r| r.cookie.clone());
    assert_eq!(last, Some(format!("SESSION={session}")));

    let wrong = with_auth(&gate, Auth::Token(Secret::new("expired")));
    let error = wrong.list_applications().await.expect_err("rejected");
    assert!(
        matches!(error, Error::Unauthenticated { mode: "token", .. }),
        "{error:?}"
    );
    assert_eq!(
        wrong.stats().count("GET /login"),
        1,
        "the session is tried once"
    );
}

#[tokio::test]
async fn form_login_cookie_is_reused() {
    let gate = MockGate::start(form_login()).await;
    let client = with_auth(
        &gate,
        Auth::Basic {
            username: "ops".into(),
            password: Secret::new("pa55word"),
        },
    );
    for _ in 0..3 {
        client.list_applications().await.expect("authorized");
    }
    client
        .clone()
        .get_application("x")
        .await
        .expect("clone shares the session");
    assert_eq!(client.stats().count("POST /login"), 1);
    assert_eq!(gate.seen_count(Method::POST, "/login"), 1);
    let session = gate.state().sessions[0].clone();
    let state = gate.state();
    let api_calls: Vec<_> = state.seen.iter().filter(|r| r.path != "/login").collect();
    assert_eq!(api_calls.len(), 4);
    for call in api_calls {
        assert_eq!(
            call.cookie.as_deref(),
            Some(format!("SESSION={session}").as_str())
        );
        assert_eq!(
            call.authorization, None,
            "no per-request credentials with a session"
        );
    }
}

#[tokio::test]
async fn login_is_retried_while_gate_starts() {
    let gate = MockGate::start(form_login()).await;
    gate.fault(Fault::status(Method::POST, "/login", 503));
    let client = with_auth(
        &gate,
        Auth::Basic {
            username: "ops".into(),
            password: Secret::new("pa55word"),
        },
    );
    client
        .list_applications()
        .await
        .expect("authorized after a retried login");
    assert_eq!(client.stats().count("POST /login"), 2);
}

#[tokio::test]
async fn expired_session_logs_in_again() {
    let gate = MockGate::start(form_login()).await;
    let client = with_auth(
        &gate,
        Auth::Basic {
            username: "ops".into(),
            password: Secret::new("pa55word"),
        },
    );
    client.list_applications().await.expect("authorized");
    gate.state().sessions.clear();
    client
        .list_applications()
        .await
        .expect("re-login and retry");
    assert_eq!(client.stats().count("POST /login"), 2);
}

#[tokio::test]
async fn wrong_password_is_unauthenticated() {
    let gate = MockGate::start(form_login()).await;
    let client = with_auth(
        &gate,
        Auth::Basic {
            username: "ops".into(),
            password: Secret::new("wrong"),
        },
    );
    let error = client.list_applications().await.expect_err("rejected");
    assert!(
        matches!(error, Error::Unauthenticated { mode: "basic", .. }),
        "{error:?}"
    );
    assert_eq!(gate.seen_count(Method::GET, "/applications"), 0);
}

#[tokio::test]
async fn http_basic_when_gate_has_no_form_login() {
    let gate = MockGate::start(MockAuth::HttpBasicOnly {
        username: "ops".into(),
        password: "pa55word".into(),
    })
    .await;
    let client = with_auth(
        &gate,
        Auth::Basic {
            username: "ops".into(),
            password: Secret::new("pa55word"),
        },
    );
    client.list_applications().await.expect("authorized");
    client.list_applications().await.expect("authorized");
    assert_eq!(
        client.stats().count("POST /login"),
        1,
        "login is tried once"
    );
    let state = gate.state();
    let basic: Vec<_> = state
        .seen
        .iter()
        .filter(|r| r.path == "/applications")
        .collect();
    assert_eq!(basic.len(), 2);
    assert!(
        basic
            .iter()
            .all(|r| r.authorization.as_deref() == Some("Basic b3BzOnBhNTV3b3Jk"))
    );
}

#[tokio::test]
async fn redirect_to_login_is_unauthenticated_and_not_followed() {
    let gate = MockGate::start(form_login()).await;
    let client = gate.client();
    let error = client.list_applications().await.expect_err("302");
    assert!(
        matches!(error, Error::Unauthenticated { mode: "none", .. }),
        "{error:?}"
    );
    assert!(
        error
            .to_string()
            .contains("check the token, username/password")
    );
    assert_eq!(
        gate.seen_count(Method::GET, "/login"),
        0,
        "redirects are not followed"
    );
}

#[tokio::test]
async fn extra_headers_user_agent_and_request_id_are_sent() {
    let gate = MockGate::start(MockAuth::Open).await;
    let mut config = gate.config();
    config.headers = vec![("X-RateLimit-App".into(), "terraform".into())];
    config.user_agent = "spinhcl-test/1".into();
    let client = gate::Client::new(config).expect("client");
    client.list_applications().await.expect("list");
    client.list_applications().await.expect("list");
    let state = gate.state();
    let ids: Vec<_> = state
        .seen
        .iter()
        .map(|r| {
            assert_eq!(
                r.headers
                    .get("x-ratelimit-app")
                    .and_then(|v| v.to_str().ok()),
                Some("terraform")
            );
            assert_eq!(
                r.headers.get("user-agent").and_then(|v| v.to_str().ok()),
                Some("spinhcl-test/1")
            );
            r.headers
                .get("x-spinnaker-request-id")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
                .expect("request id")
        })
        .collect();
    assert_eq!(ids.len(), 2);
    assert_ne!(ids[0], ids[1], "each request has its own id");
}
