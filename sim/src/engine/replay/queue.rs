//! The replay queue: who waits, in which order the policy sees them, and one scheduling pass.
//!
//! A pass offers the waiting jobs to the policy in the policy's order, skipping jobs that
//! cannot start (FIFO with skipping). Jobs that fit exactly the same places form a *fit class*:
//! once a class found no place in a pass it is not tried again in that pass, and a class the
//! policy found no place for is parked until resources are released (Kubernetes'
//! unschedulable queue), because placements since then only filled the cluster.

use super::{Engine, State};
use crate::error::EngineError;
use crate::model::job::PodId;
use crate::policy::{JobsView, Policy, QueuedJob, SimRng};

impl Engine<'_> {
    pub(super) fn enqueue(&mut self, id: PodId) {
        let j = &mut self.jobs[id];
        j.state = State::Waiting;
        j.enqueued_at = self.now;
        self.waiting.push(QueuedJob {
            pod: id,
            since_ms: self.now,
            attained_gpu_ms: j.attained_gpu_ms,
        });
    }

    /// One scheduling pass over the queue in the policy's order.
    pub(super) fn schedule(
        &mut self,
        policy: &mut dyn Policy,
        rng: &mut SimRng,
    ) -> Result<(), EngineError> {
        if self.waiting.is_empty() {
            return Ok(());
        }
        let mut queue = std::mem::take(&mut self.waiting);
        {
            let view = JobsView {
                now_ms: self.now,
                pods: self.pods,
                running: &self.running,
            };
            policy.order_queue(&view, &mut queue);
        }
        self.pass += 1;
        let mut still_waiting = Vec::with_capacity(queue.len());
        for q in queue {
            let id = q.pod;
            if self.jobs[id].state != State::Waiting {
                continue; // defensive: a job is queued once
            }
            let class = self.fit_class[id] as usize;
            if self.failed_in_pass[class] == self.pass {
                still_waiting.push(q);
                continue;
            }
            let pod = &self.pods[id];
            // Like Kubernetes' unschedulable queue: a class the policy found no place for is
            // not offered again until resources are released (a job finished or was
            // preempted); placements since then only filled the cluster.
            if self.unplaceable_epoch[class] != self.release_epoch {
                if let Some(p) = policy.place(&self.cluster, id, pod, rng) {
                    self.start(id, p, policy)?;
                    continue;
                }
                if let Some(rp) = policy.place_remote(&self.cluster, id, pod, rng) {
                    self.start_remote(id, rp, policy)?;
                    continue;
                }
                self.unplaceable_epoch[class] = self.release_epoch;
            }
            let victims = {
                let view = JobsView {
                    now_ms: self.now,
                    pods: self.pods,
                    running: &self.running,
                };
                policy.preempt(&self.cluster, id, pod, &view)
            };
            let mut preempted = false;
            for v in victims {
                if self.jobs.get(v).map(|j| j.state) == Some(State::Running) {
                    self.preempt(v);
                    preempted = true;
                }
            }
            if preempted {
                // Resources were freed: earlier failures may now fit.
                self.pass += 1;
                if let Some(p) = policy.place(&self.cluster, id, pod, rng) {
                    self.start(id, p, policy)?;
                    continue;
                }
            }
            self.failed_in_pass[class] = self.pass;
            still_waiting.push(q);
        }
        // Preempted jobs were queued while we iterated; they go behind the ones that waited.
        still_waiting.append(&mut self.waiting);
        self.waiting = still_waiting;
        Ok(())
    }
}
