//! Compliance frameworks: each framework's full list of requirements, from
//! `checks/compliance/<framework>.toml`, and which checks map to each. A requirement no check maps
//! to is part of the list (shown as uncovered), so a report never suggests more coverage than it has.
//!
//! Checks name frameworks by `name` in their metadata (`"CIS AWS Foundations 3.0.0" = ["1.14"]`) and
//! ATT&CK techniques in `mitre`; [`validate`] refuses a mapping to a framework or requirement
//! that does not exist.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use serde::{Deserialize, Serialize};

use super::{Check, MetaError};
use crate::inventory::Cloud;

/// The ATT&CK framework's name: checks map to it through `mitre`, not `compliance`.
pub const MITRE: &str = "MITRE ATT&CK";

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Framework {
    pub name: String,
    /// What `--compliance` accepts besides the name: `cis-aws`, `mitre-attack`, ….
    pub slug: String,
    #[serde(default)]
    pub cloud: Option<Cloud>,
    pub url: String,
    /// Requirement ids in the framework's order.
    pub requirements: Vec<String>,
    /// Section number (the id's first part) → section name.
    #[serde(default)]
    pub sections: BTreeMap<String, String>,
    /// Requirement titles where the framework's own words may be given (ATT&CK technique names).
    #[serde(default)]
    pub titles: BTreeMap<String, String>,
}

impl Framework {
    pub fn section_of(&self, requirement: &str) -> Option<&str> {
        let head = requirement.split('.').next()?;
        self.sections.get(head).map(String::as_str)
    }

    /// The checks that map to a requirement, in registry order.
    pub fn checks_for<'c>(&self, requirement: &str, checks: &'c [&'c Check]) -> Vec<&'c Check> {
        checks.iter().copied().filter(|c| maps_to(c, &self.name, requirement)).collect()
    }
}

/// Does this check map to the framework's requirement?
pub fn maps_to(c: &Check, framework: &str, requirement: &str) -> bool {
    if framework == MITRE {
        c.meta.mitre.iter().any(|t| t == requirement)
    } else {
        c.meta.compliance.get(framework).is_some_and(|ids| ids.iter().any(|i| i == requirement))
    }
}

/// The requirements of every framework a check maps to: `(framework, requirement)` pairs.
pub fn mappings(c: &Check) -> Vec<(&str, &str)> {
    let mut v: Vec<(&str, &str)> = c.meta.compliance.iter().flat_map(|(fw, ids)| ids.iter().map(move |i| (fw.as_str(), i.as_str()))).collect();
    v.extend(c.meta.mitre.iter().map(|t| (MITRE, t.as_str())));
    v
}

const SOURCES: &[(&str, &str)] = &[
    ("cis_aws_foundations", include_str!("../../checks/compliance/cis_aws_foundations.toml")),
    ("cis_azure_foundations", include_str!("../../checks/compliance/cis_azure_foundations.toml")),
    ("cis_gcp_foundation", include_str!("../../checks/compliance/cis_gcp_foundation.toml")),
    ("mitre_attack", include_str!("../../checks/compliance/mitre_attack.toml")),
];

/// Every framework, parsed once, in a fixed order.
pub fn frameworks() -> Result<&'static [Framework], MetaError> {
    static ALL: OnceLock<Result<Vec<Framework>, MetaError>> = OnceLock::new();
    ALL.get_or_init(|| SOURCES.iter().map(|(file, text)| parse(file, text)).collect()).as_deref().map_err(Clone::clone)
}

fn parse(file: &str, text: &str) -> Result<Framework, MetaError> {
    let e = |message: String| MetaError { id: format!("compliance/{file}"), message };
    let fw: Framework = toml::from_str(text).map_err(|x| e(x.to_string()))?;
    let mut seen = std::collections::BTreeSet::new();
    if let Some(dup) = fw.requirements.iter().find(|r| !seen.insert(r.as_str())) {
        return Err(e(format!("requirement {dup:?} is listed twice")));
    }
    if !fw.sections.is_empty() {
        if let Some(r) = fw.requirements.iter().find(|r| fw.section_of(r).is_none()) {
            return Err(e(format!("requirement {r:?} is in no section")));
        }
    }
    if let Some(t) = fw.titles.keys().find(|t| !seen.contains(t.as_str())) {
        return Err(e(format!("title for {t:?}, which is not a requirement")));
    }
    Ok(fw)
}

/// The framework `--compliance` names: its slug or its name, any case.
pub fn find(name: &str) -> Result<Option<&'static Framework>, MetaError> {
    let n = name.trim();
    Ok(frameworks()?.iter().find(|f| f.slug.eq_ignore_ascii_case(n) || f.name.eq_ignore_ascii_case(n)))
}

/// Every mapping in the check metadata names a framework and a requirement that exist.
pub fn validate(checks: &[Check]) -> Result<(), MetaError> {
    let fws = frameworks()?;
    for c in checks {
        for (fw, req) in mappings(c) {
            let e = |message: String| MetaError { id: c.meta.id.clone(), message };
            let Some(f) = fws.iter().find(|f| f.name == fw) else {
                let known: Vec<&str> = fws.iter().map(|f| f.name.as_str()).collect();
                return Err(e(format!("compliance framework {fw:?} is not one of {}", known.join(", "))));
            };
            if !f.requirements.iter().any(|r| r == req) {
                return Err(e(format!("{fw} has no requirement {req:?} (see checks/compliance/)")));
            }
            if f.cloud.is_some_and(|cl| cl != c.meta.cloud) {
                return Err(e(format!("{fw} is a {} framework", f.cloud.map(|c| c.to_string()).unwrap_or_default())));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frameworks_parse_and_every_mapping_exists() {
        let fws = frameworks().unwrap();
        assert_eq!(fws.len(), 4);
        let aws = find("cis-aws").unwrap().unwrap();
        assert_eq!(aws.section_of("1.14"), Some("Identity and Access Management"));
        assert!(aws.requirements.len() > 50);
        assert!(find("CIS Microsoft Azure Foundations 2.0.0").unwrap().is_some());
        assert!(find("nist").unwrap().is_none());
        validate(crate::checks::all().unwrap()).unwrap();
    }

    #[test]
    fn a_bad_catalogue_is_refused() {
        let dup = "name = \"X\"\nslug = \"x\"\nurl = \"https://x\"\nrequirements = [\"1.1\", \"1.1\"]\n";
        assert!(parse("x", dup).unwrap_err().message.contains("twice"));
        let nosec = "name = \"X\"\nslug = \"x\"\nurl = \"https://x\"\nrequirements = [\"2.1\"]\n[sections]\n\"1\" = \"A\"\n";
        assert!(parse("x", nosec).unwrap_err().message.contains("no section"));
    }
}
