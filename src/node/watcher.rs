//! The idle watcher: a thread that owns the idle source and reads it once a second while
//! the node waits (cheap: the node must cost nothing while the owner works) and every
//! few milliseconds while it computes, cancelling the GPU work itself the moment the
//! owner comes back — no round trip through the control loop.

use std::sync::{
    Arc, Mutex, PoisonError,
    atomic::{AtomicBool, AtomicU64, Ordering},
};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::compute::CancelToken;
use crate::idle::IdleSource;

const UNKNOWN: u64 = u64::MAX;

#[derive(Debug)]
struct Shared {
    idle_ms: AtomicU64,
    fullscreen: AtomicBool,
    /// Set while the GPU works and the owner's return must stop it.
    guarding: AtomicBool,
    stop: AtomicBool,
    /// When the owner's return was detected, and the input's time as the source dates it.
    owner_back: Mutex<Option<Instant>>,
}

/// Handle to the watcher thread.
#[derive(Debug)]
pub(crate) struct Watcher {
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
}

impl Watcher {
    /// Starts watching `source`. While guarding, idle time below `idle_after` cancels `cancel`.
    pub(crate) fn spawn(
        mut source: Box<dyn IdleSource>,
        idle_after: Duration,
        waiting_poll: Duration,
        computing_poll: Duration,
        cancel: CancelToken,
    ) -> Self {
        let shared = Arc::new(Shared {
            idle_ms: AtomicU64::new(UNKNOWN),
            fullscreen: AtomicBool::new(false),
            guarding: AtomicBool::new(false),
            stop: AtomicBool::new(false),
            owner_back: Mutex::new(None),
        });
        let s = Arc::clone(&shared);
        let thread = std::thread::Builder::new()
            .name("idlewatt-idle".into())
            .spawn(move || {
                let mut last_fullscreen_check = None::<Instant>;
                while !s.stop.load(Ordering::Acquire) {
                    let guarding = s.guarding.load(Ordering::Acquire);
                    match source.idle_time() {
                        Ok(idle) => {
                            s.idle_ms.store(u64::try_from(idle.as_millis()).unwrap_or(UNKNOWN - 1), Ordering::Release);
                            if guarding && idle < idle_after {
                                cancel.cancel();
                                s.guarding.store(false, Ordering::Release);
                                let input_at = Instant::now().checked_sub(idle).unwrap_or_else(Instant::now);
                                *s.owner_back.lock().unwrap_or_else(PoisonError::into_inner) = Some(input_at);
                                tracing::debug!(?idle, "owner is back: stopping the GPU");
                            }
                        }
                        Err(e) => {
                            tracing::debug!(%e, "idle time unavailable");
                            s.idle_ms.store(UNKNOWN, Ordering::Release);
                        }
                    }
                    if last_fullscreen_check.is_none_or(|t| t.elapsed() >= waiting_poll) {
                        last_fullscreen_check = Some(Instant::now());
                        s.fullscreen.store(source.fullscreen_active().unwrap_or(false), Ordering::Release);
                    }
                    std::thread::park_timeout(if guarding { computing_poll } else { waiting_poll });
                }
            })
            .ok();
        Self { shared, thread }
    }

    /// The last idle time read, if the source answered.
    pub(crate) fn idle(&self) -> Option<Duration> {
        let ms = self.shared.idle_ms.load(Ordering::Acquire);
        (ms != UNKNOWN).then(|| Duration::from_millis(ms))
    }

    /// Whether a full-screen window had focus at the last check.
    pub(crate) fn fullscreen(&self) -> bool {
        self.shared.fullscreen.load(Ordering::Acquire)
    }

    /// Starts or stops guarding the GPU work (and switches to fast polling).
    pub(crate) fn guard(&self, on: bool) {
        self.shared.guarding.store(on, Ordering::Release);
        if on {
            *self.shared.owner_back.lock().unwrap_or_else(PoisonError::into_inner) = None;
        }
        if let Some(t) = &self.thread {
            t.thread().unpark();
        }
    }

    /// When the owner's input happened, if the last stop was the owner's return.
    pub(crate) fn owner_back_at(&self) -> Option<Instant> {
        *self.shared.owner_back.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Drop for Watcher {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::Release);
        if let Some(t) = self.thread.take() {
            t.thread().unpark();
            let _ = t.join();
        }
    }
}
