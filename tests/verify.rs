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
