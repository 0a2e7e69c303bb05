//! Retry policy: which answers are retried, exponential backoff with full jitter,
//! and `Retry-After` parsing.

use std::time::{Duration, SystemTime};

/// First backoff ceiling; attempt `n` waits a random time in `0..=min(MAX, BASE * 2^n)`.
pub(crate) const BACKOFF_BASE: Duration = Duration::from_millis(200);
/// Largest backoff ceiling.
pub(crate) const BACKOFF_MAX: Duration = Duration::from_secs(10);
/// Longest `Retry-After` the client waits for; a longer one fails with `Error::RateLimited`.
pub(crate) const RETRY_AFTER_MAX: Duration = Duration::from_secs(120);

/// The ceiling of the backoff before retry number `attempt` (0-based).
pub(crate) fn backoff_ceiling(attempt: u32) -> Duration {
    let factor = 1u32.checked_shl(attempt.min(16)).unwrap_or(u32::MAX);
    BACKOFF_BASE.saturating_mul(factor).min(BACKOFF_MAX)
}

/// A full-jitter backoff before retry number `attempt`: uniform in `0..=ceiling`.
pub(crate) fn backoff(attempt: u32) -> Duration {
    let ceiling = backoff_ceiling(attempt).as_millis();
    let ceiling = u64::try_from(ceiling).unwrap_or(u64::MAX);
    Duration::from_millis(rand::random_range(0..=ceiling))
}

/// Parses a `Retry-After` value: delta seconds (`"3"`) or an HTTP date
/// (`"Wed, 21 Oct 2015 07:28:00 GMT"`), relative to `now`. A date in the past gives zero.
pub(crate) fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let at = jiff::fmt::rfc2822::DateTimeParser::new()
        .parse_timestamp(value)
        .ok()?;
    let seconds = u64::try_from(at.as_second()).ok()?;
    let at = SystemTime::UNIX_EPOCH + Duration::from_secs(seconds);
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

/// Whether an HTTP status is a transient server-side failure worth retrying
/// (for idempotent calls only).
pub(crate) fn is_retryable_status(status: u16) -> bool {
    matches!(status, 502..=504)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_seconds() {
        let now = SystemTime::now();
        assert_eq!(parse_retry_after("1", now), Some(Duration::from_secs(1)));
        assert_eq!(
            parse_retry_after(" 120 ", now),
            Some(Duration::from_secs(120))
        );
        assert_eq!(parse_retry_after("0", now), Some(Duration::ZERO));
    }

    #[test]
    fn retry_after_http_date() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_445_412_470);
        // 2015-10-21T07:28:00Z is 1445412480.
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now),
            Some(Duration::from_secs(10))
        );
        let later = now + Duration::from_secs(100);
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", later),
            Some(Duration::ZERO)
        );
    }

    #[test]
    fn retry_after_garbage_is_none() {
        let now = SystemTime::now();
        assert_eq!(parse_retry_after("", now), None);
        assert_eq!(parse_retry_after("soon", now), None);
        assert_eq!(parse_retry_after("-1", now), None);
        assert_eq!(parse_retry_after("1.5", now), None);
    }

    #[test]
    fn backoff_ceiling_doubles_then_caps() {
        assert_eq!(backoff_ceiling(0), Duration::from_millis(200));
        assert_eq!(backoff_ceiling(1), Duration::from_millis(400));
        assert_eq!(backoff_ceiling(3), Duration::from_millis(1600));
        assert_eq!(backoff_ceiling(6), BACKOFF_MAX);
        assert_eq!(backoff_ceiling(u32::MAX), BACKOFF_MAX);
    }

    #[test]
    fn backoff_stays_within_ceiling_and_varies() {
        for attempt in 0..20 {
            for _ in 0..50 {
                assert!(backoff(attempt) <= backoff_ceiling(attempt));
            }
        }
        let samples: std::collections::BTreeSet<Duration> = (0..50).map(|_| backoff(5)).collect();
        assert!(samples.len() > 1, "full jitter must vary: {samples:?}");
    }

    #[test]
    fn retryable_statuses() {
        for status in [502, 503, 504] {
            assert!(is_retryable_status(status));
        }
        for status in [200, 400, 404, 429, 500, 501, 505] {
            assert!(!is_retryable_status(status));
        }
    }
}

#[cfg(test)]
mod properties {
    use super::parse_retry_after;
    use proptest::prelude::*;
    use std::time::{Duration, SystemTime};

    proptest! {
        #[test]
        fn any_header_value_parses_without_panicking(value in "\\PC{0,64}") {
            let _ = parse_retry_after(&value, SystemTime::now());
        }

        #[test]
        fn delta_seconds_round_trip(seconds in 0u64..10_000_000) {
            prop_assert_eq!(
                parse_retry_after(&seconds.to_string(), SystemTime::now()),
                Some(Duration::from_secs(seconds))
            );
        }
    }
}
