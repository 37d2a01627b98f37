//! SARIF validated by Microsoft's SARIF Multitool with GitHub's rules (`--rule-kind "Gh;Sarif"`):
//! zero errors. `.ci/run` installs the pinned tool and sets PORTCULLIS_REQUIRE_TOOLS=1, so in CI a
//! missing tool fails the test instead of skipping it.

mod support;

use std::process::Command;

use support::{multitool, validate};

fn portcullis(args: &[&str]) {
    let o = Command::new(env!("CARGO_BIN_EXE_portcullis")).args(args).output().unwrap();
    assert!(matches!(o.status.code(), Some(0 | 1 | 3)), "{args:?}: {}", String::from_utf8_lossy(&o.stderr));
}

#[test]
fn sarif_has_zero_errors_under_github_rules() {
    let Some(tool) = multitool() else {
        assert!(std::env::var_os("PORTCULLIS_REQUIRE_TOOLS").is_none(), "SARIF Multitool not installed (run .ci/run)");
        eprintln!("skipped: SARIF Multitool not installed; `bash .ci/run` installs it");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let demo = dir.path().join("demo.sarif");
    let partial = dir.path().join("partial.sarif");
    let report = format!("{}/fixtures/demo/credential-report.csv", env!("CARGO_MANIFEST_DIR"));
    portcullis(&["scan", "-q", "--demo", "--sarif", demo.to_str().unwrap()]);
    portcullis(&["scan", "-q", "--aws-credential-report", &report, "--sarif", partial.to_str().unwrap()]);
    // With a baseline (baselineState, run properties) and suppressions (result suppressions,
    // notifications for expired and unmatched entries).
    let (base, sup, triaged) = (dir.path().join("base.json"), dir.path().join("s.toml"), dir.path().join("triaged.sarif"));
    portcullis(&["scan", "-q", "--demo", "--json", base.to_str().unwrap(), "--checks", "aws_*"]);
    std::fs::write(
        &sup,
        "[[suppress]]\ncheck = \"aws_iam_access_key_*\"\nresource = \"*\"\nreason = \"r\"\napproved_by = \"a\"\nexpires = \"2099-01-01\"\n\
         [[suppress]]\ncheck = \"gcp_*\"\nresource = \"x\"\nreason = \"r\"\napproved_by = \"a\"\nexpires = \"2001-01-01\"\n",
    )
    .unwrap();
    portcullis(&["scan", "-q", "--demo", "--baseline", base.to_str().unwrap(), "--suppressions", sup.to_str().unwrap(), "--sarif", triaged.to_str().unwrap()]);
    let doc: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&triaged).unwrap()).unwrap();
    let results = doc["runs"][0]["results"].as_array().unwrap();
    assert!(results.iter().any(|r| r["baselineState"] == "new") && results.iter().any(|r| r["suppressions"].is_array()));
    // A plan-only scan: results point at .tf files and lines.
    let planned = dir.path().join("plan.sarif");
    let plan = format!("{}/fixtures/plans/aws/plan.json", env!("CARGO_MANIFEST_DIR"));
    let o = Command::new(env!("CARGO_BIN_EXE_portcullis")).current_dir(env!("CARGO_MANIFEST_DIR")).args(["scan", "-q", "--terraform-plan", &plan, "--sarif", planned.to_str().unwrap()]).output().unwrap();
    assert!(matches!(o.status.code(), Some(0 | 1 | 3)), "{}", String::from_utf8_lossy(&o.stderr));
    for input in [&demo, &partial, &triaged, &planned] {
        let (errors, console) = validate(&tool, input);
        assert!(errors.is_empty(), "{}: {} error(s): {errors:?}\n{console}", input.display(), errors.len());
    }
    // Canary: the same document with a result that has no location and an unflattened message
    // must be rejected, or the validation above proves nothing.
    let mut broken: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&demo).unwrap()).unwrap();
    let result = &mut broken["runs"][0]["results"][0];
    result.as_object_mut().unwrap().remove("locations");
    result["message"] = serde_json::json!({"id": "x"});
    let canary = dir.path().join("canary.sarif");
    std::fs::write(&canary, broken.to_string()).unwrap();
    let (errors, console) = validate(&tool, &canary);
    assert!(errors.iter().any(|id| id.starts_with("GH")), "GitHub rules did not run: {errors:?}\n{console}");
}


#[test]
fn every_check_fixture_scan_has_zero_errors_under_github_rules() {
    use portcullis::engine::{scan, ScanOptions};
    let Some(tool) = multitool() else { return };
    let dir = tempfile::tempdir().unwrap();
    let mut files = 0;
    for check in portcullis::checks::all().unwrap() {
        let fixtures = support::root().join("fixtures/checks").join(check.meta.cloud.as_str()).join(&check.meta.id);
        for entry in std::fs::read_dir(&fixtures).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_none_or(|x| x != "json") {
                continue;
            }
            let inv = portcullis::import::parse_snapshot(&std::fs::read_to_string(&path).unwrap(), "fixture").unwrap();
            let opts = ScanOptions { now: inv.generated_at, only: Some(vec![check.meta.id.clone()]), ..Default::default() };
            let result = scan(&inv, &opts).unwrap();
            let name = format!("{}__{}.sarif", check.meta.id, path.file_stem().unwrap().to_string_lossy());
            let file = std::fs::File::create(dir.path().join(name)).unwrap();
            portcullis::report::sarif::write(&result, file).unwrap();
            files += 1;
        }
    }
    assert!(files > 100, "only {files} fixture scans");
    // One Multitool run over all of them (its start-up dominates).
    let (errors, console) = support::validate_many(&tool, dir.path(), "*.sarif");
    assert!(console.contains(&format!("{files} files scanned")), "{console}");
    assert!(errors.is_empty(), "{} error(s): {errors:?}\n{console}", errors.len());
}
