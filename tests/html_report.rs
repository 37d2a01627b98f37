//! The HTML report in headless Chromium (Debian's `chromium`, driven by playwright-core; `.ci/run`
//! installs both): its content, its filters, grouping and sorting, reading it without JavaScript,
//! printing it; hostile strings from the inventory staying text; 20,000 findings staying smooth.
//! Screenshots and PDFs are kept in `target/test-artifacts/`.

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{json, Value};

/// playwright-core and Chromium, or `None` (the test is skipped) when they are not installed
/// outside CI.
fn browser() -> Option<(PathBuf, PathBuf)> {
    let pw = std::env::var_os("PORTCULLIS_PLAYWRIGHT").map(PathBuf::from).unwrap_or_else(|| support::root().join(".ci/tools/node_modules/playwright-core"));
    let chromium = std::env::var_os("PORTCULLIS_CHROMIUM").map(PathBuf::from).unwrap_or_else(|| PathBuf::from("/usr/bin/chromium"));
    if pw.join("package.json").exists() && chromium.exists() {
        return Some((pw, chromium));
    }
    assert!(std::env::var_os("PORTCULLIS_REQUIRE_TOOLS").is_none(), "playwright-core or chromium missing (run .ci/run)");
    eprintln!("skipped: playwright-core or chromium not installed; `bash .ci/run` installs them");
    None
}

fn artifacts() -> PathBuf {
    let dir = support::root().join("target/test-artifacts");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Scan, writing the HTML report and the findings JSON; returns the findings document.
fn scan(args: &[&str], html: &Path) -> Value {
    let json = html.with_extension("json");
    let o = Command::new(env!("CARGO_BIN_EXE_portcullis"))
        .arg("scan")
        .args(args)
        .args(["-q", "--html", html.to_str().unwrap(), "--json", json.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(matches!(o.status.code(), Some(0 | 1 | 3)), "{args:?}: {}", String::from_utf8_lossy(&o.stderr));
    serde_json::from_str(&std::fs::read_to_string(json).unwrap()).unwrap()
}

/// Run `tests/support/html_check.cjs` on a report with these expectations; its measurements.
fn check_in_chromium(html: &Path, expectations: Value) -> Value {
    let (pw, chromium) = browser().expect("checked by the caller");
    let exp = html.with_extension("expect.json");
    std::fs::write(&exp, expectations.to_string()).unwrap();
    let o = Command::new("node")
        .arg(support::root().join("tests/support/html_check.cjs"))
        .arg(html)
        .arg(artifacts())
        .arg(&exp)
        .env("PORTCULLIS_PLAYWRIGHT", pw)
        .env("PORTCULLIS_CHROMIUM", chromium)
        .output()
        .expect("run node");
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success(), "Chromium check failed:\n{}\n{stdout}", String::from_utf8_lossy(&o.stderr));
    let line = stdout.lines().last().unwrap_or_default();
    serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {stdout}"))
}

fn count(findings: &[Value], key: &str, value: &str) -> usize {
    findings.iter().filter(|f| f[key] == value).count()
}

#[test]
fn demo_report_reads_filters_groups_and_prints_in_chromium() {
    if browser().is_none() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let html = dir.path().join("demo.html");
    let fixes = dir.path().join("fixes");
    let doc = scan(&["--demo", "--fixes", fixes.to_str().unwrap()], &html);
    let findings = doc["findings"].as_array().unwrap();
    // The resource with the most findings, for grouping.
    let mut per: std::collections::BTreeMap<(&str, &str), usize> = std::collections::BTreeMap::new();
    for f in findings {
        *per.entry((f["resource"]["id"].as_str().unwrap(), f["resource"]["name"].as_str().unwrap())).or_default() += 1;
    }
    let ((_, name), n) = per.iter().max_by_key(|(_, n)| **n).unwrap();
    let ne = findings.iter().find(|f| f["status"] == "not_evaluated").unwrap();
    let gcp = findings.iter().find(|f| f["cloud"] == "gcp").unwrap()["account"].as_str().unwrap().to_string();
    // A fix the scan wrote, as the findings JSON names it.
    let fix_path = findings.iter().find_map(|f| f["fixes"].as_array().and_then(|a| a.first()).and_then(Value::as_str)).expect("a finding with a fix").to_string();
    let result = check_in_chromium(
        &html,
        json!({
            "findings": findings.len(),
            "contains": [
                "inventory snapshot: demo/azure-tenant.json", "Posture summary", "Failing by severity",
                "CIS AWS Foundations 3.0.0", "CIS Microsoft Azure Foundations 2.0.0", "MITRE ATT&CK",
                "no check covers it", "Why it matters", "How to fix it", ne["message"],
                "the root user of account 111122223333 has an active access key",
                "Suggested fix", fix_path,
            ],
            "filters": [
                ["severity", "critical", count(findings, "severity", "critical")],
                ["severity", "", findings.len()],
                ["status", "not_evaluated", count(findings, "status", "not_evaluated")],
                ["status", "", findings.len()],
                ["cloud", "azure", count(findings, "cloud", "azure")],
                ["cloud", "", findings.len()],
                ["account", gcp, count(findings, "account", &gcp)],
                ["account", "", findings.len()],
                ["category", "mfa", count(findings, "category", "mfa")],
                ["category", "", findings.len()],
                ["check", "aws_iam_access_key_rotated", count(findings, "check_id", "aws_iam_access_key_rotated")],
                ["check", "", findings.len()],
                ["q", "contractor.jane@gmail.com", null],
            ],
            "group": [name, name, n],
            "sort": true,
            "screenshot": "html-report-demo.png",
            "print": "html-report-demo.pdf",
            "no_javascript": true,
            "static_rows": findings.len().min(portcullis::report::html::STATIC_ROWS),
        }),
    );
    eprintln!("demo report in Chromium: {result}");
    assert_eq!(result["requests"], 0);
    assert!(artifacts().join("html-report-demo.png").exists() && artifacts().join("filtered-html-report-demo.png").exists());
}

/// A credential report whose users, ARNs and last-used fields carry markup, script, URLs and bidi
/// overrides: what a forged or hostile export could hold.
fn hostile_report(path: &Path) {
    let header = "user,arn,user_creation_time,password_enabled,password_last_used,password_last_changed,password_next_rotation,mfa_active,access_key_1_active,access_key_1_last_rotated,access_key_1_last_used_date,access_key_1_last_used_region,access_key_1_last_used_service,access_key_2_active,access_key_2_last_rotated,access_key_2_last_used_date,access_key_2_last_used_region,access_key_2_last_used_service,cert_1_active,cert_1_last_rotated,cert_2_active,cert_2_last_rotated";
    let names = [
        "<img src=x onerror=alert(1)>",
        "\"><script>window.__pwned=1;alert(2)</script>",
        "javascript:alert(document.domain)",
        "admin\u{202e}gpj.exe",
        "<svg onload=alert(3)>",
        "'><iframe src=https://attacker.example/>",
    ];
    let q = |s: &str| format!("\"{}\"", s.replace('"', "\"\""));
    let mut csv = format!("{header}\n");
    csv.push_str("<root_account>,arn:aws:iam::111122223333:root,2019-06-01T08:00:00+00:00,not_supported,2026-09-14T10:22:31+00:00,not_supported,not_supported,true,false,N/A,N/A,N/A,N/A,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A\n");
    for n in names {
        csv.push_str(&format!(
            "{},{},2021-03-04T09:12:00+00:00,true,2026-11-19T16:02:11+00:00,2026-01-04T09:00:00+00:00,N/A,false,true,2020-10-01T09:00:00+00:00,2026-11-19T15:58:00+00:00,{},{},false,N/A,N/A,N/A,N/A,false,N/A,false,N/A\n",
            q(n),
            q(&format!("arn:aws:iam::111122223333:user/{n}")),
            q("javascript:alert(4)"),
            q("<b onmouseover=alert(5)>s3</b>"),
        ));
    }
    std::fs::write(path, csv).unwrap();
}

#[test]
fn hostile_strings_stay_text_run_nothing_and_load_nothing() {
    if browser().is_none() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("<img src=y onerror=alert(6)>.csv");
    hostile_report(&csv);
    let html = dir.path().join("hostile.html");
    let doc = scan(&["--aws-credential-report", csv.to_str().unwrap(), "--now", "2026-11-20T09:00:00Z"], &html);
    let findings = doc["findings"].as_array().unwrap();
    assert!(findings.iter().any(|f| f["resource"]["name"] == "<img src=x onerror=alert(1)>"), "the hostile names reached the findings");
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(!page.contains("<img src=x") && !page.contains("<script>window") && !page.contains("<svg onload"), "raw markup in the file");
    let result = check_in_chromium(
        &html,
        json!({
            "findings": findings.len(),
            "hostile": true,
            "visible_text": [
                "<img src=x onerror=alert(1)>", "\"><script>window.__pwned=1;alert(2)</script>", "javascript:alert(document.domain)",
                "<svg onload=alert(3)>", "admin\\u{202e}gpj.exe", "<img src=y onerror=alert(6)>.csv",
            ],
            "absent_text": ["\u{202e}"],
            "search": "<img src=x",
            "screenshot": "html-report-hostile.png",
            "no_javascript": true,
            "static_rows": findings.len().min(portcullis::report::html::STATIC_ROWS),
        }),
    );
    eprintln!("hostile report in Chromium: {result}");
    assert_eq!(result["hostile"]["violations"], 0);
}

/// A credential report of `users` users, each with a console password and no MFA and two old,
/// unused access keys: six failing findings per user.
fn large_report(path: &Path, users: usize) {
    let header = "user,arn,user_creation_time,password_enabled,password_last_used,password_last_changed,password_next_rotation,mfa_active,access_key_1_active,access_key_1_last_rotated,access_key_1_last_used_date,access_key_1_last_used_region,access_key_1_last_used_service,access_key_2_active,access_key_2_last_rotated,access_key_2_last_used_date,access_key_2_last_used_region,access_key_2_last_used_service,cert_1_active,cert_1_last_rotated,cert_2_active,cert_2_last_rotated";
    let mut csv = format!("{header}\n");
    csv.push_str("<root_account>,arn:aws:iam::111122223333:root,2019-06-01T08:00:00+00:00,not_supported,2026-09-14T10:22:31+00:00,not_supported,not_supported,true,false,N/A,N/A,N/A,N/A,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A\n");
    for i in 0..users {
        csv.push_str(&format!(
            "svc-{i:05},arn:aws:iam::111122223333:user/team-{t}/svc-{i:05},2021-03-04T09:12:00+00:00,true,2026-11-19T16:02:11+00:00,2026-01-04T09:00:00+00:00,N/A,false,true,2020-10-01T09:00:00+00:00,2025-01-19T15:58:00+00:00,eu-west-1,s3,true,2021-10-01T09:00:00+00:00,N/A,N/A,N/A,false,N/A,false,N/A\n",
            t = i % 40
        ));
    }
    std::fs::write(path, csv).unwrap();
}

#[test]
fn twenty_thousand_findings_open_and_filter_smoothly() {
    if browser().is_none() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("large.csv");
    large_report(&csv, 3_500);
    let html = dir.path().join("large.html");
    let started = std::time::Instant::now();
    let doc = scan(&["--aws-credential-report", csv.to_str().unwrap(), "--now", "2026-11-20T09:00:00Z"], &html);
    let render_ms = started.elapsed().as_millis();
    let findings = doc["findings"].as_array().unwrap();
    assert!(findings.len() >= 20_000, "only {} findings", findings.len());
    let result = check_in_chromium(
        &html,
        json!({
            "findings": findings.len(),
            "filters": [
                ["severity", "high", count(findings, "severity", "high")],
                ["severity", "", findings.len()],
                ["check", "aws_iam_user_single_active_key", count(findings, "check_id", "aws_iam_user_single_active_key")],
                ["check", "", findings.len()],
                ["q", "svc-01234", null],
                ["q", "", findings.len()],
            ],
            "group": ["svc-00042", "svc-00042", count(findings.iter().filter(|f| f["resource"]["name"] == "svc-00042").cloned().collect::<Vec<_>>().as_slice(), "account", "111122223333")],
            "sort": true,
            "screenshot": "html-report-20000.png",
            "no_javascript": true,
            "static_rows": portcullis::report::html::STATIC_ROWS,
        }),
    );
    let bytes = result["bytes"].as_u64().unwrap();
    let load = result["load_ms"].as_u64().unwrap();
    let worst_filter = result["filter_ms"].as_object().unwrap().values().filter_map(Value::as_u64).max().unwrap();
    eprintln!(
        "{} findings: {:.1} MB report written in {render_ms} ms (debug build); Chromium load {load} ms, slowest filter {worst_filter} ms, sort {} ms; all: {result}",
        findings.len(),
        bytes as f64 / 1e6,
        result["sort_ms"]
    );
    // Bounds for a loaded 2-core CI machine; the measured values are printed above.
    assert!(bytes < 40_000_000, "report of {bytes} bytes");
    assert!(load < 20_000, "load took {load} ms");
    assert!(worst_filter < 3_000, "a filter took {worst_filter} ms");
}

#[test]
fn baseline_and_suppression_states_show_and_filter_in_chromium() {
    if browser().is_none() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    // scan() writes the findings JSON beside the page: base.json, the baseline.
    scan(&["--demo", "--checks", "aws_*"], &dir.path().join("base.html"));
    let base = dir.path().join("base.json");
    let sup = dir.path().join("s.toml");
    std::fs::write(&sup, "[[suppress]]\ncheck = \"aws_iam_access_key_*\"\nresource = \"*\"\nreason = \"vendor keys\"\napproved_by = \"sec@acme.example\"\nexpires = \"2099-01-01\"\n").unwrap();
    let html = dir.path().join("triage.html");
    let doc = scan(&["--demo", "--baseline", base.to_str().unwrap(), "--suppressions", sup.to_str().unwrap()], &html);
    let findings = doc["findings"].as_array().unwrap();
    let suppressed = findings.iter().filter(|f| f["suppression"].is_object()).count();
    let new = findings.iter().filter(|f| f["baseline_state"] == "new" && f["suppression"].is_null()).count();
    assert!(suppressed > 0 && new > 0);
    let result = check_in_chromium(
        &html,
        json!({
            "findings": findings.len(),
            "contains": ["Triage:", "suppressed"],
            "filters": [["q", "suppressed", suppressed], ["q", "", findings.len()]],
        }),
    );
    assert_eq!(result["requests"], 0);
    let page = std::fs::read_to_string(&html).unwrap();
    assert_eq!(page.matches("<span class=\"triage triage-new\">").count(), new.min(portcullis::report::html::STATIC_ROWS), "the page without JavaScript marks each new finding");
}
