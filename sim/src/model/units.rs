//! Units of resource accounting (DESIGN "Model"): compute in milli-devices, memory in MiB,
//! CPU in milli-cores, time in milliseconds — integers throughout, floats only in scores and
//! reported ratios.

/// Compute capacity of one card, in milli-GPU (fgd-protocol §2.1: every GPU has 1000).
pub const GPU_MILLI: u32 = 1000;

/// Thousandths as a short decimal: `250` → `0.25`, `1000` → `1`, `1005` → `1.005`.
pub fn milli_decimal(m: u64) -> String {
    if m.is_multiple_of(1000) {
        return (m / 1000).to_string();
    }
    let frac = format!("{:03}", m % 1000);
    format!("{}.{}", m / 1000, frac.trim_end_matches('0'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn milli_decimal_is_short_and_exact() {
        assert_eq!(milli_decimal(0), "0");
        assert_eq!(milli_decimal(1500), "1.5");
        assert_eq!(milli_decimal(1_234_567), "1234.567");
    }
}
