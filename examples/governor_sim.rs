//! Runs the governor against the simulated GPU (`idlewatt::governor::sim`) and prints
//! what it achieves: mean power against the cap, temperature overshoot, settling time
//! and oscillation, for a few scenarios. `cargo run --example governor_sim`.

use idlewatt::governor::Limits;
use idlewatt::governor::sim::{self, GpuModel, Scenario};

fn main() {
    // A 300 W card: 25 W idle + 275 W at full duty, ±10 W noise, whole-degree sensor.
    let card = GpuModel {
        idle_w: 25.0,
        dynamic_w: 275.0,
        ambient_c: 25.0,
        k_c_per_w: 0.15,
        tau_s: 60.0,
        noise_w: 10.0,
        temp_step_c: 1.0,
        temp_sensor: true,
    };
    let limits = |max_watts: f64| Limits {
        max_watts,
        max_temp_c: 80.0,
        rated_watts: 300.0,
        run_on_battery: false,
        schedule: None,
        pause: None,
        owner_active: false,
    };
    let scenario = |name, gpu, limits, start_temp_c| Scenario {
        name,
        gpu,
        limits,
        start_temp_c,
        duration_s: 900.0,
        dt_s: 1.0,
        seed: 42,
    };
    let scenarios = [
        scenario("300 W GPU, 200 W cap, 25 °C room", card.clone(), limits(200.0), 30.0),
        scenario(
            "300 W GPU, 240 W cap (default 80 %), no temp sensor",
            GpuModel { temp_sensor: false, ..card.clone() },
            limits(240.0),
            30.0,
        ),
        scenario(
            "hot room: 35 °C, 0.2 °C/W, 280 W cap, 80 °C limit binds",
            GpuModel { ambient_c: 35.0, k_c_per_w: 0.2, tau_s: 40.0, ..card.clone() },
            limits(280.0),
            40.0,
        ),
        scenario(
            "hot room, fast heat-up (τ 20 s), starting warm",
            GpuModel { ambient_c: 35.0, k_c_per_w: 0.2, tau_s: 20.0, ..card.clone() },
            limits(280.0),
            60.0,
        ),
        scenario("cap above full power: 400 W cap", card.clone(), limits(400.0), 30.0),
        scenario("low cap: 60 W on a 300 W card", card, limits(60.0), 30.0),
    ];
    println!(
        "{:<58} {:>6} {:>7} {:>7} {:>7} {:>7} {:>8} {:>9} {:>9}  reason",
        "scenario", "cap W", "mean W", "vs cap", "mean °C", "max °C", "over °C", "settle s", "duty p2p"
    );
    for s in &scenarios {
        let f = sim::run(s);
        let cap = s.limits.max_watts;
        println!(
            "{:<58} {:>6.0} {:>7.1} {:>+6.1}% {:>7.1} {:>7.1} {:>+8.1} {:>9.0} {:>9.3}  {:?}",
            s.name,
            cap,
            f.mean_power_w,
            (f.mean_power_w - cap) / cap * 100.0,
            f.mean_temp_c,
            f.max_temp_c,
            f.max_temp_c - s.limits.max_temp_c,
            f.settling_s,
            f.duty_p2p,
            f.final_reason,
        );
    }
    println!(
        "\nmean W, mean °C and duty p2p: over the second half of 900 s runs, steps of 1 s, seed 42; settle: until \
         the duty stays within ±0.05 of its final mean; over °C: largest true temperature minus the 80 °C limit \
         (negative = never reached)."
    );
}
