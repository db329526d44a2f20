//! vNPU templates: the hard partitions an Ascend chip offers (slicing-model §4.1) — device
//! facts, which the vNPU slicing mode ([`crate::model::slicing::vnpu`]) places by.

use serde::{Deserialize, Serialize};

/// One vNPU template (`virNN[_Xc][_Yg][_dvpp|_ndvpp]`, §4.1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VnpuTemplate {
    pub name: String,
    pub ai_cores: u32,
    pub ai_cpus: u32,
    pub memory_mib: u64,
}

/// A chip's vNPU templates. Chip totals (AI cores, AI CPUs, memory) come from the
/// [`DeviceModel`](crate::model::catalog::DeviceModel).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VnpuTable {
    /// Most vNPUs per chip.
    pub max_instances: u32,
    pub templates: Vec<VnpuTemplate>,
}

impl VnpuTable {
    /// Index of the template called `name`.
    pub fn template_index(&self, name: &str) -> Option<u8> {
        self.templates
            .iter()
            .position(|t| t.name == name)
            .and_then(|i| u8::try_from(i).ok())
    }
}

fn template(name: &str, ai_cores: u32, ai_cpus: u32, memory_gib: u64) -> VnpuTemplate {
    VnpuTemplate {
        name: name.to_string(),
        ai_cores,
        ai_cpus,
        memory_mib: memory_gib * 1024,
    }
}

/// Ascend 910B3 (20 AI cores, 7 AI CPUs, 64 GB): vir05_1c_16g and vir10_3c_32g (¼ and ½ chip),
/// at most 4 vNPUs (slicing-model §4.1, HAMi:docs/ascend910b-support.md).
pub fn ascend_910b3() -> VnpuTable {
    VnpuTable {
        max_instances: 4,
        templates: vec![
            template("vir05_1c_16g", 5, 1, 16),
            template("vir10_3c_32g", 10, 3, 32),
        ],
    }
}

/// Ascend 310P3 (8 AI cores, 7 AI CPUs, 24 GB): at most 7 vNPUs, limited by the 7 AI CPUs
/// (slicing-model §4.1, huaweicloud cce_10_1009). The `_ndvpp`/`_dvpp` variants differ only
/// in media units, which flexsim does not model; the spec gives no core/CPU/memory numbers for
/// them beyond their names, read here as (4 cores, 3 / 4 CPUs, 12 GB).
pub fn ascend_310p3() -> VnpuTable {
    VnpuTable {
        max_instances: 7,
        templates: vec![
            template("vir01", 1, 1, 3),
            template("vir02", 2, 2, 6),
            template("vir02_1c", 2, 1, 6),
            template("vir04", 4, 4, 12),
            template("vir04_3c", 4, 3, 12),
            template("vir04_3c_ndvpp", 4, 3, 12),
            template("vir04_4c_dvpp", 4, 4, 12),
        ],
    }
}
