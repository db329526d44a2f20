//! What the replay samples as it goes: the utilization integral per card (busy and allocated
//! share), the cards' tenancy for the energy meter, the time-series rows and the fragmentation
//! ratio at each sample point.

use super::{CardRef, Engine};
use crate::metrics::replay_metrics::TimePoint;
use crate::model::perf::TenantRate;
use crate::model::units::GPU_MILLI;

impl Engine<'_> {
    /// Moves the clock to `t`, accounting utilization and timeseries samples on the way.
    pub(super) fn advance(&mut self, t: u64) {
        if t <= self.now {
            return;
        }
        while let Some(at) = self.metrics.next_sample_before(t) {
            let frag = self.frag_ratio_pct();
            self.metrics.sample(
                at,
                TimePoint {
                    frag_ratio_pct: frag,
                    running: self.running.len() as u64,
                    waiting: self.waiting_count(),
                },
            );
        }
        self.metrics.integrate(self.now, t);
        self.now = t;
    }

    /// Jobs that arrived and neither run nor finished: the queue and the unplaceable ones.
    pub(super) fn waiting_count(&self) -> u64 {
        self.waiting.len() as u64 + self.unplaceable_arrived
    }

    pub(super) fn frag_ratio_pct(&mut self) -> f64 {
        let frag = self.frag.total(&self.cluster);
        let idle = self.cluster.gpu_capacity_milli() - self.cluster.gpu_used_milli();
        if idle == 0 {
            0.0
        } else {
            100.0 * frag / idle as f64
        }
    }

    pub(super) fn update_card_use(&mut self, card: CardRef) {
        let rates = self.card_rates(card);
        self.rate_cache.keep(card, &self.perf_out);
        let allocated = u64::from(
            self.cluster.node(card.0).cards()[card.1 as usize]
                .allocated_compute_milli()
                .min(GPU_MILLI),
        ) * 1000;
        let busy = (rates.busy.clamp(0.0, 1.0) * 1e6).round() as u64;
        let slot = self.card_base[card.0] as usize + usize::from(card.1);
        let old = std::mem::replace(&mut self.card_use[slot], (busy, allocated));
        let model = self.node_model[card.0];
        self.metrics.change_use(model, old, (busy, allocated));
        let occupied = !self.cluster.node(card.0).cards()[card.1 as usize]
            .tenants()
            .is_empty();
        self.metrics
            .card_tenancy(card.0, usize::from(card.1), occupied, self.now);
    }
}

/// The rates a refresh computed, per card (in the order computed), so that a tenant's rate
/// reads its card's instead of computing the card again ([`Engine::refresh_cards`]).
#[derive(Debug, Default)]
pub(super) struct RateCache {
    /// Each card computed, and where its tenants' rates start in `rates`.
    pub(super) cards: Vec<(CardRef, u32)>,
    /// The rates, tenant order within each card.
    pub(super) rates: Vec<f64>,
}

impl RateCache {
    pub(super) fn clear(&mut self) {
        self.cards.clear();
        self.rates.clear();
    }

    fn keep(&mut self, card: CardRef, out: &[TenantRate]) {
        self.cards.push((card, self.rates.len() as u32));
        self.rates.extend(out.iter().map(|t| t.rate));
    }
}
