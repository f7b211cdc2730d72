//! The owner's settings: `settings.json` in the data folder, versioned (`version: 2`;
//! a version-1 file loads as version 2 with the new keys at their defaults),
//! every key optional (a missing key takes its default, so an older file keeps working),
//! validated on load (a bad value is an error naming the key and the allowed range). A
//! damaged file (not UTF-8, not a JSON object) is an error that names it and the fix,
//! at every start until the owner fixes or removes it: the node never guesses the
//! owner's power and temperature limits, and never quietly forgets them at the next
//! start. Saving over a damaged file first keeps a copy as
//! `settings.json.corrupt-<timestamp>`; a file from a newer app version is refused.
//! Saving writes a temporary file beside it and renames it over, so a crash mid-save
//! leaves the old or the new settings, never half of each.

use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::energy::Tariff;
use crate::governor::{Limits, Pause, Schedule};
use crate::paths::DataDirs;

/// The settings file's name in the data folder.
pub const FILE_NAME: &str = "settings.json";
/// The version this build writes; it reads this one and every older one.
/// 2 added `language` and `autostart` (the desktop app's settings).
pub const VERSION: u32 = 2;
/// Default power cap as a share of the GPU's rated power.
pub const DEFAULT_CAP_SHARE: f64 = 0.8;
/// Default disk space for downloaded models: 2 GB (as [`crate::model_cache::DEFAULT_QUOTA_BYTES`]).
pub const DEFAULT_MODEL_STORAGE_MB: u32 = 2_000;

/// When Idlewatt may compute.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "lowercase")]
pub enum RunMode {
    /// Only while the owner is away (idle for `idle_after_min`).
    #[default]
    Idle,
    /// Whenever the limits allow, owner present or not.
    Always,
}

impl std::str::FromStr for RunMode {
    type Err = String;

    /// `idle` or `always` (the command line's `--when`, the settings' `run_mode`).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim() {
            "idle" => Ok(Self::Idle),
            "always" => Ok(Self::Always),
            other => Err(format!("{other:?} is not a run mode: expected idle or always")),
        }
    }
}

/// The language of the app's interface.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "lowercase")]
pub enum Language {
    /// English.
    En,
    /// German.
    De,
}

/// Everything the owner can set.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    /// File format version.
    pub version: u32,
    /// Minutes without input before the owner counts as away (1–240).
    pub idle_after_min: u32,
    /// Idle-only or always.
    pub run_mode: RunMode,
    /// Stop when running on battery.
    pub pause_on_battery: bool,
    /// GPU temperature limit, °C (50–95).
    pub max_temp_c: f64,
    /// GPU power cap, W (5–2000); `None` = 80 % of the rated power.
    pub max_watts: Option<f64>,
    /// The GPU's rated power, W (5–2000), when the built-in figure is wrong.
    pub rated_watts_override: Option<f64>,
    /// ISO 4217 currency code of the price.
    pub currency: String,
    /// Electricity price per kWh (0–10).
    pub price_per_kwh: f64,
    /// Grid carbon intensity, g CO₂/kWh (0–2000).
    pub grid_g_co2_per_kwh: f64,
    /// Use a software (CPU) adapter when there is no GPU.
    pub allow_software_adapter: bool,
    /// When computing is allowed; `None` = any time.
    pub schedule: Option<Schedule>,
    /// The coordinator; `None` = the embedded local network.
    pub coordinator_url: Option<String>,
    /// The interface language; `None` = follow the operating system.
    pub language: Option<Language>,
    /// Start the desktop app at login (off until the owner turns it on).
    pub autostart: bool,
    /// Look for a new version of the app at start and every few hours (on by default).
    pub auto_update_checks: bool,
    /// Where the app looks for updates; `None` = the project's update server
    /// ([`crate::app::updates::DEFAULT_UPDATE_URL`]).
    pub update_url: Option<String>,
    /// Disk space for downloaded AI models, MB of 10⁶ bytes (100–1,000,000); the least
    /// recently used model is removed to stay within it.
    pub model_storage_mb: u32,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            version: VERSION,
            idle_after_min: 5,
            run_mode: RunMode::Idle,
            pause_on_battery: true,
            max_temp_c: 80.0,
            max_watts: None,
            rated_watts_override: None,
            currency: "EUR".to_owned(),
            price_per_kwh: 0.30,
            grid_g_co2_per_kwh: 400.0,
            allow_software_adapter: false,
            schedule: None,
            coordinator_url: None,
            language: None,
            autostart: false,
            auto_update_checks: true,
            update_url: None,
            model_storage_mb: DEFAULT_MODEL_STORAGE_MB,
        }
    }
}

/// What can go wrong loading or saving settings.
#[derive(Debug, Error)]
pub enum ConfigError {
    /// A value is out of range or malformed.
    #[error("{key} = {value} is out of range: allowed {allowed}")]
    Invalid {
        /// The key ("max_temp_c", "schedule.windows[0].start_min").
        key: String,
        /// The value as written.
        value: String,
        /// What is allowed ("50–95 °C").
        allowed: String,
    },
    /// A key has the wrong type or is unknown.
    #[error("{key} in {path}: {message}")]
    BadKey {
        /// The key.
        key: String,
        /// The file.
        path: PathBuf,
        /// serde's message.
        message: String,
    },
    /// Not settings at all (not UTF-8, not a JSON object). The file is left as it is.
    #[error(
        "{path} is damaged ({message}); Idlewatt does not guess your limits: fix the file, or delete it to start from the defaults (saving new settings in the app keeps a copy of it)"
    )]
    Corrupt {
        /// The settings file.
        path: PathBuf,
        /// What is wrong with it.
        message: String,
    },
    /// Written by a newer Idlewatt.
    #[error("{path} is settings version {found}; this Idlewatt understands version {VERSION}: update Idlewatt")]
    FutureVersion {
        /// The file.
        path: PathBuf,
        /// Its version.
        found: u64,
    },
    /// Reading, writing or renaming failed.
    #[error("settings file {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
}

fn range(key: &str, v: f64, lo: f64, hi: f64, unit: &str) -> Result<(), ConfigError> {
    if v.is_finite() && (lo..=hi).contains(&v) {
        Ok(())
    } else {
        Err(ConfigError::Invalid { key: key.to_owned(), value: v.to_string(), allowed: format!("{lo}–{hi}{unit}") })
    }
}

impl Settings {
    /// The settings file in `dirs`.
    pub fn path(dirs: &DataDirs) -> PathBuf {
        dirs.join(FILE_NAME)
    }

    /// Checks every value; the first bad one is the error.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.version != VERSION {
            return Err(ConfigError::Invalid {
                key: "version".into(),
                value: self.version.to_string(),
                allowed: VERSION.to_string(),
            });
        }
        range("idle_after_min", f64::from(self.idle_after_min), 1.0, 240.0, " min")?;
        range("max_temp_c", self.max_temp_c, 50.0, 95.0, " °C")?;
        if let Some(w) = self.max_watts {
            range("max_watts", w, 5.0, 2000.0, " W")?;
        }
        if let Some(w) = self.rated_watts_override {
            range("rated_watts_override", w, 5.0, 2000.0, " W")?;
        }
        if !(self.currency.len() == 3 && self.currency.bytes().all(|b| b.is_ascii_uppercase())) {
            return Err(ConfigError::Invalid {
                key: "currency".into(),
                value: format!("{:?}", self.currency),
                allowed: "a three-letter ISO 4217 code such as \"EUR\" or \"USD\"".into(),
            });
        }
        range("price_per_kwh", self.price_per_kwh, 0.0, 10.0, " per kWh")?;
        range("grid_g_co2_per_kwh", self.grid_g_co2_per_kwh, 0.0, 2000.0, " g/kWh")?;
        range("model_storage_mb", f64::from(self.model_storage_mb), 100.0, 1_000_000.0, " MB")?;
        if let Some(s) = &self.schedule {
            if s.windows.is_empty() {
                return Err(ConfigError::Invalid {
                    key: "schedule.windows".into(),
                    value: "[]".into(),
                    allowed: "at least one window (or no schedule: any time)".into(),
                });
            }
            for (i, w) in s.windows.iter().enumerate() {
                let max = f64::from(crate::governor::schedule::DAY_MINUTES - 1);
                range(&format!("schedule.windows[{i}].start_min"), f64::from(w.start_min), 0.0, max, " min")?;
                range(&format!("schedule.windows[{i}].end_min"), f64::from(w.end_min), 0.0, max, " min")?;
            }
        }
        for (key, url) in [("coordinator_url", &self.coordinator_url), ("update_url", &self.update_url)] {
            if let Some(url) = url
                && !(url.starts_with("https://") || url.starts_with("http://"))
            {
                return Err(ConfigError::Invalid {
                    key: key.into(),
                    value: format!("{url:?}"),
                    allowed: "an http:// or https:// address".into(),
                });
            }
        }
        Ok(())
    }

    /// The model cache's quota in bytes.
    pub fn model_quota_bytes(&self) -> u64 {
        u64::from(self.model_storage_mb) * 1_000_000
    }

    /// The power cap in watts for a GPU rated `rated_watts`.
    pub fn power_cap_watts(&self, rated_watts: f64) -> f64 {
        self.max_watts.unwrap_or(DEFAULT_CAP_SHARE * rated_watts)
    }

    /// The governor's limits for a GPU rated `rated_watts` (see
    /// [`crate::sensors::Sensors::rated`]), given the owner's pause and whether the owner
    /// is at the machine and counts (the caller decides that from the run mode in force,
    /// which a command-line flag may have overridden: this never second-guesses it).
    pub fn limits(&self, rated_watts: f64, owner_active: bool, pause: Option<Pause>) -> Limits {
        Limits {
            max_watts: self.power_cap_watts(rated_watts),
            max_temp_c: self.max_temp_c,
            rated_watts,
            run_on_battery: !self.pause_on_battery,
            schedule: self.schedule.clone(),
            pause,
            owner_active,
        }
    }

    /// The price and grid intensity.
    pub fn tariff(&self) -> Tariff {
        Tariff {
            currency: self.currency.clone(),
            price_per_kwh: self.price_per_kwh,
            grid_g_co2_per_kwh: self.grid_g_co2_per_kwh,
        }
    }

    /// Loads `settings.json` from `dirs`; the defaults when there is none.
    pub fn load(dirs: &DataDirs) -> Result<Self, ConfigError> {
        Self::load_from(&Self::path(dirs))
    }

    /// Loads settings from `path` (see the module docs for what happens to a bad file).
    pub fn load_from(path: &Path) -> Result<Self, ConfigError> {
        let bytes = match std::fs::read(path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Self::default()),
            Err(source) => return Err(ConfigError::Io { path: path.to_owned(), source }),
        };
        // Not UTF-8 is as damaged as not JSON.
        let text = match String::from_utf8(bytes) {
            Ok(t) => t,
            Err(e) => return Err(Self::corrupt(path, format!("not UTF-8 text ({e})"))),
        };
        let value: serde_json::Value = match serde_json::from_str(&text) {
            Ok(v @ serde_json::Value::Object(_)) => v,
            Ok(_) => return Err(Self::corrupt(path, "not a JSON object".into())),
            Err(e) => return Err(Self::corrupt(path, e.to_string())),
        };
        if let Some(found) = value.get("version").and_then(serde_json::Value::as_u64)
            && found > u64::from(VERSION)
        {
            return Err(ConfigError::FutureVersion { path: path.to_owned(), found });
        }
        let mut settings: Self = match serde_json::from_value(value.clone()) {
            Ok(s) => s,
            Err(e) => return Err(Self::bad_key(path, &value, e)),
        };
        // Older versions only lack keys, which take their defaults: migrate in memory
        // (the file is rewritten at the next save).
        if (1..VERSION).contains(&settings.version) {
            settings.version = VERSION;
        }
        settings.validate()?;
        Ok(settings)
    }

    /// Names the key behind a typed-deserialisation error by trying each key alone.
    fn bad_key(path: &Path, value: &serde_json::Value, err: serde_json::Error) -> ConfigError {
        let key = value
            .as_object()
            .and_then(|obj| {
                obj.iter().find_map(|(k, v)| {
                    let single = serde_json::Value::Object([(k.clone(), v.clone())].into_iter().collect());
                    serde_json::from_value::<Self>(single).err().map(|_| k.clone())
                })
            })
            .unwrap_or_else(|| "settings".to_owned());
        ConfigError::BadKey { key, path: path.to_owned(), message: err.to_string() }
    }

    fn corrupt(path: &Path, message: String) -> ConfigError {
        tracing::warn!(path = %path.display(), %message, "damaged settings file");
        ConfigError::Corrupt { path: path.to_owned(), message }
    }

    /// Copies a damaged settings file to `settings.json.corrupt-<timestamp>` before it
    /// is replaced, so what the owner had is never lost. Returns the copy's path.
    fn keep_damaged_copy(path: &Path) -> Result<Option<PathBuf>, ConfigError> {
        if !matches!(Self::load_from(path), Err(ConfigError::Corrupt { .. })) {
            return Ok(None);
        }
        let stamp = chrono::Local::now().format("%Y%m%d-%H%M%S");
        let name = path.file_name().map_or_else(|| FILE_NAME.into(), |n| n.to_string_lossy().into_owned());
        let mut backup = path.with_file_name(format!("{name}.corrupt-{stamp}"));
        let mut n = 1;
        while backup.exists() {
            backup = path.with_file_name(format!("{name}.corrupt-{stamp}-{n}"));
            n += 1;
        }
        std::fs::copy(path, &backup).map_err(|source| ConfigError::Io { path: backup.clone(), source })?;
        tracing::warn!(path = %path.display(), backup = %backup.display(), "damaged settings kept aside before saving new ones");
        Ok(Some(backup))
    }

    /// Validates and saves to `settings.json` in `dirs`, atomically.
    pub fn save(&self, dirs: &DataDirs) -> Result<(), ConfigError> {
        self.save_to(&Self::path(dirs))
    }

    /// Validates and saves to `path`: a temporary file beside it, flushed, renamed over.
    pub fn save_to(&self, path: &Path) -> Result<(), ConfigError> {
        self.validate()?;
        Self::keep_damaged_copy(path)?;
        let io = |source| ConfigError::Io { path: path.to_owned(), source };
        let json = serde_json::to_string_pretty(self).map_err(|e| io(std::io::Error::other(e)))?;
        let tmp = path.with_file_name(format!(".{FILE_NAME}.tmp-{}", std::process::id()));
        let write = || -> std::io::Result<()> {
            let mut f = std::fs::File::create(&tmp)?;
            f.write_all(json.as_bytes())?;
            f.write_all(b"\n")?;
            f.sync_all()?;
            std::fs::rename(&tmp, path)
        };
        write().map_err(|e| {
            let _ = std::fs::remove_file(&tmp);
            io(e)
        })
    }
}

#[cfg(test)]
mod tests;
