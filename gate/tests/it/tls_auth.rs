//! TLS: CA bundle accepted, unknown CA rejected by default, `insecure` opt-in, and the
//! x509 client certificate presented to a server that requires one.

use gate::{Auth, Error, Secret};

use crate::mock::{MockAuth, MockGate};
use crate::tls::TestPki;

#[tokio::test]
async fn ca_bundle_is_trusted() {
    let pki = TestPki::generate();
    let gate = MockGate::start_tls(MockAuth::Open, pki.server_config(false)).await;
    let mut config = gate.config();
    config.ca_bundle_pem = Some(pki.ca_pem.clone().into_bytes());
    let client = gate::Client::new(config).expect("client");
    client
        .list_applications()
        .await
        .expect("trusted through the bundle");
}

#[tokio::test]
async fn unknown_ca_is_rejected_by_default() {
    let pki = TestPki::generate();
    let gate = MockGate::start_tls(MockAuth::Open, pki.server_config(false)).await;
    let client = gate.client();
    let error = client.list_applications().await.expect_err("untrusted");
    match &error {
        Error::Unreachable { reason, .. } => {
            assert!(reason.to_lowercase().contains("certificate"), "{reason}");
        }
        other => panic!("unexpected {other:?}"),
    }
    // A certificate problem is not retried: a retry cannot fix it.
    assert_eq!(client.stats().count("GET /applications"), 1);
}

#[tokio::test]
async fn insecure_skips_verification() {
    let pki = TestPki::generate();
    let gate = MockGate::start_tls(MockAuth::Open, pki.server_config(false)).await;
    let mut config = gate.config();
    config.insecure = true;
    let client = gate::Client::new(config).expect("client");
    client
        .list_applications()
        .await
        .expect("accepted without verification");
}

#[tokio::test]
async fn client_certificate_is_presented() {
    let pki = TestPki::generate();
    let gate = MockGate::start_tls(MockAuth::Open, pki.server_config(true)).await;
    let mut config = gate.config();
    config.ca_bundle_pem = Some(pki.ca_pem.clone().into_bytes());
    config.auth = Auth::ClientCertificate {
        cert_pem: pki.client.cert_pem.clone().into_bytes(),
        key_pem: Secret::new(pki.client.key_pem.clone()),
    };
    let client = gate::Client::new(config).expect("client");
    client.list_applications().await.expect("mutual TLS");
    let presented = gate.state().client_certs.clone();
    assert_eq!(presented, vec![pki.client.cert_der.len()]);
}

#[tokio::test]
async fn server_requiring_a_cert_refuses_a_client_without_one() {
    let pki = TestPki::generate();
    let gate = MockGate::start_tls(MockAuth::Open, pki.server_config(true)).await;
    let mut config = gate.config();
    config.ca_bundle_pem = Some(pki.ca_pem.clone().into_bytes());
    config.max_retries = 0;
    let client = gate::Client::new(config).expect("client");
    let error = client
        .list_applications()
        .await
        .expect_err("no client cert");
    assert!(
        matches!(error, Error::Unreachable { .. } | Error::Transport { .. }),
        "{error:?}"
    );
    assert!(gate.state().seen.is_empty());
}

#[tokio::test]
async fn client_certificate_needs_https_and_valid_pem() {
    let mut config = gate::Config::new(url::Url::parse("http://127.0.0.1:1").expect("url"));
    config.auth = Auth::ClientCertificate {
        cert_pem: b"x".to_vec(),
        key_pem: Secret::new("y"),
    };
    let error = gate::Client::new(config.clone()).expect_err("http");
    assert!(
        matches!(
            error,
            Error::InvalidConfig {
                field: "endpoint",
                ..
            }
        ),
        "{error:?}"
    );

    config.endpoint = url::Url::parse("https://127.0.0.1:1").expect("url");
    config.auth = Auth::ClientCertificate {
        cert_pem: b"-----BEGIN CERTIFICATE-----\nnot base64!\n-----END CERTIFICATE-----\n".to_vec(),
        key_pem: Secret::new("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"),
    };
    let error = gate::Client::new(config).expect_err("bad pem");
    assert!(
        matches!(
            error,
            Error::InvalidConfig {
                field: "auth.client_certificate",
                ..
            }
        ),
        "{error:?}"
    );
}
