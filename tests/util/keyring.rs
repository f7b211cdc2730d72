//! A real, private Secret Service for tests: a D-Bus session daemon and an unlocked
//! gnome-keyring on it, both started here and stopped (by PID) when the handle drops.
//! Tests point `DBUS_SESSION_BUS_ADDRESS` at [`KeyringSession::bus_address`] before the
//! first keyring call (the `keyring` crate connects once per process), and pass
//! [`KeyringSession::envs`] to subprocesses. Needs the Debian packages `dbus` and
//! `gnome-keyring` (`scripts/setup` installs them).

use std::io::Write;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::bus::SessionBus;

/// A private D-Bus session with an unlocked gnome-keyring (login keyring = default).
pub struct KeyringSession {
    bus: SessionBus,
    keyring: Child,
    bus_address: String,
    home: tempfile::TempDir,
}

impl KeyringSession {
    /// Starts `dbus-daemon --session` and `gnome-keyring-daemon --unlock` on it, and waits
    /// until `org.freedesktop.secrets` answers. Panics with a setup hint if they are missing.
    pub fn start() -> Self {
        let home = tempfile::tempdir().expect("temp home for the keyring");
        let runtime = home.path().join("run");
        std::fs::create_dir_all(&runtime).expect("runtime dir");
        restrict(&runtime);

        // A bus of our own that activates nothing, so that no system gnome-keyring with
        // the real home folder can be started on it.
        let bus = SessionBus::start(home.path());
        let bus_address = bus.address().to_owned();

        let mut keyring = Command::new("gnome-keyring-daemon")
            .args(["--unlock", "--components=secrets", "--foreground"])
            .env("DBUS_SESSION_BUS_ADDRESS", &bus_address)
            .env("HOME", home.path())
            .env("XDG_DATA_HOME", home.path().join("data"))
            .env("XDG_RUNTIME_DIR", &runtime)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("gnome-keyring-daemon runs (apt install gnome-keyring; scripts/setup installs it)");
        {
            // The login keyring's password, with no newline, then EOF: --unlock reads it
            // before serving, so the keyring is unlocked before any test touches it.
            let mut stdin = keyring.stdin.take().expect("gnome-keyring stdin");
            stdin.write_all(b"idlewatt-test").expect("password to gnome-keyring");
        }
        let session = Self { bus, keyring, bus_address, home };
        session.wait_for_secret_service();
        session
    }

    /// The session bus address (`unix:path=…`).
    pub fn bus_address(&self) -> &str {
        &self.bus_address
    }

    /// The environment a subprocess needs to use this keyring.
    pub fn envs(&self) -> Vec<(&'static str, String)> {
        vec![("DBUS_SESSION_BUS_ADDRESS", self.bus_address.clone())]
    }

    /// The home folder gnome-keyring keeps its (encrypted) keyring files in.
    pub fn home(&self) -> &Path {
        self.home.path()
    }

    /// Locks the login keyring (the default collection), as a screen lock or a timeout
    /// would. With no prompter in a test session, it cannot be unlocked again.
    pub fn lock(&self) {
        let out = Command::new("dbus-send")
            .args([
                "--session",
                "--print-reply",
                "--dest=org.freedesktop.secrets",
                "/org/freedesktop/secrets",
                "org.freedesktop.Secret.Service.Lock",
                "array:objpath:/org/freedesktop/secrets/collection/login",
            ])
            .env("DBUS_SESSION_BUS_ADDRESS", &self.bus_address)
            .output()
            .expect("dbus-send runs");
        assert!(out.status.success(), "locking failed: {}", String::from_utf8_lossy(&out.stderr));
    }

    /// Waits until the Secret Service answers and its `default` alias points at the
    /// (unlocked) login keyring: gnome-keyring takes the bus name before it has created
    /// the login keyring from the password, and a call in between would ask for a prompt.
    fn wait_for_secret_service(&self) {
        let deadline = Instant::now() + Duration::from_secs(20);
        while !self.bus.has_owner("org.freedesktop.secrets") {
            assert!(Instant::now() < deadline, "gnome-keyring did not register org.freedesktop.secrets within 20 s");
            std::thread::sleep(Duration::from_millis(50));
        }
        loop {
            let out = Command::new("dbus-send")
                .args([
                    "--session",
                    "--print-reply",
                    "--dest=org.freedesktop.secrets",
                    "/org/freedesktop/secrets",
                    "org.freedesktop.Secret.Service.ReadAlias",
                    "string:default",
                ])
                .env("DBUS_SESSION_BUS_ADDRESS", &self.bus_address)
                .output()
                .expect("dbus-send runs");
            if String::from_utf8_lossy(&out.stdout).contains("/org/freedesktop/secrets/collection/login") {
                return;
            }
            assert!(Instant::now() < deadline, "gnome-keyring's login keyring was not ready within 20 s");
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for KeyringSession {
    fn drop(&mut self) {
        // The keyring first, then the bus (`SessionBus` stops itself when dropped).
        let _ = self.keyring.kill();
        let _ = self.keyring.wait();
    }
}

#[cfg(unix)]
fn restrict(dir: &Path) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700)).expect("chmod 700");
}

#[cfg(not(unix))]
fn restrict(_dir: &Path) {}
