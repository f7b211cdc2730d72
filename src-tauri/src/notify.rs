//! Desktop notifications for what needs the owner (see `idlewatt::app::notices` for when).
//!
//! `notify-rust` directly rather than `tauri-plugin-notification`: the notices come from
//! Rust, never from the web page, so the plugin's JS API and its permissions would only
//! widen what the page may do; on Linux the plugin itself wraps `notify-rust`. A desktop
//! without a notification daemon just logs the notice.

use idlewatt::app::Notice;

/// Shows `notice` (off the caller's thread: D-Bus can block).
pub fn show(notice: Notice) {
    tracing::info!(kind = ?notice.kind, title = %notice.title, "notification");
    std::thread::spawn(move || {
        let shown = notify_rust::Notification::new()
            .appname("Idlewatt")
            .summary(&notice.title)
            .body(&notice.body)
            .icon("idlewatt-app")
            .show();
        if let Err(e) = shown {
            tracing::warn!(%e, "could not show a notification");
        }
    });
}
