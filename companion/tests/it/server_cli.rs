//! `spinhcl server` flags: `--dev` announces and removes its folder, SIGTERM stops cleanly,
//! `--config` errors name the file and field, `--dev` conflicts with `--data`.

use std::process::Command;

use crate::support::ServerProcess;

#[test]
fn dev_mode_announces_a_fresh_folder_and_removes_it_on_sigterm() {
    let server = ServerProcess::start(&["--dev", "--listen", ":0"]);
    let text = server.stderr_text();
    let folder = text
        .split("using fresh data folder ")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or_else(|| panic!("no announcement in {text}"))
        .to_owned();
    assert!(
        std::path::Path::new(&folder).join("spinhcl.db").exists(),
        "{folder}"
    );
    assert!(
        server.url.starts_with("http://127.0.0.1:"),
        "{}",
        server.url
    );
    let health = reqwest::blocking_get(&format!("{}/health", server.url));
    assert!(health.contains("UP"), "{health}");
    let status = server.terminate();
    assert!(status.success(), "{status}");
    assert!(
        !std::path::Path::new(&folder).exists(),
        "{folder} should be removed"
    );
}

#[test]
fn data_folder_survives_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let server = ServerProcess::start_on(dir.path());
    let body = r#"{"application":"keep","name":"kept","stages":[]}"#;
    assert_eq!(
        reqwest::blocking_post(&format!("{}/pipelines", server.url), body),
        200
    );
    assert!(server.terminate().success());
    let server = ServerProcess::start_on(dir.path());
    let list = reqwest::blocking_get(&format!("{}/applications/keep/pipelineConfigs", server.url));
    assert!(list.contains("\"kept\""), "{list}");
}

#[test]
fn bad_config_file_is_reported_with_file_and_field() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("engine.toml");
    std::fs::write(&config, "[auth]\nmode = \"token\"\n").unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_spinhcl"))
        .args([
            "server",
            "--dev",
            "--listen",
            ":0",
            "--config",
            config.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("engine.toml") && stderr.contains("auth.tokens"),
        "{stderr}"
    );
}

#[test]
fn dev_and_data_conflict() {
    let output = Command::new(env!("CARGO_BIN_EXE_spinhcl"))
        .args(["server", "--dev", "--data", "/tmp/x"])
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("--data"));
}

/// Tiny blocking helpers so these tests need no async runtime.
mod reqwest {
    pub fn blocking_get(url: &str) -> String {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async { ::reqwest::get(url).await.unwrap().text().await.unwrap() })
    }

    pub fn blocking_post(url: &str, body: &'static str) -> u16 {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async {
            ::reqwest::Client::new()
                .post(url)
                .header("content-type", "application/json")
                .body(body)
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        })
    }
}

#[test]
fn bearer_tokens_are_never_logged() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("engine.toml");
    std::fs::write(
        &config,
        "[auth]\nmode = \"token\"\n[[auth.tokens]]\ntoken = \"very-secret-token-123\"\nuser = \"alice\"\n",
    )
    .unwrap();
    let mut server = ServerProcess::start_logged(
        &[
            "--dev",
            "--listen",
            ":0",
            "--config",
            config.to_str().unwrap(),
        ],
        "trace",
    );
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let client = ::reqwest::Client::new();
        for token in ["very-secret-token-123", "wrong-secret-token-456"] {
            client
                .post(format!("{}/pipelines", server.url))
                .bearer_auth(token)
                .header("content-type", "application/json")
                .body(r#"{"application":"a","name":"p"}"#)
                .send()
                .await
                .unwrap();
        }
    });
    server.child.kill().unwrap();
    let _ = server.child.wait();
    std::thread::sleep(std::time::Duration::from_millis(200));
    let logs = server.stderr_text();
    assert!(logs.contains("listening on"), "{logs}");
    assert!(!logs.contains("very-secret-token-123"), "{logs}");
    assert!(!logs.contains("wrong-secret-token-456"), "{logs}");
}
