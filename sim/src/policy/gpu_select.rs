//! Choosing the GPUs inside the chosen node (fgd-protocol §2.7.7, the Reserve step).

use crate::model::cluster::Node;
use crate::model::job::Pod;
use crate::policy::SimRng;
use rand::RngExt;

/// `best`: a sharing pod takes the card with the least free milli among those that can take
/// it (lower index on ties); a whole or multi-GPU pod takes the lowest-index cards that can.
/// Only cards whose slicing state accepts the pod are candidates ([`Node::fitting_cards`]).
/// `None` if it doesn't fit.
pub fn best(node: &Node, pod: &Pod) -> Option<Vec<u16>> {
    if !pod.is_gpu_pod() {
        return Some(Vec::new());
    }
    if pod.is_sharing() {
        let free = node.gpu_free_milli();
        return node
            .fitting_cards(pod)
            .into_iter()
            .min_by_key(|&g| (free[g as usize], g))
            .map(|g| vec![g]);
    }
    lowest_index(node, pod)
}

/// The `num_gpu` lowest-index cards that can take the pod (for whole-GPU pods: the
/// lowest-index fully free GPUs).
pub fn lowest_index(node: &Node, pod: &Pod) -> Option<Vec<u16>> {
    let need = pod.num_gpu as usize;
    let mut gpus = node.fitting_cards(pod);
    gpus.truncate(need);
    (gpus.len() == need).then_some(gpus)
}

/// `random`: a sharing pod takes a card chosen uniformly among those that can take it, by
/// reservoir sampling in index order (one draw per fitting card after the first); a whole or
/// multi-GPU pod takes the lowest-index fitting cards (fgd-protocol §2.7.1).
pub fn random(node: &Node, pod: &Pod, rng: &mut SimRng) -> Option<Vec<u16>> {
    if !pod.is_sharing() {
        return lowest_index(node, pod);
    }
    let mut choice = None;
    for (seen, g) in node.fitting_cards(pod).into_iter().enumerate() {
        if seen == 0 || rng.random_range(0..=seen as u32) == 0 {
            choice = Some(g);
        }
    }
    choice.map(|g| vec![g])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::cluster::{Cluster, Placement};
    use crate::model::fleet::{Fleet, NodeSpec};
    use crate::model::units::GPU_MILLI;

    fn node_with(frees: &[u32]) -> Cluster {
        let fleet = Fleet::new(
            "t".into(),
            vec![NodeSpec::new(
                "n".into(),
                100_000,
                100_000,
                frees.len() as u32,
                "T4".into(),
            )],
        );
        let mut c = Cluster::new(&fleet);
        for (i, &f) in frees.iter().enumerate() {
            if f < GPU_MILLI {
                let p = Pod::new("x", 0, 0, 1, GPU_MILLI - f);
                c.place(
                    i,
                    &p,
                    Placement {
                        node: 0,
                        gpus: vec![i as u16],
                    },
                )
                .unwrap();
            }
        }
        c
    }

    #[test]
    fn best_is_tightest_fit_lower_index_on_ties() {
        let c = node_with(&[1000, 600, 450, 600, 450]);
        assert_eq!(best(c.node(0), &Pod::new("p", 0, 0, 1, 400)), Some(vec![2]));
        assert_eq!(best(c.node(0), &Pod::new("p", 0, 0, 1, 500)), Some(vec![1]));
        assert_eq!(
            best(c.node(0), &Pod::new("p", 0, 0, 1, 1000)),
            Some(vec![0])
        );
        assert_eq!(best(c.node(0), &Pod::new("p", 0, 0, 2, 1000)), None);
    }

    #[test]
    fn whole_pods_take_lowest_fully_free() {
        let c = node_with(&[500, 1000, 1000, 1000]);
        assert_eq!(
            best(c.node(0), &Pod::new("p", 0, 0, 2, 1000)),
            Some(vec![1, 2])
        );
    }

    #[test]
    fn random_picks_only_fitting_gpus_and_all_of_them() {
        use rand::SeedableRng;
        let c = node_with(&[300, 1000, 500, 700]);
        let mut rng = SimRng::seed_from_u64(1);
        let mut seen = std::collections::BTreeSet::new();
        for _ in 0..200 {
            let g = random(c.node(0), &Pod::new("p", 0, 0, 1, 500), &mut rng).unwrap();
            seen.insert(g[0]);
        }
        assert_eq!(seen.into_iter().collect::<Vec<_>>(), vec![1, 2, 3]);
    }
}
