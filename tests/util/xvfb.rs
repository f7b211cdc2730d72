//! A throw-away X server for tests: Xvfb on a display it picks itself (`-displayfd`),
//! started with `-noreset` so its idle timer survives clients disconnecting, and killed
//! by process id when dropped.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

/// A running Xvfb.
pub struct Xvfb {
    child: Child,
    /// ":N"
    pub display: String,
}

impl Xvfb {
    /// Starts Xvfb and waits until it accepts connections.
    pub fn start() -> Xvfb {
        let mut child = Command::new("Xvfb")
            .args(["-displayfd", "1", "-noreset", "-nolisten", "tcp", "-screen", "0", "1280x720x24"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("Xvfb runs (apt install xvfb; scripts/setup does it)");
        let mut line = String::new();
        let stdout = child.stdout.take().expect("Xvfb stdout");
        BufReader::new(stdout).read_line(&mut line).expect("Xvfb prints its display number");
        let display = format!(":{}", line.trim());
        assert!(line.trim().parse::<u32>().is_ok(), "Xvfb said {line:?}");
        Xvfb { child, display }
    }

    /// Moves the pointer by a few pixels, as an owner returning would (xdotool, XTest).
    pub fn touch_mouse(&self) {
        let status = Command::new("xdotool")
            .args(["mousemove_relative", "--", "5", "5"])
            .env("DISPLAY", &self.display)
            .status()
            .expect("xdotool runs (apt install xdotool)");
        assert!(status.success());
    }
}

impl Drop for Xvfb {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
