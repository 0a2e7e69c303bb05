//! Logs: one debug line per request, and no secret in any line, even at TRACE.

use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};

use axum::http::Method;
use gate::{Auth, Secret};

use crate::app_spec;
use crate::mock::{Fault, MockAuth, MockGate};

#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<u8>>>);

impl Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Capture {
    fn text(&self) -> String {
        String::from_utf8_lossy(
            &self
                .0
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner),
        )
        .into_owned()
    }
}

/// The process-wide capture. A global subscriber (not a thread-local one) because tracing
/// caches per-callsite interest across threads, so a scoped subscriber can miss events
/// while other tests run in parallel. Other tests' lines land here too, which only widens
/// what is checked.
fn capture() -> Capture {
    static CAPTURE: OnceLock<Capture> = OnceLock::new();
    CAPTURE
        .get_or_init(|| {
            let capture = Capture::default();
            let writer = capture.clone();
            let subscriber = tracing_subscriber::fmt()
                .with_max_level(tracing::Level::TRACE)
                .with_ansi(false)
                .with_writer(move || writer.clone())
                .finish();
            tracing::subscriber::set_global_default(subscriber).expect("first global subscriber");
            capture
        })
        .clone()
}

#[tokio::test]
async fn no_secret_reaches_the_logs() {
    let capture = capture();

    // Form login: password in the login body, session cookie afterwards.
    let gate = MockGate::start(MockAuth::FormLogin {
        username: "ops".into(),
        password: "form-pa55word".into(),
    })
    .await;
    let mut config = gate.config();
    config.auth = Auth::Basic {
        username: "ops".into(),
        password: Secret::new("form-pa55word"),
    };
    config.headers = vec![("X-Api-Key".into(), "header-s3cret".into())];
    let client = gate::Client::new(config).expect("client");
    client
        .upsert_application(&app_spec("logged"))
        .await
        .expect("create");
    gate.fault(Fault::status(Method::GET, "/applications/logged", 503));
    client
        .get_application("logged")
        .await
        .expect("read after retry");
    gate.state().sessions.clear();
    client.list_applications().await.expect("re-login");
    let session = gate.state().sessions.last().cloned().expect("a session");

    // Bearer token that opens a session, including a rejected token.
    let bearer_gate = MockGate::start(MockAuth::BearerSession("bearer-t0ken".into())).await;
    let mut config = bearer_gate.config();
    config.auth = Auth::Token(Secret::new("bearer-t0ken"));
    let client = gate::Client::new(config.clone()).expect("client");
    client.list_applications().await.expect("authorized");
    config.auth = Auth::Token(Secret::new("wrong-t0ken"));
    let client = gate::Client::new(config).expect("client");
    let error = client.list_applications().await.expect_err("401");
    tracing::error!(error = %error, debug = ?error, "reported");
    let bearer_session = bearer_gate
        .state()
        .sessions
        .last()
        .cloned()
        .expect("a session");

    let logs = capture.text();
    assert!(
        logs.contains("gate request"),
        "expected request lines, got:\n{logs}"
    );
    assert!(logs.contains(r#"path="/applications/logged""#), "{logs}");
    for secret in [
        "form-pa55word",
        "header-s3cret",
        "bearer-t0ken",
        "wrong-t0ken",
        session.as_str(),
        bearer_session.as_str(),
    ] {
        assert!(
            !logs.contains(secret),
            "secret {secret:?} leaked into logs:\n{logs}"
        );
    }
}
