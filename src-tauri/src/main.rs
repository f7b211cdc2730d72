//! The Idlewatt desktop app's entry point: everything is in the library (`lib.rs`).
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

fn main() -> std::process::ExitCode {
    match idlewatt_app::run() {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("idlewatt-app: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
