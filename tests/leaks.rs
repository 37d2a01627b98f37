//! No secret leaks: recognisable credential values in the environment, in an AWS profile, in the
//! session credentials moto hands out for member accounts, in Azure's tokens and answers, and in
//! the GCP key file never reach stdout, stderr at `-vv`, any report or an inventory snapshot.

mod support;

use std::path::Path;
use std::process::Command;
use std::sync::{Arc, Mutex};

use support::{Front, Moto, Reply, Request};

/// Every output file a scan writes, under `dir`, as flags.
fn outputs(dir: &Path) -> Vec<String> {
    ["json", "sarif", "html", "ocsf", "markdown"].iter().flat_map(|f| [format!("--{f}"), dir.join(format!("out.{f}")).to_str().unwrap().to_string()]).collect()
}

/// None of `secrets` in the command's stdout and stderr, or in any file under `dir`.
fn assert_no_leak(what: &str, out: &std::process::Output, dir: &Path, secrets: &[String]) {
    assert!(out.status.code().is_some_and(|c| c <= 3), "{what}: {}", String::from_utf8_lossy(&out.stderr));
    let mut texts = vec![("stdout".to_string(), String::from_utf8_lossy(&out.stdout).into_owned()), ("stderr".to_string(), String::from_utf8_lossy(&out.stderr).into_owned())];
    let mut files = 0;
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_file() && p.file_name().is_some_and(|n| n.to_string_lossy().starts_with("out")) {
            texts.push((p.display().to_string(), String::from_utf8_lossy(&std::fs::read(&p).unwrap()).into_owned()));
            files += 1;
        }
    }
    assert!(files >= 5, "{what}: only {files} outputs written");
    assert!(texts[1].1.lines().count() >= 3, "{what}: -vv logged almost nothing: {}", texts[1].1);
    for s in secrets.iter().filter(|s| s.len() >= 12) {
        for (name, text) in &texts {
            assert!(!text.contains(s.as_str()), "{what}: a secret ({}…) leaked into {name}", &s[..6]);
        }
    }
}

#[test]
fn aws_credentials_never_reach_logs_reports_or_snapshots() {
    let Some(moto) = Moto::start() else { return };
    moto.seed(&["org"]);
    // The member-account session credentials moto hands out are secrets too: catch them on the way.
    let issued: Arc<Mutex<Vec<String>>> = Arc::new(Mutex::new(Vec::new()));
    let seen = issued.clone();
    let port = moto.port;
    let front = Front::start(
        port,
        Arc::new(move |req: &Request| {
            if !req.body_str().contains("Action=AssumeRole") {
                return Reply::Forward;
            }
            let headers: Vec<(&str, &str)> = req.headers.iter().filter(|(k, _)| !matches!(k.as_str(), "host" | "content-length" | "connection")).map(|(k, v)| (k.as_str(), v.as_str())).collect();
            let (status, body) = support::http(port, &req.method, &req.target, &headers, &req.body).unwrap();
            let text = String::from_utf8_lossy(&body).into_owned();
            for tag in ["SecretAccessKey", "SessionToken"] {
                if let Some(v) = text.split(&format!("<{tag}>")).nth(1).and_then(|r| r.split(&format!("</{tag}>")).next()) {
                    seen.lock().unwrap().push(v.to_string());
                }
            }
            Reply::Serve(status, vec![("Content-Type".into(), "text/xml".into())], body)
        }),
    );
    let home = tempfile::tempdir().unwrap();
    let env_secret = "CanaryEnvSecretKey/Portcullis0123456789abcdEF".to_string();
    let env_token = "CanaryEnvSessionToken/Portcullis+IQoJb3JpZ2luX2VjEXAMPLE".to_string();
    let profile_secret = "CanaryProfileSecret/Portcullis9876543210ZYXW".to_string();
    std::fs::write(home.path().join("credentials"), format!("[leak]\naws_access_key_id = AKIACANARYPROFILE001\naws_secret_access_key = {profile_secret}\n")).unwrap();
    std::fs::write(home.path().join("config"), "[profile leak]\nregion = us-east-1\n").unwrap();
    let run = |profile: bool, args: &[String]| {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_portcullis"));
        cmd.arg("-vv")
            .args(args)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", home.path())
            .env("AWS_REGION", "us-east-1")
            .env("AWS_ENDPOINT_URL", moto.endpoint())
            .env("AWS_ENDPOINT_URL_STS", front.endpoint())
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .env("AWS_CONFIG_FILE", home.path().join("config"))
            .env("AWS_SHARED_CREDENTIALS_FILE", home.path().join("credentials"));
        if profile {
            cmd.env("AWS_PROFILE", "leak");
        } else {
            cmd.env("AWS_ACCESS_KEY_ID", "AKIACANARYENV0000001").env("AWS_SECRET_ACCESS_KEY", &env_secret).env("AWS_SESSION_TOKEN", &env_token);
        }
        cmd.output().unwrap()
    };
    for profile in [false, true] {
        let dir = tempfile::tempdir().unwrap();
        let mut args: Vec<String> = ["scan", "--aws", "--aws-org", "--aws-regions", "us-east-1", "--checks", "aws_iam_*,aws_organizations_*,aws_cloudtrail_*", "--now", "2026-11-30T12:00:00Z"].iter().map(|s| s.to_string()).collect();
        args.extend(outputs(dir.path()));
        let scan = run(profile, &args);
        let snapshot = run(profile, &["collect".into(), "--aws".into(), "--aws-org".into(), "--aws-regions".into(), "us-east-1".into(), "--out".into(), dir.path().join("out.snapshot.json").to_str().unwrap().into()]);
        assert_eq!(snapshot.status.code(), Some(0), "{}", String::from_utf8_lossy(&snapshot.stderr));
        let mut secrets = vec![env_secret.clone(), env_token.clone(), profile_secret.clone()];
        secrets.extend(issued.lock().unwrap().iter().cloned());
        assert!(secrets.len() >= 5, "no member-account credentials were issued: {secrets:?}");
        assert_no_leak(if profile { "profile" } else { "environment" }, &scan, dir.path(), &secrets);
        assert_no_leak(if profile { "profile collect" } else { "environment collect" }, &snapshot, dir.path(), &secrets);
    }
}

#[test]
fn azure_and_gcp_secrets_never_reach_logs_or_reports() {
    let canary = "CanaryGraphSecretText~Portcullis0123456789";
    let Some(azure) = support::azure::AzureFake::start("tenant.json", &["--canary", canary]) else { return };
    let dir = tempfile::tempdir().unwrap();
    let mut args = vec!["-vv".to_string(), "scan".into(), "--azure".into(), "--now".into(), "2026-11-30T12:00:00Z".into()];
    args.extend(outputs(dir.path()));
    let out = azure.command(&args.iter().map(String::as_str).collect::<Vec<_>>()).output().unwrap();
    // The client secret, the canary the tokens and answers carry, and the bearer tokens themselves
    // (every one starts with the unsigned JWT header the fake writes).
    let jwt_header = "eyJhbGciOiAibm9uZSIsICJ0eXAiOiAiSldUIn0";
    assert_no_leak("azure", &out, dir.path(), &[support::azure::SECRET.to_string(), canary.to_string(), jwt_header.to_string()]);

    let Some(gcp) = support::gcp::GcpFake::start("org.json", &[]) else { return };
    let dir = tempfile::tempdir().unwrap();
    let mut args = vec!["-vv".to_string(), "scan".into(), "--gcp".into(), "--gcp-organization".into(), support::gcp::ORG.into(), "--now".into(), "2026-11-30T12:00:00Z".into()];
    args.extend(outputs(dir.path()));
    let out = gcp.command(&args.iter().map(String::as_str).collect::<Vec<_>>()).output().unwrap();
    // Lines of the service account's private key.
    let key: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&gcp.key_file).unwrap()).unwrap();
    let pem_lines: Vec<String> = key["private_key"].as_str().unwrap().lines().filter(|l| !l.starts_with("-----")).map(str::to_string).collect();
    assert!(pem_lines.len() > 10);
    assert_no_leak("gcp", &out, dir.path(), &pem_lines);
}
