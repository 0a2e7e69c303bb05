//! Terraform provider acceptance tests, one module per concern.

mod application;
mod canary_config;
mod config;
mod data_source;
mod faults;
mod pipeline;
mod pipeline_apply;

use anyhow::Result;
use e2e::{Engine, Terraform, Workspace};

/// Runs `check` once per Terraform version with a fresh engine and workspace.
fn each_terraform(test: &str, check: impl Fn(&Terraform, &Engine, &Workspace) -> Result<()>) {
    if !e2e::acceptance(test) {
        return;
    }
    let provider = e2e::provider_bin().expect("provider binary");
    for tf in e2e::terraforms().expect("terraform binaries") {
        let engine = Engine::start().expect("spinhcl server");
        let ws = Workspace::new(&tf, &provider, false).expect("workspace");
        if let Err(e) = check(&tf, &engine, &ws) {
            panic!("{test} on Terraform {}: {e:#}", tf.version);
        }
        eprintln!("{test}: passed on Terraform {}", tf.version);
    }
}
