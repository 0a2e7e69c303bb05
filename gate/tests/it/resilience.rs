//! Retries (idempotent calls only), 429 with `Retry-After`, timeouts, an unreachable
//! endpoint, the rate limiter, the parallelism cap, and status-to-error mapping.

use std::time::{Duration, Instant};

use axum::http::Method;
use gate::Error;
use serde_json::json;

use crate::app_spec;
use crate::mock::{Fault, MockAuth, MockGate};

#[tokio::test]
async fn get_survives_503_twice_then_200() {
    let gate = MockGate::start(MockAuth::Open).await;
    let client = gate.client();
    client
        .upsert_application(&app_spec("shop"))
        .await
        .expect("create");
    let before = client.stats().count("GET /applications/{app}");
    gate.fault(Fault::status(Method::GET, "/applications/shop", 503));
    gate.fault(Fault::status(Method::GET, "/applications/shop", 503));
    let app = client
        .get_application("shop")
        .await
        .expect("read after retries");
    assert_eq!(app.expect("exists").name, "shop");
    assert_eq!(client.stats().count("GET /applications/{app}") - before, 3);
}

#[tokio::test]
async fn put_and_delete_are_retried_on_502_and_504() {
    let gate = MockGate::start(MockAuth::Open).await;
    let client = gate.client();
    let pipeline = json!({"id": "p1", "application": "shop", "name": "Deploy"});
    client.save_pipeline(&pipeline, false).await.expect("save");
    gate.fault(Fault::status(Method::PUT, "/pipelines/p1", 502));
    client
        .update_pipeline("p1", &pipeline)
        .await
        .expect("update after retry");
    gate.fault(Fault::status(Method::DELETE, "/pipelines/shop", 504));
    client
        .delete_pipeline("shop", "Deploy")
        .await
        .expect("delete after retry");
    assert_eq!(client.stats().count("PUT /pipelines/{id}"), 2);
    assert_eq!(client.stats().count("DELETE /pipelines/{app}/{name}"), 2);
}

#[tokio::test]
async fn post_is_not_retried_on_503() {
    let gate = MockGate::start(MockAuth::Open).await;
    let client = gate.client();
    gate.fault(Fault::status(Method::POST, "/tasks", 503));
    let error = client
        .submit_task(&json!({"application": "shop", "job": []}))
        .await
        .expect_err("503");
    match &error {
        Error::Http {
            status, operation, ..
        } => {
            assert_eq!(*status, 503);
            assert_eq!(operation, "POST /tasks");
        }
        other => panic!("unexpected {other:?}"),
    }
    assert_eq!(gate.seen_count(Method::POST, "/tasks"), 1);
}

#[tokio::test]
async fn pipeline_save_is_retried_only_with_an_id() {
    let gate = MockGate::start(MockAuth::Open).await;
    let client = gate.client();
    gate.fault(Fault::status(Method::POST, "/pipelines", 503));
    client
        .save_pipeline(
            &json!({"id": "p1", "application": "shop", "name": "A"}),
            false,
        )
        .await
        .expect("create-or-replace by id is retried");
    assert_eq!(gate.seen_count(Method::POST, "/pipelines"), 2);

    gate.fault(Fault::status(Method::POST, "/pipelines", 503));
    let error = client
        .save_pipeline(&json!({"application": "shop", "name": "B"}), false)
        .await
        .expect_err("no id: not retried");
    assert!(
        matches!(error, Error::Http { status: 503, .. }),
        "{error:?}"
    );
    assert_eq!(gate.seen_count(Method::POST, "/pipelines"), 3);
}

#[tokio::test]
async fn retries_are_bounded() {
    let gate = MockGate::start(MockAuth::Open).await;
    let mut config = gate.config();
    config.max_retries = 2;
    let client = gate::Client::new(config).expect("client");
    for _ in 0..5 {
        gate.fault(Fault::status(Method::GET, "/applications", 503));
    }
    let error = client.list_applications().await.expect_err("gives up");
    assert!(
        matches!(error, Error::Http { status: 503, .. }),
        "{error:?}"
    );
    assert_eq!(client.stats().count("GET /applications"), 3);
}

#[tokio::test]
async fn honours_retry_after_on_429_for_any_call() {
    let gate = MockGate::start(MockAuth::Open).await;
    let client = gate.client();
    gate.fault(Fault::status(Method::POST, "/tasks", 429).retry_after("1"));
    let started = Instant::now();
    let task = client
        .submit_task(&json!({"application": "shop", "job": [
            {"type": "createApplication", "application": {"name": "shop", "email": "a@b.c"}}
        ]}))
        .await
        .expect("submitted after waiting");
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "waited {:?}",
        started.elapsed()
    );
    assert!(!task.id.is_empty());
    assert_eq!(gate.seen_count(Method::POST, "/tasks"), 2);
}

#[tokio::test]
async fn too_long_retry_after_fails_with_advice() {
    let gate = MockGate::start(MockAuth::Open).await;
    let client = gate.client();
    gate.fault(Fault::status(Method::GET, "/applications", 429).retry_after("3600"));
    let started = Instant::now();
    let error = client.list_applications().await.expect_err("rate limited");
    assert!(started.elapsed() < Duration::from_secs(30));
    match &error {
        Error::RateLimited { retry_after } => {
            assert_eq!(*retry_after, Some(Duration::from_secs(3600)))
        }
        other => panic!("unexpected {other:?}"),
    }
    assert!(error.to_string().contains("requests_per_second"));
}

#[tokio::test]
async fn slow_answer_times_out() {
    let gate = MockGate::start(MockAuth::Open).await;
    let mut config = gate.config();
    config.request_timeout = Duration::from_millis(300);
    let client = gate::Client::new(config).expect("client");
    gate.fault(Fault::status(Method::GET, "/applications", 0).delay(Duration::from_secs(3)));
    let error = client.list_applications().await.expect_err("timeout");
    match &error {
        Error::Timeout { operation, after } => {
            assert_eq!(operation, "GET /applications");
            assert_eq!(*after, Duration::from_millis(300));
        }
        other => panic!("unexpected {other:?}"),
    }
    assert_eq!(
        client.stats().count("GET /applications"),
        1,
        "timeouts are not retried"
    );
}

#[tokio::test]
async fn unreachable_endpoint_fails_quickly_and_clearly() {
    // A port that was just free: nothing listens there.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    drop(listener);
    let mut config = gate::Config::new(url::Url::parse(&format!("http://{addr}")).expect("url"));
    config.max_retries = 2;
    let client = gate::Client::new(config).expect("client");
    let started = Instant::now();
    let error = client
        .get_application("shop")
        .await
        .expect_err("unreachable");
    let elapsed = started.elapsed();
    assert!(elapsed < Duration::from_secs(5), "took {elapsed:?}");
    match &error {
        Error::Unreachable {
            endpoint, reason, ..
        } => {
            assert_eq!(endpoint, &format!("http://{addr}"));
            assert!(reason.to_lowercase().contains("refused"), "{reason}");
        }
        other => panic!("unexpected {other:?}"),
    }
    let text = error.to_string();
    assert!(
        text.contains("cannot reach gate at") && text.contains("check the endpoint"),
        "{text}"
    );
    assert_eq!(client.stats().count("GET /applications/{app}"), 3);
}

#[tokio::test]
async fn connect_timeout_is_not_retried() {
    // A listener that never accepts, with its backlog filled: further SYNs are dropped,
    // so connecting hangs like a black-holed address (all on loopback).
    let socket = tokio::net::TcpSocket::new_v4().expect("socket");
    socket
        .bind("127.0.0.1:0".parse().expect("addr"))
        .expect("bind");
    let listener = socket.listen(1).expect("listen");
    let addr = listener.local_addr().expect("addr");
    let mut fillers = Vec::new();
    for _ in 0..4 {
        let connect = tokio::net::TcpStream::connect(addr);
        if let Ok(Ok(stream)) = tokio::time::timeout(Duration::from_millis(200), connect).await {
            fillers.push(stream);
        }
    }
    let mut config = gate::Config::new(url::Url::parse(&format!("http://{addr}")).expect("url"));
    config.request_timeout = Duration::from_millis(500);
    let client = gate::Client::new(config).expect("client");
    let started = Instant::now();
    let error = client
        .list_applications()
        .await
        .expect_err("cannot connect");
    match &error {
        Error::Unreachable { reason, .. } => {
            assert!(
                reason.contains("timed out") || reason.contains("deadline"),
                "{reason}"
            );
        }
        other => panic!("unexpected {other:?}"),
    }
    assert_eq!(client.stats().count("GET /applications"), 1, "not retried");
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
    drop(listener);
}

#[tokio::test]
async fn rate_limiter_spaces_requests() {
    let gate = MockGate::start(MockAuth::Open).await;
    let mut config = gate.config();
    config.requests_per_second = Some(20.0);
    let client = gate::Client::new(config).expect("client");
    let started = Instant::now();
    for _ in 0..6 {
        client.list_applications().await.expect("list");
    }
    // Six starts 50 ms apart: the last cannot begin before 250 ms.
    assert!(
        started.elapsed() >= Duration::from_millis(250),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn parallel_requests_are_capped() {
    let gate = MockGate::start(MockAuth::Open).await;
    let mut config = gate.config();
    config.max_parallel_requests = 1;
    let client = gate::Client::new(config).expect("client");
    for _ in 0..3 {
        gate.fault(
            Fault::status(Method::GET, "/applications", 0).delay(Duration::from_millis(300)),
        );
    }
    let started = Instant::now();
    let calls = (0..3).map(|_| {
        let client = client.clone();
        tokio::spawn(async move { client.list_applications().await })
    });
    for call in calls.collect::<Vec<_>>() {
        call.await.expect("join").expect("list");
    }
    assert!(
        started.elapsed() >= Duration::from_millis(900),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn statuses_map_to_typed_errors() {
    let gate = MockGate::start(MockAuth::Open).await;
    let client = gate.client();
    gate.fault(Fault::status(Method::GET, "/applications", 403));
    let error = client.list_applications().await.expect_err("403");
    assert!(
        matches!(&error, Error::Forbidden { message } if message == "injected fault 403"),
        "{error:?}"
    );
    gate.fault(Fault::status(Method::GET, "/applications", 500));
    let error = client.list_applications().await.expect_err("500");
    assert!(
        matches!(error, Error::Http { status: 500, .. }),
        "{error:?}"
    );
    assert_eq!(
        client.stats().count("GET /applications"),
        2,
        "500 is not retried"
    );
    gate.fault(Fault::status(Method::GET, "/applications", 401));
    let error = client.list_applications().await.expect_err("401");
    assert!(matches!(error, Error::Unauthenticated { .. }), "{error:?}");
}
