//! The library side of `spinhcl canary judge`: read a canary config and two series
//! files, judge, and return Kayenta's `judgeResult` JSON.
//!
//! Series files are JSON objects `{"metric name": [number or null, ...]}`; `null` is a
//! missing point (NaN). A metric of the config absent from a file has no data on that
//! side; a name in a file that the config does not define is an error.

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::config::{CanaryConfig, ScoreThresholds};
use crate::judge::{self, MetricSetPair};

/// Why the files could not be judged. Messages name the file and, where one is at
/// fault, the field.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CliError {
    /// A file could not be read.
    #[error("reading {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// A file is not valid JSON or not the expected shape.
    #[error("{path}: {message}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// What is wrong, naming the field.
        message: String,
    },
    /// The thresholds are out of order or range.
    #[error("thresholds: marginal {marginal} must not exceed pass {pass}, both within 0..=100")]
    Thresholds {
        /// Marginal threshold given.
        marginal: f64,
        /// Pass threshold given.
        pass: f64,
    },
    /// The judge refused the input.
    #[error("judging: {0}")]
    Judge(#[from] judge::JudgeError),
}

/// Judges the series in `control` and `experiment` against `config`.
/// `thresholds` is `(marginal, pass)`; without it the config's
/// `classifier.scoreThresholds` apply, else pass 75 / marginal 50.
///
/// # Errors
/// Unreadable or malformed files (naming file and field), bad thresholds.
pub fn judge_files(
    config: &Path,
    control: &Path,
    experiment: &Path,
    thresholds: Option<(f64, f64)>,
) -> Result<Value, CliError> {
    let canary_config = read_config(config)?;
    let control_series = read_series(control, &canary_config)?;
    let experiment_series = read_series(experiment, &canary_config)?;
    let thresholds = match thresholds {
        Some((marginal, pass)) => {
            if !(0.0..=100.0).contains(&marginal)
                || !(0.0..=100.0).contains(&pass)
                || marginal > pass
            {
                return Err(CliError::Thresholds { marginal, pass });
            }
            ScoreThresholds { pass, marginal }
        }
        None => canary_config
            .classifier
            .score_thresholds
            .unwrap_or_default(),
    };
    let pairs: Vec<MetricSetPair> = canary_config
        .metrics
        .iter()
        .enumerate()
        .map(|(i, m)| MetricSetPair {
            name: m.name.clone(),
            id: format!("{i}"),
            tags: Default::default(),
            control: control_series.get(&m.name).cloned().unwrap_or_default(),
            experiment: experiment_series.get(&m.name).cloned().unwrap_or_default(),
        })
        .collect();
    let result = judge::judge(&canary_config, &pairs, thresholds)?;
    serde_json::to_value(&result).map_err(|e| CliError::Parse {
        path: config.to_path_buf(),
        message: format!("result could not be encoded: {e}"),
    })
}

fn read_json(path: &Path) -> Result<Value, CliError> {
    let text = std::fs::read_to_string(path).map_err(|source| CliError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    serde_json::from_str(&text).map_err(|e| CliError::Parse {
        path: path.to_path_buf(),
        message: format!("invalid JSON: {e}"),
    })
}

/// Reads and checks a canary config file.
///
/// # Errors
/// Unreadable file, invalid JSON, a field of the wrong type, or metrics without a
/// name or with a duplicate name.
pub fn read_config(path: &Path) -> Result<CanaryConfig, CliError> {
    let value = read_json(path)?;
    let parse_error = |message: String| CliError::Parse {
        path: path.to_path_buf(),
        message,
    };
    if !value.is_object() {
        return Err(parse_error("expected a canary config object".to_owned()));
    }
    let config: CanaryConfig = serde_json::from_value(value)
        .map_err(|e| parse_error(format!("not a canary config: {e}")))?;
    let mut seen = std::collections::BTreeSet::new();
    for (i, metric) in config.metrics.iter().enumerate() {
        if metric.name.is_empty() {
            return Err(parse_error(format!("metrics[{i}].name is empty")));
        }
        if !seen.insert(metric.name.as_str()) {
            return Err(parse_error(format!(
                "metrics[{i}].name {:?} is duplicated",
                metric.name
            )));
        }
    }
    Ok(config)
}

fn read_series(
    path: &Path,
    config: &CanaryConfig,
) -> Result<std::collections::BTreeMap<String, Vec<f64>>, CliError> {
    let value = read_json(path)?;
    let parse_error = |message: String| CliError::Parse {
        path: path.to_path_buf(),
        message,
    };
    let Value::Object(map) = value else {
        return Err(parse_error(
            "expected an object {\"metric name\": [numbers or null, ...]}".to_owned(),
        ));
    };
    let mut out = std::collections::BTreeMap::new();
    for (name, series) in map {
        if !config.metrics.iter().any(|m| m.name == name) {
            return Err(parse_error(format!(
                "field {name:?} is not a metric of the canary config"
            )));
        }
        let Value::Array(items) = series else {
            return Err(parse_error(format!(
                "field {name:?} must be an array of numbers or null"
            )));
        };
        let mut values = Vec::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            match item {
                Value::Null => values.push(f64::NAN),
                Value::Number(n) => values.push(n.as_f64().unwrap_or(f64::NAN)),
                other => {
                    return Err(parse_error(format!(
                        "field {name:?}[{i}] must be a number or null, got {other}"
                    )));
                }
            }
        }
        out.insert(name, values);
    }
    Ok(out)
}
