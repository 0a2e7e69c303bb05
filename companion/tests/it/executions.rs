//! Executions across crashes: `spinhcl server` is SIGKILLed mid-wait, mid-judgment and while a
//! webhook stage polls; after each restart the execution goes on where it was (the wait keeps
//! its start time, the judgment still waits, the webhook is polled again, nothing starts over).
//! Also `spinhcl run` and `spinhcl judge` against the real binary.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::support::ServerProcess;

/// A status service on 127.0.0.1: `POST /start` answers 202 with `Location: /status`;
/// `GET /status` answers RUNNING until `done` is set, then DONE. Counts both.
struct StatusService {
    url: String,
    starts: Arc<AtomicUsize>,
    polls: Arc<AtomicUsize>,
    done: Arc<AtomicBool>,
}

impl StatusService {
    fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let starts = Arc::new(AtomicUsize::new(0));
        let polls = Arc::new(AtomicUsize::new(0));
        let done = Arc::new(AtomicBool::new(false));
        let (s, p, d) = (Arc::clone(&starts), Arc::clone(&polls), Arc::clone(&done));
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                let mut request = Vec::new();
                let mut buffer = [0u8; 4096];
                while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                    match stream.read(&mut buffer) {
                        Ok(0) | Err(_) => break,
                        Ok(n) => request.extend_from_slice(&buffer[..n]),
                    }
                }
                let head = String::from_utf8_lossy(&request).to_string();
                let (status, extra, body) = if head.starts_with("POST /start") {
                    s.fetch_add(1, Ordering::SeqCst);
                    (
                        "202 Accepted",
                        "Location: /status\r\n",
                        r#"{"id": 1}"#.to_owned(),
                    )
                } else if head.starts_with("GET /status") {
                    p.fetch_add(1, Ordering::SeqCst);
                    let state = if d.load(Ordering::SeqCst) {
                        "DONE"
                    } else {
                        "RUNNING"
                    };
                    ("200 OK", "", format!(r#"{{"state": "{state}"}}"#))
                } else {
                    ("404 Not Found", "", "{}".to_owned())
                };
                let _ = write!(
                    stream,
                    "HTTP/1.1 {status}\r\nContent-Type: application/json\r\n{extra}Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
            }
        });
        Self {
            url,
            starts,
            polls,
            done,
        }
    }
}

/// Blocking calls over the async client (the dev-dependency has no blocking feature).
struct Http {
    runtime: tokio::runtime::Runtime,
    inner: reqwest::Client,
}

impl Http {
    fn new() -> Self {
        Self {
            runtime: tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap(),
            inner: reqwest::Client::new(),
        }
    }

    fn send(&self, method: reqwest::Method, url: &str, body: Option<&Value>) -> (u16, Value) {
        self.runtime.block_on(async {
            let mut request = self.inner.request(method, url);
            if let Some(body) = body {
                request = request.json(body);
            }
            let response = request.send().await.unwrap();
            let status = response.status().as_u16();
            let text = response.text().await.unwrap();
            (status, serde_json::from_str(&text).unwrap_or(Value::Null))
        })
    }
}

fn get(client: &Http, url: &str) -> Value {
    let (status, body) = client.send(reqwest::Method::GET, url, None);
    assert_eq!(status, 200, "{url}: {body}");
    body
}

fn stage<'a>(execution: &'a Value, ref_id: &str) -> &'a Value {
    execution["stages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["refId"] == ref_id)
        .unwrap_or_else(|| panic!("no stage {ref_id}: {execution}"))
}

fn wait_for(client: &Http, url: &str, within: Duration, done: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + within;
    loop {
        let execution = get(client, url);
        if done(&execution) {
            return execution;
        }
        assert!(Instant::now() < deadline, "timed out: {execution}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn spinhcl(args: &[&str]) -> (i32, String, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_spinhcl"))
        .args(args)
        .env("SPINHCL_LOG", "warn")
        .env_remove("SPINNAKER_ENDPOINT")
        .env_remove("SPINNAKER_TOKEN")
        .output()
        .unwrap();
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

fn sigkill(mut server: ServerProcess) {
    let status = Command::new("kill")
        .args(["-KILL", &server.child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let _ = server.child.wait();
}

fn restart(dir: &Path) -> ServerProcess {
    ServerProcess::start_on(dir)
}

#[test]
fn running_executions_resume_after_sigkill_mid_wait_mid_judgment_and_mid_poll() {
    let service = StatusService::start();
    let dir = tempfile::tempdir().unwrap();
    let server = ServerProcess::start_on(dir.path());
    let client = Http::new();
    let pipeline = json!({
        "application": "shop", "name": "release",
        "stages": [
            {"refId": "1", "name": "Soak", "type": "wait", "waitTime": 4},
            {"refId": "2", "name": "Approve", "type": "manualJudgment"},
            {"refId": "3", "name": "Rollout", "type": "webhook", "url": format!("{}/start", service.url),
             "method": "POST", "payload": {}, "waitForCompletion": true,
             "statusUrlResolution": "locationHeader", "statusJsonPath": "$.state", "successStatuses": "DONE"},
            {"refId": "4", "name": "Done", "type": "wait", "waitTime": 0, "requisiteStageRefIds": ["1", "2", "3"]},
        ]
    });
    let (status, _) = client.send(
        reqwest::Method::POST,
        &format!("{}/pipelines", server.url),
        Some(&pipeline),
    );
    assert_eq!(status, 200);

    // `spinhcl run` triggers and stops at the waiting judgment.
    let (code, out, err) = spinhcl(&[
        "run",
        "shop",
        "release",
        "--endpoint",
        &server.url,
        "--poll-ms",
        "100",
    ]);
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(out.contains("waiting for judgment on \"Approve\""), "{out}");
    let id = out
        .lines()
        .find_map(|l| {
            l.split("execution ")
                .nth(1)
                .filter(|_| l.starts_with("triggered"))
        })
        .unwrap()
        .trim()
        .to_owned();
    let path = format!("/pipelines/{id}");

    // Mid-wait and mid-poll: the wait has run about a second, the webhook is being polled.
    let before = wait_for(
        &client,
        &format!("{}{path}", server.url),
        Duration::from_secs(10),
        |e| service.polls.load(Ordering::SeqCst) >= 1 && stage(e, "1")["status"] == "RUNNING",
    );
    let soak_start = stage(&before, "1")["startTime"].as_i64().unwrap();
    let judgment_id = stage(&before, "2")["id"].clone();
    sigkill(server);
    let killed_at = Instant::now();
    let polls_at_kill = service.polls.load(Ordering::SeqCst);

    let server = restart(dir.path());
    let url = format!("{}{path}", server.url);
    let resumed = get(&client, &url);
    assert_eq!(resumed["status"], "RUNNING", "{resumed}");
    assert_eq!(
        stage(&resumed, "1")["startTime"],
        soak_start,
        "the wait did not start over"
    );
    assert_eq!(stage(&resumed, "2")["id"], judgment_id);
    let soaked = wait_for(&client, &url, Duration::from_secs(10), |e| {
        stage(e, "1")["status"] == "SUCCEEDED"
    });
    let soak = stage(&soaked, "1");
    let ran_ms = soak["endTime"].as_i64().unwrap() - soak_start;
    assert!(
        (4_000..5_500).contains(&ran_ms),
        "the wait kept its time left: ran {ran_ms} ms"
    );
    assert!(killed_at.elapsed() < Duration::from_secs(8));
    wait_for(&client, &url, Duration::from_secs(10), |_| {
        service.polls.load(Ordering::SeqCst) > polls_at_kill
    });
    assert_eq!(
        service.starts.load(Ordering::SeqCst),
        1,
        "the webhook was not called again"
    );

    // Mid-judgment: the judgment still waits after a second crash.
    let waiting = get(&client, &url);
    assert_eq!(stage(&waiting, "2")["status"], "RUNNING");
    sigkill(server);
    let server = restart(dir.path());
    let url = format!("{}{path}", server.url);
    let still = get(&client, &url);
    assert_eq!(still["status"], "RUNNING");
    assert_eq!(
        stage(&still, "2")["status"],
        "RUNNING",
        "the judgment still waits"
    );
    assert_eq!(stage(&still, "1")["status"], "SUCCEEDED");

    service.done.store(true, Ordering::SeqCst);
    let (code, out, err) = spinhcl(&[
        "judge",
        &id,
        "Approve",
        "--continue",
        "--input",
        "ship",
        "--follow",
        "--poll-ms",
        "100",
        "--endpoint",
        &server.url,
    ]);
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(out.contains("judged \"Approve\""), "{out}");
    assert!(
        out.contains("release SUCCEEDED"),
        "--follow runs to the end: {out}"
    );
    let done = wait_for(&client, &url, Duration::from_secs(15), |e| {
        e["status"] != "RUNNING"
    });
    assert_eq!(done["status"], "SUCCEEDED", "{done}");
    assert_eq!(stage(&done, "2")["context"]["judgmentInput"], "ship");
    assert_eq!(stage(&done, "4")["status"], "SUCCEEDED");
    assert_eq!(service.starts.load(Ordering::SeqCst), 1);
    let ids: Vec<Value> = get(
        &client,
        &format!("{}/applications/shop/pipelines", server.url),
    )
    .as_array()
    .unwrap()
    .iter()
    .map(|e| e["id"].clone())
    .collect();
    assert_eq!(
        ids,
        vec![Value::from(id.clone())],
        "no execution lost, none duplicated"
    );

    // An unknown stage is refused, naming it.
    let (code, out, _) = spinhcl(&["judge", &id, "Nope", "--stop", "--endpoint", &server.url]);
    assert_eq!(code, 1);
    assert!(out.is_empty());
}

#[test]
fn run_follows_to_the_end_and_reports_failures_and_refusals() {
    let dir = tempfile::tempdir().unwrap();
    let server = ServerProcess::start_on(dir.path());
    let client = Http::new();
    for pipeline in [
        json!({"application": "shop", "name": "quick", "parameterConfig": [{"name": "env", "required": true}],
            "stages": [{"refId": "1", "name": "Vars", "type": "evaluateVariables",
                "variables": [{"key": "target", "value": "${parameters.env}"}]},
                {"refId": "2", "name": "Pause", "type": "wait", "waitTime": 1, "requisiteStageRefIds": ["1"]}]}),
        json!({"application": "shop", "name": "broken",
            "stages": [{"refId": "1", "name": "Deploy", "type": "deploy"}]}),
    ] {
        let (status, _) = client.send(
            reqwest::Method::POST,
            &format!("{}/pipelines", server.url),
            Some(&pipeline),
        );
        assert_eq!(status, 200);
    }
    let (code, out, err) = spinhcl(&[
        "run",
        "shop",
        "quick",
        "--param",
        "env=prod",
        "--endpoint",
        &server.url,
        "--poll-ms",
        "100",
    ]);
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(out.contains("RUNNING      Pause [2] (wait)"), "{out}");
    assert!(out.contains("SUCCEEDED    Pause [2] (wait)"), "{out}");
    assert!(out.contains("quick SUCCEEDED"), "{out}");

    let (code, out, err) = spinhcl(&[
        "run",
        "shop",
        "broken",
        "--endpoint",
        &server.url,
        "--poll-ms",
        "100",
    ]);
    assert_eq!(code, 1, "{out}\n{err}");
    assert!(out.contains("broken TERMINAL"), "{out}");

    let (code, _, err) = spinhcl(&["run", "shop", "quick", "--endpoint", &server.url]);
    assert_eq!(code, 1);
    assert!(err.contains("Required parameter env is missing"), "{err}");
    let (code, _, err) = spinhcl(&[
        "run",
        "shop",
        "quick",
        "--param",
        "oops",
        "--endpoint",
        &server.url,
    ]);
    assert_eq!(code, 1);
    assert!(err.contains("--param"), "{err}");
}
