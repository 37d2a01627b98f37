//! `verify --sarif FILE`: the checklist items that did not pass, as SARIF 2.1.0 results GitHub code
//! scanning accepts. One rule per kind of item; a failing item is an error, a not-evaluated one a
//! warning (it fails verification too). Each result points at a stable pseudo-path
//! (`incident/<id>/<kind>/<principal or resource>`), and its fingerprint is the incident, the kind
//! and the principal, so a rerun after fixing closes the alert.

use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use super::{Item, Part, Verification};
use crate::finding::Status;

fn security_severity(p: Part) -> &'static str {
    match p {
        Part::Containment | Part::Persistence => "9.5",
        Part::Recovery => "7.5",
        Part::Fixes => "7.0",
    }
}

/// What to do about an item of this part (the rule's help).
fn help(p: Part) -> &'static str {
    match p {
        Part::Containment => "The compromised principal can still act. Lock it on the layer the item names (disable the user or service account, deactivate or delete the key, remove the console password or the app's secrets, attach the deny-all policy, revoke the sessions after the containment time), then run portcullis verify again.",
        Part::Persistence => "Something the attacker could have left behind is still there: a credential or principal created inside the incident window, or a trust to an outside account or tenant. Review the evidence, remove what the responders did not create, and verify again.",
        Part::Recovery => "Recovery is incomplete: a credential issued before containment was not rotated, a console user has no MFA, or access was given back without the sign-off the incident file lists. Rotate, enrol MFA, or correct the sign-off list, then verify again.",
        Part::Fixes => "A structural fix the incident file expects does not hold everywhere in scope. See the check's findings (portcullis scan --only CHECK) and its suggested fix.",
    }
}

fn part_name(p: Part) -> &'static str {
    match p {
        Part::Containment => "containment",
        Part::Persistence => "persistence",
        Part::Recovery => "recovery",
        Part::Fixes => "fixes",
    }
}

use crate::report::sarif::uri_segment as segment;

fn rule_id(i: &Item) -> String {
    format!("verify/{}", i.kind)
}

fn subject(i: &Item) -> &str {
    i.principal.as_deref().or(i.resource.as_deref()).unwrap_or("scope")
}

pub fn document(v: &Verification) -> Value {
    let open: Vec<&Item> = v.items.iter().filter(|i| i.status != Status::Pass).collect();
    let mut kinds: Vec<(String, Part)> = Vec::new();
    for i in &v.items {
        if !kinds.iter().any(|(k, _)| *k == rule_id(i)) {
            kinds.push((rule_id(i), i.part));
        }
    }
    let rules: Vec<Value> = kinds
        .iter()
        .map(|(id, part)| {
            json!({
                "id": id,
                "name": id.trim_start_matches("verify/").split('_').map(|w| { let mut c = w.chars(); c.next().map(|f| f.to_ascii_uppercase().to_string() + c.as_str()).unwrap_or_default() }).collect::<String>(),
                "shortDescription": {"text": format!("Post-incident verification, {}", part_name(*part))},
                "fullDescription": {"text": part.title()},
                "help": {"text": help(*part), "markdown": format!("**{}**\n\n{}", part.title(), help(*part))},
                "defaultConfiguration": {"level": "error"},
                "properties": {"tags": ["security", "incident-response", part_name(*part)], "security-severity": security_severity(*part)},
            })
        })
        .collect();
    let incident = &v.incident.incident.id;
    let results: Vec<Value> = open
        .iter()
        .map(|i| {
            let id = rule_id(i);
            let fp = Sha256::digest(format!("{incident}\n{}\n{}\n{}", i.kind, i.principal.as_deref().unwrap_or(""), i.resource.as_deref().unwrap_or("")).as_bytes());
            let fp: String = fp.iter().map(|b| format!("{b:02x}")).collect();
            json!({
                "ruleId": id,
                "ruleIndex": kinds.iter().position(|(k, _)| *k == id),
                "level": if i.status == Status::Fail { "error" } else { "warning" },
                "message": {"text": i.message},
                "locations": [{
                    "physicalLocation": {"artifactLocation": {"uri": format!("incident/{}/{}/{}", segment(incident), segment(i.kind), segment(subject(i)))}, "region": {"startLine": 1}},
                    "logicalLocations": [{"fullyQualifiedName": subject(i), "kind": "resource"}],
                }],
                "partialFingerprints": {"portcullisVerifyFingerprint/v1": fp},
                "properties": {"status": i.status.as_str(), "part": part_name(i.part), "principal": i.principal, "resource": i.resource, "evidence": i.evidence},
            })
        })
        .collect();
    let notifications: Vec<Value> = v.notes.iter().map(|n| json!({"level": "note", "message": {"text": n}})).collect();
    json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {"name": "Portcullis", "semanticVersion": env!("CARGO_PKG_VERSION"), "rules": rules}},
            "automationDetails": {"id": format!("portcullis-verify/{}/", segment(incident)), "description": {"text": format!("Portcullis verification of incident {incident}")}},
            "invocations": [{"executionSuccessful": true, "toolExecutionNotifications": notifications}],
            "results": results,
            "properties": {
                "incident": incident,
                "window": {"start": v.incident.incident.start(), "contained": v.incident.incident.contained()},
                "result": if v.exit_code() == 0 { "verified" } else { "not_verified" },
                "passed": v.count(Status::Pass),
                "failed": v.count(Status::Fail),
                "not_evaluated": v.count(Status::NotEvaluated),
            },
        }],
    })
}
