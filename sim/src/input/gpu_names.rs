//! GPU names as the published traces and Kubernetes spell them, mapped onto catalog device
//! models ([`crate::model::catalog`]): the one table every reader that builds a fleet (or a
//! job's GPU-model constraint) from a trace goes through, so that a job asking for a trace's
//! `V100` and a node holding one agree on the model.
//!
//! A name the table does not have is never guessed: the readers collect every unmapped name of
//! a file and fail once, listing them with the names this table knows ([`unmapped_error`]).
//! A catalog model's own name (`T4`, `A100-80`, ...) stands for itself.
//!
//! Each row says where the spelling comes from; `traces/README.md` ("GPU names") has the same
//! table with the reasons for the less obvious rows.

use crate::error::InputError;
use crate::model::catalog::Catalog;
use std::path::Path;

/// One row of the table: how a trace spells a GPU, the catalog model it maps onto, and where
/// the spelling is from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GpuName {
    pub trace: &'static str,
    pub model: &'static str,
    pub source: &'static str,
}

const fn row(trace: &'static str, model: &'static str, source: &'static str) -> GpuName {
    GpuName {
        trace,
        model,
        source,
    }
}

const PAI: &str = "Alibaba PAI 2020 gpu_type";
const SPOT: &str = "Alibaba spot-GPU 2026 gpu_model";
const GFD: &str = "Kubernetes nvidia.com/gpu.product (NVIDIA GPU feature discovery)";

/// The table, trace spellings unique. Rows whose catalog model is only the nearest stand-in:
///
/// * PAI `MISC`: "GPUs of older generations, e.g. NVIDIA Tesla K40m, K80, M60"
///   (alibaba/clusterdata `cluster-trace-gpu-v2020/README.md`) → `K80`, the catalog's oldest.
/// * PAI `V100` is the 16 GB card, `V100M32` the 32 GB one (the trace's own naming).
/// * `A800-SXM4-80GB`: the export variant of the A100 80 GB (same SMs and memory, NVLink cut
///   from 600 to 400 GB/s) → `A100-80`; `H800`: the export variant of the H100 SXM (NVLink
///   cut) → `H100-80`. flexsim models in-node link bandwidth separately (issue 10).
/// * spot-GPU `GPU-series-1` / `GPU-series-2`: models the publisher does not disclose → the
///   catalog's neutral undisclosed devices `G1` / `G2` (reference speed, 32 GiB), the same
///   treatment as openb's undisclosed codes.
pub const TABLE: &[GpuName] = &[
    row("V100", "V100M16", PAI),
    row("V100M32", "V100M32", PAI),
    row("P100", "P100", PAI),
    row("T4", "T4", PAI),
    row("MISC", "K80", PAI),
    row("A10", "A10", SPOT),
    row("A100-SXM4-80GB", "A100-80", SPOT),
    row("A800-SXM4-80GB", "A100-80", SPOT),
    row("H800", "H100-80", SPOT),
    row("GPU-series-1", "G1", SPOT),
    row("GPU-series-2", "G2", SPOT),
    row("Tesla-K80", "K80", GFD),
    row("Tesla-P100-PCIE-16GB", "P100", GFD),
    row("Tesla-P100-SXM2-16GB", "P100", GFD),
    row("Tesla-V100-PCIE-16GB", "V100M16", GFD),
    row("Tesla-V100-SXM2-16GB", "V100M16", GFD),
    row("Tesla-V100-PCIE-32GB", "V100M32", GFD),
    row("Tesla-V100-SXM2-32GB", "V100M32", GFD),
    row("Tesla-T4", "T4", GFD),
    row("NVIDIA-A10", "A10", GFD),
    row("NVIDIA-A100-PCIE-40GB", "A100-40", GFD),
    row("NVIDIA-A100-SXM4-40GB", "A100-40", GFD),
    row("NVIDIA-A100-80GB-PCIe", "A100-80", GFD),
    row("NVIDIA-A100-SXM4-80GB", "A100-80", GFD),
    row("NVIDIA-A800-SXM4-80GB", "A100-80", GFD),
    row("NVIDIA-H100-PCIe", "H100-80", GFD),
    row("NVIDIA-H100-80GB-HBM3", "H100-80", GFD),
    row("NVIDIA-H800", "H100-80", GFD),
    row("NVIDIA-H200", "H200", GFD),
];

/// The suffix GPU feature discovery appends to `gpu.product` when the device plugin shares
/// cards by time slicing (NVIDIA/k8s-device-plugin README, "Shared Access to GPUs"):
/// `Tesla-T4-SHARED` is a T4.
pub const SHARED_SUFFIX: &str = "-SHARED";

/// The catalog model `name` stands for: a row of [`TABLE`] (after dropping a
/// [`SHARED_SUFFIX`]), or a catalog model's own name. `None`: unmapped — an error for the
/// caller to collect, never a guess.
pub fn catalog_model(name: &str) -> Option<&'static str> {
    let name = name.strip_suffix(SHARED_SUFFIX).unwrap_or(name);
    TABLE
        .iter()
        .find(|r| r.trace == name)
        .map(|r| r.model)
        .or_else(|| Catalog::names().iter().copied().find(|m| *m == name))
}

/// The catalog model of a machine-list row's GPU name in column `col`, for a node with
/// `count` devices: empty for a node without devices; an error naming the row when a node with
/// devices names none (`expected` says what was expected); a name the table does not map is
/// noted in `unknown` (every one of the file is reported together afterwards) and gives an
/// empty model meanwhile. Shared by the fleet readers of PAI's machine table and spot-GPU's
/// node list.
pub fn node_model(
    row: &crate::input::csv_rows::Row<'_>,
    col: usize,
    count: u32,
    unknown: &mut crate::input::names::Unknowns,
    expected: &str,
) -> Result<String, crate::error::InputError> {
    let m = row.text(col);
    if count == 0 {
        return Ok(String::new());
    }
    if m.is_empty() {
        return Err(row.error(col, expected));
    }
    Ok(match catalog_model(m) {
        Some(c) => c.to_owned(),
        None => {
            unknown.note(m, row.line());
            String::new()
        }
    })
}

/// Every name [`catalog_model`] maps: the table's spellings, then the catalog's models.
pub fn known_names() -> Vec<&'static str> {
    let mut names: Vec<&'static str> = TABLE.iter().map(|r| r.trace).collect();
    for m in Catalog::names() {
        if !names.contains(m) {
            names.push(m);
        }
    }
    names
}

/// "a trace GPU name of sim/src/input/gpu_names.rs (V100, ...) or a catalog model (...)":
/// what an unmapped-name error expects.
pub fn expected() -> String {
    format!(
        "a GPU name of the trace-name table (sim/src/input/gpu_names.rs, traces/README.md \
         \"GPU names\": {}) or a catalog device model ({})",
        TABLE.iter().map(|r| r.trace).collect::<Vec<_>>().join(", "),
        Catalog::names().join(", ")
    )
}

/// The error for the GPU names of column `col` of `table` that map onto no catalog model
/// (`unknown`, noted row by row: [`node_model`]); every one is listed at once, with the names
/// the table knows. Shared by the CSV readers that map GPU names (PAI and spot-GPU machine
/// lists, spot-GPU jobs).
pub fn refuse_unmapped<R: std::io::Read>(
    table: &crate::input::csv_rows::CsvTable<R>,
    col: usize,
    unknown: &crate::input::names::Unknowns,
) -> Result<(), InputError> {
    table.unknown_values(col, unknown, &expected(), &known_names())
}

/// The error for GPU names of a file without columns (a JSON snapshot) that map onto no
/// catalog model: `unmapped` holds each name with where it was met (`node gpu-3`), in order
/// of first appearance. Every name is listed, with a suggestion where one is close, then the
/// names the table knows. `None` when every name mapped.
pub fn unmapped_error(
    file: &Path,
    what: &str,
    unmapped: &[(String, String)],
) -> Option<InputError> {
    unmapped.first()?;
    let mut names: Vec<(&str, Vec<&str>)> = Vec::new();
    for (name, place) in unmapped {
        match names.iter_mut().find(|(n, _)| n == name) {
            Some((_, places)) => places.push(place),
            None => names.push((name, vec![place])),
        }
    }
    let known = known_names();
    let listed: Vec<String> = names
        .iter()
        .map(|(n, places)| {
            let more = if places.len() > 1 {
                format!(" and {} more", places.len() - 1)
            } else {
                String::new()
            };
            format!(
                "{n:?} ({}{more}){}",
                places[0],
                crate::input::names::did_you_mean(n, &known)
            )
        })
        .collect();
    Some(InputError::Invalid {
        file: file.to_owned(),
        message: format!(
            "{} {what} value{} map{} onto no catalog device model: {}; expected {}",
            names.len(),
            if names.len() > 1 { "s" } else { "" },
            if names.len() > 1 { "" } else { "s" },
            listed.join(", "),
            expected()
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_row_maps_onto_a_catalog_model_and_spellings_are_unique() {
        for (i, r) in TABLE.iter().enumerate() {
            assert!(Catalog::preset(r.model).is_some(), "{r:?}");
            assert!(
                TABLE[..i].iter().all(|o| o.trace != r.trace),
                "{} twice",
                r.trace
            );
        }
    }

    #[test]
    fn maps_trace_spellings_catalog_names_and_shared_products() {
        assert_eq!(catalog_model("V100"), Some("V100M16"));
        assert_eq!(catalog_model("MISC"), Some("K80"));
        assert_eq!(catalog_model("A800-SXM4-80GB"), Some("A100-80"));
        assert_eq!(catalog_model("NVIDIA-A100-SXM4-80GB"), Some("A100-80"));
        assert_eq!(catalog_model("Tesla-T4-SHARED"), Some("T4"));
        assert_eq!(catalog_model("H200"), Some("H200"));
        assert_eq!(catalog_model("RTX-4090"), None);
        assert_eq!(catalog_model("v100"), None);
    }

    #[test]
    fn unmapped_names_are_listed_together_with_the_known_ones() {
        let u = [
            ("RTX-4090".to_owned(), "node a".to_owned()),
            ("Tesla-V100-SXM2-32G".to_owned(), "node b".to_owned()),
            ("RTX-4090".to_owned(), "node c".to_owned()),
        ];
        let e = unmapped_error(Path::new("snap.json"), "nvidia.com/gpu.product", &u)
            .unwrap()
            .to_string();
        assert!(
            e.starts_with(
                "snap.json: 2 nvidia.com/gpu.product values map onto no catalog device model: \
                 \"RTX-4090\" (node a and 1 more), \"Tesla-V100-SXM2-32G\" (node b) (did you mean \
                 \"Tesla-V100-SXM2-32GB\"?); expected a GPU name of the trace-name table"
            ),
            "{e}"
        );
        assert!(
            e.contains("V100M32, P100") && e.contains("Ascend910B3"),
            "{e}"
        );
        assert!(unmapped_error(Path::new("f"), "x", &[]).is_none());
    }
}
