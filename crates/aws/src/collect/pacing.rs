//! Request pacing for rate-limited APIs: a pacer that spaces calls evenly below a rate (the
//! "token bucket" of one account-region with no burst allowance) and exponential backoff with
//! full jitter for retries.

use std::time::Duration;

use tokio::sync::Mutex;
use tokio::time::Instant;

/// AWS allows LookupEvents 2 calls per second per account and region.
pub const LOOKUP_EVENTS_PER_SECOND: f64 = 2.0;

/// Calls are spaced this much wider than the limit, so that jitter between our clock and the
/// service's never makes two spacings add up to less than a second (1.92 calls/s).
const SAFETY_MARGIN: f64 = 1.04;

/// Spaces calls at least `interval` apart, measured between the moments callers are let go.
/// Waiters are served in arrival order, so queries sharing a pacer cannot starve each other.
#[derive(Debug)]
pub struct Pacer {
    interval: Duration,
    next_allowed: Mutex<Option<Instant>>,
}

impl Pacer {
    pub fn per_second(rate: f64) -> Self {
        Self {
            interval: Duration::from_secs_f64(SAFETY_MARGIN / rate),
            next_allowed: Mutex::new(None),
        }
    }

    pub fn interval(&self) -> Duration {
        self.interval
    }

    /// Waits for this caller's turn. The next turn is set from the moment this one is granted,
    /// not from when it was scheduled, so a late wake-up never shortens the following spacing.
    pub async fn acquire(&self) {
        let mut next_allowed = self.next_allowed.lock().await;
        if let Some(at) = *next_allowed {
            tokio::time::sleep_until(at).await;
        }
        *next_allowed = Some(Instant::now() + self.interval);
    }
}

/// Exponential backoff with full jitter: attempt `n` (from 1) waits a random time in
/// `[0, min(cap, base * 2^(n-1))]`, but never less than `floor`.
#[derive(Debug, Clone, Copy)]
pub struct Backoff {
    pub base: Duration,
    pub cap: Duration,
    pub floor: Duration,
    pub max_attempts: u32,
}

impl Backoff {
    pub const LOOKUP_EVENTS: Backoff = Backoff {
        base: Duration::from_secs(1),
        cap: Duration::from_secs(20),
        floor: Duration::from_millis(100),
        max_attempts: 8,
    };

    pub fn delay(&self, attempt: u32, random_unit: f64) -> Duration {
        let exponent = attempt.saturating_sub(1).min(16);
        let ceiling = self.base.saturating_mul(1 << exponent).min(self.cap);
        ceiling.mul_f64(random_unit.clamp(0.0, 1.0)).max(self.floor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn calls_are_spaced_by_the_interval_even_when_many_wait() {
        let pacer = std::sync::Arc::new(Pacer::per_second(2.0));
        let start = Instant::now();
        let mut handles = Vec::new();
        for _ in 0..5 {
            let pacer = pacer.clone();
            handles.push(tokio::spawn(async move {
                pacer.acquire().await;
                Instant::now()
            }));
        }
        let mut granted = Vec::new();
        for handle in handles {
            granted.push(handle.await.expect("task"));
        }
        granted.sort();
        assert_eq!(granted[0], start, "the first call goes at once");
        for pair in granted.windows(2) {
            assert!(pair[1] - pair[0] >= pacer.interval());
        }
        for triple in granted.windows(3) {
            assert!(
                triple[2] - triple[0] > Duration::from_secs(1),
                "at most 2 per second"
            );
        }
    }

    #[test]
    fn backoff_grows_to_the_cap_and_keeps_the_floor() {
        let b = Backoff::LOOKUP_EVENTS;
        assert_eq!(b.delay(1, 1.0), Duration::from_secs(1));
        assert_eq!(b.delay(3, 1.0), Duration::from_secs(4));
        assert_eq!(b.delay(9, 1.0), Duration::from_secs(20));
        assert_eq!(b.delay(40, 1.0), Duration::from_secs(20));
        assert_eq!(b.delay(2, 0.0), Duration::from_millis(100));
        assert_eq!(b.delay(2, 0.5), Duration::from_secs(1));
    }
}
