//! A cancellation flag checked between GPU slices. Cheap to check (one atomic load), so
//! the slice loop looks at it before every dispatch; the idle watcher sets it the moment
//! the owner comes back. [`CancelToken::sleep`] lets the duty-cycle throttle pause
//! between slices and still wake at once when cancelled.

use std::sync::{
    Arc, Condvar, Mutex, PoisonError,
    atomic::{AtomicBool, Ordering},
};
use std::time::{Duration, Instant};

#[derive(Debug, Default)]
struct Inner {
    flag: AtomicBool,
    lock: Mutex<()>,
    wake: Condvar,
}

/// Shared "stop between slices" flag.
#[derive(Debug, Clone, Default)]
pub struct CancelToken(Arc<Inner>);

impl CancelToken {
    /// A token that is not cancelled.
    pub fn new() -> Self {
        Self::default()
    }
    /// Asks the work to stop at the next slice boundary, and wakes any [`sleep`](Self::sleep).
    pub fn cancel(&self) {
        let _guard = self.0.lock.lock().unwrap_or_else(PoisonError::into_inner);
        self.0.flag.store(true, Ordering::Release);
        self.0.wake.notify_all();
    }
    /// Clears the request so the same token can drive the next job.
    pub fn reset(&self) {
        self.0.flag.store(false, Ordering::Release);
    }
    /// True once [`cancel`](Self::cancel) was called (and not reset).
    pub fn is_cancelled(&self) -> bool {
        self.0.flag.load(Ordering::Acquire)
    }
    /// Sleeps up to `duration`, returning early (with `true`) if cancelled.
    pub fn sleep(&self, duration: Duration) -> bool {
        let deadline = Instant::now() + duration;
        let mut guard = self.0.lock.lock().unwrap_or_else(PoisonError::into_inner);
        loop {
            if self.is_cancelled() {
                return true;
            }
            let now = Instant::now();
            if now >= deadline {
                return false;
            }
            guard = self.0.wake.wait_timeout(guard, deadline - now).unwrap_or_else(PoisonError::into_inner).0;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sleep_wakes_on_cancel_and_times_out_otherwise() {
        let token = CancelToken::new();
        let started = Instant::now();
        assert!(!token.sleep(Duration::from_millis(20)));
        assert!(started.elapsed() >= Duration::from_millis(20));

        let other = token.clone();
        let waker = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(30));
            other.cancel();
        });
        let started = Instant::now();
        assert!(token.sleep(Duration::from_secs(10)));
        assert!(started.elapsed() < Duration::from_secs(2));
        waker.join().expect("waker");
        token.reset();
        assert!(!token.is_cancelled());
    }
}
