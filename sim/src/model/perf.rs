//! Rate computation: how fast each tenant of one card progresses (slicing-model §7.2).
//!
//! One pure function, [`card_rates`], for every mechanism:
//!
//! 1. **Partitions** (whole card, MIG, vNPU) are sub-devices of capacity `a` (MIG with
//!    bandwidth-boundness κ: `a_eff = 1/(κ/a_mem + (1−κ)/a)`); granted `x_i = min(u_i, a_eff)`.
//! 2. **Shared group** (all spatial and temporal tenants of the card): weighted water-filling of
//!    capacity `1 − o(k)` over demands `min(u_i, c_i)`, guarantees `a_i` first, then priority
//!    classes in order (class 0 first), each class by weights.
//! 3. `rate_i = S_i · min(1, x_i/u_i) · (1 − Σ_{j≠i} ι_ij x_j) · ρ_i`.
//!
//! Floats are used here (rates and shares), never for resource accounting. The result is
//! deterministic: tenants are processed in the order given.

use serde::{Deserialize, Serialize};

use crate::model::slicing::{Isolation, Share};

/// Model parameters; every one is a default that calibration replaces (slicing-model §7.4).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct PerfParams {
    /// ι₀: spatial interference between any two co-running tenants.
    pub interference_base: f64,
    /// ι₁: extra spatial interference scaled by both tenants' bandwidth-boundness,
    /// ι_ij = ι₀ + ι₁·κ_i·κ_j (slicing-model §7.2 step 3).
    pub interference_bandwidth: f64,
    /// ε: interference between partitions of one card (shared PCIe / power); 0 by default.
    pub partition_interference: f64,
    /// Time-slice period, ms: each of k temporal tenants gets one turn per period.
    pub timeslice_period_ms: f64,
    /// Cost of one context switch, ms.
    pub switch_cost_ms: f64,
    /// ρ for a remote (拉远) tenant; see [`remote_penalty`] to derive it from link figures.
    pub remote_penalty: f64,
    /// Speed factor of a gang job whose parts span more than one node, in (0, 1]: it advances
    /// at its slowest card's rate times this, for the gradient exchange over the network
    /// instead of in-node links ([`crate::model::gang`]). One figure for every gang, whatever
    /// the nodes or links (topology-aware costs come later, DESIGN "Topology").
    #[serde(default = "default_cross_node_factor")]
    pub cross_node_factor: f64,
}

fn default_cross_node_factor() -> f64 {
    PerfParams::DEFAULT.cross_node_factor
}

impl PerfParams {
    /// Defaults:
    /// * ι₀ = 0.1, ι₁ = 0.5. §7.2 gives the prior ι ∈ [0, 0.6] growing with bandwidth-boundness;
    ///   ι₀ + ι₁ = 0.6 makes two fully bandwidth-bound tenants at half a card each lose 30 %
    ///   (1 − 0.6·0.5 = 0.7), the MPS "memory contention ⇒ −30 %" result of §6.2; compute-bound
    ///   pairs lose 5 %. Assumed split; fit jointly with measured demand (Gavel, §6.1).
    /// * ε = 0 (§7.2 step 1: partitions do not interfere, "optionally a small ε").
    /// * period 100 ms, switch 1 ms ⇒ o_ts(k) = k·1/100 for k ≥ 2 (Flex:ai's time-slice
    ///   scheduler uses a 100 ms period, §1.4b; native context switches cost ~ms, §6.2).
    /// * ρ = 0.9 for remote tenants: no published number exists (§1.5 — a scenario parameter).
    /// * cross-node factor 0.8: data-parallel training spread over servers loses to the network
    ///   what it would exchange over NVLink in one server. Horovod (Sergeev & Del Balso 2018,
    ///   arXiv:1802.05799) scales Inception V3 and ResNet-101 at about 90 % efficiency and
    ///   VGG-16 at 68 % on up to 128 GPUs, 4 a server, over 25 GbE RoCE; Tiresias (Gu et al., NSDI'19 §2.2) finds the loss large for
    ///   models with large tensors (VGG) and small for others, so it consolidates only those.
    ///   0.8 is about the middle of that 0.68–0.9 range. 1.0 (no penalty) would make spreading free
    ///   and hide exactly the cost gang placement trades against waiting; calibrate per
    ///   workload with `--cross-node-factor`.
    pub const DEFAULT: PerfParams = PerfParams {
        interference_base: 0.1,
        interference_bandwidth: 0.5,
        partition_interference: 0.0,
        timeslice_period_ms: 100.0,
        switch_cost_ms: 1.0,
        remote_penalty: 0.9,
        cross_node_factor: 0.8,
    };
}

impl Default for PerfParams {
    fn default() -> Self {
        PerfParams::DEFAULT
    }
}

/// One tenant of a card, as the rate computation sees it.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct PerfTenant {
    /// Guaranteed compute `a`, fraction of the card (0..=1).
    pub alloc: f64,
    /// Compute cap `c`, fraction of the card (a..=1).
    pub cap: f64,
    /// MIG memory-slice fraction `a_mem` (memory slices / 8); 0 = same as `alloc`. Used only
    /// for partitions with κ > 0.
    pub memory_fraction: f64,
    pub isolation: Isolation,
    /// Solo demand `u_i`: share of a whole card the job keeps busy alone (0..=1). A demand of 0
    /// means no device-bound work: granted 0, capacity term 1.
    pub demand: f64,
    /// Bandwidth-boundness κ_i (0..=1).
    pub bandwidth_boundness: f64,
    /// Water-filling weight (a_i or the time-slice weight); weights ≤ 0 share equally after
    /// the positive-weight tenants of their class.
    pub weight: f64,
    /// Priority class, 0 = highest, filled first.
    pub priority_class: u8,
    /// Runs on a remote device (pays ρ).
    pub remote: bool,
    /// ρ for this tenant's path when the fleet has a topology
    /// ([`crate::model::topology::remote_penalty_for_hops`]); `None`: the parameters' ρ.
    #[serde(default)]
    pub remote_penalty: Option<f64>,
    /// Solo speed `S` on this device for the job's class (work units/s on a whole card).
    pub speed: f64,
}

impl PerfTenant {
    /// A tenant from a card's [`Share`] (see `CardState::share`) plus the job's demand and speed.
    /// Other fields take neutral values (κ = 0, local); set them afterwards if known.
    pub fn from_share(share: &Share, demand: f64, speed: f64) -> Self {
        PerfTenant {
            alloc: f64::from(share.alloc_milli) / 1000.0,
            cap: f64::from(share.cap_milli) / 1000.0,
            memory_fraction: 0.0,
            isolation: share.isolation,
            demand,
            bandwidth_boundness: 0.0,
            weight: f64::from(share.weight_milli) / 1000.0,
            priority_class: share.priority_class,
            remote: false,
            remote_penalty: None,
            speed,
        }
    }
}

/// Per-tenant result.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct TenantRate {
    /// Granted share `x_i` of the card.
    pub granted: f64,
    /// Progress rate, work units/s.
    pub rate: f64,
}

/// Per-card result.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct CardRates {
    /// Busy share of the card (what NVML would show): Σ x_i, partitions counted at most `a`.
    pub busy: f64,
    /// Allocated share: Σ a_i.
    pub allocated: f64,
    /// Time-slice overhead `o(k)` taken from the shared group's capacity.
    pub overhead: f64,
}

/// Time-slice overhead with `k` active temporal tenants: `o_ts(k) = k · t_switch / period`
/// for k ≥ 2 (one switch per turn), 0 for k ≤ 1, at most 1 (slicing-model §7.2 step 2).
pub fn timeslice_overhead(k: usize, params: &PerfParams) -> f64 {
    if k < 2 || params.timeslice_period_ms <= 0.0 {
        return 0.0;
    }
    (k as f64 * params.switch_cost_ms / params.timeslice_period_ms).clamp(0.0, 1.0)
}

/// ρ_remote = 1 / (1 + λ_call·n_calls_per_work + bytes_per_work / B_net) (slicing-model §7.2).
/// `call_latency_s` λ_call in seconds, `bandwidth_bytes_per_s` B_net; a non-positive bandwidth
/// ignores the bandwidth term.
pub fn remote_penalty(
    call_latency_s: f64,
    calls_per_work: f64,
    bytes_per_work: f64,
    bandwidth_bytes_per_s: f64,
) -> f64 {
    let bw = if bandwidth_bytes_per_s > 0.0 {
        bytes_per_work / bandwidth_bytes_per_s
    } else {
        0.0
    };
    1.0 / (1.0 + (call_latency_s * calls_per_work).max(0.0) + bw.max(0.0))
}

/// Rates of all tenants of one card; convenience wrapper of [`card_rates_into`].
pub fn card_rates(tenants: &[PerfTenant], params: &PerfParams) -> (Vec<TenantRate>, CardRates) {
    let mut out = Vec::with_capacity(tenants.len());
    let card = card_rates_into(tenants, params, &mut out);
    (out, card)
}

const EPS: f64 = 1e-12;

fn unit(v: f64) -> f64 {
    if v.is_nan() {
        0.0
    } else {
        v.clamp(0.0, 1.0)
    }
}

fn in_group(t: &PerfTenant) -> bool {
    t.isolation != Isolation::Partition
}

/// Rates of all tenants of one card, written to `out` (cleared first; same order as
/// `tenants`), so the engine can reuse one buffer. No other allocation.
pub fn card_rates_into(
    tenants: &[PerfTenant],
    params: &PerfParams,
    out: &mut Vec<TenantRate>,
) -> CardRates {
    out.clear();
    let mut card = CardRates::default();

    // Pass 1: partitions get min(u, a_eff); shared-group tenants get their guarantee.
    let temporal = tenants
        .iter()
        .filter(|t| t.isolation == Isolation::Temporal && unit(t.demand) > 0.0)
        .count();
    let overhead = if tenants.iter().any(in_group) {
        timeslice_overhead(temporal, params)
    } else {
        0.0
    };
    let capacity = 1.0 - overhead;
    let mut guaranteed = 0.0;
    for t in tenants {
        let a = unit(t.alloc);
        let u = unit(t.demand);
        card.allocated += a;
        let x = if in_group(t) {
            let g = a.min(u.min(unit(t.cap)));
            guaranteed += g;
            g
        } else {
            let x = u.min(effective_capacity(t));
            // a_eff may exceed a (κ > 0, a_mem > a); busy counts SM time, at most a.
            card.busy += x.min(a);
            x
        };
        out.push(TenantRate {
            granted: x,
            rate: 0.0,
        });
    }
    // Guarantees above the group's capacity (time-slice overhead, oversubscription) shrink
    // proportionally.
    if guaranteed > capacity && guaranteed > 0.0 {
        let scale = capacity / guaranteed;
        for (t, r) in tenants.iter().zip(out.iter_mut()) {
            if in_group(t) {
                r.granted *= scale;
            }
        }
        guaranteed = capacity;
    }

    // Pass 2: water-fill the rest of the group's capacity, priority classes in order.
    let mut remaining = (capacity - guaranteed).max(0.0);
    let mut class = lowest_class_above(tenants, None);
    while let Some(c) = class {
        if remaining <= EPS {
            break;
        }
        remaining = fill_class(tenants, out, c, remaining, true);
        remaining = fill_class(tenants, out, c, remaining, false);
        class = lowest_class_above(tenants, Some(c));
    }

    // Pass 3: rates.
    let group_busy: f64 = tenants
        .iter()
        .zip(out.iter())
        .filter(|(t, _)| in_group(t))
        .map(|(_, r)| r.granted)
        .sum();
    card.busy += group_busy;
    card.overhead = overhead;
    let card_busy: f64 = out.iter().map(|r| r.granted).sum();
    for (i, t) in tenants.iter().enumerate() {
        let x = out[i].granted;
        let u = unit(t.demand);
        let progress = if u > 0.0 { (x / u).min(1.0) } else { 1.0 };
        let interference = match t.isolation {
            Isolation::Temporal => 0.0,
            Isolation::Partition => params.partition_interference * (card_busy - x),
            Isolation::Spatial => tenants
                .iter()
                .zip(out.iter())
                .enumerate()
                .filter(|(j, (o, _))| *j != i && in_group(o))
                .map(|(_, (o, r))| {
                    let iota = params.interference_base
                        + params.interference_bandwidth
                            * unit(t.bandwidth_boundness)
                            * unit(o.bandwidth_boundness);
                    iota * r.granted
                })
                .sum(),
        };
        let rho = if t.remote {
            t.remote_penalty.unwrap_or(params.remote_penalty)
        } else {
            1.0
        };
        out[i].rate = t.speed * progress * (1.0 - interference).max(0.0) * rho;
    }
    card
}

/// The lowest priority class of a shared-group tenant that is above `after`.
fn lowest_class_above(tenants: &[PerfTenant], after: Option<u8>) -> Option<u8> {
    tenants
        .iter()
        .filter(|t| in_group(t) && after.is_none_or(|a| t.priority_class > a))
        .map(|t| t.priority_class)
        .min()
}

/// MIG effective capacity `a_eff = 1/(κ/a_mem + (1−κ)/a)`, or `a` without κ / a_mem.
fn effective_capacity(t: &PerfTenant) -> f64 {
    let a = unit(t.alloc);
    let k = unit(t.bandwidth_boundness);
    let m = unit(t.memory_fraction);
    if k <= 0.0 || m <= 0.0 || a <= 0.0 {
        return a;
    }
    1.0 / (k / m + (1.0 - k) / a)
}

/// Weighted water-filling of `remaining` among the group tenants of `class` that still want
/// more. `positive` = fill the positive-weight tenants by weight; else fill the zero-weight
/// tenants equally. Returns what is left.
fn fill_class(
    tenants: &[PerfTenant],
    out: &mut [TenantRate],
    class: u8,
    mut remaining: f64,
    positive: bool,
) -> f64 {
    let weight = |t: &PerfTenant| if positive { t.weight } else { 1.0 };
    let eligible = |t: &PerfTenant| {
        in_group(t)
            && t.priority_class == class
            && if positive {
                t.weight > 0.0
            } else {
                t.weight <= 0.0 || t.weight.is_nan()
            }
    };
    let residual = |t: &PerfTenant, r: &TenantRate| unit(t.demand).min(unit(t.cap)) - r.granted;
    // Each round either saturates at least one tenant or hands out everything: ≤ n + 1 rounds.
    for _ in 0..=tenants.len() {
        if remaining <= EPS {
            break;
        }
        let total_weight: f64 = tenants
            .iter()
            .zip(out.iter())
            .filter(|(t, r)| eligible(t) && residual(t, r) > EPS)
            .map(|(t, _)| weight(t))
            .sum();
        if total_weight <= 0.0 {
            break;
        }
        let level = remaining / total_weight;
        let mut saturated = false;
        for (t, r) in tenants.iter().zip(out.iter_mut()) {
            let want = residual(t, r);
            if eligible(t) && want > EPS && want <= level * weight(t) {
                r.granted += want;
                remaining -= want;
                saturated = true;
            }
        }
        if !saturated {
            for (t, r) in tenants.iter().zip(out.iter_mut()) {
                if eligible(t) && residual(t, r) > EPS {
                    r.granted += level * weight(t);
                }
            }
            remaining = 0.0;
        }
    }
    remaining.max(0.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: f64 = 2.5;

    fn t(isolation: Isolation, alloc: f64, cap: f64, demand: f64) -> PerfTenant {
        PerfTenant {
            alloc,
            cap,
            memory_fraction: 0.0,
            isolation,
            demand,
            bandwidth_boundness: 0.0,
            weight: alloc,
            priority_class: 0,
            remote: false,
            remote_penalty: None,
            speed: S,
        }
    }

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-9
    }

    const NO_INTERFERENCE: PerfParams = PerfParams {
        interference_base: 0.0,
        interference_bandwidth: 0.0,
        ..PerfParams::DEFAULT
    };

    #[test]
    fn alone_on_whole_card_with_demand_one_runs_at_exactly_s() {
        let (r, c) = card_rates(
            &[t(Isolation::Partition, 1.0, 1.0, 1.0)],
            &PerfParams::DEFAULT,
        );
        assert_eq!(r[0].rate, S);
        assert_eq!(r[0].granted, 1.0);
        assert_eq!((c.busy, c.allocated, c.overhead), (1.0, 1.0, 0.0));
        // Demand 0.4 alone: still full speed, card 40 % busy.
        let (r, c) = card_rates(
            &[t(Isolation::Partition, 1.0, 1.0, 0.4)],
            &PerfParams::DEFAULT,
        );
        assert_eq!(r[0].rate, S);
        assert!(close(c.busy, 0.4));
    }

    #[test]
    fn flexai_hard_caps_with_interference() {
        // Spatial, a = c = 0.3 (u 0.6) and a = c = 0.5 (u 0.4), ι₀ = 0.1, κ = 0.
        // d = min(u, c) = 0.3, 0.4 → x = 0.3, 0.4 (guarantees cover demand, 0.3 left idle).
        // rate1 = S · 0.3/0.6 · (1 − 0.1·0.4) = S · 0.5 · 0.96 = 0.48 S
        // rate2 = S · 1 · (1 − 0.1·0.3) = 0.97 S
        let ts = [
            t(Isolation::Spatial, 0.3, 0.3, 0.6),
            t(Isolation::Spatial, 0.5, 0.5, 0.4),
        ];
        let (r, c) = card_rates(&ts, &PerfParams::DEFAULT);
        assert!(close(r[0].granted, 0.3) && close(r[1].granted, 0.4));
        assert!(close(r[0].rate, 0.48 * S));
        assert!(close(r[1].rate, 0.97 * S));
        assert!(close(c.busy, 0.7) && close(c.allocated, 0.8));
    }

    #[test]
    fn work_conserving_weighted_water_filling() {
        // a = 0.2 and 0.3, c = 1, u = 0.9 each, weights = a. Guarantees 0.2 + 0.3, then
        // 0.5 left shared 2:3 → +0.2, +0.3 → x = 0.4, 0.6; Σ = 1.
        let ts = [
            t(Isolation::Spatial, 0.2, 1.0, 0.9),
            t(Isolation::Spatial, 0.3, 1.0, 0.9),
        ];
        let (r, c) = card_rates(&ts, &NO_INTERFERENCE);
        assert!(close(r[0].granted, 0.4) && close(r[1].granted, 0.6));
        assert!(close(r[0].rate, S * 0.4 / 0.9) && close(r[1].rate, S * 0.6 / 0.9));
        assert!(close(c.busy, 1.0));
        // A tenant whose demand saturates releases the rest to the other:
        // a = 0.2 (u 0.3), a = 0.3 (u 0.9): level 1 would give +0.2 ≥ 0.1 residual → 0.3;
        // the other gets 1 − 0.3 = 0.7.
        let ts = [
            t(Isolation::Spatial, 0.2, 1.0, 0.3),
            t(Isolation::Spatial, 0.3, 1.0, 0.9),
        ];
        let (r, _) = card_rates(&ts, &NO_INTERFERENCE);
        assert!(close(r[0].granted, 0.3) && close(r[1].granted, 0.7));
        assert_eq!(r[0].rate, S);
    }

    #[test]
    fn high_priority_class_is_filled_first() {
        // class 0: a 0.2, u 0.7; class 1: a 0.2, u 0.9; c = 1. Guarantees 0.2 + 0.2, then
        // class 0 takes its residual 0.5 (x = 0.7), class 1 gets the last 0.1 (x = 0.3).
        let hi = t(Isolation::Spatial, 0.2, 1.0, 0.7);
        let lo = PerfTenant {
            priority_class: 1,
            ..t(Isolation::Spatial, 0.2, 1.0, 0.9)
        };
        let (r, c) = card_rates(&[lo, hi], &NO_INTERFERENCE);
        assert!(close(r[1].granted, 0.7) && close(r[0].granted, 0.3));
        assert_eq!(r[1].rate, S);
        assert!(close(c.busy, 1.0));
    }

    #[test]
    fn timeshare_pays_switch_overhead_not_interference() {
        // Two temporal tenants, a = c = 0.5, u = 1: o_ts(2) = 2·1/100 = 0.02, capacity 0.98;
        // guarantees 0.5 + 0.5 > 0.98 shrink to 0.49 each; rate = 0.49 S.
        let ts = [
            t(Isolation::Temporal, 0.5, 0.5, 1.0),
            t(Isolation::Temporal, 0.5, 0.5, 1.0),
        ];
        let (r, c) = card_rates(&ts, &PerfParams::DEFAULT);
        assert!(close(c.overhead, 0.02));
        assert!(close(r[0].granted, 0.49) && close(r[1].granted, 0.49));
        assert!(close(r[0].rate, 0.49 * S));
        assert!(close(c.busy, 0.98));
        // Alone: no switching, full speed.
        let (r, _) = card_rates(&ts[..1], &PerfParams::DEFAULT);
        assert!(close(r[0].granted, 0.5) && close(r[0].rate, 0.5 * S));
        assert_eq!(timeslice_overhead(1, &PerfParams::DEFAULT), 0.0);
        assert!(close(timeslice_overhead(5, &PerfParams::DEFAULT), 0.05));
    }

    #[test]
    fn mig_partitions_are_independent() {
        // A100-40: 3g = 42/108, 1g = 14/108 of the card. u = 0.3 each.
        // 3g: x = 0.3, rate = S. 1g: x = 14/108 = 0.1296, rate = S · 0.1296/0.3 = 0.432 S.
        let g3 = t(Isolation::Partition, 42.0 / 108.0, 42.0 / 108.0, 0.3);
        let g1 = t(Isolation::Partition, 14.0 / 108.0, 14.0 / 108.0, 0.3);
        let (r, c) = card_rates(&[g3, g1], &PerfParams::DEFAULT);
        assert_eq!(r[0].rate, S);
        assert!(close(r[1].rate, S * (14.0 / 108.0) / 0.3));
        assert!(c.busy <= c.allocated + 1e-12);
        // With κ = 0.5 and 1g.10gb (a_mem = 2/8): a_eff = 1/(0.5/0.25 + 0.5/(14/108)) ≈ 0.1707.
        let g1x = PerfTenant {
            bandwidth_boundness: 0.5,
            memory_fraction: 0.25,
            ..g1
        };
        let (r, c) = card_rates(&[g1x], &PerfParams::DEFAULT);
        let a_eff = 1.0 / (0.5 / 0.25 + 0.5 / (14.0 / 108.0));
        assert!(close(r[0].granted, a_eff));
        assert!(close(r[0].rate, S * a_eff / 0.3));
        assert!(c.busy <= c.allocated + 1e-12);
    }

    #[test]
    fn bandwidth_bound_pair_loses_30_percent() {
        // §6.2: MPS under memory contention ≈ −30 %. Two κ = 1 tenants at x = 0.5:
        // 1 − (0.1 + 0.5)·0.5 = 0.7; compute-bound (κ = 0): 1 − 0.1·0.5 = 0.95.
        let bw = PerfTenant {
            bandwidth_boundness: 1.0,
            ..t(Isolation::Spatial, 0.5, 0.5, 0.5)
        };
        let (r, _) = card_rates(&[bw, bw], &PerfParams::DEFAULT);
        assert!(close(r[0].rate, 0.7 * S) && close(r[1].rate, 0.7 * S));
        let cb = t(Isolation::Spatial, 0.5, 0.5, 0.5);
        let (r, _) = card_rates(&[cb, cb], &PerfParams::DEFAULT);
        assert!(close(r[0].rate, 0.95 * S));
    }

    #[test]
    fn remote_tenant_pays_rho() {
        let remote = PerfTenant {
            remote: true,
            ..t(Isolation::Partition, 1.0, 1.0, 1.0)
        };
        let (r, _) = card_rates(&[remote], &PerfParams::DEFAULT);
        assert!(close(r[0].rate, 0.9 * S));
        // 1 ms per call × 100 calls + 1 GB over 10 GB/s: 1/(1 + 0.1 + 0.1).
        assert!(close(remote_penalty(1e-3, 100.0, 1e9, 1e10), 1.0 / 1.2));
        assert_eq!(remote_penalty(0.0, 0.0, 0.0, 0.0), 1.0);
    }

    #[test]
    fn zero_weight_and_zero_demand_tenants() {
        // Native time slicing: a = 0, weight 0, c = 1, u 0.6 and 0.6. No guarantees; equal
        // split of 0.98 → 0.49 each.
        let ts = [
            PerfTenant {
                weight: 0.0,
                ..t(Isolation::Temporal, 0.0, 1.0, 0.6)
            },
            PerfTenant {
                weight: 0.0,
                ..t(Isolation::Temporal, 0.0, 1.0, 0.6)
            },
        ];
        let (r, _) = card_rates(&ts, &PerfParams::DEFAULT);
        assert!(close(r[0].granted, 0.49) && close(r[1].granted, 0.49));
        // Demand 0: granted nothing, still progresses at S (no device-bound work).
        let (r, c) = card_rates(
            &[t(Isolation::Spatial, 0.2, 1.0, 0.0)],
            &PerfParams::DEFAULT,
        );
        assert_eq!((r[0].granted, r[0].rate, c.busy), (0.0, S, 0.0));
        // Empty card.
        let (r, c) = card_rates(&[], &PerfParams::DEFAULT);
        assert!(r.is_empty() && c == CardRates::default());
    }

    #[test]
    fn water_filling_conserves_on_many_cards() {
        // Deterministic pseudo-random cards (64-bit LCG); invariants:
        // Σ x over the shared group ≤ 1 − o(k); every x_i ≤ min(u_i, c_i); partitions busy ≤ a;
        // guarantees honoured when they fit; rate ≤ S.
        let mut seed: u64 = 0x853c_49e6_748f_ea9b;
        let mut next = move || {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (seed >> 11) as f64 / (1u64 << 53) as f64
        };
        let mut buf = Vec::new();
        for _ in 0..2000 {
            // One card is either partitioned (Σ a ≤ 1) or a shared group, as in the slicing modes.
            let n = 1 + (next() * 8.0) as usize;
            let partitioned = next() < 0.3;
            let mut ts = Vec::new();
            let mut part_alloc = 0.0;
            for _ in 0..n {
                let iso = if partitioned {
                    Isolation::Partition
                } else if next() < 0.5 {
                    Isolation::Spatial
                } else {
                    Isolation::Temporal
                };
                let a: f64 = if partitioned {
                    (next() * 0.4).min(1.0 - part_alloc)
                } else {
                    next() * 0.4
                };
                part_alloc += a;
                let cap = if partitioned {
                    a
                } else {
                    a + (1.0 - a) * next()
                };
                let mut x = t(iso, a, cap, next());
                x.priority_class = (next() * 3.0) as u8;
                x.weight = if next() < 0.2 { 0.0 } else { next() };
                x.bandwidth_boundness = next();
                ts.push(x);
            }
            let c = card_rates_into(&ts, &PerfParams::DEFAULT, &mut buf);
            let mut group = 0.0;
            let mut guar = 0.0;
            for (tn, r) in ts.iter().zip(&buf) {
                assert!(r.granted >= -1e-12);
                assert!(
                    r.granted
                        <= tn.demand.min(if tn.isolation == Isolation::Partition {
                            1.0
                        } else {
                            tn.cap
                        }) + 1e-9
                );
                assert!(r.rate <= tn.speed + 1e-12 && r.rate >= 0.0);
                if tn.isolation == Isolation::Partition {
                    assert!(r.granted <= tn.alloc + 1e-9);
                } else {
                    group += r.granted;
                    guar += tn.alloc.min(tn.demand).min(tn.cap);
                }
            }
            let cap = 1.0 - c.overhead;
            assert!(group <= cap + 1e-9, "group {group} > {cap}");
            assert!(c.busy <= 1.0 + 1e-9);
            if partitioned {
                assert!(
                    c.busy <= c.allocated + 1e-9,
                    "partition busy above allocated"
                );
            }
            if guar <= cap {
                for (tn, r) in ts.iter().zip(&buf) {
                    if tn.isolation != Isolation::Partition {
                        assert!(r.granted + 1e-9 >= tn.alloc.min(tn.demand).min(tn.cap));
                    }
                }
            }
            // Work conservation: capacity left idle only if every group tenant is satisfied.
            if group < cap - 1e-9 {
                for (tn, r) in ts.iter().zip(&buf) {
                    if tn.isolation != Isolation::Partition {
                        assert!(
                            close(r.granted, tn.demand.min(tn.cap)),
                            "idle capacity but unmet demand"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn end_to_end_from_card_state() {
        use crate::model::catalog::{Catalog, CLASS_DEFAULT};
        use crate::model::slicing::{allocate, normalise, CardRequest, CardState, SlicingMode};
        // A job alone on a whole V100 with demand 1 runs at exactly S (= 1.0, the reference).
        let v100 = Catalog::preset("V100M32").unwrap();
        let s = v100.speed(CLASS_DEFAULT).unwrap();
        let mut card = CardState::new(SlicingMode::Whole);
        let slice = normalise(&SlicingMode::Whole, &v100, &CardRequest::new(1000, 0)).unwrap();
        allocate(&mut card, &v100, 1, &slice).unwrap();
        let tenant = PerfTenant::from_share(&card.share(0).unwrap(), 1.0, s);
        let (r, c) = card_rates(&[tenant], &PerfParams::DEFAULT);
        assert_eq!(r[0].rate, s);
        assert_eq!((c.busy, c.allocated), (1.0, 1.0));
        // Flex:ai 300 + 500 milli with demands 0.6 / 0.4: the flexai_hard_caps case above.
        let mode = SlicingMode::FLEXAI_VGPU;
        let mut card = CardState::new(mode);
        for (id, c) in [(1, 300), (2, 500)] {
            let sl = normalise(&mode, &v100, &CardRequest::new(c, 0)).unwrap();
            allocate(&mut card, &v100, id, &sl).unwrap();
        }
        let ts: Vec<PerfTenant> = [0.6, 0.4]
            .iter()
            .enumerate()
            .map(|(i, &u)| PerfTenant::from_share(&card.share(i).unwrap(), u, S))
            .collect();
        let (r, _) = card_rates(&ts, &PerfParams::DEFAULT);
        assert!(close(r[0].rate, 0.48 * S) && close(r[1].rate, 0.97 * S));
    }
}
