//! `--shard i/n`: which runs of a sweep grid one machine of many runs.
//!
//! A run belongs to shard `fnv1a64(identity) mod n`, its identity being what it runs (trace,
//! fleet, policy, seed: [`crate::sweep::run_identity`]), never its position in the grid: the
//! same run lands in the same shard whatever else the grid holds, and the choice is the same on
//! every machine and every build (FNV-1a is fixed; std's `DefaultHasher` is not promised to be,
//! and `RandomState` is seeded per process).

use anyhow::{bail, Result};

/// Shard `index` of `count` (`0 <= index < count`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shard {
    pub index: u64,
    pub count: u64,
}

impl Shard {
    /// Parses `i/n`, e.g. `0/3`.
    pub fn parse(text: &str) -> Result<Shard> {
        let bad = || {
            anyhow::anyhow!(
                "invalid --shard {text:?}: expected i/n with 0 <= i < n, e.g. 0/3 \
                 (Slurm: $SLURM_ARRAY_TASK_ID/$SLURM_ARRAY_TASK_COUNT)"
            )
        };
        let (i, n) = text.trim().split_once('/').ok_or_else(bad)?;
        let index: u64 = i.trim().parse().map_err(|_| bad())?;
        let count: u64 = n.trim().parse().map_err(|_| bad())?;
        if count == 0 || index >= count {
            bail!(bad());
        }
        Ok(Shard { index, count })
    }

    /// Whether the run of `identity` is this shard's.
    pub fn selects(&self, identity: &str) -> bool {
        fnv1a64(identity.as_bytes()) % self.count == self.index
    }
}

impl std::fmt::Display for Shard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

/// 64-bit FNV-1a: tiny, fixed, and good enough to spread run identities over shards.
pub fn fnv1a64(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fnv_matches_the_published_vectors() {
        // From the FNV reference test suite (draft-eastlake-fnv).
        assert_eq!(fnv1a64(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a64(b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(fnv1a64(b"foobar"), 0x8594_4171_f739_67e8);
    }

    #[test]
    fn every_identity_is_in_exactly_one_shard() {
        let ids: Vec<String> = (0..200).map(|s| format!("t\0f\0fgd\0{s}")).collect();
        let shards: Vec<Shard> = (0..3).map(|i| Shard { index: i, count: 3 }).collect();
        for id in &ids {
            assert_eq!(shards.iter().filter(|s| s.selects(id)).count(), 1);
        }
        // Spread: no shard is empty or holds nearly everything.
        for s in &shards {
            let n = ids.iter().filter(|id| s.selects(id)).count();
            assert!((30..110).contains(&n), "shard {s}: {n} of 200");
        }
    }

    #[test]
    fn parse_refuses_what_is_not_a_shard() {
        assert_eq!(Shard::parse("1/3").unwrap(), Shard { index: 1, count: 3 });
        for bad in ["3/3", "0/0", "1", "a/3", "-1/3", ""] {
            let e = Shard::parse(bad).unwrap_err().to_string();
            assert!(e.contains("i/n"), "{bad}: {e}");
        }
    }
}
