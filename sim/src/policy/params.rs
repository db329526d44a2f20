//! Policy parameters: `name[key=value,...]` (the DSLab convention), e.g.
//! `tiresias[thresholds=3250:7200,starve=2]` or `hami[node=spread]`.
//!
//! A policy declares its parameters once, as a list of [`ParamSpec`]s with their defaults; the
//! user's request ([`PolicyRequest`]) is checked against that list ([`Params::resolve`]), so a
//! misspelled key or a bad value is an error that lists the valid keys with their defaults —
//! never a silently ignored setting. A run records the resolved parameters (every key, given or
//! default) in its summary, and a request's [`canonical`](PolicyRequest::canonical) form (keys
//! sorted, only those given) names the run.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

/// One parameter a policy takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ParamSpec {
    pub key: &'static str,
    /// The value used when the request does not give one, as the user would write it.
    pub default: &'static str,
    /// One line: what it sets, with its unit.
    pub help: &'static str,
}

/// A policy as the user asked for it: a name and the parameters given.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct PolicyRequest {
    pub name: String,
    pub given: BTreeMap<String, String>,
}

/// A policy request or parameter that cannot be used, with what would have been valid.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParamError {
    #[error("policy {spec:?}: {reason}")]
    Syntax { spec: String, reason: String },
    #[error("policy {policy}: unknown parameter {key:?}; {}", valid_keys(specs))]
    UnknownKey {
        policy: String,
        key: String,
        specs: Vec<ParamSpec>,
    },
    #[error(
        "policy {policy}: parameter {key}: expected {expected}, got {got:?}; {}",
        valid_keys(specs)
    )]
    BadValue {
        policy: String,
        key: String,
        expected: String,
        got: String,
        specs: Vec<ParamSpec>,
    },
}

fn valid_keys(specs: &[ParamSpec]) -> String {
    if specs.is_empty() {
        return "it takes no parameters".to_owned();
    }
    let keys: Vec<String> = specs
        .iter()
        .map(|s| format!("{}={}", s.key, s.default))
        .collect();
    format!("valid (with defaults): {}", keys.join(", "))
}

impl PolicyRequest {
    /// Parses `name` or `name[key=value,...]`. Keys are lower-case words (`a-z`, `0-9`, `-`,
    /// `_`); values may hold anything but `,` `[` `]` (lists inside a value use `:`).
    pub fn parse(spec: &str) -> Result<PolicyRequest, ParamError> {
        let syntax = |reason: &str| ParamError::Syntax {
            spec: spec.to_owned(),
            reason: reason.to_owned(),
        };
        let spec_trim = spec.trim();
        let (name, body) = match spec_trim.find('[') {
            None => (spec_trim, None),
            Some(at) => {
                let rest = &spec_trim[at + 1..];
                let Some(inner) = rest.strip_suffix(']') else {
                    return Err(syntax(
                        "expected name[key=value,...] with a closing `]` at the end",
                    ));
                };
                (&spec_trim[..at], Some(inner))
            }
        };
        if name.is_empty() {
            return Err(syntax("no policy name"));
        }
        if name.contains([']', ',', '=']) {
            return Err(syntax("expected name[key=value,...]"));
        }
        let mut given = BTreeMap::new();
        for item in body.into_iter().flat_map(|b| b.split(',')) {
            let item = item.trim();
            if item.is_empty() {
                continue;
            }
            let Some((key, value)) = item.split_once('=') else {
                return Err(syntax(&format!("parameter {item:?} has no `=value`")));
            };
            let key = key.trim();
            let value = value.trim();
            if key.is_empty()
                || !key
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
            {
                return Err(syntax(&format!(
                    "parameter key {key:?}: expected a lower-case word"
                )));
            }
            if value.is_empty() || value.contains(['[', ']']) {
                return Err(syntax(&format!("parameter {key}: expected a value")));
            }
            if given.insert(key.to_owned(), value.to_owned()).is_some() {
                return Err(syntax(&format!("parameter {key} is given twice")));
            }
        }
        Ok(PolicyRequest {
            name: name.to_owned(),
            given,
        })
    }

    /// `name` alone, or `name[k=v,...]` with the given keys sorted: the run's name.
    pub fn canonical(&self) -> String {
        if self.given.is_empty() {
            return self.name.clone();
        }
        let items: Vec<String> = self.given.iter().map(|(k, v)| format!("{k}={v}")).collect();
        format!("{}[{}]", self.name, items.join(","))
    }
}

impl fmt::Display for PolicyRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.canonical())
    }
}

/// Splits a comma list of policy requests, keeping commas inside `[...]`:
/// `fgd,tiresias[thresholds=1:2,starve=2]` → `["fgd", "tiresias[thresholds=1:2,starve=2]"]`.
pub fn split_requests(list: &str) -> Result<Vec<String>, ParamError> {
    let mut out = Vec::new();
    let mut depth = 0usize;
    let mut cur = String::new();
    for c in list.chars() {
        match c {
            '[' => depth += 1,
            ']' => {
                depth = depth.checked_sub(1).ok_or_else(|| ParamError::Syntax {
                    spec: list.to_owned(),
                    reason: "a `]` without its `[`".to_owned(),
                })?
            }
            ',' if depth == 0 => {
                out.push(std::mem::take(&mut cur).trim().to_owned());
                continue;
            }
            _ => {}
        }
        cur.push(c);
    }
    if depth != 0 {
        return Err(ParamError::Syntax {
            spec: list.to_owned(),
            reason: "a `[` without its `]`".to_owned(),
        });
    }
    out.push(cur.trim().to_owned());
    out.retain(|s| !s.is_empty());
    Ok(out)
}

/// A request's parameters checked against a policy's [`ParamSpec`]s: every key resolved to its
/// given value or its default.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Params {
    policy: String,
    specs: Vec<ParamSpec>,
    values: BTreeMap<&'static str, String>,
}

impl Params {
    /// Checks `request` against `specs`: an unknown key is an error listing the valid ones.
    pub fn resolve(request: &PolicyRequest, specs: &[ParamSpec]) -> Result<Params, ParamError> {
        for key in request.given.keys() {
            if !specs.iter().any(|s| s.key == key) {
                return Err(ParamError::UnknownKey {
                    policy: request.name.clone(),
                    key: key.clone(),
                    specs: specs.to_vec(),
                });
            }
        }
        let values = specs
            .iter()
            .map(|s| {
                let v = request.given.get(s.key).map_or(s.default, String::as_str);
                (s.key, v.to_owned())
            })
            .collect();
        Ok(Params {
            policy: request.name.clone(),
            specs: specs.to_vec(),
            values,
        })
    }

    /// The defaults of `specs` (a request with no parameters).
    pub fn defaults(policy: &str, specs: &[ParamSpec]) -> Params {
        let request = PolicyRequest {
            name: policy.to_owned(),
            given: BTreeMap::new(),
        };
        Params::resolve(&request, specs).expect("no keys given")
    }

    /// The value of `key` as text.
    ///
    /// # Panics
    /// If `key` is not one of the policy's specs: that is a bug in the policy, not user input.
    pub fn text(&self, key: &str) -> &str {
        self.values
            .get(key)
            .unwrap_or_else(|| panic!("policy {} reads undeclared parameter {key}", self.policy))
    }

    /// The value of `key` parsed as `T`; `expected` describes `T` for the error message.
    pub fn parse<T: FromStr>(&self, key: &str, expected: &str) -> Result<T, ParamError> {
        let text = self.text(key);
        text.parse().map_err(|_| self.bad(key, expected))
    }

    /// The value of `key` as a `:`-separated list of `T` (`3250:7200`); empty for `none`.
    pub fn list<T: FromStr>(&self, key: &str, expected: &str) -> Result<Vec<T>, ParamError> {
        let text = self.text(key);
        if text == "none" {
            return Ok(Vec::new());
        }
        text.split(':')
            .map(|v| v.trim().parse().map_err(|_| self.bad(key, expected)))
            .collect()
    }

    /// The value of `key`, which must be one of `choices`.
    pub fn choice(&self, key: &str, choices: &[&'static str]) -> Result<&'static str, ParamError> {
        let text = self.text(key);
        choices
            .iter()
            .copied()
            .find(|c| *c == text)
            .ok_or_else(|| self.bad(key, &format!("one of {}", choices.join(", "))))
    }

    /// An error for `key`'s value, for checks beyond parsing (a range, an order).
    pub fn bad(&self, key: &str, expected: &str) -> ParamError {
        ParamError::BadValue {
            policy: self.policy.clone(),
            key: key.to_owned(),
            expected: expected.to_owned(),
            got: self.text(key).to_owned(),
            specs: self.specs.clone(),
        }
    }

    /// Every parameter with its resolved value, for the run's summary.
    pub fn resolved(&self) -> BTreeMap<String, String> {
        self.values
            .iter()
            .map(|(k, v)| ((*k).to_owned(), v.clone()))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SPECS: &[ParamSpec] = &[
        ParamSpec {
            key: "thresholds",
            default: "3250:7200",
            help: "queue thresholds, GPU-seconds",
        },
        ParamSpec {
            key: "starve",
            default: "0",
            help: "starvation factor",
        },
    ];

    #[test]
    fn parses_name_and_parameters() {
        let r = PolicyRequest::parse("tiresias[thresholds=1:2, starve=2]").unwrap();
        assert_eq!(r.name, "tiresias");
        assert_eq!(r.given["thresholds"], "1:2");
        assert_eq!(r.given["starve"], "2");
        assert_eq!(r.canonical(), "tiresias[starve=2,thresholds=1:2]");
        assert_eq!(PolicyRequest::parse("fgd").unwrap().canonical(), "fgd");
        assert_eq!(PolicyRequest::parse("fgd[]").unwrap().canonical(), "fgd");
    }

    #[test]
    fn malformed_requests_are_errors() {
        for bad in [
            "tiresias[starve=2",
            "tiresias[starve]",
            "[starve=2]",
            "t[Starve=2]",
            "t[a=1,a=2]",
            "t[a=]",
        ] {
            assert!(PolicyRequest::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn unknown_key_lists_valid_keys_with_defaults() {
        let r = PolicyRequest::parse("tiresias[strave=2]").unwrap();
        let e = Params::resolve(&r, SPECS).unwrap_err();
        assert_eq!(
            e.to_string(),
            "policy tiresias: unknown parameter \"strave\"; valid (with defaults): \
             thresholds=3250:7200, starve=0"
        );
        let e = Params::resolve(&r, &[]).unwrap_err();
        assert!(e.to_string().ends_with("it takes no parameters"), "{e}");
    }

    #[test]
    fn values_resolve_to_given_or_default_and_bad_values_say_what_was_expected() {
        let r = PolicyRequest::parse("tiresias[starve=x]").unwrap();
        let p = Params::resolve(&r, SPECS).unwrap();
        assert_eq!(
            p.list::<u64>("thresholds", "GPU-seconds").unwrap(),
            vec![3250, 7200]
        );
        let e = p.parse::<f64>("starve", "a number").unwrap_err();
        assert!(
            e.to_string()
                .starts_with("policy tiresias: parameter starve: expected a number, got \"x\""),
            "{e}"
        );
        assert_eq!(p.resolved()["thresholds"], "3250:7200");
    }

    #[test]
    fn lists_split_outside_brackets_only() {
        assert_eq!(
            split_requests("fgd, tiresias[thresholds=1:2,starve=2],hami").unwrap(),
            vec!["fgd", "tiresias[thresholds=1:2,starve=2]", "hami"]
        );
        assert!(split_requests("a[b=1").is_err());
        assert!(split_requests("a]").is_err());
    }
}
