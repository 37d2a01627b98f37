//! `--ocsf`: Detection Finding events that validate against the pinned OCSF 1.8.0 schema
//! (`fixtures/ocsf/`), for the demo and for every check fixture, and that carry what consumers key on.

mod support;

use std::path::Path;
use std::process::Command;

use serde_json::{json, Value};
use support::ocsf::Schema;

fn scan_demo(dir: &Path) -> (Vec<Value>, Value) {
    let (ocsf, findings) = (dir.join("demo.ocsf.json"), dir.join("demo.json"));
    let o = Command::new(env!("CARGO_BIN_EXE_portcullis"))
        .args(["scan", "-q", "--demo", "--ocsf", ocsf.to_str().unwrap(), "--json", findings.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    let events: Vec<Value> = serde_json::from_str(&std::fs::read_to_string(&ocsf).unwrap()).unwrap();
    let doc: Value = serde_json::from_str(&std::fs::read_to_string(&findings).unwrap()).unwrap();
    (events, doc)
}

#[test]
fn suppressed_and_baseline_events_validate() {
    let schema = Schema::pinned();
    let dir = tempfile::tempdir().unwrap();
    let (base, sup, ocsf) = (dir.path().join("base.json"), dir.path().join("s.toml"), dir.path().join("o.json"));
    let run = |args: &[&str]| Command::new(env!("CARGO_BIN_EXE_portcullis")).args(args).output().unwrap();
    run(&["scan", "-q", "--demo", "--json", base.to_str().unwrap()]);
    std::fs::write(&sup, "[[suppress]]\ncheck = \"aws_iam_*\"\nresource = \"*\"\nreason = \"r\"\napproved_by = \"a\"\nexpires = \"2099-01-01\"\n").unwrap();
    let o = run(&["scan", "-q", "--demo", "--baseline", base.to_str().unwrap(), "--suppressions", sup.to_str().unwrap(), "--ocsf", ocsf.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    let events: Vec<Value> = serde_json::from_str(&std::fs::read_to_string(&ocsf).unwrap()).unwrap();
    let suppressed: Vec<&Value> = events.iter().filter(|e| e["status_id"] == 3).collect();
    assert!(!suppressed.is_empty());
    assert!(events.iter().any(|e| e["unmapped"]["baseline_state"] == "unchanged" && e["unmapped"]["compliance"].is_object()));
    for e in &events {
        let errors = schema.validate(e);
        assert!(errors.is_empty(), "{errors:#?}");
    }
}

#[test]
fn demo_events_validate_and_carry_the_finding() {
    let schema = Schema::pinned();
    let dir = tempfile::tempdir().unwrap();
    let (events, doc) = scan_demo(dir.path());
    let findings = doc["findings"].as_array().unwrap();
    assert_eq!(events.len(), findings.len(), "one event per finding, passes and gaps included");
    for (i, ev) in events.iter().enumerate() {
        let errors = schema.validate(ev);
        assert!(errors.is_empty(), "event {i} ({}): {errors:#?}", ev["finding_info"]["analytic"]["uid"]);
        assert_eq!(ev["metadata"]["version"], schema.version());
    }
    let by_uid = |uid: &Value| events.iter().find(|e| &e["finding_info"]["uid"] == uid).unwrap_or_else(|| panic!("no event {uid}"));
    // A failing AWS key finding: the verdict, severity, ATT&CK and CIS mapping, the account.
    let f = findings.iter().find(|f| f["check_id"] == "aws_iam_access_key_rotated" && f["status"] == "fail").unwrap();
    let e = by_uid(&f["fingerprint"]);
    assert_eq!((e["status_code"].as_str(), e["is_alert"].as_bool(), e["severity_id"].as_i64()), (Some("FAIL"), Some(true), Some(4)));
    assert_eq!(e["resources"][0]["uid"], f["resource"]["id"]);
    assert_eq!(e["resources"][0]["data"], f["evidence"]);
    assert_eq!(e["cloud"]["account"], json!({"uid": f["account"], "type_id": 10, "type": "AWS Account"}));
    assert_eq!(e["unmapped"]["compliance"]["CIS AWS Foundations 3.0.0"], json!(["1.14"]));
    assert!(e["finding_info"]["attacks"].as_array().unwrap().iter().any(|a| a["sub_technique"]["uid"] == "T1078.004" && a["technique"]["uid"] == "T1078"));
    assert!(e["remediation"]["desc"].as_str().is_some_and(|d| !d.is_empty()));
    // A check that could not be evaluated says so, with why.
    let ne = findings.iter().find(|f| f["status"] == "not_evaluated").expect("the demo has a not-evaluated finding");
    let e = by_uid(&ne["fingerprint"]);
    assert_eq!((e["status_code"].as_str(), e["status_id"].as_i64(), e["status"].as_str()), (Some("NOT_EVALUATED"), Some(99), Some("Not evaluated")));
    assert_eq!(e["status_detail"], ne["message"]);
    // A passing finding is resolved, not an alert; a GCP project finding names the project.
    let p = findings.iter().find(|f| f["status"] == "pass").unwrap();
    assert_eq!((by_uid(&p["fingerprint"])["status_id"].as_i64(), by_uid(&p["fingerprint"])["is_alert"].as_bool()), (Some(4), Some(false)));
    let g = findings.iter().find(|f| f["cloud"] == "gcp" && f["check_id"].as_str().unwrap().starts_with("gcp_iam_")).unwrap();
    let e = by_uid(&g["fingerprint"]);
    assert_eq!((e["cloud"]["provider"].as_str(), e["cloud"]["project_uid"].as_str()), (Some("GCP"), g["account"].as_str()));
    let a = findings.iter().find(|f| f["cloud"] == "azure" && f["check_id"].as_str().unwrap().starts_with("azure_rbac_")).unwrap();
    assert_eq!(by_uid(&a["fingerprint"])["cloud"]["account"]["type_id"], 13);
}

#[test]
fn every_check_fixture_gives_valid_events() {
    use portcullis::engine::{scan, ScanOptions};
    let schema = Schema::pinned();
    let mut checked = 0;
    for check in portcullis::checks::all().unwrap() {
        let dir = support::root().join("fixtures/checks").join(check.meta.cloud.as_str()).join(&check.meta.id);
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_none_or(|x| x != "json") {
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap();
            let inv = portcullis::import::parse_snapshot(&text, &path.display().to_string()).unwrap();
            let opts = ScanOptions { now: inv.generated_at, only: Some(vec![check.meta.id.clone()]), ..Default::default() };
            let result = scan(&inv, &opts).unwrap();
            for ev in portcullis::report::ocsf::events(&result) {
                let errors = schema.validate(&ev);
                assert!(errors.is_empty(), "{}: {errors:#?}", path.display());
                checked += 1;
            }
        }
    }
    assert!(checked > 100, "only {checked} events checked");
}

#[test]
fn the_validator_rejects_what_the_schema_forbids() {
    // Without this, a validator that accepts everything would make the tests above vacuous.
    let schema = Schema::pinned();
    let dir = tempfile::tempdir().unwrap();
    let (events, _) = scan_demo(dir.path());
    let good = events.iter().find(|e| e["status_code"] == "FAIL").unwrap().clone();
    assert!(schema.validate(&good).is_empty());
    type Break = Box<dyn Fn(&mut Value)>;
    let broken: Vec<(&str, Break)> = vec![
        ("finding_info.uid: required", Box::new(|e: &mut Value| {
            e["finding_info"].as_object_mut().unwrap().remove("uid");
        })),
        ("severity_id: 7", Box::new(|e: &mut Value| e["severity_id"] = json!(7))),
        ("severity caption", Box::new(|e: &mut Value| e["severity"] = json!("Severe"))),
        ("unknown attribute", Box::new(|e: &mut Value| e["verdict_of_portcullis"] = json!("x"))),
        ("cloud.provider", Box::new(|e: &mut Value| {
            e["cloud"].as_object_mut().unwrap().remove("provider");
        })),
        ("time as text", Box::new(|e: &mut Value| e["time"] = json!("2026-01-01T00:00:00Z"))),
        ("type_uid", Box::new(|e: &mut Value| e["type_uid"] = json!(200402))),
        ("profile not applied", Box::new(|e: &mut Value| e["metadata"]["profiles"] = json!([]))),
        ("resource without name or uid", Box::new(|e: &mut Value| e["resources"][0] = json!({"type": "aws_iam_user"}))),
    ];
    for (what, f) in broken {
        let mut e = good.clone();
        f(&mut e);
        assert!(!schema.validate(&e).is_empty(), "the validator accepted an event with a broken {what}");
    }
}
