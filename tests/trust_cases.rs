//! Every trust-policy spelling and condition in `fixtures/policy/trust_cases.json`, judged by the
//! real trust checks. One role per case; `null` means the check must not report on that role.

use portcullis::engine::{scan, ScanOptions};
use portcullis::import::parse_snapshot;
use serde_json::{json, Value};

const CHECKS: [&str; 3] = [
    "aws_iam_role_trust_not_public",
    "aws_iam_role_cross_account_trust_restricted",
    "aws_iam_role_oidc_trust_subject_restricted",
];

#[test]
fn trust_cases() {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/policy/trust_cases.json")).unwrap();
    let cases: Vec<Value> = serde_json::from_str(&text).unwrap();
    assert!(cases.len() >= 60, "the case table shrank");
    let roles: Vec<Value> = cases
        .iter()
        .map(|c| {
            let name = c["name"].as_str().unwrap();
            json!({"name": name, "id": format!("AROA{name}"), "arn": format!("arn:aws:iam::111122223333:role/{name}"), "trust_policy": c["policy"]})
        })
        .collect();
    let inv = json!({"schema": "portcullis.inventory/v1", "aws": {"accounts": [
        {"account_id": "111122223333", "authorization_details": {"collected": {"roles": roles}}}]}});
    let inv = parse_snapshot(&inv.to_string(), "trust_cases.json").unwrap();
    let result = scan(&inv, &ScanOptions { only: Some(CHECKS.map(String::from).to_vec()), ..Default::default() }).unwrap();

    let mut wrong = Vec::new();
    for c in &cases {
        let name = c["name"].as_str().unwrap();
        for check in CHECKS {
            let want = c["expect"][check].as_str();
            let got: Vec<&str> = result
                .findings
                .iter()
                .filter(|f| f.check_id == check && f.resource.name == name)
                .map(|f| f.status.as_str())
                .collect();
            let got = match got.as_slice() {
                [] => None,
                [one] => Some(*one),
                _ => Some("several findings"),
            };
            if got != want {
                let msg = result.findings.iter().find(|f| f.check_id == check && f.resource.name == name).map(|f| f.message.as_str()).unwrap_or("");
                wrong.push(format!("{name} / {check}: expected {want:?}, got {got:?} {msg}"));
            }
        }
    }
    assert!(wrong.is_empty(), "{} case(s) wrong:\n{}", wrong.len(), wrong.join("\n"));
}
