//! Findings: what a check concluded about one resource.

use std::borrow::Cow;
use std::fmt;
use std::str::FromStr;

use serde::ser::SerializeMap;
use serde::{Deserialize, Serialize, Serializer};
use sha2::{Digest, Sha256};

use crate::inventory::{Cloud, Timestamp};

/// Three outcomes, never two: a check that could not read its data says so.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Fail,
    NotEvaluated,
    Pass,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Fail => "fail",
            Status::NotEvaluated => "not_evaluated",
            Status::Pass => "pass",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    pub const ALL: [Severity; 5] = [Severity::Critical, Severity::High, Severity::Medium, Severity::Low, Severity::Info];

    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Severity {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Severity::ALL
            .into_iter()
            .find(|v| v.as_str().eq_ignore_ascii_case(s))
            .ok_or_else(|| format!("unknown severity {s:?} (expected critical, high, medium, low or info)"))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Category {
    Credentials,
    Mfa,
    Trust,
    AuditLogging,
    Guardrails,
    Privilege,
    Exposure,
}

impl Category {
    pub const ALL: [Category; 7] = [
        Category::Credentials,
        Category::Mfa,
        Category::Trust,
        Category::AuditLogging,
        Category::Guardrails,
        Category::Privilege,
        Category::Exposure,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Category::Credentials => "credentials",
            Category::Mfa => "mfa",
            Category::Trust => "trust",
            Category::AuditLogging => "audit-logging",
            Category::Guardrails => "guardrails",
            Category::Privilege => "privilege",
            Category::Exposure => "exposure",
        }
    }
}

impl FromStr for Category {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Category::ALL.into_iter().find(|c| c.as_str().eq_ignore_ascii_case(s)).ok_or_else(|| {
            format!("unknown category {s:?} (expected {})", Category::ALL.map(Category::as_str).join(", "))
        })
    }
}

/// The resource a finding is about. Borrows from the inventory where it can: a scan of a million
/// principals must not copy every ARN several times.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Resource<'a> {
    /// ARN, Azure resource id / Entra object id, or GCP full resource name (or an account id).
    pub id: Cow<'a, str>,
    pub name: Cow<'a, str>,
    #[serde(rename = "type")]
    pub kind: &'static str,
}

/// One evidence value: small scalars inline, anything structured boxed.
#[derive(Debug, Clone, PartialEq)]
pub enum EvidenceValue {
    Null,
    Bool(bool),
    Int(i64),
    Time(Timestamp),
    Text(Box<str>),
    Json(Box<serde_json::Value>),
}

impl Serialize for EvidenceValue {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            EvidenceValue::Null => s.serialize_unit(),
            EvidenceValue::Bool(b) => s.serialize_bool(*b),
            EvidenceValue::Int(i) => s.serialize_i64(*i),
            EvidenceValue::Time(t) => t.serialize(s),
            EvidenceValue::Text(t) => s.serialize_str(t),
            EvidenceValue::Json(v) => v.serialize(s),
        }
    }
}

impl From<bool> for EvidenceValue {
    fn from(v: bool) -> Self {
        EvidenceValue::Bool(v)
    }
}
impl From<i64> for EvidenceValue {
    fn from(v: i64) -> Self {
        EvidenceValue::Int(v)
    }
}
impl From<usize> for EvidenceValue {
    fn from(v: usize) -> Self {
        EvidenceValue::Int(i64::try_from(v).unwrap_or(i64::MAX))
    }
}
impl From<Timestamp> for EvidenceValue {
    fn from(v: Timestamp) -> Self {
        EvidenceValue::Time(v)
    }
}
impl From<&str> for EvidenceValue {
    fn from(v: &str) -> Self {
        EvidenceValue::Text(v.into())
    }
}
impl From<String> for EvidenceValue {
    fn from(v: String) -> Self {
        EvidenceValue::Text(v.into_boxed_str())
    }
}
impl<T: Into<EvidenceValue>> From<Option<T>> for EvidenceValue {
    fn from(v: Option<T>) -> Self {
        v.map_or(EvidenceValue::Null, Into::into)
    }
}
impl From<Vec<String>> for EvidenceValue {
    fn from(v: Vec<String>) -> Self {
        EvidenceValue::Json(Box::new(v.into()))
    }
}
impl From<serde_json::Value> for EvidenceValue {
    fn from(v: serde_json::Value) -> Self {
        EvidenceValue::Json(Box::new(v))
    }
}

/// Evidence: a small ordered map of facts behind the verdict. Never credential material.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Evidence(pub Vec<(&'static str, EvidenceValue)>);

impl Serialize for Evidence {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(self.0.len()))?;
        for (k, v) in &self.0 {
            m.serialize_entry(k, v)?;
        }
        m.end()
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Finding<'a> {
    pub check_id: &'static str,
    pub status: Status,
    pub severity: Severity,
    pub category: Category,
    pub cloud: Cloud,
    /// Account id, subscription id or project id.
    pub account: &'a str,
    pub region: Option<&'a str>,
    pub resource: Resource<'a>,
    pub message: String,
    /// What distinguishes two findings of one check on one resource (e.g. `access_key_2`).
    pub detail: Option<Cow<'a, str>>,
    pub evidence: Evidence,
}

impl<'a> Finding<'a> {
    /// Stable across runs and versions: SHA-256 of check id, resource id and detail, first 128 bits
    /// in hex. Baselines and SARIF `partialFingerprints` rely on it.
    pub fn fingerprint(&self) -> String {
        let mut h = Sha256::new();
        h.update(self.check_id.as_bytes());
        h.update([0]);
        h.update(self.resource.id.as_bytes());
        h.update([0]);
        h.update(self.detail.as_deref().unwrap_or("").as_bytes());
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let digest = h.finalize();
        let mut out = String::with_capacity(32);
        for b in &digest[..16] {
            out.push(char::from(HEX[usize::from(b >> 4)]));
            out.push(char::from(HEX[usize::from(b & 0x0f)]));
        }
        out
    }

    pub fn with(&mut self, key: &'static str, value: impl Into<EvidenceValue>) -> &mut Self {
        self.evidence.0.push((key, value.into()));
        self
    }

    /// The AWS region (or location) the resource lives in.
    pub fn in_region(&mut self, region: &'a str) -> &mut Self {
        self.region = Some(region);
        self
    }

    pub fn detail(&mut self, detail: impl Into<Cow<'a, str>>) -> &mut Self {
        self.detail = Some(detail.into());
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(detail: Option<&'static str>) -> Finding<'static> {
        Finding {
            check_id: "aws_iam_access_key_rotated",
            status: Status::Fail,
            severity: Severity::High,
            category: Category::Credentials,
            cloud: Cloud::Aws,
            account: "111122223333",
            region: None,
            resource: Resource { id: "arn:aws:iam::111122223333:user/alice".into(), name: "alice".into(), kind: "aws_iam_user" },
            message: "m".into(),
            detail: detail.map(Cow::Borrowed),
            evidence: Evidence::default(),
        }
    }

    #[test]
    fn fingerprint_is_stable_and_depends_on_detail_not_message() {
        let a = f(Some("access_key_1"));
        // Pinned: changing this breaks every user's baseline.
        assert_eq!(a.fingerprint(), "8e75fe7300689bd6cbea1cfb3b1856a1");
        let mut b = a.clone();
        b.message = "other words".into();
        b.status = Status::Pass;
        assert_eq!(a.fingerprint(), b.fingerprint());
        assert_ne!(a.fingerprint(), f(Some("access_key_2")).fingerprint());
    }

    #[test]
    fn severity_parses_and_orders() {
        assert_eq!("HIGH".parse::<Severity>().unwrap(), Severity::High);
        assert!(Severity::Critical > Severity::High && Severity::Low > Severity::Info);
        assert!("urgent".parse::<Severity>().is_err());
    }
}
