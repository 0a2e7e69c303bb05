//! 20 clients update the same pipeline at once: every update is acknowledged, the final state
//! is one of the submitted versions, and the history holds every acknowledged revision.

use std::collections::BTreeSet;

use crate::support::{TestServer, json_of};
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twenty_concurrent_updates_of_one_pipeline() {
    let server = TestServer::start().await;
    let base = json!({"id": "shared", "application": "app", "name": "shared", "writer": -1});
    assert_eq!(server.save_pipeline(&base).await.status(), 200);

    let updates = (0..20).map(|writer| {
        let client = server.client.clone();
        let url = format!("{}/pipelines", server.url);
        async move {
            let body = json!({"id": "shared", "application": "app", "name": "shared",
                              "writer": writer, "stages": [{"refId": "1", "type": "wait", "waitTime": writer}]});
            let status = client.post(url).json(&body).send().await.unwrap().status();
            (writer, status)
        }
    });
    let results = futures::future::join_all(updates).await;
    let acknowledged: BTreeSet<i64> = results
        .iter()
        .filter(|(_, status)| *status == 200)
        .map(|(writer, _)| *writer)
        .collect();
    assert_eq!(acknowledged.len(), 20, "{results:?}");

    let last = server.pipeline("app", "shared").await;
    let final_writer = last["writer"].as_i64().unwrap();
    assert!(acknowledged.contains(&final_writer));
    assert_eq!(
        last["stages"][0]["waitTime"], final_writer,
        "no torn document"
    );

    let history = json_of(
        server
            .get("/pipelineConfigs/shared/history?limit=100")
            .send()
            .await
            .unwrap(),
    )
    .await;
    let revisions = history.as_array().unwrap();
    assert_eq!(revisions.len(), 21);
    let in_history: BTreeSet<i64> = revisions[..20]
        .iter()
        .map(|r| r["writer"].as_i64().unwrap())
        .collect();
    assert_eq!(in_history, acknowledged);
    assert_eq!(
        revisions[0]["writer"], final_writer,
        "newest revision is the final state"
    );
    let stamps: Vec<i64> = revisions
        .iter()
        .map(|r| r["updateTs"].as_str().unwrap().parse().unwrap())
        .collect();
    assert!(
        stamps.windows(2).all(|w| w[0] > w[1]),
        "updateTs strictly increases: {stamps:?}"
    );
}
