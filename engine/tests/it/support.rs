//! A test server: a fresh data folder, `engine::serve` on 127.0.0.1:0, and request helpers.

use std::sync::Arc;

use engine::{AppState, Config, Store};
use execution::ManualClock;
use reqwest::{Client, RequestBuilder, Response};
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::sync::oneshot;

pub struct TestServer {
    pub url: String,
    pub client: Client,
    /// The execution driver's handle (`tick()` runs a round now).
    pub executions: engine::executions::Executions,
    /// The clock executions run on (moved by tests that use [`TestServer::with_clock`]).
    pub clock: ManualClock,
    _dir: tempfile::TempDir,
    _stop: oneshot::Sender<()>,
}

impl TestServer {
    pub async fn start() -> Self {
        Self::with_config("").await
    }

    pub async fn with_config(toml: &str) -> Self {
        let dir = tempfile::tempdir().unwrap();
        Self::build(toml, dir, None).await
    }

    /// A server whose executions run on a manual clock starting at `start_ms`.
    pub async fn with_clock(toml: &str, start_ms: i64) -> Self {
        let dir = tempfile::tempdir().unwrap();
        Self::build(toml, dir, Some(ManualClock::new(start_ms))).await
    }

    async fn build(toml: &str, dir: tempfile::TempDir, clock: Option<ManualClock>) -> Self {
        let store = Store::open(dir.path()).unwrap();
        let config = Config::parse(toml, "test.toml").unwrap();
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let (stop, stopped) = oneshot::channel::<()>();
        let (state, clock) = match clock {
            Some(clock) => (
                AppState::with_clock(store, config, Arc::new(clock.clone())),
                clock,
            ),
            None => (AppState::new(store, config), ManualClock::new(0)),
        };
        let executions = state.executions.clone();
        tokio::spawn(engine::serve(listener, state, async move {
            let _ = stopped.await;
        }));
        Self {
            url,
            client: Client::new(),
            executions,
            clock,
            _dir: dir,
            _stop: stop,
        }
    }

    pub fn patch(&self, path: &str) -> RequestBuilder {
        self.client.patch(format!("{}{path}", self.url))
    }

    /// Saves a pipeline config (asserting 200) and returns its stored form.
    pub async fn put_pipeline(&self, config: Value) -> Value {
        let app = config["application"].as_str().unwrap().to_owned();
        let name = config["name"].as_str().unwrap().to_owned();
        let response = self.save_pipeline(&config).await;
        assert_eq!(response.status(), 200, "{}", response.text().await.unwrap());
        self.executions.tick().await.unwrap();
        self.pipeline(&app, &name).await
    }

    /// Triggers `app/name` through the API (202) and returns the execution id.
    pub async fn trigger(&self, app: &str, name: &str, trigger: Value) -> String {
        let response = self
            .post(&format!("/pipelines/{app}/{name}"))
            .json(&trigger)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 202, "{}", response.text().await.unwrap());
        let reference = json_of(response).await["ref"].as_str().unwrap().to_owned();
        reference.trim_start_matches("/pipelines/").to_owned()
    }

    /// `GET /pipelines/{id}`.
    pub async fn execution(&self, id: &str) -> Value {
        let response = self.get(&format!("/pipelines/{id}")).send().await.unwrap();
        assert_eq!(response.status(), 200);
        json_of(response).await
    }

    /// Runs rounds (moving the manual clock by `step_ms` each time) until `done` holds for the
    /// execution, and returns it.
    pub async fn until(&self, id: &str, step_ms: i64, done: impl Fn(&Value) -> bool) -> Value {
        for _ in 0..400 {
            self.executions.tick().await.unwrap();
            let execution = self.execution(id).await;
            if done(&execution) {
                return execution;
            }
            self.clock.advance(step_ms);
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
        panic!(
            "execution {id} never reached the condition: {}",
            self.execution(id).await
        );
    }

    /// [`TestServer::until`] the execution's status is final.
    pub async fn finish(&self, id: &str) -> Value {
        self.until(id, 1_000, |e| {
            [
                "SUCCEEDED",
                "TERMINAL",
                "CANCELED",
                "STOPPED",
                "FAILED_CONTINUE",
                "SKIPPED",
            ]
            .contains(&e["status"].as_str().unwrap_or_default())
        })
        .await
    }

    pub fn get(&self, path: &str) -> RequestBuilder {
        self.client.get(format!("{}{path}", self.url))
    }
    pub fn post(&self, path: &str) -> RequestBuilder {
        self.client.post(format!("{}{path}", self.url))
    }
    pub fn put(&self, path: &str) -> RequestBuilder {
        self.client.put(format!("{}{path}", self.url))
    }
    pub fn delete(&self, path: &str) -> RequestBuilder {
        self.client.delete(format!("{}{path}", self.url))
    }

    /// Runs a task and returns its view.
    pub async fn task(&self, body: Value) -> Value {
        let response = self.post("/tasks").json(&body).send().await.unwrap();
        assert_eq!(response.status(), 200);
        let reference = json_of(response).await["ref"].as_str().unwrap().to_owned();
        assert!(reference.starts_with("/tasks/"), "{reference}");
        json_of(self.get(&reference).send().await.unwrap()).await
    }

    /// Creates (upserts) an application with the given attributes (name and email added).
    pub async fn create_app(&self, name: &str, attributes: Value) -> Value {
        let mut app = json!({"name": name, "email": "team@example.com"});
        if let (Some(app), Some(extra)) = (app.as_object_mut(), attributes.as_object()) {
            app.extend(extra.clone());
        }
        let view = self
            .task(json!({
                "application": name,
                "description": format!("Create Application: {name}"),
                "job": [{"type": "createApplication", "application": app}],
            }))
            .await;
        assert_eq!(view["status"], "SUCCEEDED", "{view}");
        view
    }

    pub async fn save_pipeline(&self, body: &Value) -> Response {
        self.post("/pipelines").json(body).send().await.unwrap()
    }

    pub async fn pipelines(&self, app: &str) -> Vec<Value> {
        let response = self
            .get(&format!("/applications/{app}/pipelineConfigs"))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        json_of(response).await.as_array().unwrap().clone()
    }

    pub async fn pipeline(&self, app: &str, name: &str) -> Value {
        let response = self
            .get(&format!("/applications/{app}/pipelineConfigs/{name}"))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "{app}/{name}");
        json_of(response).await
    }
}

pub async fn json_of(response: Response) -> Value {
    let status = response.status();
    let text = response.text().await.unwrap();
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("status {status}: {e}: {text:?}"))
}

/// Asserts a Gate error body with this status, returning its message.
pub async fn gate_error(response: Response, status: u16) -> String {
    assert_eq!(response.status(), status);
    assert!(
        response
            .headers()
            .get("content-type")
            .is_some_and(|v| v.to_str().unwrap().starts_with("application/json"))
    );
    let body = json_of(response).await;
    assert_eq!(body["status"], status, "{body}");
    assert!(body["error"].is_string(), "{body}");
    assert!(body["timestamp"].is_string(), "{body}");
    body["message"].as_str().unwrap().to_owned()
}

/// A pipeline document minus the fields the server owns.
pub fn without_server_fields(mut doc: Value) -> Value {
    if let Some(map) = doc.as_object_mut() {
        for key in ["updateTs", "lastModifiedBy", "index"] {
            map.remove(key);
        }
    }
    doc
}

/// The stage of an execution with this refId.
pub fn stage<'a>(execution: &'a Value, ref_id: &str) -> &'a Value {
    execution["stages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["refId"] == ref_id && s["parentStageId"].is_null())
        .unwrap_or_else(|| panic!("no stage {ref_id} in {execution}"))
}

/// The status of the stage with this refId.
pub fn stage_status(execution: &Value, ref_id: &str) -> String {
    stage(execution, ref_id)["status"]
        .as_str()
        .unwrap()
        .to_owned()
}
