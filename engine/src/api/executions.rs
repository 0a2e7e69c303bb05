//! Gate's executions endpoints (`PipelineController`, `ExecutionsController`): trigger a pipeline,
//! read and list executions, cancel/pause/resume, delete, and patch a stage (manual judgment).

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, patch, post, put};
use axum::{Extension, Json, Router};
use execution::orchestrate::check_required_parameters;
use execution::{Actor, Execution, ExecutionStatus, ExecutorError};
use serde_json::{Map, Value, json};

use super::{empty_ok, raw_json};
use crate::auth::{Authorization, Caller};
use crate::error::{ApiError, gate_error_response};
use crate::executions::ExecutionsError;
use crate::server::AppState;
use crate::store::{self, StoreError};

/// The routes of this controller.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/pipelines/{app}/{name}", post(trigger))
        .route(
            "/pipelines/{id}",
            get(get_execution).delete(delete_execution),
        )
        .route("/pipelines/{id}/cancel", put(cancel))
        .route(
            "/pipelines/{id}/pause",
            put(|s, c, id| pause_or_resume(s, c, id, Suspension::Pause)),
        )
        .route(
            "/pipelines/{id}/resume",
            put(|s, c, id| pause_or_resume(s, c, id, Suspension::Resume)),
        )
        .route("/pipelines/{id}/stages/{stage_id}", patch(patch_stage))
        .route("/applications/{app}/pipelines", get(list))
}

fn not_found(id: &str) -> ApiError {
    ApiError::NotFound(format!("Pipeline not found (id: {id})"))
}

fn json_bytes(execution: &impl serde::Serialize) -> Result<Vec<u8>, ApiError> {
    serde_json::to_vec(execution).map_err(|e| ApiError::Storage(StoreError::Corrupt(e)))
}

fn engine_error(error: ExecutionsError) -> Response {
    match error {
        ExecutionsError::Refused(ExecutorError::ExecutionNotFound(id)) => {
            not_found(&id).into_response()
        }
        ExecutionsError::Refused(refused) => {
            let status = match &refused {
                ExecutorError::Patch(execution::judgment::PatchError::Forbidden { .. }) => {
                    StatusCode::FORBIDDEN
                }
                ExecutorError::StageNotFound { .. } => StatusCode::NOT_FOUND,
                _ => StatusCode::BAD_REQUEST,
            };
            gate_error_response(status, &refused.to_string())
        }
        other => {
            tracing::error!(error = %other, "execution operation failed");
            gate_error_response(StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error")
        }
    }
}

/// The stored application and status of an execution, after checking `need` on the application.
async fn authorize(
    state: &AppState,
    caller: &Caller,
    id: &str,
    need: Authorization,
) -> Result<ExecutionStatus, ApiError> {
    let id_owned = id.to_owned();
    let caller = caller.clone();
    state
        .store
        .read(move |conn| {
            let (app, status) =
                store::executions::summary(conn, &id_owned)?.ok_or_else(|| not_found(&id_owned))?;
            caller.require(store::applications::permissions(conn, &app)?.as_ref(), need)?;
            Ok(status)
        })
        .await
}

fn parse_trigger(body: &Bytes, prefix: &str) -> Result<Map<String, Value>, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Map::new());
    }
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(Value::Null) => Ok(Map::new()),
        Ok(other) => Err(ApiError::BadRequest(format!(
            "{prefix}trigger must be a JSON object, got {}",
            super::kind(&other)
        ))),
        Err(e) => Err(ApiError::BadRequest(format!("JSON parse error: {e}"))),
    }
}

/// `POST /pipelines/{application}/{pipelineNameOrId}`: 202 `{ref}`.
async fn trigger(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path((app, name)): Path<(String, String)>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let prefix = format!(
        "Unable to trigger pipeline (application: {app}, pipelineNameOrId: {name}). Error: "
    );
    let mut trigger = parse_trigger(&body, &prefix)?;
    let key = app.to_lowercase();
    let lookup = name.clone();
    let reader = caller.clone();
    let config: Option<Value> = state
        .store
        .read(move |conn| {
            reader.require(
                store::applications::permissions(conn, &key)?.as_ref(),
                Authorization::Execute,
            )?;
            let rows = store::pipelines::list(conn, &key)?;
            let row = match rows.iter().find(|r| r.name == lookup) {
                Some(row) => Some(row.body.clone()),
                None => store::pipelines::get(conn, &lookup)?.map(|p| p.row.body),
            };
            Ok::<_, ApiError>(row.and_then(|b| serde_json::from_str(&b).ok()))
        })
        .await?;
    let Some(mut config) = config.filter(|c| {
        c.get("application")
            .and_then(Value::as_str)
            .is_some_and(|a| a.eq_ignore_ascii_case(&app))
    }) else {
        return Err(ApiError::NotFound(format!(
            "Pipeline config (id: {name}) not found for Application (id: {app})"
        )));
    };
    trigger.insert("user".to_owned(), Value::from(caller.user.clone()));
    trigger
        .entry("notifications")
        .or_insert_with(|| Value::Array(Vec::new()));
    // Gate appends the trigger's notifications to the pipeline's.
    if let (Some(Value::Array(extra)), Some(config)) =
        (trigger.get("notifications"), config.as_object_mut())
        && !extra.is_empty()
    {
        let list = config
            .entry("notifications")
            .or_insert_with(|| Value::Array(Vec::new()));
        if let Value::Array(list) = list {
            list.extend(extra.iter().cloned());
        }
    }
    let trigger = Value::Object(trigger);
    if let Err(missing) = check_required_parameters(&config, &trigger) {
        return Err(ApiError::BadRequest(missing.to_string()));
    }
    match state.executions.trigger(config, trigger).await {
        Ok(id) => Ok((
            StatusCode::ACCEPTED,
            Json(json!({ "ref": format!("/pipelines/{id}") })),
        )
            .into_response()),
        Err(ExecutionsError::Refused(refused)) => {
            Err(ApiError::BadRequest(format!("{prefix}{refused}")))
        }
        Err(other) => Ok(engine_error(other)),
    }
}

/// `GET /pipelines/{id}`.
async fn get_execution(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    authorize(&state, &caller, &id, Authorization::Read).await?;
    let lookup = id.clone();
    let execution: Option<Execution> = state
        .store
        .read(move |conn| store::executions::get(conn, &lookup))
        .await?;
    let execution = execution.ok_or_else(|| not_found(&id))?;
    Ok(raw_json(json_bytes(&execution)?))
}

/// `GET /applications/{app}/pipelines?limit=&statuses=`.
async fn list(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(app): Path<String>,
    Query(params): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    let limit = match params.get("limit").map(|l| l.trim()) {
        None | Some("") => state.config.executions.fetch_limit,
        Some(text) => text.parse::<usize>().map_err(|_| {
            ApiError::BadRequest(format!(
                "limit must be a non-negative integer, got {text:?}"
            ))
        })?,
    };
    let statuses = params
        .get("statuses")
        .map(|list| {
            list.split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(|s| {
                    s.to_uppercase().parse::<ExecutionStatus>().map_err(|_| {
                        ApiError::BadRequest(format!("statuses: {s:?} is not an execution status"))
                    })
                })
                .collect::<Result<Vec<_>, _>>()
        })
        .transpose()?
        .unwrap_or_default();
    let key = app.to_lowercase();
    let executions: Vec<Execution> = state
        .store
        .read(move |conn| {
            caller.require(
                store::applications::permissions(conn, &key)?.as_ref(),
                Authorization::Read,
            )?;
            Ok::<_, ApiError>(store::executions::list(conn, &key, &statuses, limit)?)
        })
        .await?;
    Ok(raw_json(json_bytes(&executions)?))
}

fn reason_of(params: &HashMap<String, String>) -> Option<String> {
    params.get("reason").filter(|r| !r.is_empty()).cloned()
}

/// `PUT /pipelines/{id}/cancel?reason=`.
async fn cancel(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    Query(params): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    let status = authorize(&state, &caller, &id, Authorization::Execute).await?;
    if status.is_complete() {
        return Ok(empty_ok());
    }
    let done = state
        .executions
        .cancel(id, caller.user.clone(), reason_of(&params))
        .await;
    Ok(done.map_or_else(engine_error, |()| empty_ok()))
}

/// What `PUT /pipelines/{id}/pause` and `/resume` ask of a running execution.
#[derive(Debug, Clone, Copy)]
enum Suspension {
    /// RUNNING → PAUSED.
    Pause,
    /// PAUSED → RUNNING.
    Resume,
}

/// `PUT /pipelines/{id}/pause` and `PUT /pipelines/{id}/resume`.
async fn pause_or_resume(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    action: Suspension,
) -> Result<Response, ApiError> {
    let status = authorize(&state, &caller, &id, Authorization::Execute).await?;
    let user = caller.user.clone();
    let done = match action {
        // A complete execution has left the executor: refuse it as the executor would.
        Suspension::Pause if status.is_complete() => {
            Err(ExecutionsError::Refused(ExecutorError::NotRunning {
                id,
                status,
            }))
        }
        Suspension::Resume if status.is_complete() => {
            Err(ExecutionsError::Refused(ExecutorError::NotPaused {
                id,
                status,
            }))
        }
        Suspension::Pause => state.executions.pause(id, user).await,
        Suspension::Resume => state.executions.resume(id, user).await,
    };
    Ok(done.map_or_else(engine_error, |()| empty_ok()))
}

/// `DELETE /pipelines/{id}`: only a complete execution.
async fn delete_execution(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let status = authorize(&state, &caller, &id, Authorization::Execute).await?;
    if !status.is_complete() {
        return Err(ApiError::BadRequest(format!(
            "Cannot delete a running execution (id: {id}, status: {status}); cancel it first"
        )));
    }
    let target = id.clone();
    state
        .store
        .write(move |conn| store::executions::delete(conn, &target))
        .await?;
    if let Err(e) = state.executions.forget(id).await {
        tracing::warn!(error = %e, "deleted execution not dropped from memory");
    }
    Ok(empty_ok())
}

/// `PATCH /pipelines/{id}/stages/{stageId}`: merges the body into the stage context and answers
/// the execution.
async fn patch_stage(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path((id, stage_id)): Path<(String, String)>,
    super::JsonBody(body): super::JsonBody,
) -> Result<Response, ApiError> {
    let patch = super::expect_object(body, "stage patch")?;
    let status = authorize(&state, &caller, &id, Authorization::Execute).await?;
    if status.is_complete() {
        return Err(ApiError::BadRequest(format!(
            "Execution {id} is {status}; its stages can no longer change"
        )));
    }
    let actor = Actor {
        user: caller.user.clone(),
        roles: caller.enforced.then(|| caller.groups.clone()),
    };
    match state
        .executions
        .update_stage(id, stage_id, patch, actor)
        .await
    {
        Ok(execution) => Ok(raw_json(json_bytes(&execution)?)),
        Err(e) => Ok(engine_error(e)),
    }
}
