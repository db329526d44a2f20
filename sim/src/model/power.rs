//! Board power of one card as a function of how busy it is (issue 13, "Energy").
//!
//! A card draws its idle power when nothing runs on it and its full-load power when it is
//! saturated; in between the model is **linear in the busy share** `b` (0..=1, the share the
//! performance model says is really used — slicing-model §7.2, the same `busy` that
//! `util_busy_pct` integrates):
//!
//! ```text
//! P(b) = P_idle + (P_full − P_idle) · b
//! ```
//!
//! Linear is the usual first-order GPU power model (power grows with the active share of the
//! chip at fixed clocks); a calibration profile that measured the card's idle and saturated
//! power through NVML (`nvmlDeviceGetPowerUsage`, milliwatts — calibration.md §5.1) replaces the
//! catalog's two figures ([`crate::model::fleet::FleetDevice::apply_profile`]). Powers are kept
//! in integer **milliwatts**, NVML's unit, so that the energy integral over integer milliseconds
//! is exact (`crate::metrics::energy`).

use serde::{Deserialize, Serialize};

/// Milliwatts in a watt.
pub const MW_PER_W: u64 = 1000;

/// Idle and full-load board power of one card, milliwatts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PowerSpec {
    /// Power with no work on the card (busy share 0), mW.
    pub idle_mw: u64,
    /// Power with the card saturated (busy share 1): the board's maximum / TDP, mW.
    pub full_mw: u64,
    /// Where the two figures come from (`catalog`, `profile`, `fleet`).
    pub source: PowerSource,
}

/// Where a [`PowerSpec`] comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PowerSource {
    /// The catalog's published figures (cited next to each preset).
    Catalog,
    /// Measured by `flexsim calibrate` (a device profile's `measured.power_*_w`).
    Profile,
    /// Given in the fleet file's `[models]` entry.
    Fleet,
}

impl PowerSource {
    /// The name summaries write.
    pub fn name(self) -> &'static str {
        match self {
            PowerSource::Catalog => "catalog",
            PowerSource::Profile => "profile",
            PowerSource::Fleet => "fleet",
        }
    }
}

impl PowerSpec {
    /// Catalog figures in whole watts.
    pub const fn catalog_w(idle_w: u64, full_w: u64) -> PowerSpec {
        PowerSpec {
            idle_mw: idle_w * MW_PER_W,
            full_mw: full_w * MW_PER_W,
            source: PowerSource::Catalog,
        }
    }

    /// Figures in (possibly fractional) watts from `source`, rounded to the milliwatt; `Err`
    /// names the problem when they are not finite, negative, or idle exceeds full load.
    pub fn from_watts(idle_w: f64, full_w: f64, source: PowerSource) -> Result<PowerSpec, String> {
        if !(idle_w.is_finite() && idle_w >= 0.0) {
            return Err(format!("idle power {idle_w} W must be a number >= 0"));
        }
        if !(full_w.is_finite() && full_w > 0.0) {
            return Err(format!("full-load power {full_w} W must be a number > 0"));
        }
        if idle_w > full_w {
            return Err(format!(
                "idle power {idle_w} W exceeds full-load power {full_w} W"
            ));
        }
        Ok(PowerSpec {
            idle_mw: (idle_w * MW_PER_W as f64).round() as u64,
            full_mw: (full_w * MW_PER_W as f64).round() as u64,
            source,
        })
    }

    /// The power that grows with the busy share: `P_full − P_idle`, mW.
    pub fn dynamic_mw(&self) -> u64 {
        self.full_mw.saturating_sub(self.idle_mw)
    }

    /// `P(b)` in watts for busy share `b` (clamped to 0..=1).
    pub fn watts_at(&self, busy: f64) -> f64 {
        let b = if busy.is_finite() {
            busy.clamp(0.0, 1.0)
        } else {
            0.0
        };
        (self.idle_mw as f64 + self.dynamic_mw() as f64 * b) / MW_PER_W as f64
    }

    pub fn idle_w(&self) -> f64 {
        self.idle_mw as f64 / MW_PER_W as f64
    }

    pub fn full_w(&self) -> f64 {
        self.full_mw as f64 / MW_PER_W as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn power_is_linear_in_the_busy_share() {
        let p = PowerSpec::catalog_w(60, 400);
        assert_eq!(p.watts_at(0.0), 60.0);
        assert_eq!(p.watts_at(1.0), 400.0);
        assert_eq!(p.watts_at(0.25), 60.0 + 340.0 * 0.25);
        assert_eq!(p.watts_at(7.0), 400.0); // clamped
        assert_eq!(p.watts_at(f64::NAN), 60.0);
    }

    #[test]
    fn measured_watts_are_checked() {
        let p = PowerSpec::from_watts(52.5, 298.25, PowerSource::Profile).unwrap();
        assert_eq!((p.idle_mw, p.full_mw), (52_500, 298_250));
        assert!(PowerSpec::from_watts(300.0, 200.0, PowerSource::Profile).is_err());
        assert!(PowerSpec::from_watts(-1.0, 200.0, PowerSource::Profile).is_err());
        assert!(PowerSpec::from_watts(1.0, f64::INFINITY, PowerSource::Profile).is_err());
    }
}
