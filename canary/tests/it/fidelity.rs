//! Judge fidelity: expected statistics are computed here, independently of the judge's
//! code, by brute force: average ranks by counting, R's shifted statistic evaluated
//! between every pair of consecutive pairwise differences to find where it changes
//! sign, the Hodges-Lehmann estimate as the median of all differences, and a p-value
//! from a separately written normal CDF (Abramowitz-Stegun 7.1.26).

use std::collections::BTreeMap;

use canary::config::{CanaryConfig, CanaryMetricConfig, ScoreThresholds};
use canary::judge::classify::Classification;
use canary::judge::mann_whitney::mann_whitney;
use canary::judge::{MetricSetPair, judge};
use serde_json::json;

/// qnorm(0.99), from standard normal tables.
const Z_99: f64 = 2.326_347_874_040_840_8;

fn average_ranks(values: &[f64]) -> Vec<f64> {
    values
        .iter()
        .map(|v| {
            let below = values.iter().filter(|w| *w < v).count() as f64;
            let equal = values.iter().filter(|w| *w == v).count() as f64;
            below + (equal + 1.0) / 2.0
        })
        .collect()
}

fn tie_sum(values: &[f64]) -> f64 {
    let mut seen: Vec<f64> = Vec::new();
    let mut sum = 0.0;
    for v in values {
        if seen.contains(v) {
            continue;
        }
        seen.push(*v);
        let t = values.iter().filter(|w| *w == v).count() as f64;
        sum += t * t * t - t;
    }
    sum
}

/// R's `wdiff(d, zq)` from `wilcox.test.default`, written from its definition.
fn wdiff(x: &[f64], y: &[f64], mu: f64, zq: f64) -> f64 {
    let (nx, ny) = (x.len() as f64, y.len() as f64);
    let combined: Vec<f64> = x.iter().map(|v| v - mu).chain(y.iter().copied()).collect();
    let r = average_ranks(&combined);
    let dz = r[..x.len()].iter().sum::<f64>() - nx * (nx + 1.0) / 2.0 - nx * ny / 2.0;
    let correction = if dz > 0.0 {
        0.5
    } else if dz < 0.0 {
        -0.5
    } else {
        0.0
    };
    let sigma = ((nx * ny / 12.0)
        * ((nx + ny + 1.0) - tie_sum(&combined) / ((nx + ny) * (nx + ny - 1.0))))
        .sqrt();
    (dz - correction) / sigma - zq
}

fn differences(x: &[f64], y: &[f64]) -> Vec<f64> {
    let mut d: Vec<f64> = x
        .iter()
        .flat_map(|a| y.iter().map(move |b| a - b))
        .collect();
    d.sort_by(f64::total_cmp);
    d
}

/// Where R's root finder converges: the endpoint rules, else the pairwise difference
/// at which `wdiff` turns from positive (left) to non-positive (right).
fn expected_root(x: &[f64], y: &[f64], zq: f64) -> f64 {
    let d = differences(x, y);
    let (lo, hi) = (d[0], d[d.len() - 1]);
    if wdiff(x, y, lo, zq) <= 0.0 {
        return lo;
    }
    if wdiff(x, y, hi, zq) >= 0.0 {
        return hi;
    }
    let mut distinct = d.clone();
    distinct.dedup();
    for k in 0..distinct.len() {
        let left = if k == 0 {
            distinct[0] - 1.0
        } else {
            (distinct[k - 1] + distinct[k]) / 2.0
        };
        let right = if k + 1 == distinct.len() {
            distinct[k] + 1.0
        } else {
            (distinct[k] + distinct[k + 1]) / 2.0
        };
        if wdiff(x, y, left, zq) > 0.0 && wdiff(x, y, right, zq) <= 0.0 {
            return distinct[k];
        }
    }
    panic!("no sign change found");
}

fn expected_estimate(x: &[f64], y: &[f64]) -> f64 {
    let d = differences(x, y);
    let n = d.len();
    if n % 2 == 1 {
        d[n / 2]
    } else {
        (d[n / 2 - 1] + d[n / 2]) / 2.0
    }
}

/// Abramowitz-Stegun 7.1.26 (|error| < 1.5e-7), a different method from the crate's.
fn phi(z: f64) -> f64 {
    let x = z.abs() / std::f64::consts::SQRT_2;
    let t = 1.0 / (1.0 + 0.327_591_1 * x);
    let poly = t
        * (0.254_829_592
            + t * (-0.284_496_736
                + t * (1.421_413_741 + t * (-1.453_152_027 + t * 1.061_405_429))));
    let erf = 1.0 - poly * (-x * x).exp();
    if z >= 0.0 {
        0.5 * (1.0 + erf)
    } else {
        0.5 * (1.0 - erf)
    }
}

fn expected_p_value(x: &[f64], y: &[f64]) -> f64 {
    let (nx, ny) = (x.len() as f64, y.len() as f64);
    let combined: Vec<f64> = x.iter().chain(y.iter()).copied().collect();
    let r = average_ranks(&combined);
    let w = r[..x.len()].iter().sum::<f64>() - nx * (nx + 1.0) / 2.0;
    let z0 = w - nx * ny / 2.0;
    let sigma = ((nx * ny / 12.0)
        * ((nx + ny + 1.0) - tie_sum(&combined) / ((nx + ny) * (nx + ny - 1.0))))
        .sqrt();
    let z = (z0 - z0.signum() * 0.5) / sigma;
    2.0 * phi(z).min(1.0 - phi(z))
}

/// What the judge should say about one metric, from the independent numbers.
fn expected_label(x: &[f64], y: &[f64]) -> Classification {
    let lower = expected_root(x, y, Z_99);
    let upper = expected_root(x, y, -Z_99);
    let bound = 0.25 * expected_estimate(x, y).abs();
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
    let ratio = mean(x) / mean(y);
    if lower > bound && ratio >= 1.0 {
        Classification::High
    } else if upper < -bound && ratio <= 1.0 {
        Classification::Low
    } else {
        Classification::Pass
    }
}

/// A deterministic pseudo-random sample with ties (values on a 0.5 grid).
fn sample(seed: u64, n: usize, centre: f64, spread: f64) -> Vec<f64> {
    let mut state = seed;
    (0..n)
        .map(|_| {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            let u = ((state >> 11) as f64) / (1u64 << 53) as f64;
            centre + ((u - 0.5) * spread * 2.0 * 2.0).round() / 2.0
        })
        .collect()
}

#[test]
fn mann_whitney_matches_independent_computation() {
    let cases = [
        (sample(1, 12, 20.0, 3.0), sample(2, 15, 20.0, 3.0)),
        (sample(3, 20, 25.0, 4.0), sample(4, 18, 20.0, 4.0)),
        (sample(5, 9, 10.0, 2.0), sample(6, 30, 14.0, 2.0)),
        (
            vec![1.0, 2.0, 3.0, 4.0, 5.0],
            vec![6.0, 7.0, 8.0, 9.0, 10.0],
        ),
        (vec![5.0, 5.0, 5.0, 6.0], vec![5.0, 6.0, 6.0, 7.0, 7.0]),
    ];
    for (x, y) in cases {
        let got = mann_whitney(&x, &y, 0.98).unwrap();
        assert_eq!(
            got.lower_confidence,
            expected_root(&x, &y, Z_99),
            "lower CI for {x:?} vs {y:?}"
        );
        assert_eq!(
            got.upper_confidence,
            expected_root(&x, &y, -Z_99),
            "upper CI for {x:?} vs {y:?}"
        );
        assert_eq!(
            got.estimate,
            expected_estimate(&x, &y),
            "estimate for {x:?} vs {y:?}"
        );
        let p = expected_p_value(&x, &y);
        assert!((got.p_value - p).abs() < 1e-6, "p {} vs {p}", got.p_value);
    }
}

fn metric(name: &str, groups: &[&str], canary: serde_json::Value) -> CanaryMetricConfig {
    serde_json::from_value(json!({
        "name": name,
        "query": {"type": "prometheus", "metricName": name},
        "groups": groups,
        "analysisConfigurations": {"canary": canary},
    }))
    .unwrap()
}

fn pair(name: &str, control: &[f64], experiment: &[f64]) -> MetricSetPair {
    MetricSetPair {
        name: name.to_owned(),
        id: name.to_owned(),
        tags: BTreeMap::new(),
        control: control.to_vec(),
        experiment: experiment.to_vec(),
    }
}

fn config(metrics: Vec<CanaryMetricConfig>, weights: &[(&str, f64)]) -> CanaryConfig {
    let mut c = CanaryConfig {
        name: "fidelity".into(),
        metrics,
        ..Default::default()
    };
    c.classifier.group_weights = weights.iter().map(|(g, w)| ((*g).to_owned(), *w)).collect();
    c
}

fn label_of(result: &canary::CanaryJudgeResult, name: &str) -> Classification {
    result
        .results
        .iter()
        .find(|r| r.name == name)
        .unwrap()
        .classification
}

#[test]
fn high_low_and_pass_agree_with_independent_statistics() {
    let control = sample(10, 25, 100.0, 5.0);
    let up: Vec<f64> = sample(11, 25, 100.0, 5.0)
        .iter()
        .map(|v| v + 12.0)
        .collect();
    let down: Vec<f64> = sample(12, 25, 100.0, 5.0)
        .iter()
        .map(|v| v - 12.0)
        .collect();
    let same = sample(13, 25, 100.0, 5.0);
    // The inputs were chosen so the independent computation gives each label.
    assert_eq!(expected_label(&up, &control), Classification::High);
    assert_eq!(expected_label(&down, &control), Classification::Low);
    assert_eq!(expected_label(&same, &control), Classification::Pass);

    let cfg = config(
        vec![
            metric("up", &["g"], json!({})),
            metric("down", &["g"], json!({})),
            metric("same", &["g"], json!({})),
            metric("up-ignored", &["g"], json!({"direction": "decrease"})),
        ],
        &[],
    );
    let pairs = vec![
        pair("up", &control, &up),
        pair("down", &control, &down),
        pair("same", &control, &same),
        pair("up-ignored", &control, &up),
    ];
    let result = judge(&cfg, &pairs, ScoreThresholds::default()).unwrap();
    assert_eq!(label_of(&result, "up"), Classification::High);
    assert_eq!(label_of(&result, "down"), Classification::Low);
    assert_eq!(label_of(&result, "same"), Classification::Pass);
    assert_eq!(label_of(&result, "up-ignored"), Classification::Pass);
    // One group: 2 Pass of 4 scored.
    assert_eq!(result.score.score, 50.0);
    assert_eq!(result.score.classification, "Marginal");
    let up_result = result.results.iter().find(|r| r.name == "up").unwrap();
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
    assert!((up_result.result_metadata.ratio.0 - mean(&up) / mean(&control)).abs() < 1e-12);
    assert_eq!(
        up_result.classification_reason.as_deref(),
        Some("up was classified as High")
    );
}

#[test]
fn nodata_and_nodata_fail_metric() {
    let control = sample(20, 10, 50.0, 5.0);
    let nothing = [f64::NAN, f64::NAN];
    let cfg = config(
        vec![
            metric("plain", &["g"], json!({})),
            metric("required", &["g"], json!({"mustHaveData": true})),
            metric("ok", &["g"], json!({})),
            metric("ok2", &["g"], json!({})),
        ],
        &[],
    );
    let pairs = vec![
        pair("plain", &control, &nothing),
        pair("required", &control, &[]),
        pair("ok", &control, &control),
        pair("ok2", &control, &control),
    ];
    let result = judge(&cfg, &pairs, ScoreThresholds::default()).unwrap();
    assert_eq!(label_of(&result, "plain"), Classification::Nodata);
    assert_eq!(
        label_of(&result, "required"),
        Classification::NodataFailMetric
    );
    // Nodata is not scored; NodataFailMetric counts as a failure: 2 Pass of 3.
    assert_eq!(result.score.score, 66.67);
    assert_eq!(result.score.classification, "Marginal");

    // Half of the metrics Nodata: the canary fails outright.
    let pairs = vec![
        pair("plain", &control, &nothing),
        pair("required", &control, &control),
        pair("ok", &[], &control),
        pair("ok2", &control, &control),
    ];
    let result = judge(&cfg, &pairs, ScoreThresholds::default()).unwrap();
    assert_eq!(result.score.score, 0.0);
    assert_eq!(
        result.score.classification_reason,
        "Canary Failed: 50% or more metrics returned NODATA"
    );
}

#[test]
fn critical_failure_zeroes_the_score() {
    let control = sample(30, 25, 100.0, 5.0);
    let up: Vec<f64> = sample(31, 25, 100.0, 5.0)
        .iter()
        .map(|v| v + 15.0)
        .collect();
    assert_eq!(expected_label(&up, &control), Classification::High);
    let cfg = config(
        vec![
            metric("latency", &["a"], json!({"critical": true})),
            metric("fine", &["b"], json!({})),
        ],
        &[],
    );
    let result = judge(
        &cfg,
        &[
            pair("latency", &control, &up),
            pair("fine", &control, &control),
        ],
        ScoreThresholds::default(),
    )
    .unwrap();
    let latency = result.results.iter().find(|r| r.name == "latency").unwrap();
    assert!(latency.critical);
    assert_eq!(result.score.score, 0.0);
    assert_eq!(result.score.classification, "Fail");
    assert_eq!(
        result.score.classification_reason,
        "Canary Failed: The metric latency was classified as High (Critical)"
    );

    // A critical metric whose effect is below criticalIncrease is High but not critical.
    let cfg = config(
        vec![
            metric(
                "latency",
                &["a"],
                json!({"critical": true, "effectSize": {"criticalIncrease": 5.0}}),
            ),
            metric("fine", &["b"], json!({})),
        ],
        &[],
    );
    let result = judge(
        &cfg,
        &[
            pair("latency", &control, &up),
            pair("fine", &control, &control),
        ],
        ScoreThresholds::default(),
    )
    .unwrap();
    assert!(!result.results[0].critical);
    assert_eq!(result.score.score, 50.0);
}

#[test]
fn muted_metrics_are_reported_but_not_scored() {
    let control = sample(40, 25, 100.0, 5.0);
    let up: Vec<f64> = sample(41, 25, 100.0, 5.0)
        .iter()
        .map(|v| v + 15.0)
        .collect();
    let cfg = config(
        vec![
            metric("noisy", &["g"], json!({"muted": true, "critical": true})),
            metric("fine", &["g"], json!({})),
        ],
        &[],
    );
    let result = judge(
        &cfg,
        &[
            pair("noisy", &control, &up),
            pair("fine", &control, &control),
        ],
        ScoreThresholds::default(),
    )
    .unwrap();
    let noisy = &result.results[0];
    assert!(noisy.muted);
    assert_eq!(noisy.classification, Classification::High);
    assert_eq!(result.score.score, 100.0);
    assert_eq!(result.score.classification, "Pass");
}

#[test]
fn nan_replace_and_remove() {
    let control = sample(50, 20, 10.0, 2.0);
    let mut experiment = control.clone();
    for (i, v) in experiment.iter_mut().enumerate() {
        if i % 4 != 0 {
            *v = f64::NAN;
        }
    }
    let removed: Vec<f64> = experiment.iter().copied().filter(|v| !v.is_nan()).collect();
    let replaced: Vec<f64> = experiment
        .iter()
        .map(|v| if v.is_nan() { 0.0 } else { *v })
        .collect();
    // Three quarters of zeros pull the replaced series down.
    assert_eq!(expected_label(&replaced, &control), Classification::Low);
    let cfg = config(
        vec![
            metric("removed", &["g"], json!({"nanStrategy": "remove"})),
            metric("replaced", &["g"], json!({"nanStrategy": "replace"})),
            metric("all-nan", &["g"], json!({"nanStrategy": "replace"})),
        ],
        &[],
    );
    let result = judge(
        &cfg,
        &[
            pair("removed", &control, &experiment),
            pair("replaced", &control, &experiment),
            pair("all-nan", &[f64::NAN], &[f64::NAN, f64::NAN]),
        ],
        ScoreThresholds::default(),
    )
    .unwrap();
    assert_eq!(
        label_of(&result, "removed"),
        expected_label(&removed, &control)
    );
    assert_eq!(
        label_of(&result, "replaced"),
        expected_label(&replaced, &control)
    );
    assert_eq!(
        result.results[0].experiment_metadata.stats.count,
        removed.len()
    );
    assert_eq!(
        result.results[1].experiment_metadata.stats.count,
        control.len()
    );
    assert_eq!(result.results[1].experiment_metadata.stats.min, 0.0);
    // All-NaN with replace becomes zeros on both sides: identical, so Pass.
    assert_eq!(label_of(&result, "all-nan"), Classification::Pass);
}

/// Commons Math's default percentile, written out independently.
fn percentile(values: &[f64], p: f64) -> f64 {
    let mut s = values.to_vec();
    s.sort_by(f64::total_cmp);
    let n = s.len() as f64;
    let pos = p * (n + 1.0) / 100.0;
    if pos < 1.0 {
        return s[0];
    }
    if pos >= n {
        return s[s.len() - 1];
    }
    let f = pos.floor();
    s[f as usize - 1] + (pos - f) * (s[f as usize] - s[f as usize - 1])
}

#[test]
fn outlier_removal_uses_the_reduced_sensitivity_iqr_fences() {
    // At least 100 points, or the 1st/99th percentiles are the extremes themselves.
    let control = sample(60, 150, 100.0, 5.0);
    let mut experiment = sample(61, 200, 100.0, 5.0);
    experiment.push(10_000.0);
    experiment.push(-5_000.0);
    let q1 = percentile(&experiment, 25.0);
    let q3 = percentile(&experiment, 75.0);
    let lower = percentile(&experiment, 1.0).min(q1 - 3.0 * (q3 - q1));
    let upper = percentile(&experiment, 99.0).max(q3 + 3.0 * (q3 - q1));
    let kept: Vec<f64> = experiment
        .iter()
        .copied()
        .filter(|v| *v >= lower && *v <= upper)
        .collect();
    assert!(
        kept.len() < experiment.len(),
        "the fences must drop something"
    );

    let cfg = config(
        vec![
            metric(
                "removed",
                &["g"],
                json!({"outliers": {"strategy": "remove"}}),
            ),
            metric("kept", &["g"], json!({})),
        ],
        &[],
    );
    let result = judge(
        &cfg,
        &[
            pair("removed", &control, &experiment),
            pair("kept", &control, &experiment),
        ],
        ScoreThresholds::default(),
    )
    .unwrap();
    let removed = &result.results[0].experiment_metadata.stats;
    assert_eq!(removed.count, kept.len());
    assert_eq!(removed.max, kept.iter().copied().fold(f64::MIN, f64::max));
    assert_eq!(
        result.results[1].experiment_metadata.stats.count,
        experiment.len()
    );
    assert_eq!(result.results[1].experiment_metadata.stats.max, 10_000.0);
    assert_eq!(
        label_of(&result, "removed"),
        expected_label(&kept, &control)
    );
}

#[test]
fn group_weights_and_leftover_weight() {
    let control = sample(70, 25, 100.0, 5.0);
    let up: Vec<f64> = sample(71, 25, 100.0, 5.0)
        .iter()
        .map(|v| v + 15.0)
        .collect();
    assert_eq!(expected_label(&up, &control), Classification::High);
    let cfg = config(
        vec![
            metric("a-pass", &["a"], json!({})),
            metric("a-high", &["a"], json!({})),
            metric("b-pass", &["b"], json!({})),
            metric("c-high", &["c"], json!({})),
            metric("d-nodata", &["d"], json!({})),
        ],
        &[("a", 40.0)],
    );
    let result = judge(
        &cfg,
        &[
            pair("a-pass", &control, &control),
            pair("a-high", &control, &up),
            pair("b-pass", &control, &control),
            pair("c-high", &control, &up),
            pair("d-nodata", &control, &[]),
        ],
        ScoreThresholds {
            pass: 90.0,
            marginal: 40.0,
        },
    )
    .unwrap();
    // a = 50 at weight 40; b, c and d share (100 - 40) / 3 = 20 each; d has no data
    // and counts as 100.
    let expected = 50.0 * 0.4 + 100.0 * 0.2 + 0.0 * 0.2 + 100.0 * 0.2;
    assert_eq!(result.score.score, expected);
    assert_eq!(result.score.classification, "Marginal");
    let names: Vec<&str> = result
        .group_scores
        .iter()
        .map(|g| g.name.as_str())
        .collect();
    assert_eq!(names, ["a", "b", "c", "d"]);
    assert_eq!(result.group_scores[0].score, 50.0);
    assert_eq!(result.group_scores[3].score, 0.0);
}

#[test]
fn identical_and_constant_samples() {
    let cfg = config(
        vec![
            metric("identical", &["g"], json!({})),
            metric("constant-shift", &["g"], json!({})),
        ],
        &[],
    );
    let result = judge(
        &cfg,
        &[
            pair("identical", &[3.0, 1.0, 2.0], &[1.0, 2.0, 3.0]),
            pair("constant-shift", &[10.0; 20], &[20.0; 20]),
        ],
        ScoreThresholds::default(),
    )
    .unwrap();
    assert_eq!(label_of(&result, "identical"), Classification::Pass);
    assert_eq!(
        result.results[0].classification_reason.as_deref(),
        Some("The Canary and Baseline data are identical")
    );
    // Both sides constant: noise makes the test possible; a doubling is High.
    assert_eq!(label_of(&result, "constant-shift"), Classification::High);
}

#[test]
fn unknown_metric_is_an_error() {
    let cfg = config(vec![metric("known", &["g"], json!({}))], &[]);
    let err = judge(
        &cfg,
        &[pair("unknown", &[1.0], &[1.0])],
        ScoreThresholds::default(),
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "could not find metric config for \"unknown\""
    );
}
