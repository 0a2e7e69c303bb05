//! Datadog contract tests against an in-process server on loopback that answers
//! `GET /api/v1/query` in Datadog's documented format, including its errors:
//! 403 for bad keys, 400 for a bad query, 429 with `X-RateLimit-Reset` when limited.
//! Keys must travel as `DD-API-KEY` / `DD-APPLICATION-KEY` headers and never be logged.

use std::collections::BTreeMap;
use std::io::Write;
use std::sync::{Arc, Mutex};

use axum::Json;
use axum::Router;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use canary::config::{CanaryConfig, ScoreThresholds};
use canary::judge::classify::Classification;
use canary::metrics::datadog::DatadogSource;
use canary::metrics::{CanaryScope, MetricsError, MetricsSource, Secret, fetch_pairs};
use serde_json::{Value, json};

const API_KEY: &str = "dd-api-0123456789abcdef";
const APP_KEY: &str = "dd-app-fedcba9876543210";

#[derive(Clone, Default)]
struct Seen(Arc<Mutex<Vec<BTreeMap<String, String>>>>);

async fn query(
    State(seen): State<Seen>,
    headers: HeaderMap,
    Query(params): Query<BTreeMap<String, String>>,
) -> Response {
    if let Ok(mut log) = seen.0.lock() {
        log.push(params.clone());
    }
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    if header("DD-API-KEY") != API_KEY || header("DD-APPLICATION-KEY") != APP_KEY {
        return (
            StatusCode::FORBIDDEN,
            Json(json!({"errors": ["Forbidden"]})),
        )
            .into_response();
    }
    let q = params.get("query").cloned().unwrap_or_default();
    if q.contains("limited") {
        return (
            StatusCode::TOO_MANY_REQUESTS,
            [("X-RateLimit-Reset", "17")],
            Json(json!({"errors": ["Rate limit exceeded"]})),
        )
            .into_response();
    }
    if q.contains("((") {
        return (
            StatusCode::BAD_REQUEST,
            Json(json!({"errors": ["Error parsing query: unable to parse avg:((: Rule 'scope_expr' didn't match"]})),
        )
            .into_response();
    }
    let from: i64 = params.get("from").and_then(|v| v.parse().ok()).unwrap_or(0);
    let (centre, present) = if q.contains("app-v002") {
        (150.0, true)
    } else if q.contains("app-v001") {
        (100.0, true)
    } else {
        (0.0, false)
    };
    let series: Vec<Value> = if present {
        let points: Vec<Value> = (0..30)
            .map(|i| {
                let wobble = f64::from((i * 7) % 11) - 5.0;
                let value = if i == 3 {
                    Value::Null
                } else {
                    json!(centre + wobble)
                };
                json!([(from + i64::from(i) * 60) * 1000, value])
            })
            .collect();
        vec![json!({
            "metric": "trace.latency", "display_name": "trace.latency", "scope": q, "expression": q,
            "pointlist": points, "interval": 60, "length": 30, "aggr": "avg", "unit": null,
            "start": from * 1000, "end": (from + 29 * 60) * 1000, "tag_set": [], "query_index": 0
        })]
    } else {
        Vec::new()
    };
    Json(json!({
        "status": "ok", "res_type": "time_series", "series": series, "query": q,
        "from_date": from * 1000, "to_date": params.get("to").and_then(|v| v.parse::<i64>().ok()).unwrap_or(0) * 1000,
        "message": "", "group_by": []
    }))
    .into_response()
}

async fn start() -> (String, Seen) {
    let seen = Seen::default();
    let app = Router::new()
        .route("/api/v1/query", get(query))
        .with_state(seen.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (format!("http://{addr}"), seen)
}

fn scope(name: &str) -> CanaryScope {
    CanaryScope {
        scope: name.to_owned(),
        location: "us-east-1".to_owned(),
        start: jiff::Timestamp::from_second(1_700_000_000).unwrap(),
        end: jiff::Timestamp::from_second(1_700_001_740).unwrap(),
        step_secs: 60,
        extended_scope_params: BTreeMap::new(),
    }
}

fn config() -> CanaryConfig {
    serde_json::from_value(json!({
        "name": "dd",
        "applications": ["app"],
        "metrics": [
            {"name": "latency", "groups": ["perf"], "query": {"type": "datadog", "metricName": "avg:trace.latency"}},
            {"name": "templated", "groups": ["perf"],
             "query": {"type": "datadog", "customInlineTemplate": "avg:trace.latency{autoscaling_group:$\\{scope},region:${location}}"}}
        ]
    }))
    .unwrap()
}

/// A `MakeWriter` into a shared buffer.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if let Ok(mut b) = self.0.lock() {
            b.extend_from_slice(buf);
        }
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Captured {
    type Writer = Captured;
    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

#[tokio::test]
async fn queries_with_headers_and_judges_without_logging_keys() {
    let logs = Captured::default();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(logs.clone())
        .with_ansi(false)
        .finish();
    // Global, not thread-scoped: callsite interest is cached across threads, so a
    // scoped subscriber can miss events that another test's thread registered first.
    tracing::subscriber::set_global_default(subscriber)
        .expect("only this test installs a subscriber");

    let (base, seen) = start().await;
    let source = DatadogSource::new(&base, Secret::new(API_KEY), Secret::new(APP_KEY)).unwrap();
    let config = config();
    let control = scope("autoscaling_group:app-v001");
    let experiment = scope("autoscaling_group:app-v002");

    let pairs = fetch_pairs(&source, &config, &control, &experiment)
        .await
        .unwrap();
    assert_eq!(pairs.len(), 2);
    assert_eq!(pairs[0].control.len(), 30);
    assert!(pairs[0].control[3].is_nan(), "a null point becomes NaN");
    assert_eq!(pairs[0].control[0], 95.0);

    let recorded = seen.0.lock().unwrap().clone();
    assert_eq!(
        recorded[0]["query"],
        "avg:trace.latency{autoscaling_group:app-v001}"
    );
    assert_eq!(recorded[0]["from"], "1700000000");
    assert_eq!(recorded[0]["to"], "1700001740");
    assert_eq!(
        recorded[1]["query"],
        "avg:trace.latency{autoscaling_group:app-v002}"
    );
    assert_eq!(
        recorded[2]["query"],
        "avg:trace.latency{autoscaling_group:autoscaling_group:app-v001,region:us-east-1}"
    );

    let result = canary::judge(&config, &pairs, ScoreThresholds::default()).unwrap();
    assert_eq!(result.results[0].classification, Classification::High);
    assert_eq!(result.score.classification, "Fail");

    // A scope without series is no data.
    let sets = source
        .fetch(
            &config,
            &config.metrics[0],
            &scope("autoscaling_group:none"),
        )
        .await
        .unwrap();
    assert!(sets[0].values.is_empty());

    let text = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    assert!(
        text.contains("datadog query"),
        "logging was captured: {text}"
    );
    assert!(
        !text.contains(API_KEY) && !text.contains(APP_KEY),
        "a key was logged"
    );
    let debug = format!("{source:?}");
    assert!(
        !debug.contains(API_KEY) && !debug.contains(APP_KEY),
        "Debug shows a key: {debug}"
    );
}

#[tokio::test]
async fn maps_documented_errors() {
    let (base, _) = start().await;
    let config = config();
    let control = scope("autoscaling_group:app-v001");

    let wrong = DatadogSource::new(&base, Secret::new("wrong"), Secret::new(APP_KEY)).unwrap();
    let err = wrong
        .fetch(&config, &config.metrics[0], &control)
        .await
        .unwrap_err();
    assert!(
        matches!(&err, MetricsError::Forbidden { status: 403, message, .. } if message == "Forbidden"),
        "{err}"
    );
    assert!(
        !err.to_string().contains("wrong"),
        "the key leaked into the error"
    );

    let source = DatadogSource::new(&base, Secret::new(API_KEY), Secret::new(APP_KEY)).unwrap();
    let bad = serde_json::from_value::<CanaryConfig>(json!({
        "name": "bad", "metrics": [{"name": "b", "query": {"type": "datadog", "metricName": "avg:(("}}]
    }))
    .unwrap();
    let err = source
        .fetch(&bad, &bad.metrics[0], &control)
        .await
        .unwrap_err();
    match err {
        MetricsError::BadQuery {
            status,
            query,
            message,
            ..
        } => {
            assert_eq!(status, 400);
            assert_eq!(query, "avg:(({autoscaling_group:app-v001}");
            assert!(message.starts_with("Error parsing query"), "{message}");
        }
        other => panic!("expected BadQuery, got {other}"),
    }

    let limited = serde_json::from_value::<CanaryConfig>(json!({
        "name": "l", "metrics": [{"name": "l", "query": {"type": "datadog", "metricName": "avg:limited"}}]
    }))
    .unwrap();
    let err = source
        .fetch(&limited, &limited.metrics[0], &control)
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            MetricsError::RateLimited {
                retry_after_secs: Some(17),
                ..
            }
        ),
        "{err}"
    );

    let undefined = serde_json::from_value::<CanaryConfig>(json!({
        "name": "u", "metrics": [{"name": "u", "query": {"type": "datadog", "customInlineTemplate": "x{${nope}}"}}]
    }))
    .unwrap();
    let err = source
        .fetch(&undefined, &undefined.metrics[0], &control)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("${nope}"), "{err}");
}
