//! Exponential backoff with full jitter, from a random source owned by one retry session.

use std::time::Duration;

/// The backoff schedule: `initial * multiplier^(retry-1)`, capped at `max`, then a uniformly
/// random delay in `[0, that]` ("full jitter"), so concurrent sessions spread out.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Backoff {
    /// The cap of the first retry's delay.
    pub initial: Duration,
    /// The largest cap.
    pub max: Duration,
    /// How much the cap grows per retry.
    pub multiplier: f64,
}

impl Backoff {
    /// The cap of the delay before retry number `retry` (1 for the first retry).
    pub fn ceiling(&self, retry: u32) -> Duration {
        let exponent = i32::try_from(retry.saturating_sub(1)).unwrap_or(i32::MAX);
        let factor = self.multiplier.max(1.0).powi(exponent);
        let ceiling = self.initial.as_secs_f64() * factor;
        if !ceiling.is_finite() || ceiling >= self.max.as_secs_f64() {
            self.max
        } else {
            Duration::from_secs_f64(ceiling)
        }
    }

    /// A jittered delay before retry number `retry`, drawn from `rng`.
    pub fn delay(&self, retry: u32, rng: &mut fastrand::Rng) -> Duration {
        self.ceiling(retry).mul_f64(rng.f64())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ceiling_grows_then_caps() {
        let backoff = Backoff {
            initial: Duration::from_millis(100),
            max: Duration::from_secs(1),
            multiplier: 2.0,
        };
        let ceilings: Vec<_> = (1..=6).map(|r| backoff.ceiling(r).as_millis()).collect();
        assert_eq!(ceilings, [100, 200, 400, 800, 1000, 1000]);
        let mut rng = fastrand::Rng::with_seed(7);
        for retry in 1..50 {
            assert!(backoff.delay(retry, &mut rng) <= backoff.ceiling(retry));
        }
    }
}
