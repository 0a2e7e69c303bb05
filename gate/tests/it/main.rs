//! Integration tests of the Gate client against an in-process mock Gate on loopback.

mod applications;
mod auth;
mod canary_configs;
mod config;
mod executions;
mod logging;
mod mock;
mod pipeline_configs;
mod resilience;
mod tls;
mod tls_auth;

/// An application spec the mock accepts.
pub fn app_spec(name: &str) -> gate::ApplicationSpec {
    gate::ApplicationSpec {
        name: name.to_owned(),
        email: "team@example.com".into(),
        description: Some("payments service".into()),
        cloud_providers: vec!["aws".into(), "kubernetes".into()],
        permissions: Some(gate::Permissions {
            read: vec!["devs".into()],
            write: vec!["sre".into()],
            execute: vec!["sre".into()],
        }),
        extra: serde_json::Map::new(),
    }
}
