//! The main window. Closing it destroys it, webview and all (the WebKit processes hold
//! most of the app's memory), while the node keeps running in the tray; "Open Idlewatt"
//! and a second launch build it again from `tauri.conf.json`, or show and focus it.
//! `IDLEWATT_HIDE_ON_CLOSE=1` hides it instead (WebDriver suites whose session must
//! outlive a close).

use tauri::{AppHandle, Manager, WebviewWindowBuilder, Window, WindowEvent};

/// The main window's label (tauri.conf.json).
pub const MAIN: &str = "main";

fn hide_on_close() -> bool {
    std::env::var_os("IDLEWATT_HIDE_ON_CLOSE").is_some_and(|v| v == "1")
}

/// Shows, unminimises and focuses the main window, building it again if it was closed.
pub fn show(app: &AppHandle) {
    let window = match app.get_webview_window(MAIN) {
        Some(w) => Ok(w),
        None => app
            .config()
            .app
            .windows
            .iter()
            .find(|w| w.label == MAIN)
            .ok_or(tauri::Error::WindowNotFound)
            .and_then(|config| WebviewWindowBuilder::from_config(app, config)?.build()),
    };
    let shown = window.and_then(|w| {
        w.show()?;
        w.unminimize()?;
        w.set_focus()
    });
    if let Err(e) = shown {
        tracing::warn!(%e, "could not show the window");
    }
}

/// Close → destroy (or hide); the app stays in the tray either way (see `shutdown`).
pub fn on_event(window: &Window, event: &WindowEvent) {
    if let WindowEvent::CloseRequested { api, .. } = event
        && window.label() == MAIN
    {
        if hide_on_close() {
            api.prevent_close();
            if let Err(e) = window.hide() {
                tracing::warn!(%e, "could not hide the window");
            }
        }
        tracing::info!("window closed; the node keeps running in the tray");
    }
}
