//! Request statistics: how many HTTP requests went out per method and route template.

use std::collections::BTreeMap;
use std::sync::Mutex;

/// Counts of HTTP requests sent (every attempt, including retries and logins), keyed by
/// `"<METHOD> <route template>"`, e.g. `"GET /applications/{app}/pipelineConfigs"`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RequestStats {
    /// Count per `"<METHOD> <route template>"`.
    pub by_route: BTreeMap<String, u64>,
}

impl RequestStats {
    /// Requests sent for one `"<METHOD> <route template>"` key.
    pub fn count(&self, key: &str) -> u64 {
        self.by_route.get(key).copied().unwrap_or(0)
    }

    /// All requests sent.
    pub fn total(&self) -> u64 {
        self.by_route.values().sum()
    }
}

/// The live counter inside the client.
#[derive(Debug, Default)]
pub(crate) struct StatsRecorder {
    counts: Mutex<BTreeMap<String, u64>>,
}

impl StatsRecorder {
    pub(crate) fn record(&self, method: &str, route: &str) {
        let key = format!("{method} {route}");
        let mut counts = self
            .counts
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        *counts.entry(key).or_insert(0) += 1;
    }

    pub(crate) fn snapshot(&self) -> RequestStats {
        let counts = self
            .counts
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        RequestStats {
            by_route: counts.clone(),
        }
    }
}
