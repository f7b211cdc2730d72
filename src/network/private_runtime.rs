//! The private current-thread runtime a blocking job source drives its HTTP client on.
//! A plain `tokio::runtime::Runtime` panics when it is dropped inside another runtime
//! ("Cannot drop a runtime in a context where blocking is not allowed"), and a job
//! source is dropped wherever its owner ends: on the worker thread normally, but inside
//! the node's async task when the node stops early (a damaged store, say). Dropping
//! this one shuts the runtime down in the background instead, which never blocks.

use std::ops::Deref;

/// A current-thread runtime that is safe to drop from any context.
pub(crate) struct PrivateRuntime(Option<tokio::runtime::Runtime>);

impl PrivateRuntime {
    /// A new current-thread runtime with I/O and timers.
    pub(crate) fn new() -> std::io::Result<Self> {
        Ok(Self(Some(tokio::runtime::Builder::new_current_thread().enable_all().build()?)))
    }
}

impl Deref for PrivateRuntime {
    type Target = tokio::runtime::Runtime;

    fn deref(&self) -> &Self::Target {
        // Only `Drop` takes the runtime out.
        self.0.as_ref().unwrap_or_else(|| unreachable!("the runtime lives until drop"))
    }
}

impl Drop for PrivateRuntime {
    fn drop(&mut self) {
        if let Some(rt) = self.0.take() {
            rt.shutdown_background();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn dropping_inside_another_runtime_does_not_panic() {
        let rt = PrivateRuntime::new().expect("runtime");
        drop(rt);
    }

    #[test]
    fn blocks_on_futures_outside_a_runtime() {
        let rt = PrivateRuntime::new().expect("runtime");
        assert_eq!(rt.block_on(async { 41 + 1 }), 42);
    }
}
