//! In-node topology of each catalog model (issue 10: "every shipped device model has an
//! in-node topology"): which fabric joins its devices, in domains of how many, and the PCIe
//! links between domains ([`Board`]; the cost model is in [`crate::model::topology`]).
//!
//! Bandwidths are per device, both directions together, as the datasheets give them:
//! * NVLink 2 (V100 SXM2): 6 links × 50 GB/s = 300 GB/s (NVIDIA Tesla V100 datasheet). DGX-1's
//!   eight V100s form a hybrid cube mesh, not an all-to-all; NCCL's rings over it reach the
//!   NVLink figure, so the board is taken as one domain of 8 at 300 GB/s.
//! * NVLink 3 with NVSwitch (HGX A100): 12 links × 50 GB/s = 600 GB/s all-to-all over 8 GPUs
//!   (NVIDIA A100 datasheet, 2021).
//! * NVLink 4 with NVSwitch (HGX H100 / H200): 900 GB/s (NVIDIA H100 and H200 datasheets).
//! * HCCS (Ascend 910 family on an Atlas 800 training server): eight NPUs as two rings of four,
//!   each NPU linked to the three others of its ring at 30 GB/s a link = 90 GB/s, the rings
//!   joined over PCIe (Huawei Atlas 800 training server (model 9000) technical white paper).
//!   The same layout is used for the catalog's 910B3 (issue 10 names it so).
//! * PCIe: Gen3 ×16 is 8 GT/s × 16 lanes, 128b/130b ≈ 15.75 GB/s a direction, 32 GB/s both;
//!   Gen4 ×16 twice that, 64 GB/s (PCI-SIG base specifications 3.0 and 4.0). PCIe boxes hang two
//!   cards under each PCIe switch (the usual 4- and 8-card server layout).
//!
//! Where a model is sold both as an SXM board and a PCIe card, the SXM layout is the preset —
//! as for power (`power_table.rs`); a fleet of PCIe A100s says so with its own `[models]` entry
//! (`board = "pcie-gen4"`).

use crate::model::topology::{Board, LinkClass};

const NVLINK2: Board = Board {
    fabric: LinkClass::NvLink,
    domain: 8,
    fabric_gb_s: 300.0,
    pcie_switch: 2,
    pcie_gb_s: 32.0,
    source: "NVLink 2 hybrid cube mesh, 300 GB/s (V100 datasheet); PCIe Gen3 x16",
};

const HGX_A100: Board = Board {
    fabric: LinkClass::NvSwitch,
    domain: 8,
    fabric_gb_s: 600.0,
    pcie_switch: 2,
    pcie_gb_s: 64.0,
    source: "HGX NVSwitch, NVLink 3, 600 GB/s (A100 datasheet); PCIe Gen4 x16",
};

const HGX_H100: Board = Board {
    fabric: LinkClass::NvSwitch,
    domain: 8,
    fabric_gb_s: 900.0,
    pcie_switch: 2,
    pcie_gb_s: 128.0,
    source: "HGX NVSwitch, NVLink 4, 900 GB/s (H100/H200 datasheets); PCIe Gen5 x16",
};

const ATLAS_800: Board = Board {
    fabric: LinkClass::Hccs,
    domain: 4,
    fabric_gb_s: 90.0,
    pcie_switch: 4,
    pcie_gb_s: 64.0,
    source:
        "HCCS, two rings of four, 3 x 30 GB/s (Atlas 800 model 9000 white paper); PCIe Gen4 x16",
};

const PCIE_GEN3: Board = Board {
    fabric: LinkClass::Pcie,
    domain: 1,
    fabric_gb_s: 32.0,
    pcie_switch: 2,
    pcie_gb_s: 32.0,
    source: "PCIe Gen3 x16, 32 GB/s, two cards a switch",
};

const PCIE_GEN4: Board = Board {
    fabric: LinkClass::Pcie,
    domain: 1,
    fabric_gb_s: 64.0,
    pcie_switch: 2,
    pcie_gb_s: 64.0,
    source: "PCIe Gen4 x16, 64 GB/s, two cards a switch",
};

/// The named boards a fleet's `[models]` entry may choose (`board = "..."`), sorted.
pub const BOARD_NAMES: &[&str] = &[
    "atlas-800",
    "hgx-a100",
    "hgx-h100",
    "nvlink2",
    "pcie-gen3",
    "pcie-gen4",
];

/// The board called `name` (one of [`BOARD_NAMES`]).
pub fn named_board(name: &str) -> Option<Board> {
    Some(match name {
        "atlas-800" => ATLAS_800,
        "hgx-a100" => HGX_A100,
        "hgx-h100" => HGX_H100,
        "nvlink2" => NVLINK2,
        "pcie-gen3" => PCIE_GEN3,
        "pcie-gen4" => PCIE_GEN4,
        _ => return None,
    })
}

/// The in-node topology of catalog preset `preset`; a model the catalog does not know gets a
/// PCIe Gen3 box (no fabric: the cautious choice — it never makes spreading free).
pub fn catalog_board(preset: &str) -> Board {
    match preset {
        "V100M16" | "V100M32" => NVLINK2,
        "A100-40" | "A100-80" => HGX_A100,
        "H100-80" | "H200" => HGX_H100,
        "Ascend910B3" => ATLAS_800,
        "A10" | "Ascend310P3" => PCIE_GEN4,
        // K80, P100 (the 16 GB PCIe card), T4 and the openb codes G1–G3 (undisclosed).
        _ => PCIE_GEN3,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::catalog::Catalog;

    #[test]
    fn every_catalog_model_has_a_board_and_named_boards_are_sorted() {
        for name in Catalog::names() {
            let b = catalog_board(name);
            assert!(
                b.fabric_gb_s > 0.0 && b.pcie_gb_s > 0.0 && b.domain >= 1,
                "{name}"
            );
        }
        assert_eq!(catalog_board("A100-80").domain, 8);
        assert_eq!(catalog_board("Ascend910B3").domain, 4);
        assert_eq!(catalog_board("T4").fabric, LinkClass::Pcie);
        let mut sorted = BOARD_NAMES.to_vec();
        sorted.sort_unstable();
        assert_eq!(sorted, BOARD_NAMES);
        assert!(BOARD_NAMES.iter().all(|n| named_board(n).is_some()));
    }
}
