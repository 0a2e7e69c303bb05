//! A test server: a fresh data folder, `engine::serve` on 127.0.0.1:0, and request helpers.

use engine::{AppState, Config, Store};
use reqwest::{Client, RequestBuilder, Response};
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::sync::oneshot;

pub struct TestServer {
    pub url: String,
    pub client: Client,
    _dir: tempfile::TempDir,
    _stop: oneshot::Sender<()>,
}

impl TestServer {
    pub async fn start() -> Self {
        Self::with_config("").await
    }

    pub async fn with_config(toml: &str) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let config = Config::parse(toml, "test.toml").unwrap();
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let (stop, stopped) = oneshot::channel::<()>();
        tokio::spawn(engine::serve(
            listener,
            AppState::new(store, config),
            async move {
                let _ = stopped.await;
            },
        ));
        Self {
            url,
            client: Client::new(),
            _dir: dir,
            _stop: stop,
        }
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
