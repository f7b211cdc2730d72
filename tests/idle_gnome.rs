//! The GNOME idle back-end against a real Mutter: `mutter --headless` (a real GNOME
//! compositor with a virtual monitor, no display needed) on a private session bus. Idle
//! time grows while nobody touches anything, and drops when input arrives through
//! Mutter's own RemoteDesktop API (the way GNOME's remote-desktop feeds input), which is
//! exactly what Wayland clients cannot fake. Needs the Debian package `mutter`
//! (`scripts/setup` installs it).
#![cfg(target_os = "linux")]

mod util;

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use idlewatt::idle::IdleSource;
use idlewatt::idle::dbus::{MutterIdle, ScreenSaverIdle};
use util::bus::SessionBus;
use zbus::zvariant::OwnedObjectPath;

/// A headless Mutter on its own bus, stopped by PID on drop.
struct Mutter {
    child: Child,
    bus: SessionBus,
    _dir: tempfile::TempDir,
}

impl Mutter {
    fn start() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let runtime = dir.path().join("run");
        std::fs::create_dir_all(&runtime).expect("runtime dir");
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&runtime, std::fs::Permissions::from_mode(0o700)).expect("chmod 700");
        }
        let bus = SessionBus::start(dir.path());
        let child = Command::new("mutter")
            .args(["--headless", "--wayland", "--no-x11", "--virtual-monitor", "640x480"])
            .env("DBUS_SESSION_BUS_ADDRESS", bus.address())
            .env("XDG_RUNTIME_DIR", &runtime)
            .env("HOME", dir.path())
            .env_remove("DISPLAY")
            .env_remove("WAYLAND_DISPLAY")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("mutter runs (apt install mutter; scripts/setup installs it)");
        let mutter = Self { child, bus, _dir: dir };
        let deadline = Instant::now() + Duration::from_secs(30);
        while !(mutter.bus.has_owner("org.gnome.Mutter.IdleMonitor")
            && mutter.bus.has_owner("org.gnome.Mutter.RemoteDesktop"))
        {
            assert!(Instant::now() < deadline, "mutter did not serve its idle monitor within 30 s");
            std::thread::sleep(Duration::from_millis(100));
        }
        mutter
    }
}

impl Drop for Mutter {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A RemoteDesktop session: input that Mutter treats as the owner's. It lives as long
/// as the connection that created it.
struct RemoteInput {
    conn: zbus::blocking::Connection,
    session: OwnedObjectPath,
}

impl RemoteInput {
    fn open(bus: &str) -> Self {
        let conn = zbus::blocking::connection::Builder::address(bus).and_then(|b| b.build()).expect("connect");
        let reply = conn
            .call_method(
                Some("org.gnome.Mutter.RemoteDesktop"),
                "/org/gnome/Mutter/RemoteDesktop",
                Some("org.gnome.Mutter.RemoteDesktop"),
                "CreateSession",
                &(),
            )
            .expect("CreateSession");
        let session: OwnedObjectPath = reply.body().deserialize().expect("session path");
        conn.call_method(
            Some("org.gnome.Mutter.RemoteDesktop"),
            session.as_str(),
            Some("org.gnome.Mutter.RemoteDesktop.Session"),
            "Start",
            &(),
        )
        .expect("Start");
        Self { conn, session }
    }

    fn move_pointer(&self) {
        self.conn
            .call_method(
                Some("org.gnome.Mutter.RemoteDesktop"),
                self.session.as_str(),
                Some("org.gnome.Mutter.RemoteDesktop.Session"),
                "NotifyPointerMotionRelative",
                &(5.0_f64, 5.0_f64),
            )
            .expect("NotifyPointerMotionRelative");
    }
}

#[test]
fn mutter_idle_time_grows_then_resets_on_input() {
    util::init_tracing();
    let mutter = Mutter::start();
    let mut idle = MutterIdle::connect_to(mutter.bus.address()).expect("connect to the bus");
    assert_eq!(idle.name(), "gnome-mutter");
    let input = RemoteInput::open(mutter.bus.address());
    input.move_pointer();
    std::thread::sleep(Duration::from_millis(100));
    let fresh = idle.idle_time().expect("idle time");
    std::thread::sleep(Duration::from_millis(800));
    let later = idle.idle_time().expect("idle time");
    assert!(later >= fresh + Duration::from_millis(600), "idle went {fresh:?} -> {later:?}");

    input.move_pointer();
    // Mutter handles the input on its main loop: give it a moment.
    let deadline = Instant::now() + Duration::from_secs(2);
    loop {
        let now = idle.idle_time().expect("idle time");
        if now < Duration::from_millis(300) {
            break;
        }
        assert!(Instant::now() < deadline, "input did not reset Mutter's idle time: {now:?} (was {later:?})");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn a_desktop_without_the_service_is_a_clear_error() {
    // Mutter alone (no gnome-shell, no KDE) does not serve org.freedesktop.ScreenSaver.
    let mutter = Mutter::start();
    let mut screensaver = ScreenSaverIdle::connect_to(mutter.bus.address()).expect("connect to the bus");
    let err = screensaver.idle_time().expect_err("nobody serves org.freedesktop.ScreenSaver here");
    let msg = err.to_string();
    assert!(msg.starts_with("freedesktop-screensaver:"), "{msg}");
    assert!(msg.contains("org.freedesktop.ScreenSaver"), "the error names the missing service: {msg}");

    let err = MutterIdle::connect_to("unix:path=/nonexistent/bus").expect_err("no bus there");
    assert!(err.to_string().contains("cannot connect to the D-Bus bus"), "{err}");
}
