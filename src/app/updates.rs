//! Automatic updates, decided without Tauri (issue 16): when to check, which offered
//! version may be installed at all, and when to install it. The desktop shell
//! (`src-tauri/src/updates.rs`) fetches the manifest, downloads the installer and checks
//! its minisign signature with `tauri-plugin-updater`, and asks these rules at each step,
//! so the rules are tested here without a window, a server or a clock.
//!
//! - Checks run at start and then every [`CHECK_EVERY`]. A failed check (offline, server
//!   error) is silent and retried sooner, backing off from [`RETRY_FIRST`] to
//!   [`CHECK_EVERY`].
//! - Only a strictly newer version is ever offered: a manifest with the same or a lower
//!   version (a replayed old, possibly vulnerable release) is refused and reported.
//! - An update installs on the owner's click or at the next quit, never while the node
//!   computes unless the owner said yes to that.

use std::time::{Duration, Instant};

use serde::Serialize;

/// How often the app looks for a new version while it runs.
pub const CHECK_EVERY: Duration = Duration::from_secs(6 * 3600);
/// The first retry after a failed check; each further failure doubles it, up to
/// [`CHECK_EVERY`].
pub const RETRY_FIRST: Duration = Duration::from_secs(5 * 60);
/// Where the app looks for updates unless the owner's settings say otherwise. The shell
/// fills in `{{target}}` (`linux`, `windows`, `darwin`), `{{arch}}` and
/// `{{current_version}}`; the answer is the updater's JSON manifest (README, "Updates").
pub const DEFAULT_UPDATE_URL: &str = "https://updates.idlewatt.org/v1/{{target}}/{{arch}}/{{current_version}}";

/// When the next check is due.
#[derive(Debug, Clone)]
pub struct CheckSchedule {
    next: Instant,
    failures: u32,
}

impl CheckSchedule {
    /// A schedule whose first check is due at `now` (the app's start).
    pub fn new(now: Instant) -> Self {
        Self { next: now, failures: 0 }
    }

    /// How long from `now` until the next check (zero when it is due).
    pub fn until_due(&self, now: Instant) -> Duration {
        self.next.saturating_duration_since(now)
    }

    /// A check answered (an update or none): the next one in [`CHECK_EVERY`].
    pub fn checked(&mut self, now: Instant) {
        self.failures = 0;
        self.next = now + CHECK_EVERY;
    }

    /// A check failed (offline, server error): retried after the returned delay.
    pub fn failed(&mut self, now: Instant) -> Duration {
        self.failures = self.failures.saturating_add(1);
        let doublings = self.failures.saturating_sub(1).min(16);
        let delay = RETRY_FIRST.saturating_mul(1u32 << doublings).min(CHECK_EVERY);
        self.next = now + delay;
        delay
    }
}

/// Why an offered update is not installed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UpdateRefused {
    /// The manifest offers the running version or an older one (a downgrade).
    #[error("the update server offers version {offered}, which is not newer than the running {current}")]
    NotNewer {
        /// The running version.
        current: String,
        /// The manifest's version.
        offered: String,
    },
    /// A version that is not a semantic version.
    #[error("the update server offers {0:?}, which is not a version number")]
    BadVersion(String),
}

/// What the owner's click on "Install and restart" did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum InstallOutcome {
    /// Installing; the app restarts into the new version.
    Installing,
    /// The node is computing: the UI asks the owner, then calls again with `confirmed`.
    AskFirst,
}

/// Accepts `offered` only when it is strictly newer than `current` (semantic versioning;
/// a leading `v` is allowed, as release tags have one).
pub fn judge_offer(current: &str, offered: &str) -> Result<semver::Version, UpdateRefused> {
    let parse = |v: &str| semver::Version::parse(v.trim().trim_start_matches('v'));
    let cur = parse(current).map_err(|_| UpdateRefused::BadVersion(current.to_owned()))?;
    let off = parse(offered).map_err(|_| UpdateRefused::BadVersion(offered.to_owned()))?;
    if off > cur {
        Ok(off)
    } else {
        Err(UpdateRefused::NotNewer { current: cur.to_string(), offered: off.to_string() })
    }
}

/// What asks for a downloaded update to be installed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InstallTrigger {
    /// The owner clicked "Install and restart"; `confirmed` when they also said yes to
    /// stopping a running job.
    Click {
        /// The owner agreed to stop the node's current work.
        confirmed: bool,
    },
    /// The app is quitting (the node stops anyway).
    Quit,
}

/// Whether to install now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InstallDecision {
    /// Install now.
    Install,
    /// The node is computing: ask the owner first.
    AskFirst,
}

/// Installs on a click when the node is not computing (or the owner agreed), and always
/// at quit.
pub fn install_decision(trigger: InstallTrigger, computing: bool) -> InstallDecision {
    match trigger {
        InstallTrigger::Quit | InstallTrigger::Click { confirmed: true } => InstallDecision::Install,
        InstallTrigger::Click { confirmed: false } if computing => InstallDecision::AskFirst,
        InstallTrigger::Click { .. } => InstallDecision::Install,
    }
}

/// Where the updater stands, as the UI shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Default)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum UpdateStatus {
    /// No update known (or automatic checks are off).
    #[default]
    Idle,
    /// A newer version is being downloaded in the background.
    Downloading {
        /// The new version.
        version: String,
    },
    /// A newer version is downloaded and its signature checked: ready to install.
    Ready {
        /// The new version.
        version: String,
        /// Its release notes (may be empty).
        notes: String,
    },
    /// An update was refused (bad signature, tampered download, not newer) or failed to
    /// install; nothing was installed.
    Refused {
        /// The offered version, when known.
        version: String,
        /// Why, in words.
        reason: String,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_strictly_newer_version_is_accepted() {
        assert_eq!(judge_offer("0.1.0", "0.1.1").map(|v| v.to_string()), Ok("0.1.1".into()));
        assert_eq!(judge_offer("0.1.0", "v1.0.0").map(|v| v.to_string()), Ok("1.0.0".into()));
        assert_eq!(
            judge_offer("0.2.0", "0.1.9"),
            Err(UpdateRefused::NotNewer { current: "0.2.0".into(), offered: "0.1.9".into() })
        );
        assert!(matches!(judge_offer("0.2.0", "0.2.0"), Err(UpdateRefused::NotNewer { .. })));
        // A pre-release of the running version is older than it.
        assert!(matches!(judge_offer("0.2.0", "0.2.0-rc.1"), Err(UpdateRefused::NotNewer { .. })));
        assert_eq!(judge_offer("0.2.0", "latest"), Err(UpdateRefused::BadVersion("latest".into())));
    }

    #[test]
    fn checks_are_due_at_start_then_every_six_hours_and_failures_back_off() {
        let t0 = Instant::now();
        let mut s = CheckSchedule::new(t0);
        assert_eq!(s.until_due(t0), Duration::ZERO);
        s.checked(t0);
        assert_eq!(s.until_due(t0), CHECK_EVERY);
        let delays: Vec<_> = (0..8).map(|_| s.failed(t0)).collect();
        assert_eq!(delays[0], RETRY_FIRST);
        assert_eq!(delays[1], RETRY_FIRST * 2);
        assert_eq!(delays[2], RETRY_FIRST * 4);
        assert!(delays.windows(2).all(|w| w[0] <= w[1]));
        assert_eq!(*delays.last().unwrap(), CHECK_EVERY);
        // Many failures never overflow and never wait longer than a regular check.
        for _ in 0..100 {
            assert!(s.failed(t0) <= CHECK_EVERY);
        }
        s.checked(t0);
        assert_eq!(s.failed(t0), RETRY_FIRST);
    }

    #[test]
    fn never_installs_while_computing_without_the_owners_yes() {
        use InstallDecision::*;
        assert_eq!(install_decision(InstallTrigger::Click { confirmed: false }, true), AskFirst);
        assert_eq!(install_decision(InstallTrigger::Click { confirmed: true }, true), Install);
        assert_eq!(install_decision(InstallTrigger::Click { confirmed: false }, false), Install);
        assert_eq!(install_decision(InstallTrigger::Quit, true), Install);
    }
}
