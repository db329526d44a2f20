//! Energy of a replay (issue 13, "Energy"): what the cards drew, per device model and
//! cluster-wide, and what powering idle cards down would have saved.
//!
//! Power follows [`crate::model::power`]: `P = P_idle + (P_full − P_idle) · busy` per card.
//! Between two events every card's busy share is constant, so the energy of a device model over
//! a run is exactly
//!
//! ```text
//! E = P_idle · cards · span + (P_full − P_idle) · ∫ Σ busy dt
//! ```
//!
//! and the meter keeps only `∫ Σ busy dt` per model, in integer micro-card-milliseconds,
//! updated in O(1) when a card's busy share changes and in O(models) when the clock moves: no
//! sampling, no scan over the cards. Powers are integer milliwatts, so energies are exact
//! integers of µJ (mW · ms) until they are reported in kWh.
//!
//! The span is the whole run, from the first arrival to the end (the last finish, or the last
//! event): the energy of serving the workload, tail included — unlike utilization, which is
//! averaged over the arrival window.
//!
//! **Idle cards off** ([`EnergyMeter::new`]'s `idle_off_ms` = T): a card that has had no tenant
//! for T is taken to be powered down from then until its next tenant arrives, drawing 0 W — what
//! consolidation onto fewer cards would save if idle cards could be switched off. A card with no
//! tenant draws its idle power (its busy share is 0), so the saving is `P_idle` times the time
//! it spends off; the meter records when each card became empty (O(1) per tenancy change) and
//! sums the off time per model. Cards empty from the start are empty since the first arrival.

use serde::Serialize;

use crate::model::power::PowerSpec;

/// µJ in a kWh: 3.6e6 J × 1e6.
const UJ_PER_KWH: f64 = 3.6e12;
/// ms in an hour.
const MS_PER_H: f64 = 3.6e6;
/// Busy shares are micro-cards (1e6 = one card busy), as in the replay metrics.
const MICRO: u128 = 1_000_000;
/// `empty_since` of a card that has a tenant.
const OCCUPIED: u64 = u64::MAX;

/// One device model's part of the meter.
#[derive(Debug, Clone)]
struct ModelMeter {
    power: PowerSpec,
    cards: u64,
    /// Σ busy of the model's cards now, micro-cards.
    busy_now: u64,
    /// ∫ Σ busy dt over the run so far, micro-card-ms.
    busy_integral: u128,
    /// Card-ms the model's cards spent powered down (idle-off only).
    off_card_ms: u128,
}

/// Accumulates the energy integrals of a replay while it runs.
#[derive(Debug, Clone)]
pub struct EnergyMeter {
    start_ms: u64,
    models: Vec<ModelMeter>,
    /// T: a card with no tenant for this long is off until its next tenant; `None`: never.
    idle_off_ms: Option<u64>,
    /// Index of each node's first card in `card_model` / `empty_since`.
    card_base: Vec<usize>,
    /// Device model of each card (index into `models`).
    card_model: Vec<usize>,
    /// When each card last became empty, ms; [`OCCUPIED`] while it has a tenant.
    empty_since: Vec<u64>,
}

/// Energy of one device model over a run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ModelEnergy {
    pub model: String,
    pub power: PowerSpec,
    /// Energy drawn, kWh.
    pub energy_kwh: f64,
    /// Mean power over the run, W (all the model's cards together).
    pub power_avg_w: f64,
    /// Busy card-hours: ∫ Σ busy dt.
    pub busy_gpu_h: f64,
    /// Energy per busy card-hour, kWh; `None` when no card was busy.
    pub kwh_per_busy_gpu_h: Option<f64>,
    /// Energy idle-off would have saved, kWh; `None` when idle-off is not asked for.
    pub idle_off_saved_kwh: Option<f64>,
}

/// What idle-off would have changed, cluster-wide.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct IdleOff {
    /// T, minutes.
    pub after_min: f64,
    /// Energy with idle cards off after T, kWh.
    pub energy_kwh: f64,
    /// Energy saved, kWh, and as % of the always-on energy.
    pub saved_kwh: f64,
    pub saved_pct: f64,
}

/// Energy of a run, cluster-wide and per device model.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct EnergyFigures {
    /// The span integrated over, s (first arrival to end of run).
    pub span_s: f64,
    pub energy_kwh: f64,
    pub power_avg_w: f64,
    pub busy_gpu_h: f64,
    pub kwh_per_busy_gpu_h: Option<f64>,
    /// Useful work done over the run in reference card-hours (the solo-equivalent busy time of
    /// `util_goodput_pct`, over the whole run instead of the arrival window).
    pub goodput_gpu_h: f64,
    /// Energy per reference card-hour of useful work, kWh; `None` when no work was done.
    pub kwh_per_goodput_gpu_h: Option<f64>,
    pub per_model: Vec<ModelEnergy>,
    pub idle_off: Option<IdleOff>,
}

impl EnergyMeter {
    /// A meter from `start_ms` for device models with `powers` (index order of the replay's
    /// models) and nodes `nodes` = (model index, card count) each (`None`: a node without cards).
    pub fn new(
        start_ms: u64,
        powers: &[PowerSpec],
        nodes: impl IntoIterator<Item = (Option<usize>, usize)>,
        idle_off_ms: Option<u64>,
    ) -> EnergyMeter {
        let mut models: Vec<ModelMeter> = powers
            .iter()
            .map(|&power| ModelMeter {
                power,
                cards: 0,
                busy_now: 0,
                busy_integral: 0,
                off_card_ms: 0,
            })
            .collect();
        let mut card_base = Vec::new();
        let mut card_model = Vec::new();
        for (model, cards) in nodes {
            card_base.push(card_model.len());
            if let Some(m) = model.filter(|&m| m < models.len()) {
                models[m].cards += cards as u64;
                card_model.extend(std::iter::repeat_n(m, cards));
            }
        }
        let tracked = if idle_off_ms.is_some() {
            card_model.len()
        } else {
            0
        };
        EnergyMeter {
            start_ms,
            models,
            idle_off_ms,
            card_base,
            card_model,
            empty_since: vec![start_ms; tracked],
        }
    }

    /// A card of `model` went from busy share `old` to `new`, micro-cards.
    pub fn change_busy(&mut self, model: Option<usize>, old: u64, new: u64) {
        if let Some(m) = model.and_then(|m| self.models.get_mut(m)) {
            m.busy_now = m.busy_now + new - old;
        }
    }

    /// Adds the current busy shares over [from, to).
    pub fn integrate(&mut self, from: u64, to: u64) {
        let dt = u128::from(to.saturating_sub(from.max(self.start_ms)));
        if dt == 0 {
            return;
        }
        for m in &mut self.models {
            m.busy_integral += u128::from(m.busy_now) * dt;
        }
    }

    /// Card `card` of node `node` has a tenant (`occupied`) or none at `now`. Called whenever
    /// its tenants may have changed; repeating a state is harmless.
    pub fn tenancy(&mut self, node: usize, card: usize, occupied: bool, now: u64) {
        let Some(t) = self.idle_off_ms else { return };
        let Some(i) = self.card_base.get(node).map(|b| b + card) else {
            return;
        };
        let (Some(&since), Some(&m)) = (self.empty_since.get(i), self.card_model.get(i)) else {
            return;
        };
        match (occupied, since == OCCUPIED) {
            (true, false) => {
                self.models[m].off_card_ms += u128::from(off_ms(since, now, t));
                self.empty_since[i] = OCCUPIED;
            }
            (false, true) => self.empty_since[i] = now,
            _ => {}
        }
    }

    /// Adds the useful work done over the run, card-ms at reference speed, to `figures`.
    pub fn with_goodput(mut figures: EnergyFigures, goodput_card_ms: f64) -> EnergyFigures {
        figures.goodput_gpu_h = goodput_card_ms / MS_PER_H;
        figures.kwh_per_goodput_gpu_h =
            (goodput_card_ms > 0.0).then(|| figures.energy_kwh / figures.goodput_gpu_h);
        figures
    }

    /// The figures of a run that ended at `end_ms`; `names` are the models' names.
    pub fn figures(mut self, end_ms: u64, names: &[String]) -> EnergyFigures {
        if let Some(t) = self.idle_off_ms {
            for (i, &since) in self.empty_since.iter().enumerate() {
                if since != OCCUPIED {
                    let m = self.card_model[i];
                    self.models[m].off_card_ms += u128::from(off_ms(since, end_ms, t));
                }
            }
        }
        let span_ms = end_ms.saturating_sub(self.start_ms);
        let span_s = span_ms as f64 / 1000.0;
        let avg_w = |uj: u128| {
            if span_ms == 0 {
                0.0
            } else {
                // µJ / ms = mW.
                uj as f64 / span_ms as f64 / 1000.0
            }
        };
        let per_busy = |uj: u128, busy: u128| {
            (busy > 0).then(|| (uj as f64 / UJ_PER_KWH) / (busy as f64 / MICRO as f64 / MS_PER_H))
        };
        let mut total_uj = 0u128;
        let mut total_busy = 0u128;
        let mut total_saved = 0u128;
        let per_model: Vec<ModelEnergy> = self
            .models
            .iter()
            .enumerate()
            .map(|(i, m)| {
                let uj = energy_uj(m, span_ms);
                let saved = u128::from(m.power.idle_mw) * m.off_card_ms;
                total_uj += uj;
                total_busy += m.busy_integral;
                total_saved += saved;
                ModelEnergy {
                    model: names.get(i).cloned().unwrap_or_default(),
                    power: m.power,
                    energy_kwh: uj as f64 / UJ_PER_KWH,
                    power_avg_w: avg_w(uj),
                    busy_gpu_h: m.busy_integral as f64 / MICRO as f64 / MS_PER_H,
                    kwh_per_busy_gpu_h: per_busy(uj, m.busy_integral),
                    idle_off_saved_kwh: self.idle_off_ms.map(|_| saved as f64 / UJ_PER_KWH),
                }
            })
            .collect();
        EnergyFigures {
            span_s,
            energy_kwh: total_uj as f64 / UJ_PER_KWH,
            power_avg_w: avg_w(total_uj),
            busy_gpu_h: total_busy as f64 / MICRO as f64 / MS_PER_H,
            kwh_per_busy_gpu_h: per_busy(total_uj, total_busy),
            goodput_gpu_h: 0.0,
            kwh_per_goodput_gpu_h: None,
            per_model,
            idle_off: self.idle_off_ms.map(|t| IdleOff {
                after_min: t as f64 / 60_000.0,
                energy_kwh: total_uj.saturating_sub(total_saved) as f64 / UJ_PER_KWH,
                saved_kwh: total_saved as f64 / UJ_PER_KWH,
                saved_pct: if total_uj == 0 {
                    0.0
                } else {
                    100.0 * total_saved as f64 / total_uj as f64
                },
            }),
        }
    }
}

/// The part of an empty stretch [since, until) after the first `t` ms: the time the card is off.
fn off_ms(since: u64, until: u64, t: u64) -> u64 {
    until.saturating_sub(since.saturating_add(t))
}

/// A model's energy over `span_ms`, µJ: idle power of every card for the whole span plus the
/// dynamic power times the busy integral.
fn energy_uj(m: &ModelMeter, span_ms: u64) -> u128 {
    u128::from(m.power.idle_mw) * u128::from(m.cards) * u128::from(span_ms)
        + u128::from(m.power.dynamic_mw()) * m.busy_integral / MICRO
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names() -> Vec<String> {
        vec!["X".into()]
    }

    #[test]
    fn energy_is_exact_for_piecewise_constant_busy_shares() {
        // Two cards of 100 W idle, 300 W full, over 10 s: card 0 half busy for 4 s.
        // E = 2 × 100 W × 10 s + 200 W × 0.5 × 4 s = 2000 J + 400 J = 2400 J.
        let p = PowerSpec::catalog_w(100, 300);
        let mut e = EnergyMeter::new(0, &[p], [(Some(0), 2)], None);
        e.change_busy(Some(0), 0, 500_000);
        e.integrate(0, 4_000);
        e.change_busy(Some(0), 500_000, 0);
        e.integrate(4_000, 10_000);
        let f = e.figures(10_000, &names());
        assert!((f.energy_kwh - 2400.0 / 3.6e6).abs() < 1e-15);
        assert!((f.power_avg_w - 240.0).abs() < 1e-12);
        assert!((f.busy_gpu_h - 2.0 / 3600.0).abs() < 1e-15); // 0.5 card × 4 s
        assert!(f.idle_off.is_none() && f.per_model[0].idle_off_saved_kwh.is_none());
    }

    #[test]
    fn idle_off_saves_idle_power_after_t_until_the_next_tenant() {
        // One 100 W-idle card, T = 2 s, run 0..20 s: empty 0..5 (off 2..5: 3 s), a tenant
        // 5..8, empty 8..20 (off 10..20: 10 s) ⇒ 13 s × 100 W = 1300 J saved.
        let p = PowerSpec::catalog_w(100, 300);
        let mut e = EnergyMeter::new(0, &[p], [(Some(0), 1)], Some(2_000));
        e.tenancy(0, 0, true, 5_000);
        e.tenancy(0, 0, true, 6_000); // unchanged: no effect
        e.tenancy(0, 0, false, 8_000);
        e.tenancy(0, 0, false, 9_000);
        let f = e.figures(20_000, &names());
        let off = f.idle_off.unwrap();
        assert!((off.saved_kwh - 1300.0 / 3.6e6).abs() < 1e-15);
        assert!((off.energy_kwh - (2000.0 - 1300.0) / 3.6e6).abs() < 1e-15);
        assert!((off.saved_pct - 65.0).abs() < 1e-9);
    }
}
