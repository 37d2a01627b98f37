//! `--ocsf`: every finding as an OCSF 1.8.0 Detection Finding (class_uid 2004), in a JSON array:
//! the format AWS Security Lake, Splunk and Prowler users ingest.
//!
//! Mapping: the check is the analytic (`finding_info.analytic`, a rule), the fingerprint is
//! `finding_info.uid` (stable across scans, so a consumer can track one finding over time), the
//! resource is `resources[0]` with the evidence in its `data`, the verdict is `status_code`
//! (`FAIL`, `PASS`, `NOT_EVALUATED`) with `status_id` New / Resolved / Other, ATT&CK techniques are
//! `finding_info.attacks`, and the compliance mapping, which the class has no attribute for, is in
//! `unmapped.compliance`. The cloud profile is applied (`cloud.provider`, `cloud.account`).

use std::collections::HashMap;
use std::io::{self, Write};

use serde_json::{json, Map, Value};

use super::json::CheckText;
use crate::checks::{compliance, ScopeKind};
use crate::engine::Scan;
use crate::finding::{Finding, Severity, Status};
use crate::inventory::Cloud;

/// The OCSF schema version the events follow (`metadata.version`).
pub const OCSF_VERSION: &str = "1.8.0";
const CLASS_UID: i64 = 2004;
const CATEGORY_UID: i64 = 2;
const ACTIVITY_CREATE: i64 = 1;

fn severity_id(s: Severity) -> (i64, &'static str) {
    match s {
        Severity::Info => (1, "Informational"),
        Severity::Low => (2, "Low"),
        Severity::Medium => (3, "Medium"),
        Severity::High => (4, "High"),
        Severity::Critical => (5, "Critical"),
    }
}

/// `status_id` / `status` and `status_code` for a verdict.
fn status(s: Status) -> (i64, &'static str, &'static str) {
    match s {
        Status::Fail => (1, "New", "FAIL"),
        Status::Pass => (4, "Resolved", "PASS"),
        Status::NotEvaluated => (99, "Not evaluated", "NOT_EVALUATED"),
    }
}

fn provider(c: Cloud) -> &'static str {
    match c {
        Cloud::Aws => "AWS",
        Cloud::Azure => "Azure",
        Cloud::Gcp => "GCP",
    }
}

/// `cloud.account` for the scope a check runs over.
fn account(scope: Option<ScopeKind>, uid: &str) -> Value {
    let (type_id, name) = match scope {
        Some(ScopeKind::AwsAccount) => (10, "AWS Account"),
        Some(ScopeKind::AzureSubscription) => (13, "Azure Subscription"),
        Some(ScopeKind::GcpProject) => (11, "GCP Project"),
        Some(ScopeKind::AzureTenant) => (99, "Azure Tenant"),
        Some(ScopeKind::GcpOrganization) => (99, "GCP Organization"),
        None => (0, "Unknown"),
    };
    json!({"uid": uid, "type_id": type_id, "type": name})
}

fn attacks(mitre: &[String]) -> Vec<Value> {
    let fw = compliance::find("mitre-attack").ok().flatten();
    let name = |t: &str| fw.and_then(|f| f.titles.get(t)).map(|n| n.rsplit(": ").next().unwrap_or(n).to_string());
    mitre
        .iter()
        .map(|t| match t.split_once('.') {
            Some((parent, _)) => {
                let mut sub = json!({"uid": t, "src_url": format!("https://attack.mitre.org/techniques/{}/", t.replace('.', "/"))});
                if let Some(n) = name(t) {
                    sub["name"] = n.into();
                }
                let mut tech = json!({"uid": parent, "src_url": format!("https://attack.mitre.org/techniques/{parent}/")});
                if let Some(n) = fw.and_then(|f| f.titles.get(parent)) {
                    tech["name"] = n.clone().into();
                }
                json!({"technique": tech, "sub_technique": sub})
            }
            None => {
                let mut tech = json!({"uid": t, "src_url": format!("https://attack.mitre.org/techniques/{t}/")});
                if let Some(n) = name(t) {
                    tech["name"] = n.into();
                }
                json!({"technique": tech})
            }
        })
        .collect()
}

fn event(f: &Finding, scan: &Scan, checks: &HashMap<&str, &'static crate::checks::Check>, text: &HashMap<&'static str, CheckText>) -> Value {
    let check = checks.get(f.check_id).copied();
    let t = text.get(f.check_id);
    let (sev_id, sev) = severity_id(f.severity);
    let (status_id, status_name, status_code) = status(f.status);
    let time = scan.now.unix_millis();
    let fingerprint = f.fingerprint();

    let mut finding_info = json!({
        "uid": fingerprint,
        "title": t.map_or(f.check_id, |t| t.title),
        "analytic": {"uid": f.check_id, "name": f.check_id, "type_id": 1, "type": "Rule"},
        "types": [f.category.as_str()],
        "created_time": time,
    });
    if let Some(c) = check {
        finding_info["desc"] = c.meta.description.trim().into();
        if !c.meta.mitre.is_empty() {
            finding_info["attacks"] = attacks(&c.meta.mitre).into();
        }
    }

    let mut resource = Map::new();
    resource.insert("uid".into(), f.resource.id.as_ref().into());
    resource.insert("name".into(), f.resource.name.as_ref().into());
    resource.insert("type".into(), f.resource.kind.into());
    if let Some(r) = f.region {
        resource.insert("region".into(), r.into());
    }
    resource.insert("data".into(), serde_json::to_value(&f.evidence).unwrap_or(Value::Null));

    let mut cloud = json!({"provider": provider(f.cloud)});
    if !f.account.is_empty() {
        cloud["account"] = account(check.map(|c| c.scope()), f.account);
        if check.is_some_and(|c| c.scope() == ScopeKind::GcpProject) {
            cloud["project_uid"] = f.account.into();
        }
    }
    if let Some(r) = f.region {
        cloud["region"] = r.into();
    }

    let mut ev = json!({
        "activity_id": ACTIVITY_CREATE,
        "activity_name": "Create",
        "category_uid": CATEGORY_UID,
        "category_name": "Findings",
        "class_uid": CLASS_UID,
        "class_name": "Detection Finding",
        "type_uid": CLASS_UID * 100 + ACTIVITY_CREATE,
        "type_name": "Detection Finding: Create",
        "severity_id": sev_id,
        "severity": sev,
        "time": time,
        "message": f.message,
        "status_id": status_id,
        "status": status_name,
        "status_code": status_code,
        "is_alert": f.status == Status::Fail,
        "metadata": {
            "version": OCSF_VERSION,
            "profiles": ["cloud"],
            "product": {"name": "Portcullis", "uid": "portcullis", "vendor_name": "Portcullis", "version": env!("CARGO_PKG_VERSION")},
            "event_code": f.check_id,
            "uid": fingerprint,
        },
        "finding_info": finding_info,
        "cloud": cloud,
        "resources": [Value::Object(resource)],
    });
    if f.status == Status::NotEvaluated {
        ev["status_detail"] = f.message.clone().into();
    }
    if let Some(s) = scan.triage.suppression(&fingerprint) {
        // OCSF status 3 = Suppressed; the verdict (status_code FAIL) is unchanged.
        ev["status_id"] = 3.into();
        ev["status"] = "Suppressed".into();
        ev["status_detail"] = format!("{} (approved by {}, until {})", s.rule.reason, s.rule.approved_by, s.rule.expires).into();
        ev["is_alert"] = false.into();
    }

    if let Some(c) = check {
        let mut rem = json!({"desc": c.meta.remediation.trim()});
        if !c.meta.references.is_empty() {
            rem["references"] = c.meta.references.clone().into();
        }
        ev["remediation"] = rem;
        ev["risk_details"] = c.meta.risk.trim().into();
    }
    let mut unmapped = serde_json::Map::new();
    if let Some(t) = t.filter(|t| !t.compliance.is_empty()) {
        unmapped.insert("compliance".into(), json!(t.compliance));
    }
    if let Some(paths) = scan.fixes.get(&fingerprint) {
        // Fix artifacts (paths under --fixes DIR): the class has no attribute for files to apply.
        unmapped.insert("fixes".into(), json!(paths));
    }
    if let Some(state) = scan.triage.mark(&fingerprint).baseline {
        unmapped.insert("baseline_state".into(), state.as_str().into());
    }
    if !unmapped.is_empty() {
        ev["unmapped"] = Value::Object(unmapped);
    }
    ev
}

/// Every finding (failing, not evaluated and passing), as OCSF events.
pub fn events(scan: &Scan) -> Vec<Value> {
    let checks: HashMap<&str, &'static crate::checks::Check> = scan.checks.iter().map(|c| (c.meta.id.as_str(), *c)).collect();
    let text = CheckText::index(scan);
    scan.findings.iter().map(|f| event(f, scan, &checks, &text)).collect()
}

pub fn write(scan: &Scan, out: impl Write) -> io::Result<()> {
    let checks: HashMap<&str, &'static crate::checks::Check> = scan.checks.iter().map(|c| (c.meta.id.as_str(), *c)).collect();
    let text = CheckText::index(scan);
    let mut w = io::BufWriter::new(out);
    w.write_all(b"[")?;
    for (i, f) in scan.findings.iter().enumerate() {
        w.write_all(if i == 0 { b"\n" } else { b",\n" })?;
        serde_json::to_writer(&mut w, &event(f, scan, &checks, &text))?;
    }
    w.write_all(b"\n]\n")?;
    w.flush()
}
