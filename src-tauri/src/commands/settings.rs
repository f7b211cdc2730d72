//! Settings: read, validate and save (the node restarts with them), start at login.

use idlewatt::app::{AppCore, AppError};
use idlewatt::config::Settings;
use tauri::{AppHandle, State};

/// The settings in force.
#[tauri::command]
#[specta::specta]
pub async fn get_settings(core: State<'_, AppCore>) -> Result<Settings, AppError> {
    Ok(core.settings())
}

/// Validates and saves; a bad value is `invalid_setting` with its `key`.
#[tauri::command]
#[specta::specta]
pub async fn save_settings(app: AppHandle, core: State<'_, AppCore>, settings: Settings) -> Result<Settings, AppError> {
    let saved = core.save_settings(settings).await?;
    crate::autostart::apply(&app, saved.autostart)?;
    Ok(saved)
}

/// Turns start at login on or off (saved in the settings); returns the new value.
#[tauri::command]
#[specta::specta]
pub async fn set_autostart(app: AppHandle, core: State<'_, AppCore>, enabled: bool) -> Result<bool, AppError> {
    crate::autostart::set(&app, &core, enabled).await
}
