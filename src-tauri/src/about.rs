//! The About page's facts and "Open logs folder".

use idlewatt::app::{AppCore, AppError, AppInfo};
use tauri::{AppHandle, Manager};
use tauri_plugin_opener::OpenerExt as _;

/// The app's log folder (`<data>/org.idlewatt.app/logs` on Linux, honouring `XDG_DATA_HOME`).
pub fn log_dir(app: &AppHandle) -> Result<std::path::PathBuf, AppError> {
    app.path().app_log_dir().map_err(|e| AppError::internal("finding the log folder", e))
}

/// Version and folders.
pub fn info(app: &AppHandle, core: &AppCore) -> Result<AppInfo, AppError> {
    Ok(AppInfo {
        version: app.package_info().version.to_string(),
        data_dir: core.data().root().display().to_string(),
        log_dir: log_dir(app)?.display().to_string(),
    })
}

/// Opens the log folder in the file manager.
pub fn open_logs(app: &AppHandle) -> Result<(), AppError> {
    let dir = log_dir(app)?;
    app.opener().open_path(dir.display().to_string(), None::<&str>).map_err(|e| {
        AppError::new(
            idlewatt::app::ErrorKind::Internal,
            format!("The log folder could not be opened ({e}). You find it at {}.", dir.display()),
        )
    })
}
