//! The node: status, pause and resume, recent samples, finishing onboarding.

use idlewatt::app::{AppCore, AppError, Status};
use idlewatt::node::Event;
use tauri::State;

/// The status now.
#[tauri::command]
#[specta::specta]
pub async fn get_status(core: State<'_, AppCore>) -> Result<Status, AppError> {
    Ok(core.status())
}

/// Pauses for `minutes`, or until resumed (`null`).
#[tauri::command]
#[specta::specta]
pub async fn pause(core: State<'_, AppCore>, minutes: Option<u32>) -> Result<Status, AppError> {
    Ok(core.pause(minutes).await)
}

/// Resumes.
#[tauri::command]
#[specta::specta]
pub async fn resume(core: State<'_, AppCore>) -> Result<Status, AppError> {
    Ok(core.resume().await)
}

/// The last ≤ 600 samples, oldest first.
#[tauri::command]
#[specta::specta]
pub async fn get_recent_samples(core: State<'_, AppCore>) -> Result<Vec<Event>, AppError> {
    Ok(core.recent_samples())
}

/// Onboarding done: starts the node.
#[tauri::command]
#[specta::specta]
pub async fn finish_onboarding(core: State<'_, AppCore>) -> Result<Status, AppError> {
    core.finish_onboarding().await
}
