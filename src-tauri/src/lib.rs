//! The Idlewatt desktop app: a thin Tauri shell over the core's [`idlewatt::app::AppCore`]
//! (DESIGN §1, §9). This file only builds the app; each concern has its own module:
//!
//! - [`commands`]: the UI's commands, one file per area, registered with `tauri-specta`;
//! - `events`: core events → Tauri events, tray updates, notifications;
//! - `tray`, `window`, `notify`, `autostart`, `logs`, `about`, `shutdown`: what their names say;
//! - `network`: the embedded local network (the coordinator in-process);
//! - `updates`: signed automatic updates (`tauri-plugin-updater`, rules in the core).
//!
//! Environment (tests, development): `IDLEWATT_DATA_DIR`, `IDLEWATT_ALLOW_SOFTWARE=1`,
//! `IDLEWATT_IDLE_AFTER_S`, `IDLEWATT_JOB_SIZE`, `IDLEWATT_STALL_AFTER_S`, `IDLEWATT_LOG`;
//! Tauri's own folders follow `XDG_DATA_HOME`/`XDG_CONFIG_HOME`. See docs/app-ipc.md.

mod about;
mod autostart;
pub mod commands;
mod events;
mod logs;
mod network;
mod notify;
mod shutdown;
mod tray;
mod updates;
mod window;

use idlewatt::app::{AppCore, Overrides};
use idlewatt::paths::DataDirs;
use idlewatt::wallet::Wallet;
use tauri::{Manager, RunEvent};

/// Why the app could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The data folder cannot be used.
    #[error(transparent)]
    Data(#[from] idlewatt::paths::PathsError),
    /// Tauri failed to build or run the app.
    #[error(transparent)]
    Tauri(#[from] tauri::Error),
}

/// Holds the log writer's guard for the app's life.
struct Logs(#[allow(dead_code)] std::sync::Mutex<Option<logs::LogGuard>>);

/// Where debug builds write the typed bindings for the UI.
pub const BINDINGS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../ui/src/bindings.ts");

/// The result shape of every command, exported by name (the UI's `api.ts` derives each
/// command's data type through it); tauri-specta only writes it inline.
const RESULT_TYPE: &str = "\n/** What every command resolves to. */\nexport type Result<T, E> = { status: \"ok\"; data: T } | { status: \"error\"; error: E };\n";

/// Writes the TypeScript bindings of `builder` to `path`.
pub fn write_bindings(builder: &tauri_specta::Builder<tauri::Wry>, path: &std::path::Path) -> Result<(), String> {
    builder.export(specta_typescript::Typescript::default(), path).map_err(|e| e.to_string())?;
    let mut ts = std::fs::read_to_string(path).map_err(|e| e.to_string())?;
    ts.push_str(RESULT_TYPE);
    std::fs::write(path, ts).map_err(|e| e.to_string())
}

/// Writes `ui/src/bindings.ts` (when `ui/src` exists).
pub fn export_bindings(builder: &tauri_specta::Builder<tauri::Wry>) -> Result<bool, String> {
    let path = std::path::Path::new(BINDINGS);
    if !path.parent().is_some_and(std::path::Path::is_dir) {
        return Ok(false);
    }
    write_bindings(builder, path)?;
    Ok(true)
}

/// Builds and runs the app until it quits.
pub fn run() -> Result<(), StartError> {
    let specta = commands::specta_builder();
    #[cfg(debug_assertions)]
    if let Err(e) = export_bindings(&specta) {
        eprintln!("idlewatt-app: could not export the UI bindings: {e}");
    }
    let data = DataDirs::from_env()?;
    let core = AppCore::new(data.clone(), Wallet::new(&data), network::launcher(), Overrides::from_env());
    let app = tauri::Builder::default()
        // First: a second launch only focuses the first one's window.
        .plugin(tauri_plugin_single_instance::init(|app, _args, _cwd| window::show(app)))
        .plugin(tauri_plugin_autostart::init(tauri_plugin_autostart::MacosLauncher::LaunchAgent, None))
        .plugin(tauri_plugin_opener::init())
        .plugin(updates::plugin())
        .manage(core.clone())
        .manage(updates::Updates::default())
        .manage(shutdown::Quit::default())
        .invoke_handler(specta.invoke_handler())
        .on_window_event(window::on_event)
        .setup(move |app| {
            specta.mount_events(app);
            let guard = logs::init(&app.path().app_log_dir()?)
                .inspect_err(|e| eprintln!("idlewatt-app: logging to a file is off: {e}"))
                .ok();
            app.manage(Logs(std::sync::Mutex::new(guard)));
            tracing::info!(version = %app.package_info().version, data = %core.data().root().display(), "Idlewatt starting");
            tray::create(app.handle())?;
            autostart::sync_at_start(app.handle(), &core);
            shutdown::on_signals(app.handle().clone());
            tauri::async_runtime::spawn(events::pump(app.handle().clone(), core.clone()));
            updates::start(app.handle().clone());
            let core = core.clone();
            tauri::async_runtime::spawn(async move { core.start().await });
            Ok(())
        })
        .build(tauri::generate_context!())?;
    app.run(|app, event| {
        if let RunEvent::ExitRequested { api, code, .. } = &event {
            shutdown::on_exit_requested(app, api, *code);
        }
    });
    Ok(())
}
