//! The fleet as a graph (DESIGN "Topology"; issue 10): each node's devices and their in-node
//! links, the nodes under top-of-rack switches, racks under spines — any depth ("hypernodes" as
//! Volcano calls the levels) — and what a placement's spread costs.
//!
//! **Where it comes from.** A fleet file's `[topology]` table and its groups' switch names
//! (`rack = "r{i/16}"`; `traces/README.md` "Topology"), read by `input::fleet_file`; every
//! device model's in-node links are a catalog preset ([`Board`], `catalog/board_table.rs`).
//! A fleet with no topology has none ([`Fleet::topology`](crate::model::fleet::Fleet::topology) is `None`) and runs the flat model,
//! unchanged: in-node links free, every gang spanning nodes at `cross_node_factor`.
//!
//! **The graph.** [`Topology::graph`] builds a petgraph graph of it — devices, in-node
//! fabrics (NVSwitch, NVLink, HCCS), PCIe switches, hosts, network switches, with a
//! [`LinkClass`] and a bandwidth on every edge — for `flexsim fleet show` (`--dot`: Graphviz)
//! and for path questions. The engine's per-event questions (which tier does this placement
//! span? how many hops between two nodes?) are answered from the compact tables the graph is
//! built from, in O(parts × levels), never by a graph search.
//!
//! **The tiers** ([`Tier`]) a placement spans, tightest first: one device; one fabric domain of
//! one board (all-to-all NVSwitch, an NVLink mesh, one HCCS ring); one node across PCIe; then
//! each network level, lowest first (one rack, one spine, ...).
//!
//! **The cost model** ([`speed_factor`]): a data-parallel step is compute plus gradient
//! exchange; on the reference board (an HGX A100's NVLink, [`REFERENCE_BOARD_GB_S`]) the
//! exchange takes a share `c` of the step. Spread over a slowest link of bandwidth `B`, the
//! exchange takes `B_ref / B` times longer, so the job advances at
//! `f = 1 / (1 − c + c · B_ref / B)` (at most 1). `c` is fixed by the one figure the flat model
//! already has: a gang across nodes over the reference network ([`REFERENCE_NIC_GB_S`], one
//! 200 Gb/s NIC a node) runs at `cross_node_factor` (0.8, from Horovod's and Tiresias'
//! scaling measurements — [`PerfParams`](crate::model::perf::PerfParams)), so
//! `c = (1/f_rack − 1) / (B_ref / B_nic − 1)` ([`comm_share`]). The other tiers then follow
//! from their bandwidths, which are published figures (datasheets, cited in the board table):
//! see the worked example in the tests (`worked_example_of_the_cost_model`).
//!
//! **Remote pooling by path** ([`remote_penalty_for_hops`]): the flat model's ρ is the cost of
//! running a job's device part on another node of the same rack (two links: node → switch →
//! node). Remote device calls are latency-bound (many small calls, slicing-model §1.5), so each
//! further pair of links on the path adds the same overhead again:
//! `ρ(h) = 1 / (1 + (1/ρ − 1) · h / 2)` for a path of `h` links.

use std::collections::BTreeMap;
use std::fmt;

/// The kind of a link.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum LinkClass {
    /// NVIDIA NVSwitch: all devices of the board all-to-all (HGX A100/H100/H200).
    NvSwitch,
    /// NVIDIA NVLink point-to-point mesh (DGX-1's hybrid cube mesh of V100s).
    NvLink,
    /// Huawei HCCS: Ascend NPUs of one ring all-to-all.
    Hccs,
    /// PCIe: a device to its PCIe switch, a switch to its host.
    Pcie,
    /// The data-centre network: a node's NIC to its switch, a switch to the level above.
    Network,
}

impl LinkClass {
    /// The name `fleet show` and the DOT output print.
    pub fn name(self) -> &'static str {
        match self {
            LinkClass::NvSwitch => "nvswitch",
            LinkClass::NvLink => "nvlink",
            LinkClass::Hccs => "hccs",
            LinkClass::Pcie => "pcie",
            LinkClass::Network => "network",
        }
    }
}

/// One device model's in-node topology: a fast fabric joining the devices of a domain, and
/// PCIe joining domains (and everything, on a PCIe-only box).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Board {
    /// The class of the links inside a fabric domain; [`LinkClass::Pcie`] when the board has no
    /// fabric beyond PCIe.
    pub fabric: LinkClass,
    /// Devices per fabric domain: 8 on an HGX board, 4 per HCCS ring, 1 on a PCIe-only box.
    /// Device `i` is in domain `i / domain`.
    pub domain: u16,
    /// Bandwidth each device has into its domain, GB/s (both directions together, as
    /// datasheets give it).
    pub fabric_gb_s: f64,
    /// Devices per PCIe switch (the graph's shape; the cost is the PCIe bandwidth either way).
    pub pcie_switch: u16,
    /// Bandwidth of one device's PCIe link, GB/s: what traffic between domains, or on a
    /// PCIe-only box between any two devices, gets.
    pub pcie_gb_s: f64,
    /// Where the figures come from.
    pub source: &'static str,
}

impl Board {
    /// The tier and the slowest bandwidth of a placement on `cards` of one node (empty or one
    /// card: [`Tier::Device`], nothing exchanged).
    pub fn spread(&self, cards: &[u16]) -> (Tier, f64) {
        if cards.len() <= 1 {
            return (Tier::Device, f64::INFINITY);
        }
        let domain = self.domain.max(1);
        let first = cards[0] / domain;
        if domain > 1 && cards.iter().all(|&g| g / domain == first) {
            (Tier::Board, self.fabric_gb_s)
        } else {
            (Tier::Node, self.pcie_gb_s)
        }
    }
}

/// How far apart a placement's devices are: the highest level of the graph its traffic
/// crosses. Ordered tightest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Tier {
    /// One device: nothing to exchange.
    Device,
    /// Several devices of one fabric domain of one node.
    Board,
    /// Several devices of one node, across PCIe.
    Node,
    /// Several nodes under one switch of network level `k` (0: one rack, 1: one spine, ...).
    Net(u8),
}

/// The bandwidth of the reference board, GB/s per device: an HGX A100's third-generation
/// NVLink (12 links × 50 GB/s; NVIDIA A100 Tensor Core GPU datasheet, 2021).
pub const REFERENCE_BOARD_GB_S: f64 = 600.0;

/// The bandwidth of the reference network, GB/s per node: one 200 Gb/s NIC (HDR InfiniBand or
/// 200 GbE), the default `nic_gbps` of a fleet's `[topology]`.
pub const REFERENCE_NIC_GB_S: f64 = 25.0;

/// The default node uplink of a `[topology]`, Gb/s (one [`REFERENCE_NIC_GB_S`] NIC).
pub const DEFAULT_NIC_GBPS: f64 = 200.0;

/// The default oversubscription of each network level above the racks: 2:1, the usual
/// ratio of a leaf's downlinks to its uplinks in a cost-sized two-tier Clos (a non-blocking
/// fabric is 1).
pub const DEFAULT_OVERSUBSCRIPTION: f64 = 2.0;

/// The communication share `c` of a step on the reference board that makes a gang across the
/// reference network run at `cross_node_factor` (module notes).
pub fn comm_share(cross_node_factor: f64) -> f64 {
    let f = cross_node_factor.clamp(f64::MIN_POSITIVE, 1.0);
    (1.0 / f - 1.0) / (REFERENCE_BOARD_GB_S / REFERENCE_NIC_GB_S - 1.0)
}

/// The speed factor of a job whose slowest link has `gb_s` of bandwidth, for communication
/// share `c`: `1 / (1 − c + c · B_ref / B)`, at most 1 (module notes).
pub fn speed_factor(gb_s: f64, c: f64) -> f64 {
    if !gb_s.is_finite() || gb_s >= REFERENCE_BOARD_GB_S {
        return 1.0;
    }
    let f = 1.0 / (1.0 - c + c * REFERENCE_BOARD_GB_S / gb_s.max(f64::MIN_POSITIVE));
    f.min(1.0)
}

/// ρ for a remote job whose host and device nodes are `hops` links apart, from the flat
/// model's same-rack `rho` (module notes). Two links or fewer: `rho` itself.
pub fn remote_penalty_for_hops(rho: f64, hops: u32) -> f64 {
    if hops <= 2 || rho <= 0.0 {
        return rho;
    }
    1.0 / (1.0 + (1.0 / rho - 1.0) * f64::from(hops) / 2.0)
}

/// A fleet's topology: the network levels above its nodes, which switch of each level each
/// node is under, the links' bandwidths, and each device model's [`Board`].
#[derive(Debug, Clone, PartialEq)]
pub struct Topology {
    /// Names of the network levels, lowest first (`rack`, `spine`, ...). The top level has one
    /// switch (a fleet whose named top level has several gets one more level above them).
    pub levels: Vec<String>,
    /// Per level, its switches' names.
    pub switches: Vec<Vec<String>>,
    /// Per node, the switch above it at each level: `under[node * levels + level]`.
    under: Vec<u32>,
    /// A node's uplink to its rack switch, GB/s.
    pub nic_gb_s: f64,
    /// Per level, the bandwidth a node has across that level's switch, GB/s: level 0 the
    /// NIC's, each level above divided by its oversubscription.
    pub level_gb_s: Vec<f64>,
    /// Per level, its oversubscription as the file gave it (level 0: 1).
    pub oversubscription: Vec<f64>,
    /// In-node topology per device model (the fleet's model names).
    pub boards: BTreeMap<String, Board>,
    /// Per level, the most nodes under one of its switches.
    largest: Vec<usize>,
}

/// What a fleet file says of the network: level names, per node the switch name at each level,
/// the NIC and the oversubscription of the levels above the first.
#[derive(Debug, Clone, PartialEq)]
pub struct NetworkSpec {
    pub levels: Vec<String>,
    /// Per node, per level, the switch's name.
    pub switch_of: Vec<Vec<String>>,
    pub nic_gbps: f64,
    /// Per level above the first (`levels.len() − 1` entries; missing ones take
    /// [`DEFAULT_OVERSUBSCRIPTION`]).
    pub oversubscription: Vec<f64>,
}

impl Topology {
    /// Builds the topology from a fleet file's network description and the boards of its
    /// device models. Switches are numbered in order of first appearance; a switch of level
    /// `k` must sit under one switch of level `k + 1` (else it is an error naming it).
    pub fn new(spec: NetworkSpec, boards: BTreeMap<String, Board>) -> Result<Topology, String> {
        let mut levels = spec.levels.clone();
        if levels.is_empty() {
            return Err("[topology]: no network level (give levels = [\"rack\"])".into());
        }
        let mut switch_of = spec.switch_of;
        // A top level with several switches gets one more level above it, with one switch.
        let top_names: std::collections::BTreeSet<&String> = switch_of
            .iter()
            .filter_map(|s| s.last())
            .collect::<std::collections::BTreeSet<_>>();
        if top_names.len() > 1 {
            let name = if levels.iter().any(|l| l == "spine") {
                "core"
            } else {
                "spine"
            };
            levels.push(name.to_owned());
            for s in &mut switch_of {
                s.push(name.to_owned());
            }
        }
        let l = levels.len();
        let mut switches: Vec<Vec<String>> = vec![Vec::new(); l];
        let mut index: Vec<BTreeMap<String, u32>> = vec![BTreeMap::new(); l];
        let mut parent: Vec<BTreeMap<u32, u32>> = vec![BTreeMap::new(); l];
        let mut under = Vec::with_capacity(switch_of.len() * l);
        for names in &switch_of {
            if names.len() != l {
                return Err(format!(
                    "a node names {} switch level(s), the topology has {l}",
                    names.len()
                ));
            }
            let mut below: Option<u32> = None;
            for (k, name) in names.iter().enumerate() {
                let next = index[k].len() as u32;
                let id = *index[k].entry(name.clone()).or_insert_with(|| {
                    switches[k].push(name.clone());
                    next
                });
                if let Some(b) = below {
                    let p = *parent[k - 1].entry(b).or_insert(id);
                    if p != id {
                        return Err(format!(
                            "{} {:?} is under two {}s, {:?} and {:?}: a switch has one parent",
                            levels[k - 1],
                            switches[k - 1][b as usize],
                            levels[k],
                            switches[k][p as usize],
                            name
                        ));
                    }
                }
                under.push(id);
                below = Some(id);
            }
        }
        if !(spec.nic_gbps.is_finite() && spec.nic_gbps > 0.0) {
            return Err(format!(
                "[topology] nic_gbps: expected a positive bandwidth in Gb/s, got {}",
                spec.nic_gbps
            ));
        }
        let nic_gb_s = spec.nic_gbps / 8.0;
        let mut oversubscription = vec![1.0];
        let mut level_gb_s = vec![nic_gb_s];
        for k in 1..l {
            let o = spec
                .oversubscription
                .get(k - 1)
                .copied()
                .unwrap_or(DEFAULT_OVERSUBSCRIPTION);
            if !(o.is_finite() && o >= 1.0) {
                return Err(format!(
                    "[topology] oversubscription of {}: expected a ratio of at least 1 (1 = \
                     non-blocking), got {o}",
                    levels[k]
                ));
            }
            oversubscription.push(o);
            level_gb_s.push(level_gb_s[k - 1] / o);
        }
        let mut t = Topology {
            levels,
            switches,
            under,
            nic_gb_s,
            level_gb_s,
            oversubscription,
            boards,
            largest: Vec::new(),
        };
        t.largest = (0..l)
            .map(|k| t.nodes_under(k).into_iter().max().unwrap_or(0))
            .collect();
        Ok(t)
    }

    /// Number of nodes it places.
    pub fn node_count(&self) -> usize {
        self.under.len() / self.levels.len().max(1)
    }

    /// Per switch of `level`, the number of nodes under it.
    pub fn nodes_under(&self, level: usize) -> Vec<usize> {
        let mut count = vec![0usize; self.switches[level].len()];
        for n in 0..self.node_count() {
            count[self.switch_of(n, level) as usize] += 1;
        }
        count
    }

    /// The switch above `node` at `level`.
    pub fn switch_of(&self, node: usize, level: usize) -> u32 {
        self.under[node * self.levels.len() + level]
    }

    /// The lowest level whose one switch is above every node of `nodes` (one node: `None`).
    pub fn common_level(&self, nodes: impl IntoIterator<Item = usize>) -> Option<usize> {
        let mut it = nodes.into_iter();
        let first = it.next()?;
        let mut level: Option<usize> = None;
        for n in it {
            if n == first {
                continue;
            }
            let mut k = level.unwrap_or(0);
            while k + 1 < self.levels.len() && self.switch_of(n, k) != self.switch_of(first, k) {
                k += 1;
            }
            level = Some(level.map_or(k, |l| l.max(k)));
        }
        level
    }

    /// The name of a tier: `device`, `board`, `node`, or the level's (`rack`, `spine`, ...).
    pub fn tier_name(&self, tier: Tier) -> &str {
        match tier {
            Tier::Device => "device",
            Tier::Board => "board",
            Tier::Node => "node",
            Tier::Net(k) => self
                .levels
                .get(usize::from(k))
                .map_or("network", String::as_str),
        }
    }

    /// The tier and slowest bandwidth of a placement: one `(node, device model, cards)` per
    /// part. Several nodes: the network level above them all, its bandwidth, and any part's
    /// slower in-node spread.
    pub fn spread(&self, parts: &[(usize, &str, &[u16])]) -> (Tier, f64) {
        let mut gb_s = f64::INFINITY;
        let mut tier = Tier::Device;
        for &(_, model, cards) in parts {
            if let Some(board) = self.boards.get(model) {
                let (t, b) = board.spread(cards);
                tier = tier.max(t);
                gb_s = gb_s.min(b);
            }
        }
        if let Some(level) = self.common_level(parts.iter().map(|p| p.0)) {
            tier = Tier::Net(level as u8);
            gb_s = gb_s.min(self.level_gb_s[level]);
        }
        (tier, gb_s)
    }

    /// Links on the path between two nodes through the switch tree: 0 (same node), 2 (same
    /// rack), 4 (same spine), ...
    pub fn hops(&self, a: usize, b: usize) -> u32 {
        match self.common_level([a, b]) {
            None => 0,
            Some(k) => 2 * (k as u32 + 1),
        }
    }

    /// The lowest tier at which `devices` devices, `per_node` at most on one node of
    /// `nodes_per` switches, can sit together — the tier a job of that size spans at best on
    /// the empty fleet. Used to report the share of jobs placed at their best tier.
    pub fn best_tier(&self, devices: u32, board: Option<&Board>, per_node: u32) -> Tier {
        if devices <= 1 {
            return Tier::Device;
        }
        if devices <= per_node {
            return match board {
                Some(b) if b.domain > 1 && devices <= u32::from(b.domain) => Tier::Board,
                _ => Tier::Node,
            };
        }
        let nodes_needed = devices.div_ceil(per_node.max(1)) as usize;
        // Nodes of other models share the switches: the count is an upper bound, and a job
        // of one model is judged by the levels alone (documented in `metrics::tiers`).
        for (k, &largest) in self.largest.iter().enumerate() {
            if largest >= nodes_needed {
                return Tier::Net(k as u8);
            }
        }
        Tier::Net((self.levels.len() - 1) as u8)
    }
}

/// A vertex of [`Topology::graph`].
#[derive(Debug, Clone, PartialEq)]
pub enum Vertex {
    /// Device `index` of a node.
    Device { node: usize, index: u16 },
    /// A fabric domain's switch (NVSwitch, an HCCS ring, an NVLink mesh) of a node.
    Fabric { node: usize, domain: u16 },
    /// A PCIe switch of a node.
    PcieSwitch { node: usize, switch: u16 },
    /// A node's host (CPU root complex and NIC).
    Host { node: usize },
    /// A network switch of `level`.
    Switch { level: usize, index: u32 },
}

/// An edge of [`Topology::graph`]: its class and bandwidth, GB/s.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Link {
    pub class: LinkClass,
    pub gb_s: f64,
}

impl fmt::Display for Link {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {} GB/s", self.class.name(), self.gb_s)
    }
}

/// One node as the graph needs it: its name, device model and device count.
pub struct GraphNode<'a> {
    pub name: &'a str,
    pub model: &'a str,
    pub devices: u16,
}

impl Topology {
    /// The topology as a petgraph graph over `nodes` (the fleet's, in order): one vertex per
    /// device, fabric domain, PCIe switch, host and network switch; an edge per link. Fabric
    /// domains are drawn as one switch vertex joined to each member (all-to-all within it).
    pub fn graph(&self, nodes: &[GraphNode<'_>]) -> petgraph::graph::UnGraph<Vertex, Link> {
        use petgraph::graph::NodeIndex;
        let mut g = petgraph::graph::UnGraph::new_undirected();
        let mut switch_ix: Vec<Vec<NodeIndex>> = Vec::new();
        for (level, names) in self.switches.iter().enumerate() {
            let ix = (0..names.len())
                .map(|i| {
                    g.add_node(Vertex::Switch {
                        level,
                        index: i as u32,
                    })
                })
                .collect();
            switch_ix.push(ix);
        }
        for level in 0..self.levels.len().saturating_sub(1) {
            let mut linked = vec![false; self.switches[level].len()];
            for n in 0..self.node_count() {
                let s = self.switch_of(n, level) as usize;
                if !linked[s] {
                    linked[s] = true;
                    let p = self.switch_of(n, level + 1) as usize;
                    g.add_edge(
                        switch_ix[level][s],
                        switch_ix[level + 1][p],
                        Link {
                            class: LinkClass::Network,
                            gb_s: self.level_gb_s[level + 1],
                        },
                    );
                }
            }
        }
        for (n, node) in nodes.iter().enumerate() {
            let host = g.add_node(Vertex::Host { node: n });
            if n < self.node_count() {
                g.add_edge(
                    host,
                    switch_ix[0][self.switch_of(n, 0) as usize],
                    Link {
                        class: LinkClass::Network,
                        gb_s: self.nic_gb_s,
                    },
                );
            }
            let Some(board) = self.boards.get(node.model) else {
                continue;
            };
            let per_switch = board.pcie_switch.max(1);
            let mut pcie: Vec<NodeIndex> = Vec::new();
            let mut fabric: Vec<NodeIndex> = Vec::new();
            for d in 0..node.devices {
                let dev = g.add_node(Vertex::Device { node: n, index: d });
                let s = usize::from(d / per_switch);
                if s == pcie.len() {
                    let sw = g.add_node(Vertex::PcieSwitch {
                        node: n,
                        switch: s as u16,
                    });
                    g.add_edge(
                        sw,
                        host,
                        Link {
                            class: LinkClass::Pcie,
                            gb_s: board.pcie_gb_s,
                        },
                    );
                    pcie.push(sw);
                }
                g.add_edge(
                    dev,
                    pcie[s],
                    Link {
                        class: LinkClass::Pcie,
                        gb_s: board.pcie_gb_s,
                    },
                );
                if board.fabric != LinkClass::Pcie && board.domain > 1 {
                    let f = usize::from(d / board.domain);
                    if f == fabric.len() {
                        fabric.push(g.add_node(Vertex::Fabric {
                            node: n,
                            domain: f as u16,
                        }));
                    }
                    g.add_edge(
                        dev,
                        fabric[f],
                        Link {
                            class: board.fabric,
                            gb_s: board.fabric_gb_s,
                        },
                    );
                }
            }
        }
        g
    }

    /// The label of a vertex of [`Topology::graph`] over `nodes`.
    pub fn label(&self, v: &Vertex, nodes: &[GraphNode<'_>]) -> String {
        let node = |n: usize| nodes.get(n).map_or("?", |x| x.name);
        match v {
            Vertex::Device { node: n, index } => format!("{}/dev{index}", node(*n)),
            Vertex::Fabric { node: n, domain } => format!(
                "{}/{}{domain}",
                node(*n),
                self.boards
                    .get(nodes[*n].model)
                    .map_or("fabric", |b| b.fabric.name())
            ),
            Vertex::PcieSwitch { node: n, switch } => format!("{}/pcie{switch}", node(*n)),
            Vertex::Host { node: n } => node(*n).to_owned(),
            Vertex::Switch { level, index } => format!(
                "{} {}",
                self.levels[*level], self.switches[*level][*index as usize]
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-9
    }

    /// Two racks of two nodes, one spine; `boards` of HGX and PCIe presets.
    fn two_racks() -> Topology {
        let spec = NetworkSpec {
            levels: vec!["rack".into()],
            switch_of: ["r0", "r0", "r1", "r1"]
                .iter()
                .map(|r| vec![r.to_string()])
                .collect(),
            nic_gbps: 200.0,
            oversubscription: vec![],
        };
        Topology::new(spec, BTreeMap::new()).unwrap()
    }

    #[test]
    fn a_named_top_level_with_several_switches_gets_a_spine_above() {
        let t = two_racks();
        assert_eq!(t.levels, ["rack", "spine"]);
        assert_eq!(t.switches[0], ["r0", "r1"]);
        assert_eq!(t.common_level([0, 1]), Some(0));
        assert_eq!(t.common_level([0, 2]), Some(1));
        assert_eq!(t.common_level([3]), None);
        assert_eq!((t.hops(0, 0), t.hops(0, 1), t.hops(1, 3)), (0, 2, 4));
        assert_eq!(t.level_gb_s, [25.0, 12.5]);
    }

    #[test]
    fn a_switch_under_two_parents_is_refused() {
        let spec = NetworkSpec {
            levels: vec!["rack".into(), "spine".into()],
            switch_of: vec![
                vec!["r0".into(), "s0".into()],
                vec!["r0".into(), "s1".into()],
            ],
            nic_gbps: 200.0,
            oversubscription: vec![],
        };
        let e = Topology::new(spec, BTreeMap::new()).unwrap_err();
        assert_eq!(
            e,
            "rack \"r0\" is under two spines, \"s0\" and \"s1\": a switch has one parent"
        );
    }

    /// The worked example of `traces/README.md` "Topology": the communication share from the
    /// flat model's 0.8, then each tier's factor from its bandwidth.
    #[test]
    fn worked_example_of_the_cost_model() {
        // c = (1/0.8 − 1) / (600/25 − 1) = 0.25 / 23.
        let c = comm_share(0.8);
        assert!(close(c, 0.25 / 23.0));
        // One HGX A100 board (600 GB/s) or faster (H100, 900 GB/s): no loss.
        assert_eq!(speed_factor(600.0, c), 1.0);
        assert_eq!(speed_factor(900.0, c), 1.0);
        // A PCIe Gen4 box (64 GB/s): 1 / (1 − c + c · 600/64) = 0.91656...
        assert!(close(
            speed_factor(64.0, c),
            1.0 / (1.0 + c * (600.0 / 64.0 - 1.0))
        ));
        assert!((speed_factor(64.0, c) - 0.916_56).abs() < 1e-5);
        // One rack over 200 Gb/s NICs: the flat model's figure, exactly.
        assert!(close(speed_factor(25.0, c), 0.8));
        // Across racks through a 2:1 spine (12.5 GB/s): 1 / (1 + 47c) = 0.66187...
        assert!((speed_factor(12.5, c) - 0.661_87).abs() < 1e-5);
        // Remote pooling: ρ = 0.9 in the rack, 1 / (1 + (1/0.9 − 1) · 2) = 0.8182 across.
        assert_eq!(remote_penalty_for_hops(0.9, 2), 0.9);
        assert!((remote_penalty_for_hops(0.9, 4) - 0.818_18).abs() < 1e-5);
    }

    #[test]
    fn board_spread_follows_fabric_domains() {
        let atlas = Board {
            fabric: LinkClass::Hccs,
            domain: 4,
            fabric_gb_s: 90.0,
            pcie_switch: 4,
            pcie_gb_s: 64.0,
            source: "test",
        };
        assert_eq!(atlas.spread(&[3]), (Tier::Device, f64::INFINITY));
        assert_eq!(atlas.spread(&[0, 1, 2, 3]), (Tier::Board, 90.0));
        assert_eq!(atlas.spread(&[3, 4]), (Tier::Node, 64.0));
        let pcie = Board {
            fabric: LinkClass::Pcie,
            domain: 1,
            ..atlas
        };
        assert_eq!(pcie.spread(&[0, 1]), (Tier::Node, 64.0));
    }

    #[test]
    fn best_tier_is_the_tightest_the_empty_fleet_allows() {
        let t = two_racks();
        let hgx = Board {
            fabric: LinkClass::NvSwitch,
            domain: 8,
            fabric_gb_s: 600.0,
            pcie_switch: 2,
            pcie_gb_s: 64.0,
            source: "test",
        };
        assert_eq!(t.best_tier(1, Some(&hgx), 8), Tier::Device);
        assert_eq!(t.best_tier(8, Some(&hgx), 8), Tier::Board);
        assert_eq!(t.best_tier(16, Some(&hgx), 8), Tier::Net(0));
        assert_eq!(t.best_tier(24, Some(&hgx), 8), Tier::Net(1));
    }

    #[test]
    fn the_graph_has_a_vertex_per_device_switch_and_host() {
        let mut t = two_racks();
        t.boards.insert(
            "A100-80".into(),
            Board {
                fabric: LinkClass::NvSwitch,
                domain: 8,
                fabric_gb_s: 600.0,
                pcie_switch: 2,
                pcie_gb_s: 64.0,
                source: "test",
            },
        );
        let nodes: Vec<GraphNode> = ["a", "b", "c", "d"]
            .iter()
            .map(|n| GraphNode {
                name: n,
                model: "A100-80",
                devices: 8,
            })
            .collect();
        let g = t.graph(&nodes);
        // Per node: 8 devices, 1 NVSwitch, 4 PCIe switches, 1 host = 14; switches: 2 racks + 1.
        assert_eq!(g.node_count(), 4 * 14 + 3);
        // Per node: 8 device–PCIe, 4 PCIe–host, 8 device–NVSwitch, 1 NIC = 21; racks: 2 uplinks.
        assert_eq!(g.edge_count(), 4 * 21 + 2);
        assert!(petgraph::algo::connected_components(&g) == 1);
    }
}
