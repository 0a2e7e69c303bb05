//! `GET /auth/user`: Gate's AuthController view of who is calling, always public.
//!
//! Gate answers with the authenticated principal (kork's `User`), or with an empty 200 body when
//! nobody is authenticated, which is also what it answers with security off: the
//! `X-SPINNAKER-USER` header names a user for auditing, not a principal.

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{Value, json};

use crate::auth::Caller;
use crate::server::AppState;

/// The routes of this controller.
pub fn routes() -> Router<AppState> {
    Router::new().route("/auth/user", get(user))
}

async fn user(State(state): State<AppState>, headers: HeaderMap) -> Response {
    match state.auth.principal(&headers) {
        Some(caller) => Json(user_json(&caller)).into_response(),
        None => ().into_response(),
    }
}

/// kork's `User` as Jackson writes it: the groups are its roles and authorities.
fn user_json(caller: &Caller) -> Value {
    let authorities: Vec<Value> = caller
        .groups
        .iter()
        .map(|g| json!({"authority": g}))
        .collect();
    json!({
        "email": Value::Null,
        "username": caller.user,
        "firstName": Value::Null,
        "lastName": Value::Null,
        "roles": caller.groups,
        "allowedAccounts": [],
        "authorities": authorities,
        "accountNonExpired": true,
        "accountNonLocked": true,
        "credentialsNonExpired": true,
        "enabled": true,
    })
}
