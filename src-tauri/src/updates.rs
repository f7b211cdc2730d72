//! Automatic updates (issue 16): the shell's side of [`idlewatt::app::updates`], which
//! decides when to check, which version may install and when. Here `tauri-plugin-updater`
//! fetches the manifest from the owner's update URL (or the default), downloads the
//! installer in the background and checks its minisign signature against the public key
//! in `tauri.conf.json` (`plugins.updater.pubkey`; `requireSignedVersion` also binds the
//! signature to the announced version, so an old signed build cannot be replayed as new).
//!
//! - Offline or a server error: logged at info level, nothing shown, retried later.
//! - A lower version, a bad signature or a tampered download: refused, logged as a
//!   warning and shown (`update_changed` with `refused`), nothing installed.
//! - Installing: the node is stopped first (keeping its job, as Quit does), the package is
//!   installed and the app restarts into the new version with the same data folder.
//!   Installed .deb/.rpm packages go through `pkexec` (the plugin); a root process (a
//!   test machine) runs `dpkg -i`/`rpm -U` itself, as there is nobody to ask.

use std::sync::Mutex;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use idlewatt::app::updates::{self, CheckSchedule, InstallDecision, InstallOutcome, InstallTrigger, UpdateStatus};
use idlewatt::app::{AppCore, AppError, AppState, ErrorKind};
use serde::Serialize;
use tauri::{AppHandle, Manager, Runtime};
use tauri_plugin_updater::{Update, UpdaterExt};
use tauri_specta::Event as _;

/// The update status changed (the dashboard's banner follows it).
#[derive(Debug, Clone, Serialize, specta::Type, tauri_specta::Event)]
#[tauri_specta(event_name = "update_changed")]
pub struct UpdateChanged(pub UpdateStatus);

/// The updater's state for the app's life.
#[derive(Default)]
pub struct Updates {
    status: Mutex<UpdateStatus>,
    /// A downloaded, signature-checked update waiting for a click or the next quit.
    ready: Mutex<Option<(Update, Vec<u8>)>>,
}

/// How long one request (the manifest, the download) may take.
const TIMEOUT: Duration = Duration::from_secs(10 * 60);
/// While automatic checks are off, how often the setting is looked at again.
const OFF_POLL: Duration = Duration::from_secs(60);

/// The updater plugin. It reports any version different from the running one, so that a
/// lower one reaches [`updates::judge_offer`] and is refused *and reported*. Its public
/// key and endpoint defaults are `tauri.conf.json`'s `plugins.updater` (tests build with a
/// throw-away key through the CLI's `--config`).
pub fn plugin<R: Runtime>() -> tauri::plugin::TauriPlugin<R, tauri_plugin_updater::Config> {
    tauri_plugin_updater::Builder::new()
        .default_version_comparator(|current, release| release.version != current)
        .build()
}

/// The current status.
pub fn status(app: &AppHandle) -> UpdateStatus {
    lock(&app.state::<Updates>().status).clone()
}

fn set_status(app: &AppHandle, status: UpdateStatus) {
    *lock(&app.state::<Updates>().status) = status.clone();
    if let Err(e) = UpdateChanged(status).emit(app) {
        tracing::debug!(%e, "update event not delivered");
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Checks at start and then on [`updates::CHECK_EVERY`], for the app's life.
pub fn start(app: AppHandle) {
    tauri::async_runtime::spawn(async move {
        let mut schedule = CheckSchedule::new(Instant::now());
        loop {
            tokio::time::sleep(schedule.until_due(Instant::now())).await;
            let core = app.state::<AppCore>().inner().clone();
            if !core.settings().auto_update_checks {
                tokio::time::sleep(OFF_POLL).await;
                continue;
            }
            if lock(&app.state::<Updates>().ready).is_some() {
                schedule.checked(Instant::now());
                continue;
            }
            match check(&app, &core).await {
                Ok(()) => schedule.checked(Instant::now()),
                Err(e) => {
                    let retry = schedule.failed(Instant::now());
                    tracing::info!(error = %e, retry_in_s = retry.as_secs(), "update check failed; retrying later");
                }
            }
        }
    });
}

/// One check: the manifest, the version rule, the download and its signature. `Err` only
/// for what is retried silently (offline, server errors).
async fn check(app: &AppHandle, core: &AppCore) -> Result<(), tauri_plugin_updater::Error> {
    let url = core.settings().update_url.unwrap_or_else(|| updates::DEFAULT_UPDATE_URL.to_owned());
    let endpoint = tauri::Url::parse(&url)?;
    let updater = app.updater_builder().endpoints(vec![endpoint])?.timeout(TIMEOUT).build()?;
    let Some(update) = updater.check().await? else {
        tracing::info!(url = %url, "no update");
        return Ok(());
    };
    let current = app.package_info().version.to_string();
    if let Err(refused) = updates::judge_offer(&current, &update.version) {
        tracing::warn!(%refused, "update refused");
        set_status(app, UpdateStatus::Refused { version: update.version.clone(), reason: refused.to_string() });
        return Ok(());
    }
    tracing::info!(version = %update.version, "update available; downloading");
    set_status(app, UpdateStatus::Downloading { version: update.version.clone() });
    match update.download(|_, _| {}, || {}).await {
        Ok(bytes) => {
            tracing::info!(version = %update.version, bytes = bytes.len(), "update downloaded and its signature checked");
            let ready =
                UpdateStatus::Ready { version: update.version.clone(), notes: update.body.clone().unwrap_or_default() };
            *lock(&app.state::<Updates>().ready) = Some((update, bytes));
            set_status(app, ready);
            Ok(())
        }
        Err(e) if is_refusal(&e) => {
            tracing::warn!(version = %update.version, error = %e, "update refused: the download does not match its signature");
            set_status(
                app,
                UpdateStatus::Refused {
                    version: update.version.clone(),
                    reason: format!("the download does not carry a valid signature ({e})"),
                },
            );
            Ok(())
        }
        Err(e) => {
            set_status(app, UpdateStatus::Idle);
            Err(e)
        }
    }
}

/// A signature problem (refused and reported) rather than a transport one (retried).
fn is_refusal(e: &tauri_plugin_updater::Error) -> bool {
    use tauri_plugin_updater::Error as E;
    matches!(
        e,
        E::Minisign(_)
            | E::Base64(_)
            | E::SignatureUtf8(_)
            | E::SignedVersionMismatch { .. }
            | E::MissingSignedVersion
            | E::InvalidUpdaterFormat
    )
}

/// Whether the node is using the GPU right now.
fn computing(core: &AppCore) -> bool {
    matches!(core.status().state, AppState::Computing | AppState::Throttled | AppState::Yielding)
}

/// The owner's "Install and restart": asks first while computing, otherwise stops the
/// node, installs and restarts.
pub async fn install_now(app: &AppHandle, confirmed: bool) -> Result<InstallOutcome, AppError> {
    let core = app.state::<AppCore>().inner().clone();
    if updates::install_decision(InstallTrigger::Click { confirmed }, computing(&core)) == InstallDecision::AskFirst {
        return Ok(InstallOutcome::AskFirst);
    }
    let Some((update, bytes)) = lock(&app.state::<Updates>().ready).take() else {
        return Err(AppError::new(ErrorKind::Internal, "No update is ready to install. Idlewatt looks again later."));
    };
    tracing::info!(version = %update.version, "installing the update: stopping the node first");
    core.shutdown().await;
    if let Err(e) = install_bytes(&update, &bytes) {
        tracing::warn!(version = %update.version, error = %e, "the update did not install");
        set_status(app, UpdateStatus::Refused { version: update.version.clone(), reason: e.clone() });
        let again = core.clone();
        tauri::async_runtime::spawn(async move { again.start().await });
        return Err(AppError::new(ErrorKind::Internal, format!("The update did not install: {e}")));
    }
    tracing::info!(version = %update.version, "update installed; restarting into it");
    app.state::<crate::shutdown::Quit>().done.store(true, Ordering::SeqCst);
    app.request_restart();
    Ok(InstallOutcome::Installing)
}

/// At quit (the node already stopped): installs a downloaded update, so the next start is
/// the new version.
pub fn install_at_quit(app: &AppHandle) {
    if updates::install_decision(InstallTrigger::Quit, false) != InstallDecision::Install {
        return;
    }
    let Some((update, bytes)) = lock(&app.state::<Updates>().ready).take() else {
        return;
    };
    match install_bytes(&update, &bytes) {
        Ok(()) => tracing::info!(version = %update.version, "update installed at quit"),
        Err(e) => tracing::warn!(version = %update.version, error = %e, "the update did not install at quit"),
    }
}

/// Installs the verified bytes (verified again by the plugin or here before anything runs).
fn install_bytes(update: &Update, bytes: &[u8]) -> Result<(), String> {
    update.verify(bytes).map_err(|e| format!("the package does not match its signature ({e})"))?;
    #[cfg(target_os = "linux")]
    if is_root() {
        use tauri::utils::config::BundleType;
        let tool = match tauri::utils::platform::bundle_type() {
            Some(BundleType::Deb) => Some(("dpkg", "-i", "deb")),
            Some(BundleType::Rpm) => Some(("rpm", "-U", "rpm")),
            _ => None,
        };
        if let Some((cmd, arg, ext)) = tool {
            return install_as_root(cmd, arg, ext, bytes);
        }
    }
    update.install(bytes).map_err(|e| e.to_string())
}

#[cfg(target_os = "linux")]
fn is_root() -> bool {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0)
}

/// `dpkg -i`/`rpm -U` of the package, written to a private temporary folder.
#[cfg(target_os = "linux")]
fn install_as_root(cmd: &str, arg: &str, ext: &str, bytes: &[u8]) -> Result<(), String> {
    use std::os::unix::fs::DirBuilderExt;
    let dir = std::env::temp_dir().join(format!("idlewatt-update-{}", std::process::id()));
    std::fs::DirBuilder::new().mode(0o700).create(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let file = dir.join(format!("update.{ext}"));
    let result = std::fs::write(&file, bytes)
        .map_err(|e| format!("{}: {e}", file.display()))
        .and_then(|()| std::process::Command::new(cmd).arg(arg).arg(&file).output().map_err(|e| format!("{cmd}: {e}")))
        .and_then(|out| {
            if out.status.success() {
                Ok(())
            } else {
                Err(format!("{cmd} {arg} failed: {}", String::from_utf8_lossy(&out.stderr).trim()))
            }
        });
    let _ = std::fs::remove_dir_all(&dir);
    result
}
