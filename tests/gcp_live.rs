//! Live GCP collection against real parts: Google's official client crates, with Application
//! Default Credentials from a service-account key (a self-signed JWT the fake verifies), talk
//! HTTPS to a local fake of Resource Manager, Cloud Asset, IAM, Org Policy and Logging
//! (tests/support/gcp_fake.py) serving an organization in the documented shapes
//! (fixtures/gcp/org.json), with paging, a disabled Cloud Asset API and denied permissions.

mod support;

use serde_json::Value;
use support::gcp::GcpFake;
use support::verdicts;

/// Failing (check, resource) pairs, each once (a service account fails a key check once per key).
fn failing(v: &Value) -> Vec<(String, String)> {
    let mut out = support::failing(v);
    out.dedup();
    out
}

/// Every planted problem: the gmail.com viewer is set on the Production folder and inherited by
/// both projects below it; a key-creation constraint enforced only under a condition does not
/// count; a workload identity pool in an unknown project may act as a service account.
fn planted() -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> = [
        ("gcp_iam_impersonation_inside_organization", "approver@prod-payments.iam.gserviceaccount.com"),
        ("gcp_iam_impersonation_inside_organization", "prod-payments"),
        ("gcp_iam_members_in_allowed_domains", "prod-payments"),
        ("gcp_iam_members_in_allowed_domains", "prod-web"),
        ("gcp_iam_no_public_access", "prod-web"),
        // The vendor's token creator grant on prod-payments reaches its Editor service account.
        ("gcp_iam_principal_privilege_escalation", "deployer@prod-payments.iam.gserviceaccount.com"),
        ("gcp_iam_service_account_key_rotated", "deployer@prod-payments.iam.gserviceaccount.com"),
        ("gcp_iam_service_account_not_privileged", "prod-payments"),
        ("gcp_iam_service_account_not_privileged", "prod-web"),
        ("gcp_iam_service_account_user_managed_key_absent", "deployer@prod-payments.iam.gserviceaccount.com"),
        ("gcp_iam_service_account_user_managed_key_absent", "web-uploader@prod-web.iam.gserviceaccount.com"),
        ("gcp_orgpolicy_key_constraints_enforced", "prod-payments"),
        ("gcp_orgpolicy_key_constraints_enforced", "prod-web"),
    ]
    .iter()
    .map(|(a, b)| (a.to_string(), b.to_string()))
    .collect();
    v.sort();
    v
}

fn check_scan(v: &Value) {
    assert_eq!(failing(v), planted());
    let undecided: Vec<&str> = v["findings"].as_array().unwrap().iter().filter(|f| f["status"] == "not_evaluated").filter_map(|f| f["message"].as_str()).collect();
    assert!(undecided.is_empty(), "{undecided:#?}");
    // The clean project passes everything.
    let clean: Vec<(String, String, String)> = verdicts(v).into_iter().filter(|(_, r, _)| r == "clean-sandbox").collect();
    assert!(!clean.is_empty() && clean.iter().all(|(_, _, s)| s == "pass"), "{clean:#?}");
    // The inherited grant names its folder; Access Approval Config Editor is not Editor.
    let msgs = v["findings"].to_string();
    assert!(msgs.contains("inherited from folders/200000000001"), "{msgs}");
    // A conditional rule that switches enforcement off is a carve-out, named with its condition.
    assert!(msgs.contains("iam.disableServiceAccountKeyUpload not enforced when resource.matchTag('111111111111/env', 'legacy')"), "{msgs}");
    assert!(!msgs.contains("approver@prod-payments.iam.gserviceaccount.com has roles/accessapproval.configEditor"), "{msgs}");
    // Custom roles count by the permissions read: the release operator (actAs with a build) runs
    // code as the Editor deployer; clean-sandbox's incident reader, a deleted break-glass role and
    // a disabled operator role grant nothing that escalates, so it passes (above) instead of being
    // left undecided.
    let deployer = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["check_id"] == "gcp_iam_principal_privilege_escalation" && f["status"] == "fail")
        .map(|f| f["message"].as_str().unwrap_or_default().to_string())
        .unwrap_or_default();
    assert!(deployer.contains("user:carol@example.com (projects/prod-payments/roles/releaseOperator"), "{deployer}");
}

#[test]
fn scan_through_the_cloud_asset_bulk_read() {
    let Some(fake) = GcpFake::start("org.json", &[]) else { return };
    let (out, v) = fake.scan(&[]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    check_scan(&v);
    let reqs = fake.requests();
    assert!(reqs.iter().any(|(_, p)| p.contains(":searchAllIamPolicies")), "{reqs:#?}");
    // Projects' bindings come from the search; the organization and folders are read whole, and
    // each project's own policy once more for its audit configuration, which the search does not
    // return (an exemption set on a project would otherwise go unseen).
    let per_project = reqs.iter().filter(|(_, p)| p.starts_with("/v3/projects/") && p.contains(":getIamPolicy")).count();
    assert_eq!(per_project, 3, "one audit-configuration read per project: {reqs:#?}");
    // Only reads: GETs, and the getIamPolicy POSTs that IAM defines as reads.
    assert!(reqs.iter().all(|(m, p)| m == "GET" || p.split('?').next().unwrap().ends_with(":getIamPolicy")), "{reqs:#?}");
    let cov = v["coverage"].as_array().unwrap();
    assert!(cov.iter().any(|c| c["dataset"] == "gcp_asset_search" && c["state"] == "collected"), "{cov:#?}");
    // Custom roles: listed on the organization and each project, with permissions and deleted ones.
    for parent in ["parent=organizations/111111111111&", "parent=projects/prod-payments&", "parent=projects/clean-sandbox&"] {
        let read = reqs.iter().find(|(_, p)| p.starts_with("/v1/roles?") && p.replace("%2F", "/").contains(parent));
        assert!(read.is_some_and(|(_, p)| (p.contains("view=FULL&") || p.contains("view=1&")) && p.contains("showDeleted=true")), "{parent}: {reqs:#?}");
    }
    assert!(cov.iter().any(|c| c["dataset"] == "gcp_custom_roles" && c["scope"] == "organizations/111111111111" && c["state"] == "collected"), "{cov:#?}");
}

/// Every role a binding of the scenario names: the organization's, folders', projects' and
/// service accounts' own policies.
fn roles_named_in(scenario: &Value) -> std::collections::BTreeSet<String> {
    let mut out = std::collections::BTreeSet::new();
    let policies = scenario["policies"].as_object().unwrap().values();
    let accounts = scenario["service_accounts"].as_object().unwrap().values().flat_map(|l| l.as_array().unwrap()).map(|a| &a["policy"]);
    for pol in policies.chain(accounts) {
        for b in pol["bindings"].as_array().into_iter().flatten() {
            out.insert(b["role"].as_str().unwrap().to_string());
        }
    }
    out
}

#[test]
fn predefined_roles_are_read_once_and_only_the_ones_bindings_name_are_kept() {
    let Some(fake) = GcpFake::start("org.json", &[]) else { return };
    let dir = tempfile::tempdir().unwrap();
    let snap = dir.path().join("inventory.json");
    let out = fake.command(&["collect", "--gcp", "--gcp-organization", support::gcp::ORG, "--out", snap.to_str().unwrap(), "--quiet"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    // One paged list without a parent, with the permissions (FULL: `view=1` as the client's int
    // enums send it), for the whole scan.
    let reqs = fake.requests();
    let predefined: Vec<&String> = reqs.iter().map(|(_, p)| p).filter(|p| p.starts_with("/v1/roles?") && !p.contains("parent=organizations") && !p.contains("parent=projects")).collect();
    let first_pages: Vec<&&String> = predefined.iter().filter(|p| !p.contains("pageToken=") || p.contains("pageToken=&")).collect();
    assert_eq!(first_pages.len(), 1, "read once: {predefined:#?}");
    assert!(predefined.len() > 1, "paged (the fake serves 2 a page): {predefined:#?}");
    assert!(predefined.iter().all(|p| p.contains("view=1&") || p.contains("view=FULL&")), "{predefined:#?}");
    // Kept: exactly the predefined roles some binding names, with their whole permission lists;
    // the rest only counted.
    let scenario: Value = serde_json::from_str(&std::fs::read_to_string(support::root().join("fixtures/gcp/org.json")).unwrap()).unwrap();
    let catalogue: Value = serde_json::from_str(&std::fs::read_to_string(support::root().join("fixtures/gcp/predefined_roles.json")).unwrap()).unwrap();
    let named: Vec<String> = roles_named_in(&scenario).into_iter().filter(|r| r.starts_with("roles/")).collect();
    let inv: Value = serde_json::from_str(&std::fs::read_to_string(&snap).unwrap()).unwrap();
    let kept = inv["gcp"]["predefined_roles"]["collected"].as_array().unwrap_or_else(|| panic!("{}", inv["gcp"]["predefined_roles"]));
    let kept_names: Vec<String> = kept.iter().map(|r| r["name"].as_str().unwrap().to_string()).collect();
    assert_eq!(kept_names, named);
    let total = catalogue.as_array().unwrap().len();
    assert!(total > named.len());
    assert_eq!(inv["gcp"]["predefined_roles_omitted"].as_u64(), Some((total - named.len()) as u64));
    let editor = |v: &Value| v.as_array().unwrap().iter().find(|r| r["name"] == "roles/editor").cloned().unwrap();
    assert_eq!(editor(&inv["gcp"]["predefined_roles"]["collected"])["permissions"], editor(&catalogue)["includedPermissions"]);
    // A scan of that snapshot judges the same as the live scan.
    let (_, live) = fake.scan(&[]);
    let offline = fake.command(&["scan", "--inventory", snap.to_str().unwrap(), "--json", "-", "--quiet", "--now", "2026-11-30T12:00:00Z"]).output().unwrap();
    let offline: Value = serde_json::from_slice(&offline.stdout).unwrap();
    assert_eq!(failing(&offline), failing(&live));
    let cov = live["coverage"].as_array().unwrap();
    assert!(cov.iter().any(|c| c["dataset"] == "gcp_predefined_roles" && c["state"] == "collected"), "{cov:#?}");
}

#[test]
fn a_disabled_cloud_asset_api_falls_back_to_each_policy_with_the_same_findings() {
    let Some(fake) = GcpFake::start("org.json", &["--asset-disabled"]) else { return };
    let (out, v) = fake.scan(&[]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    check_scan(&v);
    let reqs = fake.requests();
    for r in ["organizations/111111111111:getIamPolicy", "folders/200000000002:getIamPolicy", "projects/300000000003:getIamPolicy"] {
        assert!(reqs.iter().any(|(_, p)| p.split('?').next().unwrap().ends_with(r)), "{r}: {reqs:#?}");
    }
    // Coverage says why, and the scan did not narrow to fewer projects.
    let cov = v["coverage"].as_array().unwrap();
    let asset = cov.iter().find(|c| c["dataset"] == "gcp_asset_search").unwrap();
    assert_eq!(asset["state"], "failed", "{asset}");
    assert!(asset["error"].as_str().unwrap().contains("SERVICE_DISABLED"), "{asset}");
    let projects: std::collections::BTreeSet<&str> = cov.iter().filter(|c| c["dataset"] == "gcp_service_accounts").map(|c| c["scope"].as_str().unwrap()).collect();
    assert_eq!(projects.len(), 3);
}

#[test]
fn a_denied_permission_makes_exactly_the_dependent_checks_not_evaluated() {
    let Some(fake) = GcpFake::start("org.json", &["--deny", "/v1/projects/prod-web/serviceAccounts", "--deny-permission", "iam.serviceAccounts.list"]) else { return };
    let (out, v) = fake.scan(&[]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let ne: Vec<&Value> = v["findings"].as_array().unwrap().iter().filter(|f| f["status"] == "not_evaluated").collect();
    let mut checks: Vec<&str> = ne.iter().map(|f| f["check_id"].as_str().unwrap()).collect();
    checks.sort();
    assert_eq!(
        checks,
        [
            "gcp_iam_impersonation_inside_organization",
            "gcp_iam_principal_privilege_escalation",
            "gcp_iam_service_account_key_rotated",
            "gcp_iam_service_account_user_managed_key_absent"
        ],
        "the checks that read service accounts, for prod-web only: {ne:#?}"
    );
    for f in &ne {
        assert_eq!(f["account"], "prod-web");
        assert_eq!(f["evidence"]["missing_permission"], "iam.serviceAccounts.list");
    }
    // The IAM-policy checks still judge prod-web.
    assert!(failing(&v).contains(&("gcp_iam_no_public_access".to_string(), "prod-web".to_string())));
}

#[test]
fn sarif_of_a_gcp_scan_passes_the_multitool() {
    let Some(fake) = GcpFake::start("org.json", &[]) else { return };
    let Some(tool) = support::multitool() else { return };
    let dir = tempfile::tempdir().unwrap();
    let sarif = dir.path().join("gcp.sarif");
    let out = fake.command(&["scan", "--gcp", "--gcp-organization", support::gcp::ORG, "--quiet", "--sarif", sarif.to_str().unwrap()]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    support::validate_sarif(&tool, &sarif);
}

#[test]
fn named_projects_are_read_with_their_ancestors() {
    let Some(fake) = GcpFake::start("org.json", &[]) else { return };
    let out = fake
        .command(&["scan", "--gcp", "--gcp-projects", "prod-web", "--json", "-", "--quiet", "--now", "2026-11-30T12:00:00Z"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let mut want: Vec<(String, String)> = planted().into_iter().filter(|(_, r)| r == "prod-web" || r.ends_with("@prod-web.iam.gserviceaccount.com")).collect();
    want.sort();
    // The folder grant is inherited (the ancestors were read), and the organization's domain is
    // known (it was read as the last ancestor). A few named projects are read one by one: no
    // search of the whole organization. The organization's sink sends its logs to a bucket of
    // prod-payments, which this scan did not read: nothing shows that project is the
    // organization's, so the logs are not shown to stay inside.
    want.push(("gcp_logging_org_aggregated_sink".to_string(), "example.com".to_string()));
    want.sort();
    assert_eq!(failing(&v), want);
    assert!(!verdicts(&v).iter().any(|(_, r, _)| r == "prod-payments" || r == "clean-sandbox"));
    let reqs = fake.requests();
    assert!(reqs.iter().any(|(_, p)| p.starts_with("/v3/folders/200000000001")), "{reqs:#?}");
    assert!(!reqs.iter().any(|(_, p)| p.contains(":searchAllIamPolicies")), "no organization to search: {reqs:#?}");
}

#[test]
fn throttling_is_retried_with_the_same_findings() {
    let Some(fake) = GcpFake::start("org.json", &["--throttle-once", "/v1/organizations/", "--throttle-once", "/v1/projects/prod-web/serviceAccounts"]) else { return };
    let (out, v) = fake.scan(&[]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    check_scan(&v);
    let searches = fake.requests().iter().filter(|(_, p)| p.contains(":searchAllIamPolicies") && p.contains("pageToken=&")).count();
    assert_eq!(searches, 2, "the throttled first page was asked again");
}
