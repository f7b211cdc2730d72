//! The tray icon: one icon per state (`icons/tray/<state>.png`), a tooltip with the state
//! and today's earnings, and a menu with every action, since Linux tray icons get no
//! clicks: a status line, Pause/Resume (the label follows the state), Pause for 1 hour,
//! Open Idlewatt, Quit. Its id is [`TRAY_ID`] (the E2E suite finds it by that name).
//! English or German, as the `language` setting (or, when unset, `LANG`) says.

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
    open: MenuItem<Wry>,
    quit: MenuItem<Wry>,
    shown: Mutex<Option<(AppState, String, bool)>>,
}

/// The tray's words in one language.
struct Words {
    states: [&'static str; 9],
    today: &'static str,
    pause: &'static str,
    resume: &'static str,
    pause_hour: &'static str,
    open: &'static str,
    quit: &'static str,
}

const EN: Words = Words {
    states: [
        "Setting up",
        "Starting",
        "Waiting for you to be away",
        "Computing",
        "Giving the GPU back",
        "Paused",
        "Computing (throttled)",
        "Offline",
        "Needs attention",
    ],
    today: "today",
    pause: "Pause",
    resume: "Resume",
    pause_hour: "Pause for 1 hour",
    open: "Open Idlewatt",
    quit: "Quit",
};

const DE: Words = Words {
    states: [
        "Einrichtung",
        "Startet",
        "Wartet, bis du weg bist",
        "Rechnet",
        "Gibt die GPU zurück",
        "Pausiert",
        "Rechnet (gedrosselt)",
        "Offline",
        "Braucht deine Aufmerksamkeit",
    ],
    today: "heute",
    pause: "Pausieren",
    resume: "Fortsetzen",
    pause_hour: "1 Stunde pausieren",
    open: "Idlewatt öffnen",
    quit: "Beenden",
};

/// German when the setting says so, or when unset and the OS locale is German.
fn german(core: &AppCore) -> bool {
    match core.settings().language {
        Some(idlewatt::config::Language::De) => true,
        Some(idlewatt::config::Language::En) => false,
        None => ["LC_ALL", "LC_MESSAGES", "LANG"]
            .iter()
            .find_map(|k| std::env::var(k).ok().filter(|v| !v.is_empty()))
            .is_some_and(|v| v.starts_with("de")),
    }
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

fn state_words(words: &Words, state: AppState) -> &'static str {
    let i = match state {
        AppState::Setup => 0,
        AppState::Starting => 1,
        AppState::Waiting => 2,
        AppState::Computing => 3,
        AppState::Yielding => 4,
        AppState::Paused => 5,
        AppState::Throttled => 6,
        AppState::Offline => 7,
        AppState::Error => 8,
    };
    words.states[i]
}

/// "Idlewatt: Computing · today +0.0042 IDW" (at most 4 decimals: a glance, not a statement).
fn label(words: &Words, status: &Status, today: Option<(String, String)>) -> String {
    let state = state_words(words, status.state);
    match today {
        Some((amount, symbol)) => {
            let short = amount.parse::<f64>().map_or(amount, |a| {
                let s = format!("{a:.4}");
                s.trim_end_matches('0').trim_end_matches('.').to_owned()
            });
            format!("Idlewatt: {state} · {} +{short} {symbol}", words.today)
        }
        None => format!("Idlewatt: {state}"),
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
    app.manage(Tray { icon, status_line, toggle, pause_hour, open, quit, shown: Mutex::new(None) });
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
    let de = german(core);
    let words = if de { &DE } else { &EN };
    let text = label(words, &status, today);
    let paused = status.state == AppState::Paused || status.paused_until_ms.is_some();
    let mut shown = tray.shown.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    if shown.as_ref().is_some_and(|(s, t, g)| *s == status.state && *t == text && *g == de) {
        return;
    }
    let result = (|| -> tauri::Result<()> {
        tray.icon.set_icon(Some(Image::from_bytes(icon_bytes(status.state))?))?;
        tray.icon.set_tooltip(Some(&text))?;
        tray.status_line.set_text(&text)?;
        tray.toggle.set_text(if paused { words.resume } else { words.pause })?;
        tray.pause_hour.set_text(words.pause_hour)?;
        tray.open.set_text(words.open)?;
        tray.quit.set_text(words.quit)?;
        tray.toggle.set_enabled(status.onboarded)?;
        tray.pause_hour.set_enabled(status.onboarded && !paused)?;
        Ok(())
    })();
    match result {
        Ok(()) => *shown = Some((status.state, text, de)),
        Err(e) => tracing::warn!(%e, "could not update the tray"),
    }
}
