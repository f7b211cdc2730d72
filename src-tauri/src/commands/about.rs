//! About: version and folders, "Open logs folder".

use idlewatt::app::{AppCore, AppError, AppInfo};
use tauri::{AppHandle, State};

/// Version, data folder, log folder.
#[tauri::command]
#[specta::specta]
pub async fn get_app_info(app: AppHandle, core: State<'_, AppCore>) -> Result<AppInfo, AppError> {
    crate::about::info(&app, &core)
}

/// Opens the log folder in the file manager.
#[tauri::command]
#[specta::specta]
pub async fn open_logs_folder(app: AppHandle) -> Result<(), AppError> {
    crate::about::open_logs(&app)
}
