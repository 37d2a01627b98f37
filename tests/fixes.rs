//! `--fixes DIR`: every generated SCP is valid JSON under the 5,120-character limit and clean under
//! Parliament; each fix sits beside the finding that produced it (snapshots, every template); and
//! an SCP applied to the moto organization makes the guardrail findings it targets pass.

mod support;

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use portcullis::engine::{scan, ScanOptions};
use portcullis::finding::Status;
use portcullis::fix::{self, FixOptions};
use serde_json::Value;

fn options() -> FixOptions {
    FixOptions { break_glass_roles: vec!["BreakGlass".into()], access_key_admin_roles: vec!["IdentityAdmin".into()] }
}

/// Every `fail*.json` fixture of every check that names fix templates, scanned alone and fixed.
fn fixture_fixes() -> Vec<(String, String, portcullis::fix::FixSet, String)> {
    let mut out = Vec::new();
    for check in portcullis::checks::all().unwrap().iter().filter(|c| !c.meta.fix.is_empty()) {
        let dir = support::root().join("fixtures/checks").join(check.meta.cloud.as_str()).join(&check.meta.id);
        let mut files: Vec<PathBuf> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()).filter(|p| p.file_name().unwrap().to_string_lossy().starts_with("fail")).collect();
        files.sort();
        for path in files {
            let inv = portcullis::import::parse_snapshot(&std::fs::read_to_string(&path).unwrap(), "fixture").unwrap();
            let opts = ScanOptions { now: inv.generated_at, only: Some(vec![check.meta.id.clone()]), ..Default::default() };
            let result = scan(&inv, &opts).unwrap();
            let set = fix::plan(&result, &inv, &options(), &portcullis::settings::Trusted::default()).unwrap();
            // The findings each artifact addresses, by fingerprint.
            let mut side = String::new();
            for a in &set.artifacts {
                let _ = writeln!(side, "## {} → targets {:?}, templates {:?}", a.path, a.targets, a.templates);
                for f in result.findings.iter().filter(|f| f.status == Status::Fail && a.findings.contains(&f.fingerprint())) {
                    let _ = writeln!(side, "fixes {} {} {}: {}", f.check_id, f.account, f.resource.name, f.message);
                }
                side.push_str(&a.content);
            }
            out.push((check.meta.id.clone(), path.file_name().unwrap().to_string_lossy().into_owned(), set, side));
        }
    }
    out
}

#[test]
fn each_fix_beside_the_finding_that_produced_it() {
    let mut per_check: std::collections::BTreeMap<String, String> = std::collections::BTreeMap::new();
    let mut templates = std::collections::BTreeSet::new();
    for (check, file, set, side) in fixture_fixes() {
        assert!(!set.artifacts.is_empty(), "{check}/{file}: a failing finding with fix templates and no fix");
        templates.extend(set.artifacts.iter().flat_map(|a| a.templates.iter().cloned()));
        let _ = write!(per_check.entry(check).or_default(), "# {file}\n{side}\n");
    }
    for (check, snap) in per_check {
        insta::assert_snapshot!(format!("fix_{check}"), snap);
    }
    let all: std::collections::BTreeSet<String> = fix::template_names().map(str::to_string).collect();
    assert_eq!(templates, all, "every fix template is shown beside a finding");
}

/// Parliament's findings for each file, or `None` when it is not installed (outside CI).
fn parliament(files: &[PathBuf]) -> Option<Vec<Value>> {
    let python = support::moto_python()?;
    let o = Command::new(python).arg(support::root().join("tests/support/parliament_check.py")).args(files).output().unwrap();
    let stderr = String::from_utf8_lossy(&o.stderr);
    if stderr.contains("No module named 'parliament'") {
        assert!(std::env::var_os("PORTCULLIS_REQUIRE_TOOLS").is_none(), "parliament not installed (run .ci/run)");
        eprintln!("skipped: parliament not installed; `bash .ci/run` installs it");
        return None;
    }
    assert!(o.status.success(), "parliament: {stderr}");
    Some(String::from_utf8_lossy(&o.stdout).lines().map(|l| serde_json::from_str(l).unwrap()).collect())
}

fn scp_files(dir: &Path) -> Vec<PathBuf> {
    let scp = dir.join("aws/scp");
    let mut v: Vec<PathBuf> = std::fs::read_dir(&scp).map(|rd| rd.map(|e| e.unwrap().path()).collect()).unwrap_or_default();
    v.sort();
    v
}

#[test]
fn scps_are_valid_json_under_the_limit_and_clean_under_parliament() {
    let dir = tempfile::tempdir().unwrap();
    // The demo through the CLI (with a configuration naming the exempted roles)…
    let cfg = dir.path().join("portcullis.toml");
    std::fs::write(&cfg, "[fixes]\nbreak_glass_roles = [\"BreakGlass\"]\naccess_key_admin_roles = [\"IdentityAdmin\"]\n").unwrap();
    let out = dir.path().join("demo-fixes");
    let o = Command::new(env!("CARGO_BIN_EXE_portcullis"))
        .args(["scan", "--demo", "-q", "--config", cfg.to_str().unwrap(), "--fixes", out.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    let mut files = scp_files(&out);
    assert!(!files.is_empty());
    let readme = std::fs::read_to_string(out.join("aws/README.md")).unwrap();
    for want in ["Nothing here has been applied", "Attach to", "Prevents:", "Would affect:", "Roll back", "aws organizations attach-policy", "BreakGlass"] {
        assert!(readme.contains(want), "README lacks {want:?}:\n{readme}");
    }
    let manifest: Value = serde_json::from_str(&std::fs::read_to_string(out.join("fixes.json")).unwrap()).unwrap();
    assert_eq!(manifest["artifacts"].as_array().unwrap().iter().filter(|a| a["kind"] == "scp").count(), files.len());
    // …and every fixture's fixes, so that every template is linted.
    for (i, (_, _, set, _)) in fixture_fixes().into_iter().enumerate() {
        let d = dir.path().join(format!("fixture-{i}"));
        set.write(&d).unwrap();
        files.extend(scp_files(&d));
    }
    for f in &files {
        let v: Value = serde_json::from_str(&std::fs::read_to_string(f).unwrap()).unwrap_or_else(|e| panic!("{}: {e}", f.display()));
        let minified = serde_json::to_string(&v).unwrap();
        assert!(minified.chars().count() <= fix::aws::SCP_LIMIT, "{}: {} characters", f.display(), minified.len());
        assert_eq!(v["Version"], "2012-10-17");
        let sids: Vec<&str> = v["Statement"].as_array().unwrap().iter().map(|s| s["Sid"].as_str().unwrap()).collect();
        let unique: std::collections::BTreeSet<&&str> = sids.iter().collect();
        assert_eq!(unique.len(), sids.len(), "{}: duplicate Sid", f.display());
    }
    let Some(reports) = parliament(&files) else { return };
    assert_eq!(reports.len(), files.len());
    eprintln!("Parliament linted {} SCP file(s)", files.len());
    for r in reports {
        assert!(r["findings"].as_array().unwrap().is_empty(), "Parliament: {r}");
    }
}

#[test]
fn an_applied_scp_makes_the_guardrail_findings_pass() {
    let Some(moto) = support::Moto::start() else { return };
    let ids = moto.seed(&["org"]);
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("portcullis.toml");
    std::fs::write(&cfg, "[fixes]\nbreak_glass_roles = [\"BreakGlass\"]\n").unwrap();
    let run = |json: &Path, fixes: Option<&Path>| -> Vec<Value> {
        let mut args = vec!["scan", "--aws", "--aws-org", "--aws-regions", "us-east-1", "-q", "--config", cfg.to_str().unwrap(), "--checks", "aws_organizations_scp_*", "--json", json.to_str().unwrap()];
        if let Some(f) = fixes {
            args.extend(["--fixes", f.to_str().unwrap()]);
        }
        let o = support::portcullis(&moto.endpoint(), None, &args);
        assert!(matches!(o.status.code(), Some(0 | 3)), "{}", String::from_utf8_lossy(&o.stderr));
        let v: Value = serde_json::from_str(&std::fs::read_to_string(json).unwrap()).unwrap();
        v["findings"].as_array().unwrap().clone()
    };
    let fixes = dir.path().join("fixes");
    let before = run(&dir.path().join("before.json"), Some(&fixes));
    let failing: Vec<(String, String)> = before
        .iter()
        .filter(|f| f["status"] == "fail")
        .map(|f| (f["check_id"].as_str().unwrap().to_string(), f["account"].as_str().unwrap().to_string()))
        .collect();
    assert!(!failing.is_empty(), "the seeded organization lacks some guardrails: {before:?}");
    assert!(before.iter().filter(|f| f["status"] == "fail").all(|f| !f["fixes"].as_array().unwrap().is_empty()), "every failing guardrail finding names its fix");

    let manifest: Value = serde_json::from_str(&std::fs::read_to_string(fixes.join("fixes.json")).unwrap()).unwrap();
    for a in manifest["artifacts"].as_array().unwrap().iter().filter(|a| a["kind"] == "scp") {
        let file = fixes.join(a["path"].as_str().unwrap());
        let targets: Vec<&str> = a["targets"].as_array().unwrap().iter().map(|t| t.as_str().unwrap()).collect();
        assert!(!targets.is_empty(), "an SCP with no target in an organization: {a}");
        // The root, an OU all of whose accounts need it (here the Prod OU), or a failing account.
        assert!(targets.iter().all(|t| *t == ids["root"] || t.starts_with("ou-") || failing.iter().any(|(_, acct)| acct == t)), "targets {targets:?}");
        let mut args = vec!["apply-scp", file.to_str().unwrap()];
        args.extend(targets);
        moto.seed(&args);
    }
    eprintln!("failing before the fix: {failing:?}");
    let after = run(&dir.path().join("after.json"), None);
    for (check, account) in &failing {
        let f = after.iter().find(|f| f["check_id"] == check.as_str() && f["account"] == account.as_str()).unwrap_or_else(|| panic!("{check} {account} after"));
        assert_eq!(f["status"], "pass", "{check} in {account} after the fix: {}", f["message"]);
    }
}

/// Validate a JSON value against a discovery-document schema: every property known, of its type.
fn discovery_errors(schemas: &Value, name: &str, v: &Value, path: &str, out: &mut Vec<String>) {
    let schema = &schemas[name];
    let Some(obj) = v.as_object() else {
        out.push(format!("{path}: expected an object ({name})"));
        return;
    };
    for (k, val) in obj {
        let Some(prop) = schema["properties"].get(k) else {
            out.push(format!("{path}.{k}: not a property of {name}"));
            continue;
        };
        property_errors(schemas, prop, val, &format!("{path}.{k}"), out);
    }
}

fn property_errors(schemas: &Value, prop: &Value, v: &Value, path: &str, out: &mut Vec<String>) {
    if let Some(r) = prop["$ref"].as_str() {
        return discovery_errors(schemas, r, v, path, out);
    }
    let ok = match prop["type"].as_str() {
        Some("string") => v.as_str().is_some_and(|s| prop["enum"].as_array().is_none_or(|e| e.iter().any(|x| x == s))),
        Some("boolean") => v.is_boolean(),
        Some("integer") | Some("number") => v.is_number(),
        Some("array") => match v.as_array() {
            Some(items) => {
                for (i, x) in items.iter().enumerate() {
                    property_errors(schemas, &prop["items"], x, &format!("{path}[{i}]"), out);
                }
                true
            }
            None => false,
        },
        Some("object") => v.is_object(),
        _ => true,
    };
    if !ok {
        out.push(format!("{path}: {v} does not match {prop}"));
    }
}

#[test]
fn org_policy_files_match_the_org_policy_v2_schema() {
    let pinned: Value = serde_json::from_str(&std::fs::read_to_string(support::root().join("fixtures/gcp/schema/orgpolicy.v2.policy.schema.json")).unwrap()).unwrap();
    let schemas = &pinned["schemas"];
    let mut checked = 0;
    let mut constraints = std::collections::BTreeSet::new();
    for (_, _, set, _) in fixture_fixes() {
        for a in set.artifacts.iter().filter(|a| a.kind == "org_policy") {
            let v: Value = serde_json::from_str(&a.content).unwrap();
            let mut errors = Vec::new();
            discovery_errors(schemas, "GoogleCloudOrgpolicyV2Policy", &v, "", &mut errors);
            assert!(errors.is_empty(), "{}: {errors:?}", a.path);
            let name = v["name"].as_str().unwrap();
            let (parent, constraint) = name.split_once("/policies/").expect("name is <parent>/policies/<constraint>");
            assert!(parent.starts_with("organizations/") || parent.starts_with("projects/") || parent.starts_with("folders/"), "{name}");
            let rules = v["spec"]["rules"].as_array().unwrap();
            assert!(!rules.is_empty() && rules.iter().all(|r| r["enforce"] == true || r["values"]["allowedValues"].as_array().is_some_and(|a| !a.is_empty())), "{name}");
            constraints.insert(constraint.to_string());
            checked += 1;
        }
    }
    // Every constraint the templates set was checked at least once.
    assert_eq!(constraints.len(), 5, "{constraints:?}");
    eprintln!("{checked} org-policy file(s) match the schema");
    // The validator is not vacuous.
    let mut errors = Vec::new();
    discovery_errors(schemas, "GoogleCloudOrgpolicyV2Policy", &serde_json::json!({"name": "x", "spec": {"rules": [{"enforce": "yes"}], "bogus": 1}}), "", &mut errors);
    assert_eq!(errors.len(), 2, "{errors:?}");
}

#[test]
fn azure_policy_definitions_parse_as_policy_definitions() {
    use portcullis::fix::azure::definition_problems;
    let mut checked = std::collections::BTreeSet::new();
    for (_, _, set, _) in fixture_fixes() {
        for a in &set.artifacts {
            let v: Value = serde_json::from_str(&a.content).unwrap_or_else(|e| if a.kind == "commands" { Value::Null } else { panic!("{}: {e}", a.path) });
            match a.kind {
                "policy_definition" => {
                    let problems = definition_problems(&v);
                    assert!(problems.is_empty(), "{}: {problems:?}", a.path);
                    checked.insert(a.path.clone());
                }
                "policy_assignment" => {
                    let id = v["properties"]["policyDefinitionId"].as_str().unwrap();
                    assert!(id.starts_with("/subscriptions/") && id.contains("/providers/Microsoft.Authorization/policyDefinitions/portcullis-"), "{id}");
                    assert!(set.artifacts.iter().any(|d| d.kind == "policy_definition" && id.ends_with(d.path.rsplit('/').next().unwrap().trim_end_matches(".definition.json"))), "{id} names a definition that was not written");
                }
                "entra_policy" => {
                    let rules = v["applicationRestrictions"]["passwordCredentials"].as_array().unwrap();
                    assert!(rules.iter().all(|r| r["restrictionType"] == "passwordLifetime" && r["maxLifetime"].as_str().is_some_and(|d| d.starts_with('P') && d.ends_with('D'))));
                }
                _ => {}
            }
        }
    }
    assert_eq!(checked.len(), 4, "every policy template checked: {checked:?}");
    // The checker is not vacuous.
    let bad = serde_json::json!({"properties": {"mode": "All", "policyType": "Custom", "displayName": "x", "parameters": {},
        "policyRule": {"if": {"field": "type", "equals": "x"}, "then": {"effect": "block", "details": {}}}}});
    assert_eq!(definition_problems(&bad).len(), 1);
    let undeclared = serde_json::json!({"properties": {"mode": "All", "policyType": "Custom", "displayName": "x",
        "policyRule": {"if": {"field": "x", "in": "[parameters('list')]"}, "then": {"effect": "auditIfNotExists"}}}});
    assert_eq!(definition_problems(&undeclared).len(), 2, "{:?}", definition_problems(&undeclared));
}

#[test]
fn a_replacement_trust_policy_makes_the_trust_finding_pass() {
    // Each failing trust fixture: put the fix's document in place (its REPLACE values set as a
    // person would) and scan again: the role passes.
    let mut fixed = 0;
    for check in ["aws_iam_role_trust_not_public", "aws_iam_role_cross_account_trust_restricted", "aws_iam_role_oidc_trust_subject_restricted"] {
        let dir = support::root().join("fixtures/checks/aws").join(check);
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if !path.file_name().unwrap().to_string_lossy().starts_with("fail") {
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap();
            let inv = portcullis::import::parse_snapshot(&text, "fixture").unwrap();
            let opts = ScanOptions { now: inv.generated_at, only: Some(vec![check.to_string()]), ..Default::default() };
            let result = scan(&inv, &opts).unwrap();
            let set = fix::plan(&result, &inv, &options(), &portcullis::settings::Trusted::default()).unwrap();
            let mut snapshot: Value = serde_json::from_str(&text).unwrap();
            let mut replaced = Vec::new();
            for a in set.artifacts.iter().filter(|a| a.kind == "trust_policy") {
                let doc: Value = serde_json::from_str(
                    &a.content.replace("REPLACE-with-the-ExternalId-agreed-with-", "ext-7f3a-").replace("repo:REPLACE-OWNER/REPLACE-REPO", "repo:acme/deploy").replace("REPLACE-with-the-allowed-subject", "system:serviceaccount:prod:deployer"),
                )
                .unwrap();
                let role = a.path.rsplit('/').next().unwrap().trim_end_matches(".json").to_string();
                for acct in snapshot["aws"]["accounts"].as_array_mut().unwrap() {
                    for r in acct["authorization_details"]["collected"]["roles"].as_array_mut().into_iter().flatten() {
                        if r["name"] == role.as_str() {
                            r["trust_policy"] = doc.clone();
                            replaced.push(role.clone());
                        }
                    }
                }
            }
            let failing: Vec<String> = result.findings.iter().filter(|f| f.status == Status::Fail).map(|f| f.resource.name.to_string()).collect();
            assert!(!failing.is_empty());
            let inv2 = portcullis::import::parse_snapshot(&snapshot.to_string(), "fixed").unwrap();
            let again = scan(&inv2, &opts).unwrap();
            for name in &failing {
                assert!(replaced.contains(name), "{check}/{}: no trust fix for {name}", path.display());
                let f = again.findings.iter().find(|f| f.resource.name == name.as_str()).unwrap();
                assert_eq!(f.status, Status::Pass, "{check}/{}: {name} after the fix: {}", path.display(), f.message);
                fixed += 1;
            }
        }
    }
    assert!(fixed >= 3, "{fixed}");
}
