//! Money: balance, withdrawals, energy and earnings per day.

use idlewatt::app::{AddressCheck, AppCore, AppError, Balance, EnergyReport, WithdrawalView};
use tauri::State;

/// Checks a withdrawal address (EIP-55).
#[tauri::command]
#[specta::specta]
pub async fn validate_address(core: State<'_, AppCore>, address: String) -> Result<AddressCheck, AppError> {
    Ok(core.validate_address(&address))
}

/// The balance on the network.
#[tauri::command]
#[specta::specta]
pub async fn get_balance(core: State<'_, AppCore>) -> Result<Balance, AppError> {
    core.balance().await
}

/// Withdraws `amount` tokens to `to`.
#[tauri::command]
#[specta::specta]
pub async fn withdraw(core: State<'_, AppCore>, to: String, amount: String) -> Result<WithdrawalView, AppError> {
    core.withdraw(&to, &amount).await
}

/// The withdrawals, newest first.
#[tauri::command]
#[specta::specta]
pub async fn list_withdrawals(core: State<'_, AppCore>) -> Result<Vec<WithdrawalView>, AppError> {
    core.withdrawals().await
}

/// Energy and earnings of the last `days` days.
#[tauri::command]
#[specta::specta]
pub async fn get_energy(core: State<'_, AppCore>, days: u32) -> Result<EnergyReport, AppError> {
    core.energy(days).await
}
