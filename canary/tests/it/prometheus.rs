//! Prometheus end to end: known series are backfilled into a temporary TSDB with
//! `promtool tsdb create-blocks-from openmetrics`, a real `prometheus` (Debian's
//! package) serves them on loopback, and the source's range queries feed the judge.
//!
//! Without the binaries the test prints a skip line, or fails when
//! `SPINHCL_REQUIRE_TOOLS=1` is set.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use canary::config::{CanaryConfig, ScoreThresholds};
use canary::judge::classify::Classification;
use canary::metrics::prometheus::PrometheusSource;
use canary::metrics::{CanaryScope, MetricsError, MetricsSource, fetch_pairs};
use serde_json::json;

fn find_tool(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain([PathBuf::from("/usr/bin"), PathBuf::from("/usr/local/bin")])
        .map(|dir| dir.join(name))
        .find(|candidate| candidate.is_file())
}

fn tools() -> Option<(PathBuf, PathBuf)> {
    match (find_tool("prometheus"), find_tool("promtool")) {
        (Some(p), Some(t)) => Some((p, t)),
        _ => {
            assert!(
                std::env::var("SPINHCL_REQUIRE_TOOLS").as_deref() != Ok("1"),
                "prometheus/promtool not found and SPINHCL_REQUIRE_TOOLS=1 (apt-get install -y prometheus)"
            );
            eprintln!("skip: prometheus/promtool not installed (apt-get install -y prometheus)");
            None
        }
    }
}

/// Kills the server when the test ends, however it ends.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

const START: i64 = 1_700_000_000;
const STEP: i64 = 60;
const POINTS: i64 = 60;

fn series(seed: u64, centre: f64) -> Vec<f64> {
    let mut state = seed;
    (0..POINTS)
        .map(|_| {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            let u = ((state >> 11) as f64) / (1u64 << 53) as f64;
            centre + ((u - 0.5) * 20.0).round() / 2.0
        })
        .collect()
}

fn write_openmetrics(path: &Path, data: &[(&str, &str, &[f64])]) {
    let mut text = String::new();
    let mut names: Vec<&str> = data.iter().map(|(m, _, _)| *m).collect();
    names.dedup();
    for name in names {
        writeln!(text, "# TYPE {name} gauge").unwrap();
        for (metric, group, values) in data.iter().filter(|(m, _, _)| *m == name) {
            for (i, v) in values.iter().enumerate() {
                writeln!(
                    text,
                    "{metric}{{group=\"{group}\"}} {v} {}",
                    START + i as i64 * STEP
                )
                .unwrap();
            }
        }
    }
    text.push_str("# EOF\n");
    std::fs::write(path, text).unwrap();
}

async fn wait_ready(base: &str) {
    let client = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Ok(r) = client.get(format!("{base}/-/ready")).send().await
            && r.status().is_success()
        {
            return;
        }
        assert!(Instant::now() < deadline, "prometheus did not become ready");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

fn scope(group: &str) -> CanaryScope {
    CanaryScope {
        scope: group.to_owned(),
        location: "local".to_owned(),
        start: jiff::Timestamp::from_second(START).unwrap(),
        end: jiff::Timestamp::from_second(START + (POINTS - 1) * STEP).unwrap(),
        step_secs: STEP as u64,
        extended_scope_params: BTreeMap::new(),
    }
}

#[tokio::test]
async fn range_queries_feed_the_judge() {
    let Some((prometheus, promtool)) = tools() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let baseline_latency = series(1, 100.0);
    let canary_latency = series(2, 130.0);
    let errors = series(3, 5.0);
    let input = dir.path().join("series.om");
    write_openmetrics(
        &input,
        &[
            ("latency", "app-baseline", &baseline_latency),
            ("latency", "app-canary", &canary_latency),
            ("errors", "app-baseline", &errors),
            ("errors", "app-canary", &errors),
        ],
    );
    let data = dir.path().join("data");
    let status = Command::new(&promtool)
        .args(["tsdb", "create-blocks-from", "openmetrics"])
        .arg(&input)
        .arg(&data)
        .stdout(Stdio::null())
        .status()
        .unwrap();
    assert!(status.success(), "promtool backfill failed");
    let config_file = dir.path().join("prometheus.yml");
    std::fs::write(&config_file, "global:\n  scrape_interval: 1h\n").unwrap();

    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let base = format!("http://127.0.0.1:{port}");
    let _server = Server(
        Command::new(&prometheus)
            .arg(format!("--storage.tsdb.path={}", data.display()))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .arg(format!("--config.file={}", config_file.display()))
            .arg("--storage.tsdb.retention.time=100y")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    wait_ready(&base).await;

    let config: CanaryConfig = serde_json::from_value(json!({
        "name": "e2e",
        "applications": ["app"],
        "metrics": [
            {"name": "latency", "groups": ["perf"], "scopeName": "default",
             "query": {"type": "prometheus", "metricName": "latency", "customInlineTemplate": "group=\"${scope}\""},
             "analysisConfigurations": {"canary": {"direction": "increase"}}},
            {"name": "errors", "groups": ["errors"],
             "query": {"type": "prometheus", "metricName": "errors", "customFilterTemplate": "by-group"}}
        ],
        "templates": {"by-group": "group=\"${scope}\""},
        "classifier": {"groupWeights": {"perf": 50, "errors": 50}}
    }))
    .unwrap();
    let source = PrometheusSource::new(&base).unwrap();
    let control = scope("app-baseline");
    let experiment = scope("app-canary");
    assert_eq!(
        source
            .build_query(&config, &config.metrics[0], &control)
            .unwrap(),
        "avg(latency{group=\"app-baseline\"})"
    );

    let pairs = fetch_pairs(&source, &config, &control, &experiment)
        .await
        .unwrap();
    assert_eq!(pairs.len(), 2);
    assert_eq!(
        pairs[0].control, baseline_latency,
        "the loaded series comes back point for point"
    );
    assert_eq!(pairs[0].experiment, canary_latency);
    assert_eq!(pairs[1].control, errors);

    let result = canary::judge(&config, &pairs, ScoreThresholds::default()).unwrap();
    assert_eq!(result.results[0].classification, Classification::High);
    assert_eq!(result.results[1].classification, Classification::Pass);
    assert_eq!(result.score.score, 50.0);
    assert_eq!(result.score.classification, "Marginal");

    // A scope with no series is no data, not an error.
    let missing = scope("app-missing");
    let sets = source
        .fetch(&config, &config.metrics[0], &missing)
        .await
        .unwrap();
    assert_eq!(sets.len(), 1);
    assert!(sets[0].values.is_empty());

    // A query Prometheus cannot parse is reported with its text.
    let bad: CanaryConfig = serde_json::from_value(json!({
        "name": "bad",
        "metrics": [{"name": "broken", "query": {"type": "prometheus", "customInlineTemplate": "PromQL:sum(("}}]
    }))
    .unwrap();
    let err = source
        .fetch(&bad, &bad.metrics[0], &control)
        .await
        .unwrap_err();
    assert!(
        matches!(err, MetricsError::BadQuery { status: 400, .. }),
        "{err}"
    );
}
