//! The coordinator's defences as numbers, in one place: connection timeouts and
//! limits, probation of new addresses, limits per source address range and in total,
//! and the request rates. [`Limits::default`] suits the embedded local network (one
//! owner's own node on loopback: no probation, loose ranges); [`Limits::public`] is
//! what a coordinator facing the internet runs with (the binary's defaults). The README
//! ("Security model") states the policy these numbers implement.

use std::time::Duration;

/// Every abuse and fault limit the operator can set.
#[derive(Debug, Clone, PartialEq)]
pub struct Limits {
    /// A connection must send a request's complete headers within this, and an idle
    /// keep-alive connection is closed after it (hyper's header read timeout).
    pub header_timeout: Duration,
    /// Longest wait for the next piece of a request body.
    pub body_timeout: Duration,
    /// Longest time one request may take, body and verification included.
    pub request_timeout: Duration,
    /// Connections served at once; more wait in the kernel's backlog.
    pub max_connections: usize,
    /// Verified results an address needs before it leaves probation (0: no probation).
    /// On probation: jobs of at most `probation_job_dim`, one lease at a time, and its
    /// earnings are held (not withdrawable) until it leaves.
    pub probation_results: u32,
    /// Largest m, n, k of a job for an address on probation.
    pub probation_job_dim: u32,
    /// Open leases all addresses on probation may hold together: the share of work a
    /// flood of fresh identities can take, whatever its size.
    pub probation_open_leases: u32,
    /// New addresses registered per source range (IPv4 /24, IPv6 /64) per hour.
    pub registrations_per_range_per_hour: u32,
    /// New addresses registered per hour, all sources together.
    pub registrations_per_hour: u32,
    /// Open leases held by addresses registered from one source range.
    pub open_leases_per_range: u32,
    /// Requests per second one source range may sustain (any route, signed or not).
    pub range_rate_per_s: f64,
    /// Burst of requests above `range_rate_per_s`.
    pub range_burst: f64,
}

impl Default for Limits {
    /// The embedded local network: timeouts and a connection limit, no probation and
    /// loose per-range limits (everything comes from loopback).
    fn default() -> Self {
        Self {
            header_timeout: Duration::from_secs(10),
            body_timeout: Duration::from_secs(20),
            request_timeout: Duration::from_secs(120),
            max_connections: 1024,
            probation_results: 0,
            probation_job_dim: 256,
            probation_open_leases: 64,
            registrations_per_range_per_hour: 10_000,
            registrations_per_hour: 100_000,
            open_leases_per_range: 100_000,
            range_rate_per_s: 5_000.0,
            range_burst: 10_000.0,
        }
    }
}

impl Limits {
    /// A coordinator open to the internet.
    pub fn public() -> Self {
        Self {
            probation_results: 5,
            probation_open_leases: 64,
            registrations_per_range_per_hour: 20,
            registrations_per_hour: 2_000,
            open_leases_per_range: 256,
            range_rate_per_s: 200.0,
            range_burst: 400.0,
            ..Self::default()
        }
    }

    /// Checks the values make sense; the message names the bad one.
    pub fn validate(&self) -> Result<(), String> {
        for (name, d) in [
            ("header timeout", self.header_timeout),
            ("body timeout", self.body_timeout),
            ("request timeout", self.request_timeout),
        ] {
            if d.is_zero() || d > Duration::from_secs(3600) {
                return Err(format!("{name} must be between 1 ms and 1 h"));
            }
        }
        if self.max_connections == 0 {
            return Err("max connections must be at least 1".into());
        }
        if self.probation_job_dim == 0 || self.probation_open_leases == 0 {
            return Err("probation job dim and probation open leases must be at least 1".into());
        }
        if self.registrations_per_range_per_hour == 0 || self.registrations_per_hour == 0 {
            return Err("registration limits must be at least 1 per hour".into());
        }
        if self.open_leases_per_range == 0 {
            return Err("open leases per range must be at least 1".into());
        }
        if !(self.range_rate_per_s > 0.0 && self.range_rate_per_s.is_finite() && self.range_burst >= 1.0) {
            return Err("the per-range rate must be positive and its burst at least 1".into());
        }
        Ok(())
    }
}
