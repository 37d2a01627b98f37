//! `--json`: findings v1 (DESIGN §5), streamed so large scans do not build a second copy in memory.
//!
//! Changes within v1 are additive only (fields added, none removed or retyped): each finding also
//! carries its check's `title`, `remediation` and `compliance` mapping, and the document a
//! `compliance` view per framework. Consumers that ignore unknown fields keep working.

use std::collections::{BTreeMap, HashMap};
use std::io::{self, Write};

use serde::ser::{SerializeSeq, SerializeStruct};
use serde::{Serialize, Serializer};

use crate::checks::Check;
use crate::engine::Scan;
use crate::finding::{Category, Evidence, Finding, Resource, Severity, Status};
use crate::inventory::Cloud;

pub const SCHEMA: &str = "portcullis.findings/v1";

#[derive(Serialize)]
struct FindingV1<'a> {
    check_id: &'a str,
    status: Status,
    severity: Severity,
    category: Category,
    cloud: Cloud,
    account: &'a str,
    region: Option<&'a str>,
    resource: &'a Resource<'a>,
    message: &'a str,
    title: &'a str,
    remediation: &'a str,
    /// Framework → requirement ids, ATT&CK included.
    compliance: &'a BTreeMap<&'static str, Vec<&'static str>>,
    fingerprint: String,
    evidence: &'a Evidence,
    /// Paths (under `--fixes DIR`) of the fix artifacts that address it.
    fixes: &'a [String],
    /// With `--baseline`, for failing findings: `new` or `unchanged`.
    #[serde(skip_serializing_if = "Option::is_none")]
    baseline_state: Option<crate::gate::BaselineState>,
    /// With `--suppressions`: the rule that accepted this failing finding.
    #[serde(skip_serializing_if = "Option::is_none")]
    suppression: Option<SuppressionRef<'a>>,
}

#[derive(Serialize)]
struct SuppressionRef<'a> {
    reason: &'a str,
    approved_by: &'a str,
    expires: &'a str,
}

/// What each finding repeats from its check's metadata, computed once per check.
pub(crate) struct CheckText {
    pub title: &'static str,
    pub risk: &'static str,
    pub remediation: &'static str,
    pub compliance: BTreeMap<&'static str, Vec<&'static str>>,
}

impl CheckText {
    pub fn of(c: &'static Check) -> CheckText {
        let mut compliance: BTreeMap<&'static str, Vec<&'static str>> = BTreeMap::new();
        for (fw, req) in crate::checks::compliance::mappings(c) {
            compliance.entry(fw).or_default().push(req);
        }
        CheckText { title: &c.meta.title, risk: c.meta.risk.trim(), remediation: c.meta.remediation.trim(), compliance }
    }

    /// Per check id, for every check of a scan.
    pub fn index(scan: &Scan) -> HashMap<&'static str, CheckText> {
        scan.checks.iter().map(|c| (c.meta.id_static, CheckText::of(c))).collect()
    }
}

static NO_MAPPING: BTreeMap<&'static str, Vec<&'static str>> = BTreeMap::new();

static NO_FIXES: Vec<String> = Vec::new();

impl<'a> FindingV1<'a> {
    fn new(f: &'a Finding<'a>, text: Option<&'a CheckText>, fixes: &'a std::collections::BTreeMap<String, Vec<String>>, triage: &'a crate::gate::Triage) -> Self {
        let fingerprint = f.fingerprint();
        let mark = triage.mark(&fingerprint);
        let suppression = triage.suppression(&fingerprint).map(|s| SuppressionRef { reason: &s.rule.reason, approved_by: &s.rule.approved_by, expires: &s.rule.expires });
        FindingV1 {
            check_id: f.check_id,
            status: f.status,
            severity: f.severity,
            category: f.category,
            cloud: f.cloud,
            account: f.account,
            region: f.region,
            resource: &f.resource,
            message: &f.message,
            title: text.map_or("", |t| t.title),
            remediation: text.map_or("", |t| t.remediation),
            compliance: text.map_or(&NO_MAPPING, |t| &t.compliance),
            fixes: fixes.get(&fingerprint).map_or(&NO_FIXES[..], Vec::as_slice),
            fingerprint,
            evidence: &f.evidence,
            baseline_state: mark.baseline,
            suppression,
        }
    }
}

struct FindingList<'a>(&'a crate::engine::Findings<'a>, &'a HashMap<&'static str, CheckText>, &'a BTreeMap<String, Vec<String>>, &'a crate::gate::Triage);

impl Serialize for FindingList<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(self.0.len()))?;
        for f in self.0 {
            seq.serialize_element(&FindingV1::new(f, self.1.get(f.check_id), self.2, self.3))?;
        }
        seq.end()
    }
}

struct Document<'a>(&'a Scan<'a>);

impl Serialize for Document<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Tool {
            name: &'static str,
            version: &'static str,
        }
        let scan = self.0;
        let text = CheckText::index(scan);
        let mut st = s.serialize_struct("Findings", 8)?;
        st.serialize_field("schema", SCHEMA)?;
        st.serialize_field("tool", &Tool { name: "portcullis", version: env!("CARGO_PKG_VERSION") })?;
        st.serialize_field("generated_at", &scan.now)?;
        st.serialize_field("findings", &FindingList(&scan.findings, &text, &scan.fixes, &scan.triage))?;
        st.serialize_field("coverage", &scan.coverage)?;
        st.serialize_field("compliance", &super::compliance::for_scan(scan))?;
        // With --baseline: new / unchanged counts, the resolved findings, and caveats.
        if let Some(b) = &scan.triage.baseline {
            st.serialize_field("baseline", b)?;
        }
        // With --suppressions: every rule, applied, unmatched or expired.
        if scan.triage.suppressions_file.is_some() {
            st.serialize_field("suppressions", &scan.triage.suppressions)?;
        }
        st.end()
    }
}

pub fn write(scan: &Scan, out: impl Write) -> io::Result<()> {
    let mut w = io::BufWriter::new(out);
    serde_json::to_writer_pretty(&mut w, &Document(scan))?;
    w.write_all(b"\n")?;
    w.flush()
}
