//! How time runs: the event queue and the two protocols — [`inflation`] (the FGD paper's
//! snapshot experiment) and [`replay`] (time-faithful, with its queue, job lifecycle, rates
//! and sampling). The engine asks the policy (through [`crate::policy`]) and checks every
//! answer against the model's cluster state.

pub mod event_queue;
pub mod inflation;
pub mod replay;

use crate::error::EngineError;
use crate::model::fleet::{Fleet, ModeSource};
use crate::model::job::{FitKey, PerRequest, Pod};
use crate::policy::Policy;
use std::collections::BTreeMap;

/// The fleet a run of `policy` uses; both protocols' `run` start with it, so that a library
/// caller gets exactly what `flexsim run` gets from the same inputs. Every device model whose
/// mode was not chosen for the run ([`ModeSource::Chosen`]: [`Fleet::set_mode`],
/// [`Fleet::choose`], the CLI's `--slicing`) and that supports the policy's preferred mode
/// ([`Policy::preferred_slicing`]) runs in it ([`ModeSource::Policy`]); the others keep their
/// mode. A preferred mode that no model of a fleet with no chosen mode supports is an error
/// (the policy would run outside the mode it is defined for).
pub fn fleet_for(fleet: &Fleet, policy: &dyn Policy) -> Result<Fleet, EngineError> {
    let mut f = fleet.clone();
    if let Some(mode) = policy.preferred_slicing() {
        let any_chosen = f
            .devices
            .values()
            .any(|d| d.mode_source == ModeSource::Chosen);
        if f.prefer_mode(mode) == 0 && !any_chosen && !f.devices.is_empty() {
            return Err(EngineError::PreferredModeUnsupported {
                policy: policy.name().to_owned(),
                mode: mode.name(),
                fleet: fleet.name.clone(),
            });
        }
    }
    Ok(f)
}

/// Groups jobs that fit exactly the same places (same request in every dimension feasibility
/// looks at), so a scheduling pass tries each group at most once after a failure. The
/// priority is part of a class (a policy may rank or preempt by it); what [`fit_shapes`] groups
/// is the rest.
pub(crate) fn fit_classes(pods: &[Pod]) -> (Vec<u32>, usize) {
    let mut ids: BTreeMap<(FitKey<'_>, i32), u32> = BTreeMap::new();
    // A class is a function of the request, which pods asking alike share
    // ([`Pod::shared_request`]): each shared request is classed once (comparing keys was 2 %
    // of a 10^6-job replay). Ids still follow first appearance in job order.
    let mut by_request: PerRequest<u32> = PerRequest::default();
    let class = pods
        .iter()
        .map(|p| {
            *by_request.entry(p.request_id()).or_insert_with(|| {
                let next = ids.len() as u32;
                *ids.entry((p.fit_key(), p.priority)).or_insert(next)
            })
        })
        .collect();
    (class, ids.len())
}

/// Per fit class (`reps[class]` one of its jobs): its shape, the request [`Node::fits`] reads
/// — the class without its priority, but with the priority's slicing class — so that classes
/// of one shape fit the same nodes.
///
/// [`Node::fits`]: crate::model::cluster::Node::fits
pub(crate) fn fit_shapes(pods: &[Pod], reps: &[usize]) -> Vec<u32> {
    let mut ids: BTreeMap<(FitKey<'_>, u8), u32> = BTreeMap::new();
    reps.iter()
        .map(|&id| {
            let p = &pods[id];
            let next = ids.len() as u32;
            let class = crate::model::cluster::priority_class(p.priority);
            *ids.entry((p.fit_key(), class)).or_insert(next)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::cluster::{Cluster, Placement};
    use crate::model::fleet::NodeSpec;
    use crate::model::slicing::SlicingMode;
    use crate::policy::SimRng;

    /// Places nothing; prefers `mode`.
    struct Prefers(Option<SlicingMode>);
    impl Policy for Prefers {
        fn name(&self) -> &str {
            "prefers"
        }
        fn preferred_slicing(&self) -> Option<SlicingMode> {
            self.0
        }
        fn place(
            &mut self,
            _: &Cluster,
            _job: crate::model::job::PodId,
            _: &Pod,
            _: &mut SimRng,
        ) -> Option<Placement> {
            None
        }
    }

    fn fleet() -> Fleet {
        let node = |n: &str, model: &str| NodeSpec::new(n.into(), 1000, 1024, 1, model.into());
        let mut f = Fleet::new("f".into(), vec![node("a", "A100-80"), node("b", "T4")]);
        for (name, d) in f.devices.iter_mut() {
            d.model = crate::model::catalog::Catalog::preset(name).unwrap();
        }
        f
    }

    #[test]
    fn the_policys_preferred_mode_replaces_the_fleets_but_not_a_chosen_one() {
        let mig = fleet_for(&fleet(), &Prefers(Some(SlicingMode::MIG))).unwrap();
        let m = mig.modes();
        assert_eq!(
            (m["A100-80"].mode, m["A100-80"].source),
            (SlicingMode::MIG, ModeSource::Policy)
        );
        assert_eq!(
            (m["T4"].mode, m["T4"].source),
            (SlicingMode::SHARE, ModeSource::Fleet)
        );
        let mut chosen = fleet();
        chosen.choose(&"A100-80=whole".parse().unwrap()).unwrap();
        let m = fleet_for(&chosen, &Prefers(Some(SlicingMode::HAMI_VGPU)))
            .unwrap()
            .modes();
        assert_eq!(
            (m["A100-80"].mode, m["A100-80"].source),
            (SlicingMode::Whole, ModeSource::Chosen)
        );
        assert_eq!(
            (m["T4"].mode, m["T4"].source),
            (SlicingMode::HAMI_VGPU, ModeSource::Policy)
        );
        assert_eq!(fleet_for(&fleet(), &Prefers(None)).unwrap(), fleet());
    }

    #[test]
    fn a_preferred_mode_no_model_supports_is_an_error_unless_modes_were_chosen() {
        let err = fleet_for(&fleet(), &Prefers(Some(SlicingMode::Vnpu))).unwrap_err();
        assert_eq!(
            err.to_string(),
            "policy prefers runs cards in slicing mode vnpu, which no device model of fleet f supports"
        );
        let mut chosen = fleet();
        chosen.set_mode(SlicingMode::Whole).unwrap();
        assert!(fleet_for(&chosen, &Prefers(Some(SlicingMode::Vnpu))).is_ok());
    }
}
