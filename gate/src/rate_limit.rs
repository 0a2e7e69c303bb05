//! Client-side rate limiter: spaces request starts evenly at `requests_per_second`.

use std::time::Duration;

use tokio::sync::Mutex;
use tokio::time::Instant;

/// Hands out start slots `1 / rate` seconds apart (no bursts).
#[derive(Debug)]
pub(crate) struct RateLimiter {
    interval: Duration,
    next_slot: Mutex<Option<Instant>>,
}

impl RateLimiter {
    /// A limiter for `requests_per_second` (> 0, finite).
    pub(crate) fn new(requests_per_second: f64) -> Self {
        Self {
            interval: Duration::from_secs_f64(1.0 / requests_per_second),
            next_slot: Mutex::new(None),
        }
    }

    /// Waits for the next free slot.
    pub(crate) async fn acquire(&self) {
        let slot = {
            let mut next = self.next_slot.lock().await;
            let now = Instant::now();
            let slot = match *next {
                Some(at) if at > now => at,
                _ => now,
            };
            *next = Some(slot + self.interval);
            slot
        };
        tokio::time::sleep_until(slot).await;
    }
}

#[cfg(test)]
mod tests {
    use super::RateLimiter;
    use std::time::Duration;

    #[tokio::test]
    async fn spaces_requests_evenly() {
        let limiter = RateLimiter::new(20.0);
        let start = tokio::time::Instant::now();
        for _ in 0..5 {
            limiter.acquire().await;
        }
        // Slots at 0, 50, 100, 150, 200 ms: the fifth start cannot come before 200 ms.
        assert!(
            start.elapsed() >= Duration::from_millis(200),
            "{:?}",
            start.elapsed()
        );
    }
}
