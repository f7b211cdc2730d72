//! A real, private Secret Service for tests: a D-Bus session daemon and an unlocked
//! gnome-keyring on it, both started here and stopped (by PID) when the handle drops.
//! Tests point `DBUS_SESSION_BUS_ADDRESS` at [`KeyringSession::bus_address`] before the
//! first keyring call (the `keyring` crate connects once per process), and pass
//! [`KeyringSession::envs`] to subprocesses. Needs the Debian packages `dbus` and
//! `gnome-keyring` (`scripts/setup` installs them).

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A private D-Bus session with an unlocked gnome-keyring (login keyring = default).
pub struct KeyringSession {
    dbus: Child,
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

        // A bus of our own with no service directories, so that nothing (such as the
        // system's gnome-keyring with the real home folder) can be auto-activated on it.
        let config = home.path().join("session.conf");
        std::fs::write(&config, bus_config(home.path())).expect("bus config");
        let mut dbus = Command::new("dbus-daemon")
            .arg(format!("--config-file={}", config.display()))
            .args(["--nofork", "--nopidfile", "--print-address=1"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            // It warns that it cannot raise its fd limit when not root-capable: noise.
            .stderr(Stdio::null())
            .spawn()
            .expect("dbus-daemon runs (apt install dbus; scripts/setup installs it)");
        let mut line = String::new();
        let stdout = dbus.stdout.take().expect("dbus-daemon stdout");
        BufReader::new(stdout).read_line(&mut line).expect("dbus-daemon prints its address");
        let bus_address = line.trim().to_string();
        assert!(!bus_address.is_empty(), "dbus-daemon printed no address");

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
        let session = Self { dbus, keyring, bus_address, home };
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
        loop {
            let out = Command::new("dbus-send")
                .args([
                    "--session",
                    "--print-reply",
                    "--dest=org.freedesktop.DBus",
                    "/org/freedesktop/DBus",
                    "org.freedesktop.DBus.NameHasOwner",
                    "string:org.freedesktop.secrets",
                ])
                .env("DBUS_SESSION_BUS_ADDRESS", &self.bus_address)
                .output()
                .expect("dbus-send runs");
            if String::from_utf8_lossy(&out.stdout).contains("boolean true") {
                break;
            }
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
        for child in [&mut self.keyring, &mut self.dbus] {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// A session bus configuration listening in `dir`, allowing everything, activating nothing.
fn bus_config(dir: &Path) -> String {
    format!(
        r#"<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:dir={}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
"#,
        dir.display()
    )
}

#[cfg(unix)]
fn restrict(dir: &Path) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700)).expect("chmod 700");
}

#[cfg(not(unix))]
fn restrict(_dir: &Path) {}
