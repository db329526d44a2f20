//! The topology part of a TOML fleet file (`traces/README.md` "Topology"): the `[topology]`
//! table, each group's switch names (`rack = "r{i/16}"`, `spine = ...`, or `switches = [...]`
//! for any depth) and a `[models]` entry's `board`. Read into a
//! [`Topology`](crate::model::topology::Topology) by `input::fleet_file`.
//!
//! A switch name is a template: `{i}` is the node's index in its group, `{n}` its index in the
//! fleet (groups in file order), each optionally divided (`{i/16}`: sixteen nodes a rack) or
//! taken modulo (`{n%4}`); everything else is literal.

use serde::Deserialize;

/// The `[topology]` table.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct TopologyEntry {
    /// Network level names, lowest first; default `["rack"]`, or `["rack", "spine"]` when a
    /// group names a spine.
    pub levels: Option<Vec<String>>,
    /// Each node's uplink, Gb/s; default 200 (one HDR InfiniBand / 200 GbE NIC).
    pub nic_gbps: Option<f64>,
    /// Oversubscription of each level above the first; default 2 each.
    #[serde(default)]
    pub oversubscription: Vec<f64>,
}

/// A group's switch names as written: `rack` / `spine`, or `switches` (lowest level first).
#[derive(Debug, Default, Clone, Deserialize)]
pub(crate) struct GroupSwitches {
    pub rack: Option<String>,
    pub spine: Option<String>,
    pub switches: Option<Vec<String>>,
}

impl GroupSwitches {
    /// Whether the group names any switch.
    pub fn any(&self) -> bool {
        self.rack.is_some() || self.spine.is_some() || self.switches.is_some()
    }

    /// The templates, lowest level first, for a topology of `levels`; an error says what the
    /// group lacks or has too many of.
    pub fn templates(&self, group: &str, levels: &[String]) -> Result<Vec<String>, String> {
        let list = match (&self.switches, &self.rack, &self.spine) {
            (Some(s), None, None) => s.clone(),
            (Some(_), _, _) => {
                return Err(format!(
                    "group {group}: give either switches = [...] or rack/spine, not both"
                ))
            }
            (None, Some(r), s) => {
                let mut v = vec![r.clone()];
                v.extend(s.clone());
                v
            }
            (None, None, Some(_)) => {
                return Err(format!(
                    "group {group}: names a spine but no rack (rack = \"r{{i/16}}\")"
                ))
            }
            (None, None, None) => {
                return Err(format!(
                    "group {group}: the fleet has a topology ({}) but this group names no \
                     switch; give it rack = \"...\" (or switches = [...] for {} levels)",
                    levels.join(", "),
                    levels.len()
                ))
            }
        };
        if list.len() != levels.len() {
            return Err(format!(
                "group {group}: names {} switch level(s), the topology has {} ({})",
                list.len(),
                levels.len(),
                levels.join(", ")
            ));
        }
        for t in &list {
            expand(t, 0, 0).map_err(|e| format!("group {group}: switch name {t:?}: {e}"))?;
        }
        Ok(list)
    }
}

/// Expands a switch-name template for the node at index `i` of its group and `n` of the fleet.
pub fn expand(template: &str, i: u64, n: u64) -> Result<String, String> {
    let mut out = String::new();
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let close = rest[open..]
            .find('}')
            .ok_or_else(|| "a '{' without its '}'".to_owned())?
            + open;
        let inner = &rest[open + 1..close];
        let (var, op) = inner.split_at(inner.find(['/', '%']).unwrap_or(inner.len()));
        let value = match var.trim() {
            "i" => i,
            "n" => n,
            other => {
                return Err(format!(
                    "unknown variable {other:?} in {{{inner}}}: expected i (index in the \
                     group) or n (index in the fleet), optionally /N or %N"
                ))
            }
        };
        let value = if op.is_empty() {
            value
        } else {
            let by: u64 = op[1..]
                .trim()
                .parse()
                .ok()
                .filter(|&d| d > 0)
                .ok_or_else(|| {
                    format!(
                        "{{{inner}}}: expected a positive integer after {:?}",
                        &op[..1]
                    )
                })?;
            if op.starts_with('/') {
                value / by
            } else {
                value % by
            }
        };
        out.push_str(&value.to_string());
        rest = &rest[close + 1..];
    }
    if rest.contains('}') {
        return Err("a '}' without its '{'".into());
    }
    out.push_str(rest);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_expand_indices_divisions_and_moduli() {
        assert_eq!(expand("r{i/16}", 33, 0).unwrap(), "r2");
        assert_eq!(expand("pod{n%4}-x{i}", 5, 7).unwrap(), "pod3-x5");
        assert_eq!(expand("spine", 5, 7).unwrap(), "spine");
        assert!(expand("r{j}", 0, 0)
            .unwrap_err()
            .contains("unknown variable \"j\""));
        assert!(expand("r{i/0}", 0, 0)
            .unwrap_err()
            .contains("positive integer"));
        assert!(expand("r{i", 0, 0).unwrap_err().contains("without its '}'"));
    }

    #[test]
    fn a_group_names_each_level_once() {
        let levels = ["rack".to_string(), "spine".to_string()];
        let g = GroupSwitches {
            rack: Some("r{i/16}".into()),
            spine: Some("s0".into()),
            switches: None,
        };
        assert_eq!(g.templates("a", &levels).unwrap(), ["r{i/16}", "s0"]);
        let short = GroupSwitches {
            spine: None,
            ..g.clone()
        };
        assert_eq!(
            short.templates("a", &levels).unwrap_err(),
            "group a: names 1 switch level(s), the topology has 2 (rack, spine)"
        );
        let none = GroupSwitches::default();
        assert!(none
            .templates("cpu", &levels)
            .unwrap_err()
            .contains("names no switch"));
    }
}
