//! Names a file gives that flexsim must know: "did you mean" suggestions, and the unknown
//! names of a whole file collected so that one error reports them all (not one per run).

use crate::model::catalog::Catalog;
use crate::model::fleet::Fleet;
use crate::model::job::Workload;
use std::fmt::Write as _;

/// The known name closest to `name` (edit distance with transpositions, ignoring case), if
/// it is close enough to be a likely typo: at most one edit in a short name, a third of the
/// name's length in a long one. Ties go to the first in `known`.
pub fn suggest<'k, S: AsRef<str>>(name: &str, known: &'k [S]) -> Option<&'k str> {
    let lower = name.to_lowercase();
    let limit = (name.chars().count() / 3).max(1);
    known
        .iter()
        .map(|k| (strsim::osa_distance(&lower, &k.as_ref().to_lowercase()), k))
        .filter(|&(d, _)| d <= limit)
        .min_by_key(|&(d, _)| d)
        .map(|(_, k)| k.as_ref())
}

/// ` (did you mean "X"?)` for `name`, or "".
pub fn did_you_mean<S: AsRef<str>>(name: &str, known: &[S]) -> String {
    suggest(name, known).map_or_else(String::new, |s| format!(" (did you mean {s:?}?)"))
}

/// `"a" (did you mean "b"?), "c"`: each name quoted with its suggestion.
pub fn quoted_with_suggestions<S: AsRef<str>>(names: &[String], known: &[S]) -> String {
    names
        .iter()
        .map(|n| format!("{n:?}{}", did_you_mean(n, known)))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The unknown values met in one column of a file, in order of first appearance, with the
/// line each first appeared on and how many rows had it.
#[derive(Debug, Default)]
pub struct Unknowns {
    seen: Vec<(String, u64, usize)>,
}

/// How many unknown values one message lists before "and N more".
const LISTED: usize = 10;

impl Unknowns {
    /// Notes that `value` on `line` is not a known name.
    pub fn note(&mut self, value: &str, line: u64) {
        match self.seen.iter_mut().find(|(v, _, _)| v == value) {
            Some((_, _, n)) => *n += 1,
            None => self.seen.push((value.to_owned(), line, 1)),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.seen.is_empty()
    }

    /// The first unknown value and its line, and the text that follows `got "VALUE"` in a
    /// field error: its suggestion, then the other unknown values with theirs.
    pub fn report<S: AsRef<str>>(&self, known: &[S]) -> Option<(String, u64, String)> {
        let ((first, line, _), rest) = self.seen.split_first()?;
        let mut tail = did_you_mean(first, known);
        if !rest.is_empty() {
            let _ = write!(tail, "; also unknown: ");
            let listed: Vec<String> = rest
                .iter()
                .take(LISTED)
                .map(|(v, l, n)| {
                    let rows = if *n > 1 {
                        format!(" and {} more rows", n - 1)
                    } else {
                        String::new()
                    };
                    let hint = suggest(v, known)
                        .map_or_else(String::new, |s| format!("; did you mean {s:?}?"));
                    format!("{v:?} (line {l}{rows}{hint})")
                })
                .collect();
            tail.push_str(&listed.join(", "));
            if rest.len() > LISTED {
                let _ = write!(tail, ", and {} more", rest.len() - LISTED);
            }
        }
        Some((first.clone(), *line, tail))
    }
}

/// Checks that every device model a job of `workload` accepts (`gpu_models`, openb
/// `gpu_spec`) is a device model of `fleet` or a catalog preset: a misspelt name would leave
/// the job waiting for cards that do not exist. Every unknown name is reported at once, with
/// the first job that gives it and a suggestion. A preset the fleet lacks is fine (the job
/// just cannot run on this fleet's other cards).
pub fn check_trace_models(workload: &Workload, fleet: &Fleet) -> Result<(), String> {
    let mut unknown: Vec<(&str, &str, usize)> = Vec::new();
    for pod in &workload.pods {
        for m in pod.gpu_spec.models() {
            if fleet.devices.contains_key(m) || Catalog::preset(m).is_some() {
                continue;
            }
            match unknown.iter_mut().find(|(u, _, _)| *u == m) {
                Some((_, _, n)) => *n += 1,
                None => unknown.push((m, &pod.name, 1)),
            }
        }
    }
    if unknown.is_empty() {
        return Ok(());
    }
    let mut known: Vec<&str> = fleet.devices.keys().map(String::as_str).collect();
    known.extend(
        Catalog::names()
            .iter()
            .filter(|n| !fleet.devices.contains_key(**n)),
    );
    let listed: Vec<String> = unknown
        .iter()
        .take(LISTED)
        .map(|(m, job, n)| {
            let more = if *n > 1 {
                format!(" and {} more", n - 1)
            } else {
                String::new()
            };
            format!("{m:?} (job {job:?}{more}){}", did_you_mean(m, &known))
        })
        .collect();
    let more = if unknown.len() > LISTED {
        format!(", and {} more", unknown.len() - LISTED)
    } else {
        String::new()
    };
    Err(format!(
        "trace {}: jobs accept device model{} that fleet {} does not have and no catalog preset \
         is: {}{more}; the fleet has: {}; catalog presets: {}",
        workload.name,
        if unknown.len() > 1 { "s" } else { "" },
        fleet.name,
        listed.join(", "),
        fleet.devices.keys().cloned().collect::<Vec<_>>().join(", "),
        Catalog::names().join(", ")
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::fleet::NodeSpec;
    use crate::model::job::{GpuSpec, Pod};

    #[test]
    fn trace_device_models_unknown_to_fleet_and_catalog_are_reported_together() {
        let fleet = Fleet::new(
            "f".into(),
            vec![NodeSpec::new("n".into(), 1, 1, 2, "T4".into())],
        );
        let job = |name: &str, spec: &str| {
            let mut p = Pod::new(name, 1, 1, 1, 500);
            p.gpu_spec = GpuSpec::parse(spec);
            p
        };
        let mut w = Workload {
            name: "w".into(),
            pods: vec![job("a", "T4|V100M16"), job("b", "")],
        };
        check_trace_models(&w, &fleet).unwrap();
        w.pods
            .extend([job("c", "V100M61|T4"), job("d", "t4x"), job("e", "V100M61")]);
        assert_eq!(
            check_trace_models(&w, &fleet).unwrap_err(),
            format!(
                "trace w: jobs accept device models that fleet f does not have and no catalog \
                 preset is: \"V100M61\" (job \"c\" and 1 more) (did you mean \"V100M16\"?), \
                 \"t4x\" (job \"d\") (did you mean \"T4\"?); the fleet has: T4; catalog \
                 presets: {}",
                Catalog::names().join(", ")
            )
        );
    }

    #[test]
    fn suggestions_catch_typos_and_case_but_not_strangers() {
        let cols = ["name", "demand", "gpu_models", "rdma_pct"];
        assert_eq!(suggest("demnad", &cols), Some("demand"));
        assert_eq!(suggest("gpu_model", &cols), Some("gpu_models"));
        assert_eq!(suggest("Demand", &cols), Some("demand"));
        assert_eq!(suggest("colour", &cols), None);
        assert_eq!(suggest("Ls", &["LS", "BE"]), Some("LS"));
        assert_eq!(suggest("V100M61", &["V100M16", "V100M32"]), Some("V100M16"));
        assert_eq!(did_you_mean("zzz", &cols), "");
    }

    #[test]
    fn unknowns_report_every_value_once_with_its_first_line() {
        let mut u = Unknowns::default();
        for (v, line) in [("Ls", 3), ("BEE", 5), ("Ls", 6), ("BEE", 9), ("X", 11)] {
            u.note(v, line);
        }
        let (first, line, tail) = u.report(&["LS", "BE"]).unwrap();
        assert_eq!((first.as_str(), line), ("Ls", 3));
        assert_eq!(
            tail,
            " (did you mean \"LS\"?); also unknown: \"BEE\" (line 5 and 1 more rows; did you \
             mean \"BE\"?), \"X\" (line 11)"
        );
        assert!(Unknowns::default().report(&["a"]).is_none());
    }
}
