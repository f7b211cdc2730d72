//! Energy: power samples integrated into Wh ([`integrate`]), kept per minute, per local
//! day, per job and in total, split measured/estimated, and persisted in SQLite
//! ([`store`]) so nothing is lost on restart. Cost comes from the owner's electricity
//! price and CO₂ from their grid's carbon intensity ([`Tariff`]).

pub mod integrate;
pub mod store;

use serde::{Deserialize, Serialize};

pub use integrate::{Integrator, MAX_GAP_S, Sample, Segment};
pub use store::{EnergyError, EnergyStore};

/// Energy over some period, split by how it was known.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct Energy {
    /// Measured energy, Wh.
    pub measured_wh: f64,
    /// Estimated energy, Wh.
    pub estimated_wh: f64,
    /// Seconds integrated.
    pub seconds: f64,
}

impl Energy {
    /// Measured + estimated, Wh.
    pub fn total_wh(&self) -> f64 {
        self.measured_wh + self.estimated_wh
    }

    /// Adds a segment.
    pub fn add(&mut self, seg: &Segment) {
        if seg.measured {
            self.measured_wh += seg.wh;
        } else {
            self.estimated_wh += seg.wh;
        }
        self.seconds += seg.seconds;
    }

    /// What the energy cost at `tariff`.
    pub fn cost(&self, tariff: &Tariff) -> Money {
        Money { amount: self.total_wh() / 1000.0 * tariff.price_per_kwh, currency: tariff.currency.clone() }
    }

    /// CO₂ emitted producing it, grams.
    pub fn co2_g(&self, tariff: &Tariff) -> f64 {
        self.total_wh() / 1000.0 * tariff.grid_g_co2_per_kwh
    }
}

/// The owner's electricity price and grid carbon intensity.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Tariff {
    /// ISO 4217 code ("EUR").
    pub currency: String,
    /// Price per kWh in `currency`.
    pub price_per_kwh: f64,
    /// Grid carbon intensity, g CO₂ per kWh.
    pub grid_g_co2_per_kwh: f64,
}

/// An amount of money.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Money {
    /// The amount.
    pub amount: f64,
    /// ISO 4217 code.
    pub currency: String,
}

#[cfg(test)]
mod tests;
