//! Every command the UI may call, one file per area, each one to three lines into
//! [`idlewatt::app::AppCore`]; [`specta_builder`] registers them all (and the events) in
//! one place and exports `ui/src/bindings.ts` in debug builds. See docs/app-ipc.md.

pub mod about;
pub mod hardware;
pub mod money;
pub mod node;
pub mod settings;
pub mod wallet;

use tauri_specta::{collect_commands, collect_events};

use crate::events::{BalanceChanged, BenchProgress, NodeEvent, StatusChanged, WithdrawalChanged};

/// The typed command and event registry.
pub fn specta_builder() -> tauri_specta::Builder<tauri::Wry> {
    tauri_specta::Builder::<tauri::Wry>::new()
        .commands(collect_commands![
            node::get_status,
            node::pause,
            node::resume,
            node::get_recent_samples,
            node::finish_onboarding,
            hardware::get_hardware,
            hardware::run_benchmark,
            hardware::get_network,
            wallet::wallet_info,
            wallet::wallet_create,
            wallet::wallet_backup_challenge,
            wallet::wallet_confirm_backup,
            wallet::wallet_reveal_phrase,
            wallet::wallet_import,
            wallet::wallet_delete,
            money::validate_address,
            money::get_balance,
            money::withdraw,
            money::list_withdrawals,
            money::get_energy,
            settings::get_settings,
            settings::save_settings,
            settings::set_autostart,
            about::get_app_info,
            about::open_logs_folder,
        ])
        .events(collect_events![NodeEvent, BenchProgress, BalanceChanged, WithdrawalChanged, StatusChanged])
        // Timestamps and byte counts are u64 in Rust; all stay far below 2^53.
        .dangerously_cast_bigints_to_number()
}
