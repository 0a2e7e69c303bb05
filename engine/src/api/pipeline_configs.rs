//! Gate's `PipelineController` and `PipelineConfigController` for configs, with Front50's
//! behaviour: list/get by application, save (`POST /pipelines`), update (`PUT /pipelines/{id}`),
//! bulk save, delete by name, and revision history.

use std::collections::HashMap;

use axum::extract::{Path, Query, State};
use axum::response::Response;
use axum::routing::{delete, get, post, put};
use axum::{Extension, Json, Router};
use rusqlite::Connection;
use serde_json::{Map, Value, json};

use super::{JsonBody, empty_ok, expect_object, kind, now_ms, raw_json};
use crate::auth::{Authorization, Caller};
use crate::error::ApiError;
use crate::pipelines::{self, SaveOptions};
use crate::server::AppState;
use crate::store::{self, StoreError};

/// Default and ceiling for `GET /pipelineConfigs/{id}/history?limit=`.
const DEFAULT_HISTORY_LIMIT: u32 = 20;

/// The routes of this controller.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/applications/{app}/pipelineConfigs", get(list))
        .route(
            "/applications/{app}/pipelineConfigs/{name}",
            get(get_by_name),
        )
        .route("/pipelines", post(save))
        .route("/pipelines/bulksave", post(bulk_save))
        .route("/pipelines/{id}", put(update))
        .route("/pipelines/{app}/{name}", delete(delete_by_name))
        .route("/pipelineConfigs/{id}/history", get(history))
}

fn permissions(conn: &Connection, application_key: &str) -> Result<Option<Value>, StoreError> {
    store::applications::permissions(conn, application_key)
}

fn flag(params: &HashMap<String, String>, key: &str) -> bool {
    params
        .get(key)
        .is_some_and(|v| v.eq_ignore_ascii_case("true"))
}

async fn list(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(app): Path<String>,
    Query(params): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    let key = app.to_lowercase();
    let filter = params
        .get("pipelineNameFilter")
        .map(|f| f.to_lowercase())
        .filter(|f| !f.is_empty());
    state
        .store
        .read(move |conn| {
            caller.require(permissions(conn, &key)?.as_ref(), Authorization::Read)?;
            let rows = store::pipelines::list(conn, &key)?;
            let out = match &filter {
                Some(f) => store::pipelines::render_list(
                    rows.iter()
                        .filter(|r| r.name.to_lowercase().contains(f.as_str())),
                ),
                None => store::pipelines::render_list(&rows),
            };
            Ok(raw_json(out))
        })
        .await
}

async fn get_by_name(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path((app, name)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let key = app.to_lowercase();
    state
        .store
        .read(move |conn| {
            caller.require(permissions(conn, &key)?.as_ref(), Authorization::Read)?;
            let rows = store::pipelines::list(conn, &key)?;
            let Some((index, row)) = rows.iter().enumerate().find(|(_, r)| r.name == name) else {
                return Err(ApiError::NotFound(format!(
                    "Pipeline config (id: {name}) not found for Application (id: {app})"
                )));
            };
            let mut out = Vec::with_capacity(row.body.len() + 16);
            store::pipelines::render_into(&mut out, row, index);
            Ok(raw_json(out))
        })
        .await
}

/// Checks WRITE on the pipeline's application and saves it.
fn authorized_save(
    conn: &Connection,
    caller: &Caller,
    doc: Map<String, Value>,
    options: &SaveOptions,
) -> Result<pipelines::Saved, ApiError> {
    let (application_key, _) = pipelines::identity(&doc)?;
    caller.require(
        permissions(conn, &application_key)?.as_ref(),
        Authorization::Write,
    )?;
    pipelines::save(conn, doc, options)
}

async fn save(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Query(params): Query<HashMap<String, String>>,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    let doc = expect_object(body, "Pipeline")?;
    let options = SaveOptions {
        user: caller.user.clone(),
        stale_check: flag(&params, "staleCheck"),
        now_ms: now_ms(),
    };
    let saved = state
        .store
        .write(move |conn| authorized_save(conn, &caller, doc, &options))
        .await?;
    tracing::info!(pipeline = %saved.id, application = %saved.application_key, "pipeline saved");
    Ok(empty_ok())
}

async fn update(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    let doc = expect_object(body, "Pipeline")?;
    let options = SaveOptions {
        user: caller.user.clone(),
        stale_check: false,
        now_ms: now_ms(),
    };
    let saved = state
        .store
        .write(move |conn| authorized_save(conn, &caller, doc, &options))
        .await?;
    // Gate re-reads the application's list and answers the entry whose id is the path id.
    let key = saved.application_key;
    state
        .store
        .read(move |conn| {
            let rows = store::pipelines::list(conn, &key)?;
            Ok(match rows.iter().enumerate().find(|(_, r)| r.id == id) {
                Some((index, row)) => {
                    let mut out = Vec::with_capacity(row.body.len() + 16);
                    store::pipelines::render_into(&mut out, row, index);
                    raw_json(out)
                }
                None => empty_ok(),
            })
        })
        .await
}

async fn bulk_save(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Query(params): Query<HashMap<String, String>>,
    JsonBody(body): JsonBody,
) -> Result<Json<Value>, ApiError> {
    let Value::Array(items) = body else {
        return Err(ApiError::BadRequest(format!(
            "Bulk save body must be a JSON array of pipelines, got {}",
            kind(&body)
        )));
    };
    let application = params.get("application").map(|a| a.to_lowercase());
    let user = caller.user.clone();
    let now = now_ms();
    let (succeeded, failed) = state
        .store
        .write(move |conn| {
            if let Some(app) = &application {
                caller.require(permissions(conn, app)?.as_ref(), Authorization::Write)?;
            }
            let options = SaveOptions {
                user,
                stale_check: false,
                now_ms: now,
            };
            let mut succeeded = Vec::new();
            let mut failed = Vec::new();
            for item in items {
                let mut summary = Map::new();
                for key in ["id", "name", "application"] {
                    if let Some(v) = item.get(key) {
                        summary.insert(key.to_owned(), v.clone());
                    }
                }
                let outcome = expect_object(item, "Pipeline")
                    .and_then(|doc| authorized_save(conn, &caller, doc, &options));
                match outcome {
                    Ok(saved) => succeeded.push(Value::String(saved.name)),
                    Err(ApiError::Storage(e)) => return Err(ApiError::Storage(e)),
                    Err(other) => {
                        summary.insert("errorMsg".to_owned(), Value::String(other.message()));
                        failed.push(Value::Object(summary));
                    }
                }
            }
            Ok::<_, ApiError>((succeeded, failed))
        })
        .await?;
    Ok(Json(json!({
        "successful_pipelines_count": succeeded.len(),
        "successful_pipelines": succeeded,
        "failed_pipelines_count": failed.len(),
        "failed_pipelines": failed,
    })))
}

async fn delete_by_name(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path((app, name)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let key = app.to_lowercase();
    let wanted = name.trim().to_lowercase();
    let deleted = state
        .store
        .write(move |conn| {
            let rows = store::pipelines::list(conn, &key)?;
            let Some(row) = rows.iter().find(|r| r.name.trim().to_lowercase() == wanted) else {
                return Ok(None);
            };
            caller.require(permissions(conn, &key)?.as_ref(), Authorization::Write)?;
            store::pipelines::delete(conn, &row.id)?;
            Ok::<_, ApiError>(Some(row.id.clone()))
        })
        .await?;
    if let Some(id) = deleted {
        tracing::info!(pipeline = %id, "pipeline deleted");
    }
    Ok(empty_ok())
}

async fn history(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    Query(params): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    let limit = match params.get("limit") {
        None => DEFAULT_HISTORY_LIMIT,
        Some(raw) => raw.trim().parse::<u32>().map_err(|_| {
            ApiError::BadRequest(format!(
                "Parameter 'limit' must be a non-negative integer, got '{raw}'"
            ))
        })?,
    };
    state
        .store
        .read(move |conn| {
            if let Some(app) = store::pipelines::application_of(conn, &id)? {
                caller.require(permissions(conn, &app)?.as_ref(), Authorization::Read)?;
            }
            Ok(raw_json(store::pipelines::history(conn, &id, limit)?))
        })
        .await
}
