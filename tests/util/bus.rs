//! A private D-Bus session bus for tests: `dbus-daemon` with a configuration that
//! listens in a temp folder, allows everything and activates nothing (so no system
//! service with the real home folder can be started on it). Stopped by PID on drop.
//! Needs the Debian package `dbus` (`scripts/setup` installs it).

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

/// A running private session bus.
pub struct SessionBus {
    daemon: Child,
    address: String,
}

impl SessionBus {
    /// Starts a bus whose socket lives in `dir` (which must exist).
    pub fn start(dir: &Path) -> Self {
        let config = dir.join("session.conf");
        std::fs::write(&config, bus_config(dir)).expect("bus config");
        let mut daemon = Command::new("dbus-daemon")
            .arg(format!("--config-file={}", config.display()))
            .args(["--nofork", "--nopidfile", "--print-address=1"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            // It warns that it cannot raise its fd limit when not root-capable: noise.
            .stderr(Stdio::null())
            .spawn()
            .expect("dbus-daemon runs (apt install dbus; scripts/setup installs it)");
        let mut line = String::new();
        let stdout = daemon.stdout.take().expect("dbus-daemon stdout");
        BufReader::new(stdout).read_line(&mut line).expect("dbus-daemon prints its address");
        let address = line.trim().to_string();
        assert!(!address.is_empty(), "dbus-daemon printed no address");
        Self { daemon, address }
    }

    /// The bus address (`unix:path=…`), for `DBUS_SESSION_BUS_ADDRESS`.
    pub fn address(&self) -> &str {
        &self.address
    }

    /// Whether `name` has an owner on this bus.
    pub fn has_owner(&self, name: &str) -> bool {
        let out = Command::new("dbus-send")
            .args([
                "--session",
                "--print-reply",
                "--dest=org.freedesktop.DBus",
                "/org/freedesktop/DBus",
                "org.freedesktop.DBus.NameHasOwner",
                &format!("string:{name}"),
            ])
            .env("DBUS_SESSION_BUS_ADDRESS", &self.address)
            .output()
            .expect("dbus-send runs");
        String::from_utf8_lossy(&out.stdout).contains("boolean true")
    }
}

impl Drop for SessionBus {
    fn drop(&mut self) {
        let _ = self.daemon.kill();
        let _ = self.daemon.wait();
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
