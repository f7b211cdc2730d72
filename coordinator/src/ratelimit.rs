//! Token buckets in memory, keyed by address (signed requests) or by source range
//! (every request): enough for one coordinator process. The address bucket is checked
//! after the signature, so nobody can spend another address's budget. A refused
//! request learns when a token will be there ([`Refused::retry_after`]), which the API
//! sends as `Retry-After`. Work does not spend the budget: a granted lease or a judged
//! result gives its token back ([`RateLimiter::refund`]), so an honest node at any job
//! size never hits the limit while a flood of requests that do no work does.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// A refusal: how long until the next token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Refused {
    pub(crate) retry_after: Duration,
}

impl Refused {
    /// Whole seconds for the `Retry-After` header (at least 1).
    pub(crate) fn retry_after_secs(&self) -> u64 {
        self.retry_after.as_secs_f64().ceil().max(1.0) as u64
    }
}

/// Buckets by key.
#[derive(Debug)]
pub(crate) struct RateLimiter<K> {
    rate: f64,
    burst: f64,
    buckets: Mutex<HashMap<K, (f64, Instant)>>,
}

impl<K: Hash + Eq + Clone> RateLimiter<K> {
    pub(crate) fn new(rate: f64, burst: f64) -> Self {
        Self { rate, burst, buckets: Mutex::new(HashMap::new()) }
    }

    fn with_bucket<T>(&self, who: &K, f: impl FnOnce(&mut f64) -> T) -> T {
        let now = Instant::now();
        let mut buckets = match self.buckets.lock() {
            Ok(b) => b,
            Err(poisoned) => poisoned.into_inner(),
        };
        // Forget full buckets now and then so the map cannot grow without bound.
        if buckets.len() > 100_000 {
            let (rate, burst) = (self.rate, self.burst);
            buckets.retain(|_, (tokens, at)| *tokens + now.duration_since(*at).as_secs_f64() * rate < burst);
        }
        let (tokens, at) = buckets.entry(who.clone()).or_insert((self.burst, now));
        *tokens = (*tokens + now.duration_since(*at).as_secs_f64() * self.rate).min(self.burst);
        *at = now;
        f(tokens)
    }

    /// Takes one token for `who`, or says how long until one is there.
    pub(crate) fn take(&self, who: &K) -> Result<(), Refused> {
        let rate = self.rate;
        self.with_bucket(who, |tokens| {
            if *tokens >= 1.0 {
                *tokens -= 1.0;
                Ok(())
            } else {
                Err(Refused { retry_after: Duration::from_secs_f64((1.0 - *tokens) / rate) })
            }
        })
    }

    /// Gives back the token a request took (it did work).
    pub(crate) fn refund(&self, who: &K) {
        let burst = self.burst;
        self.with_bucket(who, |tokens| *tokens = (*tokens + 1.0).min(burst));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_then_refusal_with_a_retry_time_and_refunds() {
        let rl = RateLimiter::new(1.0, 3.0);
        let (a, b) = (1u8, 2u8);
        assert!((0..3).all(|_| rl.take(&a).is_ok()));
        let refused = rl.take(&a).unwrap_err();
        assert!(refused.retry_after > Duration::from_millis(900) && refused.retry_after <= Duration::from_secs(1));
        assert_eq!(refused.retry_after_secs(), 1);
        rl.refund(&a);
        assert!(rl.take(&a).is_ok());
        assert!(rl.take(&a).is_err());
        assert!(rl.take(&b).is_ok());
    }
}
