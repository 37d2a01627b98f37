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

// ---- Properties of the trust analysis (proptest) ---------------------------------------------
//
// In IAM, the conditions of a statement are ANDed and Allow statements are ORed. So adding a
// condition to a statement can only narrow who may assume the role, and adding an Allow statement
// can only widen it. The analysis must agree on every policy generated from the spellings below:
// a narrowing condition never turns a pass into a fail, and an added Allow never turns a fail into
// a pass.

mod properties {
    use portcullis::policy::condition::Party;
    use portcullis::policy::trust::{analyze, Outsiders};
    use portcullis::policy::PolicyDocument;
    use proptest::prelude::*;
    use serde_json::{json, Value};

    const OWN: &str = "111122223333";

    fn principals() -> Vec<Value> {
        vec![
            json!("*"),
            json!({"AWS": "*"}),
            json!({"AWS": format!("arn:aws:iam::{OWN}:root")}),
            json!({"AWS": "arn:aws:iam::444455556666:root"}),
            json!({"AWS": "444455556666"}),
            json!({"AWS": ["arn:aws:iam::444455556666:role/ci", format!("arn:aws:iam::{OWN}:role/admin")]}),
            json!({"AWS": "AROAEXAMPLEUNIQUEID01"}),
            json!({"Service": "ec2.amazonaws.com"}),
            json!({"Federated": "arn:aws:iam::111122223333:oidc-provider/token.actions.githubusercontent.com"}),
        ]
    }

    /// (operator, key, value): conditions as written in real trust policies, narrowing or not.
    fn conditions() -> Vec<(&'static str, &'static str, Value)> {
        vec![
            ("StringEquals", "aws:PrincipalOrgID", json!("o-a1b2c3d4e5")),
            ("StringEquals", "aws:PrincipalAccount", json!(OWN)),
            ("StringEquals", "aws:PrincipalAccount", json!("444455556666")),
            ("StringEquals", "sts:ExternalId", json!("shared-123")),
            ("ArnLike", "aws:PrincipalArn", json!(format!("arn:aws:iam::{OWN}:role/*"))),
            ("ArnEquals", "aws:PrincipalArn", json!("arn:aws:iam::444455556666:role/ci")),
            ("StringLike", "aws:PrincipalOrgPaths", json!("o-a1b2c3d4e5/r-ab12/*")),
            ("StringEqualsIfExists", "aws:PrincipalOrgID", json!("o-a1b2c3d4e5")),
            ("ForAnyValue:StringEquals", "aws:PrincipalOrgID", json!(["o-a1b2c3d4e5"])),
            ("StringNotEquals", "aws:PrincipalAccount", json!("444455556666")),
            ("Bool", "aws:SecureTransport", json!("true")),
            ("Bool", "aws:MultiFactorAuthPresent", json!("true")),
            ("StringEquals", "token.actions.githubusercontent.com:sub", json!("repo:acme/app:ref:refs/heads/main")),
            ("StringLike", "aws:PrincipalArn", json!("*")),
            ("Null", "aws:PrincipalOrgID", json!("false")),
        ]
    }

    /// One Allow statement: a principal and some conditions (by index into the lists above).
    fn statement(p: usize, conds: &[usize]) -> Value {
        let all = conditions();
        let mut condition = serde_json::Map::new();
        for &c in conds {
            let (op, key, v) = &all[c];
            let block = condition.entry(op.to_string()).or_insert_with(|| json!({}));
            block[*key] = v.clone();
        }
        let mut s = json!({"Effect": "Allow", "Principal": principals()[p].clone(), "Action": ["sts:AssumeRole", "sts:TagSession"]});
        if !condition.is_empty() {
            s["Condition"] = Value::Object(condition);
        }
        s
    }

    /// Can a caller outside the account assume the role?
    fn open(statements: &[Value]) -> bool {
        let doc = PolicyDocument::parse_str(&json!({"Version": "2012-10-17", "Statement": statements}).to_string()).expect("generated policies parse");
        analyze(&doc).iter().any(|g| g.outsiders(|p| *p == Party::Account(OWN.to_string())) != Outsiders::None)
    }

    fn stmt() -> impl Strategy<Value = (usize, Vec<usize>)> {
        (0..principals().len(), proptest::collection::vec(0..conditions().len(), 0..3))
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

        #[test]
        fn a_narrowing_condition_never_turns_a_pass_into_a_fail(stmts in proptest::collection::vec(stmt(), 1..4), which in 0usize..4, extra in 0..conditions().len()) {
            let i = which % stmts.len();
            let mut conds = stmts[i].1.clone();
            // Replace any condition on the same operator and key: a JSON object holds one.
            let all = conditions();
            conds.retain(|c| (all[*c].0, all[*c].1) != (all[extra].0, all[extra].1));
            let kept_before: Vec<Value> = stmts.iter().enumerate().map(|(j, (p, c))| if j == i { statement(*p, &conds) } else { statement(*p, c) }).collect();
            conds.push(extra);
            let mut after = kept_before.clone();
            after[i] = statement(stmts[i].0, &conds);
            prop_assert!(!open(&after) || open(&kept_before), "adding {:?} opened the role:\n{}", all[extra], serde_json::to_string_pretty(&after).unwrap());
        }

        #[test]
        fn an_added_allow_never_turns_a_fail_into_a_pass(stmts in proptest::collection::vec(stmt(), 1..4), added in stmt()) {
            let before: Vec<Value> = stmts.iter().map(|(p, c)| statement(*p, c)).collect();
            let mut after = before.clone();
            after.push(statement(added.0, &added.1));
            prop_assert!(!open(&before) || open(&after), "adding a statement closed the role:\n{}", serde_json::to_string_pretty(&after).unwrap());
        }
    }
}
