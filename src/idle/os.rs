//! Windows (`GetLastInputInfo`) and macOS (IOKit `HIDIdleTime`) through the
//! `user-idle-time` crate, which implements exactly those calls.

use std::time::Duration;

use super::{IdleError, IdleSource};

/// The OS's own idle counter.
#[derive(Debug)]
pub struct OsIdle;

impl IdleSource for OsIdle {
    fn name(&self) -> &'static str {
        if cfg!(windows) { "windows" } else { "macos" }
    }

    fn idle_time(&mut self) -> Result<Duration, IdleError> {
        user_idle_time::get_idle_time().map_err(|e| IdleError::backend(self.name(), e))
    }
}
