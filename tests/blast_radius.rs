//! `blast-radius` for Entra and GCP principals, live through the real clients against the fakes
//! (tests/support/azure_fake.py serving fixtures/azure/blast.json, tests/support/gcp_fake.py
//! serving fixtures/gcp/blast.json) and from snapshots (`collect --out`, then `--inventory`), in
//! the three formats; and `verify`'s `[blast_radius]` in all three clouds.
//!
//! The classes: a role held through a group; an eligible role (PIM, and PIM for Groups); a UPN
//! and a service-account email spelled in another case; a GCP service-account impersonation
//! chain of length two that loops back; a role whose definition was not read (a gap, exit 3); a
//! GCP group whose members cannot be read (a gap); a hostile display name in the HTML page.

mod support;

use serde_json::Value;
use support::azure::AzureFake;
use support::gcp::{GcpFake, ORG};

const ALICE: &str = "b1a00000-0000-4000-8000-00000000a11c";
const BOB: &str = "b1a00000-0000-4000-8000-000000000b0b";
const MI_APP: &str = "B1A90000-0000-4000-8000-0000000000E1";
const G_KV: &str = "b1200000-0000-4000-8000-0000000000c1";
const G_PIM: &str = "b1200000-0000-4000-8000-0000000000c2";
const UNREAD: &str = "b1d00000-0000-4000-8000-00000000dead";
const CI: &str = "serviceAccount:ci-runner@blast-app.iam.gserviceaccount.com";
const BUILDER: &str = "serviceAccount:builder@blast-app.iam.gserviceaccount.com";
const DADMIN: &str = "serviceAccount:data-admin@blast-data.iam.gserviceaccount.com";

/// The three outputs of one run: exit code, text (stdout), JSON, HTML.
struct Run {
    code: i32,
    text: String,
    json: Value,
    html: String,
    stderr: String,
}

fn outputs(dir: &tempfile::TempDir, tag: &str) -> (String, String) {
    (dir.path().join(format!("{tag}.json")).to_str().unwrap().to_string(), dir.path().join(format!("{tag}.html")).to_str().unwrap().to_string())
}

fn finish(out: std::process::Output, json: &str, html: &str) -> Run {
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    let doc: Value = serde_json::from_str(&std::fs::read_to_string(json).unwrap_or_else(|e| panic!("no JSON ({e}); stdout {text}; stderr {stderr}"))).unwrap();
    let html = std::fs::read_to_string(html).unwrap();
    Run { code: out.status.code().unwrap_or(-1), text, json: doc, html, stderr }
}

fn azure_live(fake: &AzureFake, principal: &str) -> Run {
    let dir = tempfile::tempdir().unwrap();
    let (json, html) = outputs(&dir, "b");
    let out = fake.command(&["blast-radius", principal, "--azure", "--json", &json, "--html", &html]).output().unwrap();
    finish(out, &json, &html)
}

fn gcp_live(fake: &GcpFake, principal: &str) -> Run {
    let dir = tempfile::tempdir().unwrap();
    let (json, html) = outputs(&dir, "b");
    let out = fake.command(&["blast-radius", principal, "--gcp", "--gcp-organization", ORG, "--json", &json, "--html", &html]).output().unwrap();
    finish(out, &json, &html)
}

fn from_snapshot(snapshot: &std::path::Path, principal: &str) -> Run {
    let dir = tempfile::tempdir().unwrap();
    let (json, html) = outputs(&dir, "b");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_portcullis"))
        .args(["blast-radius", principal, "--inventory", snapshot.to_str().unwrap(), "--json", &json, "--html", &html])
        .env_clear()
        .env("PATH", "/usr/bin:/bin")
        .output()
        .unwrap();
    finish(out, &json, &html)
}

fn holds<'a>(r: &'a Run, role: &str) -> Vec<&'a Value> {
    r.json["holds"].as_array().unwrap().iter().filter(|h| h["role"] == role).collect()
}

fn identity<'a>(r: &'a Run, kind: &str, needle: &str) -> Option<&'a Value> {
    r.json["identities"].as_array().unwrap().iter().find(|i| i["kind"] == kind && i["identity"].as_str().unwrap().contains(needle))
}

fn permission<'a>(r: &'a Run, risk: &str, action: &str) -> Option<&'a Value> {
    r.json["permissions"].as_array().unwrap().iter().find(|p| p["risk"] == risk && p["action"] == action)
}

/// The page is self-contained and runs nothing.
fn safe_page(r: &Run) {
    assert!(r.html.contains("default-src 'none'"));
    assert!(!r.html.contains("<script"), "the page runs no script");
    assert!(!r.html.contains("<img"), "names are escaped");
}

/// Alice, named by her UPN in another case: Key Vault Secrets User through a group, a custom
/// logging role at a resource group, User Access Administrator eligible over the management group
/// (then Owner: an escalation), Application Administrator eligible in the directory.
fn alice(r: &Run, how: &str, live: bool) {
    let j = &r.json;
    assert_eq!((j["schema"].as_str(), j["cloud"].as_str(), j["kind"].as_str()), (Some("portcullis.blast-radius/v1"), Some("azure"), Some("user")), "{how}");
    assert_eq!(j["principal"], "Alice.Ops@Contoso.example", "{how}");
    read_by_itself(r, how, live);
    if live {
        assert_eq!(r.code, 0, "{how}: {}\n{}\n{:#}", r.stderr, r.text, r.json);
        // What she owns, read by itself: an app she can add a secret to.
        let owned = identity(r, "app-credentials", "application payroll-sync").unwrap_or_else(|| panic!("{how}: {:#}", j["identities"]));
        assert_eq!(owned["decision"], "allowed");
    }
    // Held through a group.
    let kv = holds(r, "Key Vault Secrets User");
    assert_eq!(kv.len(), 1, "{how}: {:#}", j["holds"]);
    assert_eq!((kv[0]["via_group"].as_str(), kv[0]["state"].as_str()), (Some(G_KV), Some("active")), "{how}");
    assert!(permission(r, "secrets-and-keys", "Microsoft.KeyVault/vaults/secrets/getSecret/action").is_some(), "{how}: {:#}", j["permissions"]);
    // Changing logging, from the model's probes.
    let log = permission(r, "logging", "Microsoft.Insights/diagnosticSettings/write").unwrap_or_else(|| panic!("{how}: {:#}", j["permissions"]));
    assert_eq!(log["decision"], "allowed on some resources");
    // Eligible: PIM activation, and the escalation it opens.
    let uaa = holds(r, "User Access Administrator");
    assert_eq!(uaa[0]["state"], "eligible", "{how}");
    assert!(identity(r, "pim-activation", "User Access Administrator at /providers/Microsoft.Management/managementGroups/mg-blast").is_some(), "{how}: {:#}", j["identities"]);
    assert!(permission(r, "assign-roles", "Microsoft.Authorization/roleAssignments/write").is_some_and(|p| p["decision"] == "on activation"), "{how}");
    let esc = j["escalations"].as_array().unwrap();
    assert!(esc.iter().any(|e| e["found"] == true && e["title"].as_str().unwrap().contains("assigns itself \"Owner\"")), "{how}: {esc:#?}");
    assert_eq!(j["administrator"], "maybe", "{how}");
    // A directory role eligible: its credentials power over every application.
    assert_eq!(holds(r, "Application Administrator")[0]["state"], "eligible", "{how}");
    let app = identity(r, "app-credentials", "every application").unwrap_or_else(|| panic!("{how}: {:#}", j["identities"]));
    assert_eq!(app["decision"], "on activation");
    assert!(identity(r, "app-credentials", "every service principal").is_some(), "{how}");
    // Text and page say the same.
    assert!(r.text.contains("Blast radius of Alice.Ops@Contoso.example (user in tenant 3f2e1d0c-aaaa-4bbb-8ccc-000000000001)"), "{how}: {}", r.text);
    assert!(r.text.contains("Key Vault Secrets User at /subscriptions/b1000000-0000-4000-8000-0000000000b1 through group b1200000-0000-4000-8000-0000000000c1"), "{}", r.text);
    assert!(r.text.contains("[eligible]"), "{}", r.text);
    assert!(r.html.contains("Key Vault Secrets User") && r.html.contains("pim-activation") && r.html.contains("through group"), "{how}");
    safe_page(r);
}

/// The managed identity, named by its appId in upper case, displayed by a hostile name: Global
/// Administrator with no Azure role that assigns, and code run on every VM of the subscription.
fn managed_identity(r: &Run, how: &str, live: bool) {
    let j = &r.json;
    read_by_itself(r, how, live);
    if live {
        // An application permission of Microsoft Graph: what it grants is not in the inventory.
        assert_eq!(r.code, 3, "{how}: {}\n{}", r.stderr, r.text);
        assert!(j["gaps"].to_string().contains("app role 9e3f62cf-ca93-4989-b6ce-bf83c28f9fe8 of Microsoft Graph"), "{how}: {:#}", j["gaps"]);
        assert_eq!(holds(r, "app role 9e3f62cf-ca93-4989-b6ce-bf83c28f9fe8")[0]["system"], "entra-app-role", "{how}");
    }
    assert_eq!((j["cloud"].as_str(), j["kind"].as_str()), (Some("azure"), Some("managed identity")), "{how}");
    assert_eq!(j["principal"], "mi-<img src=x onerror=alert(1)>");
    let ga = holds(r, "Global Administrator");
    assert_eq!((ga[0]["state"].as_str(), ga[0]["system"].as_str()), (Some("active"), Some("entra-directory-role")), "{how}: {:#}", j["holds"]);
    assert!(permission(r, "directory-admin", "Global Administrator").is_some_and(|p| p["decision"] == "allowed"), "{how}: {:#}", j["permissions"]);
    assert!(identity(r, "app-credentials", "every application").is_some_and(|i| i["decision"] == "allowed"), "{how}: {:#}", j["identities"]);
    assert!(permission(r, "run-as-another-identity", "Microsoft.Compute/virtualMachines/runCommand/action").is_some(), "{how}: {:#}", j["permissions"]);
    assert!(identity(r, "workload-identity", "workloads under /subscriptions/b1000000-0000-4000-8000-0000000000b1").is_some(), "{how}: {:#}", j["identities"]);
    assert!(r.html.contains("mi-&lt;img src=x onerror=alert(1)&gt;"), "{how}: the hostile name is escaped");
    safe_page(r);
}

/// Live, the principal is read by itself (what it owns, its app roles); a snapshot from `collect`
/// did not read it: that is a gap, named, never "owns nothing".
fn read_by_itself(r: &Run, how: &str, live: bool) {
    let unread = r.json["gaps"].as_array().unwrap().iter().filter(|g| g.as_str().unwrap().contains("owns (apps, service principals, groups) and the app roles it holds were not read")).count();
    assert_eq!(unread, usize::from(!live), "{how}: {:#}", r.json["gaps"]);
    if !live {
        assert_eq!(r.code, 3, "{how}");
    }
}

/// Bob: eligible for the PIM group that is eligible for Owner, and a role whose definition was
/// not read: a gap, named, and exit 3.
fn bob(r: &Run, how: &str) {
    assert_eq!(r.code, 3, "{how}: {}\n{}", r.stderr, r.text);
    let j = &r.json;
    let gaps = j["gaps"].to_string();
    assert!(gaps.contains(UNREAD), "{how}: {gaps}");
    let owner = holds(r, "Owner");
    assert_eq!((owner[0]["state"].as_str(), owner[0]["via_group"].as_str()), (Some("eligible"), Some(G_PIM)), "{how}: {:#}", j["holds"]);
    assert!(identity(r, "group-activation", G_PIM).is_some(), "{how}: {:#}", j["identities"]);
    assert!(holds(r, &format!("role {UNREAD}"))[0]["capabilities"][0] == "definition not read", "{how}");
    assert!(r.text.contains("incomplete:") && r.text.contains(UNREAD), "{how}: {}", r.text);
    assert!(r.html.contains("Incomplete."), "{how}");
}

#[test]
fn entra_user_managed_identity_and_gaps_live_and_from_a_snapshot() {
    let Some(fake) = AzureFake::start("blast.json", &[]) else { return };
    alice(&azure_live(&fake, "ALICE.OPS@contoso.EXAMPLE"), "live, UPN", true);
    managed_identity(&azure_live(&fake, MI_APP), "live, appId", true);
    bob(&azure_live(&fake, &BOB.to_uppercase()), "live, object id");
    // Only reads, and none of what an Entra principal does not need.
    let requests = fake.requests();
    assert!(requests.iter().all(|(_, m, _)| m == "GET" || m == "POST"), "{requests:?}");
    assert!(!requests.iter().any(|(_, _, p)| p.contains("diagnosticSettings") || p.contains("policyAssignments") || p.contains("userRegistrationDetails")), "{requests:?}");

    let dir = tempfile::tempdir().unwrap();
    let snap = dir.path().join("snap.json");
    let out = fake.command(&["collect", "--azure", "--quiet", "--out", snap.to_str().unwrap()]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    drop(fake);
    alice(&from_snapshot(&snap, "alice.ops@CONTOSO.example"), "snapshot, UPN", false);
    alice(&from_snapshot(&snap, ALICE), "snapshot, object id", false);
    managed_identity(&from_snapshot(&snap, MI_APP), "snapshot, appId", false);
    bob(&from_snapshot(&snap, "Bob@Contoso.Example"), "snapshot, UPN");
}

/// A subscription of the tenant's tree left out of the read (and the management group above it,
/// which no read subscription reaches): a gap, named, and exit 3, while what was read still shows.
#[test]
fn a_subscription_not_read_is_a_gap_not_an_empty_scope() {
    let Some(fake) = AzureFake::start("blast.json", &[]) else { return };
    let dir = tempfile::tempdir().unwrap();
    let (json, html) = outputs(&dir, "b");
    let out = fake
        .command(&["blast-radius", "Alice.Ops@contoso.example", "--azure", "--azure-subscriptions", "b1000000-0000-4000-8000-0000000000b1", "--json", &json, "--html", &html])
        .output()
        .unwrap();
    let r = finish(out, &json, &html);
    assert_eq!(r.code, 3, "{}\n{}", r.stderr, r.text);
    let gaps = r.json["gaps"].to_string();
    assert!(gaps.contains("subscription blast-dev is in the tenant's tree but was not read"), "{gaps}");
    assert!(gaps.contains("management group Blast dev"), "{gaps}");
    assert_eq!(holds(&r, "Key Vault Secrets User").len(), 1, "what was read still counts");
}

/// ci-runner mints tokens for builder, which mints them for data-admin (Owner of blast-data),
/// which mints them for ci-runner and builder again: a chain of two that loops.
fn ci_runner(r: &Run, how: &str) {
    assert_eq!(r.code, 0, "{how}: {}\n{}\n{:#}", r.stderr, r.text, r.json);
    let j = &r.json;
    assert_eq!((j["cloud"].as_str(), j["kind"].as_str(), j["principal"].as_str()), (Some("gcp"), Some("service account"), Some(CI)), "{how}");
    assert!(j["gaps"].as_array().unwrap().is_empty(), "{how}: {:#}", j["gaps"]);
    let ids = j["identities"].as_array().unwrap();
    assert_eq!(ids.len(), 2, "{how}: each account once, the start never: {ids:#?}");
    let b = identity(r, "service-account", BUILDER).unwrap();
    assert_eq!((b["via"].as_array().unwrap().len(), b["decision"].as_str(), b["administrator"].as_str()), (0, Some("allowed"), Some("no")), "{how}");
    let d = identity(r, "service-account", DADMIN).unwrap();
    assert_eq!(d["via"], serde_json::json!([BUILDER]), "{how}");
    assert_eq!(d["administrator"], "yes", "{how}");
    assert!(d["how"].as_str().unwrap().contains("iam.serviceAccounts.getAccessToken"), "{how}: {d:#}");
    let esc = j["escalations"].as_array().unwrap();
    assert!(esc.iter().any(|e| e["found"] == true && e["title"].as_str().unwrap().contains("acts as data-admin@blast-data.iam.gserviceaccount.com")), "{how}: {esc:#?}");
    assert_eq!(j["administrator"], "maybe", "{how}");
    assert!(permission(r, "secrets-and-keys", "secretmanager.versions.access").is_some(), "{how}: {:#}", j["permissions"]);
    assert_eq!(holds(r, "roles/secretmanager.secretAccessor")[0]["scope"], "projects/310000000001", "{how}");
    assert!(r.text.contains("identities it can become: 2") && r.text.contains("through serviceAccount:builder@blast-app.iam.gserviceaccount.com"), "{how}: {}", r.text);
    assert!(r.html.contains("data-admin@blast-data.iam.gserviceaccount.com") && r.html.contains("service-account"), "{how}");
    safe_page(r);
}

/// ops.lead: a token creator on the folder (so every account of blast-app, then data-admin
/// through them), a viewer through `domain:`, and a role whose definition was not read.
fn ops_lead(r: &Run, how: &str) {
    assert_eq!(r.code, 3, "{how}: {}\n{}", r.stderr, r.text);
    let j = &r.json;
    assert_eq!((j["kind"].as_str(), j["principal"].as_str()), (Some("user"), Some("user:ops.lead@example.com")), "{how}");
    assert!(j["gaps"].to_string().contains("roles/compute.osAdminLogin"), "{how}: {:#}", j["gaps"]);
    let viewer = holds(r, "roles/viewer");
    assert_eq!((viewer[0]["via_member"].as_str(), viewer[0]["scope"].as_str()), (Some("domain:example.com"), Some("organizations/111111111111")), "{how}");
    assert!(identity(r, "service-account", CI).is_some_and(|i| i["via"].as_array().unwrap().is_empty()), "{how}: {:#}", j["identities"]);
    assert!(identity(r, "service-account", DADMIN).is_some(), "{how}");
    assert_eq!(holds(r, "roles/compute.osAdminLogin")[0]["capabilities"][0], "definition not read", "{how}");
    safe_page(r);
}

#[test]
fn gcp_service_account_chain_and_gaps_live_and_from_a_snapshot() {
    let Some(fake) = GcpFake::start("blast.json", &[]) else { return };
    ci_runner(&gcp_live(&fake, "CI-Runner@Blast-App.iam.gserviceaccount.com"), "live, bare email");
    ops_lead(&gcp_live(&fake, "user:Ops.Lead@Example.com"), "live, user");
    let requests = fake.requests();
    assert!(!requests.iter().any(|(_, p)| p.contains("/sinks") || p.contains("getEffectivePolicy")), "reads only what a blast radius needs: {requests:?}");

    let dir = tempfile::tempdir().unwrap();
    let snap = dir.path().join("snap.json");
    let out = fake.command(&["collect", "--gcp", "--gcp-organization", ORG, "--quiet", "--out", snap.to_str().unwrap()]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    drop(fake);
    ci_runner(&from_snapshot(&snap, CI), "snapshot, member");
    // verify's [blast_radius] draws it from the same snapshot.
    let inc = dir.path().join("incident.toml");
    std::fs::write(
        &inc,
        format!(
            "[incident]\nid = \"IR-28-gcp\"\nfirst_malicious_activity = \"2026-11-20T00:00:00Z\"\ncontained_at = \"2026-11-21T00:00:00Z\"\n\n[scope]\ngcp_projects = [\"blast-app\", \"blast-data\"]\n\n[[compromised]]\nprincipal = \"{CI}\"\n\n[blast_radius]\nprincipals = [\"ci-runner@BLAST-APP.iam.gserviceaccount.com\"]\n"
        ),
    )
    .unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_portcullis"))
        .args(["verify", "--incident", inc.to_str().unwrap(), "--inventory", snap.to_str().unwrap(), "--json", "-", "-q", "--now", "2026-11-30T12:00:00Z"])
        .env_clear()
        .env("PATH", "/usr/bin:/bin")
        .output()
        .unwrap();
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
    let b = &doc["blast_radius"][0];
    assert_eq!((b["cloud"].as_str(), b["principal"].as_str()), (Some("gcp"), Some(CI)), "{b:#}");
    assert_eq!(b["identities"].as_array().map(Vec::len), Some(2), "{b:#}");
    ops_lead(&from_snapshot(&snap, "ops.lead@example.com"), "snapshot, bare user email");

    // A grant to a group anywhere: its members cannot be read, so ci-runner may hold more.
    let mut inv: Value = serde_json::from_str(&std::fs::read_to_string(&snap).unwrap()).unwrap();
    let projects = inv["gcp"]["projects"].as_array_mut().unwrap();
    let app = projects.iter_mut().find(|p| p["project_id"] == "blast-app").unwrap();
    app["iam_policy"]["collected"]["bindings"].as_array_mut().unwrap().push(serde_json::json!({"role": "roles/owner", "members": ["group:release-managers@example.com"]}));
    let grouped = dir.path().join("grouped.json");
    std::fs::write(&grouped, inv.to_string()).unwrap();
    let r = from_snapshot(&grouped, CI);
    assert_eq!(r.code, 3, "{}", r.text);
    assert!(r.json["gaps"].to_string().contains("group:release-managers@example.com") && r.json["gaps"].to_string().contains("group membership cannot be read"), "{:#}", r.json["gaps"]);
    // The group itself: what it holds, and the accounts its members can become.
    let g = from_snapshot(&grouped, "group:Release-Managers@example.com");
    assert_eq!((g.code, g.json["kind"].as_str(), g.json["administrator"].as_str()), (0, Some("group"), Some("yes")), "{}", g.text);
    assert!(identity(&g, "service-account", CI).is_some(), "{:#}", g.json["identities"]);
}

#[test]
fn verify_draws_the_blast_radius_of_principals_of_every_cloud() {
    let Some(fake) = AzureFake::start("blast.json", &[]) else { return };
    let dir = tempfile::tempdir().unwrap();
    let inc = dir.path().join("incident.toml");
    std::fs::write(
        &inc,
        format!(
            r#"[incident]
id = "IR-28"
first_malicious_activity = "2026-11-20T00:00:00Z"
contained_at = "2026-11-21T00:00:00Z"

[[compromised]]
principal = "bob@contoso.example"

[blast_radius]
principals = ["alice.ops@contoso.example", "{MI_APP}", "{CI}", "arn:aws:iam::111122223333:user/nobody"]
"#
        ),
    )
    .unwrap();
    let out = fake.command(&["verify", "--incident", inc.to_str().unwrap(), "--azure", "--json", "-", "-q", "--now", "2026-11-30T12:00:00Z"]).output().unwrap();
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
    let blast = doc["blast_radius"].as_array().unwrap_or_else(|| panic!("{doc:#}"));
    assert_eq!(blast.len(), 4, "{blast:#?}");
    assert_eq!((blast[0]["cloud"].as_str(), blast[0]["principal"].as_str()), (Some("azure"), Some("Alice.Ops@Contoso.example")), "{:#}", blast[0]);
    assert_eq!(blast[1]["kind"], "managed identity", "{:#}", blast[1]);
    // No GCP source: the GCP principal cannot be drawn, and says why; nor the unknown AWS user.
    assert!(blast[2].to_string().contains("no GCP organization or project was read"), "{:#}", blast[2]);
    assert!(blast[3].to_string().contains("nobody"), "{:#}", blast[3]);
}
