//! Start at login (`tauri-plugin-autostart`): off until the owner turns it on in
//! onboarding or settings; the `autostart` setting is the truth and the OS entry follows.

use idlewatt::app::{AppCore, AppError};
use tauri::AppHandle;
use tauri_plugin_autostart::ManagerExt as _;

fn failed(e: tauri_plugin_autostart::Error) -> AppError {
    AppError::internal("changing start at login", e)
}

/// Makes the OS entry match `enabled`.
pub fn apply(app: &AppHandle, enabled: bool) -> Result<(), AppError> {
    let manager = app.autolaunch();
    if manager.is_enabled().map_err(failed)? == enabled {
        return Ok(());
    }
    if enabled { manager.enable() } else { manager.disable() }.map_err(failed)?;
    tracing::info!(enabled, "start at login changed");
    Ok(())
}

/// Saves `enabled` in the settings and applies it; returns it.
pub async fn set(app: &AppHandle, core: &AppCore, enabled: bool) -> Result<bool, AppError> {
    let mut settings = core.settings();
    settings.autostart = enabled;
    core.save_settings(settings).await?;
    apply(app, enabled)?;
    Ok(enabled)
}

/// At launch: the OS entry follows the setting (it may have been removed by hand).
pub fn sync_at_start(app: &AppHandle, core: &AppCore) {
    if let Err(e) = apply(app, core.settings().autostart) {
        tracing::warn!(%e, "start at login not synchronised");
    }
}
