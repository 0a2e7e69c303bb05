//! Gate's `V2CanaryConfigController` (`/v2/canaryConfig`), answered the way Kayenta does: create,
//! read, list by application, update, delete. `configurationAccountName` is accepted and ignored
//! (there is one built-in configuration store).

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Extension, Json, Router};
use rusqlite::Connection;
use serde_json::{Map, Value, json};

use super::{JsonBody, expect_object, now_ms};
use crate::auth::{Authorization, Caller};
use crate::canary_configs::{self, Mode};
use crate::error::ApiError;
use crate::server::AppState;
use crate::store::{self, canary_configs::CanaryConfigRow};

/// The routes of this controller.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/v2/canaryConfig", get(list).post(create))
        .route(
            "/v2/canaryConfig/{id}",
            get(get_one).put(update).delete(remove),
        )
}

fn can_access(
    conn: &Connection,
    caller: &Caller,
    applications: &[String],
    need: Authorization,
) -> Result<bool, ApiError> {
    for app in applications {
        let perms = store::applications::permissions(conn, &app.to_lowercase())?;
        let ok = caller.can(perms.as_ref(), need);
        // READ: any of its applications suffices; WRITE: all of them are needed.
        match need {
            Authorization::Read if ok => return Ok(true),
            Authorization::Write | Authorization::Execute if !ok => return Ok(false),
            _ => {}
        }
    }
    Ok(need != Authorization::Read || applications.is_empty())
}

fn not_found(id: &str) -> ApiError {
    ApiError::NotFound(format!("No canary config with id '{id}' found."))
}

async fn list(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Query(params): Query<Vec<(String, String)>>,
) -> Result<Json<Vec<Value>>, ApiError> {
    let wanted: Vec<String> = params
        .iter()
        .filter(|(k, _)| k == "application")
        .flat_map(|(_, v)| v.split(','))
        .map(|a| a.trim().to_owned())
        .filter(|a| !a.is_empty())
        .collect();
    state
        .store
        .read(move |conn| {
            let mut out = Vec::new();
            for row in store::canary_configs::list(conn)? {
                if !wanted.is_empty() && !row.applications.iter().any(|a| wanted.contains(a)) {
                    continue;
                }
                if can_access(conn, &caller, &row.applications, Authorization::Read)? {
                    out.push(canary_configs::summary(&row));
                }
            }
            Ok(Json(out))
        })
        .await
}

async fn get_one(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
) -> Result<Json<Map<String, Value>>, ApiError> {
    state
        .store
        .read(move |conn| {
            let row: CanaryConfigRow =
                store::canary_configs::get(conn, &id)?.ok_or_else(|| not_found(&id))?;
            if !can_access(conn, &caller, &row.applications, Authorization::Read)? {
                return Err(ApiError::Forbidden);
            }
            Ok(Json(row.body))
        })
        .await
}

fn body_applications(doc: &Map<String, Value>) -> Vec<String> {
    doc.get("applications")
        .and_then(Value::as_array)
        .map(|apps| {
            apps.iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

async fn store_config(
    state: AppState,
    caller: Caller,
    doc: Map<String, Value>,
    mode: Mode,
    path_id: Option<String>,
) -> Result<Json<Value>, ApiError> {
    let id = state
        .store
        .write(move |conn| {
            if !can_access(
                conn,
                &caller,
                &body_applications(&doc),
                Authorization::Write,
            )? {
                return Err(ApiError::Forbidden);
            }
            if let Some(id) = &path_id
                && let Some(existing) = store::canary_configs::get(conn, id)?
                && !can_access(conn, &caller, &existing.applications, Authorization::Write)?
            {
                return Err(ApiError::Forbidden);
            }
            canary_configs::save(conn, doc, mode, path_id.as_deref(), now_ms())
        })
        .await?;
    Ok(Json(json!({"canaryConfigId": id})))
}

async fn create(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    JsonBody(body): JsonBody,
) -> Result<Json<Value>, ApiError> {
    let doc = expect_object(body, "Canary config")?;
    store_config(state, caller, doc, Mode::Create, None).await
}

async fn update(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    JsonBody(body): JsonBody,
) -> Result<Json<Value>, ApiError> {
    let doc = expect_object(body, "Canary config")?;
    store_config(state, caller, doc, Mode::Update, Some(id)).await
}

async fn remove(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    state
        .store
        .write(move |conn| {
            let row = store::canary_configs::get(conn, &id)?.ok_or_else(|| not_found(&id))?;
            if !can_access(conn, &caller, &row.applications, Authorization::Write)? {
                return Err(ApiError::Forbidden);
            }
            store::canary_configs::delete(conn, &id)?;
            Ok(StatusCode::NO_CONTENT.into_response())
        })
        .await
}
