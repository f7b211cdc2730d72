//! A simulated GPU for testing and demonstrating the governor without hardware:
//! power = idle + duty × dynamic power (+ seeded noise), and a first-order thermal
//! model dT/dt = (ambient + k·power − T)/τ. The power the governor reads is the average
//! over the step just run, as NVML and hwmon's `power1_average` report it, so the loop
//! has the one-sample delay a real one has. Used by the governor's tests and by
//! `examples/governor_sim.rs`.

use chrono::{DateTime, Duration, FixedOffset};

use super::{Decision, Governor, Limits, Reason};
use crate::sensors::{Measurement, PowerSupply, Reading, Source, Via};

/// The simulated GPU's physics.
#[derive(Debug, Clone, PartialEq)]
pub struct GpuModel {
    /// Power at duty 0, W.
    pub idle_w: f64,
    /// Extra power at duty 1, W (full power = idle + dynamic).
    pub dynamic_w: f64,
    /// Room temperature, °C.
    pub ambient_c: f64,
    /// Steady-state temperature rise per watt, °C/W.
    pub k_c_per_w: f64,
    /// Thermal time constant, s.
    pub tau_s: f64,
    /// Uniform power noise amplitude, ± W.
    pub noise_w: f64,
    /// Temperature sensor resolution, °C (NVML reports whole degrees; 0 = exact).
    pub temp_step_c: f64,
    /// Whether the temperature can be read at all.
    pub temp_sensor: bool,
}

/// A scenario: GPU, limits, how long, with which seed.
#[derive(Debug, Clone)]
pub struct Scenario {
    /// Name printed by the example.
    pub name: &'static str,
    /// The GPU.
    pub gpu: GpuModel,
    /// The owner's limits.
    pub limits: Limits,
    /// Starting temperature, °C.
    pub start_temp_c: f64,
    /// Simulated seconds.
    pub duration_s: f64,
    /// Control period, s.
    pub dt_s: f64,
    /// Noise seed.
    pub seed: u64,
}

/// One control step's record.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Step {
    /// Seconds since the start.
    pub t_s: f64,
    /// The duty the governor chose.
    pub duty: f64,
    /// Why.
    pub reason: Reason,
    /// Power measured at this step (average over the previous one), W.
    pub power_w: f64,
    /// True temperature, °C.
    pub temp_c: f64,
}

/// What a run shows.
#[derive(Debug, Clone, PartialEq)]
pub struct Figures {
    /// Mean power over the second half of the run, W.
    pub mean_power_w: f64,
    /// Largest true temperature over the run, °C.
    pub max_temp_c: f64,
    /// Mean temperature over the second half, °C.
    pub mean_temp_c: f64,
    /// Seconds until the duty stays within ±0.05 of its final mean (last quarter).
    pub settling_s: f64,
    /// Peak-to-peak duty over the second half.
    pub duty_p2p: f64,
    /// Mean duty over the last quarter.
    pub final_duty: f64,
    /// The reason at the last step.
    pub final_reason: Reason,
    /// Every step.
    pub steps: Vec<Step>,
}

/// SplitMix64: a tiny seeded generator, so runs are reproducible without a dependency.
#[derive(Debug, Clone)]
pub struct SplitMix64(u64);

impl SplitMix64 {
    /// Seeded generator.
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    /// Uniform in [-1, 1).
    pub fn next_signed(&mut self) -> f64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^= z >> 31;
        (z >> 11) as f64 / (1u64 << 52) as f64 - 1.0
    }
}

fn reading(power_w: f64, temp_c: Option<f64>) -> Reading {
    Reading {
        gpu_watts: Measurement { value: power_w, source: Source::Measured { via: Via::Nvml } },
        gpu_temp_c: temp_c.map(|t| Measurement { value: t, source: Source::Measured { via: Via::Nvml } }),
        cpu_watts: None,
        supply: PowerSupply::Ac,
    }
}

/// Runs `s` with a fresh [`Governor`].
pub fn run(s: &Scenario) -> Figures {
    let mut rng = SplitMix64::new(s.seed);
    let mut gov = Governor::new();
    // A fixed wall-clock start (a Wednesday noon): the governor only uses it for the
    // schedule and pause, which these scenarios leave open.
    let start: DateTime<FixedOffset> = DateTime::from_timestamp(1_700_000_000, 0).unwrap_or_default().fixed_offset();
    let g = &s.gpu;
    let mut temp = s.start_temp_c;
    let mut power = g.idle_w;
    let n = (s.duration_s / s.dt_s).round() as usize;
    let mut steps = Vec::with_capacity(n);
    for i in 0..n {
        let t_s = i as f64 * s.dt_s;
        let measured_temp = g
            .temp_sensor
            .then(|| if g.temp_step_c > 0.0 { (temp / g.temp_step_c).round() * g.temp_step_c } else { temp });
        let now = start + Duration::milliseconds((t_s * 1000.0) as i64);
        let Decision { duty: d, reason } = gov.step(&s.limits, &reading(power, measured_temp), now, s.dt_s);
        let duty = d;
        steps.push(Step { t_s, duty, reason, power_w: power, temp_c: temp });
        // Run the next interval at `duty`.
        let true_power = g.idle_w + duty * g.dynamic_w;
        power = (true_power + g.noise_w * rng.next_signed()).max(0.0);
        let target = g.ambient_c + g.k_c_per_w * true_power;
        temp += (target - temp) * (1.0 - (-s.dt_s / g.tau_s).exp());
    }
    figures(steps)
}

fn figures(steps: Vec<Step>) -> Figures {
    let n = steps.len().max(1);
    let half = &steps[n / 2..];
    let quarter = &steps[n * 3 / 4..];
    let mean = |xs: &[Step], f: fn(&Step) -> f64| xs.iter().map(f).sum::<f64>() / xs.len().max(1) as f64;
    let final_duty = mean(quarter, |s| s.duty);
    let dt = if steps.len() > 1 { steps[1].t_s - steps[0].t_s } else { 0.0 };
    let settling_s = steps.iter().rev().find(|s| (s.duty - final_duty).abs() > 0.05).map_or(0.0, |s| s.t_s + dt);
    let (lo, hi) = half.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), s| (lo.min(s.duty), hi.max(s.duty)));
    Figures {
        mean_power_w: mean(half, |s| s.power_w),
        max_temp_c: steps.iter().map(|s| s.temp_c).fold(f64::NEG_INFINITY, f64::max),
        mean_temp_c: mean(half, |s| s.temp_c),
        settling_s,
        duty_p2p: hi - lo,
        final_duty,
        final_reason: steps.last().map_or(Reason::Running, |s| s.reason),
        steps,
    }
}
