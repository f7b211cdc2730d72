//! Updates: where the updater stands, and "Install and restart" (issue 16).

use idlewatt::app::AppError;
use idlewatt::app::updates::{InstallOutcome, UpdateStatus};
use tauri::AppHandle;

/// Where the updater stands (a ready update's version and notes, or a refusal).
#[tauri::command]
#[specta::specta]
pub async fn get_update_status(app: AppHandle) -> Result<UpdateStatus, AppError> {
    Ok(crate::updates::status(&app))
}

/// Installs the downloaded update and restarts into it; while the node computes, answers
/// `ask_first` unless `confirmed`.
#[tauri::command]
#[specta::specta]
pub async fn install_update(app: AppHandle, confirmed: bool) -> Result<InstallOutcome, AppError> {
    crate::updates::install_now(&app, confirmed).await
}
