//! `GET /health`: Spring Boot's health endpoint, always public.

use axum::routing::get;
use axum::{Json, Router};
use serde_json::{Value, json};

use crate::server::AppState;

/// The routes of this controller.
pub fn routes() -> Router<AppState> {
    Router::new().route("/health", get(health))
}

async fn health() -> Json<Value> {
    Json(json!({"status": "UP"}))
}
