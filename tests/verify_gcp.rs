//! `portcullis verify` for GCP incidents, through the real collector against the GCP fake
//! (tests/support/gcp_fake.py) serving fixtures/gcp/incident.json changed per case: each item
//! judges all the evidence (who can get a compromised account back, by the permissions of their
//! roles), names follow GCP's rules (e-mails ignore case), and what cannot be seen is not a pass.

mod support;

use serde_json::{json, Value};

/// The response to IR-2026-078 as fixtures/gcp/incident.json shows it, the organization's
/// administrators on the response team.
const INCIDENT: &str = include_str!("../fixtures/gcp/incident.toml");

const TEAM: &str = include_str!("../fixtures/gcp/team.toml");

/// fixtures/gcp/incident.json (with the predefined roles of fixtures/gcp/predefined_roles.json)
/// changed by `edit`, served by the fake with `flags`; verify's JSON and exit code for `incident`.
fn run(edit: impl Fn(&mut Value), incident: &str, flags: &[&str]) -> Option<(Value, i32)> {
    let dir = tempfile::tempdir().unwrap();
    let root = env!("CARGO_MANIFEST_DIR");
    let mut org: Value = serde_json::from_str(&std::fs::read_to_string(format!("{root}/fixtures/gcp/incident.json")).unwrap()).unwrap();
    org["predefined_roles"] = serde_json::from_str(&std::fs::read_to_string(format!("{root}/fixtures/gcp/predefined_roles.json")).unwrap()).unwrap();
    edit(&mut org);
    let scenario = dir.path().join("org.json");
    std::fs::write(&scenario, org.to_string()).unwrap();
    let fake = support::gcp::GcpFake::start(scenario.to_str().unwrap(), flags)?;
    let inc = dir.path().join("incident.toml");
    std::fs::write(&inc, incident).unwrap();
    let out = fake
        .command(&["verify", "--incident", inc.to_str().unwrap(), "--gcp", "--gcp-organization", support::gcp::ORG, "--json", "-", "-q", "--now", "2026-11-30T12:00:00Z"])
        .output()
        .unwrap();
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
    Some((doc, out.status.code().unwrap()))
}

fn items<'a>(doc: &'a Value, kind: &str) -> Vec<&'a Value> {
    doc["items"].as_array().unwrap().iter().filter(|i| i["kind"] == kind).collect()
}

/// The one item of `kind` (for `principal`, or on that resource, when given) has `status`, and its text names every
/// needle; the incident is then verified only when every item passes.
fn expect(what: &str, doc: &Value, code: i32, kind: &str, principal: Option<&str>, status: &str, needles: &[&str]) {
    let found: Vec<&Value> = items(doc, kind).into_iter().filter(|i| principal.is_none_or(|p| i["principal"] == p || i["resource"] == p)).collect();
    assert_eq!(found.len(), 1, "{what}: {kind} for {principal:?}: {doc:#}");
    let it = found[0];
    assert_eq!(it["status"], status, "{what}: {it:#}");
    let text = it.to_string().to_ascii_lowercase();
    for n in needles {
        assert!(text.contains(&n.to_ascii_lowercase()), "{what}: {n:?} not in {it:#}");
    }
    let verified = doc["items"].as_array().unwrap().iter().all(|i| i["status"] == "pass");
    assert_eq!((doc["result"].as_str(), code), (if verified { (Some("verified"), 0) } else { (Some("not_verified"), 1) }), "{what}");
    if status != "pass" {
        assert_eq!(code, 1, "{what}");
    }
}

fn builder(o: &mut Value) -> &mut Value {
    &mut o["service_accounts"]["ci-tools"][0]
}

fn account<'a>(o: &'a mut Value, project: &str, email: &str) -> &'a mut Value {
    o["service_accounts"][project].as_array_mut().unwrap().iter_mut().find(|a| a["email"] == email).unwrap()
}

fn bind(o: &mut Value, resource: &str, role: &str, member: &str) {
    let pol = &mut o["policies"][resource];
    if pol.is_null() {
        *pol = json!({"version": 1, "etag": "BwXX", "bindings": []});
    }
    pol["bindings"].as_array_mut().unwrap().push(json!({"role": role, "members": [member]}));
}

fn bind_on_account(a: &mut Value, role: &str, member: &str) {
    if a["policy"].is_null() {
        a["policy"] = json!({"version": 1, "etag": "ACAB", "bindings": []});
    }
    a["policy"]["bindings"].as_array_mut().unwrap().push(json!({"role": role, "members": [member]}));
}

const CI_TOOLS: &str = "projects/300000000004";
const PROD_PAYMENTS: &str = "projects/300000000001";
const FOLDER: &str = "folders/200000000001";
const BUILDER: &str = "builder@ci-tools.iam.gserviceaccount.com";

/// The fixture as it stands, with the administrators on the team: every item passes.
#[test]
fn the_complete_response_is_verified() {
    let incident = format!("{INCIDENT}{TEAM}");
    let Some((doc, code)) = run(|_| {}, &incident, &[]) else { return };
    let open: Vec<&Value> = doc["items"].as_array().unwrap().iter().filter(|i| i["status"] != "pass").collect();
    assert!(open.is_empty(), "{open:#?}");
    assert_eq!(code, 0);
    expect("complete", &doc, code, "gcp_service_account_grants", None, "pass", &["policies carry no dates"]);
}

/// Containment: a disabled account (or one without keys) is not contained while a principal
/// outside the response team can mint tokens or keys for it, act as it or enable it: on its own
/// policy, its project, its folder or its organization, by the permissions of the role.
#[test]
fn containment_fails_while_someone_outside_the_team_can_get_the_account_back() {
    let incident = format!("{INCIDENT}{TEAM}");
    // A Gmail user with Token Creator on the disabled account's own policy.
    let Some((doc, code)) = run(|o| bind_on_account(builder(o), "roles/iam.serviceAccountTokenCreator", "user:helper.dev@gmail.com"), &incident, &[]) else { return };
    expect("gmail token creator", &doc, code, "gcp_service_account_locked", Some(&format!("serviceAccount:{BUILDER}")), "fail", &[
        "user:helper.dev@gmail.com",
        "roles/iam.serviceAccountTokenCreator",
        "projects/ci-tools/serviceAccounts/builder@ci-tools.iam.gserviceaccount.com",
        "iam.serviceAccounts.getAccessToken",
    ]);
    // Another organization's service account, spelled in mixed case, on the account.
    let Some((doc, code)) =
        run(|o| bind_on_account(builder(o), "roles/iam.serviceAccountTokenCreator", "serviceAccount:Relay@Vendor-Tools.iam.gserviceaccount.com"), &incident, &[])
    else {
        return;
    };
    expect("another org's account", &doc, code, "gcp_service_account_locked", Some(&format!("serviceAccount:{BUILDER}")), "fail", &["relay@vendor-tools.iam.gserviceaccount.com"]);
    // A custom role with iam.serviceAccountKeys.create on the account's project, held by an
    // insider who is not on the team.
    let custom = |o: &mut Value| {
        o["custom_roles"] = json!({"projects/ci-tools": [{"name": "projects/ci-tools/roles/keyRotator", "title": "Key rotator", "includedPermissions": ["iam.serviceAccountKeys.create", "iam.serviceAccountKeys.list", "iam.serviceAccounts.get"], "stage": "GA", "etag": "BwXl9CGqFZA="}]});
        bind(o, CI_TOOLS, "projects/ci-tools/roles/keyRotator", "user:contractor@example.com");
    };
    let Some((doc, code)) = run(custom, &incident, &[]) else { return };
    expect("custom key creator on the project", &doc, code, "gcp_service_account_locked", Some(&format!("serviceAccount:{BUILDER}")), "fail", &[
        "user:contractor@example.com",
        "projects/ci-tools/roles/keyRotator",
        "projects/300000000004",
        "iam.serviceAccountKeys.create",
    ]);
    // The same holder on the response team (spelled otherwise): contained, and verified.
    let with_contractor = format!("{INCIDENT}\n[response]\nteam = [\"group:gcp-admins@example.com\", \"User:Contractor@EXAMPLE.com\"]\n");
    let Some((doc, code)) = run(custom, &with_contractor, &[]) else { return };
    expect("team member holds it", &doc, code, "gcp_service_account_locked", Some(&format!("serviceAccount:{BUILDER}")), "pass", &["disabled"]);
    assert_eq!(code, 0, "{doc:#}");
    // The organization administrators can grant themselves all of it: without them on the team,
    // they are named.
    let Some((doc, code)) = run(|_| {}, INCIDENT, &[]) else { return };
    expect("administrators not on the team", &doc, code, "gcp_service_account_locked", Some(&format!("serviceAccount:{BUILDER}")), "fail", &[
        "group:gcp-admins@example.com",
        "roles/resourcemanager.organizationAdmin",
        "organizations/111111111111",
        "setIamPolicy",
    ]);
}

/// actAs with a permission that runs code, granted on the folder above the account's project.
#[test]
fn containment_fails_on_act_as_and_run_code_inherited_from_a_folder() {
    let incident = format!("{INCIDENT}{TEAM}\n[[compromised]]\nprincipal = \"serviceAccount:etl@prod-payments.iam.gserviceaccount.com\"\n");
    let edit = |o: &mut Value| {
        o["service_accounts"]["prod-payments"].as_array_mut().unwrap().push(json!({"email": "etl@prod-payments.iam.gserviceaccount.com", "uniqueId": "400000000000000000009", "displayName": "etl", "disabled": true, "keys": []}));
        bind(o, FOLDER, "roles/backupdr.computeEngineOperator", "group:backup-ops@example.com");
    };
    let Some((doc, code)) = run(edit, &incident, &[]) else { return };
    expect("folder actAs + run code", &doc, code, "gcp_service_account_locked", Some("serviceAccount:etl@prod-payments.iam.gserviceaccount.com"), "fail", &[
        "group:backup-ops@example.com",
        "roles/backupdr.computeEngineOperator",
        "folders/200000000001",
        "compute.instances.create",
    ]);
    // Enabling the account undoes its disable: a role with iam.serviceAccounts.enable fails too.
    let edit = |o: &mut Value| {
        o["service_accounts"]["prod-payments"].as_array_mut().unwrap().push(json!({"email": "etl@prod-payments.iam.gserviceaccount.com", "uniqueId": "400000000000000000009", "displayName": "etl", "disabled": true, "keys": [
            {"name": "projects/prod-payments/serviceAccounts/etl@prod-payments.iam.gserviceaccount.com/keys/e1", "validAfterTime": "2025-01-01T00:00:00Z", "validBeforeTime": "9999-12-31T23:59:59Z", "keyAlgorithm": "KEY_ALG_RSA_2048", "keyOrigin": "GOOGLE_PROVIDED", "keyType": "USER_MANAGED"}
        ]}));
        o["custom_roles"] = json!({"organizations/111111111111": [{"name": "organizations/111111111111/roles/saLifecycle", "title": "SA lifecycle", "includedPermissions": ["iam.serviceAccounts.enable", "iam.serviceAccounts.disable", "iam.serviceAccounts.get"], "stage": "GA", "etag": "BwXl9CGqFZA="}]});
        bind(o, "organizations/111111111111", "organizations/111111111111/roles/saLifecycle", "user:ops.oncall@example.com");
    };
    let Some((doc, code)) = run(edit, &incident, &[]) else { return };
    expect("enable from the organization", &doc, code, "gcp_service_account_locked", Some("serviceAccount:etl@prod-payments.iam.gserviceaccount.com"), "fail", &[
        "user:ops.oncall@example.com",
        "iam.serviceAccounts.enable",
    ]);
}

/// A role whose permissions were not read is not a pass: named, not evaluated.
#[test]
fn a_role_not_read_held_outside_the_team_is_not_evaluated() {
    let incident = format!("{INCIDENT}{TEAM}");
    // A custom role the project does not define (deleted from the list the fake serves).
    let Some((doc, code)) = run(|o| bind_on_account(builder(o), "projects/ci-tools/roles/legacyMinter", "user:old.vendor@example.com"), &incident, &[]) else { return };
    expect("custom role not read", &doc, code, "gcp_service_account_locked", Some(&format!("serviceAccount:{BUILDER}")), "not_evaluated", &["projects/ci-tools/roles/legacyMinter", "user:old.vendor@example.com"]);
    // A predefined role missing from the catalogue read.
    let edit = |o: &mut Value| {
        o["predefined_roles"].as_array_mut().unwrap().retain(|r| r["name"] != "roles/iam.serviceAccountUser");
        bind(o, CI_TOOLS, "roles/iam.serviceAccountUser", "user:release.bot@example.com");
    };
    let Some((doc, code)) = run(edit, &incident, &[]) else { return };
    expect("predefined role not read", &doc, code, "gcp_service_account_locked", Some(&format!("serviceAccount:{BUILDER}")), "not_evaluated", &["roles/iam.serviceAccountUser"]);
    // Held only by the team, an unknown role does not matter.
    let edit = |o: &mut Value| bind_on_account(builder(o), "projects/ci-tools/roles/legacyMinter", "group:GCP-Admins@example.com");
    let Some((doc, code)) = run(edit, &incident, &[]) else { return };
    expect("unknown role held by the team", &doc, code, "gcp_service_account_locked", Some(&format!("serviceAccount:{BUILDER}")), "pass", &[]);
}

/// E-mails ignore case: an account named in upper case is the same account, deleted or not.
#[test]
fn an_account_spelled_in_upper_case_is_the_same_account() {
    let incident = format!("{INCIDENT}{TEAM}").replace("\"builder@ci-tools.iam.gserviceaccount.com\"", "\"serviceAccount:BUILDER@CI-TOOLS.IAM.GSERVICEACCOUNT.COM\"").replace(
        "serviceAccount:old-sync@prod-payments.iam.gserviceaccount.com",
        "serviceAccount:Old-Sync@Prod-Payments.IAM.gserviceaccount.com",
    );
    let Some((doc, code)) = run(|_| {}, &incident, &[]) else { return };
    expect("upper-case, contained", &doc, code, "gcp_service_account_locked", Some("serviceAccount:BUILDER@CI-TOOLS.IAM.GSERVICEACCOUNT.COM"), "pass", &["disabled"]);
    expect("mixed-case, deleted", &doc, code, "gcp_service_account_deleted", Some("serviceAccount:Old-Sync@Prod-Payments.IAM.gserviceaccount.com"), "pass", &["prod-payments"]);
    assert_eq!(code, 0, "{doc:#}");
    let Some((doc, code)) = run(|o| bind_on_account(builder(o), "roles/iam.serviceAccountTokenCreator", "user:helper.dev@gmail.com"), &incident, &[]) else { return };
    expect("upper-case, outsider", &doc, code, "gcp_service_account_locked", Some("serviceAccount:BUILDER@CI-TOOLS.IAM.GSERVICEACCOUNT.COM"), "fail", &["user:helper.dev@gmail.com"]);
}

/// A deleted account is back with its bindings when undeleted: whoever outside the team can
/// undelete it has it.
#[test]
fn a_deleted_account_that_an_outsider_can_undelete_is_not_contained() {
    let incident = format!("{INCIDENT}{TEAM}");
    let edit = |o: &mut Value| {
        bind(o, PROD_PAYMENTS, "roles/iam.serviceAccountAdmin", "user:eve.contractor@outlook.com");
        bind(o, PROD_PAYMENTS, "roles/bigquery.dataViewer", "deleted:serviceAccount:old-sync@prod-payments.iam.gserviceaccount.com?uid=400000000000000000003");
    };
    let Some((doc, code)) = run(edit, &incident, &[]) else { return };
    expect("undelete by an outsider", &doc, code, "gcp_service_account_deleted", Some("serviceAccount:old-sync@prod-payments.iam.gserviceaccount.com"), "fail", &[
        "user:eve.contractor@outlook.com",
        "iam.serviceAccounts.undelete",
    ]);
    let it = items(&doc, "gcp_service_account_deleted")[0];
    assert_eq!(it["evidence"]["deleted_bindings"].as_array().unwrap().len(), 1, "{it:#}");
}

/// A compromised user still holds what a binding to it, in any spelling, or to its domain
/// grants; a deleted member of the same address is not it.
#[test]
fn a_compromised_user_holds_bindings_in_any_spelling_and_through_its_domain() {
    let incident = format!("{INCIDENT}{TEAM}");
    let mallory = Some("user:dev.mallory@example.com");
    // A principal identifier, upper case, on a service account's own policy.
    let edit = |o: &mut Value| bind_on_account(account(o, "prod-payments", "deployer@prod-payments.iam.gserviceaccount.com"), "roles/iam.serviceAccountUser", "principal://goog/subject/DEV.MALLORY@EXAMPLE.COM");
    let Some((doc, code)) = run(edit, &incident, &[]) else { return };
    expect("principal identifier on an account", &doc, code, "gcp_member_bindings_removed", mallory, "fail", &["deployer@prod-payments.iam.gserviceaccount.com", "roles/iam.serviceAccountUser"]);
    // The domain holds a role on the folder.
    let Some((doc, code)) = run(|o| bind(o, FOLDER, "roles/browser", "domain:Example.com"), &incident, &[]) else { return };
    expect("domain binding", &doc, code, "gcp_member_bindings_removed", mallory, "fail", &["domain:Example.com", "folders/200000000001", "Google Workspace"]);
    // A deleted user of the same address is another account: reported, not held.
    let Some((doc, code)) = run(|o| bind(o, FOLDER, "roles/browser", "deleted:user:dev.mallory@example.com?uid=1234567890"), &incident, &[]) else { return };
    expect("deleted namesake", &doc, code, "gcp_member_bindings_removed", mallory, "pass", &[]);
    let it = items(&doc, "gcp_member_bindings_removed")[0];
    assert_eq!(it["evidence"]["deleted_bindings"].as_array().unwrap().len(), 1, "{it:#}");
}

/// A restored user's Workspace password and 2-Step Verification cannot be seen: never a pass.
#[test]
fn a_restored_user_is_not_evaluated() {
    let incident = format!("{INCIDENT}{TEAM}\n[[restored]]\nprincipal = \"user:Dev.Mallory@example.com\"\nsigned_off_by = \"ciso@example.com\"\nreference = \"IR-2026-078-mallory\"\n");
    let Some((doc, code)) = run(|_| {}, &incident, &[]) else { return };
    expect("restored user", &doc, code, "gcp_member_restored", Some("user:dev.mallory@example.com"), "not_evaluated", &["IR-2026-078-mallory", "2-Step Verification", "Admin console"]);
    assert_eq!(items(&doc, "gcp_member_bindings_removed").len(), 0, "{doc:#}");
}

/// Persistence: grants on service accounts in scope that let the public, an outsider or a
/// compromised principal act as them fail, naming each, whenever they were made.
#[test]
fn grants_on_service_accounts_to_outsiders_or_compromised_principals_fail_persistence() {
    let incident = format!("{INCIDENT}{TEAM}");
    let deployer = "deployer@prod-payments.iam.gserviceaccount.com";
    for (what, member, role, on_account) in [
        ("another organization's account", "serviceAccount:sync@partner-etl.iam.gserviceaccount.com", "roles/iam.serviceAccountTokenCreator", true),
        ("the public", "allAuthenticatedUsers", "roles/iam.serviceAccountUser", true),
        ("a gmail user on the project", "user:night.shift@gmail.com", "roles/iam.serviceAccountKeyAdmin", false),
        ("the compromised user, deleted", "deleted:user:dev.mallory@example.com?uid=77", "roles/iam.serviceAccountTokenCreator", true),
        ("the compromised account", "serviceAccount:BUILDER@ci-tools.iam.gserviceaccount.com", "roles/iam.serviceAccountTokenCreator", true),
        ("the compromised user by its principal identifier", "principal://goog/subject/Dev.Mallory@example.com", "roles/iam.serviceAccountUser", true),
    ] {
        let edit = |o: &mut Value| {
            if on_account {
                bind_on_account(account(o, "prod-payments", deployer), role, member)
            } else {
                bind(o, PROD_PAYMENTS, role, member)
            }
        };
        let Some((doc, code)) = run(edit, &incident, &[]) else { return };
        expect(what, &doc, code, "gcp_service_account_grants", None, "fail", &[member, role, "no dates", deployer]);
    }
    // An insider not on the team holding the same is the organization's business, not a way back.
    let Some((doc, code)) = run(|o| bind_on_account(account(o, "prod-payments", deployer), "roles/iam.serviceAccountTokenCreator", "group:release@example.com"), &incident, &[]) else { return };
    expect("insider", &doc, code, "gcp_service_account_grants", None, "pass", &[]);
}

/// An account that can still sign: the accounts it can become are in the evidence.
#[test]
fn an_account_that_can_still_sign_shows_what_it_can_become() {
    let incident = format!("{INCIDENT}{TEAM}");
    let edit = |o: &mut Value| {
        builder(o)["disabled"] = false.into();
        builder(o)["keys"][0]["disabled"] = false.into();
        bind_on_account(account(o, "prod-payments", "deployer@prod-payments.iam.gserviceaccount.com"), "roles/iam.serviceAccountTokenCreator", "serviceAccount:builder@ci-tools.iam.gserviceaccount.com");
    };
    let Some((doc, code)) = run(edit, &incident, &[]) else { return };
    expect("not locked", &doc, code, "gcp_service_account_locked", Some(&format!("serviceAccount:{BUILDER}")), "fail", &["can still sign"]);
    let it = items(&doc, "gcp_service_account_locked")[0];
    assert!(it["evidence"]["can_become"].to_string().contains("deployer@prod-payments.iam.gserviceaccount.com"), "{it:#}");
}

/// Scope: a project whose service accounts (or IAM policy) were not read is named.
#[test]
fn a_project_not_read_whole_is_named() {
    let incident = format!("{INCIDENT}{TEAM}");
    let Some((doc, code)) = run(|_| {}, &incident, &["--deny", "/v1/projects/ci-tools/serviceAccounts", "--deny-permission", "iam.serviceAccounts.list"]) else { return };
    expect("service accounts denied", &doc, code, "gcp_project_read", Some("ci-tools"), "not_evaluated", &["ci-tools", "iam.serviceAccounts.list"]);
    let Some((doc, code)) = run(|_| {}, &incident, &["--asset-disabled", "--deny", "/v3/projects/300000000004:getIamPolicy"]) else { return };
    expect("policy denied", &doc, code, "gcp_project_read", Some("ci-tools"), "not_evaluated", &["ci-tools", "resourcemanager.projects.getIamPolicy"]);
    let Some((doc, code)) = run(|_| {}, &incident.replace("[\"prod-payments\", \"ci-tools\"]", "[\"prod-payments\", \"ci-tools\", \"billing-archive\"]"), &[]) else { return };
    expect("project not in the organization", &doc, code, "gcp_project_read", Some("billing-archive"), "not_evaluated", &["billing-archive"]);
}

/// Enabled without a usable key: passed only when it cannot have left code running as itself
/// (workloads are not read); one that acts as itself and runs code is not evaluated.
#[test]
fn an_enabled_account_without_keys_that_can_run_code_as_itself_is_not_evaluated() {
    let incident = format!("{INCIDENT}{TEAM}");
    let Some((doc, code)) = run(|o| builder(o)["disabled"] = false.into(), &incident, &[]) else { return };
    expect("enabled, no key, no actAs", &doc, code, "gcp_service_account_locked", Some(&format!("serviceAccount:{BUILDER}")), "pass", &["none of its user-managed keys can sign"]);
    // actAs on itself (its own policy) and cloudbuild.builds.create on its project.
    let edit = |o: &mut Value| {
        builder(o)["disabled"] = false.into();
        bind_on_account(builder(o), "roles/iam.serviceAccountUser", "serviceAccount:Builder@ci-tools.iam.gserviceaccount.com");
    };
    let Some((doc, code)) = run(edit, &incident, &[]) else { return };
    expect("enabled, no key, runs code as itself", &doc, code, "gcp_service_account_locked", Some(&format!("serviceAccount:{BUILDER}")), "not_evaluated", &[
        "roles/iam.serviceAccountUser",
        "roles/cloudbuild.builds.builder",
        "cloudbuild.builds.create",
        "disable it",
    ]);
}

/// Google-managed accounts are not principals anyone signs in as: a service agent of a project
/// read (its users need actAs, judged as theirs) and the Google APIs service agent (Editor by
/// default) do not fail containment themselves; whoever can make the latter act does.
#[test]
fn google_managed_accounts_count_through_who_makes_them_act() {
    let incident = format!("{INCIDENT}{TEAM}");
    let agents = |o: &mut Value| {
        bind(o, CI_TOOLS, "roles/editor", "serviceAccount:300000000004@cloudservices.gserviceaccount.com");
        bind(o, CI_TOOLS, "roles/iam.serviceAccountTokenCreator", "serviceAccount:service-300000000004@gcp-sa-cloudscheduler.iam.gserviceaccount.com");
    };
    let Some((doc, code)) = run(agents, &incident, &[]) else { return };
    expect("own agents", &doc, code, "gcp_service_account_locked", Some(&format!("serviceAccount:{BUILDER}")), "pass", &[]);
    // Another project's agent acts for whoever controls that project.
    let Some((doc, code)) = run(|o| bind(o, CI_TOOLS, "roles/iam.serviceAccountTokenCreator", "serviceAccount:service-987654321098@gcp-sa-cloudscheduler.iam.gserviceaccount.com"), &incident, &[]) else { return };
    expect("another project's agent", &doc, code, "gcp_service_account_locked", Some(&format!("serviceAccount:{BUILDER}")), "fail", &["service-987654321098@gcp-sa-cloudscheduler"]);
    // A Deployment Manager editor makes the Google APIs service agent (Editor) create a key.
    let Some((doc, code)) = run(|o| {
        agents(o);
        bind(o, CI_TOOLS, "roles/deploymentmanager.editor", "user:infra.temp@gmail.com");
    }, &incident, &[]) else { return };
    expect("through the Google APIs agent", &doc, code, "gcp_service_account_locked", Some(&format!("serviceAccount:{BUILDER}")), "fail", &[
        "user:infra.temp@gmail.com",
        "deploymentmanager.deployments.create",
        "300000000004@cloudservices.gserviceaccount.com",
        "iam.serviceAccountKeys.create",
    ]);
}

/// A compromised group holds what a binding to it grants, named as a principal set too.
#[test]
fn a_compromised_group_holds_bindings_named_as_a_principal_set() {
    let incident = format!("{INCIDENT}{TEAM}\n[[compromised]]\nprincipal = \"group:Build-Admins@example.com\"\n");
    let Some((doc, code)) = run(|o| bind(o, CI_TOOLS, "roles/cloudbuild.builds.editor", "principalSet://goog/group/build-admins@EXAMPLE.com"), &incident, &[]) else { return };
    expect("principal set", &doc, code, "gcp_member_bindings_removed", Some("group:Build-Admins@example.com"), "fail", &["roles/cloudbuild.builds.editor", "projects/300000000004"]);
    let Some((doc, code)) = run(|_| {}, &incident, &[]) else { return };
    expect("nothing bound", &doc, code, "gcp_member_bindings_removed", Some("group:Build-Admins@example.com"), "pass", &[]);
    assert_eq!(code, 0, "{doc:#}");
}
