//! `portcullis verify` for Entra principals, live: the real Azure collector against the local fake
//! (tests/support/azure_fake.py) serving fixtures/azure/incident.json, edited per case. Each case
//! is a way the attacker can still act or come back that one dataset alone does not show; each is
//! spelled in a way the fixture does not use (upper-case GUIDs, group-held and eligible roles,
//! owners of the service principal rather than the registration, a guest by `userType` alone).

mod support;

use serde_json::{json, Value};

const SUB: &str = "a1000000-0000-4000-8000-000000000001";
const ALICE: &str = "10000000-0000-4000-8000-000000000001";
const BOB: &str = "10000000-0000-4000-8000-000000000002";
const DEPLOY_SP: &str = "30000000-0000-4000-8000-000000000001";
const BILLING_SP: &str = "30000000-0000-4000-8000-000000000002";
const MI_SP: &str = "30000000-0000-4000-8000-000000000003";
const OWNER: &str = "8e3af657-a8ff-443c-a75c-2fe8c4bcb635";
const KV_ADMIN: &str = "00482a5a-887f-4fb3-b363-3b7fe8e74483";

/// The response to IR-2026-077 as tests/verify.rs has it (alice, the deploy-pipeline app, svc-sync
/// deleted, bob restored), with carol on the response team.
const INCIDENT: &str = include_str!("../fixtures/azure/incident.toml");

/// The fixture changed by `edit`, served by the fake started with `flags`; verify's JSON and exit
/// code for `incident`, and every request the fake saw.
fn verify_with(edit: impl Fn(&mut Value), incident: &str, flags: &[&str]) -> Option<(Value, i32, Vec<(String, String, String)>)> {
    let dir = tempfile::tempdir().unwrap();
    let mut tenant: Value = serde_json::from_str(&std::fs::read_to_string(format!("{}/fixtures/azure/incident.json", env!("CARGO_MANIFEST_DIR"))).unwrap()).unwrap();
    edit(&mut tenant);
    let scenario = dir.path().join("tenant.json");
    std::fs::write(&scenario, tenant.to_string()).unwrap();
    let fake = support::azure::AzureFake::start(scenario.to_str().unwrap(), flags)?;
    let inc = dir.path().join("incident.toml");
    std::fs::write(&inc, incident).unwrap();
    let out = fake.command(&["verify", "--incident", inc.to_str().unwrap(), "--azure", "--azure-subscriptions", SUB, "--json", "-", "-q", "--now", "2026-11-30T12:00:00Z"]).output().unwrap();
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
    Some((doc, out.status.code().unwrap(), fake.requests()))
}

fn verify(edit: impl Fn(&mut Value)) -> Option<(Value, i32)> {
    verify_with(edit, INCIDENT, &[]).map(|(d, c, _)| (d, c))
}

/// The item of `kind` for `principal` (any principal when `None`).
fn item<'a>(doc: &'a Value, kind: &str, principal: Option<&str>) -> &'a Value {
    doc["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["kind"] == kind && principal.is_none_or(|p| i["principal"] == p))
        .unwrap_or_else(|| panic!("no {kind} for {principal:?}: {doc:#}"))
}

/// The item has `status` in `part`, its message names every needle, and verification fails.
fn assert_item(doc: &Value, code: i32, kind: &str, principal: Option<&str>, status: &str, part: &str, needles: &[&str]) {
    let it = item(doc, kind, principal);
    assert_eq!((it["status"].as_str(), it["part"].as_str()), (Some(status), Some(part)), "{it:#}");
    let text = it.to_string();
    for n in needles {
        assert!(text.contains(n), "{n:?} not in {it:#}");
    }
    assert_eq!((doc["result"].as_str(), code), (Some("not_verified"), 1), "{doc:#}");
}

fn users(t: &mut Value) -> &mut Vec<Value> {
    t["graph"]["users"].as_array_mut().unwrap()
}

fn sub(t: &mut Value) -> &mut Value {
    &mut t["subscriptions"][0]
}

/// A role definition in the ARM shape (Role Definitions - List / Get).
fn role_definition(guid: &str, name: &str, actions: &[&str], data_actions: &[&str]) -> Value {
    json!({
        "id": format!("/subscriptions/{SUB}/providers/Microsoft.Authorization/roleDefinitions/{guid}"),
        "name": guid, "type": "Microsoft.Authorization/roleDefinitions",
        "properties": {"roleName": name, "type": "BuiltInRole", "description": name, "assignableScopes": ["/"],
                       "permissions": [{"actions": actions, "notActions": [], "dataActions": data_actions, "notDataActions": []}]}
    })
}

fn owner_definition() -> Value {
    role_definition(OWNER, "Owner", &["*"], &[])
}

/// A role assignment or eligibility schedule instance in the ARM shape.
fn arm_assignment(kind: &str, n: u32, role: &str, principal: &str, principal_type: &str, created: &str) -> Value {
    let name = format!("0000{n:04x}-0000-4000-8000-00000000a000");
    json!({
        "id": format!("/subscriptions/{SUB}/providers/Microsoft.Authorization/{kind}/{name}"), "name": name, "type": format!("Microsoft.Authorization/{kind}"),
        "properties": {"scope": format!("/subscriptions/{SUB}"), "roleDefinitionId": format!("/subscriptions/{SUB}/providers/Microsoft.Authorization/roleDefinitions/{role}"),
                       "principalId": principal, "principalType": principal_type, "condition": null, "conditionVersion": null, "createdOn": created, "memberType": "Direct", "status": "Provisioned"}
    })
}

#[test]
fn a_managed_identity_with_no_azure_role_but_a_directory_role_fails() {
    // The identity is named by its appId in upper case; Global Administrator by its template id
    // in upper case, as Graph may spell it.
    let incident = INCIDENT.replace("[[restored]]", "[[compromised]]\nprincipal = \"A9000000-0000-4000-8000-000000000098\"\n\n[[restored]]");
    let edit = |t: &mut Value| {
        t["graph"]["directory_roles"] = json!([{"id": "lAPpYvVpN0KRkAEhdxReEJC2sEqbR_9Hr48lds9SGHI-1", "principalId": MI_SP, "roleDefinitionId": "62E90394-69F5-4237-9190-012177145E10", "directoryScopeId": "/"}]);
        t["graph"]["directory_role_definitions"] = json!([{"id": "62e90394-69f5-4237-9190-012177145e10", "templateId": "62e90394-69f5-4237-9190-012177145e10", "displayName": "Global Administrator",
                                                            "isBuiltIn": true, "isEnabled": true, "isPrivileged": true, "rolePermissions": [{"allowedResourceActions": ["microsoft.directory/*"]}]}]);
    };
    let Some((doc, code, _)) = verify_with(edit, &incident, &[]) else { return };
    assert_item(&doc, code, "azure_principal_roles_removed", Some("a9000000-0000-4000-8000-000000000098"), "fail", "containment", &["managed identity mi-automation", "Global Administrator", "privileged", MI_SP]);
    // The same item judged the other principals, and they hold nothing.
    assert_eq!(item(&doc, "azure_principal_roles_removed", Some("alice@contoso.example"))["status"], "pass", "{doc:#}");
}

#[test]
fn a_user_holding_a_role_through_a_group_fails() {
    const GROUP: &str = "20000000-0000-4000-8000-0000000000c1";
    let kv_admin = role_definition(
        KV_ADMIN,
        "Key Vault Administrator",
        &["Microsoft.Authorization/*/read", "Microsoft.Resources/deployments/*", "Microsoft.KeyVault/vaults/*/read"],
        &["Microsoft.KeyVault/vaults/*"],
    );
    // A member of the group, then only eligible for it through PIM for Groups.
    for eligible_only in [false, true] {
        let kv_admin = kv_admin.clone();
        let edit = move |t: &mut Value| {
            let members = if eligible_only { json!([]) } else { json!([ALICE]) };
            t["graph"]["groups"] = json!({ GROUP: members });
            t["graph"]["group_names"] = json!({ GROUP: "vault-operators" });
            if eligible_only {
                t["graph"]["group_eligibility"] = json!({ GROUP: [{"principalId": ALICE}] });
            }
            sub(t)["role_definitions"] = json!([kv_admin.clone()]);
            sub(t)["role_assignments"].as_array_mut().unwrap().push(arm_assignment("roleAssignments", 1, KV_ADMIN, GROUP, "Group", "2025-06-01T00:00:00Z"));
        };
        let Some((doc, code)) = verify(edit) else { return };
        let needles: &[&str] = if eligible_only { &["eligible for", GROUP, "Key Vault Administrator", "privileged"] } else { &["through group", GROUP, "Key Vault Administrator", "privileged"] };
        assert_item(&doc, code, "azure_principal_roles_removed", Some("alice@contoso.example"), "fail", "containment", needles);
    }
}

#[test]
fn a_guest_made_eligible_for_owner_inside_the_window_fails() {
    const IVAN: &str = "10000000-0000-4000-8000-0000000000e1";
    let edit = |t: &mut Value| {
        // A guest by userType alone: its UPN has no #EXT#, and it was invited long before.
        users(t).push(json!({"id": IVAN, "userPrincipalName": "ivan@fabrikam.example", "userType": "Guest", "creationType": "Invitation", "accountEnabled": true, "createdDateTime": "2025-02-01T09:00:00Z"}));
        sub(t)["role_definitions"] = json!([owner_definition()]);
        sub(t)["role_eligibility"] = json!([arm_assignment("roleEligibilityScheduleInstances", 2, OWNER, IVAN, "User", "2026-11-28T07:15:00.000Z")]);
    };
    let Some((doc, code)) = verify(edit) else { return };
    assert_item(&doc, code, "azure_window_role_assignments_absent", None, "fail", "persistence", &["guest ivan@fabrikam.example made eligible for Owner", "does everything", "\"eligible\":true"]);
}

#[test]
fn a_restored_user_whose_password_was_not_changed_fails() {
    // Changed before containment: the attacker may know it. Not given: unknown, never a pass.
    for (when, status, needle) in [(json!("2026-10-01T08:00:00Z"), "fail", "with the password it had before containment"), (Value::Null, "not_evaluated", "lastPasswordChangeDateTime")] {
        let edit = move |t: &mut Value| {
            users(t)[1]["lastPasswordChangeDateTime"] = when.clone();
        };
        let Some((doc, code)) = verify(edit) else { return };
        assert_item(&doc, code, "azure_user_restored_password_changed", Some(BOB), status, "recovery", &[needle]);
    }
}

#[test]
fn a_restored_guest_is_not_evaluated_never_passed() {
    // `userType` spelled in lower case; sessions revoked here after containment, which does not
    // reach its home tenant.
    let edit = |t: &mut Value| {
        users(t)[1]["userType"] = "guest".into();
        users(t)[1]["creationType"] = "Invitation".into();
    };
    let Some((doc, code)) = verify(edit) else { return };
    assert_item(&doc, code, "azure_user_restored_with_sessions_revoked", Some(BOB), "not_evaluated", "recovery", &["guest", "home tenant"]);
    assert_eq!(item(&doc, "azure_user_restored_password_changed", Some(BOB))["status"], "not_evaluated", "{doc:#}");
}

#[test]
fn an_app_owned_by_the_compromised_user_fails() {
    // alice owns billing-export's service principal (not its registration).
    let edit = |t: &mut Value| {
        t["graph"]["owners"][BILLING_SP] = json!([ALICE]);
    };
    let Some((doc, code)) = verify(edit) else { return };
    assert_item(&doc, code, "azure_principal_owned_apps_removed", Some("alice@contoso.example"), "fail", "containment", &["servicePrincipal billing-export", BILLING_SP]);
}

#[test]
fn a_compromised_apps_owner_outside_the_response_team_fails() {
    // Owners of deploy-pipeline's service principal: bob (restored, but not a responder) and
    // another app's service principal; carol, who owns the registration, is on the team.
    let edit = |t: &mut Value| {
        t["graph"]["owners"][DEPLOY_SP] = json!([BOB, BILLING_SP]);
    };
    let Some((doc, code)) = verify(edit) else { return };
    assert_item(&doc, code, "azure_app_owners_trusted", Some("a9000000-0000-4000-8000-000000000001"), "fail", "containment", &["bob@contoso.example", "servicePrincipal billing-export"]);
    let it = item(&doc, "azure_app_owners_trusted", Some("a9000000-0000-4000-8000-000000000001"));
    assert!(!it["message"].as_str().unwrap().contains("carol"), "{it:#}");
}

#[test]
fn a_compromised_app_that_keeps_graph_permissions_and_a_way_to_sign_in_fails() {
    // An application permission to Microsoft Graph granted inside the window, and a federated
    // credential left on the registration.
    let grant = json!({"id": "x9b8c7d6e5f4", "appRoleId": "9e3f62cf-ca93-4989-b6ce-bf83c28f9fe8", "createdDateTime": "2026-11-28T05:40:00Z", "deletedDateTime": null,
                       "principalDisplayName": "deploy-pipeline", "principalId": DEPLOY_SP, "principalType": "ServicePrincipal",
                       "resourceDisplayName": "Microsoft Graph", "resourceId": "30000000-0000-4000-8000-0000000000f0"});
    for federated in [true, false] {
        let grant = grant.clone();
        let edit = move |t: &mut Value| {
            t["graph"]["app_role_assignments"] = json!([grant.clone()]);
            if federated {
                t["graph"]["applications"][0]["federatedIdentityCredentials"] = json!([{"id": "f0000000-0000-4000-8000-000000000002", "name": "ci", "issuer": "https://token.actions.githubusercontent.com", "subject": "repo:attacker/x:ref:refs/heads/main", "audiences": ["api://AzureADTokenExchange"]}]);
            }
        };
        let Some((doc, code)) = verify(edit) else { return };
        let app = Some("a9000000-0000-4000-8000-000000000001");
        if federated {
            assert_item(&doc, code, "azure_principal_grants_removed", app, "fail", "containment", &["can still sign in", "Microsoft Graph"]);
        } else {
            // Nothing signs in as it any more: the grant alone does not keep it in, but it was
            // made inside the window and still stands.
            assert_eq!(item(&doc, "azure_principal_grants_removed", app)["status"], "pass", "{doc:#}");
        }
        assert_item(&doc, code, "azure_window_app_role_assignments_absent", None, "fail", "persistence", &["app deploy-pipeline", "9e3f62cf-ca93-4989-b6ce-bf83c28f9fe8", "Microsoft Graph"]);
    }
}

#[test]
fn a_delegated_grant_to_a_compromised_app_that_can_sign_in_fails() {
    let edit = |t: &mut Value| {
        t["graph"]["oauth2_permission_grants"] = json!([{"id": "Yh1xM5pfQk6m2wSV4f2rG0", "clientId": DEPLOY_SP, "consentType": "AllPrincipals", "principalId": null,
                                                         "resourceId": "30000000-0000-4000-8000-0000000000f0", "scope": "Mail.Read Files.Read.All"}]);
        t["graph"]["applications"][0]["passwordCredentials"] = json!([{"customKeyIdentifier": null, "displayName": "", "endDateTime": "2028-11-28T04:00:00Z", "hint": "Zx~", "keyId": "b1000000-0000-4000-8000-0000000000ee", "secretText": null, "startDateTime": "2026-11-28T04:00:00Z"}]);
    };
    let Some((doc, code)) = verify(edit) else { return };
    assert_item(&doc, code, "azure_principal_grants_removed", Some("a9000000-0000-4000-8000-000000000001"), "fail", "containment", &["delegated permission grant", "Mail.Read Files.Read.All"]);
}

#[test]
fn a_subscription_in_scope_that_was_not_read_is_not_evaluated() {
    // One the tenant does not have (named in upper case), then one whose role assignments are
    // refused.
    let incident = INCIDENT.replace(
        "azure_subscriptions = [\"a1000000-0000-4000-8000-000000000001\"]",
        "azure_subscriptions = [\"a1000000-0000-4000-8000-000000000001\", \"A2000000-0000-4000-8000-00000000000B\"]",
    );
    let Some((doc, code, _)) = verify_with(|_| {}, &incident, &[]) else { return };
    let it = doc["items"].as_array().unwrap().iter().find(|i| i["kind"] == "azure_subscription_read").unwrap_or_else(|| panic!("{doc:#}"));
    assert_eq!(it["status"], "not_evaluated", "{it:#}");
    assert!(it["message"].as_str().unwrap().contains("A2000000-0000-4000-8000-00000000000B"), "{it:#}");
    assert_eq!((doc["result"].as_str(), code), (Some("not_verified"), 1));

    let deny = format!("/subscriptions/{SUB}/providers/Microsoft.Authorization/roleAssignments");
    let Some((doc, code, _)) = verify_with(|_| {}, INCIDENT, &["--deny", &deny]) else { return };
    let it = doc["items"].as_array().unwrap().iter().find(|i| i["kind"] == "azure_subscription_read").unwrap_or_else(|| panic!("{doc:#}"));
    assert_eq!(it["status"], "not_evaluated", "{it:#}");
    assert!(it["message"].as_str().unwrap().contains(SUB) && it["message"].as_str().unwrap().contains("roleAssignments/read"), "{it:#}");
    // The roles of every compromised principal are unknown too, not passed.
    assert_eq!(item(&doc, "azure_principal_roles_removed", Some("alice@contoso.example"))["status"], "not_evaluated", "{doc:#}");
    assert_eq!(code, 1);
}

#[test]
fn relationship_reads_that_are_refused_are_not_evaluated() {
    // Graph refuses the reads of what alice owns and holds.
    let Some((doc, code, requests)) = verify_with(|_| {}, INCIDENT, &["--deny", &format!("/v1.0/users/{ALICE}/")]) else { return };
    for kind in ["azure_principal_owned_apps_removed", "azure_principal_grants_removed"] {
        let it = item(&doc, kind, Some("alice@contoso.example"));
        assert_eq!(it["status"], "not_evaluated", "{it:#}");
        assert!(it["message"].as_str().unwrap().contains("Directory.Read.All"), "{it:#}");
    }
    assert_eq!(code, 1);
    // Only reads.
    assert!(requests.iter().all(|(server, method, _)| server == "login" || method == "GET"), "{requests:?}");
    for rel in ["ownedObjects", "appRoleAssignments", "oauth2PermissionGrants"] {
        assert!(requests.iter().any(|(_, _, p)| p.starts_with(&format!("/v1.0/users/{ALICE}/{rel}"))), "{rel}: {requests:?}");
    }
    for rel in ["owners", "ownedObjects", "appRoleAssignments", "oauth2PermissionGrants"] {
        assert!(requests.iter().any(|(_, _, p)| p.starts_with(&format!("/v1.0/servicePrincipals/{DEPLOY_SP}/{rel}"))), "{rel}: {requests:?}");
    }
    assert!(requests.iter().any(|(_, _, p)| p.starts_with("/v1.0/applications/40000000-0000-4000-8000-000000000001/owners")), "{requests:?}");
}

#[test]
fn a_user_eligible_for_a_directory_role_fails_and_the_role_is_judged_by_the_model() {
    // PIM eligibility, not an active assignment; the role id in mixed case; no role definitions
    // read from beta (the published list decides, and the item says so).
    let edit = |t: &mut Value| {
        t["graph"]["directory_eligibility"] = json!([{"id": "8MYkhImhnkm70CbBdTyW1BbHHAdHgZdDpbqyEFlRzAs-1-e", "principalId": ALICE, "roleDefinitionId": "E8611aB8-C189-46E8-94E1-60213AB1F814",
                                                      "directoryScopeId": "/", "appScopeId": null, "startDateTime": "2025-04-12T14:44:50.287Z", "endDateTime": null, "memberType": "Direct",
                                                      "roleEligibilityScheduleId": "77f71919-62f3-4d0c-9f88-0a0391b665cd"}]);
        // Served from v1.0, which drops isPrivileged.
        t["graph"]["directory_role_definitions"] = json!([{"id": "e8611ab8-c189-46e8-94e1-60213ab1f814", "templateId": "e8611ab8-c189-46e8-94e1-60213ab1f814", "displayName": "Privileged Role Administrator",
                                                            "isBuiltIn": true, "isEnabled": true, "isPrivileged": true, "rolePermissions": [{"allowedResourceActions": ["microsoft.directory/roleAssignments/allProperties/allTasks"]}]}]);
    };
    let Some((doc, code, _)) = verify_with(edit, INCIDENT, &["--no-beta"]) else { return };
    assert_item(&doc, code, "azure_principal_roles_removed", Some("alice@contoso.example"), "fail", "containment", &["is eligible for directory role Privileged Role Administrator", "e8611ab8-c189-46e8-94e1-60213ab1f814", "published list"]);
}
