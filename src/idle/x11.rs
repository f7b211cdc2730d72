//! X11: idle time from the XScreenSaver extension, and whether the focused window is
//! full-screen (a game or a video) from the EWMH properties the window manager sets.
//! One connection is kept open: a query is a ~50 µs round trip, cheap enough to ask
//! every few milliseconds while computing.

use std::time::Duration;

use x11rb::{
    connection::{Connection, RequestConnection},
    protocol::{
        screensaver::ConnectionExt as _,
        xproto::{AtomEnum, ConnectionExt as _, Window},
    },
    rust_connection::RustConnection,
};

use super::{IdleError, IdleSource};

const NAME: &str = "x11";

/// A connection to an X server.
#[derive(Debug)]
pub struct X11Idle {
    conn: RustConnection,
    root: Window,
    net_active_window: u32,
    net_wm_state: u32,
    net_wm_state_fullscreen: u32,
}

fn err(e: impl std::fmt::Display) -> IdleError {
    IdleError::backend(NAME, e)
}

impl X11Idle {
    /// Connects to `display` (e.g. ":0"), or to `$DISPLAY` when `None`.
    pub fn connect(display: Option<&str>) -> Result<Self, IdleError> {
        let (conn, screen) = x11rb::connect(display).map_err(|e| err(format!("cannot open the X display: {e}")))?;
        let root = conn.setup().roots.get(screen).map(|s| s.root).ok_or_else(|| err("X server has no screens"))?;
        conn.extension_information(x11rb::protocol::screensaver::X11_EXTENSION_NAME)
            .map_err(err)?
            .ok_or_else(|| err("the X server lacks the MIT-SCREEN-SAVER extension"))?;
        let atom = |name: &[u8]| -> Result<u32, IdleError> {
            Ok(conn.intern_atom(false, name).map_err(err)?.reply().map_err(err)?.atom)
        };
        Ok(Self {
            net_active_window: atom(b"_NET_ACTIVE_WINDOW")?,
            net_wm_state: atom(b"_NET_WM_STATE")?,
            net_wm_state_fullscreen: atom(b"_NET_WM_STATE_FULLSCREEN")?,
            conn,
            root,
        })
    }

    /// True when the window that has focus is full-screen. `false` when no window
    /// manager publishes an active window.
    pub fn is_fullscreen(&self) -> Result<bool, IdleError> {
        let active = self
            .conn
            .get_property(false, self.root, self.net_active_window, AtomEnum::WINDOW, 0, 1)
            .map_err(err)?
            .reply()
            .map_err(err)?;
        let Some(window) = active.value32().and_then(|mut v| v.next()).filter(|&w| w != 0) else {
            return Ok(false);
        };
        let Ok(cookie) = self.conn.get_property(false, window, self.net_wm_state, AtomEnum::ATOM, 0, 64) else {
            return Ok(false);
        };
        // The window may have closed between the two requests: that is "not full-screen".
        let Ok(state) = cookie.reply() else { return Ok(false) };
        Ok(state.value32().is_some_and(|mut atoms| atoms.any(|a| a == self.net_wm_state_fullscreen)))
    }
}

impl IdleSource for X11Idle {
    fn name(&self) -> &'static str {
        NAME
    }

    fn idle_time(&mut self) -> Result<Duration, IdleError> {
        let info = self.conn.screensaver_query_info(self.root).map_err(err)?.reply().map_err(err)?;
        Ok(Duration::from_millis(u64::from(info.ms_since_user_input)))
    }

    fn fullscreen_active(&mut self) -> Option<bool> {
        self.is_fullscreen().ok()
    }
}
