//! `cargo bench --bench scan`: generate large exports and time the release binary scanning them.
//!
//! 1. One account exported the way the AWS CLI does it: 5,000 users (two keys each, groups,
//!    inline and managed policies) and 1,000 roles (a mix of trust policies), as
//!    authorization-details JSON plus a credential-report CSV.
//! 2. An organization-sized snapshot: 1,000,000 principals (100 accounts × 8,000 users + 2,000
//!    roles) read back with `--inventory`, with groups and managed policies that have documents.
//! 3. The same snapshot, the privilege-escalation check alone: every principal against every
//!    catalogued path (a third of the users can pass an administrator role to Lambda).
//!
//! Prints wall time and peak memory (max RSS of the child process) for each. A benchmark, not a
//! test: it asserts nothing. `BENCH_PRINCIPALS` scales case 2 (default 1,000,000).

use std::fmt::Write as _;
use std::path::Path;
use std::process::Command;
use std::time::Instant;

use portcullis::import::write_snapshot;
use portcullis::inventory::aws::{
    AccessKeySlot, AttachedPolicy, AuthorizationDetails, AwsAccount, CredentialReport, CredentialReportRow, IamGroup, IamRole, IamUser, InlinePolicy,
    ManagedPolicy, ReportTime,
};
use portcullis::inventory::{Collected, Inventory, Timestamp};
use portcullis::policy::PolicyDocument;

const NOW: &str = "2026-11-20T00:00:00Z";

fn trust_templates(account: &str) -> Vec<PolicyDocument> {
    let docs = [
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#.to_string(),
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::444455556666:root"},"Action":"sts:AssumeRole","Condition":{"StringEquals":{"sts:ExternalId":"x-1"}}}]}"#.to_string(),
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::999988887777:root"},"Action":"sts:AssumeRole"}]}"#.to_string(),
        format!(r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"Federated":"arn:aws:iam::{account}:oidc-provider/token.actions.githubusercontent.com"}},"Action":"sts:AssumeRoleWithWebIdentity","Condition":{{"StringEquals":{{"token.actions.githubusercontent.com:aud":"sts.amazonaws.com"}},"StringLike":{{"token.actions.githubusercontent.com:sub":"repo:acme/app:*"}}}}}}]}}"#),
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"sts:AssumeRole","Condition":{"StringEquals":{"aws:PrincipalOrgID":"o-a1b2c3d4e5"}}}]}"#.to_string(),
    ];
    docs.iter().map(|d| PolicyDocument::parse_str(d).expect("template")).collect()
}

fn ts(s: &str) -> Timestamp {
    Timestamp::parse(s).unwrap()
}

fn key(i: usize, slot: usize) -> AccessKeySlot {
    let rotated = ["2026-10-01T00:00:00Z", "2025-01-01T00:00:00Z", "2026-06-01T00:00:00Z"][(i + slot) % 3];
    AccessKeySlot {
        active: !(i + slot).is_multiple_of(4),
        last_rotated: ReportTime::At(ts(rotated)),
        last_used_date: if i.is_multiple_of(5) { ReportTime::NotApplicable } else { ReportTime::At(ts("2026-11-01T00:00:00Z")) },
        last_used_region: Some("eu-west-1".into()),
        last_used_service: Some("s3".into()),
    }
}

fn doc(json: &str) -> PolicyDocument {
    PolicyDocument::parse_str(json).expect("bench policy")
}

fn managed(name: &str, arn: &str, json: &str) -> ManagedPolicy {
    ManagedPolicy {
        name: name.into(), id: None, arn: arn.into(), path: "/".into(), default_version_id: Some("v1".into()), attachment_count: Some(1),
        is_attachable: true, document: Some(doc(json)), document_error: None,
    }
}

fn attached(name: &str, arn: &str) -> Vec<AttachedPolicy> {
    vec![AttachedPolicy { name: name.into(), arn: arn.into() }]
}

/// Groups and managed policies with documents, so that the escalation check has policies to
/// evaluate: developers may pass the administrator roles that trust Lambda (every tenth role) to
/// new functions; every hundredth user may write its own inline policy.
fn policies(id: &str, details: &mut AuthorizationDetails) {
    const READ: &str = "arn:aws:iam::aws:policy/ReadOnlyAccess";
    const ADMIN: &str = "arn:aws:iam::aws:policy/AdministratorAccess";
    details.policies.push(managed("ReadOnlyAccess", READ, r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:Get*","s3:List*","ec2:Describe*","iam:Get*","iam:List*","lambda:Get*","lambda:List*"],"Resource":"*"}]}"#));
    details.policies.push(managed("AdministratorAccess", ADMIN, r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#));
    let group = |name: &str, attached_policies: Vec<AttachedPolicy>, inline: Option<&str>| IamGroup {
        name: name.into(), id: format!("AGPA{name:0>17}"), arn: format!("arn:aws:iam::{id}:group/{name}"), path: "/".into(), created: None, attached_policies,
        inline_policies: inline.map(|d| InlinePolicy { name: format!("{name}-inline"), document: Some(doc(d)), error: None }).into_iter().collect(),
    };
    details.groups.push(group("admins", attached("AdministratorAccess", ADMIN), None));
    details.groups.push(group("readers", vec![], None));
    let dev = format!(r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":"lambda:*","Resource":"*"}},{{"Effect":"Allow","Action":"iam:PassRole","Resource":"arn:aws:iam::{id}:role/role-0000*","Condition":{{"StringEquals":{{"iam:PassedToService":"lambda.amazonaws.com"}}}}}}]}}"#);
    details.groups.push(group("developers", vec![], Some(&dev)));
}

fn account(id: &str, users: usize, roles: usize) -> AwsAccount {
    let templates = trust_templates(id);
    let mut details = AuthorizationDetails::default();
    policies(id, &mut details);
    let self_edit = doc(r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iam:PutUserPolicy","Resource":"arn:aws:iam::*:user/${aws:username}"}]}"#);
    let mut rows = Vec::with_capacity(users);
    for i in 0..users {
        let arn = format!("arn:aws:iam::{id}:user/user-{i:06}");
        details.users.push(IamUser {
            name: format!("user-{i:06}"),
            id: format!("AIDA{i:017}"),
            arn: arn.clone(),
            path: "/".into(),
            created: Some(ts("2024-01-01T00:00:00Z")),
            groups: vec![["developers", "admins", "readers"][i % 3].into()],
            attached_policies: vec![AttachedPolicy { name: "ReadOnlyAccess".into(), arn: "arn:aws:iam::aws:policy/ReadOnlyAccess".into() }],
            inline_policies: if i % 100 == 7 { vec![InlinePolicy { name: "self-edit".into(), document: Some(self_edit.clone()), error: None }] } else { vec![] },
            permissions_boundary: None,
            tags: Default::default(),
        });
        rows.push(CredentialReportRow {
            user: format!("user-{i:06}"),
            arn,
            user_creation_time: ReportTime::At(ts("2024-01-01T00:00:00Z")),
            password_enabled: Some(i % 2 == 0),
            password_last_used: ReportTime::NotApplicable,
            password_last_changed: ReportTime::NotApplicable,
            password_next_rotation: ReportTime::NotApplicable,
            mfa_active: i % 3 != 0,
            access_keys: [key(i, 0), key(i, 1)],
            certificates: Default::default(),
        });
    }
    for i in 0..roles {
        details.roles.push(IamRole {
            name: format!("role-{i:06}"),
            id: format!("AROA{i:017}"),
            arn: format!("arn:aws:iam::{id}:role/role-{i:06}"),
            path: "/".into(),
            created: Some(ts("2024-01-01T00:00:00Z")),
            trust_policy: Some(templates[i % templates.len()].clone()),
            trust_policy_error: None,
            attached_policies: if i % 10 == 0 { attached("AdministratorAccess", "arn:aws:iam::aws:policy/AdministratorAccess") } else { attached("ReadOnlyAccess", "arn:aws:iam::aws:policy/ReadOnlyAccess") },
            inline_policies: vec![],
            permissions_boundary: None,
            last_used: None,
            last_used_region: None,
            instance_profiles: vec![],
            tags: Default::default(),
        });
    }
    let mut acct = AwsAccount::new(id);
    acct.authorization_details = Collected::Collected(details);
    acct.credential_report = Collected::Collected(CredentialReport { generated_at: Some(ts(NOW)), rows, read_at: None, missing_columns: Vec::new() });
    acct
}

/// The CLI-shaped exports for one account: authorization-details JSON and credential-report CSV.
fn exports(acct: &AwsAccount, dir: &Path) -> (String, String) {
    let d = acct.authorization_details.get().unwrap();
    let users: Vec<_> = d.users.iter().map(|u| serde_json::json!({
        "Path": "/", "UserName": u.name, "UserId": u.id, "Arn": u.arn, "CreateDate": "2024-01-01T00:00:00Z",
        "GroupList": u.groups, "AttachedManagedPolicies": [{"PolicyName": "ReadOnlyAccess", "PolicyArn": "arn:aws:iam::aws:policy/ReadOnlyAccess"}],
        "UserPolicyList": [{"PolicyName": "inline", "PolicyDocument": {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]}}],
        "Tags": []})).collect();
    let roles: Vec<_> = d.roles.iter().map(|r| serde_json::json!({
        "Path": "/", "RoleName": r.name, "RoleId": r.id, "Arn": r.arn, "CreateDate": "2024-01-01T00:00:00Z",
        "AssumeRolePolicyDocument": r.trust_policy, "InstanceProfileList": [], "RolePolicyList": [],
        "AttachedManagedPolicies": [{"PolicyName": "ReadOnlyAccess", "PolicyArn": "arn:aws:iam::aws:policy/ReadOnlyAccess"}], "Tags": [], "RoleLastUsed": {}})).collect();
    let doc = serde_json::json!({"UserDetailList": users, "GroupDetailList": [], "RoleDetailList": roles, "Policies": [], "IsTruncated": false});
    let details = dir.join("authorization-details.json");
    std::fs::write(&details, serde_json::to_vec(&doc).unwrap()).unwrap();

    let mut csv = String::from("user,arn,user_creation_time,password_enabled,password_last_used,password_last_changed,password_next_rotation,mfa_active,access_key_1_active,access_key_1_last_rotated,access_key_1_last_used_date,access_key_1_last_used_region,access_key_1_last_used_service,access_key_2_active,access_key_2_last_rotated,access_key_2_last_used_date,access_key_2_last_used_region,access_key_2_last_used_service,cert_1_active,cert_1_last_rotated,cert_2_active,cert_2_last_rotated\n");
    for r in &acct.credential_report.get().unwrap().rows {
        let k = |s: &AccessKeySlot| format!("{},{},{},eu-west-1,s3", s.active, s.last_rotated.as_report_str(), s.last_used_date.as_report_str());
        let _ = writeln!(csv, "{},{},2024-01-01T00:00:00+00:00,{},N/A,N/A,N/A,{},{},{},false,N/A,false,N/A",
            r.user, r.arn, r.password_enabled.unwrap_or(false), r.mfa_active, k(&r.access_keys[0]), k(&r.access_keys[1]));
    }
    let report = dir.join("credential-report.csv");
    std::fs::write(&report, csv).unwrap();
    (details.display().to_string(), report.display().to_string())
}

/// Peak RSS (KiB) of all waited-for children so far.
fn children_max_rss_kib() -> i64 {
    let mut u: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: getrusage writes into the struct we own.
    unsafe { libc::getrusage(libc::RUSAGE_CHILDREN, &mut u) };
    u.ru_maxrss
}

fn time_scan(label: &str, args: &[&str]) {
    let start = Instant::now();
    let o = Command::new(env!("CARGO_BIN_EXE_portcullis")).args(args).output().expect("run portcullis");
    let wall = start.elapsed();
    assert!(matches!(o.status.code(), Some(0 | 1 | 3)), "{}", String::from_utf8_lossy(&o.stderr));
    let summary = String::from_utf8_lossy(&o.stdout).lines().next_back().unwrap_or("").to_string();
    println!("{label}: {:.2} s wall, peak RSS {} MiB — {summary}", wall.as_secs_f64(), children_max_rss_kib() / 1024);
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --all-targets` runs this too, without it, and a
    // benchmark has no business in the test run.
    if !std::env::args().any(|a| a == "--bench") {
        println!("scan benchmark: skipped (run it with `cargo bench --bench scan`)");
        return;
    }
    // Kept under target/ so the data can be inspected or profiled after a run.
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/bench");
    std::fs::create_dir_all(&dir).unwrap();
    println!("portcullis scan benchmark (release binary; 2-core machine figures in the issue notes)");

    let acct = account("111122223333", 5_000, 1_000);
    let (details, report) = exports(&acct, &dir);
    let sizes = |p: &str| std::fs::metadata(p).map(|m| m.len() / 1024).unwrap_or(0);
    println!("case 1 export: authorization details {} KiB, credential report {} KiB", sizes(&details), sizes(&report));
    for _ in 0..3 {
        time_scan("case 1 (5,000 users + 1,000 roles, exports)", &["scan", "--now", NOW, "--aws-authorization-details", &details, "--aws-credential-report", &report]);
    }

    let principals: usize = std::env::var("BENCH_PRINCIPALS").ok().and_then(|v| v.parse().ok()).unwrap_or(1_000_000);
    let accounts = (principals / 10_000).max(1);
    let start = Instant::now();
    let mut inv = Inventory::default();
    for a in 0..accounts {
        inv.aws.accounts.push(account(&format!("{:012}", 200_000_000_000u64 + a as u64), 8_000, 2_000));
    }
    let snap = dir.join("org.json");
    write_snapshot(&inv, std::fs::File::create(&snap).unwrap()).unwrap();
    drop(inv);
    println!("case 2 snapshot: {accounts} accounts, {} principals, {} MiB, generated in {:.1} s",
        accounts * 10_000, std::fs::metadata(&snap).unwrap().len() / (1024 * 1024), start.elapsed().as_secs_f64());
    let snap = snap.display().to_string();
    time_scan("case 2 (org inventory, table only)", &["scan", "--now", NOW, "--inventory", &snap]);
    let json = dir.join("findings.json").display().to_string();
    time_scan("case 2 (org inventory, + --json)", &["scan", "--now", NOW, "--inventory", &snap, "-q", "--json", &json]);
    time_scan("case 3 (org inventory, escalation check only)", &["scan", "--now", NOW, "--inventory", &snap, "--checks", "aws_iam_principal_privilege_escalation"]);
}
