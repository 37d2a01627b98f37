//! `portcullis.toml`: which checks to run, thresholds, severity overrides and the allow-lists that
//! say what is trusted, validated against the registry (errors name the section and key).
//!
//! ```toml
//! [scan]
//! checks = ["aws_iam_*"]                      # optional: run only these (ids or * patterns)
//! skip = ["aws_iam_password_policy_strong"]
//! categories = ["trust", "credentials"]      # optional
//! skip_categories = ["exposure"]
//!
//! [checks.aws_iam_access_key_rotated]
//! max_key_age_days = 60
//!
//! [severity]
//! aws_iam_password_policy_strong = "low"
//!
//! [trust]
//! aws_accounts = ["444455556666"]            # accounts outside the organization you trust
//! aws_organizations = ["o-a1b2c3d4e5"]
//! oidc_subjects = ["repo:acme/infra:*"]
//! azure_tenants = []
//! gcp_domains = []
//! ```

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::checks;
use crate::checks::{did_you_mean, id_matches};
pub use crate::settings::Trusted;
use crate::finding::{Category, Severity};
use crate::policy::arn::is_account_id;
use crate::policy::condition::is_org_id;

#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Config {
    #[serde(default)]
    pub scan: ScanSection,
    /// Check id → parameter → value.
    #[serde(default)]
    pub checks: BTreeMap<String, BTreeMap<String, i64>>,
    /// Check id (or pattern) → severity.
    #[serde(default)]
    pub severity: BTreeMap<String, Severity>,
    #[serde(default)]
    pub trust: Trusted,
    #[serde(default)]
    pub fixes: crate::fix::FixOptions,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ScanSection {
    pub checks: Option<Vec<String>>,
    #[serde(default)]
    pub skip: Vec<String>,
    #[serde(default)]
    pub categories: Vec<Category>,
    #[serde(default)]
    pub skip_categories: Vec<Category>,
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
        let text = std::fs::read_to_string(path).map_err(|e| ConfigError { origin: origin.clone(), message: format!("cannot read: {}", crate::import::io_reason(&e)) })?;
        Config::parse(&text, &origin)
    }

    pub fn parse(text: &str, origin: &str) -> Result<Config, ConfigError> {
        let err = |message: String| ConfigError { origin: origin.to_string(), message };
        let cfg: Config = toml::from_str(text).map_err(|e| err(e.to_string().trim_end().to_string()))?;
        let all = checks::all().map_err(|e| err(e.to_string()))?;
        let ids = || all.iter().map(|c| c.meta.id.as_str());
        let unknown = |section: &str, id: &str| {
            let hint = did_you_mean(id, ids()).map(|n| format!(" (did you mean {n}?)")).unwrap_or_default();
            err(format!("[{section}]: unknown check id {id:?}{hint}"))
        };
        for id in cfg.scan.checks.iter().flatten().chain(&cfg.scan.skip) {
            if !ids().any(|k| id_matches(id, k)) {
                return Err(unknown("scan", id));
            }
        }
        for id in cfg.severity.keys() {
            if !ids().any(|k| id_matches(id, k)) {
                return Err(unknown("severity", id));
            }
        }
        for (id, params) in &cfg.checks {
            let Some(c) = all.iter().find(|c| c.meta.id == *id) else {
                return Err(unknown(&format!("checks.{id}"), id));
            };
            for (p, v) in params {
                if !c.meta.params.contains_key(p) {
                    let names: Vec<&str> = c.meta.params.keys().map(String::as_str).collect();
                    return Err(err(format!("[checks.{id}]: unknown parameter {p:?} (this check has: {})", if names.is_empty() { "none".into() } else { names.join(", ") })));
                }
                let max = if p.ends_with("_days") { 3650 } else { 1000 };
                if *v < 1 || *v > max {
                    return Err(err(format!("[checks.{id}]: {p} = {v} is out of range (1 to {max})")));
                }
            }
        }
        if let Some(a) = cfg.trust.aws_accounts.iter().find(|a| !is_account_id(a)) {
            return Err(err(format!("[trust] aws_accounts: {a:?} is not a 12-digit AWS account id")));
        }
        if let Some(o) = cfg.trust.aws_organizations.iter().find(|o| !is_org_id(o)) {
            return Err(err(format!("[trust] aws_organizations: {o:?} is not an organization id (o- and 10 to 32 letters or digits)")));
        }
        if let Some(t) = cfg.trust.azure_tenants.iter().find(|t| !crate::inventory::azure::is_guid(t.trim())) {
            return Err(err(format!("[trust] azure_tenants: {t:?} is not a tenant id (a GUID such as 72f988bf-86f1-41af-91ab-2d7cd011db47)")));
        }
        if let Some(d) = cfg.trust.gcp_domains.iter().find(|d| {
            let d = d.trim();
            !d.contains('.') || d.contains('@') || d.contains(char::is_whitespace) || d.starts_with('.') || d.ends_with('.')
        }) {
            return Err(err(format!("[trust] gcp_domains: {d:?} is not a domain (like partner.example)")));
        }
        for (name, list) in [("oidc_subjects", &cfg.trust.oidc_subjects), ("azure_tenants", &cfg.trust.azure_tenants), ("gcp_domains", &cfg.trust.gcp_domains)] {
            if let Some(v) = list.iter().find(|v| v.trim().is_empty() || v.trim() == "*") {
                return Err(err(format!("[trust] {name}: {v:?} would trust everyone")));
            }
        }
        cfg.fixes.validate().map_err(err)?;
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
        let e = Config::parse("[scan]\nskip = [\"aws_iam_acess_key_rotated\"]\n", "p.toml").unwrap_err().to_string();
        assert!(e.contains("did you mean aws_iam_access_key_rotated?"), "{e}");
    }

    #[test]
    fn thresholds_and_allow_lists_are_validated() {
        for bad in [
            "[checks.aws_iam_access_key_rotated]\nmax_key_age_days = -5\n",
            "[checks.aws_iam_access_key_rotated]\nmax_key_age_days = 0\n",
            "[checks.aws_iam_access_key_rotated]\nmax_key_age_days = 100000\n",
            "[trust]\naws_accounts = [\"12345\"]\n",
            "[trust]\naws_organizations = [\"o-*\"]\n",
            "[trust]\noidc_subjects = [\"*\"]\n",
            "[trust]\nnope = []\n",
            "[severity]\naws_iam_access_key_rotated = \"urgent\"\n",
            "[scan]\ncategories = [\"nope\"]\n",
        ] {
            assert!(Config::parse(bad, "p.toml").is_err(), "{bad}");
        }
        let ok = Config::parse("[trust]\naws_accounts = [\"444455556666\"]\n[severity]\n\"aws_iam_*\" = \"low\"\n[scan]\ncategories = [\"audit-logging\"]\n", "p.toml").unwrap();
        assert_eq!(ok.trust.aws_accounts, ["444455556666"]);
        assert_eq!(ok.severity["aws_iam_*"], Severity::Low);
    }
}
