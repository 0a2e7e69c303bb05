//! Gate's `TaskController`: `POST /tasks` (and the deprecated `POST /applications/{app}/tasks`)
//! run the job synchronously and answer `{"ref": "/tasks/<ULID>"}`; `GET /tasks/{id}` (and
//! `GET /applications/{app}/tasks/{id}`) answer Orca's task view.

use axum::extract::{Path, State};
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use serde_json::{Value, json};

use super::{JsonBody, now_ms, raw_json};
use crate::auth::Caller;
use crate::error::ApiError;
use crate::orchestration::{self, TaskRequest};
use crate::server::AppState;
use crate::store;

/// The routes of this controller.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/tasks", post(submit))
        .route("/tasks/{id}", get(get_task))
        .route("/applications/{app}/tasks", post(submit_for_application))
        .route("/applications/{app}/tasks/{id}", get(get_application_task))
}

async fn run(
    state: AppState,
    caller: Caller,
    request: TaskRequest,
) -> Result<Json<Value>, ApiError> {
    let id = state
        .store
        .write(move |conn| orchestration::run(conn, &caller, &request, now_ms()))
        .await?;
    Ok(Json(json!({"ref": format!("/tasks/{id}")})))
}

async fn submit(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    JsonBody(body): JsonBody,
) -> Result<Json<Value>, ApiError> {
    let request = TaskRequest::parse(body, None)?;
    run(state, caller, request).await
}

async fn submit_for_application(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(app): Path<String>,
    JsonBody(body): JsonBody,
) -> Result<Json<Value>, ApiError> {
    let request = TaskRequest::parse(body, Some(&app))?;
    run(state, caller, request).await
}

async fn load(state: &AppState, id: String) -> Result<Response, ApiError> {
    let lookup = id.clone();
    let body = state
        .store
        .read(move |conn| store::tasks::get(conn, &lookup).map_err(ApiError::from))
        .await?;
    match body {
        Some(body) => Ok(raw_json(body.into_bytes())),
        None => Err(ApiError::NotFound(format!(
            "No Orchestration found for {id}"
        ))),
    }
}

async fn get_task(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    load(&state, id).await
}

async fn get_application_task(
    State(state): State<AppState>,
    Path((_app, id)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    load(&state, id).await
}
