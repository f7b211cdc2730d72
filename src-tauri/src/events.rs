//! The core's events become Tauri events (typed by `tauri-specta`, see docs/app-ipc.md
//! "Events"), and drive the tray and the notifications: one task reads the core's
//! broadcast for the app's life.

use idlewatt::app::{AppCore, AppEvent, Balance, Status, WithdrawalView};
use serde::Serialize;
use tauri::AppHandle;
use tauri_specta::Event as _;

/// A node event as the core sends it (`{ ts_ms, event: "sample", ... }`).
#[derive(Debug, Clone, Serialize, specta::Type, tauri_specta::Event)]
#[tauri_specta(event_name = "node_event")]
pub struct NodeEvent(pub idlewatt::node::Event);

/// Progress of the onboarding benchmark.
#[derive(Debug, Clone, Serialize, specta::Type, tauri_specta::Event)]
#[tauri_specta(event_name = "bench_progress")]
pub struct BenchProgress {
    /// 0–1.
    pub fraction: f64,
}

/// The balance changed.
#[derive(Debug, Clone, Serialize, specta::Type, tauri_specta::Event)]
#[tauri_specta(event_name = "balance_changed")]
pub struct BalanceChanged(pub Balance);

/// A withdrawal changed.
#[derive(Debug, Clone, Serialize, specta::Type, tauri_specta::Event)]
#[tauri_specta(event_name = "withdrawal_changed")]
pub struct WithdrawalChanged(pub WithdrawalView);

/// The status changed (state, pause, onboarding): the dashboard and the tray follow it.
#[derive(Debug, Clone, Serialize, specta::Type, tauri_specta::Event)]
#[tauri_specta(event_name = "status_changed")]
pub struct StatusChanged(pub Status);

/// Forwards the core's events until the core is dropped.
pub async fn pump(app: AppHandle, core: AppCore) {
    let mut events = core.subscribe();
    loop {
        let event = match events.recv().await {
            Ok(e) => e,
            Err(tokio::sync::broadcast::error::RecvError::Lagged(n)) => {
                tracing::debug!(n, "event pump lagged");
                continue;
            }
            Err(tokio::sync::broadcast::error::RecvError::Closed) => break,
        };
        let sent = match event {
            AppEvent::Node(e) => NodeEvent(e).emit(&app),
            AppEvent::Status(s) => {
                crate::tray::refresh(&app, &core);
                StatusChanged(s).emit(&app)
            }
            AppEvent::Balance(b) => {
                crate::tray::refresh(&app, &core);
                BalanceChanged(b).emit(&app)
            }
            AppEvent::Withdrawal(w) => {
                if let Some(n) = idlewatt::app::Notice::withdrawal(&w) {
                    crate::notify::show(n);
                }
                WithdrawalChanged(w).emit(&app)
            }
            AppEvent::Notice(n) => {
                crate::notify::show(n);
                Ok(())
            }
            AppEvent::BenchProgress(fraction) => BenchProgress { fraction }.emit(&app),
        };
        if let Err(e) = sent {
            tracing::debug!(%e, "event not delivered");
        }
    }
}
