//! Turns the core's records into the app's snapshots (`dto`): hardware with its sensors,
//! a network account as a balance, energy days with their earnings. Blocking readers
//! (the GPU, SQLite) are plain functions the supervisor runs off the async threads.

use std::time::Instant;

use alloy::primitives::Address;
use chrono::{Local, NaiveDate};
use idlewatt_protocol::TokenAmount;
use idlewatt_protocol::client::PriceList;
use idlewatt_protocol::wire::{AccountBalance, JobRecord, JobSpec, JobState, NetworkStatus, WorkOrigin};

use super::dto::{
    Balance, DayEnergy, EnergyReport, GpuInfo, Hardware, HostInfo, JobKind, JobOrigin, JobOutcome, JobView, PriceView,
    ReferenceView, SensorInfo, WithdrawalStatus, WithdrawalView,
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

/// A job of the account as the app lists it; client work paid by one of `demo` (the
/// local network's demo clients) is labelled as the demo client's.
pub fn job_view(job: &JobRecord, demo: &[Address]) -> JobView {
    let (rows, n, k) = job.job.dims();
    let origin = match job.job.origin() {
        WorkOrigin::Calibration => JobOrigin::Calibration,
        WorkOrigin::Client if job.client.is_some_and(|c| demo.contains(&c)) => JobOrigin::DemoClient,
        WorkOrigin::Client => JobOrigin::ClientPaid,
    };
    JobView {
        lease_id: job.lease_id.clone(),
        kind: if matches!(job.job, JobSpec::Embeddings(_)) { JobKind::Embeddings } else { JobKind::Matmul },
        rows,
        n,
        k,
        origin,
        outcome: match job.state {
            JobState::Leased => JobOutcome::Running,
            JobState::Verified => JobOutcome::Verified,
            JobState::Rejected => JobOutcome::Rejected,
            JobState::Expired => JobOutcome::Expired,
        },
        reward: job.reward.to_token_string(),
        issued_at_ms: job.issued_at_ms,
        finished_at_ms: job.finished_at_ms,
    }
}

/// The price list as the app shows it, with the reference currency's figures when the
/// operator set a reference value.
pub fn prices(p: &PriceList) -> PriceView {
    let in_currency = |amount: TokenAmount, per_token: f64| -> f64 {
        // A display figure: the decimal string of whole tokens, as a float.
        amount.to_token_string().parse::<f64>().unwrap_or(0.0) * per_token
    };
    PriceView {
        symbol: TOKEN_SYMBOL.into(),
        matmul_per_tflop: p.matmul_per_tflop.to_token_string(),
        embeddings_per_1k_tokens: p.embeddings_per_1k_tokens.to_token_string(),
        node_matmul_per_tflop: p.node_share(p.matmul_per_tflop).to_token_string(),
        fee_bps: p.fee_bps,
        // Only finite figures: the UI receives no NaN or infinity.
        reference: p
            .reference
            .as_ref()
            .map(|r| ReferenceView {
                currency: r.currency.clone(),
                per_token: r.per_token,
                matmul_per_tflop: in_currency(p.matmul_per_tflop, r.per_token),
                embeddings_per_1k_tokens: in_currency(p.embeddings_per_1k_tokens, r.per_token),
            })
            .filter(|r| {
                [r.per_token, r.matmul_per_tflop, r.embeddings_per_1k_tokens].iter().all(|x| x.is_finite() && *x >= 0.0)
            }),
    }
}

/// Demand and prices: `status` and `prices` as the network answered (either may be
/// missing), `demo_client` whether the local network's demo client runs.
pub fn market(
    status: Result<NetworkStatus, String>,
    price_list: Option<&PriceList>,
    embedded: bool,
    demo_client: bool,
) -> super::dto::Market {
    let (waiting, calibration, message) = match status {
        Ok(s) => (Some(s.paid_jobs_waiting), s.calibration_budget, None),
        Err(m) => (None, false, Some(m)),
    };
    super::dto::Market {
        paid_jobs_waiting: waiting,
        calibration_budget: calibration,
        prices: price_list.map(prices),
        embedded,
        demo_client,
        message,
    }
}

/// The account as a balance (`devnet`: the local network); today's earnings and the job
/// counts come from the ledger; `demo` are the local network's demo clients.
pub fn balance(a: &AccountBalance, devnet: bool, ledger: &Ledger, demo: &[Address]) -> Balance {
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
        recent_jobs: a.recent_jobs.iter().map(|j| job_view(j, demo)).collect(),
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

/// The model cache as the app shows it.
pub fn model_storage(cache: &crate::model_cache::ModelCache) -> super::dto::ModelStorage {
    let models = cache.list();
    let used_bytes = models.iter().map(|m| m.bytes).sum();
    super::dto::ModelStorage { models, used_bytes, quota_bytes: cache.quota() }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use idlewatt_protocol::Precision;
    use idlewatt_protocol::client::ReferenceValue;

    use super::*;

    fn record(job: JobSpec, client: Option<Address>, state: JobState) -> JobRecord {
        JobRecord {
            lease_id: "l1".into(),
            job_id: "j1".into(),
            job,
            state,
            reward: TokenAmount(1_500_000_000_000_000),
            issued_at_ms: 1,
            finished_at_ms: Some(2),
            client,
        }
    }

    fn block() -> JobSpec {
        JobSpec::ClientMatmul {
            a_sha256: "a".into(),
            b_sha256: "b".into(),
            m: 256,
            n: 32,
            k: 16,
            row_start: 64,
            rows: 64,
            precision: Precision::F32,
        }
    }

    #[test]
    fn each_job_says_who_paid_for_it() {
        let (demo, other) = (Address::repeat_byte(0xd0), Address::repeat_byte(0xc1));
        let calibration = JobSpec::Matmul { m: 8, n: 8, k: 8, seed: 1, precision: Precision::F32 };
        let v = job_view(&record(calibration, None, JobState::Verified), &[demo]);
        assert_eq!((v.origin, v.kind, v.outcome), (JobOrigin::Calibration, JobKind::Matmul, JobOutcome::Verified));
        let v = job_view(&record(block(), Some(other), JobState::Leased), &[demo]);
        assert_eq!(
            (v.origin, v.outcome, (v.rows, v.n, v.k)),
            (JobOrigin::ClientPaid, JobOutcome::Running, (64, 32, 16))
        );
        assert_eq!(v.reward, "0.0015");
        let v = job_view(&record(block(), Some(demo), JobState::Rejected), &[other, demo]);
        assert_eq!((v.origin, v.outcome), (JobOrigin::DemoClient, JobOutcome::Rejected));
        // An older coordinator names no client: client work stays client-paid.
        assert_eq!(job_view(&record(block(), None, JobState::Expired), &[demo]).origin, JobOrigin::ClientPaid);
    }

    #[test]
    fn prices_show_the_node_share_and_the_reference_only_when_finite() {
        let mut list = PriceList {
            matmul_per_tflop: TokenAmount::tokens(2),
            embeddings_per_1k_tokens: TokenAmount(500_000_000_000_000),
            fee_bps: 500,
            token_symbol: "IDLE".into(),
            reference: Some(ReferenceValue { currency: "EUR".into(), per_token: 0.25 }),
            calibration_budget: false,
        };
        let p = prices(&list);
        assert_eq!((p.matmul_per_tflop.as_str(), p.node_matmul_per_tflop.as_str()), ("2", "1.9"));
        assert_eq!(p.embeddings_per_1k_tokens, "0.0005");
        let r = p.reference.unwrap();
        assert_eq!((r.currency.as_str(), r.matmul_per_tflop, r.embeddings_per_1k_tokens), ("EUR", 0.5, 0.000125));
        list.reference = Some(ReferenceValue { currency: "EUR".into(), per_token: f64::INFINITY });
        assert_eq!(prices(&list).reference, None);
        list.reference = None;
        assert_eq!(prices(&list).reference, None);
    }

    #[test]
    fn the_market_says_when_the_network_did_not_answer() {
        let m = market(Err("connection refused".into()), None, true, true);
        assert_eq!((m.paid_jobs_waiting, m.prices, m.demo_client), (None, None, true));
        assert_eq!(m.message.as_deref(), Some("connection refused"));
    }
}
