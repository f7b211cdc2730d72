//! The hardware check: GPU and sensors, the benchmark, the network and its market, the
//! downloaded models.

use idlewatt::app::{AppCore, AppError, BenchSummary, Hardware, Market, ModelStorage, NetworkInfo};
use tauri::State;

/// GPU, host and sensors.
#[tauri::command]
#[specta::specta]
pub async fn get_hardware(core: State<'_, AppCore>) -> Result<Hardware, AppError> {
    core.hardware().await
}

/// A short benchmark (emits `bench_progress`) and the earnings estimate.
#[tauri::command]
#[specta::specta]
pub async fn run_benchmark(core: State<'_, AppCore>) -> Result<BenchSummary, AppError> {
    core.run_benchmark().await
}

/// The network and whether it answers.
#[tauri::command]
#[specta::specta]
pub async fn get_network(core: State<'_, AppCore>) -> Result<NetworkInfo, AppError> {
    core.network().await
}

/// Paid work waiting, the price list, and whether the demo client submits the jobs.
#[tauri::command]
#[specta::specta]
pub async fn get_market(core: State<'_, AppCore>) -> Result<Market, AppError> {
    core.market().await
}

/// The downloaded AI models and the disk space they may use.
#[tauri::command]
#[specta::specta]
pub async fn get_models(core: State<'_, AppCore>) -> Result<ModelStorage, AppError> {
    core.models().await
}

/// Deletes every downloaded model.
#[tauri::command]
#[specta::specta]
pub async fn clear_models(core: State<'_, AppCore>) -> Result<ModelStorage, AppError> {
    core.clear_models().await
}
