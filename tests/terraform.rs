//! `--terraform-plan`: hand-written plans in Terraform's JSON plan format (`fixtures/plans/`), one
//! per cloud, with good, bad and unknown-after-apply resources of every supported type.
//!
//! - A plan gives the same verdicts as the equivalent live inventory (`live-equivalent.json`: the
//!   same resources as a live read returns them once applied).
//! - Unknown values are not evaluated; findings name the Terraform address; SARIF points at the
//!   `.tf` file and line.
//! - On top of a live inventory, the plan's updates and deletions give the posture after apply.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn run(args: &[&str]) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_portcullis"));
    c.current_dir(root());
    for (k, _) in std::env::vars().filter(|(k, _)| k.starts_with("PORTCULLIS_") && !k.ends_with("ENDPOINT")) {
        c.env_remove(k);
    }
    c.args(args).output().expect("run portcullis")
}

fn code(o: &Output) -> i32 {
    o.status.code().unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn json_of(o: &Output) -> Value {
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{e}: {}", stderr(o)))
}

/// The allow-lists the fixtures assume (the partner tenant, the organization's GCP domain).
fn trust_config(dir: &Path) -> String {
    let p = dir.join("trust.toml");
    std::fs::write(&p, "[trust]\nazure_tenants = [\"9c2d4e6f-8a0b-4c1d-9e2f-3a4b5c6d7e8f\"]\ngcp_domains = [\"acme.example\"]\n").unwrap();
    p.to_str().unwrap().to_string()
}

const NOW: &str = "2026-12-02T00:00:00Z";

fn verdicts(doc: &Value) -> BTreeMap<(String, String), String> {
    doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| ((f["check_id"].as_str().unwrap().to_string(), f["resource"]["id"].as_str().unwrap().to_string()), f["status"].as_str().unwrap().to_string()))
        .collect()
}

fn plan_scan(cloud: &str, cfg: &str) -> Value {
    let plan = format!("fixtures/plans/{cloud}/plan.json");
    let o = run(&["scan", "-q", "--terraform-plan", &plan, "--config", cfg, "--now", NOW, "--json", "-"]);
    assert!(matches!(code(&o), 0 | 1 | 3), "{}", stderr(&o));
    json_of(&o)
}

#[test]
fn plans_give_the_verdicts_of_the_equivalent_live_inventory() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = trust_config(dir.path());
    for cloud in ["aws", "azure", "gcp"] {
        let plan = plan_scan(cloud, &cfg);
        let findings = plan["findings"].as_array().unwrap();
        // Every finding of a plan-only scan is about a planned resource and names its address.
        assert!(findings.iter().all(|f| f["evidence"]["terraform_address"].is_string() || f["evidence"]["terraform_address"].is_array()), "{cloud}: {plan:#}");
        // The checks a plan-only scan ran, and the same checks over the live-equivalent inventory.
        let checks: Vec<&str> = {
            let mut v: Vec<&str> = findings.iter().map(|f| f["check_id"].as_str().unwrap()).collect();
            v.dedup();
            v
        };
        let live = format!("fixtures/plans/{cloud}/live-equivalent.json");
        let o = run(&["scan", "-q", "--inventory", &live, "--config", &cfg, "--now", NOW, "--checks", &checks.join(","), "--json", "-"]);
        let live = verdicts(&json_of(&o));
        let mut compared = 0;
        for f in findings {
            let key = (f["check_id"].as_str().unwrap().to_string(), f["resource"]["id"].as_str().unwrap().to_string());
            if f["evidence"]["known_after_apply"].is_string() {
                // Not in the live equivalent as such: a value the plan could not know.
                continue;
            }
            let got = f["status"].as_str().unwrap();
            assert_eq!(live.get(&key).map(String::as_str), Some(got), "{cloud}: {key:?}: plan says {got}");
            compared += 1;
        }
        assert!(compared >= 5, "{cloud}: only {compared} verdicts compared");
        // Good and bad: every check the plan ran has at least one failing finding, and the plan
        // as a whole has passes too.
        for c in &checks {
            let mine: Vec<&Value> = findings.iter().filter(|f| f["check_id"] == *c).collect();
            // A plan carries no role's permissions: a check that asks the GCP role model about a
            // planned grant is not evaluated on a plan alone, and says why.
            let undecided: Vec<&&Value> = mine.iter().filter(|f| f["status"] != "pass").collect();
            let wants_roles = !undecided.is_empty() && undecided.iter().all(|f| f["status"] == "not_evaluated" && f["message"].as_str().unwrap_or_default().contains("predefined role"));
            assert!(mine.iter().any(|f| f["status"] == "fail") || wants_roles, "{cloud}: no failing {c}: {mine:#?}");
        }
        assert!(findings.iter().any(|f| f["status"] == "pass"), "{cloud}: no pass");
    }
}

#[test]
fn every_supported_resource_type_has_a_fixture_and_unknowns_are_not_evaluated() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = trust_config(dir.path());
    let mut seen = std::collections::BTreeSet::new();
    for cloud in ["aws", "azure", "gcp"] {
        let text = std::fs::read_to_string(root().join(format!("fixtures/plans/{cloud}/plan.json"))).unwrap();
        let doc: Value = serde_json::from_str(&text).unwrap();
        for rc in doc["resource_changes"].as_array().unwrap() {
            seen.insert(rc["type"].as_str().unwrap().to_string());
        }
        let scan = plan_scan(cloud, &cfg);
        for f in scan["findings"].as_array().unwrap().iter().filter(|f| f["evidence"]["known_after_apply"].is_string()) {
            // Unknown is never secure: not evaluated, or a failure found in what is known.
            assert_ne!(f["status"], "pass", "{f:#}");
        }
    }
    for other in ["aws/change.json", "guardrails/plan.json"] {
        let change: Value = serde_json::from_str(&std::fs::read_to_string(root().join("fixtures/plans").join(other)).unwrap()).unwrap();
        seen.extend(change["resource_changes"].as_array().unwrap().iter().map(|r| r["type"].as_str().unwrap().to_string()));
    }
    for t in portcullis::import::terraform::TYPES {
        assert!(seen.contains(t.rtype), "no plan fixture has a {}", t.rtype);
    }
    let aws = plan_scan("aws", &cfg);
    let by_addr = |a: &str, c: &str| {
        aws["findings"].as_array().unwrap().iter().find(|f| f["evidence"]["terraform_address"] == a && f["check_id"] == c).cloned().unwrap_or_else(|| panic!("{a} {c}"))
    };
    assert_eq!(by_addr("aws_instance.defaults", "aws_ec2_instance_imdsv2_required")["status"], "not_evaluated");
    assert_eq!(by_addr("aws_cloudtrail.new_key", "aws_cloudtrail_kms_encryption")["status"], "not_evaluated");
    assert_eq!(by_addr("aws_cloudtrail.new_key", "aws_cloudtrail_log_file_validation")["status"], "pass", "what is known is still judged");
    assert_eq!(by_addr("aws_iam_role.trust_from_data", "aws_iam_role_trust_not_public")["status"], "not_evaluated");
    let f = by_addr("aws_iam_role.public_trust", "aws_iam_role_trust_not_public");
    assert_eq!((f["status"].as_str(), f["evidence"]["terraform_action"].as_str()), (Some("fail"), Some("create")));
    assert_eq!(f["evidence"]["terraform_file"], "fixtures/plans/aws/main.tf:8");
    assert_eq!(by_addr("module.ci.aws_iam_role.deploy", "aws_iam_role_oidc_trust_subject_restricted")["evidence"]["terraform_file"], "fixtures/plans/aws/modules/ci/main.tf:16");
    // The azure app whose third credential's end is unknown still fails on the two known ones.
    let az = plan_scan("azure", &cfg);
    let app = az["findings"].as_array().unwrap().iter().find(|f| f["resource"]["id"] == "4a3b2c1d-0e9f-8a7b-6c5d-4e3f2a1b0c9d").unwrap().clone();
    assert_eq!(app["status"], "fail");
    assert!(app["evidence"]["known_after_apply"].as_str().unwrap().contains("azuread_application_password.from_var"));
}

#[test]
fn sarif_points_at_the_terraform_file_and_line() {
    let o = run(&["scan", "-q", "--terraform-plan", "fixtures/plans/aws/plan.json", "--sarif", "-"]);
    let sarif = json_of(&o);
    let results = sarif["runs"][0]["results"].as_array().unwrap();
    let r = results.iter().find(|r| r["properties"]["terraformAddress"] == "aws_iam_role.public_trust").unwrap();
    assert_eq!(r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"], "fixtures/plans/aws/main.tf");
    assert_eq!(r["locations"][0]["physicalLocation"]["region"]["startLine"], 8);
    // A resource whose block is not in the configuration's files keeps the pseudo-path.
    let r = results.iter().find(|r| r["properties"]["terraformAddress"] == "aws_iam_role.partner").unwrap();
    assert_eq!(r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"], "aws/111122223333/iam/role/partner");
}

#[test]
fn a_plan_on_top_of_a_live_inventory_shows_the_posture_after_apply() {
    let checks = "aws_iam_role_*,aws_cloudtrail_*,aws_iam_password_policy_strong,aws_ec2_instance_imdsv2_required";
    let live = "fixtures/plans/aws/live-equivalent.json";
    let before = json_of(&run(&["scan", "-q", "--inventory", live, "--checks", checks, "--json", "-"]));
    let after = json_of(&run(&["scan", "-q", "--inventory", live, "--terraform-plan", "fixtures/plans/aws/change.json", "--checks", checks, "--json", "-"]));
    let status = |doc: &Value, check: &str, name: &str| -> String {
        doc["findings"].as_array().unwrap().iter().find(|f| f["check_id"] == check && (name == "*" || f["resource"]["name"] == name)).map(|f| f["status"].as_str().unwrap().to_string()).unwrap_or_else(|| "absent".into())
    };
    for (check, name, was, is) in [
        ("aws_iam_role_cross_account_trust_restricted", "partner", "fail", "pass"),
        ("aws_iam_role_trust_not_public", "same-account", "pass", "fail"),
        ("aws_cloudtrail_multi_region_management_events", "*", "pass", "fail"),
        ("aws_cloudtrail_log_file_validation", "org-trail", "pass", "absent"),
        ("aws_iam_password_policy_strong", "111122223333", "fail", "pass"),
        ("aws_ec2_instance_imdsv2_required", "aws_instance.legacy", "fail", "pass"),
    ] {
        assert_eq!((status(&before, check, name).as_str(), status(&after, check, name).as_str()), (was, is), "{check} on {name}");
    }
    let f = after["findings"].as_array().unwrap().iter().find(|f| f["check_id"] == "aws_iam_role_trust_not_public" && f["resource"]["name"] == "same-account").unwrap();
    assert_eq!(f["evidence"]["terraform_action"], "update");

    // The gate judges the posture after the change.
    let o = run(&["scan", "-q", "--inventory", live, "--terraform-plan", "fixtures/plans/aws/change.json", "--checks", "aws_iam_role_trust_not_public", "--fail-on", "critical"]);
    assert_eq!(code(&o), 1, "{}", stderr(&o));
}

#[test]
fn plan_gates_and_errors() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = trust_config(dir.path());
    // Bad resources → 1; only unknown verdicts → 3; a plan that touches nothing judged → 0.
    assert_eq!(code(&run(&["scan", "-q", "--terraform-plan", "fixtures/plans/gcp/plan.json", "--config", &cfg, "--fail-on", "high"])), 1);
    let only_unknown = dir.path().join("unknown.json");
    let mut doc: Value = serde_json::from_str(&std::fs::read_to_string(root().join("fixtures/plans/aws/plan.json")).unwrap()).unwrap();
    doc["resource_changes"].as_array_mut().unwrap().retain(|r| r["address"] == "aws_instance.defaults");
    std::fs::write(&only_unknown, doc.to_string()).unwrap();
    let o = run(&["scan", "-q", "--terraform-plan", only_unknown.to_str().unwrap(), "--fail-on", "high"]);
    assert_eq!(code(&o), 3, "{}", stderr(&o));
    let good = dir.path().join("good.json");
    doc["resource_changes"] = serde_json::json!([]);
    std::fs::write(&good, doc.to_string()).unwrap();
    let sarif = dir.path().join("out.sarif");
    let o = run(&["scan", "-q", "--terraform-plan", good.to_str().unwrap(), "--fail-on", "low", "--sarif", sarif.to_str().unwrap()]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(stderr(&o).contains("the plan creates, changes or deletes no resource Portcullis judges"), "{}", stderr(&o));
    assert!(sarif.exists(), "the SARIF is still written for the upload step");

    // Not a plan → 2, saying what to give.
    let state = dir.path().join("state.json");
    std::fs::write(&state, "{\"format_version\": \"1.0\", \"values\": {}}").unwrap();
    let o = run(&["scan", "--terraform-plan", state.to_str().unwrap()]);
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).contains("not a plan"), "{}", stderr(&o));
    let o = run(&["scan", "--terraform-plan", "fixtures/plans/nope.json"]);
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).contains("--terraform-plan fixtures/plans/nope.json: cannot read"), "{}", stderr(&o));
}

/// The fixture's resource of `address`, turned into a deletion (before = the planned values).
fn deletion_of(cloud: &str, address: &str, dir: &Path) -> String {
    let mut doc: Value = serde_json::from_str(&std::fs::read_to_string(root().join(format!("fixtures/plans/{cloud}/plan.json"))).unwrap()).unwrap();
    doc["resource_changes"].as_array_mut().unwrap().retain(|r| r["address"] == address);
    let change = &mut doc["resource_changes"][0]["change"];
    change["before"] = change["after"].take();
    change["actions"] = serde_json::json!(["delete"]);
    change["after_unknown"] = serde_json::json!({});
    let p = dir.join(format!("{cloud}-delete.json"));
    std::fs::write(&p, doc.to_string()).unwrap();
    p.to_str().unwrap().to_string()
}

#[test]
fn deleting_audit_logging_in_a_plan_fails_the_scope_after_apply() {
    let dir = tempfile::tempdir().unwrap();
    for (cloud, address, check) in [
        ("azure", "azurerm_monitor_diagnostic_setting.activity", "azure_monitor_activity_log_exported"),
        ("gcp", "google_project_iam_audit_config.all", "gcp_logging_data_access_audit_enabled"),
    ] {
        let live = format!("fixtures/plans/{cloud}/live-equivalent.json");
        let plan = deletion_of(cloud, address, dir.path());
        let statuses = |doc: &Value| -> Vec<String> {
            doc["findings"].as_array().unwrap().iter().filter(|f| f["check_id"] == check && !["acme-dev", "acme-data"].contains(&f["account"].as_str().unwrap_or_default())).map(|f| f["status"].as_str().unwrap().to_string()).collect()
        };
        let before = json_of(&run(&["scan", "-q", "--inventory", &live, "--checks", check, "--json", "-"]));
        let after = json_of(&run(&["scan", "-q", "--inventory", &live, "--terraform-plan", &plan, "--checks", check, "--json", "-"]));
        assert_eq!(statuses(&before), ["pass"], "{cloud}: {before:#}");
        assert_eq!(statuses(&after), ["fail"], "{cloud}: {after:#}");
    }
}

#[test]
fn docs_list_every_supported_type_and_its_checks() {
    let doc = std::fs::read_to_string(root().join("docs/terraform.md")).unwrap();
    for t in portcullis::import::terraform::TYPES {
        let row = doc.lines().find(|l| l.starts_with(&format!("| `{}` |", t.rtype))).unwrap_or_else(|| panic!("docs/terraform.md has no row for {}", t.rtype));
        for c in t.checks {
            assert!(row.contains(c) || row.contains("the same three"), "{}: {c} missing from {row}", t.rtype);
        }
    }
}

#[test]
fn guardrail_and_credential_changes_apply_on_top_of_a_snapshot() {
    // The demo's organization, account and projects, as a snapshot: the "live" side.
    let dir = tempfile::tempdir().unwrap();
    let snap = dir.path().join("demo.json");
    let o = run(&["collect", "--demo", "--out", snap.to_str().unwrap()]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let checks = "aws_organizations_scp_denies_leave,aws_organizations_scp_restricts_root,aws_iam_user_single_active_key,gcp_orgpolicy_key_constraints_enforced";
    let scan = |plan: Option<&str>| {
        let mut args = vec!["scan", "-q", "--inventory", snap.to_str().unwrap(), "--checks", checks, "--json", "-"];
        if let Some(p) = plan {
            args.extend(["--terraform-plan", p]);
        }
        let o = run(&args);
        assert!(!stderr(&o).contains("warning"), "{}", stderr(&o));
        json_of(&o)
    };
    let status = |doc: &Value, check: &str, name: &str| -> String {
        doc["findings"].as_array().unwrap().iter().find(|f| f["check_id"] == check && f["resource"]["name"] == name).map(|f| f["status"].as_str().unwrap().to_string()).unwrap()
    };
    let (before, after) = (scan(None), scan(Some("fixtures/plans/guardrails/plan.json")));
    for (check, name, was, is) in [
        // The update adds a carve-out matching every principal: no guardrail any more.
        ("aws_organizations_scp_denies_leave", "111122223333", "pass", "fail"),
        // A new SCP, attached to the root through a reference to it in the same plan.
        ("aws_organizations_scp_restricts_root", "111122223333", "fail", "pass"),
        // A second active key for alice.
        ("aws_iam_user_single_active_key", "alice", "pass", "fail"),
        // A project-level org policy switched off.
        ("gcp_orgpolicy_key_constraints_enforced", "clean-sandbox", "pass", "fail"),
    ] {
        assert_eq!((status(&before, check, name).as_str(), status(&after, check, name).as_str()), (was, is), "{check} on {name}");
    }
    let payments = |doc: &Value| {
        doc["findings"].as_array().unwrap().iter().find(|f| f["check_id"] == "gcp_orgpolicy_key_constraints_enforced" && f["resource"]["name"] == "prod-payments").unwrap()["message"].as_str().unwrap().to_string()
    };
    assert!(payments(&before).contains("iam.disableServiceAccountKeyUpload is not enforced"));
    assert!(!payments(&after).contains("iam.disableServiceAccountKeyUpload is not enforced"), "{}", payments(&after));
}
