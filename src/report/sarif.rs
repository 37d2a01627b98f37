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

/// GitHub code scanning rejects a run with more results than this.
pub const GITHUB_MAX_RESULTS: usize = 25_000;
/// GitHub code scanning rejects an upload whose gzip-compressed SARIF is larger than this.
pub const GITHUB_MAX_GZIP_BYTES: usize = 10 * 1024 * 1024;
/// GitHub keeps at most this many tags per rule (and rejects more than 20).
pub const GITHUB_MAX_TAGS: usize = 10;

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

fn rule(c: &Check, taxonomies: &[Taxonomy]) -> Value {
    let m = &c.meta;
    let mut tags = vec!["security".to_string(), m.category.as_str().to_string(), m.cloud.to_string(), m.service.clone()];
    tags.extend(m.mitre.iter().map(|t| format!("external/mitre-attack/{t}")));
    tags.truncate(GITHUB_MAX_TAGS);
    // Each mapped requirement or technique, as a relationship to its taxonomy's taxon.
    let relationships: Vec<Value> = crate::checks::compliance::mappings(c)
        .into_iter()
        .filter_map(|(fw, req)| {
            let (ti, t) = taxonomies.iter().enumerate().find(|(_, t)| t.name == fw)?;
            let xi = t.taxa.iter().position(|x| x == req)?;
            Some(json!({"target": {"id": req, "index": xi, "toolComponent": {"name": fw, "index": ti}}, "kinds": ["relevant"]}))
        })
        .collect();
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
    if !relationships.is_empty() {
        rule["relationships"] = json!(relationships);
    }
    rule
}

/// A compliance framework or ATT&CK, as a SARIF taxonomy: its requirements are the taxa.
struct Taxonomy {
    name: String,
    url: String,
    taxa: Vec<String>,
    titles: Vec<Option<String>>,
}

fn taxonomies(scan: &Scan) -> Vec<Taxonomy> {
    crate::report::compliance::for_scan(scan)
        .into_iter()
        .map(|v| Taxonomy {
            name: v.name,
            url: v.url,
            taxa: v.requirements.iter().map(|r| r.id.clone()).collect(),
            titles: v.requirements.iter().map(|r| r.title.clone()).collect(),
        })
        .collect()
}

fn taxonomy_json(t: &Taxonomy) -> Value {
    let taxa: Vec<Value> = t
        .taxa
        .iter()
        .zip(&t.titles)
        .map(|(id, title)| match title {
            Some(n) => json!({"id": id, "shortDescription": {"text": n}}),
            None => json!({"id": id}),
        })
        .collect();
    json!({
        "name": t.name,
        "informationUri": t.url,
        "isComprehensive": false,
        "shortDescription": {"text": format!("{} (requirements by id)", t.name)},
        "taxa": taxa,
    })
}

/// GitHub's analysis category for this scan: the scanned scopes, so uploads of different accounts
/// do not replace each other's alerts. Long scope lists are summarized with a stable hash.
pub fn automation_id(scan: &Scan) -> String {
    use sha2::{Digest, Sha256};
    let scopes: std::collections::BTreeSet<String> =
        scan.findings.iter().filter(|f| !f.account.is_empty()).map(|f| format!("{}-{}", f.cloud, f.account)).collect();
    let safe = |s: &str| s.chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.' { c } else { '_' }).collect::<String>();
    let list: Vec<String> = scopes.iter().map(|s| safe(s)).collect();
    let category = if list.is_empty() {
        "no-scope".to_string()
    } else if list.len() <= 3 {
        list.join("+")
    } else {
        let h = Sha256::digest(list.join("\n").as_bytes());
        let hex: String = h[..4].iter().map(|b| format!("{b:02x}")).collect();
        format!("{}-and-{}-more-{hex}", list[0], list.len() - 1)
    };
    format!("portcullis/{category}/")
}

/// What [`document`] left out to stay within GitHub's limits.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Trimmed {
    /// Failing findings left out, lowest severity first.
    pub results: usize,
    pub reason: &'static str,
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

/// The SARIF document with at most `max_results` results: the most severe failing findings.
fn document_limited(scan: &Scan, max_results: usize) -> (Value, usize) {
    let index = |id: &str| scan.checks.iter().position(|c| c.meta.id == id);
    let mut failing: Vec<&Finding> = scan.findings.iter().filter(|f| f.status == Status::Fail).collect();
    let dropped = failing.len().saturating_sub(max_results);
    if dropped > 0 {
        // Stable: the check order is kept within a severity; the least severe go first.
        failing.sort_by_key(|f| std::cmp::Reverse(f.severity));
        failing.truncate(max_results);
    }
    let taxonomies = taxonomies(scan);
    let results: Vec<Value> = failing
        .into_iter()
        .map(|f| {
            let fingerprint = f.fingerprint();
            let mut result = json!({
                "ruleId": f.check_id,
                "ruleIndex": index(f.check_id),
                "level": level(f.severity),
                "message": {"text": f.message},
                "locations": [{
                    "physicalLocation": physical_location(scan, f),
                    "logicalLocations": [{"fullyQualifiedName": f.resource.id, "name": f.resource.name, "kind": "resource"}],
                }],
                "partialFingerprints": {"portcullisFindingFingerprint/v1": fingerprint},
                "properties": {"account": f.account, "resourceType": f.resource.kind, "severity": f.severity, "evidence": f.evidence, "fixes": scan.fixes.get(&fingerprint).cloned().unwrap_or_default()},
            });
            if let Some(p) = scan.planned_for(f) {
                result["properties"]["terraformAddress"] = p.address.clone().into();
                result["properties"]["terraformAction"] = p.action.as_str().into();
            }
            let mark = scan.triage.mark(&fingerprint);
            if let Some(state) = mark.baseline {
                result["baselineState"] = state.as_str().into();
            }
            if let Some(s) = scan.triage.suppression(&fingerprint) {
                // GitHub code scanning closes suppressed results instead of opening alerts.
                result["suppressions"] = json!([{
                    "kind": "external",
                    "status": "accepted",
                    "justification": format!("{} (approved by {}, until {})", s.rule.reason, s.rule.approved_by, s.rule.expires),
                }]);
            }
            result
        })
        .collect();
    let mut notifications: Vec<Value> = scan
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
    notifications.extend(triage_notifications(&scan.triage));
    let mut driver = json!({
        "name": "Portcullis",
        "semanticVersion": env!("CARGO_PKG_VERSION"),
        "rules": scan.checks.iter().map(|c| rule(c, &taxonomies)).collect::<Vec<_>>(),
    });
    if !taxonomies.is_empty() {
        driver["supportedTaxonomies"] = taxonomies.iter().enumerate().map(|(i, t)| json!({"name": t.name, "index": i})).collect();
    }
    let doc = json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": driver},
            "automationDetails": {"id": automation_id(scan), "description": {"text": format!("Portcullis scan of {}", scope_text(scan))}},
            "taxonomies": taxonomies.iter().map(taxonomy_json).collect::<Vec<_>>(),
            "invocations": [{"executionSuccessful": true, "toolExecutionNotifications": notifications}],
            "results": results,
        }],
    });
    let mut doc = doc;
    if let Some(b) = &scan.triage.baseline {
        // Resolved findings are not results (GitHub would open alerts for them): they are listed here.
        doc["runs"][0]["properties"] = json!({"baseline": b});
    }
    (doc, dropped)
}

/// Where a result points: the `.tf` file and line of a planned resource when the plan's
/// configuration named a local module directory inside the working directory; otherwise the
/// resource's pseudo-path.
fn physical_location(scan: &Scan, f: &Finding) -> Value {
    if let Some(p) = scan.planned_for(f) {
        if let Some(file) = p.file.as_deref().filter(|f| !f.starts_with('/') && !f.contains(':') && !f.split('/').any(|c| c == "..")) {
            return json!({"artifactLocation": {"uri": uri_path(file)}, "region": {"startLine": p.line.unwrap_or(1)}});
        }
    }
    json!({"artifactLocation": {"uri": pseudo_path(f)}, "region": {"startLine": 1}})
}

/// A relative path as a URI reference: each segment percent-encoded (RFC 3986 unreserved kept).
fn uri_path(path: &str) -> String {
    path.split('/').map(uri_segment).collect::<Vec<_>>().join("/")
}

/// One URI path segment: RFC 3986 unreserved characters kept, everything else (a `/` too)
/// percent-encoded.
pub fn uri_segment(s: &str) -> String {
    use percent_encoding::{utf8_percent_encode, NON_ALPHANUMERIC};
    const SEGMENT: &percent_encoding::AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~');
    utf8_percent_encode(s, SEGMENT).to_string()
}

/// Expired and unmatched suppressions, and baseline caveats, as warnings of the run.
fn triage_notifications(t: &crate::gate::Triage) -> Vec<Value> {
    use crate::gate::SuppressionState;
    let mut v = Vec::new();
    for (i, s) in t.suppressions.iter().enumerate() {
        let text = match s.state {
            SuppressionState::Expired => format!("suppression #{} ({} on {}) expired on {}: it no longer applies", i + 1, s.rule.check, s.rule.resource, s.rule.expires),
            SuppressionState::Unmatched => format!("suppression #{} ({} on {}) matched no failing finding", i + 1, s.rule.check, s.rule.resource),
            SuppressionState::Applied => continue,
        };
        v.push(json!({"level": "warning", "message": {"text": text}}));
    }
    if let Some(b) = &t.baseline {
        v.extend(b.notes.iter().map(|n| json!({"level": "note", "message": {"text": format!("baseline: {n}")}})));
    }
    v
}

fn scope_text(scan: &Scan) -> String {
    let scopes: std::collections::BTreeSet<(Cloud, &str)> = scan.findings.iter().filter(|f| !f.account.is_empty()).map(|f| (f.cloud, f.account)).collect();
    match scopes.len() {
        0 => "no scope".into(),
        1..=5 => scopes.iter().map(|(c, a)| format!("{c} {a}")).collect::<Vec<_>>().join(", "),
        n => format!("{n} scopes"),
    }
}

/// The document GitHub accepts: at most [`GITHUB_MAX_RESULTS`] results, and small enough once
/// gzip-compressed; what had to be left out (least severe first) is reported, never silently lost.
pub fn document(scan: &Scan) -> (Value, Trimmed) {
    let (mut doc, mut dropped) = document_limited(scan, GITHUB_MAX_RESULTS);
    let mut reason = if dropped > 0 { "GitHub code scanning accepts at most 25,000 results per run" } else { "" };
    let fails = scan.findings.iter().filter(|f| f.status == Status::Fail).count();
    let mut keep = fails - dropped;
    while keep > 0 && gzip_len(&doc) > GITHUB_MAX_GZIP_BYTES {
        keep -= keep.div_ceil(10); // a tenth at a time
        (doc, dropped) = document_limited(scan, keep);
        reason = "GitHub code scanning accepts at most 10 MB of gzip-compressed SARIF";
    }
    (doc, Trimmed { results: dropped, reason })
}

/// The size of the document's compact JSON, gzip-compressed (what an upload sends).
fn gzip_len(doc: &Value) -> usize {
    struct Count(usize);
    impl Write for Count {
        fn write(&mut self, b: &[u8]) -> io::Result<usize> {
            self.0 += b.len();
            Ok(b.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }
    let mut gz = flate2::write::GzEncoder::new(Count(0), flate2::Compression::default());
    if serde_json::to_writer(&mut gz, doc).is_err() {
        return usize::MAX;
    }
    gz.finish().map_or(usize::MAX, |c| c.0)
}

/// Write the SARIF; returns what was left out to respect GitHub's limits.
pub fn write(scan: &Scan, out: impl Write) -> io::Result<Trimmed> {
    let (doc, trimmed) = document(scan);
    let mut w = io::BufWriter::new(out);
    serde_json::to_writer_pretty(&mut w, &doc)?;
    w.write_all(b"\n")?;
    w.flush()?;
    Ok(trimmed)
}
