//! Configuration validation: errors name the field.

use gate::{Auth, Config, Error, Secret};

fn config() -> Config {
    Config::new(url::Url::parse("http://127.0.0.1:8084").expect("url"))
}

fn field_of(config: Config) -> &'static str {
    match gate::Client::new(config) {
        Err(Error::InvalidConfig { field, .. }) => field,
        other => panic!("expected InvalidConfig, got {other:?}"),
    }
}

#[test]
fn invalid_fields_are_named() {
    let mut c = config();
    c.endpoint = url::Url::parse("ftp://gate").expect("url");
    assert_eq!(field_of(c), "endpoint");

    let mut c = config();
    c.endpoint = url::Url::parse("https://ops:pa55word@gate.example.com").expect("url");
    match gate::Client::new(c) {
        Err(
            error @ Error::InvalidConfig {
                field: "endpoint", ..
            },
        ) => {
            assert!(!error.to_string().contains("pa55word"), "{error}");
        }
        other => panic!("expected InvalidConfig, got {other:?}"),
    }

    let mut c = config();
    c.max_parallel_requests = 0;
    assert_eq!(field_of(c), "max_parallel_requests");

    for rate in [0.0, -1.0, f64::NAN, f64::INFINITY] {
        let mut c = config();
        c.requests_per_second = Some(rate);
        assert_eq!(field_of(c), "requests_per_second");
    }

    let mut c = config();
    c.headers = vec![("bad header".into(), "v".into())];
    assert_eq!(field_of(c), "headers");

    let mut c = config();
    c.headers = vec![("X-Ok".into(), "line\nbreak".into())];
    assert_eq!(field_of(c), "headers");

    let mut c = config();
    c.ca_bundle_pem = Some(b"no certificates here".to_vec());
    assert_eq!(field_of(c), "ca_bundle_pem");

    let mut c = config();
    c.auth = Auth::Token(Secret::new("  "));
    assert_eq!(field_of(c), "auth.token");

    let mut c = config();
    c.auth = Auth::Basic {
        username: String::new(),
        password: Secret::new("p"),
    };
    assert_eq!(field_of(c), "auth.username");

    let mut c = config();
    c.request_timeout = std::time::Duration::ZERO;
    assert_eq!(field_of(c), "request_timeout");
}

#[test]
fn debug_output_hides_credentials() {
    let mut c = config();
    c.auth = Auth::Basic {
        username: "ops".into(),
        password: Secret::new("pa55word"),
    };
    c.headers = vec![("X-Api-Key".into(), "header-secret".into())];
    let text = format!("{c:?}");
    assert!(text.contains("ops") && text.contains("X-Api-Key"), "{text}");
    assert!(
        !text.contains("pa55word") && !text.contains("header-secret"),
        "{text}"
    );
    let client = gate::Client::new(c).expect("client");
    let text = format!("{client:?}");
    assert!(
        !text.contains("pa55word") && !text.contains("header-secret"),
        "{text}"
    );
}

/// The provider calls the client from tonic handlers on a multi-threaded runtime, so the
/// client must be shareable and every call's future must be `Send`.
#[test]
fn client_and_futures_are_send_and_sync() {
    fn shareable<T: Send + Sync + Clone + 'static>(_: &T) {}
    fn send<F: std::future::Future + Send>(_: F) {}
    let client = gate::Client::new(config()).expect("client");
    shareable(&client);
    let value = serde_json::json!({});
    let spec = gate::ApplicationSpec::default();
    let task = gate::TaskRef { id: "x".into() };
    send(client.get_application("a"));
    send(client.list_applications());
    send(client.upsert_application(&spec));
    send(client.create_application(&spec));
    send(client.update_application(&spec));
    send(client.delete_application("a"));
    send(client.submit_task(&value));
    send(client.wait_for_task(&task));
    send(client.list_pipeline_configs("a"));
    send(client.get_pipeline_config("a", "n"));
    send(client.get_pipeline_config_by_id("a", "i"));
    send(client.save_pipeline(&value, true));
    send(client.save_and_read_pipeline(&value));
    send(client.update_pipeline("i", &value));
    send(client.delete_pipeline("a", "n"));
    send(client.pipeline_history("i", 1));
    send(client.wait_until_visible("a", "i"));
    send(client.list_canary_configs(None));
    send(client.get_canary_config("i"));
    send(client.create_canary_config(&value));
    send(client.update_canary_config("i", &value));
    send(client.delete_canary_config("i"));
    send(client.trigger_pipeline("a", "n", &value));
    send(client.get_execution("i"));
    send(client.list_executions("a", None, &[]));
    send(client.patch_stage("e", "s", &value));
    send(client.cancel_execution("e", None));
}
