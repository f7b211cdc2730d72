//! Quitting: Quit in the tray (or SIGTERM/Ctrl-C) asks the app to exit; the exit is held
//! back until the node has stopped the GPU and kept its job, and the local network has
//! closed its database (clash-verge's `prevent_exit` pattern), and a downloaded update
//! has been installed (issue 16: "at the next quit").

use std::sync::atomic::{AtomicBool, Ordering};

use idlewatt::app::AppCore;
use tauri::{AppHandle, ExitRequestApi, Manager};

/// Where the shutdown stands.
#[derive(Debug, Default)]
pub struct Quit {
    started: AtomicBool,
    /// The exit may go through (the node has stopped).
    pub(crate) done: AtomicBool,
}

/// On `RunEvent::ExitRequested`: the last window closing (no code) is not a quit, the
/// app stays in the tray; an exit asked for (Quit, a signal) is held back until the core
/// has shut down, then let through.
pub fn on_exit_requested(app: &AppHandle, api: &ExitRequestApi, code: Option<i32>) {
    if code.is_none() {
        api.prevent_exit();
        return;
    }
    let quit = app.state::<Quit>();
    if quit.done.load(Ordering::SeqCst) {
        return;
    }
    api.prevent_exit();
    if quit.started.swap(true, Ordering::SeqCst) {
        return;
    }
    tracing::info!("quitting: stopping the node");
    let app = app.clone();
    let core = app.state::<AppCore>().inner().clone();
    tauri::async_runtime::spawn(async move {
        core.shutdown().await;
        crate::updates::install_at_quit(&app);
        tracing::info!("node stopped; exiting");
        app.state::<Quit>().done.store(true, Ordering::SeqCst);
        app.exit(code.unwrap_or(0));
    });
}

/// SIGTERM or Ctrl-C quit like the tray's Quit.
pub fn on_signals(app: AppHandle) {
    tauri::async_runtime::spawn(async move {
        #[cfg(unix)]
        {
            let Ok(mut term) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) else {
                return;
            };
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
        }
        #[cfg(not(unix))]
        {
            let _ = tokio::signal::ctrl_c().await;
        }
        tracing::info!("signal received");
        app.exit(0);
    });
}
