//! Every command the UI may call, one file per area, each one to three lines into
//! [`idlewatt::app::AppCore`]; [`specta_builder`] registers them all (and the events) in
//! one place and exports `ui/src/bindings.ts` in debug builds. See docs/app-ipc.md.

pub mod about;
pub mod hardware;
pub mod money;
pub mod node;
pub mod settings;
pub mod update;
pub mod wallet;

use tauri_specta::{collect_commands, collect_events};

use crate::events::{BalanceChanged, BenchProgress, NodeEvent, StatusChanged, WithdrawalChanged};
use crate::updates::UpdateChanged;

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
            hardware::get_market,
            hardware::get_models,
            hardware::clear_models,
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
            update::get_update_status,
            update::install_update,
        ])
        .events(collect_events![
            NodeEvent,
            BenchProgress,
            BalanceChanged,
            WithdrawalChanged,
            StatusChanged,
            UpdateChanged
        ])
        // Timestamps and byte counts are u64 in Rust; all stay far below 2^53.
        .dangerously_cast_bigints_to_number()
        // f64 as `number`: the core never sends NaN or infinities (they would arrive as null).
        .semantic_types(specta_typescript::semantic::Configuration::empty().enable_lossless_floats())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// The typed bindings export, name every command and event of docs/app-ipc.md, and
    /// (when the UI is in the tree) `ui/src/bindings.ts` is current: regenerate it with
    /// `IDLEWATT_WRITE_BINDINGS=1 cargo test -p idlewatt-app bindings` or by starting a
    /// debug build.
    #[test]
    fn bindings_export_every_command_and_are_current() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bindings.ts");
        crate::write_bindings(&specta_builder(), &path).unwrap();
        let ts = std::fs::read_to_string(&path).unwrap();
        let contract = std::fs::read_to_string(
            std::path::PathBuf::from(
                std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR for tests"),
            )
            .join("../docs/app-ipc.md"),
        )
        .unwrap();
        let commands: Vec<&str> = contract
            .lines()
            .filter_map(|l| l.strip_prefix("| `")?.split('`').next())
            .filter(|name| name.chars().all(|c| c.is_ascii_lowercase() || c == '_'))
            .collect();
        assert!(commands.len() > 20, "{commands:?}");
        for name in commands {
            let camel = name
                .split('_')
                .enumerate()
                .map(|(i, w)| if i == 0 { w.to_owned() } else { w[..1].to_uppercase() + &w[1..] })
                .collect::<String>();
            let as_event = format!("\"{name}\"");
            assert!(
                ts.contains(&format!("async {camel}(")) || ts.contains(&as_event),
                "{name} (command {camel} or event) missing from the bindings"
            );
        }
        let ui = std::path::PathBuf::from(
            std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR for tests"),
        )
        .join("../ui/src/bindings.ts");
        let ui = ui.as_path();
        if std::env::var_os("IDLEWATT_WRITE_BINDINGS").is_some() {
            std::fs::write(ui, &ts).unwrap();
        } else {
            // The bindings are in the repository: a missing file fails here, never skips.
            assert!(
                std::fs::read_to_string(ui).unwrap() == ts,
                "ui/src/bindings.ts is stale: run IDLEWATT_WRITE_BINDINGS=1 cargo test -p idlewatt-app bindings"
            );
        }
    }
}
