//! When to tell the owner something with a desktop notification, decided from the node's
//! events: pure rules with the clock passed in, so they are tested without waiting an
//! hour. The shell only displays what comes out.
//!
//! - heat throttling: at most once an hour;
//! - earning stopped: the owner is away and the node wants work, but no job finished
//!   for `stall_after` (once, until a job finishes again);
//! - GPU lost: once per loss (until the node computes again);
//! - keyring locked and withdrawals: made by the app where it learns of them.

use std::time::{Duration, Instant};

use serde::Serialize;

use super::dto::{WithdrawalStatus, WithdrawalView};
use crate::node::{EventKind, NodeState, Reason};

/// At most one heat notification per this.
pub const THROTTLE_EVERY: Duration = Duration::from_secs(3600);
/// Default time without a finished job (while away and wanting work) before "earning stopped".
pub const STALL_AFTER: Duration = Duration::from_secs(30 * 60);

/// What a notification is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum NoticeKind {
    /// A withdrawal is in a block.
    WithdrawalConfirmed,
    /// A withdrawal failed.
    WithdrawalFailed,
    /// Computing slower to stay under the temperature limit.
    Throttled,
    /// No work arrives although the owner is away.
    EarningStopped,
    /// The keyring is locked or missing: the node cannot sign.
    Keyring,
    /// The GPU cannot be used.
    GpuLost,
}

/// A notification to show.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Notice {
    /// What about.
    pub kind: NoticeKind,
    /// Short title.
    pub title: String,
    /// One or two sentences with what to do.
    pub body: String,
}

impl Notice {
    fn new(kind: NoticeKind, title: &str, body: String) -> Self {
        Self { kind, title: title.to_owned(), body }
    }

    /// The keyring cannot be used (`message` says why and what to do).
    pub fn keyring(message: &str) -> Self {
        Self::new(NoticeKind::Keyring, "Idlewatt cannot open your wallet", message.to_owned())
    }

    /// A withdrawal reached a final status; `None` while it is on its way.
    pub fn withdrawal(w: &WithdrawalView) -> Option<Self> {
        match w.status {
            WithdrawalStatus::Confirmed => Some(Self::new(
                NoticeKind::WithdrawalConfirmed,
                "Withdrawal confirmed",
                format!("{} were sent to {}.", display_amount(&w.amount), w.to),
            )),
            WithdrawalStatus::Failed => Some(Self::new(
                NoticeKind::WithdrawalFailed,
                "Withdrawal failed",
                format!(
                    "{} could not be sent ({}). The tokens are still yours: try again from the Wallet page.",
                    display_amount(&w.amount),
                    w.reason.as_deref().unwrap_or("no reason given")
                ),
            )),
            WithdrawalStatus::Queued | WithdrawalStatus::Submitted => None,
        }
    }
}

/// A token amount as a person reads it in a notification: "0.002147 IDW", not the
/// exact 18-decimal string (the Wallet page shows that). At most six decimals, trailing
/// zeros dropped, never rounded to nothing ("< 0.000001 IDW").
fn display_amount(amount: &str) -> String {
    let (whole, frac) = amount.split_once('.').unwrap_or((amount, ""));
    let kept = frac.get(..frac.len().min(6)).unwrap_or("").trim_end_matches('0');
    let tiny = kept.is_empty() && whole.trim_start_matches('0').is_empty() && !frac.trim_matches('0').is_empty();
    match (tiny, kept.is_empty()) {
        (true, _) => format!("< 0.000001 {}", super::TOKEN_SYMBOL),
        (false, true) => format!("{whole} {}", super::TOKEN_SYMBOL),
        (false, false) => format!("{whole}.{kept} {}", super::TOKEN_SYMBOL),
    }
}

/// The rules' memory.
#[derive(Debug)]
pub struct NoticeRules {
    stall_after: Duration,
    last_throttle: Option<Instant>,
    wanting_since: Option<Instant>,
    stall_told: bool,
    gpu_told: bool,
}

impl NoticeRules {
    /// Rules that call earning stopped after `stall_after` without a finished job.
    pub fn new(stall_after: Duration) -> Self {
        Self { stall_after, last_throttle: None, wanting_since: None, stall_told: false, gpu_told: false }
    }

    /// Feeds one event seen at `now`; returns the notification it calls for, if any.
    pub fn on_event(&mut self, event: &EventKind, now: Instant) -> Option<Notice> {
        match event {
            EventKind::JobDone { .. } => {
                self.wanting_since = Some(now);
                self.stall_told = false;
                None
            }
            EventKind::State { state, reason } => self.on_state(*state, reason, now),
            EventKind::Sample(_) => {
                let since = self.wanting_since?;
                if self.stall_told || now.saturating_duration_since(since) < self.stall_after {
                    return None;
                }
                self.stall_told = true;
                let minutes = self.stall_after.as_secs() / 60;
                Some(Notice::new(
                    NoticeKind::EarningStopped,
                    "Idlewatt is not earning",
                    format!(
                        "Your computer is idle but no work has been received for {minutes} minutes. Check your internet connection and the network in Settings."
                    ),
                ))
            }
            EventKind::Progress { .. } | EventKind::DownloadProgress { .. } | EventKind::Yielded { .. } => None,
        }
    }

    fn on_state(&mut self, state: NodeState, reason: &Reason, now: Instant) -> Option<Notice> {
        match state {
            NodeState::Computing | NodeState::Throttled | NodeState::Offline => {
                self.wanting_since.get_or_insert(now);
            }
            NodeState::Waiting | NodeState::Paused => {
                self.wanting_since = None;
                self.stall_told = false;
            }
            NodeState::Yielding | NodeState::Error => {}
        }
        if state == NodeState::Computing {
            self.gpu_told = false;
        }
        match reason {
            Reason::ThermalLimit { max_celsius } if state == NodeState::Throttled => {
                if self.last_throttle.is_some_and(|t| now.saturating_duration_since(t) < THROTTLE_EVERY) {
                    return None;
                }
                self.last_throttle = Some(now);
                Some(Notice::new(
                    NoticeKind::Throttled,
                    "Idlewatt is slowing down",
                    format!(
                        "Your graphics card reached the {max_celsius:.0} °C limit, so Idlewatt computes more slowly to cool it. Nothing needs doing; check the computer's airflow if this happens often."
                    ),
                ))
            }
            Reason::GpuUnavailable { message } if !self.gpu_told => {
                self.gpu_told = true;
                Some(Notice::new(
                    NoticeKind::GpuLost,
                    "Idlewatt cannot use your graphics card",
                    format!(
                        "{message}. Idlewatt tries again by itself; if this persists, update the graphics driver and restart the computer."
                    ),
                ))
            }
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn notification_amounts_are_short_and_never_vanish() {
        use super::display_amount;
        assert_eq!(display_amount("0.002147483648"), "0.002147 IDW");
        assert_eq!(display_amount("2.5"), "2.5 IDW");
        assert_eq!(display_amount("12"), "12 IDW");
        assert_eq!(display_amount("3.000000001"), "3 IDW");
        assert_eq!(display_amount("0.000000000000000001"), "< 0.000001 IDW");
    }

    use super::*;
    use crate::node::Sample;
    use crate::sensors::{Measurement, Source};

    fn state(state: NodeState, reason: Reason) -> EventKind {
        EventKind::State { state, reason }
    }

    fn sample() -> EventKind {
        EventKind::Sample(Sample {
            gpu_watts: Measurement { value: 10.0, source: Source::Estimated { basis: "test".into() } },
            gpu_temp_c: None,
            on_battery: false,
            duty: 1.0,
            rated_watts: 15.0,
            today_wh: 0.0,
            today_measured_wh: 0.0,
            today_cost: 0.0,
            currency: "EUR".into(),
            today_co2_g: 0.0,
        })
    }

    #[test]
    fn heat_throttling_is_told_at_most_once_an_hour() {
        let mut rules = NoticeRules::new(STALL_AFTER);
        let t0 = Instant::now();
        let hot = state(NodeState::Throttled, Reason::ThermalLimit { max_celsius: 80.0 });
        let n = rules.on_event(&hot, t0).expect("first time");
        assert_eq!(n.kind, NoticeKind::Throttled);
        assert!(n.body.contains("80 °C"), "{}", n.body);
        assert_eq!(rules.on_event(&hot, t0 + Duration::from_secs(59 * 60)), None);
        assert!(rules.on_event(&hot, t0 + Duration::from_secs(61 * 60)).is_some());
        let power = state(NodeState::Throttled, Reason::PowerLimit { max_watts: 100.0 });
        assert_eq!(rules.on_event(&power, t0 + Duration::from_secs(200 * 60)), None, "the power cap is no news");
    }

    #[test]
    fn earning_stopped_when_away_without_jobs_once_until_a_job_finishes() {
        let stall = Duration::from_secs(600);
        let mut rules = NoticeRules::new(stall);
        let t0 = Instant::now();
        let at = |s: u64| t0 + Duration::from_secs(s);
        let offline = state(NodeState::Offline, Reason::JobSourceUnavailable { message: "down".into() });
        assert_eq!(rules.on_event(&offline, at(0)), None);
        assert_eq!(rules.on_event(&sample(), at(599)), None);
        assert_eq!(rules.on_event(&sample(), at(600)).map(|n| n.kind), Some(NoticeKind::EarningStopped));
        assert_eq!(rules.on_event(&sample(), at(1200)), None, "told once");
        let done = EventKind::JobDone { job_id: "j".into(), flops: 1.0, gpu_seconds: 1.0 };
        assert_eq!(rules.on_event(&done, at(1300)), None);
        assert_eq!(rules.on_event(&sample(), at(1800)), None);
        assert!(rules.on_event(&sample(), at(1900)).is_some(), "again after a new stall");
        // The owner at the computer: nothing is expected.
        let mut rules = NoticeRules::new(stall);
        rules.on_event(&state(NodeState::Waiting, Reason::OwnerActive { idle_s: 1, idle_after_s: 300 }), at(0));
        assert_eq!(rules.on_event(&sample(), at(5000)), None);
    }

    #[test]
    fn gpu_loss_is_told_once_per_loss() {
        let mut rules = NoticeRules::new(STALL_AFTER);
        let t0 = Instant::now();
        let lost = state(NodeState::Error, Reason::GpuUnavailable { message: "device lost".into() });
        assert_eq!(rules.on_event(&lost, t0).map(|n| n.kind), Some(NoticeKind::GpuLost));
        assert_eq!(rules.on_event(&lost, t0), None);
        rules.on_event(&state(NodeState::Computing, Reason::OwnerAway), t0);
        assert!(rules.on_event(&lost, t0).is_some());
    }

    #[test]
    fn withdrawals_notify_only_when_final() {
        let mut w = WithdrawalView {
            id: "1".into(),
            to: "0xabc".into(),
            amount: "2.5".into(),
            status: WithdrawalStatus::Submitted,
            tx_hash: None,
            block: None,
            reason: None,
            devnet: true,
            created_at_ms: 0,
        };
        assert_eq!(Notice::withdrawal(&w), None);
        w.status = WithdrawalStatus::Confirmed;
        assert_eq!(Notice::withdrawal(&w).map(|n| n.kind), Some(NoticeKind::WithdrawalConfirmed));
        w.status = WithdrawalStatus::Failed;
        assert!(Notice::withdrawal(&w).is_some_and(|n| n.body.contains("still yours")));
    }
}
