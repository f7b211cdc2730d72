//! A cancellation flag checked between GPU slices. Cheap to clone and to check (one
//! atomic load), so the slice loop can look at it before every dispatch and the node can
//! set it from the idle watcher the moment the owner comes back.

use std::sync::{
    Arc,
    atomic::{AtomicBool, Ordering},
};

/// Shared "stop between slices" flag.
#[derive(Debug, Clone, Default)]
pub struct CancelToken(Arc<AtomicBool>);

impl CancelToken {
    /// A token that is not cancelled.
    pub fn new() -> Self {
        Self::default()
    }
    /// Asks the work to stop at the next slice boundary.
    pub fn cancel(&self) {
        self.0.store(true, Ordering::Release);
    }
    /// Clears the request so the same token can drive the next job.
    pub fn reset(&self) {
        self.0.store(false, Ordering::Release);
    }
    /// True once [`cancel`](Self::cancel) was called (and not reset).
    pub fn is_cancelled(&self) -> bool {
        self.0.load(Ordering::Acquire)
    }
}
