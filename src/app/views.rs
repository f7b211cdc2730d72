//! Turns the core's records into the app's snapshots (`dto`): hardware with its sensors,
//! a network account as a balance, energy days with their earnings. Blocking readers
//! (the GPU, SQLite) are plain functions the supervisor runs off the async threads.

use std::time::Instant;

use chrono::{Local, NaiveDate};
use idlewatt_protocol::wire::AccountBalance;

use super::dto::{
    Balance, DayEnergy, EnergyReport, GpuInfo, Hardware, HostInfo, SensorInfo, WithdrawalStatus, WithdrawalView,
};
use super::error::AppError;
use super::ledger::Ledger;
use crate::compute::{AdapterPolicy, Engine, GpuProfile, HostProfile};
use crate::config::Settings;
use crate::energy::{Energy, EnergyStore};
use crate::paths::DataDirs;
use crate::sensors::{GpuHint, Sensors, Source};

/// The token's symbol on the network.
pub const TOKEN_SYMBOL: &str = "IDW";

/// The GPU as the app shows it.
pub fn gpu_info(g: &GpuProfile) -> GpuInfo {
    GpuInfo {
        name: g.name.clone(),
        vendor: g.vendor.clone(),
        device_type: g.device_type.clone(),
        backend: g.backend.clone(),
        driver: format!("{} {}", g.driver, g.driver_info).trim().to_owned(),
        max_buffer_bytes: g.limits.max_storage_buffer_binding_size,
        software: g.software,
    }
}

/// Opens the GPU once (any adapter, software included) to describe it.
pub fn probe_gpu() -> (Result<GpuProfile, String>, HostProfile) {
    match Engine::new(AdapterPolicy { allow_software: true }) {
        Ok(engine) => {
            let p = engine.hardware_profile();
            (Ok(p.gpu), p.host)
        }
        Err(e) => (Err(AppError::from(e).message), HostProfile::detect()),
    }
}

/// Everything about the hardware, with a fresh sensor reading.
pub fn hardware(gpu: &Result<GpuProfile, String>, host: &HostProfile, settings: &Settings) -> Hardware {
    let allow = AdapterPolicy { allow_software: settings.allow_software_adapter }.with_env().allow_software;
    let hint = gpu.as_ref().map_or_else(|_| GpuHint::default(), GpuHint::from_profile);
    let mut sensors = Sensors::detect(&hint, settings.rated_watts_override);
    let sources = sensors.sources();
    let reading = sensors.read(Instant::now(), 0.0);
    let describe = |source: &Source| match source {
        Source::Measured { via } => format!("measured ({})", via.as_str()),
        Source::Estimated { basis } => format!("estimated: {basis}"),
    };
    let mut list = vec![
        SensorInfo {
            name: "GPU power".into(),
            what: describe(&reading.gpu_watts.source),
            measured: reading.gpu_watts.source.is_measured(),
            value: Some(format!("{:.1} W", reading.gpu_watts.value)),
        },
        SensorInfo {
            name: "GPU temperature".into(),
            what: reading
                .gpu_temp_c
                .as_ref()
                .map_or_else(|| "not measurable on this computer".into(), |t| describe(&t.source)),
            measured: reading.gpu_temp_c.as_ref().is_some_and(|t| t.source.is_measured()),
            value: reading.gpu_temp_c.as_ref().map(|t| format!("{:.0} °C", t.value)),
        },
        SensorInfo {
            name: "CPU power".into(),
            what: if sources.cpu_power { "measured (rapl)".into() } else { "not measurable on this computer".into() },
            measured: sources.cpu_power,
            value: reading.cpu_watts.as_ref().map(|w| format!("{:.1} W", w.value)),
        },
        SensorInfo {
            name: "Rated GPU power".into(),
            what: sources.rated.basis.clone(),
            measured: false,
            value: Some(format!("{:.0} W", sources.rated.watts)),
        },
    ];
    list.push(SensorInfo {
        name: "Power supply".into(),
        what: "operating system".into(),
        measured: !matches!(reading.supply, crate::sensors::PowerSupply::Unknown),
        value: Some(match reading.supply {
            crate::sensors::PowerSupply::Ac => "mains".into(),
            crate::sensors::PowerSupply::Battery { percent: Some(p) } => format!("battery {p} %"),
            crate::sensors::PowerSupply::Battery { percent: None } => "battery".into(),
            crate::sensors::PowerSupply::Unknown => "not reported (treated as mains)".into(),
        }),
    });
    Hardware {
        usable: gpu.as_ref().is_ok_and(|g| !g.software || allow),
        gpu: gpu.as_ref().ok().map(gpu_info),
        gpu_error: gpu.as_ref().err().cloned(),
        host: HostInfo {
            cpu: host.cpu_model.clone(),
            cores: u32::try_from(host.logical_cpus).unwrap_or(u32::MAX),
            ram_bytes: host.total_memory_bytes,
            os: format!("{} (kernel {})", host.os, host.kernel),
        },
        sensors: list,
    }
}

/// The account as a balance (`devnet`: the local network); today's earnings and the job
/// counts come from the ledger.
pub fn balance(a: &AccountBalance, devnet: bool, ledger: &Ledger) -> Balance {
    let total = ledger.total();
    Balance {
        symbol: TOKEN_SYMBOL.into(),
        withdrawable: a.withdrawable.to_token_string(),
        pending: a.pending.to_token_string(),
        total_earned: a.verified.to_token_string(),
        today_earned: ledger.day(Local::now().date_naive()).earned.to_token_string(),
        jobs_verified: total.verified,
        jobs_rejected: total.rejected,
        devnet,
    }
}

/// Energy of the last `days` days with the earnings of each (from the ledger).
pub fn energy(data: &DataDirs, settings: &Settings, days: u32, ledger: &Ledger) -> Result<EnergyReport, AppError> {
    let store = EnergyStore::open(data.join("energy.sqlite"))?;
    let tariff = settings.tariff();
    let day = |date: NaiveDate, e: &Energy| DayEnergy {
        date: date.format("%Y-%m-%d").to_string(),
        wh: e.total_wh(),
        measured_wh: e.measured_wh,
        cost: e.cost(&tariff).amount,
        co2_g: e.co2_g(&tariff),
        earned: ledger.day(date).earned.to_token_string(),
    };
    let list: Vec<DayEnergy> = store.last_days(days.clamp(1, 366))?.iter().map(|(d, e)| day(*d, e)).collect();
    let today = Local::now().date_naive();
    let today = list.last().cloned().unwrap_or_else(|| day(today, &Energy::default()));
    let jobs = ledger.total();
    Ok(EnergyReport {
        currency: tariff.currency.clone(),
        today,
        days: list,
        total_wh: store.total()?.total_wh(),
        jobs_done: jobs.verified + jobs.rejected,
    })
}

/// A withdrawal as the app shows it.
pub fn withdrawal(w: &idlewatt_protocol::withdrawal::WithdrawalInfo) -> WithdrawalView {
    use idlewatt_protocol::withdrawal::WithdrawalStatus as S;
    WithdrawalView {
        id: w.id.clone(),
        to: w.to.to_checksum(None),
        amount: w.amount.to_token_string(),
        status: match w.status {
            S::Queued => WithdrawalStatus::Queued,
            S::Submitted => WithdrawalStatus::Submitted,
            S::Confirmed => WithdrawalStatus::Confirmed,
            S::Failed => WithdrawalStatus::Failed,
        },
        tx_hash: w.tx_hash.map(|h| h.to_string()),
        block: w.block,
        reason: w.reason.clone(),
        devnet: w.devnet,
        created_at_ms: w.created_at_ms,
    }
}
