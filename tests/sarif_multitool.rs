//! SARIF validated by Microsoft's SARIF Multitool with GitHub's rules (`--rule-kind "Gh;Sarif"`):
//! zero errors. `.ci/run` installs the pinned tool and sets PORTCULLIS_REQUIRE_TOOLS=1, so in CI a
//! missing tool fails the test instead of skipping it.

use std::path::PathBuf;
use std::process::Command;

fn multitool() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("PORTCULLIS_SARIF_MULTITOOL") {
        return Some(PathBuf::from(p));
    }
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(".ci/tools/node_modules/@microsoft/sarif-multitool-linux/Sarif.Multitool");
    p.exists().then_some(p)
}

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
    for input in [&demo, &partial] {
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

/// Run `validate --rule-kind "Gh;Sarif"` and return the ids of error-level results.
fn validate(tool: &std::path::Path, input: &std::path::Path) -> (Vec<String>, String) {
    let out = input.with_extension("validation.sarif");
    let o = Command::new(tool)
        .env("DOTNET_SYSTEM_GLOBALIZATION_INVARIANT", "1")
        .args(["validate", "--rule-kind", "Gh;Sarif", "--output"])
        .arg(&out)
        .arg(input)
        .output()
        .expect("run the SARIF Multitool");
    let console = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(console.contains("Analysis completed successfully"), "{console}");
    let log: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    // The tool exits 0 whatever it finds: the verdict is in its output log.
    let errors = log["runs"][0]["results"]
        .as_array()
        .map(|r| r.iter().filter(|x| x["level"] == "error").map(|x| x["ruleId"].as_str().unwrap_or("?").to_string()).collect())
        .unwrap_or_default();
    (errors, console)
}
