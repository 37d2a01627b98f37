//! Least privilege, through real IAM enforcement: moto checks every request against the caller's
//! policies (`/moto-api/reset-auth`), and the scan runs as a user holding only AWS's
//! `SecurityAudit` managed policy. With it, every dataset is read. Then each permission the scan
//! uses is taken away in turn (an explicit Deny): the scan still runs, the coverage names the
//! denied action on exactly the datasets it feeds, exactly the checks reading those datasets change
//! (to `not_evaluated` naming the action, or to a failure the other data still proves, never to a
//! pass), and `--fail-on` exits 3 unless `--allow-incomplete`.
//!
//! Access Analyzer and `GetInstanceMetadataDefaults`, which moto lacks, are served by the front in
//! their documented shapes, and refused there when the test takes them away.

mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};

use serde_json::{json, Value};
use support::{http, portcullis_command, Front, Moto, Reply, Request};

const NOW: &str = "2026-11-30T12:00:00Z";

/// Each permission the scan uses, and the datasets that need it (docs/permissions.md).
const PERMISSIONS: &[(&str, &[&str])] = &[
    ("iam:GetAccountAuthorizationDetails", &["aws_authorization_details"]),
    ("iam:GenerateCredentialReport", &["aws_credential_report"]),
    ("iam:GetCredentialReport", &["aws_credential_report"]),
    ("iam:GetAccountSummary", &["aws_account_summary"]),
    ("iam:GetAccountPasswordPolicy", &["aws_password_policy"]),
    ("iam:ListVirtualMFADevices", &["aws_mfa_devices"]),
    ("iam:ListOpenIDConnectProviders", &["aws_identity_providers"]),
    ("iam:ListSAMLProviders", &["aws_identity_providers"]),
    ("organizations:DescribeOrganization", &["aws_organization"]),
    ("organizations:ListPolicies", &["aws_organization"]),
    ("cloudtrail:DescribeTrails", &["aws_cloud_trail"]),
    ("cloudtrail:GetTrailStatus", &["aws_cloud_trail"]),
    ("cloudtrail:GetEventSelectors", &["aws_cloud_trail"]),
    ("ec2:DescribeInstances", &["aws_ec2_metadata"]),
    ("ec2:GetInstanceMetadataDefaults", &["aws_ec2_metadata_defaults"]),
    ("access-analyzer:ListAnalyzers", &["aws_access_analyzer"]),
];

/// Checks that read two datasets, either of which answers them alone (the finding says which):
/// (check, the dataset that may be missing, what the message then cites).
const EITHER: &[(&str, &str, &str)] = &[
    ("aws_iam_root_access_key_absent", "aws_credential_report", "per the account summary"),
    ("aws_iam_root_mfa_enabled", "aws_credential_report", "per the account summary"),
];

/// Checks for which a dataset only narrows what counts as outside: without the organization every
/// other account is outside, so the check judges more strictly. A pass must already have been one.
const STRICTER_WITHOUT: &[(&str, &str)] = &[("aws_iam_role_cross_account_trust_restricted", "aws_organization")];

/// Served here (moto lacks them), and refused when the test has taken them away.
fn front(moto: &Moto, denied: Arc<Mutex<Vec<String>>>) -> Front {
    Front::start(
        moto.port,
        Arc::new(move |req: &Request| {
            let refused = |a: &str| denied.lock().unwrap().iter().any(|d| d == a);
            match req.scope().0.as_str() {
                "access-analyzer" if refused("access-analyzer:ListAnalyzers") => Reply::Serve(
                    403,
                    vec![("Content-Type".into(), "application/json".into()), ("x-amzn-ErrorType".into(), "AccessDeniedException".into())],
                    json!({"message": "User: arn:aws:iam::123456789012:user/auditor is not authorized to perform: access-analyzer:ListAnalyzers"}).to_string().into_bytes(),
                ),
                "access-analyzer" => Reply::Serve(200, vec![("Content-Type".into(), "application/json".into())], json!({"analyzers": []}).to_string().into_bytes()),
                "ec2" if req.body_str().contains("Action=GetInstanceMetadataDefaults") => {
                    if refused("ec2:GetInstanceMetadataDefaults") {
                        return Reply::Serve(403, vec![("Content-Type".into(), "text/xml".into())], b"<Response><Errors><Error><Code>UnauthorizedOperation</Code><Message>You are not authorized to perform this operation. User: arn:aws:iam::123456789012:user/auditor is not authorized to perform: ec2:GetInstanceMetadataDefaults</Message></Error></Errors><RequestID>r-9</RequestID></Response>".to_vec());
                    }
                    Reply::Serve(
                        200,
                        vec![("Content-Type".into(), "text/xml".into())],
                        b"<GetInstanceMetadataDefaultsResponse xmlns=\"http://ec2.amazonaws.com/doc/2016-11-15/\"><requestId>r-1</requestId><accountLevel/></GetInstanceMetadataDefaultsResponse>".to_vec(),
                    )
                }
                _ => Reply::Forward,
            }
        }),
    )
}

/// moto enforces IAM from now on (`0`), or no longer (`inf`).
fn enforce(moto: &Moto, on: bool) {
    let (status, body) = http(moto.port, "POST", "/moto-api/reset-auth", &[], if on { b"0" } else { b"inf" }).unwrap();
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
}

struct Auditor {
    key: String,
    secret: String,
}

fn scan(moto: &Moto, front: &Front, who: &Auditor, extra: &[&str]) -> (std::process::Output, Value) {
    let mut args = vec!["scan", "--aws", "--aws-regions", "us-east-1", "--json", "-", "--quiet", "--now", NOW];
    args.extend_from_slice(extra);
    let (mut cmd, _home) = portcullis_command(&moto.endpoint(), &[("EC2", front), ("ACCESSANALYZER", front)], &args);
    cmd.env("AWS_ACCESS_KEY_ID", &who.key).env("AWS_SECRET_ACCESS_KEY", &who.secret).env("AWS_MAX_ATTEMPTS", "2");
    let out = cmd.output().unwrap();
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
    (out, doc)
}

/// check id → the datasets it reads (`checks list --format json`).
fn check_datasets() -> BTreeMap<String, BTreeSet<String>> {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_portcullis")).args(["checks", "list", "--format", "json"]).output().unwrap();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    v.as_array()
        .unwrap()
        .iter()
        .map(|c| (c["id"].as_str().unwrap().to_string(), c["datasets"].as_array().unwrap().iter().map(|d| d.as_str().unwrap().to_string()).collect()))
        .collect()
}

type Key = (String, String, String);

fn findings(doc: &Value) -> BTreeMap<Key, (String, String)> {
    doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let key = (f["check_id"].as_str().unwrap().to_string(), f["account"].as_str().unwrap_or("").to_string(), f["resource"]["id"].as_str().unwrap().to_string());
            (key, (f["status"].as_str().unwrap().to_string(), f["message"].as_str().unwrap_or("").to_string()))
        })
        .collect()
}

/// With `action` refused: the coverage names it on exactly the datasets it feeds (`denied`, or
/// `partial` when only some items' fields are missing), and exactly the findings of the checks
/// reading those datasets change: to `not_evaluated` naming it, or to a failure the remaining data
/// proves, or stay exactly as they were (an item that did not need the data); never to a pass. Returns the dependent checks and whether any of them failed.
fn judge(action: &str, feeds: &[&str], before: &BTreeMap<Key, (String, String)>, doc: &Value, datasets_of: &BTreeMap<String, BTreeSet<String>>) -> (BTreeSet<String>, bool) {
    // Coverage: exactly the datasets this permission feeds have entries denied, naming it.
    let mut denied_sets = BTreeSet::new();
    let mut partial = false;
    for c in doc["coverage"].as_array().unwrap() {
        let dataset = c["dataset"].as_str().unwrap();
        match c["state"].as_str().unwrap() {
            // Some scopes of a dataset may still be read (a folder's policy refused, the
            // organization's not): every dataset fed must have a refused entry, below.
            "collected" | "not_requested" => {}
            "denied" => {
                assert_eq!(c["action"].as_str(), Some(action), "{action}: {c}");
                denied_sets.insert(dataset.to_string());
            }
            // Read, but an item in it could not be (a trail's status): named where it is.
            "partial" => {
                assert!(c["missing"].as_str().is_some_and(|m| m.contains(action)), "{action}: {c}");
                denied_sets.insert(dataset.to_string());
                partial = true;
            }
            other => panic!("{action}: {dataset} is {other}, not denied: {c}"),
        }
    }
    let want: BTreeSet<String> = feeds.iter().map(|d| d.to_string()).collect();
    assert_eq!(denied_sets, want, "{action}");

    // Findings: exactly those of the checks reading a denied dataset change, never to a pass.
    let after = findings(&doc);
    let mut dependent_checks = BTreeSet::new();
    let mut dependent_failed = false;
    for (key, (status, message)) in &after {
        let reads = &datasets_of[&key.0];
        if reads.iter().any(|d| want.contains(d)) {
            dependent_checks.insert(key.0.clone());
            match status.as_str() {
                // Not evaluated for this reason, or for the reason it already was.
                "not_evaluated" => assert!(
                    message.contains(action) || before.get(key) == Some(&(status.clone(), message.clone())),
                    "{action}: {key:?} does not name the permission: {message}"
                ),
                // Proven from the data still read: a failure the full read also found.
                "fail" => {
                    let stricter = STRICTER_WITHOUT.iter().any(|(c, d)| *c == key.0 && want.contains(*d));
                    assert!(stricter || before.get(key).map(|b| b.0.as_str()) == Some("fail"), "{action}: {key:?} fails only for want of data: {message}");
                    dependent_failed = true
                }
                // The same verdict, word for word: this item did not need the missing data (a
                // role holder typed by its assignment needs no service-principal list).
                _ if before.get(key) == Some(&(status.clone(), message.clone())) => {}
                // Only some fields of some items are missing (a trail's status): a check that
                // reads other fields judges as before.
                _ if partial && before.get(key).map(|b| &b.0) == Some(status) => {}
                "pass" if STRICTER_WITHOUT.iter().any(|(c, d)| *c == key.0 && want.contains(*d)) => {
                    assert_eq!(before.get(key).map(|b| b.0.as_str()), Some("pass"), "{action}: {key:?} turned into a pass")
                }
                "pass" if EITHER.iter().any(|(c, d, cites)| *c == key.0 && want.contains(*d) && message.contains(cites)) => {}
                _ => panic!("{action}: {key:?} is {status} without the data it needs: {message}"),
            }
        } else if !(status == "not_evaluated" && message.contains(action)) {
            // Unchanged, unless it now says it could not be judged for want of this permission
            // (a refused listing leaves every check of that cloud without scopes).
            assert_eq!(Some(status), before.get(key).map(|b| &b.0), "{action}: {key:?} changed, but reads none of {want:?}");
        }
    }
    let read_by_some_check = datasets_of.values().any(|ds| ds.iter().any(|d| want.contains(d)));
    assert!(dependent_checks.is_empty() != read_by_some_check, "{action}: no finding of the checks reading {want:?} changed");
    eprintln!("{action}: {} denied, {} check(s) affected", want.iter().cloned().collect::<Vec<_>>().join(", "), dependent_checks.len());
    (dependent_checks, dependent_failed)
}

#[test]
fn security_audit_suffices_and_each_missing_permission_is_named() {
    let Some(moto) = Moto::start() else { return };
    moto.seed(&["org"]);
    let creds = moto.seed(&["auditor"]);
    let who = Auditor { key: creds["AccessKeyId"].as_str().unwrap().into(), secret: creds["SecretAccessKey"].as_str().unwrap().into() };
    let denied = Arc::new(Mutex::new(Vec::<String>::new()));
    let front = front(&moto, denied.clone());
    let datasets_of = check_datasets();

    // Enforcement is real: the emulator's default keys are refused now.
    enforce(&moto, true);
    let nobody = Auditor { key: "AKIAIOSFODNN7EXAMPLE".into(), secret: "not-a-real-secret".into() };
    let (mut cmd, _home) = portcullis_command(&moto.endpoint(), &[("EC2", &front), ("ACCESSANALYZER", &front)], &["scan", "--aws", "--aws-regions", "us-east-1", "--quiet"]);
    let out = cmd.env("AWS_ACCESS_KEY_ID", &nobody.key).env("AWS_SECRET_ACCESS_KEY", &nobody.secret).output().unwrap();
    assert_ne!(out.status.code(), Some(0), "an unknown key was accepted: moto is not enforcing IAM");

    // SecurityAudit alone reads everything.
    let (out, baseline) = scan(&moto, &front, &who, &[]);
    let gaps: Vec<&Value> = baseline["coverage"].as_array().unwrap().iter().filter(|c| !matches!(c["state"].as_str(), Some("collected" | "not_requested"))).collect();
    assert!(gaps.is_empty(), "SecurityAudit did not suffice: {gaps:#?}\n{}", String::from_utf8_lossy(&out.stderr));
    let before = findings(&baseline);
    assert!(before.len() > 20, "{}", before.len());

    for (action, feeds) in PERMISSIONS {
        enforce(&moto, false);
        moto.seed(&["deny", action]);
        enforce(&moto, true);
        *denied.lock().unwrap() = vec![action.to_string()];
        let (out, doc) = scan(&moto, &front, &who, &[]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(matches!(out.status.code(), Some(0 | 1)), "{action}: the scan did not run: {stderr}");

        let (dependent_checks, dependent_failed) = judge(action, feeds, &before, &doc, &datasets_of);
        // The gate: incomplete is exit 3, and 0 when the gap is accepted.
        if !dependent_failed {
            let only = dependent_checks.iter().cloned().collect::<Vec<_>>().join(",");
            let (out, _) = scan(&moto, &front, &who, &["--checks", &only, "--fail-on", "low"]);
            assert_eq!(out.status.code(), Some(3), "{action}: {}", String::from_utf8_lossy(&out.stderr));
            let (out, _) = scan(&moto, &front, &who, &["--checks", &only, "--fail-on", "low", "--allow-incomplete"]);
            assert_eq!(out.status.code(), Some(0), "{action}: {}", String::from_utf8_lossy(&out.stderr));
        }
    }
}

/// Start a fake refusing one permission, scan, and judge; then the gate on the dependent checks.
fn one_permission_at_a_time(cases: &[(&[&str], &str, &[&str])], scan: &dyn Fn(&[&str], &[&str]) -> Option<(std::process::Output, Value)>) {
    let datasets_of = check_datasets();
    let Some((out, baseline)) = scan(&[], &[]) else { return };
    let gaps: Vec<&Value> = baseline["coverage"].as_array().unwrap().iter().filter(|c| !matches!(c["state"].as_str(), Some("collected" | "not_requested"))).collect();
    assert!(gaps.is_empty(), "the full grant did not suffice: {gaps:#?}\n{}", String::from_utf8_lossy(&out.stderr));
    let before = findings(&baseline);
    for (flags, action, feeds) in cases {
        let (out, doc) = scan(flags, &[]).unwrap();
        assert!(matches!(out.status.code(), Some(0 | 1)), "{action}: the scan did not run: {}", String::from_utf8_lossy(&out.stderr));
        let (dependent_checks, dependent_failed) = judge(action, feeds, &before, &doc, &datasets_of);
        if !dependent_failed && !dependent_checks.is_empty() {
            let only = dependent_checks.iter().cloned().collect::<Vec<_>>().join(",");
            let (out, _) = scan(flags, &["--checks", &only, "--fail-on", "low"]).unwrap();
            assert_eq!(out.status.code(), Some(3), "{action}: {}", String::from_utf8_lossy(&out.stderr));
            let (out, _) = scan(flags, &["--checks", &only, "--fail-on", "low", "--allow-incomplete"]).unwrap();
            assert_eq!(out.status.code(), Some(0), "{action}: {}", String::from_utf8_lossy(&out.stderr));
        }
    }
}

const SUB1: &str = "a1000000-0000-4000-8000-000000000001";
const SUB2: &str = "a2000000-0000-4000-8000-000000000002";

#[test]
fn azure_each_missing_permission_is_named() {
    let arm = |provider: &str| -> Vec<String> {
        [SUB1, SUB2].iter().flat_map(|s| ["--deny".to_string(), format!("/subscriptions/{s}/providers/{provider}")]).collect()
    };
    let owned: Vec<(Vec<String>, &str, &[&str])> = vec![
        (vec!["--deny".into(), "/v1.0/users".into()], "User.Read.All", &["azure_users", "azure_sign_in_activity"]),
        (vec!["--deny".into(), "/v1.0/reports/authenticationMethods".into()], "AuditLog.Read.All", &["azure_registration_details"]),
        (vec!["--deny".into(), "/v1.0/applications".into()], "Application.Read.All", &["azure_applications"]),
        (vec!["--deny".into(), "/v1.0/servicePrincipals".into()], "Application.Read.All", &["azure_service_principals"]),
        (vec!["--deny".into(), "/v1.0/roleManagement/directory/roleAssignments".into()], "RoleManagement.Read.Directory", &["azure_directory_roles"]),
        (vec!["--deny".into(), "/v1.0/roleManagement/directory/roleEligibilityScheduleInstances".into()], "RoleEligibilitySchedule.Read.Directory", &["azure_directory_role_eligibility"]),
        (vec!["--deny".into(), "/v1.0/groups".into()], "GroupMember.Read.All", &["azure_group_members"]),
        (arm("Microsoft.Authorization/roleAssignments"), "Microsoft.Authorization/roleAssignments/read", &["azure_role_assignments"]),
        (arm("Microsoft.Authorization/roleEligibilityScheduleInstances"), "Microsoft.Authorization/roleEligibilityScheduleInstances/read", &["azure_role_eligibility"]),
        (arm("Microsoft.Authorization/roleDefinitions"), "Microsoft.Authorization/roleDefinitions/read", &["azure_role_definitions"]),
        (arm("Microsoft.Insights/diagnosticSettings"), "Microsoft.Insights/diagnosticSettings/read", &["azure_diagnostic_settings"]),
        (arm("Microsoft.ManagedServices/registrationAssignments"), "Microsoft.ManagedServices/registrationAssignments/read", &["azure_lighthouse"]),
    ];
    let cases: Vec<(Vec<&str>, &str, &[&str])> = owned.iter().map(|(f, a, d)| (f.iter().map(String::as_str).collect(), *a, *d)).collect();
    let cases: Vec<(&[&str], &str, &[&str])> = cases.iter().map(|(f, a, d)| (f.as_slice(), *a, *d)).collect();
    let dir = tempfile::tempdir().unwrap();
    let cfg = support::azure::trust_config(dir.path());
    let cfg = cfg.display().to_string();
    one_permission_at_a_time(&cases, &|flags, extra| {
        let fake = support::azure::AzureFake::start("tenant.json", flags)?;
        let mut args = vec!["--config", cfg.as_str()];
        args.extend_from_slice(extra);
        Some(fake.scan(&args))
    });
}

#[test]
fn gcp_each_missing_permission_is_named() {
    let cases: &[(&[&str], &str, &[&str])] = &[
        (&["--deny-re", "^/v3/folders$", "--deny-permission", "resourcemanager.folders.list"], "resourcemanager.folders.list", &["gcp_hierarchy"]),
        // The bulk read refused: every policy is read resource by resource instead, and the
        // coverage says why the bulk read was not used.
        (&["--deny-re", ":searchAllIamPolicies$", "--deny-permission", "cloudasset.assets.searchAllIamPolicies"], "cloudasset.assets.searchAllIamPolicies", &["gcp_asset_search"]),
        (&["--deny-re", "/serviceAccounts$", "--deny-permission", "iam.serviceAccounts.list"], "iam.serviceAccounts.list", &["gcp_service_accounts"]),
        (&["--deny-re", "/keys$", "--deny-permission", "iam.serviceAccountKeys.list"], "iam.serviceAccountKeys.list", &["gcp_service_accounts"]),
        (&["--deny-re", ":getEffectivePolicy$", "--deny-permission", "orgpolicy.policies.getEffectivePolicy"], "orgpolicy.policies.getEffectivePolicy", &["gcp_org_policies"]),
        (&["--deny-re", "/sinks$", "--deny-permission", "logging.sinks.list"], "logging.sinks.list", &["gcp_logging"]),
        (&["--deny-re", "/roles$", "--deny-permission", "iam.roles.list"], "iam.roles.list", &["gcp_custom_roles"]),
    ];
    one_permission_at_a_time(cases, &|flags, extra| {
        let fake = support::gcp::GcpFake::start("org.json", flags)?;
        Some(fake.scan(extra))
    });
}
