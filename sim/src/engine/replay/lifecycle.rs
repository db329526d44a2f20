//! A job's life on the cluster: placed (locally or remotely), bound to its cards, and unbound
//! when it finishes or is preempted. Every placement goes through the cluster's checks, so a
//! policy that proposes something illegal stops the run with a typed error.

use super::{Engine, State};
use crate::error::{EngineError, PlacementError};
use crate::model::cluster::{NodeId, Placement};
use crate::model::job::PodId;
use crate::policy::{JobChange, Policy, RemotePlacement, RunningJob};

impl Engine<'_> {
    pub(super) fn start(
        &mut self,
        id: PodId,
        p: Placement,
        policy: &dyn Policy,
    ) -> Result<(), EngineError> {
        let (node, gpus) = (p.node, p.gpus.clone());
        self.cluster
            .place(id, &self.pods[id], p)
            .map_err(|source| self.refused(id, policy, source))?;
        self.bind(id, node, gpus, None, Vec::new());
        Ok(())
    }

    pub(super) fn start_remote(
        &mut self,
        id: PodId,
        rp: RemotePlacement,
        policy: &dyn Policy,
    ) -> Result<(), EngineError> {
        let (node, gpus) = (rp.device.node, rp.device.gpus.clone());
        self.cluster
            .place_remote(id, &self.pods[id], rp.host, rp.device)
            .map_err(|source| self.refused(id, policy, source))?;
        self.bind(id, node, gpus, Some(rp.host), Vec::new());
        Ok(())
    }

    pub(super) fn refused(
        &self,
        id: PodId,
        policy: &dyn Policy,
        source: PlacementError,
    ) -> EngineError {
        EngineError::Refused {
            policy: policy.name().to_owned(),
            pod: self.pods[id].name.to_string(),
            source,
        }
    }

    /// Marks a job placed on `node` (cards `gpus`; CPU and memory on `host` if remote; a
    /// gang's other parts `rest`) as running now, and recomputes the rates on its cards.
    pub(super) fn bind(
        &mut self,
        id: PodId,
        node: NodeId,
        gpus: Vec<u16>,
        host: Option<NodeId>,
        rest: Vec<Placement>,
    ) {
        let now = self.now;
        let j = &mut self.jobs[id];
        j.state = State::Running;
        j.waited_ms += now - j.enqueued_at;
        j.first_start.get_or_insert(now);
        j.node = node;
        j.gpus = gpus.into_boxed_slice();
        j.set_parts(host, rest);
        j.since = now;
        j.started_at = now;
        j.rate = 0.0;

        self.running_slot[id] = self.running.len() as u32;
        let r = RunningJob {
            pod: id,
            node,
            started_ms: now,
            attained_gpu_ms: j.attained_gpu_ms,
        };
        self.running.push(r);
        self.job_changes.push(JobChange::Started(r));
        if !self.spread.is_empty() {
            let j = &self.jobs[id];
            let mut parts: Vec<(NodeId, &[u16])> = vec![(j.node, &j.gpus[..])];
            parts.extend(j.rest().iter().map(|p| (p.node, &p.gpus[..])));
            let (tier, gb_s) = self.cluster.spread(&parts).expect("a topology");
            let factor = crate::model::topology::speed_factor(gb_s, self.comm_share);
            self.spread[id] = (tier, factor);
        }
        self.refresh(id);
    }

    /// Removes a running job from its cards, settling its progress and its co-tenants' rates.
    pub(super) fn unbind(&mut self, id: PodId) {
        self.settle(id);
        self.release_epoch += 1;
        let node = self.jobs[id].node;
        self.cluster
            .remove(id, node)
            .expect("a running job is on its node");
        let host = self.jobs[id].take_host();
        if let Some(host) = host {
            self.cluster
                .remove(id, host)
                .expect("a remote job's host part is on its host");
        }
        // A gang releases every part at once (its `rest` stays as the nodes it last ran on).
        for k in 0..self.jobs[id].rest().len() {
            let part = self.jobs[id].rest()[k].node;
            self.cluster
                .remove(id, part)
                .expect("a gang's parts are on their nodes");
        }
        let at = self.running_slot[id] as usize;
        self.running.swap_remove(at);
        self.job_changes.push(JobChange::Stopped {
            pod: id,
            at_ms: self.now,
        });
        if let Some(moved) = self.running.get(at) {
            self.running_slot[moved.pod] = at as u32;
        }
        let j = &mut self.jobs[id];
        j.generation += 1;
        j.rate = 0.0;
        self.refresh_cards(id);
        self.jobs[id].gpus = Box::default();
        if self.keyed.is_some() {
            let j = &self.jobs[id];
            let mut nodes = std::mem::take(&mut self.released_scratch);
            nodes.clear();
            nodes.push(j.node);
            nodes.extend(host);
            nodes.extend(j.rest().iter().map(|p| p.node));
            self.note_release(&nodes);
            self.released_scratch = nodes;
        }
    }

    pub(super) fn complete(&mut self, id: PodId) {
        self.unbind(id);
        let j = &mut self.jobs[id];
        j.state = State::Done;
        j.remaining = 0.0;
        j.finish = super::MaybeMs::at(self.now);
    }

    pub(super) fn preempt(&mut self, id: PodId) {
        self.unbind(id);
        let j = &mut self.jobs[id];
        j.preemptions += 1;
        j.remaining += self.config.restart_cost_ms as f64;
        self.metrics.preemptions += 1;
        self.enqueue(id);
    }
}
