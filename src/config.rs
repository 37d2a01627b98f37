//! `portcullis.toml`: which checks to run and threshold overrides, validated against the registry.
//!
//! ```toml
//! [scan]
//! checks = ["aws_iam_access_key_rotated"]   # optional: run only these
//! skip = ["aws_iam_password_policy_strong"]
//!
//! [checks.aws_iam_access_key_rotated]
//! max_key_age_days = 60
//! ```

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;

use crate::checks;

#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Config {
    #[serde(default)]
    pub scan: ScanSection,
    /// Check id → parameter → value.
    #[serde(default)]
    pub checks: BTreeMap<String, BTreeMap<String, i64>>,
}

#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ScanSection {
    pub checks: Option<Vec<String>>,
    #[serde(default)]
    pub skip: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
#[error("{origin}: {message}")]
pub struct ConfigError {
    pub origin: String,
    pub message: String,
}

impl Config {
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let origin = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| ConfigError { origin: origin.clone(), message: format!("cannot read: {e}") })?;
        Config::parse(&text, &origin)
    }

    pub fn parse(text: &str, origin: &str) -> Result<Config, ConfigError> {
        let err = |message: String| ConfigError { origin: origin.to_string(), message };
        let cfg: Config = toml::from_str(text).map_err(|e| err(e.to_string().trim_end().to_string()))?;
        let all = checks::all().map_err(|e| err(e.to_string()))?;
        let known = |id: &str| all.iter().find(|c| c.meta.id == id);
        for id in cfg.scan.checks.iter().flatten().chain(&cfg.scan.skip) {
            if known(id).is_none() {
                return Err(err(format!("[scan]: unknown check id {id:?}")));
            }
        }
        for (id, params) in &cfg.checks {
            let Some(c) = known(id) else {
                return Err(err(format!("[checks.{id}]: unknown check id")));
            };
            for p in params.keys() {
                if !c.meta.params.contains_key(p) {
                    let names: Vec<&str> = c.meta.params.keys().map(String::as_str).collect();
                    return Err(err(format!("[checks.{id}]: unknown parameter {p:?} (this check has: {})", if names.is_empty() { "none".into() } else { names.join(", ") })));
                }
            }
        }
        Ok(cfg)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validates_ids_and_parameters() {
        let ok = Config::parse("[checks.aws_iam_access_key_rotated]\nmax_key_age_days = 60\n", "p.toml").unwrap();
        assert_eq!(ok.checks["aws_iam_access_key_rotated"]["max_key_age_days"], 60);
        let e = Config::parse("[scan]\nskip = [\"aws_nope\"]\n", "p.toml").unwrap_err().to_string();
        assert!(e.starts_with("p.toml: [scan]: unknown check id \"aws_nope\""), "{e}");
        let e = Config::parse("[checks.aws_iam_access_key_rotated]\nmax_age = 1\n", "p.toml").unwrap_err().to_string();
        assert!(e.contains("unknown parameter \"max_age\" (this check has: max_key_age_days)"), "{e}");
        assert!(Config::parse("[scna]\n", "p.toml").is_err());
    }
}
