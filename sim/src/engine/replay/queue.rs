//! The replay queue: who waits, in which order the policy sees them, and one scheduling pass.
//!
//! A pass offers the waiting jobs to the policy in the policy's order and treats a job that
//! cannot start as the policy's [`Discipline`] says: skip it (FIFO with skipping, the default),
//! block every job behind it (strict), or reserve its start and let later jobs backfill around
//! the reservation (EASY, `backfill.rs`). Jobs that fit exactly the same places form a *fit
//! class*: once a class found no place in a pass it is not tried again in that pass, and a class
//! the policy found no place for is parked until resources are released (Kubernetes'
//! unschedulable queue), because placements since then only filled the cluster.

use super::backfill::Reservation;
use super::keyed_queue::Entry;
use super::{Engine, State};
use crate::error::EngineError;
use crate::model::job::PodId;
use crate::policy::{Discipline, JobsView, Policy, QueuedJob, SimRng};

impl Engine<'_> {
    pub(super) fn enqueue(&mut self, id: PodId) {
        let j = &mut self.jobs[id];
        j.state = State::Waiting;
        j.enqueued_at = self.now;
        if let Some(kq) = self.keyed.as_mut() {
            kq.push(id);
            self.waiting_slot[id] = self.waiting.len() as u32;
        }
        self.waiting.push(QueuedJob {
            pod: id,
            since_ms: self.now,
            attained_gpu_ms: j.attained_gpu_ms,
        });
    }

    /// One scheduling pass over the queue in the policy's order, under its discipline.
    pub(super) fn schedule(
        &mut self,
        policy: &mut dyn Policy,
        rng: &mut SimRng,
    ) -> Result<(), EngineError> {
        if self.waiting.is_empty() {
            return Ok(());
        }
        self.tell_changes(policy);
        policy.begin_pass(&JobsView {
            now_ms: self.now,
            pods: self.pods,
            running: &self.running,
            fit_class: &self.fit_class,
        });
        if self.keyed.is_some() {
            return self.schedule_keyed(policy, rng);
        }
        let mut queue = std::mem::take(&mut self.waiting);
        {
            let view = JobsView {
                now_ms: self.now,
                pods: self.pods,
                running: &self.running,
                fit_class: &self.fit_class,
            };
            policy.order_queue(&view, &mut queue);
        }
        let discipline = policy.discipline();
        self.pass += 1;
        // Strict: a job could not start, so nothing behind it may. EASY: the first job that
        // could not start and has a reservation.
        let mut blocked = false;
        let mut reservation: Option<Reservation> = None;
        let mut still_waiting = std::mem::take(&mut self.spare_queue);
        still_waiting.clear();
        still_waiting.reserve(queue.len());
        for &q in &queue {
            let id = q.pod;
            // Defensive: a job is queued once, and `order_queue` may have written anything
            // into the slice (an id that is no job of the run is ignored, not a panic).
            if self.jobs.get(id).map(|j| j.state) != Some(State::Waiting) {
                continue;
            }
            let class = self.fit_class[id] as usize;
            if blocked || self.failed_in_pass[class] == self.pass {
                still_waiting.push(q);
                continue;
            }
            let started = match reservation.as_mut() {
                Some(res) => self.try_backfill(res, id, policy, rng)?,
                None => self.try_start(id, policy, rng)?,
            };
            if started {
                continue;
            }
            still_waiting.push(q);
            if reservation.is_none() {
                self.failed_in_pass[class] = self.pass;
                match discipline {
                    Discipline::Skip => {}
                    Discipline::Strict => blocked = true,
                    Discipline::EasyBackfill => reservation = self.reserve(id),
                }
            }
        }
        // Preempted jobs were queued while we iterated; they go behind the ones that waited.
        still_waiting.append(&mut self.waiting);
        self.waiting = still_waiting;
        queue.clear();
        self.spare_queue = queue;
        Ok(())
    }

    /// The pass of a keyed queue ([`ReplayHints::keyed_queue`], `keyed_queue.rs`): the same
    /// offers, in the same order, as the full walk of [`Engine::schedule`] over the queue
    /// sorted by key, without visiting the jobs that walk would skip. The next job offered is
    /// the smallest head among the classes still in the merge; a class that fails leaves it
    /// (the walk skips its later jobs), and a preemption, which frees resources, lets every
    /// class back in from the current position (the walk's new pass number). A class parked
    /// until a release is not offered at all where the offer could only fail without a call
    /// that matters: the policy never preempts, or the class is a gang (gangs do not ask for
    /// preemptions) — except under [`Discipline::Strict`], where its failure blocks the rest.
    ///
    /// Cost: O(classes with waiting jobs + offers × log(classes + jobs per class)) per pass.
    fn schedule_keyed(
        &mut self,
        policy: &mut dyn Policy,
        rng: &mut SimRng,
    ) -> Result<(), EngineError> {
        let strict = policy.discipline() == Discipline::Strict;
        let mut kq = self.keyed.take().expect("a keyed queue");
        // Key the jobs queued since the last pass.
        let mut pending = kq.take_pending();
        {
            let view = JobsView {
                now_ms: self.now,
                pods: self.pods,
                running: &self.running,
                fit_class: &self.fit_class,
            };
            for &(id, seq) in &pending {
                let q = self.waiting[self.waiting_slot[id] as usize];
                let key = policy.queue_key(&view, &q);
                kq.insert(self.fit_class[id] as usize, (key, seq, id));
            }
        }
        for &(id, _) in &pending {
            self.note_queued(self.fit_class[id] as usize);
        }
        pending.clear();
        kq.return_pending(pending);
        kq.compact();
        self.keyed = Some(kq);
        // A policy that never preempts need look only at the classes a release or an arrival
        // may have made offerable; one that preempts is asked about every class each pass.
        let by_list = self.hints.never_preempts && !strict;
        self.pass += 1;
        self.merge_stamp += 1;
        let stamp = self.merge_stamp;
        let mut heads = std::mem::take(&mut self.merge_heads);
        heads.clear();
        self.admit_classes(&mut heads, None, stamp, strict, by_list);
        while let Some(std::cmp::Reverse(entry)) = heads.pop() {
            let id = entry.2;
            let class = self.fit_class[id] as usize;
            self.in_merge[class] = 0;
            let pass_before = self.pass;
            let started = self.try_start(id, policy, rng)?;
            let kq = self.keyed.as_mut().expect("a keyed queue");
            if started {
                kq.remove(class, &entry);
                self.note_started(class);
                let kq = self.keyed.as_mut().expect("a keyed queue");
                let at = self.waiting_slot[id] as usize;
                self.waiting.swap_remove(at);
                if let Some(moved) = self.waiting.get(at) {
                    self.waiting_slot[moved.pod] = at as u32;
                }
                if let Some(next) = kq.next(class, Some(&entry)) {
                    heads.push(std::cmp::Reverse(next));
                    self.in_merge[class] = stamp;
                }
            } else {
                self.failed_in_pass[class] = self.pass;
                if strict {
                    break;
                }
            }
            if self.pass != pass_before {
                self.admit_classes(&mut heads, Some(&entry), stamp, strict, by_list);
            }
        }
        heads.clear();
        self.merge_heads = heads;
        // Every class offered either started all its jobs or failed, which parks it (a policy
        // that never preempts has no other way to fail): none is left to offer next time. (A
        // pass not by the list looked at every class.)
        self.offer_list.clear();
        Ok(())
    }

    /// Puts into the merge each class with waiting jobs that is not in it, did not fail in
    /// this pass and may be offered: its first job after `after` (the walk's position). The
    /// classes looked at are those of the offer list (`by_list`, `parking.rs`) or every class
    /// with waiting jobs. Under [`Discipline::Strict`] a parked class is offered too: its
    /// failure blocks the queue.
    fn admit_classes(
        &mut self,
        heads: &mut std::collections::BinaryHeap<std::cmp::Reverse<Entry>>,
        after: Option<&Entry>,
        stamp: u64,
        strict: bool,
        by_list: bool,
    ) {
        let kq = self.keyed.take().expect("a keyed queue");
        let list = if by_list {
            std::mem::take(&mut self.offer_list)
        } else {
            kq.active().to_vec()
        };
        for &c in &list {
            let c = c as usize;
            if self.in_merge[c] == stamp || self.failed_in_pass[c] == self.pass {
                continue;
            }
            if self.is_parked(c) && !strict && (self.hints.never_preempts || self.gang_class[c]) {
                continue;
            }
            if let Some(first) = kq.next(c, after) {
                heads.push(std::cmp::Reverse(first));
                self.in_merge[c] = stamp;
            }
        }
        if by_list {
            self.offer_list = list;
        }
        self.keyed = Some(kq);
    }

    /// Offers job `id` to the policy: a place, else a remote place, else the preemptions it
    /// asks for and a place again. Whether it started.
    fn try_start(
        &mut self,
        id: PodId,
        policy: &mut dyn Policy,
        rng: &mut SimRng,
    ) -> Result<bool, EngineError> {
        if self.is_gang(id) {
            return self.try_start_gang(id, None, policy, rng);
        }
        let class = self.fit_class[id] as usize;
        let pod = &self.pods[id];
        // Like Kubernetes' unschedulable queue: a class the policy found no place for is not
        // offered again until resources are released (a job finished or was preempted);
        // placements since then only filled the cluster.
        if !self.is_parked(class) {
            if let Some(p) = policy.place(&self.cluster, id, pod, rng) {
                self.start(id, p, policy)?;
                return Ok(true);
            }
            if let Some(rp) = policy.place_remote(&self.cluster, id, pod, rng) {
                self.start_remote(id, rp, policy)?;
                return Ok(true);
            }
            self.unplaceable_epoch[class] = self.release_epoch;
        }
        self.tell_changes(policy);
        let victims = {
            let view = JobsView {
                now_ms: self.now,
                pods: self.pods,
                running: &self.running,
                fit_class: &self.fit_class,
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
                return Ok(true);
            }
        }
        Ok(false)
    }
}
/// The disciplines on small hand-built replays, every start time computed by hand.
#[cfg(test)]
mod tests {
    use super::super::{run, ReplayConfig};
    use crate::metrics::replay_metrics::ReplayOutcome;
    use crate::model::cluster::{Cluster, Placement};
    use crate::model::fleet::{Fleet, NodeSpec};
    use crate::model::job::{Pod, PodId, Workload};
    use crate::policy::{gpu_select, Discipline, JobsView, Policy, SimRng};

    /// First node in fleet order with room, lowest free cards, under a chosen discipline;
    /// jobs named `hi*` preempt every running job named `v*`.
    struct FirstFit(Discipline);
    impl Policy for FirstFit {
        fn name(&self) -> &str {
            "first-fit"
        }
        fn place(&mut self, c: &Cluster, _: PodId, pod: &Pod, _: &mut SimRng) -> Option<Placement> {
            let node = (0..c.nodes().len()).find(|&n| c.node(n).fits(pod))?;
            let gpus = gpu_select::lowest_index(c.node(node), pod)?;
            Some(Placement { node, gpus })
        }
        fn discipline(&self) -> Discipline {
            self.0
        }
        fn preempt(&mut self, _: &Cluster, _: PodId, pod: &Pod, jobs: &JobsView<'_>) -> Vec<PodId> {
            if !pod.name.starts_with("hi") {
                return Vec::new();
            }
            let victims = jobs.running.iter().map(|r| r.pod);
            victims
                .filter(|&v| jobs.pods[v].name.starts_with('v'))
                .collect()
        }
    }

    /// `(name, arrival s, work s, GPUs)` on `nodes` nodes of `cards` whole V100s, no restart
    /// cost; first starts in seconds, in job order.
    fn starts(d: Discipline, nodes: u32, cards: u32, jobs: &[(&str, u64, u64, u32)]) -> Vec<u64> {
        first_starts(&replay(d, nodes, cards, jobs))
    }

    fn replay(
        d: Discipline,
        nodes: u32,
        cards: u32,
        jobs: &[(&str, u64, u64, u32)],
    ) -> ReplayOutcome {
        let f = Fleet::new(
            "t".into(),
            (0..nodes)
                .map(|i| NodeSpec::new(format!("n{i}"), 64_000, 1 << 20, cards, "V100M32".into()))
                .collect(),
        );
        let pods = jobs
            .iter()
            .map(|&(name, at, work, gpus)| {
                let mut p = Pod::new(name, 1000, 1024, gpus, 1000);
                p.arrival_ms = at * 1000;
                p.work_ms = Some(work * 1000);
                p.demand_milli = Some(1000);
                p
            })
            .collect();
        let w = Workload {
            name: "w".into(),
            pods,
        };
        let config = ReplayConfig {
            restart_cost_ms: 0,
            ..Default::default()
        };
        run(&f, &w, &mut FirstFit(d), &config).unwrap()
    }

    fn first_starts(o: &ReplayOutcome) -> Vec<u64> {
        o.jobs
            .iter()
            .map(|j| j.first_start_ms.expect("started") / 1000)
            .collect()
    }

    #[test]
    fn strict_blocks_behind_the_head_and_skip_does_not() {
        // 4 cards: a takes 3 (0..10 s); b needs 2 at 1 s and cannot start; c needs 1 at 2 s.
        let jobs = [("a", 0, 10, 3), ("b", 1, 5, 2), ("c", 2, 3, 1)];
        assert_eq!(starts(Discipline::Skip, 1, 4, &jobs), vec![0, 10, 2]);
        // Strict: c waits behind b; at 10 s both start (2 + 1 cards).
        assert_eq!(starts(Discipline::Strict, 1, 4, &jobs), vec![0, 10, 10]);
        assert_eq!(Discipline::default(), Discipline::Skip);
    }

    #[test]
    fn strict_a_job_that_fits_nowhere_blocks_nobody() {
        // 8 cards on a 4-card node: never startable, so not a head; b runs at once.
        let o = replay(
            Discipline::Strict,
            1,
            4,
            &[("big", 0, 5, 8), ("b", 1, 5, 1)],
        );
        assert_eq!(o.jobs[0].first_start_ms, None);
        assert_eq!(o.jobs[1].first_start_ms, Some(1_000));
    }

    #[test]
    fn strict_head_still_preempts_and_then_blocks() {
        // 3 cards held by v (0..100 s). hi (2 cards, 1 s) preempts v and starts at once; v is
        // requeued at 1 s. x (1 card, 2 s) queues behind v, which cannot start beside hi: under
        // Strict x waits; v restarts when hi ends (6 s) with 99 s left, and x starts at 105 s.
        let jobs = [("v", 0, 100, 3), ("hi", 1, 5, 2), ("x", 2, 1, 1)];
        let o = replay(Discipline::Strict, 1, 3, &jobs);
        assert_eq!(o.figures.preemptions, 1);
        assert_eq!(first_starts(&o), vec![0, 1, 105]);
        assert_eq!(o.jobs[0].finish_ms, Some(105_000));
        // Skip: x takes the free card at 2 s.
        assert_eq!(starts(Discipline::Skip, 1, 3, &jobs), vec![0, 1, 2]);
    }

    #[test]
    fn easy_backfills_short_jobs_and_jobs_that_leave_the_reservation_alone() {
        // 4 cards. a: 2 cards 0..10 s. h (3 cards, 1 s) cannot start: shadow 10 s on n0.
        // c (1 card, 2 s, 20 s of work) ends after the shadow but leaves 3 cards for h at 10 s:
        // backfills. d (1 card, 3 s, 20 s) would leave only 2 at 10 s: refused. e (1 card,
        // 4 s, 5 s of work) ends at 9 s, before the shadow: backfills. h starts at 10 s as
        // promised; d gets the card h frees at 15 s.
        let jobs = [
            ("a", 0, 10, 2),
            ("h", 1, 5, 3),
            ("c", 2, 20, 1),
            ("d", 3, 20, 1),
            ("e", 4, 5, 1),
        ];
        assert_eq!(
            starts(Discipline::EasyBackfill, 1, 4, &jobs),
            vec![0, 10, 2, 15, 4]
        );
        // Skip lets d in at 3 s and h waits for c (22 s); e gets a's cards at 10 s.
        assert_eq!(starts(Discipline::Skip, 1, 4, &jobs), vec![0, 22, 2, 3, 10]);
        // Strict: everyone waits for h; at 10 s h takes 3 cards and c the last one; d and e
        // follow as cards free (h ends 15 s: d, and e behind it).
        assert_eq!(
            starts(Discipline::Strict, 1, 4, &jobs),
            vec![0, 10, 10, 15, 15]
        );
    }

    #[test]
    fn easy_another_node_is_never_reserved() {
        // n0 (2 cards): a 0..10 s on both. n1 (2 cards): b one card 0..50 s. h (2 cards, 1 s)
        // is reserved on n0 at 10 s (n1 frees a card only at 50 s). c (1 card, 100 s of work)
        // ends long after the shadow but goes on n1: it starts at once. d (1 card, 3 s) finds
        // no card; at 10 s h takes n0, and d gets a card when h ends at 15 s.
        let jobs = [
            ("a", 0, 10, 2),
            ("b", 0, 50, 1),
            ("h", 1, 5, 2),
            ("c", 2, 100, 1),
            ("d", 3, 100, 1),
        ];
        let s = starts(Discipline::EasyBackfill, 2, 2, &jobs);
        assert_eq!(s, vec![0, 0, 10, 2, 15]);
    }
}
