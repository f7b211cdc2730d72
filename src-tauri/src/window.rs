//! The main window: closing it hides it (the node keeps running in the tray); "Open
//! Idlewatt" and a second launch show and focus it again.

use tauri::{AppHandle, Manager, Window, WindowEvent};

/// The main window's label (tauri.conf.json).
pub const MAIN: &str = "main";

/// Shows, unminimises and focuses the main window.
pub fn show(app: &AppHandle) {
    if let Some(w) = app.get_webview_window(MAIN) {
        let shown = w.show().and_then(|()| w.unminimize()).and_then(|()| w.set_focus());
        if let Err(e) = shown {
            tracing::warn!(%e, "could not show the window");
        }
    }
}

/// Close → hide.
pub fn on_event(window: &Window, event: &WindowEvent) {
    if let WindowEvent::CloseRequested { api, .. } = event
        && window.label() == MAIN
    {
        api.prevent_close();
        if let Err(e) = window.hide() {
            tracing::warn!(%e, "could not hide the window");
        }
        tracing::info!("window closed to the tray; the node keeps running");
    }
}
