//! Every trust-policy spelling and condition in `fixtures/policy/trust_cases.json`, judged by the
//! real trust checks, twice: with no organization data (every other account is outside), then with
//! the organization read (`o-a1b2c3d4e5`: 111122223333 manages, 222233334444 is a member;
//! 444455556666 is outside). One role per case; `null` means the check must not report on that
//! role; `expect_with_org` overrides `expect` for the second run.

use portcullis::engine::{scan, ScanOptions};
use portcullis::import::parse_snapshot;
use serde_json::{json, Value};

const CHECKS: [&str; 3] = [
    "aws_iam_role_trust_not_public",
    "aws_iam_role_cross_account_trust_restricted",
    "aws_iam_role_oidc_trust_subject_restricted",
];

fn organization() -> Value {
    json!({"collected": {"id": "o-a1b2c3d4e5", "management_account_id": "111122223333", "nodes": [
        {"id": "r-ab12", "kind": "aws_organization_root"},
        {"id": "ou-ab12-11111111", "kind": "aws_organizational_unit", "parent": "r-ab12"},
        {"id": "111122223333", "kind": "aws_account", "parent": "r-ab12", "state": "ACTIVE"},
        {"id": "222233334444", "kind": "aws_account", "parent": "ou-ab12-11111111", "state": "ACTIVE"}], "scps": []}})
}

fn run(cases: &[Value], with_org: bool) -> Vec<String> {
    let roles: Vec<Value> = cases
        .iter()
        .map(|c| {
            let name = c["name"].as_str().unwrap();
            json!({"name": name, "id": format!("AROA{name}"), "arn": format!("arn:aws:iam::111122223333:role/{name}"), "trust_policy": c["policy"]})
        })
        .collect();
    let mut aws = json!({"accounts": [{"account_id": "111122223333", "authorization_details": {"collected": {"roles": roles}}}]});
    if with_org {
        aws["organization"] = organization();
    }
    let inv = json!({"schema": "portcullis.inventory/v1", "aws": aws});
    let inv = parse_snapshot(&inv.to_string(), "trust_cases.json").unwrap();
    let result = scan(&inv, &ScanOptions { only: Some(CHECKS.map(String::from).to_vec()), ..Default::default() }).unwrap();
    let mut wrong = Vec::new();
    for c in cases {
        let name = c["name"].as_str().unwrap();
        let expect = if with_org && c.get("expect_with_org").is_some() { &c["expect_with_org"] } else { &c["expect"] };
        for check in CHECKS {
            let want = expect[check].as_str();
            let got: Vec<&str> = result.findings.iter().filter(|f| f.check_id == check && f.resource.name == name).map(|f| f.status.as_str()).collect();
            let got = match got.as_slice() {
                [] => None,
                [one] => Some(*one),
                _ => Some("several findings"),
            };
            if got != want {
                let msg = result.findings.iter().find(|f| f.check_id == check && f.resource.name == name).map(|f| f.message.as_str()).unwrap_or("");
                let org = if with_org { "with org" } else { "no org" };
                wrong.push(format!("{name} / {check} ({org}): expected {want:?}, got {got:?} {msg}"));
            }
        }
    }
    wrong
}

#[test]
fn trust_cases() {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/policy/trust_cases.json")).unwrap();
    let cases: Vec<Value> = serde_json::from_str(&text).unwrap();
    assert!(cases.len() >= 120, "the case table shrank");
    let mut names: Vec<&str> = cases.iter().map(|c| c["name"].as_str().unwrap()).collect();
    names.sort();
    names.dedup();
    assert_eq!(names.len(), cases.len(), "case names are unique");
    let mut wrong = run(&cases, false);
    wrong.extend(run(&cases, true));
    assert!(wrong.is_empty(), "{} case(s) wrong:\n{}", wrong.len(), wrong.join("\n"));
}
