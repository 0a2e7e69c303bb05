//! Steps 4 and 5 of the judge: group scores, the weighted summary score with its
//! critical and NODATA overrides (Kayenta's `WeightedSumScorer`), and the summary
//! classification (`ThresholdScoreClassifier`).

use std::collections::BTreeMap;

use super::classify::Classification;
use crate::config::ScoreThresholds;

/// Share of `Nodata` metrics (percent) at which the canary fails.
pub const NODATA_THRESHOLD: f64 = 50.0;

/// What the scorer needs from one (unmuted) metric result.
#[derive(Debug, Clone, Copy)]
pub struct Scored<'a> {
    /// The label.
    pub classification: Classification,
    /// Whether the metric result is critical.
    pub critical: bool,
    /// Its groups.
    pub groups: &'a [String],
    /// Its reason, used in the critical-failure message.
    pub reason: Option<&'a str>,
}

/// One group's score.
#[derive(Debug, Clone, PartialEq)]
pub struct GroupScore {
    /// Group name.
    pub name: String,
    /// `100 * #Pass / (#Pass + #High + #Low + #NodataFailMetric)`, 0 with no data.
    pub score: f64,
    /// No scored metric in the group; counts as 100 in the summary.
    pub no_data: bool,
}

/// The summary.
#[derive(Debug, Clone, PartialEq)]
pub struct SummaryScore {
    /// Groups in first-seen order.
    pub groups: Vec<GroupScore>,
    /// Weighted sum rounded to 2 decimals, or 0 after an override.
    pub score: f64,
    /// Set when an override decided the score.
    pub reason: Option<String>,
}

/// The summary label.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SummaryClassification {
    /// `score >= pass`.
    Pass,
    /// `marginal <= score < pass`.
    Marginal,
    /// `score < marginal`.
    Fail,
}

impl SummaryClassification {
    /// Kayenta's string.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pass => "Pass",
            Self::Marginal => "Marginal",
            Self::Fail => "Fail",
        }
    }
}

/// Scores the unmuted results.
pub fn score(results: &[Scored<'_>], group_weights: &BTreeMap<String, f64>) -> SummaryScore {
    let mut order: Vec<&str> = Vec::new();
    let mut tallies: BTreeMap<&str, (u32, u32)> = BTreeMap::new(); // (pass, total)
    for r in results {
        for g in r.groups {
            let entry = tallies.entry(g.as_str()).or_insert_with(|| {
                order.push(g.as_str());
                (0, 0)
            });
            match r.classification {
                Classification::Pass => {
                    entry.0 += 1;
                    entry.1 += 1;
                }
                Classification::High | Classification::Low | Classification::NodataFailMetric => {
                    entry.1 += 1
                }
                Classification::Nodata | Classification::Error => {}
            }
        }
    }
    let groups: Vec<GroupScore> = order
        .iter()
        .map(|name| {
            let (pass, total) = tallies.get(name).copied().unwrap_or((0, 0));
            GroupScore {
                name: (*name).to_owned(),
                score: if total == 0 {
                    0.0
                } else {
                    f64::from(pass) / f64::from(total) * 100.0
                },
                no_data: total == 0,
            }
        })
        .collect();

    if let Some(failure) = results
        .iter()
        .find(|r| r.critical && r.classification != Classification::Pass)
    {
        let reason = format!("Canary Failed: {}", failure.reason.unwrap_or("null"));
        return SummaryScore {
            groups,
            score: 0.0,
            reason: Some(reason),
        };
    }
    let nodata = results
        .iter()
        .filter(|r| r.classification == Classification::Nodata)
        .count();
    if !results.is_empty() && nodata as f64 / results.len() as f64 * 100.0 >= NODATA_THRESHOLD {
        return SummaryScore {
            groups,
            score: 0.0,
            reason: Some("Canary Failed: 50% or more metrics returned NODATA".to_owned()),
        };
    }

    let weight_sum: f64 = group_weights.values().sum();
    let unweighted = groups
        .iter()
        .filter(|g| !group_weights.contains_key(&g.name))
        .count();
    let leftover = if unweighted > 0 {
        (100.0 - weight_sum) / unweighted as f64
    } else {
        0.0
    };
    let total: f64 = groups
        .iter()
        .map(|g| {
            let effective = if g.no_data { 100.0 } else { g.score };
            let weight = group_weights.get(&g.name).copied().unwrap_or(leftover);
            effective * (weight / 100.0)
        })
        .sum();
    SummaryScore {
        groups,
        score: round_half_up(total, 2),
        reason: None,
    }
}

/// Classifies the summary score against the thresholds.
pub fn classify_summary(score: f64, thresholds: ScoreThresholds) -> SummaryClassification {
    if score >= thresholds.pass {
        SummaryClassification::Pass
    } else if score >= thresholds.marginal {
        SummaryClassification::Marginal
    } else {
        SummaryClassification::Fail
    }
}

/// Rounds the shortest decimal representation of `x` half-up, as Commons Math's
/// `MathUtils.round` does through `BigDecimal(Double.toString(x))`.
pub fn round_half_up(x: f64, places: usize) -> f64 {
    if !x.is_finite() {
        return x;
    }
    let text = format!("{}", x.abs());
    let (int_part, frac_part) = text.split_once('.').unwrap_or((text.as_str(), ""));
    if frac_part.len() <= places {
        return x;
    }
    let kept = format!("{int_part}{}", frac_part.get(..places).unwrap_or(""));
    let round_up = frac_part.as_bytes().get(places).is_some_and(|d| *d >= b'5');
    let mut digits: Vec<u8> = kept.into_bytes();
    if round_up {
        let mut i = digits.len();
        loop {
            if i == 0 {
                digits.insert(0, b'1');
                break;
            }
            i -= 1;
            if digits[i] == b'9' {
                digits[i] = b'0';
            } else {
                digits[i] += 1;
                break;
            }
        }
    }
    let split = digits.len() - places;
    let text = format!(
        "{}.{}",
        String::from_utf8_lossy(digits.get(..split).unwrap_or(b"0")),
        String::from_utf8_lossy(digits.get(split..).unwrap_or(b""))
    );
    let value: f64 = text.parse().unwrap_or(x.abs());
    if x < 0.0 { -value } else { value }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rounding_is_decimal_half_up() {
        assert_eq!(round_half_up(66.666_666_666, 2), 66.67);
        assert_eq!(round_half_up(2.675, 2), 2.68);
        assert_eq!(round_half_up(99.995, 2), 100.0);
        assert_eq!(round_half_up(50.0, 2), 50.0);
        assert_eq!(round_half_up(0.125, 2), 0.13);
    }

    #[test]
    fn thresholds() {
        let t = ScoreThresholds {
            pass: 75.0,
            marginal: 50.0,
        };
        assert_eq!(classify_summary(75.0, t), SummaryClassification::Pass);
        assert_eq!(classify_summary(50.0, t), SummaryClassification::Marginal);
        assert_eq!(classify_summary(49.99, t), SummaryClassification::Fail);
    }
}
