//! Progress rates (slicing-model §7.2): a running job advances at the rate the performance
//! model gives it on its cards, piecewise constant. When a card's tenants change, each tenant's
//! progress is settled and its finish event re-issued; stale finish events carry an old
//! generation and are dropped.

use super::{CardRef, Engine, Event, State};
use crate::model::cluster::NodeId;
use crate::model::job::PodId;
use crate::model::perf::{self, PerfTenant};

impl Engine<'_> {
    /// Brings a running job's remaining work and attained service up to now.
    pub(super) fn settle(&mut self, id: PodId) {
        let now = self.now;
        let j = &mut self.jobs[id];
        if j.state != State::Running {
            return;
        }
        let dt = now - j.since;
        let gpus = j.gpus.len() + j.rest().iter().map(|p| p.gpus.len()).sum::<usize>();
        self.metrics
            .add_goodput(j.since, now, j.rate, j.demand(), gpus);
        j.remaining = (j.remaining - j.rate * dt as f64).max(0.0);
        j.attained_gpu_ms += dt * gpus.max(1) as u64;
        j.since = now;
    }

    /// Recomputes the rates of `id` and of every co-tenant on its cards.
    pub(super) fn refresh(&mut self, id: PodId) {
        self.refresh_cards(id);
        if self.jobs[id].gpus.is_empty() {
            // CPU-only job: runs at solo speed.
            self.set_rate(id, 1.0);
        }
    }

    /// Recomputes the rates of every tenant on `id`'s cards (every part of a gang) and the
    /// cards' use.
    ///
    /// Each touched card's rates are computed once ([`Engine::update_card_use`] keeps them in
    /// `rate_cache`), and a tenant's rate then reads them instead of computing its cards
    /// again: the card states do not change during a refresh, and the rates are a function of
    /// them, so the numbers are the ones a recomputation per tenant gives.
    pub(super) fn refresh_cards(&mut self, id: PodId) {
        let mut affected = std::mem::take(&mut self.affected_scratch);
        affected.clear();
        self.rate_cache.clear();
        for part in 0..=self.jobs[id].rest().len() {
            let node = self.part_node(id, part);
            for k in 0..self.part_cards(id, part) {
                let g = self.part_card(id, part, k);
                for t in self.cluster.node(node).cards()[g as usize].tenants() {
                    let tid = t.tenant_id as PodId;
                    if !affected.contains(&tid) {
                        affected.push(tid);
                    }
                }
                self.update_card_use((node, g));
            }
        }
        for &tid in &affected {
            let rate = self.job_rate(tid);
            self.set_rate(tid, rate);
        }
        self.affected_scratch = affected;
    }

    /// Part `part`'s node of job `id`: 0 is its own, k ≥ 1 a gang's k-th other part.
    fn part_node(&self, id: PodId, part: usize) -> NodeId {
        match part {
            0 => self.jobs[id].node,
            k => self.jobs[id].rest()[k - 1].node,
        }
    }

    /// How many cards part `part` of job `id` holds.
    fn part_cards(&self, id: PodId, part: usize) -> usize {
        match part {
            0 => self.jobs[id].gpus.len(),
            k => self.jobs[id].rest()[k - 1].gpus.len(),
        }
    }

    /// The `k`-th card of part `part` of job `id`.
    fn part_card(&self, id: PodId, part: usize, k: usize) -> u16 {
        match part {
            0 => self.jobs[id].gpus[k],
            p => self.jobs[id].rest()[p - 1].gpus[k],
        }
    }

    /// A job's progress rate: the slowest of its cards (its devices advance in lock-step); a
    /// gang spanning several nodes, times the cross-node factor.
    pub(super) fn job_rate(&mut self, id: PodId) -> f64 {
        let mut rate = f64::INFINITY;
        for part in 0..=self.jobs[id].rest().len() {
            let node = self.part_node(id, part);
            for k in 0..self.part_cards(id, part) {
                let g = self.part_card(id, part, k);
                let card = &self.cluster.node(node).cards()[g as usize];
                let at = card
                    .tenants()
                    .iter()
                    .position(|t| t.tenant_id as PodId == id)
                    .expect("tenant on its card");
                rate = rate.min(self.tenant_rate((node, g), at));
            }
        }
        if let Some(&(_, factor)) = self.spread.get(id) {
            // A fleet with a topology: the slowest link the placement spans.
            rate *= factor;
        } else if !self.jobs[id].rest().is_empty() {
            rate *= self.config.perf.cross_node_factor;
        }
        if rate.is_finite() {
            rate
        } else {
            1.0
        }
    }

    /// The rate of the `at`-th tenant of `card`: from this refresh's `rate_cache` when the
    /// refresh computed that card, else computed now.
    fn tenant_rate(&mut self, card: CardRef, at: usize) -> f64 {
        if let Some(&(_, start)) = self.rate_cache.cards.iter().find(|(c, _)| *c == card) {
            return self.rate_cache.rates[start as usize + at];
        }
        self.card_rates(card);
        self.perf_out[at].rate
    }

    /// Computes the rates of every tenant on a card into `perf_out` (tenant order) and
    /// returns the card's busy and allocated shares (slicing-model §7.2).
    pub(super) fn card_rates(&mut self, (node, g): CardRef) -> perf::CardRates {
        let n = self.cluster.node(node);
        let device = n.device().expect("a card has a device");
        let card = &n.cards()[g as usize];
        self.perf_in.clear();
        for (i, t) in card.tenants().iter().enumerate() {
            let share = card.share(i).expect("index in range");
            let pod = &self.pods[t.tenant_id as PodId];
            let speed = device.model.speed(&pod.class).unwrap_or(1.0);
            let job = &self.jobs[t.tenant_id as PodId];
            let mut tenant = PerfTenant::from_share(&share, job.demand(), speed);
            tenant.remote = job.host().is_some();
            if let (Some(host), Some(topo)) = (job.host(), self.cluster.topology()) {
                // Remote pooling pays by the path between host and device node.
                let params = device.perf.as_ref().unwrap_or(&self.config.perf);
                tenant.remote_penalty = Some(crate::model::topology::remote_penalty_for_hops(
                    params.remote_penalty,
                    topo.hops(host, node),
                ));
            }
            self.perf_in.push(tenant);
        }
        let params = device.perf.as_ref().unwrap_or(&self.config.perf);
        perf::card_rates_into(&self.perf_in, params, &mut self.perf_out)
    }

    pub(super) fn set_rate(&mut self, id: PodId, rate: f64) {
        self.settle(id);
        let now = self.now;
        let j = &mut self.jobs[id];
        j.rate = rate;
        j.generation += 1;
        if rate > 0.0 {
            let left = (j.remaining / rate).ceil();
            // A tiny rate can put the finish beyond u64 ms: it then never comes (saturated,
            // never wrapped into the past).
            let at = now.saturating_add(if left.is_finite() {
                left as u64
            } else {
                u64::MAX / 4
            });
            self.queue.push(at, Event::Finish(id, j.generation));
        }
    }
}
