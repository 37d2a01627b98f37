//! The CI gate: every exit-code outcome with baselines and suppressions, how each output shows
//! them, and configuration discovery (file in the working directory, PORTCULLIS_* variables).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_portcullis"));
    // The gate's settings must come from each test, not from the machine running it.
    for (k, _) in std::env::vars() {
        if ["PORTCULLIS_SCAN_", "PORTCULLIS_TRUST_", "PORTCULLIS_GATE_", "PORTCULLIS_FIXES_", "PORTCULLIS_SEVERITY__", "PORTCULLIS_CHECKS__", "PORTCULLIS_CONFIG"]
            .iter()
            .any(|p| k.starts_with(p))
        {
            c.env_remove(k);
        }
    }
    c
}

fn run(args: &[&str]) -> Output {
    bin().args(args).output().expect("run portcullis")
}

fn code(o: &Output) -> i32 {
    o.status.code().expect("exit code")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn read_json(p: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// The demo's findings JSON, as a baseline to edit.
fn demo_json(dir: &Path) -> (PathBuf, Value) {
    let p = dir.join("base.json");
    let o = run(&["scan", "--demo", "-q", "--json", s(&p)]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let v = read_json(&p);
    (p, v)
}

fn failing(v: &Value) -> Vec<&Value> {
    v["findings"].as_array().unwrap().iter().filter(|f| f["status"] == "fail").collect()
}

const GATE: [&str; 5] = ["scan", "--demo", "-q", "--fail-on", "high"];

fn gate(extra: &[&str]) -> Output {
    let mut args = GATE.to_vec();
    args.push("--allow-incomplete");
    args.extend(extra);
    run(&args)
}

#[test]
fn every_gate_outcome() {
    let dir = tempfile::tempdir().unwrap();
    let (base, doc) = demo_json(dir.path());

    // Only baseline findings → 0 (the demo fails many high checks, all known).
    let o = gate(&["--baseline", s(&base)]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(stderr(&o).contains("0 new, 60 unchanged, 0 resolved since the baseline."), "{}", stderr(&o));
    assert!(stderr(&o).contains("no new failing finding at or above high; not counted: 43 unchanged since the baseline"), "{}", stderr(&o));

    // A new high finding → 1: the baseline lacks one of today's high failures.
    let mut edited = doc.clone();
    let gone = failing(&doc).into_iter().find(|f| f["check_id"] == "aws_iam_user_console_mfa_enabled").unwrap()["fingerprint"].clone();
    edited["findings"].as_array_mut().unwrap().retain(|f| f["fingerprint"] != gone);
    let older = dir.path().join("older.json");
    std::fs::write(&older, edited.to_string()).unwrap();
    let o = gate(&["--baseline", s(&older)]);
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    assert!(stderr(&o).contains("1 new failing finding(s) at or above high"), "{}", stderr(&o));

    // A new finding below the threshold does not fail a high gate.
    let mut low = doc.clone();
    let medium = failing(&doc).into_iter().find(|f| f["severity"] == "medium").unwrap()["fingerprint"].clone();
    low["findings"].as_array_mut().unwrap().retain(|f| f["fingerprint"] != medium);
    std::fs::write(&older, low.to_string()).unwrap();
    assert_eq!(code(&gate(&["--baseline", s(&older)])), 0);

    // Denied or missing data without --allow-incomplete → 3, even when every failure is known.
    let o = run(&[&GATE[..], &["--baseline", s(&base)]].concat());
    assert_eq!(code(&o), 3, "{}", stderr(&o));
    assert!(stderr(&o).contains("aws_accessanalyzer_no_active_findings"), "{}", stderr(&o));

    // An empty selection → 2.
    let o = run(&["scan", "--demo", "-q", "--fail-on", "high", "--checks", "aws_iam_root_mfa_enabled", "--skip-checks", "aws_iam_root_*"]);
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    assert!(stderr(&o).contains("no check is selected"), "{}", stderr(&o));
}

fn suppression(check: &str, resource: &str, expires: &str) -> String {
    format!("[[suppress]]\ncheck = \"{check}\"\nresource = \"{resource}\"\nreason = \"break-glass user, keys in a vault\"\napproved_by = \"security@acme.example\"\nexpires = \"{expires}\"\n")
}

#[test]
fn suppressions_hide_from_the_gate_but_not_from_the_reports() {
    let dir = tempfile::tempdir().unwrap();
    let sup = dir.path().join("suppressions.toml");
    let one = ["scan", "--demo", "-q", "--fail-on", "high", "--checks", "aws_iam_user_console_mfa_enabled"];
    assert_eq!(code(&run(&one)), 1, "bob has a console password and no MFA");

    // Suppressed → 0, and every output still shows the finding, as suppressed.
    std::fs::write(&sup, suppression("aws_iam_user_console_mfa_*", "arn:aws:iam::111122223333:user/bob", "2099-12-31")).unwrap();
    let (json, sarif, md, ocsf) = (dir.path().join("f.json"), dir.path().join("f.sarif"), dir.path().join("f.md"), dir.path().join("f.ocsf.json"));
    let mut args = one.to_vec();
    args.extend(["--suppressions", s(&sup), "--json", s(&json), "--sarif", s(&sarif), "--markdown", s(&md), "--ocsf", s(&ocsf)]);
    let o = run(&args);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(stderr(&o).contains("1 suppressed"), "{}", stderr(&o));
    let j = read_json(&json);
    let f = failing(&j)[0];
    assert_eq!(f["suppression"]["approved_by"], "security@acme.example");
    assert_eq!(j["suppressions"][0]["state"], "applied");
    let sarif = read_json(&sarif);
    let r = &sarif["runs"][0]["results"][0];
    assert_eq!(r["suppressions"][0]["kind"], "external");
    assert!(r["suppressions"][0]["justification"].as_str().unwrap().contains("break-glass user"), "{r}");
    assert!(std::fs::read_to_string(&md).unwrap().contains("(suppressed)"));
    let ev = &read_json(&ocsf).as_array().unwrap().iter().find(|e| e["status_code"] == "FAIL").unwrap().clone();
    assert_eq!(ev["status_id"], 3);

    // Expired → it stops applying (1), and says so.
    std::fs::write(&sup, suppression("aws_iam_user_console_mfa_enabled", "arn:aws:iam::111122223333:user/bob", "2020-01-31")).unwrap();
    let o = run(&[&one[..], &["--suppressions", s(&sup)]].concat());
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    assert!(stderr(&o).contains("suppression #1 (aws_iam_user_console_mfa_enabled on arn:aws:iam::111122223333:user/bob) expired on 2020-01-31"), "{}", stderr(&o));

    // Matching nothing → reported; the finding still counts.
    std::fs::write(&sup, suppression("aws_iam_user_console_mfa_enabled", "arn:aws:iam::111122223333:user/bobby", "2099-01-31")).unwrap();
    let o = run(&[&one[..], &["--suppressions", s(&sup)]].concat());
    assert_eq!(code(&o), 1);
    assert!(stderr(&o).contains("matched no failing finding"), "{}", stderr(&o));

    // A bad file → 2, naming the entry.
    std::fs::write(&sup, suppression("aws_iam_user_console_mfa_enabled", "*", "2099-01-31").replace("reason = \"break-glass user, keys in a vault\"\n", "")).unwrap();
    let o = run(&[&one[..], &["--suppressions", s(&sup)]].concat());
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).contains("missing field `reason`"), "{}", stderr(&o));
}

#[test]
fn baseline_states_resolved_findings_and_other_scopes() {
    let dir = tempfile::tempdir().unwrap();
    let (_, doc) = demo_json(dir.path());
    // Make the baseline fail something that passes today (resolved), and drop a failure (new).
    let mut b = doc.clone();
    let list = b["findings"].as_array_mut().unwrap();
    let passing = list.iter().position(|f| f["status"] == "pass" && f["check_id"] == "aws_iam_root_mfa_enabled").unwrap();
    list[passing]["status"] = "fail".into();
    // A failure in an account this scan does not cover: not rescanned, so not resolved.
    let mut elsewhere = list[passing].clone();
    elsewhere["account"] = "999988887777".into();
    elsewhere["fingerprint"] = "0123456789abcdef0123456789abcdef".into();
    list.push(elsewhere);
    let new_fp = list.iter().find(|f| f["status"] == "fail" && f["check_id"] == "gcp_iam_no_public_access").unwrap()["fingerprint"].clone();
    list.retain(|f| f["fingerprint"] != new_fp);
    let base = dir.path().join("b.json");
    std::fs::write(&base, b.to_string()).unwrap();
    let (json, sarif, html) = (dir.path().join("f.json"), dir.path().join("f.sarif"), dir.path().join("f.html"));
    let o = gate(&["--baseline", s(&base), "--json", s(&json), "--sarif", s(&sarif), "--html", s(&html)]);
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    let err = stderr(&o);
    assert!(err.contains("1 new, 59 unchanged, 1 resolved since the baseline."), "{err}");
    assert!(err.contains("1 baseline finding(s) are in checks or scopes this scan did not cover"), "{err}");
    let j = read_json(&json);
    assert_eq!(j["baseline"]["resolved"][0]["check_id"], "aws_iam_root_mfa_enabled");
    assert_eq!(j["baseline"]["not_rescanned"], 1);
    let states: Vec<&str> = failing(&j).iter().map(|f| f["baseline_state"].as_str().unwrap()).collect();
    assert_eq!(states.iter().filter(|s| **s == "new").count(), 1);
    let sarif_path = sarif.clone();
    let sarif = read_json(&sarif);
    let results = sarif["runs"][0]["results"].as_array().unwrap();
    assert!(results.iter().all(|r| r["baselineState"] == "new" || r["baselineState"] == "unchanged"));
    assert_eq!(results.iter().filter(|r| r["baselineState"] == "new").count(), 1);
    assert_eq!(sarif["runs"][0]["properties"]["baseline"]["resolved"].as_array().unwrap().len(), 1);
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(page.contains("1 resolved since the baseline") && page.contains("triage-new"), "the HTML marks new findings");

    // A SARIF baseline works the same way.
    let o = gate(&["--baseline", s(&sarif_path)]);
    assert_eq!(code(&o), 0, "today's SARIF as the baseline: nothing new: {}", stderr(&o));

    // A baseline of other scopes says so instead of silently matching nothing.
    let mut other = doc.clone();
    for f in other["findings"].as_array_mut().unwrap() {
        f["account"] = "444455556666".into();
        f["fingerprint"] = format!("{}x", f["fingerprint"].as_str().unwrap()).into();
    }
    other["tool"]["version"] = "0.0.1".into();
    std::fs::write(&base, other.to_string()).unwrap();
    let o = gate(&["--baseline", s(&base)]);
    assert_eq!(code(&o), 1);
    let err = stderr(&o);
    assert!(err.contains("the baseline covers other scopes (444455556666)"), "{err}");
    assert!(err.contains("written by Portcullis 0.0.1"), "{err}");

    // Something that is not a Portcullis baseline → 2.
    std::fs::write(&base, "{\"version\": \"2.1.0\", \"runs\": [{\"tool\": {\"driver\": {\"name\": \"Trivy\"}}, \"results\": []}]}").unwrap();
    let o = gate(&["--baseline", s(&base)]);
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).contains("no run of Portcullis"), "{}", stderr(&o));
}

#[test]
fn configuration_is_found_in_the_working_directory_and_overridden_by_the_environment() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("portcullis.toml"), "[scan]\nchecks = [\"aws_iam_user_console_mfa_enabled\"]\n[gate]\nfail_on = \"high\"\n").unwrap();
    let o = bin().current_dir(dir.path()).args(["scan", "--demo", "-q"]).output().unwrap();
    assert_eq!(code(&o), 1, "the file's selection and gate apply: {}", stderr(&o));
    assert!(stderr(&o).contains("1 failing, 3 passing, 0 not evaluated."), "{}", stderr(&o));
    // An environment variable overrides the file.
    let o = bin().current_dir(dir.path()).env("PORTCULLIS_GATE_FAIL_ON", "critical").args(["scan", "--demo", "-q"]).output().unwrap();
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    // config show prints the effective result and where it came from.
    let o = bin().current_dir(dir.path()).env("PORTCULLIS_TRUST_AWS_ORGANIZATIONS", "o-a1b2c3d4e5").args(["config", "show"]).output().unwrap();
    let out = String::from_utf8_lossy(&o.stdout);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(out.contains("# file: portcullis.toml") && out.contains("PORTCULLIS_TRUST_AWS_ORGANIZATIONS"), "{out}");
    assert!(out.contains("aws_organizations = [\"o-a1b2c3d4e5\"]"), "{out}");
    assert!(out.contains("max_key_age_days = 90"), "thresholds at their defaults: {out}");
    // Unknown keys are errors with a did-you-mean.
    std::fs::write(dir.path().join("portcullis.toml"), "[gate]\nfail_onn = \"high\"\n").unwrap();
    let o = bin().current_dir(dir.path()).args(["scan", "--demo", "-q"]).output().unwrap();
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).contains("[gate]: unknown key \"fail_onn\" (did you mean fail_on?)"), "{}", stderr(&o));
}

#[test]
fn a_denied_service_exits_three_unless_allowed_and_names_the_permission() {
    let dir = tempfile::tempdir().unwrap();
    let snap = dir.path().join("inv.json");
    assert_eq!(code(&run(&["collect", "--demo", "--out", s(&snap)])), 0);
    // The credential report was refused: what a live scan records for a missing permission.
    let mut inv = read_json(&snap);
    inv["aws"]["accounts"][0]["credential_report"] = serde_json::json!({"denied": {"action": "iam:GenerateCredentialReport"}});
    std::fs::write(&snap, inv.to_string()).unwrap();
    let args = ["scan", "-q", "--inventory", s(&snap), "--checks", "aws_iam_access_key_rotated,aws_iam_password_policy_strong", "--fail-on", "high"];
    let o = run(&args);
    assert_eq!(code(&o), 3, "{}", stderr(&o));
    assert!(stderr(&o).contains("aws_iam_access_key_rotated"), "{}", stderr(&o));
    let o = run(&[&args[..], &["--json", "-"]].concat());
    let doc: Value = serde_json::from_slice(&o.stdout).unwrap();
    let ne = doc["findings"].as_array().unwrap().iter().find(|f| f["status"] == "not_evaluated").unwrap();
    assert_eq!(ne["evidence"]["missing_permission"], "iam:GenerateCredentialReport");
    // Accepted: the password policy (medium) is below the threshold, so the gate passes.
    assert_eq!(code(&run(&[&args[..], &["--allow-incomplete"]].concat())), 0);
    // A baseline does not hide a gap: it is about now.
    let base = dir.path().join("base.json");
    run(&["scan", "-q", "--inventory", s(&snap), "--json", s(&base)]);
    assert_eq!(code(&run(&[&args[..], &["--baseline", s(&base)]].concat())), 3);
}
