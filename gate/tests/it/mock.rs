//! A mock Gate on 127.0.0.1 (port 0): Gate's documented routes and body shapes, kept in
//! memory, plus switches for faults (canned statuses, `Retry-After`, delays), auth modes,
//! Front50 cache lag and slow tasks. Plain HTTP or TLS (optionally requiring a client cert).

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use axum::Router;
use axum::extract::{Path, Query, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use base64::Engine as _;
use serde_json::{Map, Value, json};

/// How the mock authenticates callers.
#[derive(Debug, Clone, Default)]
pub enum MockAuth {
    /// Everything is open.
    #[default]
    Open,
    /// `Authorization: Bearer <token>` required, 401 otherwise.
    Bearer(String),
    /// Form login at `POST /login` gives a `SESSION` cookie; without one, 302 to `/login`.
    FormLogin { username: String, password: String },
    /// OAuth-style: `GET /login` with `Authorization: Bearer <token>` opens a `SESSION`;
    /// without a session cookie, 302 to `/login`.
    BearerSession(String),
    /// No `/login` (404); HTTP Basic on every request, 401 otherwise.
    HttpBasicOnly { username: String, password: String },
}

/// A canned answer for the next request matching `method` and `path_prefix`.
#[derive(Debug, Clone)]
pub struct Fault {
    pub method: Method,
    pub path_prefix: String,
    pub status: u16,
    pub retry_after: Option<String>,
    pub delay: Option<Duration>,
}

impl Fault {
    pub fn status(method: Method, path_prefix: &str, status: u16) -> Self {
        Self {
            method,
            path_prefix: path_prefix.to_owned(),
            status,
            retry_after: None,
            delay: None,
        }
    }

    pub fn retry_after(mut self, value: &str) -> Self {
        self.retry_after = Some(value.to_owned());
        self
    }

    /// Waits `delay` and then lets the request through (status 0) or answers `status`.
    pub fn delay(mut self, delay: Duration) -> Self {
        self.delay = Some(delay);
        self
    }
}

/// One request as the mock saw it (after TLS, before auth and faults).
#[derive(Debug, Clone)]
pub struct Seen {
    pub method: Method,
    pub path: String,
    pub query: Option<String>,
    pub authorization: Option<String>,
    pub cookie: Option<String>,
    pub headers: HeaderMap,
}

#[derive(Debug, Default)]
pub struct MockState {
    pub auth: MockAuth,
    pub sessions: Vec<String>,
    pub faults: VecDeque<Fault>,
    pub seen: Vec<Seen>,
    /// Lower-case name → flat attributes.
    pub applications: BTreeMap<String, Map<String, Value>>,
    pub tasks: HashMap<String, Value>,
    /// Polls a task answers RUNNING before its final status.
    pub task_running_polls: u32,
    pub task_polls: HashMap<String, u32>,
    /// Lower-case application → pipelines in save order.
    pub pipelines: BTreeMap<String, Vec<Value>>,
    pub history: HashMap<String, Vec<Value>>,
    /// List reads of an application that still miss the newest saved pipeline (Front50 cache lag).
    pub lag_reads: u32,
    pub lagging: HashMap<String, (String, u32)>,
    pub canary_configs: BTreeMap<String, Value>,
    pub executions: BTreeMap<String, Value>,
    pub next_id: u64,
    /// TLS client certificates presented, in connection order (DER lengths).
    pub client_certs: Vec<usize>,
}

impl MockState {
    fn id(&mut self, prefix: &str) -> String {
        self.next_id += 1;
        format!("{prefix}{:020}", self.next_id)
    }
}

pub type Shared = Arc<Mutex<MockState>>;

pub fn lock(state: &Shared) -> MutexGuard<'_, MockState> {
    state
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// A rejected request: status and Gate's `message`.
pub struct Reject(StatusCode, String);

impl IntoResponse for Reject {
    fn into_response(self) -> Response {
        gate_error(self.0, &self.1)
    }
}

/// Gate's error body (kork's error attributes without `path`).
pub fn gate_error(status: StatusCode, message: &str) -> Response {
    let body = json!({
        "timestamp": "2026-01-01T00:00:00.000+00:00",
        "status": status.as_u16(),
        "error": status.canonical_reason().unwrap_or(""),
        "message": message,
    });
    (status, axum::Json(body)).into_response()
}

fn json_response(status: StatusCode, value: Value) -> Response {
    (status, axum::Json(value)).into_response()
}

pub fn router(state: Shared) -> Router {
    Router::new()
        .route("/login", post(login).get(bearer_login))
        .route("/applications", get(list_applications))
        .route("/applications/{app}", get(get_application))
        .route(
            "/applications/{app}/pipelineConfigs",
            get(list_pipeline_configs),
        )
        .route("/applications/{app}/pipelines", get(list_executions))
        .route("/tasks", post(submit_task))
        .route("/tasks/{id}", get(get_task))
        .route("/pipelines", post(save_pipeline))
        .route("/pipelines/{a}", put(update_pipeline).get(get_execution))
        .route(
            "/pipelines/{a}/{b}",
            post(trigger_pipeline).delete(delete_pipeline),
        )
        .route("/pipelines/{a}/cancel", put(cancel_execution))
        .route(
            "/pipelines/{a}/stages/{b}",
            axum::routing::patch(patch_stage),
        )
        .route("/pipelineConfigs/{id}/history", get(pipeline_history))
        .route(
            "/v2/canaryConfig",
            get(list_canary_configs).post(create_canary_config),
        )
        .route(
            "/v2/canaryConfig/{id}",
            get(get_canary_config)
                .put(update_canary_config)
                .delete(delete_canary_config),
        )
        .layer(middleware::from_fn_with_state(state.clone(), front_door))
        .with_state(state)
}

fn header_text(headers: &HeaderMap, name: header::HeaderName) -> Option<String> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

/// Records the request, applies faults, then checks authentication.
async fn front_door(State(state): State<Shared>, request: Request, next: Next) -> Response {
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let headers = request.headers().clone();
    let fault = {
        let mut s = lock(&state);
        s.seen.push(Seen {
            method: method.clone(),
            path: path.clone(),
            query: request.uri().query().map(str::to_owned),
            authorization: header_text(&headers, header::AUTHORIZATION),
            cookie: header_text(&headers, header::COOKIE),
            headers: headers.clone(),
        });
        let position = s
            .faults
            .iter()
            .position(|f| f.method == method && path.starts_with(&f.path_prefix));
        position.and_then(|i| s.faults.remove(i))
    };
    if let Some(fault) = fault {
        if let Some(delay) = fault.delay {
            tokio::time::sleep(delay).await;
        }
        if fault.status != 0 {
            let status =
                StatusCode::from_u16(fault.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            let mut response = gate_error(status, &format!("injected fault {}", fault.status));
            if let Some(retry_after) = fault
                .retry_after
                .as_deref()
                .and_then(|v| HeaderValue::from_str(v).ok())
            {
                response
                    .headers_mut()
                    .insert(header::RETRY_AFTER, retry_after);
            }
            return response;
        }
    }
    let auth = lock(&state).auth.clone();
    let authorized = match &auth {
        MockAuth::Open => true,
        MockAuth::Bearer(token) => {
            header_text(&headers, header::AUTHORIZATION).as_deref()
                == Some(&format!("Bearer {token}"))
        }
        MockAuth::FormLogin { .. } | MockAuth::BearerSession(_) => {
            path == "/login" || {
                let cookies = header_text(&headers, header::COOKIE).unwrap_or_default();
                let s = lock(&state);
                cookies
                    .split(';')
                    .filter_map(|c| c.trim().strip_prefix("SESSION="))
                    .any(|id| s.sessions.iter().any(|known| known == id))
            }
        }
        MockAuth::HttpBasicOnly { username, password } => {
            path == "/login" || {
                let expected = base64::engine::general_purpose::STANDARD
                    .encode(format!("{username}:{password}"));
                header_text(&headers, header::AUTHORIZATION).as_deref()
                    == Some(&format!("Basic {expected}"))
            }
        }
    };
    if !authorized {
        return match auth {
            MockAuth::FormLogin { .. } => (
                StatusCode::FOUND,
                [(header::LOCATION, "http://localhost/login")],
            )
                .into_response(),
            _ => gate_error(StatusCode::UNAUTHORIZED, "Full authentication is required"),
        };
    }
    next.run(request).await
}

async fn login(State(state): State<Shared>, body: String) -> Response {
    let form: HashMap<String, String> = url::form_urlencoded::parse(body.as_bytes())
        .into_owned()
        .collect();
    let mut s = lock(&state);
    let (username, password) = match &s.auth {
        MockAuth::FormLogin { username, password } => (username.clone(), password.clone()),
        _ => return gate_error(StatusCode::NOT_FOUND, "No static resource login."),
    };
    if form.get("username") != Some(&username) || form.get("password") != Some(&password) {
        return (
            StatusCode::FOUND,
            [(header::LOCATION, "http://localhost/login?error")],
        )
            .into_response();
    }
    let session = s.id("session");
    s.sessions.push(session.clone());
    (
        StatusCode::FOUND,
        [
            (header::LOCATION, "http://localhost/".to_owned()),
            (
                header::SET_COOKIE,
                format!("SESSION={session}; Path=/; HttpOnly"),
            ),
        ],
    )
        .into_response()
}

async fn bearer_login(State(state): State<Shared>, headers: HeaderMap) -> Response {
    let mut s = lock(&state);
    let MockAuth::BearerSession(token) = &s.auth else {
        return gate_error(
            StatusCode::METHOD_NOT_ALLOWED,
            "Request method 'GET' is not supported",
        );
    };
    if header_text(&headers, header::AUTHORIZATION).as_deref() != Some(&format!("Bearer {token}")) {
        return gate_error(StatusCode::UNAUTHORIZED, "Full authentication is required");
    }
    let session = s.id("session");
    s.sessions.push(session.clone());
    (
        StatusCode::FOUND,
        [
            (header::LOCATION, "http://localhost/".to_owned()),
            (
                header::SET_COOKIE,
                format!("SESSION={session}; Path=/; HttpOnly"),
            ),
        ],
    )
        .into_response()
}

async fn list_applications(State(state): State<Shared>) -> Response {
    let s = lock(&state);
    let apps: Vec<Value> = s
        .applications
        .values()
        .cloned()
        .map(Value::Object)
        .collect();
    json_response(StatusCode::OK, Value::Array(apps))
}

async fn get_application(
    State(state): State<Shared>,
    Path(app): Path<String>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let s = lock(&state);
    let name = app.to_lowercase();
    match s.applications.get(&name) {
        Some(attributes) => {
            let clusters = if query.get("expand").map(String::as_str) == Some("false") {
                json!({})
            } else {
                json!({"prod": []})
            };
            json_response(
                StatusCode::OK,
                json!({"name": name, "attributes": attributes, "clusters": clusters}),
            )
        }
        None => gate_error(
            StatusCode::NOT_FOUND,
            &format!("Application not found (id: {app})"),
        ),
    }
}

fn exception_variables(message: &str) -> Value {
    json!([{
        "key": "exception",
        "value": {
            "details": {"error": "Invalid application", "errors": [message]},
            "exceptionType": "IllegalArgumentException",
            "shouldRetry": false,
        }
    }])
}

async fn submit_task(State(state): State<Shared>, axum::Json(task): axum::Json<Value>) -> Response {
    let mut s = lock(&state);
    let id = s.id("01TASK");
    let mut failure: Option<String> = None;
    for job in task
        .get("job")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default()
    {
        let app = job.get("application").cloned().unwrap_or(Value::Null);
        let name = app
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_lowercase();
        match job.get("type").and_then(Value::as_str) {
            Some("createApplication" | "updateApplication") => {
                let email = app.get("email").and_then(Value::as_str).unwrap_or("");
                if name.is_empty() {
                    failure = Some(
                        "Missing one or more required task parameters (application.name)".into(),
                    );
                } else if email.is_empty() {
                    failure = Some("Application must have a non-empty email".into());
                } else {
                    let entry = s.applications.entry(name.clone()).or_default();
                    if let Value::Object(attributes) = app {
                        for (key, value) in attributes {
                            entry.insert(key, value);
                        }
                    }
                    entry.insert("name".into(), Value::String(name));
                    entry.insert("updateTs".into(), Value::String("1700000000000".into()));
                }
            }
            Some("deleteApplication") => {
                s.applications.remove(&name);
            }
            other => failure = Some(format!("unknown job type {other:?}")),
        }
    }
    let (status, variables) = match failure {
        Some(message) => ("TERMINAL", exception_variables(&message)),
        None => ("SUCCEEDED", json!([])),
    };
    let view = json!({
        "id": id,
        "name": task.get("description").cloned().unwrap_or(Value::Null),
        "application": task.get("application").cloned().unwrap_or(Value::Null),
        "status": status,
        "variables": variables,
        "steps": [],
        "buildTime": 1,
        "startTime": 1,
        "endTime": 2,
    });
    s.tasks.insert(id.clone(), view);
    json_response(StatusCode::OK, json!({"ref": format!("/tasks/{id}")}))
}

async fn get_task(State(state): State<Shared>, Path(id): Path<String>) -> Response {
    let mut s = lock(&state);
    let Some(view) = s.tasks.get(&id).cloned() else {
        return gate_error(StatusCode::NOT_FOUND, &format!("Task not found (id: {id})"));
    };
    let running_polls = s.task_running_polls;
    let polls = s.task_polls.entry(id).or_insert(0);
    *polls += 1;
    if *polls <= running_polls {
        let mut running = view;
        running["status"] = json!("RUNNING");
        return json_response(StatusCode::OK, running);
    }
    json_response(StatusCode::OK, view)
}

fn pipeline_name(p: &Value) -> &str {
    p.get("name").and_then(Value::as_str).unwrap_or("")
}

fn pipeline_id(p: &Value) -> &str {
    p.get("id").and_then(Value::as_str).unwrap_or("")
}

async fn list_pipeline_configs(State(state): State<Shared>, Path(app): Path<String>) -> Response {
    let mut s = lock(&state);
    let key = app.to_lowercase();
    let mut list = s.pipelines.get(&key).cloned().unwrap_or_default();
    if let Some((hidden, remaining)) = s.lagging.get_mut(&key)
        && *remaining > 0
    {
        *remaining -= 1;
        let hidden = hidden.clone();
        list.retain(|p| pipeline_id(p) != hidden);
    }
    for (index, pipeline) in list.iter_mut().enumerate() {
        pipeline["index"] = json!(index);
    }
    json_response(StatusCode::OK, Value::Array(list))
}

fn store_pipeline(s: &mut MockState, mut pipeline: Value) -> Result<Value, Reject> {
    let app = pipeline
        .get("application")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_lowercase();
    let name = pipeline_name(&pipeline).trim().to_owned();
    if app.is_empty() || name.is_empty() {
        return Err(Reject(
            StatusCode::BAD_REQUEST,
            "A pipeline requires name and application fields".to_owned(),
        ));
    }
    if pipeline_id(&pipeline).is_empty() {
        let id = s.id("pipe");
        pipeline["id"] = json!(id);
    }
    let id = pipeline_id(&pipeline).to_owned();
    pipeline["name"] = json!(name);
    pipeline["updateTs"] = json!("1700000000000");
    let list = s.pipelines.entry(app.clone()).or_default();
    if list
        .iter()
        .any(|p| pipeline_name(p).eq_ignore_ascii_case(&name) && pipeline_id(p) != id)
    {
        return Err(Reject(
            StatusCode::BAD_REQUEST,
            format!("A pipeline with name {name} already exists in application {app}"),
        ));
    }
    let is_new = !list.iter().any(|p| pipeline_id(p) == id);
    match list.iter_mut().find(|p| pipeline_id(p) == id) {
        Some(existing) => *existing = pipeline.clone(),
        None => list.push(pipeline.clone()),
    }
    s.history
        .entry(id.clone())
        .or_default()
        .insert(0, pipeline.clone());
    if is_new && s.lag_reads > 0 {
        let lag = s.lag_reads;
        s.lagging.insert(app, (id, lag));
    }
    Ok(pipeline)
}

async fn save_pipeline(
    State(state): State<Shared>,
    axum::Json(pipeline): axum::Json<Value>,
) -> Response {
    let mut s = lock(&state);
    match store_pipeline(&mut s, pipeline) {
        Ok(_) => StatusCode::OK.into_response(),
        Err(reject) => reject.into_response(),
    }
}

async fn update_pipeline(
    State(state): State<Shared>,
    Path(id): Path<String>,
    axum::Json(pipeline): axum::Json<Value>,
) -> Response {
    let mut s = lock(&state);
    if pipeline_id(&pipeline) != id {
        return StatusCode::OK.into_response();
    }
    match store_pipeline(&mut s, pipeline) {
        Ok(stored) => json_response(StatusCode::OK, stored),
        Err(reject) => reject.into_response(),
    }
}

async fn delete_pipeline(
    State(state): State<Shared>,
    Path((app, name)): Path<(String, String)>,
) -> Response {
    let mut s = lock(&state);
    if let Some(list) = s.pipelines.get_mut(&app.to_lowercase())
        && let Some(i) = list
            .iter()
            .position(|p| pipeline_name(p).trim().eq_ignore_ascii_case(&name))
    {
        list.remove(i);
    }
    StatusCode::OK.into_response()
}

async fn pipeline_history(
    State(state): State<Shared>,
    Path(id): Path<String>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let s = lock(&state);
    let limit = query
        .get("limit")
        .and_then(|l| l.parse().ok())
        .unwrap_or(20usize);
    let list: Vec<Value> = s
        .history
        .get(&id)
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .take(limit)
        .collect();
    json_response(StatusCode::OK, Value::Array(list))
}

async fn trigger_pipeline(
    State(state): State<Shared>,
    Path((app, name_or_id)): Path<(String, String)>,
    body: Option<axum::Json<Value>>,
) -> Response {
    let mut s = lock(&state);
    let config = s
        .pipelines
        .get(&app.to_lowercase())
        .and_then(|list| {
            list.iter()
                .find(|p| pipeline_name(p) == name_or_id)
                .or_else(|| list.iter().find(|p| pipeline_id(p) == name_or_id))
        })
        .cloned();
    let Some(config) = config else {
        return gate_error(
            StatusCode::NOT_FOUND,
            &format!("Pipeline not found (id: {name_or_id})"),
        );
    };
    let mut trigger = body.map(|b| b.0).unwrap_or_else(|| json!({}));
    trigger["type"] = trigger.get("type").cloned().unwrap_or(json!("manual"));
    trigger["user"] = json!("anonymous");
    let id = s.id("01EXEC");
    let execution = json!({
        "type": "PIPELINE",
        "id": id,
        "application": app.to_lowercase(),
        "name": pipeline_name(&config),
        "pipelineConfigId": pipeline_id(&config),
        "status": "RUNNING",
        "canceled": false,
        "trigger": trigger,
        "stages": [{
            "id": "01STAGE0000000000000000001",
            "refId": "1",
            "type": "manualJudgment",
            "name": "Approve",
            "status": "RUNNING",
            "context": {},
            "requisiteStageRefIds": [],
        }],
    });
    s.executions.insert(id.clone(), execution);
    json_response(
        StatusCode::ACCEPTED,
        json!({"ref": format!("/pipelines/{id}")}),
    )
}

async fn get_execution(State(state): State<Shared>, Path(id): Path<String>) -> Response {
    let s = lock(&state);
    match s.executions.get(&id) {
        Some(execution) => json_response(StatusCode::OK, execution.clone()),
        None => gate_error(
            StatusCode::NOT_FOUND,
            &format!("Pipeline not found (id: {id})"),
        ),
    }
}

async fn list_executions(
    State(state): State<Shared>,
    Path(app): Path<String>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let s = lock(&state);
    let statuses: Vec<String> = query
        .get("statuses")
        .map(|list| list.split(',').map(str::to_owned).collect())
        .unwrap_or_default();
    let limit = query
        .get("limit")
        .and_then(|l| l.parse().ok())
        .unwrap_or(10usize);
    let list: Vec<Value> = s
        .executions
        .values()
        .filter(|e| e.get("application").and_then(Value::as_str) == Some(&app.to_lowercase()))
        .filter(|e| {
            statuses.is_empty()
                || e.get("status")
                    .and_then(Value::as_str)
                    .is_some_and(|status| statuses.iter().any(|want| want == status))
        })
        .take(limit)
        .cloned()
        .collect();
    json_response(StatusCode::OK, Value::Array(list))
}

async fn patch_stage(
    State(state): State<Shared>,
    Path((id, stage_id)): Path<(String, String)>,
    axum::Json(patch): axum::Json<Value>,
) -> Response {
    let mut s = lock(&state);
    let Some(execution) = s.executions.get_mut(&id) else {
        return gate_error(
            StatusCode::NOT_FOUND,
            &format!("Pipeline not found (id: {id})"),
        );
    };
    let Some(stage) = execution
        .get_mut("stages")
        .and_then(Value::as_array_mut)
        .and_then(|stages| {
            stages
                .iter_mut()
                .find(|st| st.get("id").and_then(Value::as_str) == Some(&stage_id))
        })
    else {
        return gate_error(
            StatusCode::NOT_FOUND,
            &format!("Stage not found (id: {stage_id})"),
        );
    };
    if let (Some(context), Value::Object(patch)) = (
        stage.get_mut("context").and_then(Value::as_object_mut),
        patch,
    ) {
        context.extend(patch);
    }
    json_response(StatusCode::OK, execution.clone())
}

async fn cancel_execution(
    State(state): State<Shared>,
    Path(id): Path<String>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let mut s = lock(&state);
    let Some(execution) = s.executions.get_mut(&id) else {
        return gate_error(
            StatusCode::NOT_FOUND,
            &format!("Pipeline not found (id: {id})"),
        );
    };
    execution["status"] = json!("CANCELED");
    execution["canceled"] = json!(true);
    execution["cancellationReason"] = query.get("reason").map_or(Value::Null, |r| json!(r));
    StatusCode::OK.into_response()
}

async fn list_canary_configs(
    State(state): State<Shared>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let s = lock(&state);
    let wanted = query.get("application");
    let list: Vec<Value> = s
        .canary_configs
        .values()
        .filter(|c| {
            wanted.is_none_or(|app| {
                c.get("applications")
                    .and_then(Value::as_array)
                    .is_some_and(|apps| apps.iter().any(|a| a.as_str() == Some(app)))
            })
        })
        .map(|c| {
            json!({
                "id": c["id"],
                "name": c["name"],
                "updatedTimestamp": 1,
                "updatedTimestampIso": "1970-01-01T00:00:00.001Z",
                "applications": c["applications"],
            })
        })
        .collect();
    json_response(StatusCode::OK, Value::Array(list))
}

fn check_canary_config(config: &Value) -> Result<(), Reject> {
    let name = config.get("name").and_then(Value::as_str).unwrap_or("");
    if name.is_empty() {
        return Err(Reject(
            StatusCode::BAD_REQUEST,
            "Canary config cannot be added without a name.".to_owned(),
        ));
    }
    if config
        .get("applications")
        .and_then(Value::as_array)
        .is_none_or(Vec::is_empty)
    {
        return Err(Reject(
            StatusCode::BAD_REQUEST,
            "At least one application must be specified.".to_owned(),
        ));
    }
    Ok(())
}

async fn create_canary_config(
    State(state): State<Shared>,
    axum::Json(mut config): axum::Json<Value>,
) -> Response {
    let mut s = lock(&state);
    if let Err(reject) = check_canary_config(&config) {
        return reject.into_response();
    }
    let id = match config.get("id").and_then(Value::as_str) {
        Some(id) => id.to_owned(),
        None => s.id("canary"),
    };
    if s.canary_configs.contains_key(&id) {
        return gate_error(
            StatusCode::BAD_REQUEST,
            &format!("Canary config '{id}' already exists."),
        );
    }
    config["id"] = json!(id);
    s.canary_configs.insert(id.clone(), config);
    json_response(StatusCode::OK, json!({"canaryConfigId": id}))
}

async fn get_canary_config(State(state): State<Shared>, Path(id): Path<String>) -> Response {
    let s = lock(&state);
    match s.canary_configs.get(&id) {
        Some(config) => json_response(StatusCode::OK, config.clone()),
        None => gate_error(
            StatusCode::NOT_FOUND,
            &format!("No canary config with id '{id}' found."),
        ),
    }
}

async fn update_canary_config(
    State(state): State<Shared>,
    Path(id): Path<String>,
    axum::Json(mut config): axum::Json<Value>,
) -> Response {
    let mut s = lock(&state);
    if let Err(reject) = check_canary_config(&config) {
        return reject.into_response();
    }
    if !s.canary_configs.contains_key(&id) {
        return gate_error(
            StatusCode::BAD_REQUEST,
            &format!("Canary config '{id}' does not exist."),
        );
    }
    config["id"] = json!(id);
    s.canary_configs.insert(id.clone(), config);
    json_response(StatusCode::OK, json!({"canaryConfigId": id}))
}

async fn delete_canary_config(State(state): State<Shared>, Path(id): Path<String>) -> Response {
    let mut s = lock(&state);
    match s.canary_configs.remove(&id) {
        Some(_) => StatusCode::NO_CONTENT.into_response(),
        None => gate_error(
            StatusCode::NOT_FOUND,
            &format!("No canary config with id '{id}' found."),
        ),
    }
}

/// A running mock Gate.
pub struct MockGate {
    pub addr: SocketAddr,
    pub state: Shared,
    pub scheme: &'static str,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for MockGate {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl MockGate {
    /// Starts a plain-HTTP mock on 127.0.0.1, port 0.
    pub async fn start(auth: MockAuth) -> MockGate {
        let state: Shared = Arc::new(Mutex::new(MockState {
            auth,
            ..MockState::default()
        }));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind loopback");
        let addr = listener.local_addr().expect("local addr");
        let app = router(state.clone());
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        MockGate {
            addr,
            state,
            scheme: "http",
            task,
        }
    }

    /// Starts an HTTPS mock with the given rustls server configuration.
    pub async fn start_tls(
        auth: MockAuth,
        tls: Arc<tokio_rustls::rustls::ServerConfig>,
    ) -> MockGate {
        let state: Shared = Arc::new(Mutex::new(MockState {
            auth,
            ..MockState::default()
        }));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind loopback");
        let addr = listener.local_addr().expect("local addr");
        let app = router(state.clone());
        let tls_listener = crate::tls::TlsListener {
            tcp: listener,
            acceptor: tokio_rustls::TlsAcceptor::from(tls),
            state: state.clone(),
        };
        let task = tokio::spawn(async move {
            let _ = axum::serve(tls_listener, app).await;
        });
        MockGate {
            addr,
            state,
            scheme: "https",
            task,
        }
    }

    /// `http://127.0.0.1:<port>` or `https://127.0.0.1:<port>`.
    pub fn url(&self) -> url::Url {
        url::Url::parse(&format!("{}://{}", self.scheme, self.addr)).expect("mock url")
    }

    /// A client config with small, test-friendly bounds.
    pub fn config(&self) -> gate::Config {
        let mut config = gate::Config::new(self.url());
        config.request_timeout = Duration::from_secs(10);
        config.task_timeout = Duration::from_secs(10);
        config.visibility_timeout = Duration::from_secs(10);
        config.max_retries = 3;
        config
    }

    pub fn client(&self) -> gate::Client {
        gate::Client::new(self.config()).expect("client")
    }

    pub fn state(&self) -> MutexGuard<'_, MockState> {
        lock(&self.state)
    }

    pub fn fault(&self, fault: Fault) {
        self.state().faults.push_back(fault);
    }

    /// Requests seen for `method` and exact `path`.
    pub fn seen_count(&self, method: Method, path: &str) -> usize {
        self.state()
            .seen
            .iter()
            .filter(|r| r.method == method && r.path == path)
            .count()
    }
}
