//! Live Azure collection against real parts: the `azure_core` pipeline and `azure_identity`
//! credentials talk HTTPS to a local fake of Entra ID's token endpoint, Resource Manager and
//! Microsoft Graph (tests/support/azure_fake.py), serving a tenant written in the documented
//! response shapes (fixtures/azure/tenant.json) with paging, denials, licence errors and 429s.

mod support;

use std::collections::BTreeMap;
use std::time::Instant;

use serde_json::Value;
use support::azure::{trust_config, AzureFake};
use support::{failing, verdicts};

fn status_counts(v: &Value, check: &str) -> BTreeMap<String, usize> {
    let mut m = BTreeMap::new();
    for (c, _, s) in verdicts(v) {
        if c == check {
            *m.entry(s).or_insert(0) += 1;
        }
    }
    m
}

const PROD: &str = "contoso-prod";

/// Every planted problem, and nothing else.
fn planted() -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> = [
        ("azure_entra_app_credential_lifetime_limited", "Third-party connector"),
        ("azure_entra_app_credential_lifetime_limited", "deploy-pipeline"),
        ("azure_entra_app_credential_lifetime_limited", "old-app"),
        ("azure_entra_privileged_role_holder_recently_active", "contractor_gmail.com#EXT#@contoso.example"),
        ("azure_entra_privileged_role_holder_recently_active", "erin@contoso.example"),
        ("azure_entra_privileged_role_mfa_registered", "dave@contoso.example"),
        ("azure_entra_user_mfa_registered", "bob@contoso.example"),
        ("azure_entra_user_mfa_registered", "dave@contoso.example"),
        ("azure_lighthouse_delegation_restricted", "Contoso MSP operations"),
        ("azure_monitor_activity_log_exported", PROD),
        ("azure_rbac_custom_role_no_wildcard", "SuperAdmin"),
        ("azure_rbac_guest_privileged_role_absent", "contractor_gmail.com#EXT#@contoso.example"),
        ("azure_rbac_guest_privileged_role_absent", "partner_fabrikam.example#EXT#@contoso.example"),
        ("azure_rbac_subscription_owner_count_limited", PROD),
    ]
    .iter()
    .map(|(a, b)| (a.to_string(), b.to_string()))
    .collect();
    v.sort();
    v
}

#[test]
fn scan_finds_every_planted_problem_and_nothing_on_the_clean_resources() {
    let Some(fake) = AzureFake::start("tenant.json", &[]) else { return };
    let cfg = trust_config(fake.dir.path());
    let (out, v) = fake.scan(&["--config", cfg.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(failing(&v), planted());
    // Nothing was left unjudged on a fully readable tenant.
    assert!(verdicts(&v).iter().all(|(_, _, s)| s != "not_evaluated"), "{:#?}", verdicts(&v));
    // The clean resources pass: the dev subscription everywhere, good-app, the members with MFA.
    let passes: Vec<(String, String)> = verdicts(&v).into_iter().filter(|(_, _, s)| s == "pass").map(|(c, r, _)| (c, r)).collect();
    for (c, r) in [
        ("azure_monitor_activity_log_exported", "contoso-dev"),
        ("azure_rbac_subscription_owner_count_limited", "contoso-dev"),
        ("azure_rbac_guest_privileged_role_absent", "contoso-dev"),
        ("azure_lighthouse_delegation_restricted", "Fabrikam read-only support"),
        ("azure_entra_app_credential_lifetime_limited", "good-app"),
        ("azure_entra_user_mfa_registered", "alice@contoso.example"),
        ("azure_entra_privileged_role_mfa_registered", "frank@contoso.example"),
    ] {
        assert!(passes.contains(&(c.to_string(), r.to_string())), "{c} should pass {r}: {passes:#?}");
    }
    // Disabled carol is no finding at all; guests are not in the member MFA check.
    assert!(!verdicts(&v).iter().any(|(c, r, _)| c == "azure_entra_user_mfa_registered" && (r.starts_with("carol") || r.contains("#EXT#"))));
    // Everything was read, in bulk, and only read: the token POST is the one non-GET.
    let reqs = fake.requests();
    assert!(reqs.iter().all(|(s, m, _)| m == "GET" || (s == "login" && m == "POST")), "{reqs:#?}");
    assert!(reqs.iter().any(|(s, _, p)| s == "graph" && p.contains("skiptoken")), "Graph paging was exercised");
    assert!(reqs.iter().any(|(s, _, p)| s == "arm" && p.contains("skiptoken")), "ARM paging was exercised");
    assert!(!reqs.iter().any(|(_, _, p)| p.contains("/users/")), "no per-user call: {reqs:#?}");
    assert!(!String::from_utf8_lossy(&out.stdout).contains(support::azure::SECRET));
    assert!(!String::from_utf8_lossy(&out.stderr).contains(support::azure::SECRET));
}

#[test]
fn a_denied_graph_permission_makes_exactly_the_dependent_checks_not_evaluated() {
    let Some(fake) = AzureFake::start("tenant.json", &["--deny", "/v1.0/reports/authenticationMethods"]) else { return };
    let (out, v) = fake.scan(&[]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    for check in ["azure_entra_user_mfa_registered", "azure_entra_privileged_role_mfa_registered"] {
        let f: Vec<&Value> = v["findings"].as_array().unwrap().iter().filter(|f| f["check_id"] == check).collect();
        assert_eq!(f.len(), 1, "{check}: one not_evaluated for the tenant, never a fail per user: {f:#?}");
        assert_eq!(f[0]["status"], "not_evaluated");
        assert_eq!(f[0]["evidence"]["missing_permission"], "AuditLog.Read.All", "{:#}", f[0]);
    }
    // Everything else is judged as before.
    for (c, r) in planted().into_iter().filter(|(c, _)| !c.contains("mfa_registered") && !c.contains("lighthouse")) {
        assert!(failing(&v).contains(&(c.clone(), r.clone())), "{c} {r} still fails");
    }
    let cov: Vec<&Value> = v["coverage"].as_array().unwrap().iter().filter(|c| c["state"] == "denied").collect();
    assert_eq!(cov.len(), 1, "{cov:#?}");
    assert_eq!(cov[0]["dataset"], "azure_registration_details");
}

#[test]
fn a_missing_licence_is_named_and_never_a_fail() {
    let Some(fake) = AzureFake::start(
        "tenant.json",
        &["--unlicensed-sign-in", "--unlicensed", "/v1.0/roleManagement/directory/roleEligibilityScheduleInstances"],
    ) else {
        return;
    };
    let (out, v) = fake.scan(&[]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    // Sign-in activity needs P1: the stale-admin check is not evaluated, and says so.
    let stale: Vec<&Value> = v["findings"].as_array().unwrap().iter().filter(|f| f["check_id"] == "azure_entra_privileged_role_holder_recently_active").collect();
    assert_eq!(stale.len(), 1, "{stale:#?}");
    assert_eq!(stale[0]["status"], "not_evaluated");
    assert!(stale[0]["evidence"]["missing_licence"].as_str().unwrap().contains("P1"), "{:#}", stale[0]);
    // The users were read again without signInActivity: the MFA checks still judge them.
    assert_eq!(status_counts(&v, "azure_entra_user_mfa_registered").get("fail"), Some(&2));
    // Eligible directory roles need P2: active holders are judged, the eligible part is named.
    let c = status_counts(&v, "azure_entra_privileged_role_mfa_registered");
    assert_eq!(c.get("not_evaluated"), Some(&1), "{c:?}");
    assert_eq!(c.get("fail"), None, "dave is only eligible, and eligibility was unreadable: {c:?}");
    let lic: Vec<String> = v["coverage"].as_array().unwrap().iter().filter(|c| c["state"] == "unlicensed").map(|c| c["dataset"].as_str().unwrap().to_string()).collect();
    assert_eq!(lic, ["azure_sign_in_activity", "azure_directory_role_eligibility"]);
}

#[test]
fn throttling_is_retried_after_the_servers_delay_with_the_same_findings() {
    let Some(fake) = AzureFake::start("tenant.json", &["--throttle-once", "/v1.0/users", "--throttle-once", "/subscriptions/a1000000-0000-4000-8000-000000000001/providers/Microsoft.Authorization/roleAssignments"]) else {
        return;
    };
    let cfg = trust_config(fake.dir.path());
    let started = Instant::now();
    let (out, v) = fake.scan(&["--config", cfg.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(failing(&v), planted());
    assert!(started.elapsed().as_millis() >= 1000, "Retry-After: 1 was honoured");
    let users = fake.requests().iter().filter(|(_, _, p)| p.starts_with("/v1.0/users?") && !p.contains("skiptoken")).count();
    assert_eq!(users, 2, "the throttled first page was asked again");
}

#[test]
fn the_client_certificate_credential_signs_its_own_assertion() {
    let Some(fake) = AzureFake::start("tenant.json", &[]) else { return };
    let inv = fake.dir.path().join("inv.json");
    let out = fake
        .command(&["collect", "--azure", "--quiet", "--out", inv.to_str().unwrap()])
        .env_remove("AZURE_CLIENT_SECRET")
        .env("AZURE_CLIENT_CERTIFICATE_PATH", &fake.client_certificate)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let snapshot: Value = serde_json::from_slice(&std::fs::read(&inv).unwrap()).unwrap();
    assert!(snapshot["sources"].to_string().contains("client certificate"), "{}", snapshot["sources"]);
    let posts = fake.requests().iter().filter(|(s, m, _)| s == "login" && m == "POST").count();
    assert_eq!(posts, 2, "one token per audience (ARM, Graph), cached after that");
    // Only the datasets the selected checks read are collected: no Graph call at all.
    let before = fake.requests().len();
    let out = fake
        .command(&["scan", "--azure", "--quiet", "--json", "-", "--checks", "azure_monitor_*"])
        .env_remove("AZURE_CLIENT_SECRET")
        .env("AZURE_CLIENT_CERTIFICATE_PATH", &fake.client_certificate)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(failing(&v), [("azure_monitor_activity_log_exported".to_string(), PROD.to_string())]);
    let later: Vec<_> = fake.requests().into_iter().skip(before).collect();
    assert!(!later.iter().any(|(s, _, _)| s == "graph"), "{later:#?}");
    // Only the datasets the selected check reads were collected: no Graph call at all.
}

#[test]
fn a_wrong_secret_and_an_untrusted_certificate_are_clear_errors() {
    let Some(fake) = AzureFake::start("tenant.json", &[]) else { return };
    let out = fake.command(&["scan", "--azure", "--quiet"]).env("AZURE_CLIENT_SECRET", "wrong").output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("client secret") && err.contains("AADSTS7000215"), "{err}");
    assert!(!err.contains("wrong\""), "the secret is not echoed: {err}");
    // Without the test CA the server's certificate is not trusted: no silent downgrade.
    let out = fake.command(&["scan", "--azure", "--quiet"]).env_remove("SSL_CERT_FILE").output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.to_lowercase().contains("certificate") || err.contains("error sending request"), "{err}");
    // Plain http endpoints are refused before any token is sent.
    let out = fake.command(&["scan", "--azure", "--quiet"]).env("PORTCULLIS_AZURE_ARM_ENDPOINT", format!("http://127.0.0.1:{}", fake.arm)).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("https"), "{}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn subscriptions_are_collected_concurrently() {
    let Some(fake) = AzureFake::start("tenant.json", &["--subscriptions", "20", "--latency-ms", "100"]) else { return };
    let started = Instant::now();
    let out = fake
        .command(&["collect", "--azure", "--quiet", "--out", fake.dir.path().join("inv.json").to_str().unwrap(), "--concurrency", "20"])
        .output()
        .unwrap();
    let took = started.elapsed();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let arm_gets = fake.requests().iter().filter(|(s, _, p)| s == "arm" && p.starts_with("/subscriptions/")).count();
    // Each subscription costs at least six sequential-if-serial requests of 100 ms.
    assert!(arm_gets >= 20 * 6, "{arm_gets}");
    let serial = std::time::Duration::from_millis(100 * arm_gets as u64);
    assert!(took < serial / 5, "20 subscriptions took {took:?}; one after another would take {serial:?}");
    let inv: Value = serde_json::from_slice(&std::fs::read(fake.dir.path().join("inv.json")).unwrap()).unwrap();
    assert_eq!(inv["azure"]["tenants"][0]["subscriptions"].as_array().unwrap().len(), 20);
}

#[test]
fn named_subscriptions_narrow_the_scan_and_unknown_ones_are_reported() {
    let Some(fake) = AzureFake::start("tenant.json", &[]) else { return };
    let (out, v) = fake.scan(&["--azure-subscriptions", "a2000000-0000-4000-8000-000000000002,0b1f6471-1bf0-4dda-aec3-cb9272f09590", "--checks", "azure_monitor_*"]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let f = verdicts(&v);
    assert!(f.contains(&("azure_monitor_activity_log_exported".into(), "contoso-dev".into(), "pass".into())), "{f:#?}");
    assert!(!f.iter().any(|(_, r, _)| r == PROD), "prod was not asked for");
    assert!(f.iter().any(|(_, r, s)| r.contains("0b1f6471") && s == "not_evaluated"), "{f:#?}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("0b1f6471-1bf0-4dda-aec3-cb9272f09590"));
}

#[test]
fn sarif_of_an_azure_scan_passes_the_multitool() {
    let Some(fake) = AzureFake::start("tenant.json", &[]) else { return };
    let Some(tool) = support::multitool() else { return };
    let dir = tempfile::tempdir().unwrap();
    let sarif = dir.path().join("azure.sarif");
    let out = fake.command(&["scan", "--azure", "--quiet", "--sarif", sarif.to_str().unwrap()]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    support::validate_sarif(&tool, &sarif);
}

#[test]
fn the_deadline_bounds_the_collection_and_says_so() {
    let Some(fake) = AzureFake::start("tenant.json", &["--latency-ms", "2500"]) else { return };
    let started = Instant::now();
    let (out, v) = fake.scan(&["--timeout", "1"]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(started.elapsed().as_secs() < 15, "{:?}", started.elapsed());
    // Nothing was judged on data that never arrived; every gap names the deadline.
    assert!(verdicts(&v).iter().all(|(_, _, s)| s == "not_evaluated"), "{:#?}", verdicts(&v));
    let failed: Vec<&Value> = v["coverage"].as_array().unwrap().iter().filter(|c| c["state"] == "failed").collect();
    assert!(!failed.is_empty());
    assert!(failed.iter().all(|c| c["error"].as_str().unwrap().contains("--timeout")), "{failed:#?}");
}

/// The finding of `check` on the resource named `name` with `status`.
fn finding<'a>(v: &'a Value, check: &str, name: &str, status: &str) -> &'a Value {
    v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["check_id"] == check && f["resource"]["name"] == name && f["status"] == status)
        .unwrap_or_else(|| panic!("no {status} {check} finding on {name}: {:#?}", verdicts(v)))
}

const MFA: &str = "azure_entra_privileged_role_mfa_registered";
const GUEST: &str = "azure_rbac_guest_privileged_role_absent";

#[test]
fn directory_role_privilege_is_microsofts_and_outside_identities_of_every_kind_are_found() {
    // fixtures/azure/entra_outsiders.json: the tenant plus Global Reader (privileged, not among the
    // 15 roles once kept by hand) held by judy, a custom role that resets passwords held by kim, a
    // role whose definition does not exist held by alice, leo eligible for the helpdesk group
    // through PIM for Groups, an invited guest without #EXT#, and a service principal of another
    // tenant that holds Contributor through a group on prod and Owner directly on dev.
    let Some(fake) = AzureFake::start("entra_outsiders.json", &[]) else { return };
    let cfg = trust_config(fake.dir.path());
    let (out, v) = fake.scan(&["--config", cfg.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let judy = finding(&v, MFA, "judy@contoso.example", "fail");
    assert!(judy["message"].as_str().unwrap().contains("Global Reader"), "{judy:#}");
    assert!(judy["evidence"]["privilege_source"].as_str().unwrap().starts_with("isPrivileged"), "{judy:#}");
    let kim = finding(&v, MFA, "kim@contoso.example", "fail");
    assert!(kim["message"].as_str().unwrap().contains("Password resetters"), "{kim:#}");
    let leo = finding(&v, MFA, "leo@contoso.example", "fail");
    assert_eq!(leo["evidence"]["eligible"], true, "{leo:#}");
    let unknown = finding(&v, MFA, "alice@contoso.example", "not_evaluated");
    assert!(unknown["message"].as_str().unwrap().contains("d00d0000-0000-4000-8000-00000000000d"), "{unknown:#}");
    finding(&v, GUEST, "ivan@contoso.example", "fail");
    let vendor: Vec<&Value> = v["findings"].as_array().unwrap().iter().filter(|f| f["check_id"] == GUEST && f["resource"]["name"] == "Third-party connector").collect();
    assert_eq!(vendor.len(), 2, "through vendor-apps on prod, directly on dev: {vendor:#?}");
    assert!(vendor.iter().all(|f| f["status"] == "fail" && f["evidence"]["outside_because"].as_str().unwrap().contains("29a4f813")), "{vendor:#?}");
    // The definitions in one bulk read from beta; members of every type; PIM for Groups per group.
    let reqs = fake.requests();
    let graph: Vec<&str> = reqs.iter().filter(|(s, _, _)| s == "graph").map(|(_, _, p)| p.as_str()).collect();
    assert_eq!(graph.iter().filter(|p| p.starts_with("/beta/roleManagement/directory/roleDefinitions?") && !p.contains("skiptoken")).count(), 1, "{graph:#?}");
    assert!(graph.iter().all(|p| !p.starts_with("/beta/") || p.starts_with("/beta/roleManagement/directory/roleDefinitions")), "{graph:#?}");
    assert!(graph.iter().any(|p| p.starts_with("/v1.0/groups/20000000-0000-4000-8000-000000000003/transitiveMembers?")), "{graph:#?}");
    assert!(graph.iter().any(|p| p.starts_with("/v1.0/identityGovernance/privilegedAccess/group/eligibilityScheduleInstances?") && p.contains("20000000-0000-4000-8000-000000000002")), "{graph:#?}");

    // Graph v1.0 only: no beta call; built-in roles by Microsoft's published list, and the finding
    // says so; the custom role still by its permissions.
    let before = fake.requests().len();
    let (out, v) = fake.scan(&["--config", cfg.to_str().unwrap(), "--azure-graph-v1-only"]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let later: Vec<_> = fake.requests().into_iter().skip(before).collect();
    assert!(!later.iter().any(|(_, _, p)| p.starts_with("/beta/")), "{later:#?}");
    assert!(later.iter().any(|(_, _, p)| p.starts_with("/v1.0/roleManagement/directory/roleDefinitions?")), "{later:#?}");
    let judy = finding(&v, MFA, "judy@contoso.example", "fail");
    assert!(judy["message"].as_str().unwrap().contains("published list"), "{judy:#}");
    assert!(judy["evidence"]["privilege_source"].as_str().unwrap().contains("fallback"), "{judy:#}");
    let kim = finding(&v, MFA, "kim@contoso.example", "fail");
    assert!(kim["evidence"]["privilege_source"].as_str().unwrap().contains("custom role"), "{kim:#}");
    finding(&v, MFA, "alice@contoso.example", "not_evaluated");
}

#[test]
fn a_cloud_without_graph_beta_falls_back_to_v1_0_visibly() {
    let Some(fake) = AzureFake::start("entra_outsiders.json", &["--no-beta"]) else { return };
    let (out, v) = fake.scan(&[]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let judy = finding(&v, MFA, "judy@contoso.example", "fail");
    assert!(judy["message"].as_str().unwrap().contains("published list"), "{judy:#}");
    let cov: Vec<&Value> = v["coverage"].as_array().unwrap().iter().filter(|c| c["dataset"] == "azure_directory_role_definitions").collect();
    assert_eq!(cov.len(), 1);
    assert_eq!(cov[0]["state"], "collected", "{cov:#?}");
}

#[test]
fn role_definitions_arrive_whole_and_referenced_ones_are_read_by_id() {
    let Some(fake) = AzureFake::start("tenant.json", &[]) else { return };
    let inv = fake.dir.path().join("inv.json");
    let out = fake.command(&["collect", "--azure", "--quiet", "--out", inv.to_str().unwrap()]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let snapshot: Value = serde_json::from_slice(&std::fs::read(&inv).unwrap()).unwrap();
    let prod = snapshot["azure"]["tenants"][0]["subscriptions"].as_array().unwrap().iter().find(|s| s["display_name"] == PROD).unwrap().clone();
    let defs = prod["role_definitions"]["collected"].as_array().unwrap();
    let role = |name: &str| defs.iter().find(|d| d["role_name"] == name).unwrap_or_else(|| panic!("{name} not read: {defs:#?}")).clone();
    // A listed built-in role keeps its data actions, per block.
    let officer = role("Key Vault Secrets Officer");
    assert_eq!(officer["permission_blocks"][0]["data_actions"], serde_json::json!(["Microsoft.KeyVault/vaults/secrets/*"]), "{officer:#}");
    // A custom role the subscription's list leaves out (assignable only at a resource group) is
    // read by its id because an assignment refers to it, every block whole.
    let rg_role = role("Vault key user (vault-rg)");
    assert_eq!(rg_role["permission_blocks"][1]["data_actions"], serde_json::json!(["Microsoft.KeyVault/vaults/keys/*"]), "{rg_role:#}");
    assert_eq!(rg_role["permission_blocks"][1]["not_data_actions"], serde_json::json!(["Microsoft.KeyVault/vaults/keys/delete"]));
    let reqs = fake.requests();
    assert!(
        reqs.iter().any(|(s, m, p)| s == "arm" && m == "GET" && p.starts_with("/subscriptions/a1000000-0000-4000-8000-000000000001/resourceGroups/vault-rg/providers/Microsoft.Authorization/roleDefinitions/c1000000-0000-4000-8000-000000000009?")),
        "{reqs:#?}"
    );
    // Roles that were listed are not read again one by one.
    assert!(!reqs.iter().any(|(_, _, p)| p.contains("roleDefinitions/8e3af657")), "{reqs:#?}");
}
