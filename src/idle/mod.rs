//! How long since the owner last touched the keyboard or mouse, behind one trait with a
//! back-end per desktop: X11 (XScreenSaver), GNOME on Wayland (Mutter's IdleMonitor over
//! D-Bus), KDE and others (`org.freedesktop.ScreenSaver`), Windows (`GetLastInputInfo`)
//! and macOS (HID idle time). [`detect`] tries the ones that fit this session and keeps
//! the first that answers; when none does, the node must not guess (it then runs only
//! when the owner chooses "always").

#[cfg(target_os = "linux")]
pub mod dbus;
#[cfg(not(target_os = "linux"))]
mod os;
#[cfg(target_os = "linux")]
pub mod x11;

use std::time::Duration;

use thiserror::Error;

/// Why idle time cannot be read.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum IdleError {
    /// One back-end failed (no display, no such D-Bus service, ...).
    #[error("{backend}: {reason}")]
    Backend {
        /// Which back-end.
        backend: &'static str,
        /// Why it failed.
        reason: String,
    },
    /// No back-end works in this session.
    #[error(
        "cannot tell when you are away on this desktop ({}); Idlewatt will only compute when you choose \"always\"",
        tried.iter().map(|e| e.to_string()).collect::<Vec<_>>().join("; ")
    )]
    NoBackend {
        /// What was tried and why each failed.
        tried: Vec<IdleError>,
    },
}

impl IdleError {
    pub(crate) fn backend(backend: &'static str, reason: impl std::fmt::Display) -> Self {
        Self::Backend { backend, reason: reason.to_string() }
    }
}

/// A source of the owner's idle time.
pub trait IdleSource: Send {
    /// Short name for logs and the UI ("x11", "gnome-wayland", ...).
    fn name(&self) -> &'static str;
    /// Time since the owner's last keyboard or mouse input.
    fn idle_time(&mut self) -> Result<Duration, IdleError>;
    /// Whether the focused window is full-screen (a game, a video); `None` when this
    /// back-end cannot tell.
    fn fullscreen_active(&mut self) -> Option<bool> {
        None
    }
}

/// Picks the first back-end that answers in this session.
pub fn detect() -> Result<Box<dyn IdleSource>, IdleError> {
    let mut tried = Vec::new();
    for candidate in candidates() {
        match candidate() {
            Ok(mut source) => match source.idle_time() {
                Ok(_) => {
                    tracing::info!(backend = source.name(), "idle detection ready");
                    return Ok(source);
                }
                Err(e) => tried.push(e),
            },
            Err(e) => tried.push(e),
        }
    }
    Err(IdleError::NoBackend { tried })
}

type Candidate = fn() -> Result<Box<dyn IdleSource>, IdleError>;

/// Back-ends in the order that suits this session. On Wayland the X11 server (XWayland)
/// only sees input to X clients, so the compositor's own D-Bus monitors come first.
#[cfg(target_os = "linux")]
fn candidates() -> Vec<Candidate> {
    let wayland = std::env::var_os("WAYLAND_DISPLAY").is_some();
    let desktop = std::env::var("XDG_CURRENT_DESKTOP").unwrap_or_default().to_ascii_lowercase();
    let x11: Candidate = || Ok(Box::new(x11::X11Idle::connect(None)?));
    let mutter: Candidate = || Ok(Box::new(dbus::MutterIdle::connect()?));
    let screensaver: Candidate = || Ok(Box::new(dbus::ScreenSaverIdle::connect()?));
    if wayland && desktop.contains("gnome") {
        vec![mutter, screensaver, x11]
    } else if wayland {
        vec![screensaver, mutter, x11]
    } else {
        vec![x11, mutter, screensaver]
    }
}

#[cfg(not(target_os = "linux"))]
fn candidates() -> Vec<Candidate> {
    vec![|| Ok(Box::new(os::OsIdle))]
}
