//! The `--seeds` syntax: `a..b` (inclusive) or a comma list.

/// Parses `42..51`, `42,43,44` or `42`.
pub fn parse(text: &str) -> Result<Vec<u64>, String> {
    let bad = || {
        format!(
            "invalid --seeds \"{text}\": expected an inclusive range a..b with a <= b (42..51) \
             or a comma list of non-negative integers (42,43,44)"
        )
    };
    let text = text.trim();
    if let Some((a, b)) = text.split_once("..") {
        let a: u64 = a.trim().parse().map_err(|_| bad())?;
        let b: u64 = b.trim().parse().map_err(|_| bad())?;
        if a > b {
            return Err(bad());
        }
        return Ok((a..=b).collect());
    }
    let seeds: Vec<u64> = text
        .split(',')
        .map(|s| s.trim().parse().map_err(|_| bad()))
        .collect::<Result<_, _>>()?;
    let mut unique = seeds.clone();
    unique.sort_unstable();
    unique.dedup();
    if unique.len() != seeds.len() {
        return Err(format!(
            "invalid --seeds \"{text}\": a seed is listed twice"
        ));
    }
    Ok(seeds)
}

/// How many seeds `text` names, without listing them: `0..1000000000` is counted, not
/// allocated, so that a grid too large to run is refused before it is built. Errors as
/// [`parse`].
pub fn count(text: &str) -> Result<u64, String> {
    if let Some((a, b)) = text.trim().split_once("..") {
        if let (Ok(a), Ok(b)) = (a.trim().parse::<u64>(), b.trim().parse::<u64>()) {
            if a <= b {
                return Ok((b - a).saturating_add(1));
            }
        }
    }
    // A bad range, or a comma list (as long as the text itself): parse says what is wrong.
    parse(text).map(|s| s.len() as u64)
}

#[cfg(test)]
mod tests {
    use super::{count, parse};

    #[test]
    fn counts_without_listing() {
        assert_eq!(count("42..51"), Ok(10));
        assert_eq!(count("0..18446744073709551615"), Ok(u64::MAX));
        assert_eq!(count("3, 1"), Ok(2));
        assert_eq!(count("51..42"), parse("51..42").map(|_| 0));
    }

    #[test]
    fn forms() {
        assert_eq!(parse("42..44").unwrap(), vec![42, 43, 44]);
        assert_eq!(parse("7").unwrap(), vec![7]);
        assert_eq!(parse("1, 5,3").unwrap(), vec![1, 5, 3]);
    }

    #[test]
    fn errors_name_the_accepted_forms() {
        for bad in ["", "51..42", "a..b", "1,,2", "-1"] {
            let e = parse(bad).unwrap_err();
            assert!(e.contains("a..b") && e.contains("comma list"), "{bad}: {e}");
        }
        assert!(parse("1,1").unwrap_err().contains("twice"));
    }
}
