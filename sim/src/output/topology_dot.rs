//! A fleet's topology as Graphviz DOT (`flexsim fleet show FILE --dot OUT`): one vertex per
//! device, fabric domain, PCIe switch, host and network switch, each link labelled with its
//! class and bandwidth ([`Topology::graph`]).

use crate::model::fleet::Fleet;
use crate::model::topology::{GraphNode, Topology};

/// The DOT text of `topology` over `fleet`'s nodes, and its vertex and link counts.
pub fn dot(fleet: &Fleet, topology: &Topology) -> (String, usize, usize) {
    let nodes: Vec<GraphNode> = fleet
        .nodes
        .iter()
        .map(|n| GraphNode {
            name: &n.name,
            model: &n.model,
            devices: u16::try_from(n.gpus).unwrap_or(u16::MAX),
        })
        .collect();
    let g = topology.graph(&nodes);
    let labelled = g.map(|_, v| topology.label(v, &nodes), |_, e| e.to_string());
    let body = format!(
        "{}",
        petgraph::dot::Dot::with_config(&labelled, &[petgraph::dot::Config::GraphContentOnly])
    );
    let text = format!("graph {:?} {{\n{body}}}\n", fleet.name);
    (text, g.node_count(), g.edge_count())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    #[test]
    fn every_link_is_an_undirected_labelled_edge() {
        let toml = "[[groups]]\nname = \"a\"\ncount = 2\ncpu_milli = 1\nmemory_mib = 1\n\
                    model = \"Ascend910B3\"\ndevices = 8\nrack = \"r0\"\n";
        let f = Fleet::parse_toml(Path::new("f.toml"), toml).unwrap();
        let (text, vertices, links) = dot(&f, f.topology.as_deref().unwrap());
        // Per node: 8 NPUs, 2 HCCS rings, 2 PCIe switches, 1 host; one rack switch.
        assert_eq!(vertices, 2 * 13 + 1);
        // Per node: 8 NPU–PCIe, 2 PCIe–host, 8 NPU–ring, 1 NIC.
        assert_eq!(links, 2 * 19);
        assert!(text.starts_with("graph \"f\" {\n"), "{text}");
        assert!(text.contains("\"a-0000/hccs1\""), "{text}");
        assert!(text.contains("label = \"hccs 90 GB/s\""), "{text}");
        assert!(text.contains(" -- "), "undirected edges: {text}");
    }
}
