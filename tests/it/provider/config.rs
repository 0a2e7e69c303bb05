//! Provider configuration errors reach the user as diagnostics pointing at
//! the attribute at fault; an unreachable Gate gives one clear error.

use anyhow::ensure;

use super::each_terraform;

#[test]
fn bad_provider_config_names_the_attribute() {
    each_terraform("bad_provider_config_names_the_attribute", |_, _, ws| {
        let config = e2e::provider_config(
            "gate.example.com",
            "  username        = \"me\"\n  request_timeout = \"soon\"\n  max_retries     = -1\n",
        ) + "\nresource \"spinnaker_application\" \"a\" {\n  name  = \"a\"\n  email = \"a@example.com\"\n}\n";
        ws.write(&config)?;
        ws.init()?;
        let run = ws.run(&["plan", "-no-color", "-input=false"])?;
        ensure!(run.code == 1, "bad config accepted:\n{}", run.text());
        let err = &run.stderr;
        for (summary, source_line) in [
            (
                "Invalid Spinnaker Endpoint",
                "endpoint = \"gate.example.com\"",
            ),
            ("Missing Password", ""),
            ("Invalid Duration", "request_timeout = \"soon\""),
            ("Invalid Number", "max_retries     = -1"),
        ] {
            ensure!(err.contains(summary), "missing {summary:?}:\n{err}");
            ensure!(
                source_line.is_empty() || err.contains(source_line),
                "{summary:?} does not point at {source_line:?}:\n{err}"
            );
        }
        ensure!(
            err.contains("in provider \"spinnaker\""),
            "diagnostics must point into the provider block:\n{err}"
        );
        Ok(())
    });
}

#[test]
fn missing_endpoint_names_the_variable() {
    each_terraform("missing_endpoint_names_the_variable", |_, _, ws| {
        let config = "terraform {\n  required_providers {\n    spinnaker = {\n      source  = \"spinhcl/spinnaker\"\n      version = \"0.1.0\"\n    }\n  }\n}\n\nprovider \"spinnaker\" {}\n\ndata \"spinnaker_application\" \"a\" {\n  name = \"a\"\n}\n";
        ws.write(config)?;
        ws.init()?;
        let run = ws.run(&["plan", "-no-color", "-input=false"])?;
        ensure!(
            run.code == 1 && run.stderr.contains("Missing Spinnaker Endpoint"),
            "{}",
            run.text()
        );
        ensure!(run.stderr.contains("SPINNAKER_ENDPOINT"), "{}", run.stderr);
        // The environment fallback satisfies it.
        let run = ws.run_env(
            &["validate", "-no-color"],
            &[("SPINNAKER_ENDPOINT", "http://127.0.0.1:1")],
        )?;
        ensure!(
            run.code == 0,
            "SPINNAKER_ENDPOINT not honoured:\n{}",
            run.text()
        );
        Ok(())
    });
}

#[test]
fn unreachable_gate_is_one_clear_error() {
    each_terraform("unreachable_gate_is_one_clear_error", |_, _, ws| {
        // A port nothing listens on: bind, then release it.
        let port = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        let config =
            e2e::provider_config(&format!("http://127.0.0.1:{port}"), "  max_retries = 1\n")
                + "\ndata \"spinnaker_application\" \"a\" {\n  name = \"shop\"\n}\n";
        ws.write(&config)?;
        ws.init()?;
        let run = ws.run(&["plan", "-no-color", "-input=false"])?;
        ensure!(
            run.code == 1,
            "unreachable gate did not fail:\n{}",
            run.text()
        );
        ensure!(
            run.stderr.matches("Error: ").count() == 1,
            "expected exactly one error:\n{}",
            run.stderr
        );
        ensure!(
            run.stderr.contains("Cannot Reach Spinnaker Gate"),
            "{}",
            run.stderr
        );
        ensure!(run.elapsed.as_secs() < 30, "took {:?}", run.elapsed);
        Ok(())
    });
}
