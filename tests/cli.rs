//! The binary's contract: commands, exit codes 0/1/2/3, error messages, JSON and SARIF shapes.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;
use portcullis::checks;

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_portcullis"))
}

fn run(args: &[&str]) -> Output {
    bin().args(args).output().expect("run portcullis")
}

fn code(o: &Output) -> i32 {
    o.status.code().expect("exit code")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn demo(name: &str) -> String {
    format!("{}/fixtures/demo/{name}", env!("CARGO_MANIFEST_DIR"))
}

fn tmp(dir: &tempfile::TempDir, name: &str) -> PathBuf {
    dir.path().join(name)
}

#[test]
fn demo_prints_the_table_and_exits_zero_without_a_gate() {
    let o = run(&["scan", "--demo"]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let out = stdout(&o);
    assert!(out.contains("aws_iam_root_access_key_absent"), "{out}");
    // The totals go to stderr, the table to stdout.
    assert!(stderr(&o).contains("60 failing, 86 passing, 2 not evaluated."), "{}", stderr(&o));
    assert!(!out.contains("52 failing, 70 passing"), "{out}");
    // Three clouds: the AWS account, the Azure tenant with its two subscriptions, a GCP organization with three projects.
    assert!(out.contains("over 1 AWS account(s), 3 Azure tenant/subscription scope(s), 4 GCP scope(s)"), "{out}");
    assert!(out.contains("dave@contoso.example is eligible for Privileged Role Administrator"), "{out}");
    assert!(out.contains("role GitHubDeployRole accepts any token"), "{out}");
}

#[test]
fn fail_on_exits_one_for_failures_at_or_above_the_threshold() {
    let o = run(&["scan", "--demo", "--fail-on", "critical"]);
    assert_eq!(code(&o), 1);
    assert!(stderr(&o).contains("Gate: exit 1"), "{}", stderr(&o));
    // Only medium findings for this check: a high gate passes, a medium gate fails.
    assert_eq!(code(&run(&["scan", "--demo", "-q", "--checks", "aws_iam_password_policy_strong", "--fail-on", "high"])), 0);
    assert_eq!(code(&run(&["scan", "--demo", "-q", "--checks", "aws_iam_password_policy_strong", "--fail-on", "medium"])), 1);
}

#[test]
fn incomplete_scans_exit_three_unless_allowed() {
    let report = demo("credential-report.csv");
    let args = ["scan", "--aws-credential-report", &report, "--checks", "aws_iam_role_trust_not_public,aws_iam_root_mfa_enabled", "--fail-on", "low"];
    let o = run(&args);
    assert_eq!(code(&o), 3, "{}", stdout(&o));
    assert!(stdout(&o).contains("give --aws-authorization-details FILE"), "{}", stdout(&o));
    let mut allowed = args.to_vec();
    allowed.push("--allow-incomplete");
    assert_eq!(code(&run(&allowed)), 0);
    // Without a gate, gaps are reported but the exit code stays 0.
    assert_eq!(code(&run(&args[..5])), 0);
}

#[test]
fn usage_and_input_errors_exit_two_with_a_clear_message() {
    let dir = tempfile::tempdir().unwrap();
    let bad = tmp(&dir, "bad.json");
    std::fs::write(&bad, r#"{"RoleDetailList": [{"RoleName": "r", "RoleId": "x", "Arn": "arn:aws:iam::111122223333:role/r", "AssumeRolePolicyDocument": {"Statement": {"Effect": "Permit"}}}]}"#).unwrap();
    let bad_s = bad.to_str().unwrap();
    let policy = demo("password-policy.json");
    let report_csv = demo("credential-report.csv");
    let report_csv2 = tmp(&dir, "copy.csv").to_str().unwrap().to_string();
    std::fs::copy(&report_csv, &report_csv2).unwrap();
    let cases: Vec<(Vec<&str>, String)> = vec![
        (vec!["scan"], "no sources given".into()),
        (vec!["scan", "--aws-authorization-details", "/nonexistent/x.json"], "--aws-authorization-details /nonexistent/x.json: cannot read: no such file".into()),
        (vec!["scan", "--demo", "--checks", "aws_nope"], "unknown check id \"aws_nope\"".into()),
        (vec!["scan", "--demo", "--checks", "aws_nope, aws_iam_acess_key_rotated"], "unknown check ids \"aws_nope\", \"aws_iam_acess_key_rotated\" (did you mean aws_iam_access_key_rotated?)".into()),
        (vec!["scan", "--demo", "--checks", "aws_iam_root_mfa_enabled", "--skip-checks", "aws_iam_root_mfa_enabled", "--fail-on", "high"], "no check is selected".into()),
        (vec!["scan", "--demo", "--json", "-", "--sarif", "-"], "--json and --sarif both write to stdout".into()),
        (vec!["scan", "--demo", "--json", "same.out", "--sarif", "same.out"], "--json and --sarif both write to same.out".into()),
        (vec!["scan", "--aws-authorization-details", bad_s, "--json", bad_s], "would destroy the input".into()),
        (vec!["scan", "--demo", "--max-report-age", "0h"], "between 1s and 30d".into()),
        (vec!["scan", "--aws-authorization-details", &report_csv], "not JSON (it starts with \"user,arn,".into()),
        (vec!["scan", "--aws-credential-report", &report_csv, "--aws-credential-report", &report_csv2], format!("{report_csv} and {report_csv2} both provide aws_credential_report for 111122223333; give each dataset once")),
        (vec!["scan", "--demo", "--max-report-age=-3h"], "is not an age".into()),
        (vec!["scan", "--demo", "--now", "yesterday"], "not an RFC 3339 time".into()),
        (vec!["scan", "--demo", "--fail-on", "urgent"], "unknown severity".into()),
        (vec!["scan", "--aws-password-policy", &policy], "names no account".into()),
        (vec!["checks", "explain", "aws_nope"], "unknown check id".into()),
    ];
    for (args, want) in cases {
        let o = run(&args);
        assert_eq!(code(&o), 2, "{args:?}: {}", stderr(&o));
        assert!(stderr(&o).contains(&want), "{args:?}: expected {want:?} in {}", stderr(&o));
        assert!(!stderr(&o).contains("panicked"), "{args:?}");
        let err = stderr(&o);
        let first_line = err.lines().next().unwrap_or("");
        assert_eq!(err.matches(first_line.trim_start_matches("error: ")).count(), 1, "the message repeats itself: {err}");
        for rust in ["struct ", "enum ", "os error"] {
            assert!(!err.contains(rust), "{args:?}: {rust:?} in {err}");
        }
    }
    let typed = tmp(&dir, "typed.json");
    std::fs::write(&typed, "\"x\"").unwrap();
    let err = stderr(&run(&["scan", "--aws-authorization-details", typed.to_str().unwrap()]));
    assert!(err.contains("expected an object") && !err.contains("Page"), "{err}");
    // One malformed trust document is that role's gap, named with its place; the scan goes on.
    let o = run(&["scan", "--aws-authorization-details", bad_s]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(stdout(&o).contains("RoleDetailList[0].AssumeRolePolicyDocument: Statement.Effect: expected \"Allow\" or \"Deny\""), "{}", stdout(&o));
    assert_eq!(code(&run(&["scan", "--aws-authorization-details", bad_s, "--fail-on", "low"])), 3, "the gap keeps the gate from passing");
    // A missing file is said once, with the option that named it; an empty file says empty.
    let o = run(&["scan", "--aws-credential-report", "/nonexistent/r.csv"]);
    assert_eq!(stderr(&o).matches("no such file").count(), 1, "{}", stderr(&o));
    assert!(!stderr(&o).contains("os error"), "{}", stderr(&o));
    let empty = tmp(&dir, "empty.json");
    std::fs::write(&empty, "").unwrap();
    assert!(stderr(&run(&["scan", "--aws-authorization-details", empty.to_str().unwrap()])).contains("the file is empty"));
}

#[test]
fn config_selects_checks_and_overrides_thresholds() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = tmp(&dir, "portcullis.toml");
    std::fs::write(&cfg, "[scan]\nchecks = [\"aws_iam_access_key_rotated\"]\n[checks.aws_iam_access_key_rotated]\nmax_key_age_days = 2000\n").unwrap();
    let o = run(&["scan", "--demo", "--config", cfg.to_str().unwrap(), "--fail-on", "low"]);
    assert_eq!(code(&o), 0, "a 2000-day limit passes every demo key: {}", stdout(&o));
    assert!(stderr(&o).contains("0 failing, 6 passing, 0 not evaluated."), "{}", stderr(&o));
    std::fs::write(&cfg, "[checks.aws_iam_access_key_rotated]\nmax_age = 1\n").unwrap();
    let o = run(&["scan", "--demo", "--config", cfg.to_str().unwrap()]);
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).contains("unknown parameter \"max_age\""), "{}", stderr(&o));

    // The allow-list makes an account inside; severity overrides reach the findings.
    let cross = ["scan", "--demo", "-q", "--checks", "aws_iam_role_cross_account_trust_restricted", "--json", "-"];
    let fails = |o: &Output| -> Vec<Value> {
        let j: Value = serde_json::from_slice(&o.stdout).unwrap();
        j["findings"].as_array().unwrap().iter().filter(|f| f["status"] == "fail").cloned().collect()
    };
    assert_eq!(fails(&run(&cross)).len(), 1, "PartnerSyncRole trusts 555566667777");
    std::fs::write(&cfg, "[trust]\naws_accounts = [\"555566667777\"]\n[severity]\n\"aws_iam_role_*\" = \"low\"\n").unwrap();
    let mut with_cfg = cross.to_vec();
    with_cfg.extend(["--config", cfg.to_str().unwrap()]);
    let o = run(&with_cfg);
    assert!(fails(&o).is_empty(), "an allow-listed account is inside: {}", stdout(&o));
    let j: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert!(j["findings"].as_array().unwrap().iter().all(|f| f["severity"] == "low"), "severity override");
}

#[test]
fn collect_then_scan_inventory_reproduces_the_scan() {
    let dir = tempfile::tempdir().unwrap();
    let snap = tmp(&dir, "inventory.json");
    let files = [
        "--aws-authorization-details", &demo("authorization-details.json"),
        "--aws-credential-report", &demo("credential-report.csv"),
        "--aws-password-policy", &demo("password-policy.json"),
        "--aws-account-summary", &demo("account-summary.json"),
        "--inventory", &demo("organization-and-regions.json"),
    ];
    let mut args = vec!["collect"];
    args.extend(files);
    args.extend(["--out", snap.to_str().unwrap()]);
    let o = run(&args);
    assert_eq!(code(&o), 0, "{}", stderr(&o));

    let now = "2026-11-20T09:00:00Z";
    let (a, b) = (tmp(&dir, "a.json"), tmp(&dir, "b.json"));
    let mut direct = vec!["scan", "-q", "--now", now, "--json", a.to_str().unwrap()];
    direct.extend(files);
    assert_eq!(code(&run(&direct)), 0);
    assert_eq!(code(&run(&["scan", "-q", "--now", now, "--inventory", snap.to_str().unwrap(), "--json", b.to_str().unwrap()])), 0);
    let (ja, jb): (Value, Value) = (read_json(&a), read_json(&b));
    assert_eq!(ja["findings"], jb["findings"]);
    assert_eq!(ja["coverage"], jb["coverage"]);
    // And the demo is this very export.
    let c = tmp(&dir, "c.json");
    assert_eq!(code(&run(&["scan", "-q", "--demo", "--json", c.to_str().unwrap()])), 0);
    let aws_only: Vec<Value> = read_json(&c)["findings"].as_array().unwrap().iter().filter(|f| f["cloud"] == "aws").cloned().collect();
    assert_eq!(Value::Array(aws_only), ja["findings"]);
}

fn read_json(p: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()
}

#[test]
fn findings_json_follows_the_v1_contract() {
    let o = run(&["scan", "--demo", "--json", "-"]);
    assert_eq!(code(&o), 0);
    let j: Value = serde_json::from_slice(&o.stdout).expect("stdout is only the JSON document");
    assert_eq!(j["schema"], "portcullis.findings/v1");
    assert_eq!(j["tool"]["name"], "portcullis");
    assert!(j["generated_at"].as_str().unwrap().ends_with('Z'));
    let findings = j["findings"].as_array().unwrap();
    assert_eq!(findings.len(), 148);
    assert_eq!(findings.iter().filter(|f| f["cloud"] == "azure").count(), 36);
    assert_eq!(findings.iter().filter(|f| f["cloud"] == "gcp").count(), 32);
    for f in findings {
        for key in ["check_id", "status", "severity", "category", "cloud", "account", "region", "resource", "message", "fingerprint", "evidence", "fixes"] {
            assert!(f.get(key).is_some(), "missing {key} in {f}");
        }
        assert_eq!(f["fingerprint"].as_str().unwrap().len(), 32);
        assert!(["pass", "fail", "not_evaluated"].contains(&f["status"].as_str().unwrap()));
    }
    let mut fps: Vec<&str> = findings.iter().map(|f| f["fingerprint"].as_str().unwrap()).collect();
    fps.sort();
    fps.dedup();
    assert_eq!(fps.len(), findings.len(), "fingerprints are unique");
    let key = findings.iter().find(|f| f["check_id"] == "aws_iam_access_key_rotated" && f["status"] == "fail").unwrap();
    assert_eq!(key["resource"]["type"], "aws_iam_user");
    assert!(key["resource"]["id"].as_str().unwrap().starts_with("arn:aws:iam::111122223333:user/"));
    let cov = j["coverage"].as_array().unwrap();
    assert!(cov.iter().any(|c| c["dataset"] == "aws_credential_report" && c["state"] == "collected" && c["service"] == "iam"));
    assert!(cov.iter().any(|c| c["dataset"] == "aws_identity_providers" && c["state"] == "not_requested"));
}

#[test]
fn sarif_locations_are_repository_relative_and_rules_come_from_metadata() {
    let o = run(&["scan", "--demo", "--sarif", "-"]);
    let s: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(s["version"], "2.1.0");
    let run = &s["runs"][0];
    let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
    assert_eq!(rules.len(), checks::all().unwrap().len());
    for r in rules {
        assert!(r["properties"]["security-severity"].as_str().unwrap().parse::<f64>().is_ok());
        assert!(r["help"]["markdown"].as_str().unwrap().contains("**How to fix.**"));
    }
    let results = run["results"].as_array().unwrap();
    assert_eq!(results.len(), 60, "only failing findings are results");
    for r in results {
        let loc = &r["locations"][0];
        let uri = loc["physicalLocation"]["artifactLocation"]["uri"].as_str().unwrap();
        let scoped = uri.starts_with("aws/111122223333/")
            || uri.starts_with("azure/3f2e1d0c-")
            || uri.starts_with("azure/a1000000-")
            || uri.starts_with("azure/a2000000-")
            || uri.starts_with("gcp/prod-");
        assert!(scoped && !uri.contains(':') && !uri.contains("//") && !uri.contains('#') && !uri.contains('@'), "{uri}");
        assert_eq!(loc["physicalLocation"]["region"]["startLine"], 1);
        let fqn = loc["logicalLocations"][0]["fullyQualifiedName"].as_str().unwrap();
        // ARNs, account ids; Azure resource ids, or Entra object ids for directory objects.
        let azure_id = fqn.starts_with("/subscriptions/") || fqn.len() == 36 && fqn.chars().all(|c| c.is_ascii_hexdigit() || c == '-');
        // GCP: full resource names.
        assert!(fqn.starts_with("arn:aws:") || fqn == "111122223333" || azure_id || fqn.starts_with("//"), "{fqn}");
        assert_eq!(r["partialFingerprints"]["portcullisFindingFingerprint/v1"].as_str().unwrap().len(), 32);
        let idx = r["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(rules[idx]["id"], r["ruleId"]);
    }
    let uris: Vec<&str> = results.iter().map(|r| r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"].as_str().unwrap()).collect();
    assert!(uris.contains(&"aws/111122223333/iam/role/DataSharingRole"), "{uris:?}");
    assert!(uris.contains(&"azure/a1000000-0000-4000-8000-000000000001/subscription/contoso-prod"), "{uris:?}");
    assert!(uris.contains(&"aws/111122223333/cloudtrail/eu-west-1/trail/eu-app-debug"), "regional resources name their region: {uris:?}");
}

#[test]
fn not_evaluated_checks_become_sarif_notifications() {
    let o = run(&["scan", "--aws-credential-report", &demo("credential-report.csv"), "--sarif", "-"]);
    let s: Value = serde_json::from_slice(&o.stdout).unwrap();
    let notes = s["runs"][0]["invocations"][0]["toolExecutionNotifications"].as_array().unwrap();
    assert!(notes.iter().any(|n| n["associatedRule"]["id"] == "aws_iam_role_trust_not_public"
        && n["message"]["text"].as_str().unwrap().contains("--aws-authorization-details")));
}

/// With only an authorization-details export, exactly the checks that read nothing else are
/// evaluated; every other check says which dataset it needs and how to provide it.
#[test]
fn a_scan_of_one_export_reports_exactly_the_checks_that_need_more() {
    let o = run(&["scan", "--aws-authorization-details", &demo("authorization-details.json"), "--json", "-"]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let j: Value = serde_json::from_slice(&o.stdout).unwrap();
    let list: Value = serde_json::from_slice(&run(&["checks", "list", "--format", "json"]).stdout).unwrap();
    let findings = j["findings"].as_array().unwrap();
    for c in list.as_array().unwrap() {
        let id = c["id"].as_str().unwrap();
        let mine: Vec<&Value> = findings.iter().filter(|f| f["check_id"] == id).collect();
        let evaluated = mine.iter().any(|f| f["status"] != "not_evaluated");
        let reads_auth = c["datasets"].as_array().unwrap().contains(&Value::from("aws_authorization_details"));
        assert_eq!(evaluated, reads_auth, "{id}: {mine:?}");
        if !reads_auth {
            assert!(mine.iter().all(|f| f["status"] == "not_evaluated" && f["message"].as_str().unwrap().contains("give ")), "{id}: {mine:?}");
        }
    }
    let collected: Vec<&Value> = j["coverage"].as_array().unwrap().iter().filter(|c| c["state"] != "not_requested").collect();
    assert_eq!(collected.len(), 1, "only the file given: {collected:?}");
}

#[test]
fn checks_list_and_explain() {
    let o = run(&["checks", "list", "--format", "json"]);
    assert_eq!(code(&o), 0);
    let list: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(list.as_array().unwrap().len(), checks::all().unwrap().len());
    assert!(list.as_array().unwrap().iter().all(|c| ["aws", "azure", "gcp"].contains(&c["cloud"].as_str().unwrap())));
    let guest = list.as_array().unwrap().iter().find(|c| c["id"] == "azure_rbac_guest_privileged_role_absent").unwrap();
    assert_eq!(guest["scope"], "azure_subscription");
    assert!(guest["datasets"].as_array().unwrap().contains(&serde_json::json!("azure_role_eligibility")));
    let trust = list.as_array().unwrap().iter().find(|c| c["id"] == "aws_iam_role_cross_account_trust_restricted").unwrap();
    assert_eq!(trust["scope"], "aws_account");
    assert_eq!(trust["datasets"], serde_json::json!(["aws_authorization_details", "aws_organization"]));
    assert!(list.as_array().unwrap().iter().all(|c| c["scope"].is_string() && !c["datasets"].as_array().unwrap().is_empty()));
    let o = run(&["checks", "list", "--cloud", "gcp", "--format", "json"]);
    let gcp: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert!(!gcp.as_array().unwrap().is_empty() && gcp.as_array().unwrap().iter().all(|c| c["cloud"] == "gcp" && c["scope"].as_str().unwrap().starts_with("gcp_")), "{gcp}");
    // Two lines a check (the title under the id), within 100 columns.
    let o = run(&["checks", "list"]);
    let table = stdout(&o);
    assert!(table.lines().filter(|l| !l.starts_with(' ')).count() == checks::all().unwrap().len() + 1, "{table}");
    assert!(table.lines().all(|l| l.chars().count() <= 100), "{table}");
    assert!(table.contains("azure_entra_privileged_role_holder_recently_active\n"), "{table}");
    let o = run(&["checks", "explain", "aws_iam_access_key_rotated"]);
    assert_eq!(code(&o), 0);
    let text = stdout(&o);
    for want in ["max_key_age_days = 90", "CIS AWS Foundations 3.0.0: 1.14", "T1078.004", "How to fix.", "reads `aws_credential_report`"] {
        assert!(text.contains(want), "{want} in {text}");
    }
}

#[test]
fn hostile_names_do_not_reach_the_terminal_raw() {
    let dir = tempfile::tempdir().unwrap();
    let f = tmp(&dir, "details.json");
    let name = "evil\u{1b}[2J\u{1b}]0;pwned\u{7}";
    let doc = serde_json::json!({"RoleDetailList": [{"RoleName": name, "RoleId": "AROAX", "Arn": "arn:aws:iam::111122223333:role/evil",
        "AssumeRolePolicyDocument": {"Statement": {"Effect": "Allow", "Principal": "*", "Action": "sts:AssumeRole"}}}]});
    std::fs::write(&f, doc.to_string()).unwrap();
    let o = run(&["scan", "--aws-authorization-details", f.to_str().unwrap()]);
    assert!(!o.stdout.contains(&0x1b), "escape byte reached stdout");
    assert!(stdout(&o).contains("evil\\u{1b}[2J"), "{}", stdout(&o));

    // Account ids, denied actions and errors from a snapshot: every string from input is escaped.
    let inv = serde_json::json!({"schema": "portcullis.inventory/v1", "aws": {"accounts": [{
        "account_id": "1111\u{1b}[31m", "credential_report": {"denied": {"action": "iam:Get\u{1b}]0;x\u{7}"}},
        "authorization_details": {"failed": {"error": "bad\u{9b}31m"}}}]}});
    let snap = tmp(&dir, "hostile.json");
    std::fs::write(&snap, inv.to_string()).unwrap();
    let o = run(&["scan", "--inventory", snap.to_str().unwrap()]);
    assert!(!o.stdout.contains(&0x1b) && !o.stdout.contains(&0x07), "escape reached stdout: {}", stdout(&o));
    assert!(!stdout(&o).contains('\u{9b}'), "C1 CSI reached stdout");
    let evil_path = tmp(&dir, "x\u{1b}[2J.json");
    let o = run(&["scan", "--aws-authorization-details", evil_path.to_str().unwrap()]);
    assert_eq!(code(&o), 2);
    assert!(!o.stderr.contains(&0x1b), "escape reached stderr: {}", stderr(&o));
}

/// A live scan that cannot start says why in one line: no SDK debug text, no Rust type names,
/// and a refused connection fails at once instead of retrying.
#[test]
fn live_scan_start_failures_say_why_in_one_line() {
    let home = tempfile::tempdir().unwrap();
    let live = |env: &[(&str, &str)], extra: &[&str]| {
        let mut c = bin();
        c.env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", home.path())
            .env("AWS_REGION", "us-east-1")
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .args(["scan", "--aws", "-q"])
            .args(extra);
        for (k, v) in env {
            c.env(k, v);
        }
        let started = std::time::Instant::now();
        let o = c.output().unwrap();
        (o, started.elapsed())
    };
    let keys = [("AWS_ACCESS_KEY_ID", "AKIAEXAMPLE"), ("AWS_SECRET_ACCESS_KEY", "secret")];
    type Case<'s> = (Vec<(&'s str, &'s str)>, Vec<&'s str>, &'s str);
    let cases: Vec<Case> = vec![
        (vec![], vec![], "error: no AWS credentials found (environment, profile, SSO, web identity, container or instance role)"),
        (vec![], vec!["--aws-profile", "nosuch"], "error: profile nosuch not found"),
        (vec![keys[0], keys[1], ("AWS_ENDPOINT_URL", "http://127.0.0.1:9")], vec![], "error: cannot reach sts at 127.0.0.1:9: connection refused"),
    ];
    for (env, extra, want) in cases {
        let (o, took) = live(&env, &extra);
        let err = stderr(&o);
        assert_eq!(code(&o), 2, "{err}");
        assert!(err.starts_with(want), "expected {want:?}, got {err:?}");
        assert_eq!(err.trim_end().lines().count(), 1, "one line: {err}");
        for noise in ["DispatchFailure", "ConnectorError", "os error", "Attempted:"] {
            assert!(!err.contains(noise), "{noise} in {err}");
        }
        assert!(took < std::time::Duration::from_secs(5), "took {took:?}: {err}");
    }
}

/// `[trust] oidc_subjects` accepts a broad subject pattern as written, and only that one.
#[test]
fn trusted_oidc_subjects_are_accepted_as_written() {
    let dir = tempfile::tempdir().unwrap();
    let role = |name: &str, sub: &str| serde_json::json!({"name": name, "id": format!("AROA{name}"), "arn": format!("arn:aws:iam::111122223333:role/{name}"),
        "trust_policy": {"Statement": [{"Effect": "Allow", "Action": "sts:AssumeRoleWithWebIdentity",
            "Principal": {"Federated": "arn:aws:iam::111122223333:oidc-provider/token.actions.githubusercontent.com"},
            "Condition": {"StringLike": {"token.actions.githubusercontent.com:sub": sub}}}]}});
    let inv = serde_json::json!({"schema": "portcullis.inventory/v1", "aws": {"accounts": [{"account_id": "111122223333",
        "authorization_details": {"collected": {"roles": [role("listed", "repo:acme*"), role("other", "repo:*")]}}}]}});
    let snap = tmp(&dir, "inv.json");
    std::fs::write(&snap, inv.to_string()).unwrap();
    let cfg = tmp(&dir, "p.toml");
    std::fs::write(&cfg, "[trust]\noidc_subjects = [\"repo:acme*\"]\n").unwrap();
    let status = |extra: &[&str]| -> Vec<(String, String)> {
        let mut args = vec!["scan", "--inventory", snap.to_str().unwrap(), "--checks", "aws_iam_role_oidc_trust_subject_restricted", "--json", "-", "-q"];
        args.extend(extra);
        let j: Value = serde_json::from_slice(&run(&args).stdout).unwrap();
        j["findings"].as_array().unwrap().iter().map(|f| (f["resource"]["name"].as_str().unwrap().to_string(), f["status"].as_str().unwrap().to_string())).collect()
    };
    assert_eq!(status(&[]), [("listed".into(), "fail".into()), ("other".into(), "fail".into())]);
    assert_eq!(status(&["--config", cfg.to_str().unwrap()]), [("listed".into(), "pass".into()), ("other".into(), "fail".into())]);
}

#[test]
fn markdown_summary_for_pull_requests() {
    let o = run(&["scan", "--demo", "--markdown", "-", "--fail-on", "high"]);
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    let md = stdout(&o);
    assert!(md.starts_with("## Portcullis: 60 failing, 86 passing, 2 not evaluated"), "{md}");
    assert!(md.contains("**Gate:** exit 1"), "{md}");
    assert!(md.contains("| critical | `aws_iam_root_access_key_absent` |"), "{md}");
    assert!(md.contains("contractor\\_gmail.com#EXT#&#64;contoso.example") || md.contains("contractor\\_gmail.com\\#EXT\\#&#64;contoso.example"), "{md}");
    assert!(!md.contains('@'), "no mention can ping anyone: {md}");
    assert!(md.len() < portcullis::report::markdown::GITHUB_COMMENT_LIMIT);
}

#[test]
fn markdown_stays_under_the_limit_and_says_what_it_left_out() {
    let inv = portcullis::demo::inventory().unwrap();
    let opts = portcullis::engine::ScanOptions { now: inv.generated_at, ..Default::default() };
    let result = portcullis::engine::scan(&inv, &opts).unwrap();
    let md = portcullis::report::markdown::render_limited(&result, &inv.sources, None, 4_000);
    assert!(md.len() <= 4_000, "{}", md.len());
    assert!(md.contains("_Left out to stay under GitHub's 4000-character limit:"), "{md}");
    assert!(md.contains("failing finding(s)"), "{md}");
}


#[test]
fn summary_and_gate_lines_go_to_stderr_even_with_json_on_stdout_or_quiet() {
    for args in [&["scan", "--demo", "--json", "-", "--fail-on", "high"][..], &["scan", "--demo", "-q", "--fail-on", "high"][..]] {
        let o = run(args);
        assert_eq!(code(&o), 1);
        let err = stderr(&o);
        assert!(err.contains("60 failing, 86 passing, 2 not evaluated.") && err.contains("Gate: exit 1"), "{args:?}: {err}");
        assert!(!stdout(&o).contains("Gate: exit"), "{args:?}");
    }
    // --json - keeps stdout pure JSON.
    let o = run(&["scan", "--demo", "--json", "-"]);
    serde_json::from_slice::<Value>(&o.stdout).expect("stdout is the JSON document alone");
}

#[test]
fn colour_follows_the_flag_and_no_color() {
    let plain = run(&["scan", "--demo", "--color", "never"]);
    assert!(!stdout(&plain).contains('\u{1b}'));
    // Not a terminal: auto means no colour.
    assert!(!stdout(&run(&["scan", "--demo"])).contains('\u{1b}'));
    let always = run(&["scan", "--demo", "--color", "always"]);
    let out = stdout(&always);
    assert!(out.contains("\u{1b}[1;31mCRITICAL"), "{out}");
    // Every escape in the output is one of ours: a colour code.
    for (i, _) in out.match_indices('\u{1b}') {
        let rest = &out[i + 1..];
        let end = rest.find('m').unwrap_or(0);
        assert!(rest.starts_with('[') && end > 0 && rest[1..end].chars().all(|c| c.is_ascii_digit() || c == ';'), "{:?}", &rest[..rest.len().min(20)]);
    }
    let mut cmd = bin();
    let o = cmd.args(["scan", "--demo", "--color", "auto"]).env("NO_COLOR", "1").output().unwrap();
    assert!(!stdout(&o).contains('\u{1b}'));
}

#[test]
fn long_lines_wrap_with_a_hanging_indent_and_failures_group_by_resource() {
    let o = bin().args(["scan", "--demo"]).env("COLUMNS", "80").output().unwrap();
    let out = stdout(&o);
    let fix = out.split("Fix these first").nth(1).expect("a fix-first section");
    for l in fix.lines().take_while(|l| !l.starts_with("Not evaluated")) {
        assert!(console_width(l) <= 80, "{l:?} is wider than 80");
    }
    // The root user's two failures sit under one resource line, and the section ends with an explain hint.
    assert!(fix.contains("root  (aws_iam_root_user in aws 111122223333): 2 failing"), "{fix}");
    assert!(fix.contains("portcullis checks explain gcp_iam_no_public_access"), "{fix}");
    // A wrapped message continues under its first line (14 columns in).
    assert!(fix.lines().any(|l| l.starts_with("              ") && !l.trim().is_empty()), "{fix}");
    // Times without fractions of a second.
    let o = run(&["scan", "--aws-credential-report", &demo("credential-report.csv"), "--json", "-"]);
    let doc: Value = serde_json::from_slice(&o.stdout).unwrap();
    let at = doc["generated_at"].as_str().unwrap();
    assert!(at.len() == 20 && at.ends_with('Z'), "{at}");
}

fn console_width(s: &str) -> usize {
    s.chars().count()
}

#[test]
fn severity_service_and_status_filters() {
    let json = |args: &[&str]| -> Value {
        let mut all = vec!["scan", "--demo", "--json", "-"];
        all.extend_from_slice(args);
        let o = run(&all);
        assert_eq!(code(&o), 0, "{args:?}: {}", stderr(&o));
        serde_json::from_slice(&o.stdout).unwrap()
    };
    let findings = |v: &Value| v["findings"].as_array().unwrap().clone();
    let crit = findings(&json(&["--severity", "critical"]));
    assert!(!crit.is_empty() && crit.iter().all(|f| f["severity"] == "critical"));
    let high_up = findings(&json(&["--severity", "high+"]));
    assert!(high_up.iter().any(|f| f["severity"] == "high") && high_up.iter().all(|f| f["severity"] == "high" || f["severity"] == "critical"));
    let iam = findings(&json(&["--service", "iam"]));
    assert!(iam.iter().all(|f| f["check_id"].as_str().unwrap().contains("_iam_")), "{iam:?}");
    assert!(iam.iter().any(|f| f["cloud"] == "gcp") && iam.iter().any(|f| f["cloud"] == "aws"));
    let fails = findings(&json(&["--status", "fail"]));
    assert_eq!(fails.len(), 60);
    assert!(fails.iter().all(|f| f["status"] == "fail"));
    let pattern = findings(&json(&["--checks", "aws_iam_root_*"]));
    assert!(pattern.iter().all(|f| f["check_id"].as_str().unwrap().starts_with("aws_iam_root_")) && !pattern.is_empty());
    // The gate still judges what --status hides.
    let o = run(&["scan", "--demo", "-q", "--status", "pass", "--fail-on", "critical"]);
    assert_eq!(code(&o), 1);
    let o = run(&["scan", "--demo", "--service", "iamm"]);
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).contains("unknown service \"iamm\""), "{}", stderr(&o));
    assert_eq!(code(&run(&["scan", "--demo", "--severity", "severe"])), 2);
    assert_eq!(code(&run(&["scan", "--demo", "--status", "broken"])), 2);
}

#[test]
fn checks_list_compliance_shows_every_requirement() {
    let o = run(&["checks", "list", "--compliance", "cis-aws"]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let out = stdout(&o);
    assert!(out.contains("CIS AWS Foundations 3.0.0 — 14 of 62 requirements covered"), "{out}");
    assert!(out.lines().any(|l| l.starts_with("1.14") && l.contains("aws_iam_access_key_rotated")), "{out}");
    assert!(out.lines().any(|l| l.starts_with("1.1 ") && l.contains("not covered")), "{out}");
    let o = run(&["checks", "list", "--compliance", "MITRE ATT&CK", "--cloud", "gcp", "--format", "json"]);
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    let reqs = v["requirements"].as_array().unwrap();
    assert!(reqs.iter().any(|r| r["id"] == "T1530" && r["title"] == "Data from Cloud Storage"));
    assert!(reqs.iter().flat_map(|r| r["checks"].as_array().unwrap()).all(|c| c.as_str().unwrap().starts_with("gcp_")));
    let o = run(&["checks", "list", "--compliance", "nist-800-53"]);
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).contains("unknown framework") && stderr(&o).contains("cis-gcp"), "{}", stderr(&o));
}

#[test]
fn json_findings_carry_title_remediation_and_compliance() {
    let o = run(&["scan", "--demo", "--json", "-"]);
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    let f = v["findings"].as_array().unwrap().iter().find(|f| f["check_id"] == "aws_iam_access_key_rotated").unwrap();
    assert_eq!(f["title"], "Active access keys are rotated within the allowed age");
    assert!(f["remediation"].as_str().unwrap().len() > 20);
    assert_eq!(f["compliance"]["CIS AWS Foundations 3.0.0"], serde_json::json!(["1.14"]));
    assert!(f["compliance"]["MITRE ATT&CK"].as_array().unwrap().contains(&serde_json::json!("T1078.004")));
    let fw = v["compliance"].as_array().unwrap().iter().find(|c| c["slug"] == "cis-aws").unwrap();
    let r = fw["requirements"].as_array().unwrap().iter().find(|r| r["id"] == "1.14").unwrap();
    assert_eq!(r["status"], "fail");
    assert!(fw["requirements"].as_array().unwrap().iter().any(|r| r["status"] == "not_covered"));
}

#[test]
fn sarif_keeps_the_most_severe_results_within_githubs_limit_and_says_so() {
    // 4,400 users × 6 failing findings (1 high console-MFA, 2 high key-age, 2 medium key-use,
    // 1 medium two-keys) = 26,400 > 25,000: the least severe are the ones left out.
    let dir = tempfile::tempdir().unwrap();
    let csv = tmp(&dir, "report.csv");
    let mut text = String::from("user,arn,user_creation_time,password_enabled,password_last_used,password_last_changed,password_next_rotation,mfa_active,access_key_1_active,access_key_1_last_rotated,access_key_1_last_used_date,access_key_1_last_used_region,access_key_1_last_used_service,access_key_2_active,access_key_2_last_rotated,access_key_2_last_used_date,access_key_2_last_used_region,access_key_2_last_used_service,cert_1_active,cert_1_last_rotated,cert_2_active,cert_2_last_rotated\n");
    for i in 0..4_400 {
        text.push_str(&format!("u{i},arn:aws:iam::111122223333:user/u{i},2021-03-04T09:12:00+00:00,true,2026-11-19T16:02:11+00:00,2026-01-04T09:00:00+00:00,N/A,false,true,2020-10-01T09:00:00+00:00,2025-01-19T15:58:00+00:00,eu-west-1,s3,true,2021-10-01T09:00:00+00:00,N/A,N/A,N/A,false,N/A,false,N/A\n"));
    }
    std::fs::write(&csv, text).unwrap();
    let sarif = tmp(&dir, "out.sarif");
    let o = run(&["scan", "-q", "--aws-credential-report", csv.to_str().unwrap(), "--now", "2026-11-20T09:00:00Z", "--sarif", sarif.to_str().unwrap()]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let v: Value = serde_json::from_str(&std::fs::read_to_string(&sarif).unwrap()).unwrap();
    let results = v["runs"][0]["results"].as_array().unwrap();
    assert_eq!(results.len(), 25_000);
    let high = results.iter().filter(|r| r["level"] == "error").count();
    assert_eq!(high, 4_400 * 3, "every high-severity result is kept");
    assert!(stderr(&o).contains("left out the 1400 least severe failing finding(s)"), "{}", stderr(&o));
    assert!(v["runs"][0]["automationDetails"]["id"].as_str().unwrap().starts_with("portcullis/aws-111122223333/"));
}

#[test]
fn blast_radius_of_a_demo_principal_as_text_json_and_html() {
    let dir = tempfile::tempdir().unwrap();
    let (json, html) = (tmp(&dir, "b.json"), tmp(&dir, "b.html"));
    let o = run(&["blast-radius", "arn:aws:iam::111122223333:user/ci-deploy", "--demo", "--json", json.to_str().unwrap(), "--html", html.to_str().unwrap()]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(stdout(&o).contains("lambda-001 (iam:PassRole + lambda:CreateFunction + lambda:InvokeFunction) via arn:aws:iam::111122223333:role/ops-automation-lambda"), "{}", stdout(&o));
    let v = read_json(&json);
    assert_eq!(v["schema"], "portcullis.blast-radius/v1");
    assert_eq!(v["administrator"], "no");
    let found: Vec<&str> = v["escalations"].as_array().unwrap().iter().filter(|e| e["found"] == true).map(|e| e["id"].as_str().unwrap()).collect();
    assert!(found.contains(&"lambda-001"), "{found:?}");
    let pass = v["permissions"].as_array().unwrap().iter().find(|p| p["action"] == "iam:PassRole").expect("iam:PassRole is listed");
    assert_eq!(pass["decision"], "allowed on some resources");
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(page.contains("Content-Security-Policy") && !page.contains("<script"));
    // An administrator that may assume the roles trusting its account; the break-glass role asks for MFA.
    let o = run(&["blast-radius", "arn:aws:iam::111122223333:user/alice", "--demo", "--json", "-", "-q"]);
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["administrator"], "yes");
    let glass = v["assumable_roles"].as_array().unwrap().iter().find(|r| r["role"] == "arn:aws:iam::111122223333:role/BreakGlassRole").expect("break-glass listed");
    assert_eq!(glass["decision"], "undecided");
    assert_eq!(glass["undecided"][0], "Bool aws:MultiFactorAuthPresent");
    // Missing policies: exit 3; an access key the sources cannot resolve: exit 2, saying why.
    assert_eq!(code(&run(&["blast-radius", "arn:aws:iam::111122223333:role/aws-service-role/support.amazonaws.com/AWSServiceRoleForSupport", "--demo", "-q"])), 3);
    let o = run(&["blast-radius", "AKIAIOSFODNN7EXAMPLE", "--demo"]);
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).contains("carry no key ids"), "{}", stderr(&o));
}
