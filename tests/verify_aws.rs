//! `portcullis verify` for AWS against moto, through the real SDK: IAM names ignore case, every
//! role a compromised principal could assume must have its sessions revoked, a restored user's
//! password and MFA devices are judged; and a live verify reads the scope the incident names
//! (Azure subscriptions, GCP projects) when the command line names none.

mod support;

use std::sync::Arc;

use serde_json::Value;
use support::{is_read_only, moto_python, portcullis_routed, Front, Moto, Reply, Request};

const ACCOUNT: &str = "123456789012";

/// Wait past a whole second so that moto's timestamps order the phases.
fn tick() -> String {
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let t = portcullis::inventory::Timestamp::now();
    std::thread::sleep(std::time::Duration::from_millis(1100));
    t.to_string()
}

/// Run boto3 code against moto (`iam` is a ready client; `{contained}` and the like are filled in
/// by the caller).
fn boto(moto: &Moto, code: &str) {
    let script = format!(
        "import boto3, json\niam = boto3.client('iam', endpoint_url='{}', region_name='us-east-1', aws_access_key_id='testing', aws_secret_access_key='testing')\n{code}\n",
        moto.endpoint()
    );
    let out = std::process::Command::new(moto_python().unwrap()).args(["-c", &script]).output().unwrap();
    assert!(out.status.success(), "boto3 failed: {}", String::from_utf8_lossy(&out.stderr));
}

fn trust_account() -> String {
    format!(r#"json.dumps({{"Version": "2012-10-17", "Statement": [{{"Effect": "Allow", "Principal": {{"AWS": "arn:aws:iam::{ACCOUNT}:root"}}, "Action": "sts:AssumeRole"}}]}})"#)
}

/// The "revoke active sessions" inline policy, denying sessions issued before `t`.
fn revoke(role: &str, t: &str) -> String {
    format!(
        r#"iam.put_role_policy(RoleName='{role}', PolicyName='AWSRevokeOlderSessions', PolicyDocument=json.dumps({{"Version": "2012-10-17", "Statement": [{{"Effect": "Deny", "Action": ["*"], "Resource": ["*"], "Condition": {{"DateLessThan": {{"aws:TokenIssueTime": "{t}"}}}}}}]}}))"#
    )
}

fn incident(dir: &std::path::Path, start: &str, contained: &str, compromised: &[&str], restored: &[&str]) -> std::path::PathBuf {
    let p = dir.join("incident.toml");
    let mut text = format!("[incident]\nid = \"IR-AWS-28\"\nfirst_malicious_activity = \"{start}\"\ncontained_at = \"{contained}\"\n\n[scope]\naws_accounts = [\"{ACCOUNT}\"]\n");
    for c in compromised {
        text.push_str(&format!("\n[[compromised]]\nprincipal = \"{c}\"\n"));
    }
    for r in restored {
        text.push_str(&format!("\n[[restored]]\nprincipal = \"{r}\"\nsigned_off_by = \"ciso@example.com\"\nreference = \"IR-AWS-28-signoff\"\n"));
    }
    std::fs::write(&p, text).unwrap();
    p
}

/// moto lacks ListServiceSpecificCredentials and LookupEvents (answered empty, in their documented
/// shapes) and dates every credential report 2015: with `fresh_report`, the report moto makes is
/// passed on dated now, as one generated after containment would be.
fn front(moto_port: u16, fresh_report: bool) -> Front {
    front_seeing(moto_port, fresh_report, Arc::new(std::sync::Mutex::new(Vec::new())))
}

/// As [`front`], keeping the body of every `AssumeRole` in `assumed`.
fn front_seeing(moto_port: u16, fresh_report: bool, assumed: Arc<std::sync::Mutex<Vec<String>>>) -> Front {
    let handler: Arc<support::Handler> = Arc::new(move |req: &Request| {
        let body = req.body_str();
        if body.contains("Action=AssumeRole") {
            assumed.lock().unwrap().push(body.clone());
        }
        if body.contains("Action=ListServiceSpecificCredentials") {
            let xml = "<ListServiceSpecificCredentialsResponse xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\"><ListServiceSpecificCredentialsResult><ServiceSpecificCredentials></ServiceSpecificCredentials></ListServiceSpecificCredentialsResult><ResponseMetadata><RequestId>r-ssc</RequestId></ResponseMetadata></ListServiceSpecificCredentialsResponse>";
            return Reply::Serve(200, vec![("Content-Type".into(), "text/xml".into())], xml.as_bytes().to_vec());
        }
        if req.action().1 == "LookupEvents" {
            return Reply::Serve(200, vec![("Content-Type".into(), "application/x-amz-json-1.1".into())], br#"{"Events": []}"#.to_vec());
        }
        if fresh_report && body.contains("Action=GetCredentialReport") {
            let headers: Vec<(&str, &str)> =
                req.headers.iter().filter(|(k, _)| !matches!(k.as_str(), "host" | "content-length" | "connection")).map(|(k, v)| (k.as_str(), v.as_str())).collect();
            let (status, answer) = support::http(moto_port, &req.method, &req.target, &headers, &req.body).unwrap();
            let now = portcullis::inventory::Timestamp::now().to_string();
            let answer = String::from_utf8_lossy(&answer).replace("2015-02-02T20:02:02Z", &now);
            return Reply::Serve(status, vec![("Content-Type".into(), "text/xml".into())], answer.into_bytes());
        }
        Reply::Forward
    });
    Front::start(moto_port, handler)
}

/// Verify the incident against moto: the checklist JSON and its exit code; every call a read.
fn verify(moto: &Moto, inc: &std::path::Path, fresh_report: bool) -> (Value, i32) {
    let front = front(moto.port, fresh_report);
    moto.reset_recording();
    let out = portcullis_routed(&moto.endpoint(), &[("IAM", &front), ("CLOUDTRAIL", &front)], &["verify", "--incident", inc.to_str().unwrap(), "--aws", "--aws-regions", "us-east-1", "--json", "-"]);
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
    let mut calls = moto.recorded();
    calls.extend(front.recorded());
    let writes: Vec<_> = calls.iter().filter(|(_, a)| !is_read_only(a)).collect();
    assert!(writes.is_empty(), "verify made non-read calls: {writes:?}");
    (doc, out.status.code().unwrap())
}

/// The items of `kind` whose resource ends with `resource` (ignoring case).
fn items<'a>(doc: &'a Value, kind: &str, resource: &str) -> Vec<&'a Value> {
    doc["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["kind"] == kind && i["resource"].as_str().is_some_and(|r| r.to_ascii_lowercase().ends_with(&resource.to_ascii_lowercase())))
        .collect()
}

fn one<'a>(doc: &'a Value, kind: &str, resource: &str) -> &'a Value {
    let v = items(doc, kind, resource);
    assert_eq!(v.len(), 1, "{kind} on {resource}: {doc:#}");
    v[0]
}

#[test]
fn a_role_named_in_another_case_is_the_role_iam_holds() {
    let Some(moto) = Moto::start() else { return };
    // IAM holds ci/Deploy; the incident names `deploy`, as a responder typed it.
    boto(&moto, &format!("iam.create_role(RoleName='Deploy', Path='/ci/', AssumeRolePolicyDocument={})\niam.create_role(RoleName='Gone', AssumeRolePolicyDocument={})", trust_account(), trust_account()));
    let start = tick();
    let contained = tick();
    let dir = tempfile::tempdir().unwrap();
    let compromised = [format!("arn:aws:iam::{ACCOUNT}:role/deploy"), format!("arn:aws:sts::{ACCOUNT}:assumed-role/GONE/i-0abc")];
    let names: Vec<&str> = compromised.iter().map(String::as_str).collect();
    let inc = incident(dir.path(), &start, &contained, &names, &[]);
    // Still there, sessions never revoked: it fails (it used to pass as "deleted").
    boto(&moto, "iam.delete_role(RoleName='Gone')");
    let (doc, code) = verify(&moto, &inc, false);
    let it = one(&doc, "aws_role_sessions_revoked", "role/ci/Deploy");
    assert_eq!(it["status"], "fail", "{it:#}");
    assert_eq!(code, 1);
    // Deleted for real: the details, read whole, hold no role of that name in any case.
    let gone = one(&doc, "aws_role_sessions_revoked", "role/GONE");
    assert_eq!(gone["status"], "pass", "{gone:#}");
    assert!(gone["message"].as_str().unwrap().contains("no longer exists"), "{gone:#}");
    // Sessions revoked since containment: passes.
    boto(&moto, &revoke("Deploy", &contained));
    let (doc, _) = verify(&moto, &inc, false);
    assert_eq!(one(&doc, "aws_role_sessions_revoked", "role/ci/Deploy")["status"], "pass", "{doc:#}");
}

#[test]
fn a_user_named_in_another_case_is_read_under_iams_spelling() {
    let Some(moto) = Moto::start() else { return };
    boto(&moto, "iam.create_user(UserName='Jenkins-CI')\niam.create_access_key(UserName='Jenkins-CI')\niam.attach_user_policy(UserName='Jenkins-CI', PolicyArn='arn:aws:iam::aws:policy/AWSDenyAll')");
    let start = tick();
    let contained = tick();
    let dir = tempfile::tempdir().unwrap();
    let inc = incident(dir.path(), &start, &contained, &[&format!("arn:aws:iam::{ACCOUNT}:user/jenkins-ci")], &[]);
    let (doc, code) = verify(&moto, &inc, false);
    // Not "deleted": IAM holds it as Jenkins-CI, and its key is still active.
    assert!(items(&doc, "aws_user_deleted", "user/jenkins-ci").is_empty(), "{doc:#}");
    let keys = one(&doc, "aws_user_access_keys_inactive", "user/jenkins-ci");
    assert_eq!(keys["status"], "fail", "{keys:#}");
    assert_eq!(one(&doc, "aws_user_deny_all_attached", "user/jenkins-ci")["status"], "pass", "{doc:#}");
    assert_eq!(code, 1);
}

#[test]
fn every_role_a_compromised_user_can_assume_needs_its_sessions_revoked() {
    let Some(moto) = Moto::start() else { return };
    let assume_any = r#"json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "*"}]})"#;
    boto(
        &moto,
        &format!(
            "iam.create_user(UserName='build-bot')\niam.put_user_policy(UserName='build-bot', PolicyName='assume', PolicyDocument={assume_any})\n\
             iam.create_role(RoleName='OrgAdmin', AssumeRolePolicyDocument={t})\niam.attach_role_policy(RoleName='OrgAdmin', PolicyArn='arn:aws:iam::aws:policy/AdministratorAccess')",
            t = trust_account()
        ),
    );
    let start = tick();
    let contained = tick();
    let dir = tempfile::tempdir().unwrap();
    let inc = incident(dir.path(), &start, &contained, &[&format!("arn:aws:iam::{ACCOUNT}:user/Build-Bot")], &[]);
    // The user may still assume the admin role, whose sessions were never revoked.
    let (doc, code) = verify(&moto, &inc, false);
    let it = one(&doc, "aws_role_sessions_revoked", "role/OrgAdmin");
    assert_eq!((it["status"].as_str(), it["part"].as_str()), (Some("fail"), Some("containment")), "{it:#}");
    assert_eq!(it["evidence"]["reached"]["decision"], "allowed", "{it:#}");
    assert_eq!(code, 1);
    // Revoked since containment: passes.
    boto(&moto, &revoke("OrgAdmin", &contained));
    let (doc, _) = verify(&moto, &inc, false);
    assert_eq!(one(&doc, "aws_role_sessions_revoked", "role/OrgAdmin")["status"], "pass", "{doc:#}");
    // Denied everything since, but a session of the role taken before the lockout still works:
    // the role's older sessions must still be revoked.
    boto(&moto, "iam.delete_role_policy(RoleName='OrgAdmin', PolicyName='AWSRevokeOlderSessions')\niam.attach_user_policy(UserName='build-bot', PolicyArn='arn:aws:iam::aws:policy/AWSDenyAll')");
    let (doc, _) = verify(&moto, &inc, false);
    assert_eq!(one(&doc, "aws_role_sessions_revoked", "role/OrgAdmin")["status"], "fail", "{doc:#}");
    // Deleted: its policies are gone, so every role whose trust could have admitted it counts.
    boto(&moto, "iam.detach_user_policy(UserName='build-bot', PolicyArn='arn:aws:iam::aws:policy/AWSDenyAll')\niam.delete_user_policy(UserName='build-bot', PolicyName='assume')\niam.delete_user(UserName='build-bot')");
    let (doc, _) = verify(&moto, &inc, false);
    assert_eq!(one(&doc, "aws_role_sessions_revoked", "role/OrgAdmin")["status"], "fail", "{doc:#}");
    boto(&moto, &revoke("OrgAdmin", &contained));
    let (doc, _) = verify(&moto, &inc, false);
    assert_eq!(one(&doc, "aws_role_sessions_revoked", "role/OrgAdmin")["status"], "pass", "{doc:#}");
    assert_eq!(one(&doc, "aws_assumable_roles_sessions_revoked", "user/Build-Bot")["status"], "pass", "{doc:#}");
}

#[test]
fn a_restored_user_keeps_neither_its_old_password_nor_the_attackers_mfa_device() {
    let Some(moto) = Moto::start() else { return };
    boto(&moto, "iam.create_user(UserName='ops-alice')\niam.create_login_profile(UserName='ops-alice', Password='Phished-Passw0rd!')\niam.create_user(UserName='ops-bob')");
    let start = tick();
    // Inside the window the attacker enables an MFA device of their own on ops-bob.
    boto(
        &moto,
        "d = iam.create_virtual_mfa_device(VirtualMFADeviceName='attacker')['VirtualMFADevice']\n\
         iam.enable_mfa_device(UserName='ops-bob', SerialNumber=d['SerialNumber'], AuthenticationCode1='123456', AuthenticationCode2='654321')",
    );
    let contained = tick();
    let dir = tempfile::tempdir().unwrap();
    let (alice, bob) = (format!("arn:aws:iam::{ACCOUNT}:user/ops-alice"), format!("arn:aws:iam::{ACCOUNT}:user/OPS-BOB"));
    let inc = incident(dir.path(), &start, &contained, &[&alice, &bob], &[&alice, &bob]);
    // A credential report generated after containment: alice's password dates from before it.
    let (doc, code) = verify(&moto, &inc, true);
    let it = one(&doc, "aws_user_restored_password_changed", "user/ops-alice");
    assert_eq!((it["status"].as_str(), it["part"].as_str()), (Some("fail"), Some("recovery")), "{it:#}");
    let it = one(&doc, "aws_user_restored_mfa_devices", "user/OPS-BOB");
    assert_eq!(it["status"], "fail", "{it:#}");
    assert!(it.to_string().contains("attacker"), "{it:#}");
    assert_eq!(one(&doc, "aws_user_restored_mfa_devices", "user/ops-alice")["status"], "pass", "{doc:#}");
    let it = one(&doc, "aws_window_mfa_devices_absent", ACCOUNT);
    assert_eq!((it["status"].as_str(), it["part"].as_str()), (Some("fail"), Some("persistence")), "{it:#}");
    assert_eq!(code, 1);
    // With moto's report (dated 2015), when the password was changed cannot be told: not a pass.
    let (doc, _) = verify(&moto, &inc, false);
    assert_eq!(one(&doc, "aws_user_restored_password_changed", "user/ops-alice")["status"], "not_evaluated", "{doc:#}");
    assert_eq!(one(&doc, "aws_window_mfa_devices_absent", ACCOUNT)["status"], "fail", "{doc:#}");
}

#[test]
fn with_the_organization_only_the_accounts_in_scope_are_read() {
    let Some(moto) = Moto::start() else { return };
    let ids = moto.seed(&["org"]);
    let (audit, prod) = (ids["audit"].as_str().unwrap(), ids["prod"].as_str().unwrap());
    let outside_org = "210987654321";
    let start = tick();
    let contained = tick();
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("incident.toml");
    std::fs::write(
        &p,
        format!(
            "[incident]\nid = \"IR-ORG\"\nfirst_malicious_activity = \"{start}\"\ncontained_at = \"{contained}\"\n[scope]\naws_accounts = [\"{ACCOUNT}\", \"{prod}\", \"{outside_org}\"]\n[[compromised]]\nprincipal = \"arn:aws:iam::{ACCOUNT}:user/bob\"\n"
        ),
    )
    .unwrap();
    let assumed = Arc::new(std::sync::Mutex::new(Vec::new()));
    let front = front_seeing(moto.port, false, assumed.clone());
    let out = portcullis_routed(
        &moto.endpoint(),
        &[("IAM", &front), ("CLOUDTRAIL", &front), ("STS", &front)],
        &["verify", "--incident", p.to_str().unwrap(), "--aws", "--aws-org", "--aws-regions", "us-east-1", "--json", "-"],
    );
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
    let bodies = assumed.lock().unwrap().clone();
    assert!(bodies.iter().any(|b| b.contains(&format!("iam%3A%3A{prod}%3A"))), "the member in scope is read: {bodies:?}");
    assert!(!bodies.iter().any(|b| b.contains(&format!("iam%3A%3A{audit}%3A"))), "a member outside the scope was read: {bodies:?}");
    // In scope but not in the organization: not read, and said so.
    let it = items(&doc, "aws_account_read", outside_org);
    assert!(!it.is_empty() && it.iter().all(|i| i["status"] == "not_evaluated"), "{doc:#}");
    assert_eq!(out.status.code(), Some(1));
}

// ---- Scope from the incident file: the fakes, without scope flags ------------------------------

const AZURE_INCIDENT: &str = r#"[incident]
id = "IR-2026-077"
first_malicious_activity = "2026-11-28T00:00:00Z"
contained_at = "2026-11-29T12:00:00Z"

[scope]
azure_subscriptions = ["A1000000-0000-4000-8000-000000000001"]

[[compromised]]
principal = "Alice@Contoso.example"
"#;

const GCP_INCIDENT: &str = r#"[incident]
id = "IR-2026-078"
first_malicious_activity = "2026-11-28T00:00:00Z"
contained_at = "2026-11-29T12:00:00Z"

[scope]
gcp_projects = ["ci-tools"]

[[compromised]]
principal = "builder@ci-tools.iam.gserviceaccount.com"

[response]
team = ["group:gcp-admins@example.com"]
"#;

#[test]
fn a_live_verify_reads_the_azure_subscriptions_the_incident_names() {
    let dir = tempfile::tempdir().unwrap();
    let mut tenant: Value = serde_json::from_str(&std::fs::read_to_string(format!("{}/fixtures/azure/incident.json", env!("CARGO_MANIFEST_DIR"))).unwrap()).unwrap();
    // A second subscription the credential sees, outside the incident's scope.
    let mut other = tenant["subscriptions"][0].clone();
    other["subscriptionId"] = "a2000000-0000-4000-8000-000000000002".into();
    if other.get("displayName").is_some() {
        other["displayName"] = "sandbox".into();
    }
    tenant["subscriptions"].as_array_mut().unwrap().push(other);
    let scenario = dir.path().join("tenant.json");
    std::fs::write(&scenario, tenant.to_string()).unwrap();
    let Some(fake) = support::azure::AzureFake::start(scenario.to_str().unwrap(), &[]) else { return };
    let inc = dir.path().join("incident.toml");
    std::fs::write(&inc, AZURE_INCIDENT).unwrap();
    let out = fake.command(&["verify", "--incident", inc.to_str().unwrap(), "--azure", "--json", "-", "-q", "--now", "2026-11-30T12:00:00Z"]).output().unwrap();
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
    assert!(doc["items"].as_array().is_some_and(|i| !i.is_empty()), "{doc:#}");
    let requests = fake.requests();
    let paths: Vec<&str> = requests.iter().map(|(_, _, p)| p.as_str()).collect();
    assert!(paths.iter().any(|p| p.starts_with("/subscriptions/a1000000-0000-4000-8000-000000000001/")), "{paths:?}");
    assert!(!paths.iter().any(|p| p.contains("a2000000-0000-4000-8000-000000000002")), "a subscription outside the scope was read: {paths:?}");
}

#[test]
fn a_live_verify_reads_the_gcp_projects_the_incident_names() {
    let dir = tempfile::tempdir().unwrap();
    let mut org: Value = serde_json::from_str(&std::fs::read_to_string(format!("{}/fixtures/gcp/incident.json", env!("CARGO_MANIFEST_DIR"))).unwrap()).unwrap();
    org["predefined_roles"] = serde_json::from_str(&std::fs::read_to_string(format!("{}/fixtures/gcp/predefined_roles.json", env!("CARGO_MANIFEST_DIR"))).unwrap()).unwrap();
    let scenario = dir.path().join("org.json");
    std::fs::write(&scenario, org.to_string()).unwrap();
    let Some(fake) = support::gcp::GcpFake::start(scenario.to_str().unwrap(), &[]) else { return };
    let inc = dir.path().join("incident.toml");
    std::fs::write(&inc, GCP_INCIDENT).unwrap();
    // `--gcp` alone: neither --gcp-organization nor --gcp-projects.
    let out = fake.command(&["verify", "--incident", inc.to_str().unwrap(), "--gcp", "--json", "-", "-q", "--now", "2026-11-30T12:00:00Z"]).output().unwrap();
    assert_ne!(out.status.code(), Some(2), "{}", String::from_utf8_lossy(&out.stderr));
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
    let it = doc["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["kind"] == "gcp_service_account_locked" && i["principal"] == "serviceAccount:builder@ci-tools.iam.gserviceaccount.com")
        .unwrap_or_else(|| panic!("{doc:#}"));
    assert_eq!(it["status"], "pass", "{it:#}");
    let requests = fake.requests();
    assert!(requests.iter().any(|(_, p)| p.contains("projects/ci-tools")), "{requests:?}");
    assert!(!requests.iter().any(|(_, p)| p.contains("prod-payments")), "a project outside the scope was read: {requests:?}");
}
