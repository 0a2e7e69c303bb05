//! Gate's `ApplicationController` reads: `GET /applications` (filters `account`, `owner`) and
//! `GET /applications/{app}`. Application writes go through tasks ([`super::tasks`]).

use std::collections::HashMap;

use axum::extract::{Path, Query, State};
use axum::routing::get;
use axum::{Extension, Json, Router};
use serde_json::{Map, Value, json};

use crate::auth::{Authorization, Caller};
use crate::error::ApiError;
use crate::server::AppState;
use crate::store;

/// The routes of this controller.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/applications", get(list))
        .route("/applications/{app}", get(get_one))
}

fn matches_account(attrs: &Map<String, Value>, account: &str) -> bool {
    attrs
        .get("accounts")
        .and_then(Value::as_str)
        .is_some_and(|accounts| {
            accounts
                .split(',')
                .any(|a| a.trim().eq_ignore_ascii_case(account.trim()))
        })
}

fn matches_owner(attrs: &Map<String, Value>, owner: &str) -> bool {
    attrs
        .get("email")
        .and_then(Value::as_str)
        .is_some_and(|email| email.eq_ignore_ascii_case(owner.trim()))
}

async fn list(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Query(params): Query<HashMap<String, String>>,
) -> Result<Json<Vec<Map<String, Value>>>, ApiError> {
    let apps = state
        .store
        .read(|conn| store::applications::list(conn).map_err(ApiError::from))
        .await?;
    let account = params.get("account").filter(|a| !a.is_empty());
    let owner = params.get("owner").filter(|o| !o.is_empty());
    let visible = apps
        .into_iter()
        .filter(|attrs| account.is_none_or(|a| matches_account(attrs, a)))
        .filter(|attrs| owner.is_none_or(|o| matches_owner(attrs, o)))
        .filter(|attrs| caller.can(attrs.get("permissions"), Authorization::Read))
        .collect();
    Ok(Json(visible))
}

async fn get_one(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(app): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let key = app.to_lowercase();
    let found = state
        .store
        .read(move |conn| store::applications::get(conn, &key).map_err(ApiError::from))
        .await?;
    let Some(attributes) = found else {
        return Err(ApiError::NotFound(format!(
            "Application not found (id: {app})"
        )));
    };
    caller.require(attributes.get("permissions"), Authorization::Read)?;
    let name = attributes
        .get("name")
        .cloned()
        .unwrap_or_else(|| Value::String(app.to_lowercase()));
    Ok(Json(json!({
        "name": name,
        "attributes": attributes,
        "clusters": {},
    })))
}
