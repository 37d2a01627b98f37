//! `portcullis verify` against moto: a compromised CI user, the attacker's moves inside the window,
//! and the responders' lockout applied through the API; each way the lockout can be incomplete is
//! named. Verification makes read calls only.

mod support;

use std::sync::Arc;

use serde_json::Value;
use support::{is_read_only, portcullis_routed, Front, Moto, Reply, Request};

/// Wait past a whole second so that moto's timestamps order the phases.
fn tick() -> String {
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let t = portcullis::inventory::Timestamp::now();
    std::thread::sleep(std::time::Duration::from_millis(1100));
    t.to_string()
}

fn incident_file(dir: &std::path::Path, start: &str, contained: &str) -> std::path::PathBuf {
    let p = dir.join("incident.toml");
    std::fs::write(
        &p,
        format!(
            "[incident]\nid = \"IR-TEST-1\"\nfirst_malicious_activity = \"{start}\"\ncontained_at = \"{contained}\"\n\n[scope]\naws_accounts = [\"123456789012\"]\n\n[[compromised]]\nprincipal = \"arn:aws:iam::123456789012:user/jenkins-ci\"\n"
        ),
    )
    .unwrap();
    p
}

fn item<'a>(doc: &'a Value, kind: &str) -> &'a Value {
    doc["items"].as_array().unwrap().iter().find(|i| i["kind"] == kind).unwrap_or_else(|| panic!("no item {kind}: {doc:#}"))
}

/// The checklist JSON, the exit code, and the calls moto saw.
type Outcome = (Value, i32, Vec<(String, String)>);

/// moto lacks ListServiceSpecificCredentials and CloudTrail's LookupEvents: a local front answers
/// them in the documented shapes (a CodeCommit credential of jenkins-ci, Active until the
/// responders' step deactivates it; the attacker's UpdateAssumeRolePolicy on the deploy role inside
/// the window) and passes everything else to moto.
fn front(moto_port: u16, service_credential_active: bool) -> Front {
    let status = if service_credential_active { "Active" } else { "Inactive" };
    let handler: Arc<support::Handler> = Arc::new(move |req: &Request| {
        if req.body_str().contains("Action=ListServiceSpecificCredentials") {
            let member = if req.body_str().contains("UserName=jenkins-ci") {
                format!(
                    "<member><UserName>jenkins-ci</UserName><Status>{status}</Status><ServiceUserName>jenkins-ci-at-123456789012</ServiceUserName><CreateDate>2026-01-05T10:00:00Z</CreateDate><ServiceSpecificCredentialId>ACCAEXAMPLE1234567890</ServiceSpecificCredentialId><ServiceName>codecommit.amazonaws.com</ServiceName></member>"
                )
            } else {
                String::new()
            };
            let body = format!(
                "<ListServiceSpecificCredentialsResponse xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\"><ListServiceSpecificCredentialsResult><ServiceSpecificCredentials>{member}</ServiceSpecificCredentials></ListServiceSpecificCredentialsResult><ResponseMetadata><RequestId>r-ssc</RequestId></ResponseMetadata></ListServiceSpecificCredentialsResponse>"
            );
            return Reply::Serve(200, vec![("Content-Type".into(), "text/xml".into())], body.into_bytes());
        }
        if req.action().1 == "LookupEvents" {
            let q: Value = serde_json::from_str(&req.body_str()).unwrap_or_default();
            let name = q["LookupAttributes"][0]["AttributeValue"].as_str().unwrap_or_default().to_string();
            let start = q["StartTime"].as_f64().unwrap_or(0.0);
            let events = if name == "UpdateAssumeRolePolicy" {
                let detail = serde_json::json!({
                    "eventVersion": "1.09", "eventSource": "iam.amazonaws.com", "eventName": name, "awsRegion": "us-east-1",
                    "sourceIPAddress": "198.51.100.23",
                    "userIdentity": {"type": "IAMUser", "arn": "arn:aws:iam::123456789012:user/jenkins-ci", "userName": "jenkins-ci"},
                    "requestParameters": {"roleName": "deploy", "policyDocument": "(omitted)"},
                    "responseElements": null,
                });
                serde_json::json!([{
                    "EventId": "5b1a3e2c-0000-4000-8000-00000000a77c", "EventName": name, "ReadOnly": "false",
                    "AccessKeyId": "AKIAEXAMPLEATTACKER1", "EventTime": start + 1.0, "EventSource": "iam.amazonaws.com",
                    "Username": "jenkins-ci", "Resources": [{"ResourceType": "AWS::IAM::Role", "ResourceName": "deploy"}],
                    "CloudTrailEvent": detail.to_string(),
                }])
            } else {
                serde_json::json!([])
            };
            let body = serde_json::json!({"Events": events}).to_string();
            return Reply::Serve(200, vec![("Content-Type".into(), "application/x-amz-json-1.1".into())], body.into_bytes());
        }
        Reply::Forward
    });
    Front::start(moto_port, handler)
}

/// Set up, attack, respond (leaving out `skip`), then verify.
fn scenario(skip: &[&str]) -> Option<Outcome> {
    let moto = Moto::start()?;
    moto.seed(&["incident", "setup"]);
    let start = tick();
    moto.seed(&["incident", "attack"]);
    let mut args = vec!["incident", "respond"];
    for s in skip {
        args.extend(["--skip", s]);
    }
    moto.seed(&args);
    let contained = tick();
    let mut args = vec!["incident", "rotate"];
    for s in skip {
        args.extend(["--skip", s]);
    }
    moto.seed(&args);
    let dir = tempfile::tempdir().unwrap();
    let inc = incident_file(dir.path(), &start, &contained);
    let front = front(moto.port, skip.contains(&"service-credential"));
    moto.reset_recording();
    let out = portcullis_routed(&moto.endpoint(), &[("IAM", &front), ("CLOUDTRAIL", &front)], &["verify", "--incident", inc.to_str().unwrap(), "--aws", "--aws-regions", "us-east-1", "--json", "-"]);
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
    let mut calls = moto.recorded();
    calls.extend(front.recorded());
    Some((doc, out.status.code().unwrap(), calls))
}

#[test]
fn a_complete_lockout_is_verified_with_read_calls_only() {
    let Some((doc, code, calls)) = scenario(&[]) else { return };
    // The compromised user's layers, read user by user after containment.
    for kind in [
        "aws_user_access_keys_inactive",
        "aws_user_console_password_removed",
        "aws_user_signing_certificates_inactive",
        "aws_user_service_specific_credentials_inactive",
        "aws_user_window_keys_inactive",
        "aws_user_deny_all_attached",
        "aws_window_principals_absent",
    ] {
        assert_eq!(item(&doc, kind)["status"], "pass", "{kind}: {:#}", item(&doc, kind));
    }
    // moto dates every credential report 2015-02-02, before containment: it proves nothing, and
    // every user is read directly instead (keys, login profile, MFA).
    for kind in ["aws_window_credentials_inactive", "aws_credentials_rotated", "aws_console_users_mfa"] {
        let it = item(&doc, kind);
        assert_eq!(it["status"], "pass", "{kind}: {it:#}");
        assert!(it["message"].as_str().unwrap().contains("read directly") || kind == "aws_console_users_mfa", "{it:#}");
    }
    // CloudTrail shows the attacker's trust change; the role trusts nobody outside any more.
    let it = item(&doc, "aws_window_trust_unchanged");
    assert_eq!(it["status"], "pass", "{it:#}");
    assert!(it["message"].as_str().unwrap().contains("1 trust change(s) inside the window"), "{it:#}");
    // Every item passes: verified.
    let open: Vec<&Value> = doc["items"].as_array().unwrap().iter().filter(|i| i["status"] != "pass").collect();
    assert!(open.is_empty(), "{open:#?}");
    assert_eq!(doc["result"], "verified");
    assert_eq!(code, 0);
    let writes: Vec<_> = calls.iter().filter(|(_, a)| !is_read_only(a)).collect();
    assert!(writes.is_empty(), "verify made non-read calls: {writes:?}");
}

#[test]
fn each_gap_in_the_lockout_is_named() {
    let mut runs: std::collections::HashMap<&str, (Value, i32)> = std::collections::HashMap::new();
    for (skip, kind, part, needle) in [
        ("old-key", "aws_user_access_keys_inactive", "containment", "still has 1 active access key"),
        ("attacker-key", "aws_user_window_keys_inactive", "persistence", "created inside the window are still active"),
        ("deny-all", "aws_user_deny_all_attached", "containment", "no deny-all or quarantine policy"),
        ("service-credential", "aws_user_service_specific_credentials_inactive", "containment", "codecommit.amazonaws.com"),
        ("backdoor", "aws_window_principals_absent", "persistence", "user/svc-backup2"),
        ("backdoor", "aws_window_credentials_inactive", "persistence", "svc-backup2"),
        ("rotate", "aws_credentials_rotated", "recovery", "ops-alice"),
        ("trust", "aws_window_trust_unchanged", "persistence", "999988887777"),
    ] {
        // One scenario per step left out, however many items it is asserted on.
        let (doc, code) = match runs.get(skip) {
            Some(r) => r.clone(),
            None => {
                let Some((doc, code, _)) = scenario(&[skip]) else { return };
                runs.insert(skip, (doc.clone(), code));
                (doc, code)
            }
        };
        let it = item(&doc, kind);
        assert_eq!((it["status"].as_str(), it["part"].as_str()), (Some("fail"), Some(part)), "{skip}: {it:#}");
        assert!(it.to_string().contains(needle), "{skip}: {it:#}");
        assert_eq!(code, 1);
    }
}

#[test]
fn init_writes_a_template_that_verify_reads_and_bad_files_exit_two() {
    let dir = tempfile::tempdir().unwrap();
    let bin = env!("CARGO_BIN_EXE_portcullis");
    let run = |args: &[&str]| std::process::Command::new(bin).current_dir(dir.path()).args(args).output().unwrap();
    let o = run(&["verify", "--init"]);
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    let template = std::fs::read_to_string(dir.path().join("incident.toml")).unwrap();
    assert!(template.contains("[[compromised]]") && template.contains("contained_at"));
    assert_eq!(run(&["verify", "--init"]).status.code(), Some(2), "an existing file is not overwritten");
    // The template is a valid incident; with an export older than the containment, nothing can be
    // proven: every credential item is not evaluated, and verification fails (exit 1).
    let report = format!("{}/fixtures/demo/credential-report.csv", env!("CARGO_MANIFEST_DIR"));
    let o = run(&["verify", "--incident", "incident.toml", "--aws-credential-report", &report, "--json", "-"]);
    assert_eq!(o.status.code(), Some(1), "{}", String::from_utf8_lossy(&o.stderr));
    let doc: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(doc["schema"], "portcullis.verify/v1");
    assert_eq!(doc["result"], "not_verified");
    assert!(doc["items"].as_array().unwrap().iter().all(|i| i["status"] != "pass" || i["kind"] == "aws_user_deleted"), "{doc:#}");
    std::fs::write(dir.path().join("bad.toml"), template.replace("2026-11-30T05:40:00Z", "soon")).unwrap();
    let o = run(&["verify", "--incident", "bad.toml", "--aws-credential-report", &report]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("bad.toml: [incident] contained_at = \"soon\""), "{}", String::from_utf8_lossy(&o.stderr));
}

// ---- Azure and GCP: the real collectors against the local fakes ----------------------------------

const AZURE_INCIDENT: &str = include_str!("../fixtures/azure/incident.toml");

/// verify's JSON, its exit code, and the requests the fake saw.
type FakeOutcome<R> = Option<(Value, i32, Vec<R>)>;

/// fixtures/azure/incident.json changed by `edit`, served by the fake; verify's JSON, exit code,
/// and the (server, method, path) of every request.
fn azure_verify(edit: impl Fn(&mut Value)) -> FakeOutcome<(String, String, String)> {
    azure_verify_in(&tempfile::tempdir().unwrap(), edit, AZURE_INCIDENT, &[])
}

fn azure_verify_in(dir: &tempfile::TempDir, edit: impl Fn(&mut Value), incident: &str, extra: &[&str]) -> FakeOutcome<(String, String, String)> {
    let mut tenant: Value = serde_json::from_str(&std::fs::read_to_string(format!("{}/fixtures/azure/incident.json", env!("CARGO_MANIFEST_DIR"))).unwrap()).unwrap();
    edit(&mut tenant);
    let scenario = dir.path().join("tenant.json");
    std::fs::write(&scenario, tenant.to_string()).unwrap();
    let fake = support::azure::AzureFake::start(scenario.to_str().unwrap(), &[])?;
    let inc = dir.path().join("incident.toml");
    std::fs::write(&inc, incident).unwrap();
    let mut args = vec!["verify", "--incident", inc.to_str().unwrap(), "--azure", "--azure-subscriptions", "a1000000-0000-4000-8000-000000000001", "--json", "-", "-q", "--now", "2026-11-30T12:00:00Z"];
    args.extend_from_slice(extra);
    let out = fake.command(&args).output().unwrap();
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
    Some((doc, out.status.code().unwrap(), fake.requests()))
}

/// The scenario with one step of the response undone: `kind` fails in `part`, naming `needle`,
/// and verification fails.
fn assert_gap_named(what: &str, doc: &Value, code: i32, kind: &str, part: &str, needle: &str) {
    let failing: Vec<&Value> = doc["items"].as_array().unwrap().iter().filter(|i| i["kind"] == kind && i["status"] == "fail").collect();
    assert!(!failing.is_empty(), "{what}: {kind} does not fail: {doc:#}");
    assert_eq!(failing[0]["part"], part, "{what}");
    assert!(failing.iter().any(|i| i.to_string().contains(needle)), "{what}: {needle:?} not in {failing:#?}");
    assert_eq!((doc["result"].as_str(), code), (Some("not_verified"), 1), "{what}");
}

fn users(t: &mut Value) -> &mut Vec<Value> {
    t["graph"]["users"].as_array_mut().unwrap()
}

fn app<'a>(t: &'a mut Value, name: &str) -> &'a mut Value {
    t["graph"]["applications"].as_array_mut().unwrap().iter_mut().find(|a| a["displayName"] == name).unwrap()
}

#[test]
fn azure_a_complete_response_is_verified_with_reads_only() {
    let Some((doc, code, requests)) = azure_verify(|_| {}) else { return };
    for (kind, principal) in [
        ("azure_user_disabled", "alice@contoso.example"),
        ("azure_user_sessions_revoked", "alice@contoso.example"),
        ("azure_app_credentials_removed", "a9000000-0000-4000-8000-000000000001"),
        ("azure_principal_deleted", "10000000-0000-4000-8000-000000000009"),
        ("azure_user_restored_with_sessions_revoked", "10000000-0000-4000-8000-000000000002"),
        ("azure_user_restored_password_changed", "10000000-0000-4000-8000-000000000002"),
        ("azure_principal_roles_removed", "alice@contoso.example"),
        ("azure_principal_roles_removed", "a9000000-0000-4000-8000-000000000001"),
        ("azure_principal_grants_removed", "a9000000-0000-4000-8000-000000000001"),
        ("azure_principal_owned_apps_removed", "alice@contoso.example"),
        ("azure_app_owners_trusted", "a9000000-0000-4000-8000-000000000001"),
    ] {
        let it = doc["items"].as_array().unwrap().iter().find(|i| i["kind"] == kind && i["principal"] == principal).unwrap_or_else(|| panic!("no {kind} for {principal}: {doc:#}"));
        assert_eq!(it["status"], "pass", "{it:#}");
    }
    let open: Vec<&Value> = doc["items"].as_array().unwrap().iter().filter(|i| i["status"] != "pass").collect();
    assert!(open.is_empty(), "{open:#?}");
    assert_eq!((doc["result"].as_str(), code), (Some("verified"), 0));
    assert!(item(&doc, "azure_entra_user_mfa_registered")["message"].as_str().unwrap().contains("passes"), "{doc:#}");
    assert!(doc["notes"].as_array().unwrap().iter().any(|n| n.as_str().unwrap().starts_with("Azure:")), "{doc:#}");
    // Read-only: every call to Resource Manager and Graph is a GET; the users were read one by one
    // with the property lists do not give.
    let writes: Vec<_> = requests.iter().filter(|(server, method, _)| server != "login" && method != "GET").collect();
    assert!(writes.is_empty(), "{writes:?}");
    assert!(requests.iter().any(|(_, _, p)| p.starts_with("/v1.0/users/Alice%40Contoso.example?") || p.starts_with("/v1.0/users/alice%40contoso.example?") || p.starts_with("/v1.0/users/alice@contoso.example?")), "{requests:?}");
    assert!(requests.iter().any(|(_, _, p)| p.contains("signInSessionsValidFromDateTime")), "{requests:?}");
    assert!(requests.iter().any(|(_, _, p)| p == "/v1.0/applications/40000000-0000-4000-8000-000000000001/federatedIdentityCredentials"), "{requests:?}");
}

#[test]
fn azure_each_gap_in_the_response_is_named() {
    type Edit = Box<dyn Fn(&mut Value)>;
    let attacker_secret = serde_json::json!({"customKeyIdentifier": null, "displayName": "", "endDateTime": "2028-11-28T04:00:00Z", "hint": "Zx~", "keyId": "b1000000-0000-4000-8000-0000000000ee", "secretText": null, "startDateTime": "2026-11-28T04:00:00Z"});
    let cases: Vec<(&str, Edit, &str, &str, &str)> = vec![
        ("alice left enabled", Box::new(|t| users(t)[0]["accountEnabled"] = true.into()), "azure_user_disabled", "containment", "alice@contoso.example is enabled"),
        ("sessions revoked before containment", Box::new(|t| users(t)[0]["signInSessionsValidFromDateTime"] = "2026-11-29T11:00:00Z".into()), "azure_user_sessions_revoked", "containment", "not revoked after containment"),
        ("sessions never revoked", Box::new(|t| users(t)[0]["signInSessionsValidFromDateTime"] = Value::Null), "azure_user_sessions_revoked", "containment", "never revoked"),
        ("the attacker's secret on the app", Box::new(move |t| app(t, "deploy-pipeline")["passwordCredentials"] = serde_json::json!([attacker_secret.clone()])), "azure_app_credentials_removed", "containment", "1 secret(s) or certificate(s)"),
        (
            "a federated credential left on the app",
            Box::new(|t| {
                app(t, "deploy-pipeline")["federatedIdentityCredentials"] = serde_json::json!([{"id": "f0000000-0000-4000-8000-000000000001", "name": "gh-main", "issuer": "https://token.actions.githubusercontent.com", "subject": "repo:attacker/x:ref:refs/heads/main", "audiences": ["api://AzureADTokenExchange"]}])
            }),
            "azure_app_credentials_removed",
            "containment",
            "repo:attacker/x",
        ),
        (
            "a secret added inside the window on another app",
            Box::new(|t| {
                let c = serde_json::json!({"customKeyIdentifier": null, "displayName": "x", "endDateTime": "2027-11-28T04:00:00Z", "hint": "Ab~", "keyId": "b1000000-0000-4000-8000-0000000000ef", "secretText": null, "startDateTime": "2026-11-28T06:30:00Z"});
                app(t, "billing-export")["passwordCredentials"].as_array_mut().unwrap().push(c);
            }),
            "azure_window_credentials_removed",
            "persistence",
            "b1000000-0000-4000-8000-0000000000ef",
        ),
        (
            "a backdoor user created inside the window",
            Box::new(|t| users(t).push(serde_json::json!({"id": "10000000-0000-4000-8000-0000000000bd", "userPrincipalName": "helpdesk-svc@contoso.example", "userType": "Member", "accountEnabled": true, "createdDateTime": "2026-11-28T03:10:00Z"}))),
            "azure_window_principals_absent",
            "persistence",
            "helpdesk-svc@contoso.example",
        ),
        (
            "a secret from before containment not rotated",
            Box::new(|t| app(t, "billing-export")["passwordCredentials"][0]["startDateTime"] = "2026-06-01T00:00:00Z".into()),
            "azure_credentials_rotated",
            "recovery",
            "billing-export",
        ),
        ("bob restored without revoking his sessions", Box::new(|t| users(t)[1]["signInSessionsValidFromDateTime"] = "2026-01-01T00:00:00Z".into()), "azure_user_restored_with_sessions_revoked", "recovery", "IR-2026-077-signoff"),
        (
            "an Owner assignment made inside the window",
            Box::new(|t| {
                let a = serde_json::json!({
                    "id": "/subscriptions/a1000000-0000-4000-8000-000000000001/providers/Microsoft.Authorization/roleAssignments/0000000b-0000-4000-8000-000000000000",
                    "name": "0000000b-0000-4000-8000-000000000000", "type": "Microsoft.Authorization/roleAssignments",
                    "properties": {"scope": "/subscriptions/a1000000-0000-4000-8000-000000000001", "roleDefinitionId": "/subscriptions/a1000000-0000-4000-8000-000000000001/providers/Microsoft.Authorization/roleDefinitions/8e3af657-a8ff-443c-a75c-2fe8c4bcb635",
                                   "principalId": "60000000-0000-4000-8000-0000000000ff", "principalType": "ServicePrincipal", "condition": null, "conditionVersion": null,
                                   "createdOn": "2026-11-28T05:12:00.1234567Z", "updatedOn": "2026-11-28T05:12:00.1234567Z", "createdBy": "10000000-0000-4000-8000-000000000001", "updatedBy": "10000000-0000-4000-8000-000000000001", "delegatedManagedIdentityResourceId": null, "description": null}
                });
                t["subscriptions"][0]["role_assignments"].as_array_mut().unwrap().push(a);
            }),
            "azure_window_role_assignments_absent",
            "persistence",
            "60000000-0000-4000-8000-0000000000ff",
        ),
        ("carol without MFA", Box::new(|t| t["graph"]["registration"][2]["isMfaRegistered"] = false.into()), "azure_users_mfa", "recovery", "carol@contoso.example"),
    ];
    for (what, edit, kind, part, needle) in cases {
        let Some((doc, code, _)) = azure_verify(edit) else { return };
        assert_gap_named(what, &doc, code, kind, part, needle);
    }
}

#[test]
fn the_checklist_reaches_sarif_html_and_markdown_escaped() {
    let dir = tempfile::tempdir().unwrap();
    let (sarif, html, md) = (dir.path().join("verify.sarif"), dir.path().join("verify.html"), dir.path().join("verify.md"));
    // alice left enabled; a principal the tenant does not have; an app registration the attacker
    // created inside the window, named with markup.
    let incident = AZURE_INCIDENT.replace("[[restored]]", "[[compromised]]\nprincipal = \"ghost@contoso.example\"\n\n[[restored]]");
    let extra = ["--sarif", sarif.to_str().unwrap(), "--html", html.to_str().unwrap(), "--markdown", md.to_str().unwrap()];
    let edit = |t: &mut Value| {
        users(t)[0]["accountEnabled"] = true.into();
        t["graph"]["applications"].as_array_mut().unwrap().push(serde_json::json!({
            "id": "40000000-0000-4000-8000-0000000000bd", "appId": "a9000000-0000-4000-8000-0000000000bd", "displayName": "<img src=x onerror=alert(1)>",
            "createdDateTime": "2026-11-28T02:00:00Z", "signInAudience": "AzureADMultipleOrgs", "passwordCredentials": [], "keyCredentials": [],
        }));
    };
    let Some((doc, code, _)) = azure_verify_in(&dir, edit, &incident, &extra) else { return };
    assert_eq!(code, 1, "{doc:#}");
    // SARIF: the failing item an error, the not-evaluated one a warning; valid under GitHub's rules.
    let s: Value = serde_json::from_str(&std::fs::read_to_string(&sarif).unwrap()).unwrap();
    let results = s["runs"][0]["results"].as_array().unwrap();
    let by_rule = |r: &str| results.iter().find(|x| x["ruleId"] == r).unwrap_or_else(|| panic!("no {r}: {s:#}"));
    assert_eq!(by_rule("verify/azure_user_disabled")["level"], "error");
    assert_eq!(by_rule("verify/azure_principal_read")["level"], "warning");
    assert_eq!(results.len(), doc["items"].as_array().unwrap().iter().filter(|i| i["status"] != "pass").count());
    assert_eq!(s["runs"][0]["properties"]["result"], "not_verified");
    if let Some(tool) = support::multitool() {
        support::validate_sarif(&tool, &sarif);
    }
    // HTML: the verification section first, every item in it, the markup only as text.
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(page.contains("<section id=\"verification\">") && page.contains("not verified"), "no verification section");
    for i in doc["items"].as_array().unwrap() {
        assert!(page.contains(&format!(">{}<", i["kind"].as_str().unwrap())), "{} missing from the page", i["kind"]);
    }
    assert!(!page.contains("<img src=x"), "raw markup in the page");
    assert!(page.contains("&lt;img src=x onerror=alert(1)&gt;"), "the hostile name is not shown as text");
    // Markdown for the ticket.
    let text = std::fs::read_to_string(&md).unwrap();
    assert!(text.contains("## Incident IR-2026-077: NOT VERIFIED"), "{text}");
    assert!(text.lines().any(|l| l.starts_with("- [ ] ❌") && l.contains("alice&#64;contoso.example is enabled")), "{text}");
    assert!(!text.contains("<img src=x"), "{text}");
}

#[test]
fn azure_a_denied_read_is_not_evaluated_and_fails_verification() {
    let dir = tempfile::tempdir().unwrap();
    let Some(fake) = support::azure::AzureFake::start("incident.json", &["--deny", "/v1.0/users/"]) else { return };
    let inc = dir.path().join("incident.toml");
    std::fs::write(&inc, AZURE_INCIDENT).unwrap();
    let out = fake.command(&["verify", "--incident", inc.to_str().unwrap(), "--azure", "--json", "-", "-q", "--now", "2026-11-30T12:00:00Z"]).output().unwrap();
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
    let it = doc["items"].as_array().unwrap().iter().find(|i| i["principal"] == "alice@contoso.example").unwrap();
    assert_eq!(it["status"], "not_evaluated", "{it:#}");
    assert!(it["message"].as_str().unwrap().contains("User.Read.All"), "{it:#}");
    assert_eq!(out.status.code(), Some(1));
}

const GCP_INCIDENT: &str = concat!(include_str!("../fixtures/gcp/incident.toml"), include_str!("../fixtures/gcp/team.toml"));

fn gcp_verify(edit: impl Fn(&mut Value)) -> FakeOutcome<(String, String)> {
    let dir = tempfile::tempdir().unwrap();
    let mut org: Value = serde_json::from_str(&std::fs::read_to_string(format!("{}/fixtures/gcp/incident.json", env!("CARGO_MANIFEST_DIR"))).unwrap()).unwrap();
    // The predefined roles the fake serves (it looks beside the scenario, written to a temp dir).
    org["predefined_roles"] = serde_json::from_str(&std::fs::read_to_string(format!("{}/fixtures/gcp/predefined_roles.json", env!("CARGO_MANIFEST_DIR"))).unwrap()).unwrap();
    edit(&mut org);
    let scenario = dir.path().join("org.json");
    std::fs::write(&scenario, org.to_string()).unwrap();
    let fake = support::gcp::GcpFake::start(scenario.to_str().unwrap(), &[])?;
    let inc = dir.path().join("incident.toml");
    std::fs::write(&inc, GCP_INCIDENT).unwrap();
    let out = fake
        .command(&["verify", "--incident", inc.to_str().unwrap(), "--gcp", "--gcp-organization", support::gcp::ORG, "--json", "-", "-q", "--now", "2026-11-30T12:00:00Z"])
        .output()
        .unwrap();
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
    Some((doc, out.status.code().unwrap(), fake.requests()))
}

fn builder(o: &mut Value) -> &mut Value {
    &mut o["service_accounts"]["ci-tools"][0]
}

#[test]
fn gcp_a_complete_response_is_verified_with_reads_only() {
    let Some((doc, code, requests)) = gcp_verify(|_| {}) else { return };
    for (kind, principal) in [
        ("gcp_service_account_locked", "serviceAccount:builder@ci-tools.iam.gserviceaccount.com"),
        ("gcp_service_account_deleted", "serviceAccount:old-sync@prod-payments.iam.gserviceaccount.com"),
        ("gcp_member_bindings_removed", "user:dev.mallory@example.com"),
        ("gcp_service_account_restored_with_new_keys", "serviceAccount:reporter@prod-payments.iam.gserviceaccount.com"),
    ] {
        let it = doc["items"].as_array().unwrap().iter().find(|i| i["kind"] == kind && i["principal"] == principal).unwrap_or_else(|| panic!("no {kind} for {principal}: {doc:#}"));
        assert_eq!(it["status"], "pass", "{it:#}");
    }
    let open: Vec<&Value> = doc["items"].as_array().unwrap().iter().filter(|i| i["status"] != "pass").collect();
    assert!(open.is_empty(), "{open:#?}");
    assert_eq!((doc["result"].as_str(), code), (Some("verified"), 0));
    assert!(doc["notes"].as_array().unwrap().iter().any(|n| n.as_str().unwrap().starts_with("GCP:")), "{doc:#}");
    // Read-only: GETs, and the POSTs that the APIs define as reads (getIamPolicy, the asset search).
    let read_post = |p: &str| [":getIamPolicy", ":searchAllIamPolicies"].iter().any(|v| p.split('?').next().unwrap().ends_with(v));
    let writes: Vec<_> = requests.iter().filter(|(m, p)| m != "GET" && !read_post(p)).collect();
    assert!(writes.is_empty(), "{writes:?}");
}

#[test]
fn gcp_each_gap_in_the_response_is_named() {
    type Edit = Box<dyn Fn(&mut Value)>;
    let cases: Vec<(&str, Edit, &str, &str, &str)> = vec![
        (
            "builder enabled with its old key enabled",
            Box::new(|o| {
                builder(o)["disabled"] = false.into();
                builder(o)["keys"][0]["disabled"] = false.into();
            }),
            "gcp_service_account_locked",
            "containment",
            "can still sign",
        ),
        ("the attacker's key left enabled", Box::new(|o| builder(o)["keys"][1]["disabled"] = false.into()), "gcp_window_keys_disabled", "persistence", "b666"),
        (
            "mallory still bound on a folder",
            Box::new(|o| o["policies"]["folders/200000000001"]["bindings"].as_array_mut().unwrap().push(serde_json::json!({"role": "roles/browser", "members": ["user:Dev.Mallory@example.com"]}))),
            "gcp_member_bindings_removed",
            "containment",
            "folders/200000000001",
        ),
        (
            "a key from before containment not rotated",
            Box::new(|o| o["service_accounts"]["prod-payments"][0]["keys"][0]["validAfterTime"] = "2025-02-01T00:00:00Z".into()),
            "gcp_keys_rotated",
            "recovery",
            "deployer@prod-payments.iam.gserviceaccount.com",
        ),
        (
            "reporter restored with its old key",
            Box::new(|o| o["service_accounts"]["prod-payments"][1]["keys"][0]["validAfterTime"] = "2026-10-01T00:00:00Z".into()),
            "gcp_service_account_restored_with_new_keys",
            "recovery",
            "IR-2026-078-signoff",
        ),
    ];
    for (what, edit, kind, part, needle) in cases {
        let Some((doc, code, _)) = gcp_verify(edit) else { return };
        assert_gap_named(what, &doc, code, kind, part, needle);
    }
}

/// `blast-radius KEY` against a live account: the key's owner is found with
/// `iam:GetAccessKeyLastUsed` and read user by user; an unknown key says how it was looked for.
#[test]
fn blast_radius_resolves_a_live_access_key_with_read_calls_only() {
    let Some(moto) = Moto::start() else { return };
    let seeded = moto.seed(&["incident", "setup"]);
    let key = seeded["old_key"].as_str().expect("the setup names the CI user's key");
    moto.reset_recording();
    let out = portcullis_routed(&moto.endpoint(), &[], &["blast-radius", key, "--aws", "--aws-regions", "us-east-1", "--json", "-", "-q"]);
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
    assert_eq!(doc["schema"], "portcullis.blast-radius/v1");
    assert!(doc["principal"].as_str().unwrap().ends_with(":user/jenkins-ci"), "{doc:#}");
    let calls = moto.recorded();
    assert!(calls.iter().any(|(_, a)| a == "GetAccessKeyLastUsed"), "{calls:?}");
    assert!(calls.iter().any(|(_, a)| a == "ListAccessKeys"), "{calls:?}");
    let writes: Vec<_> = calls.iter().filter(|(_, a)| !is_read_only(a)).collect();
    assert!(writes.is_empty(), "blast-radius made non-read calls: {writes:?}");
    // A key no account owns: a usage error that names how it was looked for.
    let out = portcullis_routed(&moto.endpoint(), &[], &["blast-radius", "AKIAZZZZZZZZZZZZZZZZ", "--aws", "--aws-regions", "us-east-1", "-q"]);
    assert_eq!(out.status.code(), Some(2), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stderr).contains("iam:GetAccessKeyLastUsed"), "{}", String::from_utf8_lossy(&out.stderr));
}
