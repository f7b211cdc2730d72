//! Wayland desktops hide input from other clients, so idle time must come from the
//! compositor over the session bus: GNOME's Mutter `IdleMonitor`, or the freedesktop
//! `ScreenSaver` interface that KDE (and some others) implement.

use std::time::Duration;

use zbus::blocking::Connection;

use super::{IdleError, IdleSource};

fn session(backend: &'static str) -> Result<Connection, IdleError> {
    Connection::session().map_err(|e| IdleError::backend(backend, format!("no D-Bus session bus: {e}")))
}

/// A connection to the bus at `address` (`unix:path=…`): tests and embedders that run
/// a session bus of their own.
fn bus_at(backend: &'static str, address: &str) -> Result<Connection, IdleError> {
    zbus::blocking::connection::Builder::address(address)
        .and_then(zbus::blocking::connection::Builder::build)
        .map_err(|e| IdleError::backend(backend, format!("cannot connect to the D-Bus bus {address}: {e}")))
}

/// GNOME (Wayland or X11): `org.gnome.Mutter.IdleMonitor.GetIdletime`, milliseconds.
#[derive(Debug)]
pub struct MutterIdle(Connection);

impl MutterIdle {
    const NAME: &'static str = "gnome-mutter";

    /// Connects to the session bus.
    pub fn connect() -> Result<Self, IdleError> {
        Ok(Self(session(Self::NAME)?))
    }

    /// Connects to the bus at `address` instead of the session bus.
    pub fn connect_to(address: &str) -> Result<Self, IdleError> {
        Ok(Self(bus_at(Self::NAME, address)?))
    }
}

impl IdleSource for MutterIdle {
    fn name(&self) -> &'static str {
        Self::NAME
    }

    fn idle_time(&mut self) -> Result<Duration, IdleError> {
        let reply = self
            .0
            .call_method(
                Some("org.gnome.Mutter.IdleMonitor"),
                "/org/gnome/Mutter/IdleMonitor/Core",
                Some("org.gnome.Mutter.IdleMonitor"),
                "GetIdletime",
                &(),
            )
            .map_err(|e| IdleError::backend(Self::NAME, e))?;
        let ms: u64 = reply.body().deserialize().map_err(|e| IdleError::backend(Self::NAME, e))?;
        Ok(Duration::from_millis(ms))
    }
}

/// KDE and others: `org.freedesktop.ScreenSaver.GetSessionIdleTime`. KDE answers in
/// milliseconds (KIdleTime), which is what we read.
#[derive(Debug)]
pub struct ScreenSaverIdle(Connection);

impl ScreenSaverIdle {
    const NAME: &'static str = "freedesktop-screensaver";

    /// Connects to the session bus.
    pub fn connect() -> Result<Self, IdleError> {
        Ok(Self(session(Self::NAME)?))
    }

    /// Connects to the bus at `address` instead of the session bus.
    pub fn connect_to(address: &str) -> Result<Self, IdleError> {
        Ok(Self(bus_at(Self::NAME, address)?))
    }
}

impl IdleSource for ScreenSaverIdle {
    fn name(&self) -> &'static str {
        Self::NAME
    }

    fn idle_time(&mut self) -> Result<Duration, IdleError> {
        let reply = self
            .0
            .call_method(
                Some("org.freedesktop.ScreenSaver"),
                "/org/freedesktop/ScreenSaver",
                Some("org.freedesktop.ScreenSaver"),
                "GetSessionIdleTime",
                &(),
            )
            .map_err(|e| IdleError::backend(Self::NAME, e))?;
        let ms: u32 = reply.body().deserialize().map_err(|e| IdleError::backend(Self::NAME, e))?;
        Ok(Duration::from_millis(u64::from(ms)))
    }
}
