//! The GitHub Action's steps (action.yml → .github/action/*.sh), run as GitHub runs them: the
//! install script against a release laid out as the release workflow publishes it (served from a
//! local directory), and the scan script with the INPUT_* variables, GITHUB_OUTPUT and
//! GITHUB_STEP_SUMMARY files.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn sh(script: &str, env: &[(&str, String)]) -> Output {
    let mut c = Command::new("bash");
    c.arg(root().join(".github/action").join(script)).current_dir(root());
    for (k, _) in std::env::vars().filter(|(k, _)| k.starts_with("INPUT_") || k.starts_with("GITHUB_") || k.starts_with("PORTCULLIS_SCAN_") || k.starts_with("PORTCULLIS_GATE_")) {
        c.env_remove(k);
    }
    for (k, v) in env {
        c.env(k, v);
    }
    c.output().unwrap()
}

fn outputs(path: &Path) -> BTreeMap<String, String> {
    std::fs::read_to_string(path).unwrap_or_default().lines().filter_map(|l| l.split_once('=')).map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

/// A release directory as the release workflow publishes it: `download/<tag>/` and
/// `latest/download/`, each with the archive and SHA256SUMS.
fn fake_release(dir: &Path, tag: &str) -> PathBuf {
    let stage = dir.join("stage");
    std::fs::create_dir_all(&stage).unwrap();
    // A stand-in for the released binary (the real one is ~100 MB in a debug build): what is
    // tested here is download, checksum, unpacking and PATH.
    std::fs::write(stage.join("portcullis"), "#!/bin/sh\necho portcullis 9.9.9\n").unwrap();
    let asset = "portcullis-x86_64-unknown-linux-musl.tar.gz";
    let base = dir.join("releases");
    for sub in [format!("download/{tag}"), "latest/download".to_string()] {
        let d = base.join(sub);
        std::fs::create_dir_all(&d).unwrap();
        let ok = Command::new("tar").args(["-czf", d.join(asset).to_str().unwrap(), "-C", stage.to_str().unwrap(), "portcullis"]).status().unwrap();
        assert!(ok.success());
        let sum = Command::new("sha256sum").arg(asset).current_dir(&d).output().unwrap();
        std::fs::write(d.join("SHA256SUMS"), &sum.stdout).unwrap();
    }
    base
}

#[test]
fn install_verifies_the_checksum_and_puts_the_binary_on_the_path() {
    if Command::new("curl").arg("--version").output().is_err() {
        assert!(std::env::var_os("PORTCULLIS_REQUIRE_TOOLS").is_none(), "curl is needed");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let releases = fake_release(dir.path(), "v9.9.9");
    let temp = dir.path().join("runner");
    std::fs::create_dir_all(&temp).unwrap();
    let path_file = dir.path().join("github_path");
    let env = |version: &str| {
        vec![
            ("INPUT_VERSION", version.to_string()),
            ("ACTION_REPOSITORY", "acme/portcullis".to_string()),
            ("RUNNER_OS", "Linux".to_string()),
            ("RUNNER_ARCH", "X64".to_string()),
            ("RUNNER_TEMP", temp.to_str().unwrap().to_string()),
            ("GITHUB_PATH", path_file.to_str().unwrap().to_string()),
            ("PORTCULLIS_RELEASE_URL", format!("file://{}", releases.display())),
        ]
    };
    for version in ["v9.9.9", "latest", ""] {
        let o = sh("install.sh", &env(version));
        assert!(o.status.success(), "{version}: {}", String::from_utf8_lossy(&o.stderr));
        assert!(String::from_utf8_lossy(&o.stdout).contains("portcullis 9.9.9"), "runs the installed binary");
    }
    let bin_dir = std::fs::read_to_string(&path_file).unwrap();
    assert!(Path::new(bin_dir.lines().next().unwrap()).join("portcullis").is_file());

    // A tampered archive is refused.
    let sums = releases.join("download/v9.9.9/SHA256SUMS");
    let text = std::fs::read_to_string(&sums).unwrap();
    std::fs::write(&sums, format!("{}{}", "0".repeat(64), &text[64..])).unwrap();
    let o = sh("install.sh", &env("v9.9.9"));
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("checksum mismatch"), "{}", String::from_utf8_lossy(&o.stderr));
    // An unknown platform, a bad version and a missing release say why.
    let mut e = env("v9.9.9");
    e[3].1 = "S390X".into();
    assert!(String::from_utf8_lossy(&sh("install.sh", &e).stderr).contains("no release for Linux/S390X"));
    assert!(String::from_utf8_lossy(&sh("install.sh", &env("main")).stderr).contains("version must be a release tag"));
    assert!(String::from_utf8_lossy(&sh("install.sh", &env("v1.0.0")).stderr).contains("cannot download"));
}

struct Run {
    out: BTreeMap<String, String>,
    summary: String,
    stdout: String,
}

fn scan(dir: &Path, inputs: &[(&str, &str)]) -> Run {
    let (out, summary) = (dir.join("github_output"), dir.join("step_summary"));
    let _ = std::fs::remove_file(&out);
    let _ = std::fs::remove_file(&summary);
    let mut env: Vec<(&str, String)> = vec![
        ("PORTCULLIS_BIN", env!("CARGO_BIN_EXE_portcullis").to_string()),
        ("GITHUB_OUTPUT", out.to_str().unwrap().to_string()),
        ("GITHUB_STEP_SUMMARY", summary.to_str().unwrap().to_string()),
        ("RUNNER_TEMP", dir.to_str().unwrap().to_string()),
        ("INPUT_SARIF_FILE", dir.join("p.sarif").to_str().unwrap().to_string()),
        ("INPUT_JSON_FILE", dir.join("p.json").to_str().unwrap().to_string()),
    ];
    env.extend(inputs.iter().map(|(k, v)| (*k, v.to_string())));
    let o = sh("scan.sh", &env);
    assert!(o.status.success(), "the scan step itself never fails: the gate step does");
    Run { out: outputs(&out), summary: std::fs::read_to_string(&summary).unwrap_or_default(), stdout: String::from_utf8_lossy(&o.stdout).into_owned() }
}

#[test]
fn scan_step_writes_sarif_summary_and_the_gate_code() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // A pull request's first run: new high findings → exit code 1 for the gate step.
    let r = scan(d, &[("INPUT_ARGS", "--demo"), ("INPUT_FAIL_ON", "high"), ("INPUT_BASELINE", d.join("missing.json").to_str().unwrap())]);
    assert_eq!(r.out["exit-code"], "1", "{}", r.stdout);
    assert_eq!(r.out["sarif-written"], "true");
    assert!(r.stdout.contains("::warning::portcullis: baseline") && r.stdout.contains("not found"), "{}", r.stdout);
    assert!(r.stdout.contains("::error::portcullis: failing findings at or above high"), "{}", r.stdout);
    assert!(r.summary.starts_with("## Portcullis:"), "{}", r.summary);
    assert!(d.join("p.sarif").is_file());
    // The nightly run: the previous run's JSON is the baseline → nothing new → 0.
    let base = d.join("base.json");
    std::fs::copy(d.join("p.json"), &base).unwrap();
    let r = scan(d, &[("INPUT_ARGS", "--demo"), ("INPUT_FAIL_ON", "high"), ("INPUT_ALLOW_INCOMPLETE", "true"), ("INPUT_BASELINE", base.to_str().unwrap())]);
    assert_eq!(r.out["exit-code"], "0", "{}", r.stdout);
    assert!(r.summary.contains("**Triage:** 0 new, 60 unchanged, 0 resolved since the baseline."), "{}", r.summary);
    // A plan gate.
    let r = scan(d, &[("INPUT_TERRAFORM_PLAN", "fixtures/plans/aws/plan.json"), ("INPUT_FAIL_ON", "critical")]);
    assert_eq!(r.out["exit-code"], "1", "{}", r.stdout);
    let sarif: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(d.join("p.sarif")).unwrap()).unwrap();
    assert!(sarif["runs"][0]["results"].as_array().unwrap().iter().any(|r| r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "fixtures/plans/aws/main.tf"));
    // A usage error: code 2, and no stale SARIF offered for upload.
    let r = scan(d, &[("INPUT_ARGS", "--no-such-flag")]);
    assert_eq!(r.out["exit-code"], "2");
    assert_eq!(r.out["sarif-written"], "false");
}

#[test]
fn action_yml_passes_every_input_the_scripts_read() {
    let action = std::fs::read_to_string(root().join("action.yml")).unwrap();
    let scripts = ["install.sh", "scan.sh"].map(|s| std::fs::read_to_string(root().join(".github/action").join(s)).unwrap()).join("\n");
    // Declared inputs (two-space indented keys under `inputs:`).
    let block = &action[action.find("\ninputs:\n").unwrap()..action.find("\noutputs:\n").unwrap()];
    let declared: Vec<&str> = block.lines().filter(|l| l.starts_with("  ") && !l.starts_with("   ") && l.ends_with(':')).map(|l| l.trim().trim_end_matches(':')).collect();
    assert!(declared.len() >= 10, "{declared:?}");
    for name in &declared {
        let var = format!("INPUT_{}", name.to_ascii_uppercase().replace('-', "_"));
        let passed = action.contains(&format!("{var}: ${{{{ inputs.{name} }}}}"));
        let used_in_yaml = action.contains(&format!("inputs.{name} ==")) || action.contains("with:\n        sarif_file") && (*name == "category" || *name == "upload-sarif");
        assert!(passed || used_in_yaml, "input {name} is never passed to a step");
        if passed {
            assert!(scripts.contains(&var), "{var} is passed but no script reads it");
        }
    }
    // Every INPUT_ variable a script reads is set by action.yml.
    for word in scripts.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).filter(|w| w.starts_with("INPUT_") && w.len() > "INPUT_".len()) {
        assert!(action.contains(&format!("{word}:")), "{word} is read but action.yml does not set it");
    }
    // The gate runs after the upload, from the scan step's recorded code.
    let (upload, gate) = (action.find("upload-sarif@").unwrap(), action.find("name: Gate").unwrap());
    assert!(upload < gate);
}
