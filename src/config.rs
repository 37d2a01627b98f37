//! `portcullis.toml`: which checks to run, thresholds, severity overrides and the allow-lists that
//! say what is trusted, validated against the registry (errors name the section and key).
//!
//! ```toml
//! [scan]
//! checks = ["aws_iam_*"]                      # optional: run only these (ids or * patterns)
//! skip = ["aws_iam_password_policy_strong"]
//! categories = ["trust", "credentials"]      # optional
//! skip_categories = ["exposure"]
//! severities = ["critical", "high"]          # optional: run only checks of these severities
//! skip_severities = ["info"]
//!
//! [gate]
//! fail_on = "high"                           # as --fail-on
//! allow_incomplete = false
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
//! gcp_projects = []                          # projects whose service accounts are inside
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
    #[serde(default)]
    pub gate: GateSection,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct GateSection {
    /// As `--fail-on` (the flag wins).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fail_on: Option<Severity>,
    /// As `--allow-incomplete` (either turns it on).
    #[serde(default)]
    pub allow_incomplete: bool,
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
    #[serde(default)]
    pub severities: Vec<Severity>,
    #[serde(default)]
    pub skip_severities: Vec<Severity>,
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
        let table: toml::Table = toml::from_str(text).map_err(|e| ConfigError { origin: origin.to_string(), message: e.to_string().trim_end().to_string() })?;
        Config::from_table(table, origin)
    }

    /// Validate a table (a file's, with environment overrides applied): every key known (else a
    /// did-you-mean), every check id known, every value in range.
    pub fn from_table(table: toml::Table, origin: &str) -> Result<Config, ConfigError> {
        let err = |message: String| ConfigError { origin: origin.to_string(), message };
        check_keys(&table).map_err(err)?;
        let cfg: Config = Config::deserialize(toml::Value::Table(table)).map_err(|e| err(e.to_string().trim_end().to_string()))?;
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
        if let Some(p) = cfg.trust.gcp_projects.iter().find(|p| {
            let p = p.trim();
            p.len() < 6 || p.len() > 30 || !p.starts_with(|c: char| c.is_ascii_lowercase()) || !p.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        }) {
            return Err(err(format!("[trust] gcp_projects: {p:?} is not a project id (6 to 30 lower-case letters, digits and hyphens, like security-tools-prod)")));
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

/// The keys each section takes (`checks` and `severity` are keyed by check id, checked later).
const SECTIONS: &[(&str, &[&str])] = &[
    ("scan", &["checks", "skip", "categories", "skip_categories", "severities", "skip_severities"]),
    ("checks", &[]),
    ("severity", &[]),
    ("trust", &["aws_accounts", "aws_organizations", "oidc_subjects", "azure_tenants", "gcp_domains", "gcp_projects"]),
    ("fixes", &["break_glass_roles", "access_key_admin_roles"]),
    ("gate", &["fail_on", "allow_incomplete"]),
];

fn check_keys(table: &toml::Table) -> Result<(), String> {
    let hint = |k: &str, known: &[&str]| did_you_mean(k, known.iter().copied()).map(|n| format!(" (did you mean {n}?)")).unwrap_or_default();
    let sections: Vec<&str> = SECTIONS.iter().map(|(s, _)| *s).collect();
    for (name, value) in table {
        let Some((_, keys)) = SECTIONS.iter().find(|(s, _)| s == name) else {
            return Err(format!("unknown section [{name}]{} (known: {})", hint(name, &sections), sections.join(", ")));
        };
        let Some(inner) = value.as_table() else {
            return Err(format!("[{name}] must be a table"));
        };
        if keys.is_empty() {
            continue;
        }
        for k in inner.keys() {
            if !keys.contains(&k.as_str()) {
                return Err(format!("[{name}]: unknown key {k:?}{} (known: {})", hint(k, keys), keys.join(", ")));
            }
        }
    }
    Ok(())
}

/// Where the configuration came from: the file (if any) and the environment variables applied.
#[derive(Debug, Clone, Default)]
pub struct Loaded {
    pub config: Config,
    pub file: Option<std::path::PathBuf>,
    pub env: Vec<String>,
}

/// The file name looked for in the working directory.
pub const DEFAULT_FILE: &str = "portcullis.toml";

/// Load the effective configuration: `explicit` (`--config`), else `PORTCULLIS_CONFIG`, else
/// `./portcullis.toml` if present; then `PORTCULLIS_*` overrides from `env`.
pub fn load_effective(explicit: Option<&Path>, env: &[(String, String)]) -> Result<Loaded, ConfigError> {
    let from_env = env.iter().find(|(k, _)| k == "PORTCULLIS_CONFIG").map(|(_, v)| std::path::PathBuf::from(v)).filter(|p| !p.as_os_str().is_empty());
    let file = match explicit.map(Path::to_path_buf).or(from_env) {
        Some(p) => Some(p),
        None => Some(std::path::PathBuf::from(DEFAULT_FILE)).filter(|p| p.is_file()),
    };
    let (mut table, origin) = match &file {
        Some(p) => {
            let origin = p.display().to_string();
            let text = std::fs::read_to_string(p).map_err(|e| ConfigError { origin: origin.clone(), message: format!("cannot read: {}", crate::import::io_reason(&e)) })?;
            let t: toml::Table = toml::from_str(&text).map_err(|e| ConfigError { origin: origin.clone(), message: e.to_string().trim_end().to_string() })?;
            (t, origin)
        }
        None => (toml::Table::new(), "defaults".to_string()),
    };
    let applied = apply_env(&mut table, env)?;
    let origin = if applied.is_empty() { origin } else { format!("{origin} + {}", applied.join(", ")) };
    let config = Config::from_table(table, &origin)?;
    Ok(Loaded { config, file, env: applied })
}

/// `PORTCULLIS_SCAN_SKIP=a,b` → `[scan] skip = ["a", "b"]`; likewise `PORTCULLIS_TRUST_*`,
/// `PORTCULLIS_FIXES_*`, `PORTCULLIS_GATE_FAIL_ON`, `PORTCULLIS_SEVERITY__<check id>=low` and
/// `PORTCULLIS_CHECKS__<check id>__<parameter>=60`. Other `PORTCULLIS_*` variables (endpoints)
/// belong to the command line and are left alone. An unknown key under these prefixes is an error.
fn apply_env(table: &mut toml::Table, env: &[(String, String)]) -> Result<Vec<String>, ConfigError> {
    let mut applied = Vec::new();
    let mut vars: Vec<&(String, String)> = env.iter().filter(|(k, _)| k.starts_with("PORTCULLIS_")).collect();
    vars.sort();
    for (name, value) in vars {
        let err = |message: String| ConfigError { origin: name.clone(), message };
        let rest = &name["PORTCULLIS_".len()..];
        let list = || toml::Value::Array(value.split(',').map(str::trim).filter(|v| !v.is_empty()).map(|v| toml::Value::String(v.to_string())).collect());
        let section = |t: &mut toml::Table, s: &str| -> Result<(), String> {
            match t.entry(s.to_string()).or_insert_with(|| toml::Value::Table(toml::Table::new())) {
                toml::Value::Table(_) => Ok(()),
                _ => Err(format!("[{s}] must be a table")),
            }
        };
        if let Some(id) = rest.strip_prefix("SEVERITY__") {
            section(table, "severity").map_err(err)?;
            table["severity"].as_table_mut().map(|t| t.insert(id.to_ascii_lowercase(), toml::Value::String(value.trim().to_string())));
        } else if let Some(spec) = rest.strip_prefix("CHECKS__") {
            let Some((id, param)) = spec.split_once("__") else {
                return Err(err("write PORTCULLIS_CHECKS__<check id>__<parameter>=<number>".into()));
            };
            let n: i64 = value.trim().parse().map_err(|_| err(format!("{value:?} is not a whole number")))?;
            section(table, "checks").map_err(err)?;
            let checks = table["checks"].as_table_mut().ok_or_else(|| err("[checks] must be a table".into()))?;
            let entry = checks.entry(id.to_ascii_lowercase()).or_insert_with(|| toml::Value::Table(toml::Table::new()));
            entry.as_table_mut().ok_or_else(|| err(format!("[checks.{}] must be a table", id.to_ascii_lowercase())))?.insert(param.to_ascii_lowercase(), toml::Value::Integer(n));
        } else if let Some((sec, key)) = ["SCAN", "TRUST", "FIXES", "GATE"].iter().find_map(|s| rest.strip_prefix(&format!("{s}_")).map(|k| (s.to_ascii_lowercase(), k.to_ascii_lowercase()))) {
            let known = SECTIONS.iter().find(|(s, _)| *s == sec).map(|(_, k)| *k).unwrap_or_default();
            if !known.contains(&key.as_str()) {
                let hint = did_you_mean(&key, known.iter().copied()).map(|n| format!(" (did you mean PORTCULLIS_{}_{}?)", sec.to_ascii_uppercase(), n.to_ascii_uppercase())).unwrap_or_default();
                return Err(err(format!("unknown setting{hint}; [{sec}] takes: {}", known.join(", "))));
            }
            let v = match key.as_str() {
                "fail_on" => toml::Value::String(value.trim().to_string()),
                "allow_incomplete" => toml::Value::Boolean(match value.trim().to_ascii_lowercase().as_str() {
                    "1" | "true" | "yes" => true,
                    "0" | "false" | "no" | "" => false,
                    other => return Err(err(format!("{other:?} is not true or false"))),
                }),
                _ => list(),
            };
            section(table, &sec).map_err(err)?;
            table[&sec].as_table_mut().map(|t| t.insert(key, v));
        } else {
            continue;
        }
        applied.push(name.clone());
    }
    Ok(applied)
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
        let e = Config::parse("[scna]\n", "p.toml").unwrap_err().to_string();
        assert!(e.contains("unknown section [scna] (did you mean scan?)"), "{e}");
        let e = Config::parse("[scan]\nskp = []\n", "p.toml").unwrap_err().to_string();
        assert!(e.contains("[scan]: unknown key \"skp\" (did you mean skip?)"), "{e}");
        let e = Config::parse("[scan]\nskip = [\"aws_iam_acess_key_rotated\"]\n", "p.toml").unwrap_err().to_string();
        assert!(e.contains("did you mean aws_iam_access_key_rotated?"), "{e}");
    }

    #[test]
    fn environment_overrides_the_file_and_is_validated() {
        let env = |v: &[(&str, &str)]| v.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect::<Vec<_>>();
        let dir = std::env::temp_dir().join(format!("portcullis-config-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("p.toml");
        std::fs::write(&file, "[scan]\nskip = [\"aws_iam_password_policy_strong\"]\n[trust]\naws_accounts = [\"444455556666\"]\n").unwrap();
        let l = load_effective(
            Some(&file),
            &env(&[
                ("PORTCULLIS_TRUST_AWS_ACCOUNTS", "111111111111, 222222222222"),
                ("PORTCULLIS_SEVERITY__AWS_IAM_ACCESS_KEY_ROTATED", "critical"),
                ("PORTCULLIS_CHECKS__AWS_IAM_ACCESS_KEY_ROTATED__MAX_KEY_AGE_DAYS", "30"),
                ("PORTCULLIS_GATE_FAIL_ON", "high"),
                ("PORTCULLIS_AZURE_ARM_ENDPOINT", "http://x"),
            ]),
        )
        .unwrap();
        assert_eq!(l.config.trust.aws_accounts, ["111111111111", "222222222222"]);
        assert_eq!(l.config.scan.skip, ["aws_iam_password_policy_strong"]);
        assert_eq!(l.config.severity["aws_iam_access_key_rotated"], Severity::Critical);
        assert_eq!(l.config.checks["aws_iam_access_key_rotated"]["max_key_age_days"], 30);
        assert_eq!(l.config.gate.fail_on, Some(Severity::High));
        assert_eq!(l.env.len(), 4, "{:?}", l.env);
        let e = load_effective(Some(&file), &env(&[("PORTCULLIS_SCAN_SKP", "x")])).unwrap_err().to_string();
        assert!(e.starts_with("PORTCULLIS_SCAN_SKP: unknown setting (did you mean PORTCULLIS_SCAN_SKIP?)"), "{e}");
        let e = load_effective(Some(&file), &env(&[("PORTCULLIS_SEVERITY__AWS_NOPE", "low")])).unwrap_err().to_string();
        assert!(e.contains("unknown check id \"aws_nope\""), "{e}");
        let e = load_effective(Some(&file), &env(&[("PORTCULLIS_TRUST_AWS_ACCOUNTS", "*")])).unwrap_err().to_string();
        assert!(e.contains("not a 12-digit AWS account id"), "{e}");
        std::fs::remove_dir_all(&dir).ok();
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
