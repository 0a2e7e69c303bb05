//! `kayentaCanary` under the manual clock: a passing, a marginal and a failing canary over
//! several intervals (a fake metrics source serving series built so the judge's outcome is
//! known), `continuePipeline`, resume after a restart, and one run through a real Prometheus
//! server when `prometheus`/`promtool` are installed.

use crate::support::{Harness, T0, pipeline, wait};
use async_trait::async_trait;
use canary::CanaryConfig;
use canary::CanaryMetricConfig;
use canary::metrics::prometheus::PrometheusSource;
use canary::metrics::{CanaryScope, MetricSet, MetricsError, MetricsSource};
use execution::ExecutionStatus::{self, *};
use execution::StageRegistry;
use execution::stages::kayenta_canary::{KayentaCanary, MetricsAccounts};
use serde_json::{Value, json};
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

const MINUTE: i64 = 60_000;

/// How the canary's series relate to the baseline's in one interval.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Shape {
    /// The very same points: the judge says Pass.
    Same,
    /// Every point doubled: High.
    Doubled,
}

/// One fetch the stage made.
#[derive(Debug, Clone, PartialEq)]
struct Fetch {
    metric: String,
    scope: String,
    start_ms: i64,
    end_ms: i64,
    step: u64,
    params: BTreeMap<String, String>,
}

/// A metrics source whose canary series follow a script per (interval, metric); the
/// interval is recognised from the window's end.
struct ScriptedSource {
    interval_ms: i64,
    first_end_ms: i64,
    script: HashMap<(i64, &'static str), Shape>,
    fetches: Arc<Mutex<Vec<Fetch>>>,
}

fn baseline(seed: u64) -> Vec<f64> {
    let mut state = seed;
    (0..60)
        .map(|_| {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            100.0 + ((state >> 33) % 40) as f64
        })
        .collect()
}

#[async_trait]
impl MetricsSource for ScriptedSource {
    fn source_type(&self) -> &'static str {
        "prometheus"
    }

    fn build_query(
        &self,
        _config: &CanaryConfig,
        metric: &CanaryMetricConfig,
        scope: &CanaryScope,
    ) -> Result<String, MetricsError> {
        Ok(format!("{}{{group=\"{}\"}}", metric.name, scope.scope))
    }

    async fn fetch(
        &self,
        _config: &CanaryConfig,
        metric: &CanaryMetricConfig,
        scope: &CanaryScope,
    ) -> Result<Vec<MetricSet>, MetricsError> {
        let end_ms = scope.end.as_millisecond();
        self.fetches.lock().expect("lock").push(Fetch {
            metric: metric.name.clone(),
            scope: scope.scope.clone(),
            start_ms: scope.start.as_millisecond(),
            end_ms,
            step: scope.step_secs,
            params: scope.extended_scope_params.clone(),
        });
        let seed = if metric.name == "latency" { 1 } else { 2 };
        let mut values = baseline(seed);
        if scope.scope == "app-canary" {
            let interval = (end_ms - self.first_end_ms) / self.interval_ms + 1;
            let shape = self
                .script
                .get(&(interval, leak(&metric.name)))
                .copied()
                .unwrap_or(Shape::Same);
            if shape == Shape::Doubled {
                values.iter_mut().for_each(|v| *v *= 2.0);
            }
        }
        Ok(vec![MetricSet {
            name: metric.name.clone(),
            tags: BTreeMap::new(),
            values,
            start_millis: scope.start.as_millisecond(),
            step_millis: 60_000,
            query: String::new(),
        }])
    }
}

fn leak(name: &str) -> &'static str {
    match name {
        "latency" => "latency",
        _ => "errors",
    }
}

/// latency (group perf, weight 60) and errors (group errors, weight 40): a High latency
/// scores 40 (fail), a High error count scores 60 (marginal), both Pass score 100.
fn canary_config() -> Value {
    json!({
        "id": "cfg-1", "name": "checkout", "applications": ["app"],
        "judge": {"name": "NetflixACAJudge-v1.0", "judgeConfigurations": {}},
        "metrics": [
            {"name": "latency", "groups": ["perf"], "query": {"type": "prometheus", "metricName": "latency"},
             "analysisConfigurations": {"canary": {"direction": "increase"}}},
            {"name": "errors", "groups": ["errors"], "query": {"type": "prometheus", "metricName": "errors"},
             "analysisConfigurations": {"canary": {"direction": "increase"}}},
        ],
        "classifier": {"groupWeights": {"perf": 60, "errors": 40}},
    })
}

/// A 30-minute canary in 10-minute intervals after a 5-minute warm-up, control 10 minutes
/// earlier.
fn canary_stage(extra: Value) -> Value {
    let mut stage = json!({
        "refId": "1", "name": "Canary", "type": "kayentaCanary", "analysisType": "realTime",
        "canaryConfig": {
            "canaryConfigId": "cfg-1",
            "metricsAccountName": "prom",
            "lifetimeDuration": "PT30M",
            "canaryAnalysisIntervalMins": "10",
            "beginCanaryAnalysisAfterMins": "5",
            "baselineAnalysisOffsetInMins": 10,
            "scoreThresholds": {"marginal": "50", "pass": "75"},
            "scopes": [{"scopeName": "default", "controlScope": "app-baseline", "experimentScope": "app-canary",
                        "controlLocation": "us-east-1", "experimentLocation": "us-east-1", "step": 60,
                        "extendedScopeParams": {"env": "prod"}}],
        },
    });
    if let (Some(stage), Some(extra)) = (stage.as_object_mut(), extra.as_object()) {
        for (k, v) in extra {
            stage.insert(k.clone(), v.clone());
        }
    }
    stage
}

struct Canary {
    h: Harness,
    fetches: Arc<Mutex<Vec<Fetch>>>,
}

fn harness(script: &[(i64, &'static str, Shape)]) -> Canary {
    let fetches = Arc::new(Mutex::new(Vec::new()));
    let source = ScriptedSource {
        interval_ms: 10 * MINUTE,
        first_end_ms: T0 + 15 * MINUTE,
        script: script.iter().map(|(i, m, s)| ((*i, *m), *s)).collect(),
        fetches: Arc::clone(&fetches),
    };
    Canary {
        h: with_source(Arc::new(source), canary_config()),
        fetches,
    }
}

fn with_source(source: Arc<dyn MetricsSource>, config: Value) -> Harness {
    let mut accounts = MetricsAccounts::new();
    accounts.insert("prom", source);
    let configs: HashMap<String, Value> = HashMap::from([("cfg-1".to_owned(), config)]);
    let mut registry = StageRegistry::local();
    registry.register(Arc::new(KayentaCanary::new(Arc::new(configs), accounts)));
    Harness::with(registry, HashMap::new())
}

fn scores(h: &Harness, id: &str) -> Value {
    h.stage(id, "Canary").context["canaryScores"].clone()
}

fn message(h: &Harness, id: &str) -> Value {
    h.stage(id, "Canary").context["canaryScoreMessage"].clone()
}

async fn run_intervals(c: &mut Canary, id: &str, expect_running: &[ExecutionStatus]) {
    for expected in expect_running {
        c.h.advance(10 * MINUTE).await;
        assert_eq!(c.h.stage_status(id, "Canary"), *expected);
    }
}

#[tokio::test]
async fn a_passing_canary_runs_every_interval_on_the_clock() {
    let mut c = harness(&[]);
    let id = c.h.run(pipeline(json!([canary_stage(json!({}))]))).await;
    assert_eq!(c.h.stage_status(&id, "Canary"), Running);
    assert!(
        c.fetches.lock().expect("lock").is_empty(),
        "nothing before warm-up + one interval"
    );

    c.h.advance(15 * MINUTE - 1).await;
    assert!(
        c.fetches.lock().expect("lock").is_empty(),
        "still one millisecond early"
    );
    c.h.advance(1).await;
    assert_eq!(scores(&c.h, &id), json!([100.0]));
    {
        let fetches = c.fetches.lock().expect("lock");
        assert_eq!(fetches.len(), 4, "two metrics x control and experiment");
        let control = fetches
            .iter()
            .find(|f| f.scope == "app-baseline")
            .expect("control fetch");
        let experiment = fetches
            .iter()
            .find(|f| f.scope == "app-canary")
            .expect("experiment fetch");
        assert_eq!(
            (experiment.start_ms, experiment.end_ms),
            (T0 + 5 * MINUTE, T0 + 15 * MINUTE)
        );
        assert_eq!(
            (control.start_ms, control.end_ms),
            (T0 - 5 * MINUTE, T0 + 5 * MINUTE),
            "baseline offset"
        );
        assert_eq!(control.step, 60);
        assert_eq!(control.params.get("env").map(String::as_str), Some("prod"));
    }

    run_intervals(&mut c, &id, &[Running, Succeeded]).await;
    assert_eq!(c.h.status(&id), Succeeded);
    assert_eq!(scores(&c.h, &id), json!([100.0, 100.0, 100.0]));
    assert_eq!(
        message(&c.h, &id),
        json!("Final canary score 100.0 met or exceeded the pass score threshold.")
    );
    let stage = c.h.stage(&id, "Canary");
    let third = &stage.context["canaryIntervals"][2];
    assert_eq!(third["interval"], json!(3));
    let request = &third["canaryExecutionRequest"]["scopes"]["default"];
    assert_eq!(
        request["experimentScope"]["start"],
        json!("2026-03-02T16:05:00Z"),
        "cumulative from the warm-up"
    );
    assert_eq!(
        request["experimentScope"]["end"],
        json!("2026-03-02T16:35:00Z")
    );
    assert_eq!(
        request["controlScope"]["end"],
        json!("2026-03-02T16:25:00Z")
    );
    assert_eq!(
        third["result"]["judgeResult"]["judgeName"],
        json!("NetflixACAJudge-v1.0")
    );
    assert_eq!(
        third["result"]["judgeResult"]["results"][0]["classification"],
        json!("Pass")
    );
    let sent: Vec<i64> = c
        .fetches
        .lock()
        .expect("lock")
        .iter()
        .map(|f| f.end_ms)
        .collect();
    assert_eq!(sent.len(), 12, "3 intervals x 2 metrics x 2 scopes");
}

#[tokio::test]
async fn a_marginal_canary_runs_to_the_end_then_fails() {
    // Errors High in every interval: 60 each time, above marginal (50) but below pass (75).
    let script = [
        (1, "errors", Shape::Doubled),
        (2, "errors", Shape::Doubled),
        (3, "errors", Shape::Doubled),
    ];
    let mut c = harness(&script);
    let id =
        c.h.run(pipeline(json!([
            canary_stage(json!({})),
            wait("2", "After", 0, &["1"])
        ])))
        .await;
    c.h.advance(15 * MINUTE).await;
    assert_eq!(
        c.h.stage_status(&id, "Canary"),
        Running,
        "60 is above marginal: no early stop"
    );
    run_intervals(&mut c, &id, &[Running, Terminal]).await;
    assert_eq!(scores(&c.h, &id), json!([60.0, 60.0, 60.0]));
    assert_eq!(
        message(&c.h, &id),
        json!("Final canary score 60.0 is below the pass score threshold.")
    );
    assert_eq!(c.h.status(&id), Terminal);
    assert_eq!(c.h.stage_status(&id, "After"), NotStarted);
    let judged = &c.h.stage(&id, "Canary").context["canaryIntervals"][2]["result"]["judgeResult"];
    assert_eq!(judged["score"]["classification"], json!("Marginal"));
    assert_eq!(judged["results"][1]["classification"], json!("High"));
}

#[tokio::test]
async fn only_the_last_interval_decides_a_recovering_canary() {
    let mut c = harness(&[(1, "errors", Shape::Doubled)]);
    let id = c.h.run(pipeline(json!([canary_stage(json!({}))]))).await;
    c.h.advance(15 * MINUTE).await;
    run_intervals(&mut c, &id, &[Running, Succeeded]).await;
    assert_eq!(scores(&c.h, &id), json!([60.0, 100.0, 100.0]));
}

#[tokio::test]
async fn a_failing_interval_stops_the_canary_early() {
    // Latency High in interval 2: 40 <= marginal, so interval 3 never runs.
    let mut c = harness(&[(2, "latency", Shape::Doubled)]);
    let id =
        c.h.run(pipeline(json!([
            canary_stage(json!({})),
            wait("2", "After", 0, &["1"])
        ])))
        .await;
    c.h.advance(15 * MINUTE).await;
    run_intervals(&mut c, &id, &[Terminal]).await;
    assert_eq!(c.h.status(&id), Terminal);
    assert_eq!(scores(&c.h, &id), json!([100.0, 40.0]));
    let stage = c.h.stage(&id, "Canary");
    assert_eq!(
        stage.context["exception"]["details"]["error"],
        json!("Canary score is not above the marginal score threshold.")
    );
    let fetched = c.fetches.lock().expect("lock").len();
    c.h.advance(60 * MINUTE).await;
    assert_eq!(
        c.fetches.lock().expect("lock").len(),
        fetched,
        "no interval after the failure"
    );
}

#[tokio::test]
async fn continue_pipeline_turns_a_failed_canary_into_failed_continue() {
    let mut c = harness(&[(1, "latency", Shape::Doubled)]);
    let stage = canary_stage(json!({"continuePipeline": true, "failPipeline": false}));
    let id =
        c.h.run(pipeline(json!([stage, wait("2", "After", 0, &["1"])])))
            .await;
    c.h.advance(15 * MINUTE).await;
    assert_eq!(c.h.stage_status(&id, "Canary"), FailedContinue);
    assert_eq!(c.h.stage_status(&id, "After"), Succeeded);
    assert_eq!(c.h.status(&id), Succeeded);
    assert_eq!(scores(&c.h, &id), json!([40.0]));
}

#[tokio::test]
async fn a_score_equal_to_marginal_fails_and_missing_thresholds_pass() {
    // 60 with marginal 60: "not above" the marginal threshold.
    let mut c = harness(&[(1, "errors", Shape::Doubled)]);
    let mut stage = canary_stage(json!({}));
    stage["canaryConfig"]["scoreThresholds"] = json!({"marginal": 60, "pass": 90});
    let id = c.h.run(pipeline(json!([stage]))).await;
    c.h.advance(15 * MINUTE).await;
    assert_eq!(c.h.stage_status(&id, "Canary"), Terminal);

    // Explicit empty thresholds: Orca's "No score thresholds were specified." success.
    let mut c = harness(&[(3, "latency", Shape::Doubled)]);
    let mut stage = canary_stage(json!({}));
    stage["canaryConfig"]["scoreThresholds"] = json!({});
    let id = c.h.run(pipeline(json!([stage]))).await;
    c.h.advance(15 * MINUTE).await;
    run_intervals(&mut c, &id, &[Running, Succeeded]).await;
    assert_eq!(scores(&c.h, &id), json!([100.0, 100.0, 40.0]));
    assert_eq!(
        message(&c.h, &id),
        json!("No score thresholds were specified.")
    );
}

#[tokio::test]
async fn planning_and_lookup_errors_fail_the_stage_with_the_field() {
    let mut c = harness(&[]);
    let mut stage = canary_stage(json!({}));
    stage["canaryConfig"]["scopes"] = json!([]);
    let id = c.h.run(pipeline(json!([stage]))).await;
    assert_eq!(c.h.stage_status(&id, "Canary"), Terminal);
    assert_eq!(
        c.h.stage(&id, "Canary").context["exception"]["details"]["error"],
        json!("canaryConfig.scopes must contain at least one scope")
    );

    let mut stage = canary_stage(json!({}));
    stage["canaryConfig"]["canaryConfigId"] = json!("missing");
    let id = c.h.run(pipeline(json!([stage]))).await;
    c.h.advance(15 * MINUTE).await;
    let error = c.h.stage(&id, "Canary").context["exception"]["details"]["error"].clone();
    assert_eq!(
        error,
        json!("Canary interval 1 failed: canary config missing was not found")
    );

    let mut stage = canary_stage(json!({}));
    stage["canaryConfig"]["metricsAccountName"] = json!("datadog-prod");
    let id = c.h.run(pipeline(json!([stage]))).await;
    c.h.advance(15 * MINUTE).await;
    let error = c.h.stage(&id, "Canary").context["exception"]["details"]["error"].clone();
    assert_eq!(
        error,
        json!(
            "canaryConfig.metricsAccountName: metrics account \"datadog-prod\" is not known; configured: prom"
        )
    );
}

#[tokio::test]
async fn config_by_name_resolves_in_the_execution_application() {
    let mut c = harness(&[]);
    let mut stage = canary_stage(json!({}));
    let config = stage["canaryConfig"].as_object_mut().expect("object");
    config.remove("canaryConfigId");
    config.insert("canaryConfigName".into(), json!("checkout"));
    config.insert("lifetimeDuration".into(), json!("PT10M"));
    let id = c.h.run(pipeline(json!([stage]))).await;
    c.h.advance(15 * MINUTE).await;
    assert_eq!(c.h.stage_status(&id, "Canary"), Succeeded);
    assert_eq!(
        c.h.stage(&id, "Canary").context["canaryIntervals"][0]["canaryConfigId"],
        json!("cfg-1")
    );
}

#[tokio::test]
async fn a_restarted_engine_runs_the_next_unjudged_interval() {
    let mut c = harness(&[]);
    let id = c.h.run(pipeline(json!([canary_stage(json!({}))]))).await;
    c.h.advance(15 * MINUTE).await;
    assert_eq!(scores(&c.h, &id), json!([100.0]));
    let snapshot = serde_json::to_string(c.h.execution(&id)).expect("json");

    let mut fresh = harness(&[]);
    fresh.h.clock.set(c.h.now() + 25 * MINUTE);
    drop(c);
    let execution: execution::Execution = serde_json::from_str(&snapshot).expect("parses");
    execution::Store::commit(
        &mut fresh.h.store,
        &[execution::Change::Created(Box::new(execution.clone()))],
    )
    .expect("seed");
    fresh.h.executor.load(execution, fresh.h.now());
    fresh.h.settle().await;
    assert_eq!(
        scores(&fresh.h, &id),
        json!([100.0, 100.0]),
        "the overdue interval 2 ran at once"
    );
    // Interval 3 is overdue too; the task asks to run again a millisecond later.
    fresh.h.advance(1).await;
    // Both overdue intervals ran; nothing started over.
    assert_eq!(fresh.h.stage_status(&id, "Canary"), Succeeded);
    assert_eq!(scores(&fresh.h, &id), json!([100.0, 100.0, 100.0]));
    assert_eq!(
        fresh.fetches.lock().expect("lock").len(),
        8,
        "intervals 2 and 3 only"
    );
}

// ---- a real Prometheus --------------------------------------------------------------------

fn find_tool(name: &str) -> Option<std::path::PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain([std::path::PathBuf::from("/usr/bin")])
        .map(|dir| dir.join(name))
        .find(|candidate| candidate.is_file())
}

/// Kills the server however the test ends.
struct Server(std::process::Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test]
async fn a_canary_judged_through_a_real_prometheus() {
    let (Some(prometheus), Some(promtool)) = (find_tool("prometheus"), find_tool("promtool"))
    else {
        assert!(
            std::env::var("SPINHCL_REQUIRE_TOOLS").as_deref() != Ok("1"),
            "prometheus/promtool not found and SPINHCL_REQUIRE_TOOLS=1 (bash scripts/tools.sh prometheus)"
        );
        eprintln!("skip: prometheus/promtool not installed (bash scripts/tools.sh prometheus)");
        return;
    };
    // One point a minute from an hour before T0 to an hour after: the canary's latency is
    // double the baseline's, its errors the same.
    let dir = tempfile::tempdir().expect("temp dir");
    let mut text = String::from("# TYPE latency gauge\n");
    let start = T0 / 1000 - 3600;
    let points: Vec<(i64, f64, f64)> = baseline(7)
        .into_iter()
        .chain(baseline(8))
        .enumerate()
        .map(|(i, v)| (start + 60 * i as i64, v, (v - 100.0) / 4.0))
        .collect();
    for (t, v, _) in &points {
        text.push_str(&format!("latency{{group=\"app-baseline\"}} {v} {t}\n"));
        text.push_str(&format!(
            "latency{{group=\"app-canary\"}} {} {t}\n",
            v * 2.0
        ));
    }
    text.push_str("# TYPE errors gauge\n");
    for (t, _, e) in &points {
        text.push_str(&format!(
            "errors{{group=\"app-baseline\"}} {e} {t}\nerrors{{group=\"app-canary\"}} {e} {t}\n"
        ));
    }
    text.push_str("# EOF\n");
    let input = dir.path().join("series.om");
    std::fs::write(&input, text).expect("write series");
    let data = dir.path().join("data");
    let status = std::process::Command::new(&promtool)
        .args(["tsdb", "create-blocks-from", "openmetrics"])
        .arg(&input)
        .arg(&data)
        .stdout(std::process::Stdio::null())
        .status()
        .expect("promtool runs");
    assert!(status.success(), "promtool backfill failed");
    let config_file = dir.path().join("prometheus.yml");
    std::fs::write(&config_file, "global:\n  scrape_interval: 1h\n").expect("write config");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port();
    let base = format!("http://127.0.0.1:{port}");
    let _server = Server(
        std::process::Command::new(&prometheus)
            .arg(format!("--storage.tsdb.path={}", data.display()))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .arg(format!("--config.file={}", config_file.display()))
            .arg("--storage.tsdb.retention.time=100y")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("prometheus starts"),
    );
    let client = reqwest::Client::new();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while !client
        .get(format!("{base}/-/ready"))
        .send()
        .await
        .is_ok_and(|r| r.status().is_success())
    {
        assert!(
            std::time::Instant::now() < deadline,
            "prometheus did not become ready"
        );
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }

    let source = PrometheusSource::new(&base).expect("source");
    // The stored config filters on the scope through an inline template.
    let mut config = canary_config();
    for metric in config["metrics"].as_array_mut().expect("metrics") {
        metric["query"]["customInlineTemplate"] = json!("group=\"${scope}\"");
    }
    let mut h = with_source(Arc::new(source), config);
    let mut stage = canary_stage(json!({}));
    stage["canaryConfig"]["baselineAnalysisOffsetInMins"] = json!(0);
    let id = h.run(pipeline(json!([stage]))).await;
    h.advance(15 * MINUTE).await;
    let canary = h.stage(&id, "Canary");
    assert_eq!(
        canary.status,
        Terminal,
        "{:?}",
        canary.context.get("exception")
    );
    let judged = &canary.context["canaryIntervals"][0]["result"]["judgeResult"];
    assert_eq!(judged["results"][0]["name"], json!("latency"));
    assert_eq!(judged["results"][0]["classification"], json!("High"));
    assert_eq!(judged["results"][1]["classification"], json!("Pass"));
    assert_eq!(
        judged["results"][0]["controlMetadata"]["stats"]["count"],
        json!(11),
        "10 minutes at a 60 s step"
    );
    assert_eq!(scores(&h, &id), json!([40.0]));
    assert_eq!(
        canary.context["warnings"],
        json!([execution::stages::kayenta_canary::FEW_POINTS_WARNING])
    );
}
