//! Logging: `tracing` to a daily-rotated file in the app's log folder (the last 7 days
//! kept) and to stderr. `IDLEWATT_LOG` sets the filter (default `info`). Secrets never
//! reach a log line: the core's types redact them.

use std::path::Path;

use tracing_subscriber::Layer as _;

/// Keeps the file writer flushing; hold it for the app's life.
pub type LogGuard = tracing_appender::non_blocking::WorkerGuard;

/// Files kept.
const KEEP_FILES: usize = 7;

/// Starts logging into `dir`.
pub fn init(dir: &Path) -> Result<LogGuard, Box<dyn std::error::Error>> {
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;
    std::fs::create_dir_all(dir)?;
    let appender = tracing_appender::rolling::Builder::new()
        .rotation(tracing_appender::rolling::Rotation::DAILY)
        .filename_prefix("idlewatt")
        .filename_suffix("log")
        .max_log_files(KEEP_FILES)
        .build(dir)?;
    let (file, guard) = tracing_appender::non_blocking(appender);
    // wgpu's GL back-end logs an error for every EGL display it probes: not news.
    let filter = || {
        tracing_subscriber::EnvFilter::try_from_env("IDLEWATT_LOG")
            .unwrap_or_else(|_| "info,wgpu_hal::gles=off,wgpu_core=warn,naga=warn".into())
    };
    tracing_subscriber::registry()
        .with(tracing_subscriber::fmt::layer().with_writer(file).with_ansi(false).with_filter(filter()))
        .with(tracing_subscriber::fmt::layer().with_writer(std::io::stderr).with_filter(filter()))
        .try_init()?;
    Ok(guard)
}
