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

#[cfg(test)]
mod tests {
    use super::parse;

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
