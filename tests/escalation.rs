//! The privilege-escalation catalogue against its fixtures: every path in
//! `checks/escalation/aws/` has `fixtures/escalation/aws/<id>.json`, an actor whose policies (in
//! the shape `aws iam get-account-authorization-details` prints) give it that path in the shared
//! account of `_world.json`; the path must be found. Each fixture's twins are near misses: the
//! same actor with a Deny, a permissions boundary, an SCP or a condition that blocks the path;
//! a twin must not be reported at all.

use std::collections::BTreeSet;
use std::path::Path;

use portcullis::import::parse_authorization_details;
use portcullis::inventory::aws::{AwsOrganization, ServiceControlPolicy};
use portcullis::inventory::{Collected, Inventory, ScopeKind, ScopeNode};
use portcullis::policy::PolicyDocument;
use portcullis::reach::escalation::{AccountView, Verdict};
use portcullis::reach::paths;
use serde_json::{json, Value};

const ACCOUNT: &str = "111122223333";

fn dir() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/escalation/aws")
}

fn read(name: &str) -> Value {
    let p = dir().join(name);
    serde_json::from_str(&std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// The world with the actor added: `policies` inline, `boundary` as a customer managed policy.
fn account(actor: &Value, policies: &Value, boundary: Option<&Value>) -> Value {
    let mut world = read("_world.json");
    let inline: Vec<Value> = policies.as_array().expect("policies").iter().enumerate().map(|(i, d)| json!({"PolicyName": format!("actor-{i}"), "PolicyDocument": d})).collect();
    let boundary_arn = format!("arn:aws:iam::{ACCOUNT}:policy/ActorBoundary");
    if let Some(b) = boundary {
        world["Policies"].as_array_mut().expect("Policies").push(json!({
            "PolicyName": "ActorBoundary", "PolicyId": "ANPAACTORBOUNDARY001", "Arn": boundary_arn, "Path": "/", "DefaultVersionId": "v1",
            "AttachmentCount": 1, "IsAttachable": true, "PolicyVersionList": [{"Document": b, "VersionId": "v1", "IsDefaultVersion": true}]
        }));
    }
    let pb = boundary.map(|_| json!({"PermissionsBoundaryType": "Policy", "PermissionsBoundaryArn": boundary_arn}));
    if let Some(name) = actor.get("UserName").and_then(Value::as_str) {
        let mut u = json!({"Path": "/", "UserName": name, "UserId": "AIDAMALLORY000000001", "Arn": format!("arn:aws:iam::{ACCOUNT}:user/{name}"),
            "CreateDate": "2025-03-01T12:00:00Z", "GroupList": ["Developers"], "AttachedManagedPolicies": [], "UserPolicyList": inline,
            "Tags": [{"Key": "team", "Value": "developers"}]});
        if let Some(pb) = pb {
            u["PermissionsBoundary"] = pb;
        }
        world["UserDetailList"].as_array_mut().expect("users").push(u);
    } else {
        let name = actor["RoleName"].as_str().expect("RoleName");
        let mut r = json!({"Path": "/", "RoleName": name, "RoleId": "AROACIRUNNER00000001", "Arn": format!("arn:aws:iam::{ACCOUNT}:role/{name}"),
            "CreateDate": "2025-03-01T12:00:00Z", "AssumeRolePolicyDocument": {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "codebuild.amazonaws.com"}, "Action": "sts:AssumeRole"}]},
            "InstanceProfileList": [], "RolePolicyList": inline, "AttachedManagedPolicies": [], "Tags": [], "RoleLastUsed": {}});
        if let Some(pb) = pb {
            r["PermissionsBoundary"] = pb;
        }
        world["RoleDetailList"].as_array_mut().expect("roles").push(r);
    }
    world
}

/// An organization with the account under its root; `scp` attached to the account, and
/// `FullAWSAccess` at the root (and at the account too when `full_at_account`).
fn organization(scp: Option<&Value>, full_at_account: bool) -> Collected<Option<AwsOrganization>> {
    let full = PolicyDocument::parse_str(r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#).expect("FullAWSAccess");
    let node = |id: &str, kind, parent: Option<&str>| ScopeNode { id: id.into(), name: None, kind, parent: parent.map(Into::into), state: None };
    let mut scps = vec![ServiceControlPolicy { id: "p-FullAWSAccess".into(), name: "FullAWSAccess".into(), arn: "arn:aws:organizations::aws:policy/service_control_policy/p-FullAWSAccess".into(), aws_managed: true, document: full, targets: vec!["r-root".into()] }];
    if let Some(s) = scp {
        if full_at_account {
            scps[0].targets.push(ACCOUNT.into());
        }
        let document = PolicyDocument::parse_value(s).expect("the twin's SCP parses");
        scps.push(ServiceControlPolicy { id: "p-twin".into(), name: "twin-guardrail".into(), arn: "arn:aws:organizations::999999999999:policy/o-abc/service_control_policy/p-twin".into(), aws_managed: false, document, targets: vec![ACCOUNT.into()] });
    } else {
        scps[0].targets.push(ACCOUNT.into());
    }
    let org: AwsOrganization = serde_json::from_value(json!({"id": "o-abcdef1234", "management_account_id": "999999999999", "nodes": [], "scps": []})).expect("organization");
    let mut org = org;
    org.nodes = vec![node("r-root", ScopeKind::AwsOrganizationRoot, None), node(ACCOUNT, ScopeKind::AwsAccount, Some("r-root")), node("999999999999", ScopeKind::AwsAccount, Some("r-root"))];
    org.scps = scps;
    Collected::Collected(Some(org))
}

fn verdict_of(fx: &Value, policies: &Value, boundary: Option<&Value>, scp: Option<&Value>, full_at_account: bool) -> (String, Vec<(String, bool)>) {
    let text = account(&fx["actor"], policies, boundary).to_string();
    let inv: Inventory = parse_authorization_details(&text, "fixture").expect("the fixture parses as authorization details");
    let acct = inv.aws.accounts.first().expect("one account");
    let org = organization(scp, full_at_account);
    let view = AccountView::new(&org, acct).expect("the account is readable");
    let arn = match fx["actor"].get("UserName").and_then(Value::as_str) {
        Some(u) => format!("arn:aws:iam::{ACCOUNT}:user/{u}"),
        None => format!("arn:aws:iam::{ACCOUNT}:role/{}", fx["actor"]["RoleName"].as_str().unwrap_or_default()),
    };
    let actor = view.actor(&arn).expect("the actor is in the account");
    let catalogue = paths::aws().expect("catalogue");
    match view.escalations(actor, catalogue) {
        Verdict::Paths(hits) => (
            format!("{hits:#?}"),
            hits.iter().map(|h| (h.path.id.clone(), h.found)).collect(),
        ),
        other => (format!("{other:?}"), Vec::new()),
    }
}

#[test]
fn every_path_has_a_fixture_and_every_fixture_a_path() {
    let ids: BTreeSet<String> = paths::aws().expect("catalogue").iter().map(|p| p.id.clone()).collect();
    let files: BTreeSet<String> = std::fs::read_dir(dir())
        .expect("fixtures")
        .flatten()
        .filter_map(|e| e.file_name().to_str().and_then(|n| n.strip_suffix(".json")).map(String::from))
        .filter(|n| !n.starts_with('_'))
        .collect();
    assert_eq!(ids, files);
    assert!(ids.len() >= 40, "{} paths", ids.len());
}

#[test]
fn each_path_is_found_and_each_near_miss_twin_is_not_reported() {
    let mut failures = Vec::new();
    let mut twins = 0;
    let mut kinds = BTreeSet::new();
    for p in paths::aws().expect("catalogue") {
        let fx = read(&format!("{}.json", p.id));
        let (detail, hits) = verdict_of(&fx, &fx["policies"], None, None, true);
        if !hits.iter().any(|(id, found)| *id == p.id && *found) {
            failures.push(format!("{}: not found; got {detail}", p.id));
        }
        for t in fx["twins"].as_array().expect("twins") {
            twins += 1;
            kinds.insert(t["blocked_by"].as_str().unwrap_or_default().to_string());
            let full = t.get("with_full_access").and_then(Value::as_bool).unwrap_or(true);
            let (detail, hits) = verdict_of(&fx, &t["policies"], t.get("boundary"), t.get("scp"), full);
            if !hits.is_empty() {
                failures.push(format!("{} twin blocked by {} ({}): reported {hits:?}\n{detail}", p.id, t["blocked_by"], t["why"]));
            }
        }
    }
    assert!(failures.is_empty(), "{} failures:\n{}", failures.len(), failures.join("\n"));
    assert!(twins >= 40, "{twins} twins");
    assert_eq!(kinds.into_iter().collect::<Vec<_>>(), ["boundary", "condition", "deny", "scp"]);
}

fn mallory(policies: Value) -> (String, Vec<(String, bool)>) {
    let fx = json!({"actor": {"UserName": "mallory"}});
    verdict_of(&fx, &policies, None, None, true)
}

#[test]
fn policy_variables_scope_a_grant_to_the_caller_itself() {
    // Its own user, by ${aws:username}: it can write its own inline policy…
    let (_, hits) = mallory(json!([{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["iam:PutUserPolicy", "iam:CreateAccessKey"], "Resource": "arn:aws:iam::111122223333:user/${aws:username}"}]}]));
    assert!(hits.contains(&("iam-007".to_string(), true)), "{hits:?}");
    // …but not create a key for the administrator.
    assert!(!hits.iter().any(|(id, _)| id == "iam-002"), "{hits:?}");
    // In a 2008-10-17 document `${…}` is literal text: it names no user.
    let (_, hits) = mallory(json!([{"Version": "2008-10-17", "Statement": [{"Effect": "Allow", "Action": "iam:PutUserPolicy", "Resource": "arn:aws:iam::111122223333:user/${aws:username}"}]}]));
    assert!(hits.is_empty(), "{hits:?}");
}

#[test]
fn a_condition_the_inventory_cannot_decide_makes_the_path_undecided_not_absent() {
    let (detail, hits) = mallory(json!([{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "iam:PutUserPolicy", "Resource": "*", "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "true"}}}]}]));
    assert!(hits.contains(&("iam-007".to_string(), false)), "{hits:?}");
    assert!(detail.contains("Bool aws:MultiFactorAuthPresent"), "{detail}");
    // A source address: the inventory cannot know where the attacker calls from.
    let (_, hits) = mallory(json!([{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "iam:AttachUserPolicy", "Resource": "*", "Condition": {"IpAddress": {"aws:SourceIp": "203.0.113.0/24"}}}]}]));
    assert!(hits.contains(&("iam-008".to_string(), false)), "{hits:?}");
}

#[test]
fn an_administrator_has_no_escalation_and_a_power_user_reaches_only_existing_resources() {
    let (detail, hits) = mallory(json!([{"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "*", "Resource": "*"}}]));
    assert_eq!((detail.as_str(), hits.len()), ("Admin", 0));
    // NotAction that leaves out only IAM: not an administrator, and no IAM path.
    let (detail, hits) = mallory(json!([{"Version": "2012-10-17", "Statement": {"Effect": "Allow", "NotAction": ["iam:*", "sts:*"], "Resource": "*"}}]));
    // It cannot pass a role, but it can change what already runs as the service role (an
    // administrator that Lambda, EC2, … may assume): only those paths.
    let catalogue = paths::aws().expect("catalogue");
    let category = |id: &str| catalogue.iter().find(|p| p.id == id).map(|p| p.category.as_str()).unwrap_or_default();
    assert!(!hits.is_empty() && hits.iter().all(|(id, _)| category(id) == "existing-passrole"), "{detail}");
    let (detail, hits) = mallory(json!([
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "iam:PassRole", "Resource": "arn:aws:iam::111122223333:role/AppRole"}, {"Effect": "Allow", "Action": "lambda:*", "Resource": "*"}]}
    ]));
    assert!(hits.iter().all(|(id, _)| id.starts_with("lambda-00") && ["lambda-003", "lambda-004", "lambda-005"].contains(&id.as_str())), "AppRole is not an administrator and does not trust Lambda: {detail}");
}
