//! The wallet: create (with the backup check), import, reveal, delete.

use idlewatt::app::{AppCore, AppError, NewWalletView, WalletView};
use tauri::State;

/// The wallet, or `null`.
#[tauri::command]
#[specta::specta]
pub async fn wallet_info(core: State<'_, AppCore>) -> Result<Option<WalletView>, AppError> {
    core.wallet_info().await
}

/// A new wallet of 12 or 24 words; the phrase is shown once.
#[tauri::command]
#[specta::specta]
pub async fn wallet_create(core: State<'_, AppCore>, words: u32) -> Result<NewWalletView, AppError> {
    core.wallet_create(words).await
}

/// Three word positions (1-based) to confirm.
#[tauri::command]
#[specta::specta]
pub async fn wallet_backup_challenge(core: State<'_, AppCore>) -> Result<Vec<u32>, AppError> {
    core.wallet_backup_challenge().await
}

/// The words at the challenge's positions, in order.
#[tauri::command]
#[specta::specta]
pub async fn wallet_confirm_backup(core: State<'_, AppCore>, answers: Vec<String>) -> Result<WalletView, AppError> {
    core.wallet_confirm_backup(answers).await
}

/// The recovery phrase (the UI asked for confirmation).
#[tauri::command]
#[specta::specta]
pub async fn wallet_reveal_phrase(core: State<'_, AppCore>) -> Result<Vec<String>, AppError> {
    core.wallet_reveal_phrase().await
}

/// Imports a phrase or a 0x key, replacing the wallet (the UI warned).
#[tauri::command]
#[specta::specta]
pub async fn wallet_import(core: State<'_, AppCore>, secret: String) -> Result<WalletView, AppError> {
    core.wallet_import(secret).await
}

/// Erases the wallet from this computer.
#[tauri::command]
#[specta::specta]
pub async fn wallet_delete(core: State<'_, AppCore>) -> Result<(), AppError> {
    core.wallet_delete().await
}
