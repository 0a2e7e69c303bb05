//! Property: arbitrary pipeline JSON with nested unknown fields round-trips through `POST` and
//! `GET` unchanged apart from the server-owned fields.

use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use serde_json::{Map, Number, Value};

use crate::support::{TestServer, json_of, without_server_fields};

/// Top-level keys the server interprets; generated documents leave them to the test.
const RESERVED: &[&str] = &[
    "id",
    "name",
    "application",
    "index",
    "updateTs",
    "lastModifiedBy",
    "lastModified",
    "triggers",
    "regenerateCronTriggerIds",
];

fn leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter_map("finite", Number::from_f64)
            .prop_map(Value::Number),
        ".{0,12}".prop_map(Value::String),
    ]
}

fn json_value() -> impl Strategy<Value = Value> {
    leaf().prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map(".{0,8}", inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

fn pipeline_doc() -> impl Strategy<Value = Map<String, Value>> {
    prop::collection::vec(("[a-zA-Z$_][a-zA-Z0-9 ._-]{0,10}", json_value()), 0..8).prop_map(
        |fields| {
            fields
                .into_iter()
                .filter(|(k, _)| !RESERVED.contains(&k.as_str()))
                .collect()
        },
    )
}

#[test]
fn arbitrary_documents_round_trip() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let server = runtime.block_on(TestServer::start());
    let mut runner = TestRunner::new(Config {
        cases: 64,
        failure_persistence: None,
        ..Config::default()
    });
    let counter = std::sync::atomic::AtomicU32::new(0);
    runner
        .run(&pipeline_doc(), |mut doc| {
            let case = counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
            doc.insert("id".into(), Value::String(format!("prop-{case}")));
            doc.insert("application".into(), Value::String("props".into()));
            doc.insert("name".into(), Value::String(format!("pipeline {case}")));
            let sent = Value::Object(doc);
            let got = runtime.block_on(async {
                let response = server.save_pipeline(&sent).await;
                assert_eq!(response.status(), 200);
                let response = server
                    .get(&format!(
                        "/applications/props/pipelineConfigs/pipeline {case}"
                    ))
                    .send()
                    .await
                    .unwrap();
                json_of(response).await
            });
            prop_assert!(got["updateTs"].is_string());
            prop_assert!(got["lastModifiedBy"].is_string());
            prop_assert_eq!(without_server_fields(got), sent);
            Ok(())
        })
        .unwrap();
}
