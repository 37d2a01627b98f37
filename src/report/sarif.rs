//! `--sarif`: SARIF 2.1.0 as GitHub code scanning accepts it.
//!
//! Cloud resources are not files, so each result gets a stable repository-relative pseudo-path
//! naming the resource (`aws/111122223333/iam/user/alice`, GitHub rejects other URI schemes) with
//! `region.startLine = 1`, plus a logical location holding the real id. Rules come from check
//! metadata, so they cannot drift from the checks. Failing findings are results; checks that could
//! not be evaluated are tool execution notifications naming what was missing.

use std::io::{self, Write};

use serde_json::{json, Value};

use crate::checks::Check;
use crate::engine::Scan;
use crate::inventory::Cloud;
use crate::finding::{Finding, Severity, Status};

/// GitHub code scanning keeps at most this many results per run.
pub const GITHUB_MAX_RESULTS: usize = 25_000;

fn level(s: Severity) -> &'static str {
    match s {
        Severity::Critical | Severity::High => "error",
        Severity::Medium => "warning",
        Severity::Low | Severity::Info => "note",
    }
}

/// GitHub maps `security-severity` to critical (≥ 9.0), high (7.0–8.9), medium (4.0–6.9), low (0.1–3.9).
fn security_severity(s: Severity) -> &'static str {
    match s {
        Severity::Critical => "9.5",
        Severity::High => "8.0",
        Severity::Medium => "5.5",
        Severity::Low => "3.0",
        Severity::Info => "0.5",
    }
}

/// `aws_iam_access_key_rotated` → `AwsIamAccessKeyRotated`.
fn rule_name(id: &str) -> String {
    id.split('_').map(|w| {
        let mut c = w.chars();
        c.next().map(|f| f.to_ascii_uppercase().to_string() + c.as_str()).unwrap_or_default()
    }).collect()
}

fn rule(c: &Check) -> Value {
    let m = &c.meta;
    let mut tags = vec!["security".to_string(), m.category.as_str().to_string(), m.cloud.to_string(), m.service.clone()];
    tags.extend(m.mitre.iter().map(|t| format!("external/mitre-attack/{t}")));
    let mut rule = json!({
        "id": m.id,
        "name": rule_name(&m.id),
        "shortDescription": {"text": m.title},
        "fullDescription": {"text": m.description.trim()},
        "help": {"text": format!("{}\n\nRemediation: {}", m.risk.trim(), m.remediation.trim()), "markdown": crate::checks::catalogue::check_markdown(c)},
        "defaultConfiguration": {"level": level(m.severity)},
        "properties": {
            "tags": tags,
            "precision": "high",
            "security-severity": security_severity(m.severity),
            "problem.severity": level(m.severity),
        },
    });
    if let Some(uri) = m.references.first() {
        rule["helpUri"] = json!(uri);
    }
    rule
}

/// A stable, repository-relative pseudo-path naming the resource, built from what the finding
/// says (cloud, scope, region, resource type and name), never by parsing ids:
/// `aws/111122223333/iam/role/deploy`, `aws/111122223333/cloudtrail/eu-west-1/trail/main`,
/// `azure/<subscription>/authorization/role_assignment/<name>`, `gcp/<project>/iam/service_account/<email>`.
pub fn pseudo_path(f: &Finding) -> String {
    let segments = match f.cloud {
        Cloud::Aws => aws_path(f),
        Cloud::Azure => typed_path(f, "azure_"),
        Cloud::Gcp => typed_path(f, "gcp_"),
    };
    let mut out: Vec<String> = vec![f.cloud.as_str().to_string()];
    if !f.account.is_empty() {
        out.push(f.account.to_string());
    }
    out.extend(segments);
    // Each segment on its own: unreserved characters kept, the rest (a '/' in a name too)
    // percent-encoded; no empty or dot segments.
    out.iter()
        .filter(|s| !s.is_empty() && *s != "." && *s != "..")
        .map(|seg| {
            seg.bytes()
                .map(|b| match b {
                    b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
                    _ => format!("%{b:02X}"),
                })
                .collect::<String>()
        })
        .collect::<Vec<_>>()
        .join("/")
}

/// AWS: `<service>[/<region>]/<type>/<name>` from the resource type `aws_<service>_<type>`.
fn aws_path(f: &Finding) -> Vec<String> {
    let kind = f.resource.kind.strip_prefix("aws_").unwrap_or(f.resource.kind);
    let region = f.region.map(str::to_string);
    match kind {
        "account" => vec!["account".into()],
        // Regional settings: the service is the check's (`aws_<service>_…`).
        "region" => {
            let service = f.check_id.split('_').nth(1).unwrap_or("settings").to_string();
            vec![service, f.resource.name.to_string(), "settings".into()]
        }
        k => {
            let (service, rtype) = k.split_once('_').unwrap_or((k, "resource"));
            let mut v = vec![service.to_string()];
            v.extend(region);
            v.push(rtype.to_string());
            v.push(f.resource.name.to_string());
            v
        }
    }
}

/// Azure and GCP: `<service>/<type>[/<location>]/<name>` from `azure_<service>_<type>` or
/// `gcp_<service>_<type>`.
fn typed_path(f: &Finding, prefix: &str) -> Vec<String> {
    let kind = f.resource.kind.strip_prefix(prefix).unwrap_or(f.resource.kind);
    // `<service>_<type>` gives two segments; a bare kind (`subscription`, `project`) one.
    let mut v: Vec<String> = match kind.split_once('_') {
        Some((service, rtype)) => vec![service.to_string(), rtype.to_string()],
        None => vec![kind.to_string()],
    };
    v.extend(f.region.map(str::to_string));
    v.push(f.resource.name.to_string());
    v
}

pub fn document(scan: &Scan) -> Value {
    let index = |id: &str| scan.checks.iter().position(|c| c.meta.id == id);
    let results: Vec<Value> = scan
        .findings
        .iter()
        .filter(|f| f.status == Status::Fail)
        .map(|f| {
            json!({
                "ruleId": f.check_id,
                "ruleIndex": index(f.check_id),
                "level": level(f.severity),
                "message": {"text": f.message},
                "locations": [{
                    "physicalLocation": {"artifactLocation": {"uri": pseudo_path(f)}, "region": {"startLine": 1}},
                    "logicalLocations": [{"fullyQualifiedName": f.resource.id, "name": f.resource.name, "kind": "resource"}],
                }],
                "partialFingerprints": {"portcullisFindingFingerprint/v1": f.fingerprint()},
                "properties": {"account": f.account, "resourceType": f.resource.kind, "severity": f.severity, "evidence": f.evidence},
            })
        })
        .collect();
    let notifications: Vec<Value> = scan
        .findings
        .iter()
        .filter(|f| f.status == Status::NotEvaluated)
        .map(|f| {
            json!({
                "level": "warning",
                "message": {"text": format!("{} ({}): {}", f.check_id, if f.account.is_empty() { "-" } else { f.account }, f.message)},
                "associatedRule": {"id": f.check_id, "index": index(f.check_id)},
            })
        })
        .collect();
    json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "Portcullis",
                "semanticVersion": env!("CARGO_PKG_VERSION"),
                "rules": scan.checks.iter().map(|c| rule(c)).collect::<Vec<_>>(),
            }},
            "automationDetails": {"id": "portcullis/"},
            "invocations": [{"executionSuccessful": true, "toolExecutionNotifications": notifications}],
            "results": results,
        }],
    })
}

pub fn write(scan: &Scan, out: impl Write) -> io::Result<()> {
    let mut w = io::BufWriter::new(out);
    serde_json::to_writer_pretty(&mut w, &document(scan))?;
    w.write_all(b"\n")?;
    w.flush()
}
