//! Benchmark of the model crate: parse + validate pipelines, evaluate templates, compute cron times.
//!
//! Run with `cargo bench -p pipeline`; prints figures (no assertions). Uses the shared corpus when
//! `../shared` exists, else a synthetic pipeline.

use std::hint::black_box;
use std::path::Path;
use std::time::Instant;

use pipeline::{cron, expr, model, validate};
use serde_json::json;

fn corpus_documents() -> Vec<Vec<u8>> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/corpus/pipelines");
    let mut docs: Vec<Vec<u8>> = std::fs::read_dir(&dir)
        .map(|entries| {
            entries
                .filter_map(|e| e.ok())
                .filter_map(|e| std::fs::read(e.path()).ok())
                .collect()
        })
        .unwrap_or_default();
    if docs.is_empty() {
        eprintln!(
            "corpus not found at {}; using a synthetic pipeline",
            dir.display()
        );
        let stages: Vec<_> = (0..10)
            .map(|i| json!({"refId": i.to_string(), "type": "wait", "name": format!("w{i}"), "waitTime": "${parameters['t']}",
                             "requisiteStageRefIds": if i == 0 { vec![] } else { vec![(i - 1).to_string()] }}))
            .collect();
        docs.push(
            serde_json::to_vec(&json!({"application": "a", "name": "p", "stages": stages}))
                .unwrap_or_default(),
        );
    }
    docs
}

fn per_item(label: &str, n: usize, f: impl FnMut()) -> f64 {
    let mut f = f;
    let start = Instant::now();
    for _ in 0..n {
        f();
    }
    let total = start.elapsed();
    let each = total.as_secs_f64() / n as f64;
    eprintln!(
        "{label:<48} {n:>7} runs  total {:>8.1} ms  {:>9.2} µs each",
        total.as_secs_f64() * 1e3,
        each * 1e6
    );
    each
}

fn main() {
    let docs = corpus_documents();
    let rounds = 1000usize.div_ceil(docs.len());
    let n = rounds * docs.len();
    eprintln!(
        "documents: {} distinct, {n} per round of parsing",
        docs.len()
    );
    let raw = per_item("serde_json::from_slice::<Value> (baseline)", rounds, || {
        for d in &docs {
            black_box(serde_json::from_slice::<serde_json::Value>(d).ok());
        }
    });
    let parse = per_item("model::parse_pipelines", rounds, || {
        for d in &docs {
            black_box(model::parse_pipelines(d).ok());
        }
    });
    let parsed: Vec<model::Pipeline> = docs
        .iter()
        .filter_map(|d| model::parse_pipelines(d).ok())
        .flatten()
        .collect();
    let check = per_item("validate::validate + boundary_violations", rounds, || {
        for p in &parsed {
            black_box(validate::validate(p));
            black_box(validate::boundary_violations(p));
        }
    });
    eprintln!(
        "=> parse+validate of {n} documents: {:.1} ms ({:.2}x the bare serde_json parse)",
        (parse + check) * rounds as f64 * 1e3,
        (parse + check) / raw
    );

    let root =
        json!({"trigger": {"tag": "v1", "parameters": {"env": "prod"}}, "parameters": {"n": "41"}});
    let ctx = expr::Context::new(&root);
    per_item("expr::evaluate_template (3 parts)", 100_000, || {
        black_box(
            expr::evaluate_template(
                "img:${trigger['tag']}-${parameters.n == '41' ? 'x' : 'y'}",
                &ctx,
            )
            .ok(),
        );
    });
    let parsed_expr =
        expr::parse("#toInt(parameters['n']) + 1 > 40 and trigger.parameters.env == 'prod'");
    per_item("expr::evaluate (pre-parsed)", 100_000, || {
        if let Ok(e) = &parsed_expr {
            black_box(expr::evaluate(e, &ctx).ok());
        }
    });

    match cron::CronExpression::parse("0 0/15 9-17 ? * MON-FRI") {
        Ok(c) => {
            let mut t: Option<jiff::ZonedDateTime> =
                "2026-01-01T00:00:00-08:00[America/Los_Angeles]"
                    .parse()
                    .ok();
            per_item("cron::CronExpression::next_after", 100_000, || {
                t = t.as_ref().and_then(|z| c.next_after(z));
            });
        }
        Err(e) => eprintln!("cron: {e}"),
    }
}
