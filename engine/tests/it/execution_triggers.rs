//! Webhook, git, cron and pipeline triggers through the engine; signed webhook sources; disabled
//! triggers and pipelines never fire.

use crate::executions::START;
use crate::support::{TestServer, gate_error, json_of};
use execution::triggers::git::sign_github;
use execution::triggers::signature::sign_sha256;
use serde_json::{Value, json};

const ONE_MINUTE: i64 = 60_000;

async fn executions_of(server: &TestServer, app: &str) -> Vec<Value> {
    server.executions.tick().await.unwrap();
    json_of(
        server
            .get(&format!("/applications/{app}/pipelines?limit=100"))
            .send()
            .await
            .unwrap(),
    )
    .await
    .as_array()
    .unwrap()
    .clone()
}

fn pipeline(name: &str, triggers: Value) -> Value {
    json!({"application": "shop", "name": name, "triggers": triggers,
        "stages": [{"refId": "1", "name": "w", "type": "wait", "waitTime": 0}]})
}

async fn post_webhook(
    server: &TestServer,
    source: &str,
    body: &str,
    signature: Option<&str>,
) -> reqwest::Response {
    let mut request = server
        .post(&format!("/webhooks/webhook/{source}"))
        .header("content-type", "application/json")
        .body(body.to_owned());
    if let Some(signature) = signature {
        request = request.header("X-Hub-Signature-256", signature);
    }
    request.send().await.unwrap()
}

#[tokio::test]
async fn webhook_trigger_matches_source_and_constraints_and_takes_parameters_from_the_payload() {
    let server = TestServer::with_clock("", START).await;
    server
        .put_pipeline(pipeline(
            "on-push",
            json!([{"type": "webhook", "enabled": true, "source": "builds",
            "payloadConstraints": {"branch": "^main$"}}]),
        ))
        .await;
    server
        .put_pipeline(pipeline(
            "disabled-trigger",
            json!([{"type": "webhook", "enabled": false, "source": "builds"}]),
        ))
        .await;
    let mut off = pipeline(
        "disabled-pipeline",
        json!([{"type": "webhook", "enabled": true, "source": "builds"}]),
    );
    off["disabled"] = json!(true);
    server.put_pipeline(off).await;

    let ignored = post_webhook(&server, "builds", r#"{"branch": "feature"}"#, None).await;
    assert_eq!(ignored.status(), 200);
    assert!(
        executions_of(&server, "shop").await.is_empty(),
        "constraint not met"
    );

    let response = post_webhook(
        &server,
        "builds",
        r#"{"branch": "main", "parameters": {"version": "7"}}"#,
        None,
    )
    .await;
    assert_eq!(response.status(), 200);
    let answer = json_of(response).await;
    assert_eq!(answer["eventProcessed"], true);
    assert_eq!(answer["eventId"].as_str().unwrap().len(), 36);
    let started = executions_of(&server, "shop").await;
    assert_eq!(
        started.len(),
        1,
        "only the enabled trigger of the enabled pipeline fires"
    );
    let trigger = &started[0]["trigger"];
    assert_eq!(started[0]["name"], "on-push");
    assert_eq!(trigger["type"], "webhook");
    assert_eq!(trigger["parameters"]["version"], "7");
    assert_eq!(trigger["payload"]["branch"], "main");
    assert_eq!(trigger["eventId"], answer["eventId"]);
}

#[tokio::test]
async fn a_signed_source_refuses_bad_or_missing_signatures() {
    let server =
        TestServer::with_clock("[webhooks.sources.github]\nsecret = \"hush-123\"\n", START).await;
    server
        .put_pipeline(pipeline(
            "signed",
            json!([{"type": "webhook", "enabled": true, "source": "github"}]),
        ))
        .await;
    let body = r#"{"ref": "main"}"#;
    let missing = post_webhook(&server, "github", body, None).await;
    assert!(gate_error(missing, 403).await.contains("signature"));
    let forged = sign_sha256(b"wrong-secret", body.as_bytes());
    let bad = post_webhook(&server, "github", body, Some(&forged)).await;
    assert!(gate_error(bad, 403).await.contains("does not match"));
    let tampered = sign_sha256(b"hush-123", br#"{"ref": "other"}"#);
    let bad = post_webhook(&server, "github", body, Some(&tampered)).await;
    assert_eq!(bad.status(), 403);
    assert!(executions_of(&server, "shop").await.is_empty());

    let good = sign_sha256(b"hush-123", body.as_bytes());
    let accepted = post_webhook(&server, "github", body, Some(&good)).await;
    assert_eq!(accepted.status(), 200);
    assert_eq!(executions_of(&server, "shop").await.len(), 1);
}

#[tokio::test]
async fn cron_fires_on_schedule_under_a_controllable_clock_in_the_configured_zone() {
    // 2026-01-01T00:00Z is 2026-01-01T01:00 in Berlin: "0 30 1 * * ?" fires at 00:30Z.
    let server = TestServer::with_clock("[scheduler]\ntimezone = \"Europe/Berlin\"\n", START).await;
    server
        .put_pipeline(pipeline(
            "nightly",
            json!([{"type": "cron", "id": "c1", "enabled": true,
            "cronExpression": "0 30 1 * * ?"}]),
        ))
        .await;
    server
        .put_pipeline(pipeline(
            "off",
            json!([{"type": "cron", "id": "c2", "enabled": false,
            "cronExpression": "0 * * * * ?"}]),
        ))
        .await;
    server.clock.advance(29 * ONE_MINUTE);
    assert!(
        executions_of(&server, "shop").await.is_empty(),
        "not yet 01:30 in Berlin"
    );
    server.clock.advance(ONE_MINUTE);
    let fired = executions_of(&server, "shop").await;
    assert_eq!(fired.len(), 1, "{fired:?}");
    assert_eq!(fired[0]["name"], "nightly");
    assert_eq!(fired[0]["trigger"]["type"], "cron");
    assert_eq!(fired[0]["buildTime"], START + 30 * ONE_MINUTE);
    server.clock.advance(30 * ONE_MINUTE);
    assert_eq!(
        executions_of(&server, "shop").await.len(),
        1,
        "daily: no second fire"
    );
    server.clock.advance(24 * 60 * ONE_MINUTE);
    assert_eq!(
        executions_of(&server, "shop").await.len(),
        2,
        "next day's fire"
    );
}

#[tokio::test]
async fn a_pipeline_trigger_starts_the_downstream_pipeline_when_upstream_finishes() {
    let server = TestServer::with_clock("", START).await;
    let upstream = server.put_pipeline(pipeline("build", json!([]))).await;
    let upstream_id = upstream["id"].as_str().unwrap();
    server
        .put_pipeline(pipeline(
            "deploy",
            json!([{"type": "pipeline", "enabled": true, "application": "shop",
            "pipeline": upstream_id, "status": ["successful"]}]),
        ))
        .await;
    server
        .put_pipeline(pipeline(
            "on-failure",
            json!([{"type": "pipeline", "enabled": true, "application": "shop",
            "pipeline": upstream_id, "status": ["failed"]}]),
        ))
        .await;
    let id = server.trigger("shop", "build", json!({})).await;
    assert_eq!(server.finish(&id).await["status"], "SUCCEEDED");
    let all = executions_of(&server, "shop").await;
    let downstream: Vec<&Value> = all.iter().filter(|e| e["name"] == "deploy").collect();
    assert_eq!(downstream.len(), 1, "{all:?}");
    assert_eq!(downstream[0]["trigger"]["type"], "pipeline");
    assert_eq!(
        downstream[0]["trigger"]["parentExecution"]["id"],
        id.as_str()
    );
    assert!(all.iter().all(|e| e["name"] != "on-failure"));
}

async fn post_git(
    server: &TestServer,
    source: &str,
    body: &str,
    headers: &[(&str, &str)],
) -> reqwest::Response {
    let mut request = server
        .post(&format!("/webhooks/git/{source}"))
        .header("content-type", "application/json")
        .body(body.to_owned());
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    request.send().await.unwrap()
}

fn github_push(branch: &str, hash: &str) -> String {
    json!({"ref": format!("refs/heads/{branch}"), "after": hash, "commits": [],
        "repository": {"name": "Shop-API", "full_name": "acme/Shop-API",
            "owner": {"name": "acme", "login": "acme"}}})
    .to_string()
}

#[tokio::test]
async fn a_signed_github_push_starts_the_pipelines_whose_git_trigger_matches() {
    let server = TestServer::with_clock("", START).await;
    server
        .put_pipeline(pipeline(
            "on-release",
            json!([{"type": "git", "enabled": true, "source": "github", "project": "ACME",
                "slug": "shop-api", "branch": "release/.*", "secret": "hush-git"}]),
        ))
        .await;
    server
        .put_pipeline(pipeline(
            "other-repo",
            json!([{"type": "git", "enabled": true, "source": "github", "project": "acme",
                "slug": "billing"}]),
        ))
        .await;

    let wrong_branch = github_push("main", "0a1b2c");
    let signature = sign_github(b"hush-git", wrong_branch.as_bytes());
    let answer = json_of(
        post_git(
            &server,
            "github",
            &wrong_branch,
            &[("X-GitHub-Event", "push"), ("X-Hub-Signature", &signature)],
        )
        .await,
    )
    .await;
    assert_eq!(answer["eventProcessed"], true, "parsed, just not matched");
    assert!(
        executions_of(&server, "shop").await.is_empty(),
        "branch regex is a full match"
    );

    let body = github_push("release/2.0", "9f8e7d");
    let forged = sign_github(b"not-the-secret", body.as_bytes());
    post_git(
        &server,
        "github",
        &body,
        &[("X-GitHub-Event", "push"), ("X-Hub-Signature", &forged)],
    )
    .await;
    post_git(&server, "github", &body, &[("X-GitHub-Event", "push")]).await;
    assert!(
        executions_of(&server, "shop").await.is_empty(),
        "a bad or missing signature skips the trigger"
    );

    let signature = sign_github(b"hush-git", body.as_bytes());
    let response = post_git(
        &server,
        "github",
        &body,
        &[("X-GitHub-Event", "push"), ("X-Hub-Signature", &signature)],
    )
    .await;
    assert_eq!(response.status(), 200);
    let answer = json_of(response).await;
    assert_eq!(answer["eventProcessed"], true);
    let started = executions_of(&server, "shop").await;
    assert_eq!(started.len(), 1);
    assert_eq!(started[0]["name"], "on-release");
    let trigger = &started[0]["trigger"];
    assert_eq!(trigger["type"], "git");
    assert_eq!(trigger["source"], "github");
    assert_eq!(trigger["branch"], "release/2.0");
    assert_eq!(trigger["hash"], "9f8e7d");
    assert_eq!(trigger["action"], "push");
    assert_eq!(trigger["eventId"], answer["eventId"]);
    assert!(
        trigger.get("secret").is_none(),
        "the secret stays in the config"
    );
}

#[tokio::test]
async fn git_pings_unknown_sources_and_bad_bodies_are_answered_without_firing() {
    let server = TestServer::with_clock("", START).await;
    server
        .put_pipeline(pipeline(
            "any-push",
            json!([{"type": "git", "enabled": true, "source": "github", "project": "acme",
                "slug": "shop-api"}]),
        ))
        .await;
    let ping = json!({"zen": "Design for failure.", "hook_id": 12,
        "repository": {"name": "shop-api", "full_name": "acme/shop-api",
            "owner": {"login": "acme"}}})
    .to_string();
    let answer =
        json_of(post_git(&server, "github", &ping, &[("X-GitHub-Event", "ping")]).await).await;
    assert_eq!(answer, json!({"eventProcessed": false}));

    let unknown = post_git(&server, "gitea", &github_push("main", "1"), &[]).await;
    assert!(gate_error(unknown, 404).await.contains("gitea"));
    let not_json = post_git(&server, "github", "{", &[("X-GitHub-Event", "push")]).await;
    assert_eq!(not_json.status(), 400);
    assert!(executions_of(&server, "shop").await.is_empty());

    let gitlab = json!({"object_kind": "push", "ref": "refs/heads/main", "after": "77",
        "project": {"namespace": "acme", "name": "shop-api"}})
    .to_string();
    let answer = json_of(post_git(&server, "gitlab", &gitlab, &[]).await).await;
    assert_eq!(answer["eventProcessed"], true);
    assert!(
        executions_of(&server, "shop").await.is_empty(),
        "the trigger's source is github"
    );

    let unsigned = json_of(
        post_git(
            &server,
            "github",
            &github_push("main", "5e"),
            &[("X-GitHub-Event", "push")],
        )
        .await,
    )
    .await;
    assert_eq!(unsigned["eventProcessed"], true);
    let started = executions_of(&server, "shop").await;
    assert_eq!(started.len(), 1, "no secret, no signature: fires");
    assert_eq!(started[0]["trigger"]["hash"], "5e");
}
