//! The tray icon: one icon per state (`icons/tray/<state>.png`), a tooltip with the state
//! and today's earnings, and a menu with every action, since Linux tray icons get no
//! clicks: a status line, Pause/Resume (the label follows the state), Pause for 1 hour,
//! Open Idlewatt, Quit. Its id is [`TRAY_ID`] (the E2E suite finds it by that name).

use std::sync::Mutex;

use idlewatt::app::{AppCore, AppState, Status};
use tauri::image::Image;
use tauri::menu::{Menu, MenuItem, PredefinedMenuItem};
use tauri::tray::{TrayIcon, TrayIconBuilder};
use tauri::{AppHandle, Manager, Wry};

/// The tray icon's id.
pub const TRAY_ID: &str = "idlewatt";

/// The menu items whose text changes, and what is shown now.
pub struct Tray {
    icon: TrayIcon,
    status_line: MenuItem<Wry>,
    toggle: MenuItem<Wry>,
    pause_hour: MenuItem<Wry>,
    shown: Mutex<Option<(AppState, String)>>,
}

impl std::fmt::Debug for Tray {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tray").field("shown", &self.shown).finish_non_exhaustive()
    }
}

fn icon_bytes(state: AppState) -> &'static [u8] {
    match state {
        AppState::Setup => include_bytes!("../../icons/tray/setup.png"),
        AppState::Starting => include_bytes!("../../icons/tray/starting.png"),
        AppState::Waiting => include_bytes!("../../icons/tray/waiting.png"),
        AppState::Computing => include_bytes!("../../icons/tray/computing.png"),
        AppState::Yielding => include_bytes!("../../icons/tray/yielding.png"),
        AppState::Paused => include_bytes!("../../icons/tray/paused.png"),
        AppState::Throttled => include_bytes!("../../icons/tray/throttled.png"),
        AppState::Offline => include_bytes!("../../icons/tray/offline.png"),
        AppState::Error => include_bytes!("../../icons/tray/error.png"),
    }
}

fn state_words(state: AppState) -> &'static str {
    match state {
        AppState::Setup => "Setting up",
        AppState::Starting => "Starting",
        AppState::Waiting => "Waiting for you to be away",
        AppState::Computing => "Computing",
        AppState::Yielding => "Giving the GPU back",
        AppState::Paused => "Paused",
        AppState::Throttled => "Computing (throttled)",
        AppState::Offline => "Offline",
        AppState::Error => "Needs attention",
    }
}

/// "Idlewatt: Computing · today +0.0042 IDW" (at most 4 decimals: a glance, not a statement).
fn label(status: &Status, today: Option<(String, String)>) -> String {
    let words = state_words(status.state);
    match today {
        Some((amount, symbol)) => {
            let short = amount.parse::<f64>().map_or(amount, |a| {
                let s = format!("{a:.4}");
                s.trim_end_matches('0').trim_end_matches('.').to_owned()
            });
            format!("Idlewatt: {words} · today +{short} {symbol}")
        }
        None => format!("Idlewatt: {words}"),
    }
}

/// Builds the tray and keeps its handles in the app state.
pub fn create(app: &AppHandle) -> tauri::Result<()> {
    let status_line = MenuItem::with_id(app, "status", "Idlewatt: starting", false, None::<&str>)?;
    let toggle = MenuItem::with_id(app, "toggle", "Pause", true, None::<&str>)?;
    let pause_hour = MenuItem::with_id(app, "pause_hour", "Pause for 1 hour", true, None::<&str>)?;
    let open = MenuItem::with_id(app, "open", "Open Idlewatt", true, None::<&str>)?;
    let quit = MenuItem::with_id(app, "quit", "Quit", true, None::<&str>)?;
    let separator = PredefinedMenuItem::separator(app)?;
    let separator2 = PredefinedMenuItem::separator(app)?;
    let menu = Menu::with_items(app, &[&status_line, &separator, &toggle, &pause_hour, &open, &separator2, &quit])?;
    let icon = TrayIconBuilder::with_id(TRAY_ID)
        .icon(Image::from_bytes(icon_bytes(AppState::Starting))?)
        .tooltip("Idlewatt")
        .menu(&menu)
        .show_menu_on_left_click(true)
        .on_menu_event(|app, event| on_menu(app, event.id.as_ref()))
        .build(app)?;
    app.manage(Tray { icon, status_line, toggle, pause_hour, shown: Mutex::new(None) });
    Ok(())
}

fn on_menu(app: &AppHandle, id: &str) {
    tracing::info!(id, "tray menu");
    let core = app.state::<AppCore>().inner().clone();
    match id {
        "toggle" => {
            tauri::async_runtime::spawn(async move {
                if core.status().state == AppState::Paused || core.status().paused_until_ms.is_some() {
                    core.resume().await;
                } else {
                    core.pause(None).await;
                }
            });
        }
        "pause_hour" => {
            tauri::async_runtime::spawn(async move {
                core.pause(Some(60)).await;
            });
        }
        "open" => crate::window::show(app),
        "quit" => app.exit(0),
        _ => {}
    }
}

/// Updates icon, tooltip and labels to the core's status (only what changed).
pub fn refresh(app: &AppHandle, core: &AppCore) {
    let Some(tray) = app.try_state::<Tray>() else { return };
    let status = core.status();
    let today = core.cached_balance().map(|b| (b.today_earned, b.symbol));
    let text = label(&status, today);
    let paused = status.state == AppState::Paused || status.paused_until_ms.is_some();
    let mut shown = tray.shown.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    if shown.as_ref().is_some_and(|(s, t)| *s == status.state && *t == text) {
        return;
    }
    let result = (|| -> tauri::Result<()> {
        tray.icon.set_icon(Some(Image::from_bytes(icon_bytes(status.state))?))?;
        tray.icon.set_tooltip(Some(&text))?;
        tray.status_line.set_text(&text)?;
        tray.toggle.set_text(if paused { "Resume" } else { "Pause" })?;
        tray.toggle.set_enabled(status.onboarded)?;
        tray.pause_hour.set_enabled(status.onboarded && !paused)?;
        Ok(())
    })();
    match result {
        Ok(()) => *shown = Some((status.state, text)),
        Err(e) => tracing::warn!(%e, "could not update the tray"),
    }
}
