//! A small deterministic mutator for the corpus replay: what a fuzzer would try first, with a
//! fixed seed so CI sees the same inputs every run. It knows nothing about the formats beyond
//! which bytes and tokens are interesting to CSV, TOML and JSON readers.

use rand::{RngExt, SeedableRng};
use rand_pcg::Pcg64;

/// Bytes that mean something to one of the formats.
const BYTES: &[u8] = b",\n\r\"'|=[]{}:.-+e0 \t#\\";

/// Tokens worth planting: number edges of u32/u64/i64/f64 and 2^53, special floats, format
/// keywords.
const TOKENS: &[&str] = &[
    "0",
    "-1",
    "1",
    "-0",
    "0.0005",
    "4294967295",
    "4294967296",
    "9007199254740993",
    "18446744073709551615",
    "18446744073709551616",
    "9223372036854775807",
    "-9223372036854775808",
    "1e308",
    "1e309",
    "-1e-320",
    "NaN",
    "nan",
    "inf",
    "-inf",
    "true",
    "null",
    "\"\"",
    "[]",
    "{}",
    ",,,,",
    "\"a,b\"",
    "\u{feff}",
    "é",
    "\n",
    "[[groups]]\nname = \"x\"\ncount = 1\ncpu_milli = 1\nmemory_mib = 1\n",
    "[models.T4]\nslicing = \"timeshare\"\n",
];

/// One mutant of `data`: 1 to 4 edits chosen by `seed`; `others` are splice sources.
pub fn mutate(data: &[u8], others: &[&[u8]], seed: u64) -> Vec<u8> {
    let mut rng = Pcg64::seed_from_u64(seed);
    let mut d = data.to_vec();
    for _ in 0..rng.random_range(1..=4) {
        let len = d.len();
        let at = if len == 0 {
            0
        } else {
            rng.random_range(0..len)
        };
        match rng.random_range(0..9) {
            0 if len > 0 => d[at] ^= 1 << rng.random_range(0..8),
            1 if len > 0 => d[at] = BYTES[rng.random_range(0..BYTES.len())],
            2 if len > 0 => {
                let end = (at + rng.random_range(1..=16)).min(len);
                d.drain(at..end);
            }
            3 if len > 0 => {
                let end = (at + rng.random_range(1..=64)).min(len);
                let chunk = d[at..end].to_vec();
                let to = rng.random_range(0..=d.len());
                d.splice(to..to, chunk);
            }
            4 => {
                let t = TOKENS[rng.random_range(0..TOKENS.len())].as_bytes();
                d.splice(at..at, t.iter().copied());
            }
            5 => replace_number(&mut d, &mut rng),
            6 if !others.is_empty() => {
                // A line of another seed of the same target, at a line start.
                let o = others[rng.random_range(0..others.len())];
                let lines: Vec<&[u8]> = o.split(|&b| b == b'\n').collect();
                let line = lines[rng.random_range(0..lines.len())];
                let to = d[..at]
                    .iter()
                    .rposition(|&b| b == b'\n')
                    .map_or(0, |p| p + 1);
                let mut ins = line.to_vec();
                ins.push(b'\n');
                d.splice(to..to, ins);
            }
            7 if len > 0 => d.truncate(at),
            _ => {
                // Duplicate a whole line (same name twice, a repeated TOML key, ...).
                let start = d[..at]
                    .iter()
                    .rposition(|&b| b == b'\n')
                    .map_or(0, |p| p + 1);
                let end = d[at..]
                    .iter()
                    .position(|&b| b == b'\n')
                    .map_or(len, |p| at + p + 1);
                let line = d[start..end].to_vec();
                d.splice(end..end, line);
            }
        }
    }
    d
}

/// Replaces one run of digits with a token from [`TOKENS`]'s numbers.
fn replace_number(d: &mut Vec<u8>, rng: &mut Pcg64) {
    let starts: Vec<usize> = (0..d.len())
        .filter(|&i| d[i].is_ascii_digit() && (i == 0 || !d[i - 1].is_ascii_digit()))
        .collect();
    if starts.is_empty() {
        return;
    }
    let s = starts[rng.random_range(0..starts.len())];
    let e = (s..d.len())
        .find(|&i| !d[i].is_ascii_digit())
        .unwrap_or(d.len());
    let t = TOKENS[rng.random_range(0..17)].as_bytes();
    d.splice(s..e, t.iter().copied());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mutants_are_deterministic_and_differ() {
        let seed: &[u8] = b"name,arrival_s\na,1\n";
        let a: Vec<Vec<u8>> = (0..50).map(|s| mutate(seed, &[seed], s)).collect();
        let b: Vec<Vec<u8>> = (0..50).map(|s| mutate(seed, &[seed], s)).collect();
        assert_eq!(a, b);
        assert!(a.iter().filter(|m| m.as_slice() != seed).count() > 40);
    }
}
