//! Check metadata: the text a person reads, parsed from `checks/<cloud>/<id>.toml` and validated.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::finding::{Category, Severity};
use crate::inventory::Cloud;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct CheckMeta {
    pub id: String,
    /// The registry's `&'static` copy of `id`, for findings.
    #[serde(skip)]
    pub id_static: &'static str,
    pub title: String,
    pub cloud: Cloud,
    pub service: String,
    /// The `resource.type` of this check's findings.
    pub resource_type: String,
    pub category: Category,
    pub severity: Severity,
    pub description: String,
    pub risk: String,
    pub remediation: String,
    #[serde(default)]
    pub references: Vec<String>,
    /// Framework → requirement ids, e.g. `"CIS AWS Foundations 3.0.0" = ["1.14"]`.
    #[serde(default)]
    pub compliance: BTreeMap<String, Vec<String>>,
    /// MITRE ATT&CK technique ids.
    #[serde(default)]
    pub mitre: Vec<String>,
    /// Names of fix templates under `templates/fixes/`.
    #[serde(default)]
    pub fix: Vec<String>,
    /// Thresholds with their defaults.
    #[serde(default)]
    pub params: BTreeMap<String, i64>,
}

#[derive(Debug, Clone, thiserror::Error)]
#[error("check metadata checks/…/{id}.toml: {message}")]
pub struct MetaError {
    pub id: String,
    pub message: String,
}

impl CheckMeta {
    pub fn parse(text: &str, id: &'static str) -> Result<CheckMeta, MetaError> {
        let e = |message: String| MetaError { id: id.to_string(), message };
        let mut m: CheckMeta = toml::from_str(text).map_err(|x| e(x.to_string()))?;
        m.id_static = id;
        if m.id != id {
            return Err(e(format!("id {:?} does not match the file name", m.id)));
        }
        let prefix = format!("{}_{}_", m.cloud, m.service);
        if !m.id.starts_with(&prefix) {
            return Err(e(format!("id must start with <cloud>_<service>_ ({prefix})")));
        }
        if !m.id.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_') {
            return Err(e("id must be snake_case".into()));
        }
        if m.title.trim().is_empty() || m.title.len() > 100 {
            return Err(e("title must be 1 to 100 characters".into()));
        }
        for (name, v) in [("description", &m.description), ("risk", &m.risk), ("remediation", &m.remediation)] {
            if v.trim().is_empty() {
                return Err(e(format!("{name} is empty")));
            }
        }
        if let Some(r) = m.references.iter().find(|r| !r.starts_with("https://")) {
            return Err(e(format!("reference {r:?} is not an https URL")));
        }
        if let Some(t) = m.mitre.iter().find(|t| !is_technique(t)) {
            return Err(e(format!("{t:?} is not a MITRE ATT&CK technique id (T1234 or T1234.001)")));
        }
        Ok(m)
    }
}

fn is_technique(t: &str) -> bool {
    let b = t.as_bytes();
    let digits = |s: &[u8]| s.iter().all(u8::is_ascii_digit);
    match b.len() {
        5 => b[0] == b'T' && digits(&b[1..]),
        9 => b[0] == b'T' && digits(&b[1..5]) && b[5] == b'.' && digits(&b[6..]),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const OK: &str = r#"
id = "aws_iam_x"
title = "T"
cloud = "aws"
service = "iam"
resource_type = "aws_iam_user"
category = "credentials"
severity = "high"
description = "d"
risk = "r"
remediation = "m"
mitre = ["T1078.004"]
"#;

    #[test]
    fn validates() {
        assert!(CheckMeta::parse(OK, "aws_iam_x").is_ok());
        assert!(CheckMeta::parse(OK, "aws_iam_y").unwrap_err().message.contains("file name"));
        let bad = OK.replace("T1078.004", "T10");
        assert!(CheckMeta::parse(&bad, "aws_iam_x").unwrap_err().message.contains("MITRE"));
        let bad = OK.replace("service = \"iam\"", "service = \"sts\"");
        assert!(CheckMeta::parse(&bad, "aws_iam_x").unwrap_err().message.contains("<cloud>_<service>_"));
        let bad = format!("{OK}\nunknown = 1");
        assert!(CheckMeta::parse(&bad, "aws_iam_x").is_err());
        let bad = OK.replace("\"high\"", "\"severe\"");
        assert!(CheckMeta::parse(&bad, "aws_iam_x").is_err());
    }
}
