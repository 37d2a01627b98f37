//! Fault injection: a local proxy in front of moto throttles, answers 500 and 503, and drops
//! connections. Transient faults are absorbed (the same findings as a clean scan); a read that
//! fails for good makes exactly its checks `not_evaluated`, with the reason; `--timeout` bounds the
//! whole scan; nothing panics or hangs.

mod support;

use std::collections::{BTreeMap, HashSet};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;
use support::{portcullis_routed, Front, Moto, Reply, Request};

const CHECKS: &str = "aws_iam_*,aws_organizations_*,aws_cloudtrail_*";
const NOW: &str = "2026-11-30T12:00:00Z";

/// An error answer in the protocol of the request: JSON 1.1 (`X-Amz-Target`) or AWS Query XML.
fn error(req: &Request, status: u16, code: &str) -> Reply {
    if req.headers.contains_key("x-amz-target") {
        let body = serde_json::json!({"__type": code, "message": "injected fault"}).to_string();
        Reply::Serve(status, vec![("Content-Type".into(), "application/x-amz-json-1.1".into()), ("x-amzn-ErrorType".into(), code.into())], body.into_bytes())
    } else {
        let kind = if status < 500 { "Sender" } else { "Receiver" };
        let body = format!("<ErrorResponse><Error><Type>{kind}</Type><Code>{code}</Code><Message>injected fault</Message></Error><RequestId>r-fault</RequestId></ErrorResponse>");
        Reply::Serve(status, vec![("Content-Type".into(), "text/xml".into())], body.into_bytes())
    }
}

/// Every `every`-th distinct request fails once (its retry passes): throttling, 500, 503 and a
/// dropped connection in turn. Returns the handler and how many faults it injected.
fn transient(every: usize) -> (Arc<support::Handler>, Arc<AtomicUsize>) {
    let n = AtomicUsize::new(0);
    let faulted: Mutex<HashSet<(String, String)>> = Mutex::new(HashSet::new());
    let injected = Arc::new(AtomicUsize::new(0));
    let count = injected.clone();
    let handler: Arc<support::Handler> = Arc::new(move |req: &Request| {
        let key = (req.action().1, req.body_str());
        let i = n.fetch_add(1, Ordering::SeqCst);
        if i % every != every - 1 || !faulted.lock().unwrap().insert(key) {
            return Reply::Forward;
        }
        let k = count.fetch_add(1, Ordering::SeqCst);
        match k % 4 {
            0 => error(req, 400, if req.headers.contains_key("x-amz-target") { "ThrottlingException" } else { "Throttling" }),
            1 => error(req, 500, "InternalFailure"),
            2 => error(req, 503, "ServiceUnavailable"),
            _ => Reply::Drop,
        }
    });
    (handler, injected)
}

fn scan(moto: &Moto, front: &Front, extra: &[&str]) -> (std::process::Output, Value) {
    scan_checks(moto, front, CHECKS, extra)
}

fn scan_checks(moto: &Moto, front: &Front, checks: &str, extra: &[&str]) -> (std::process::Output, Value) {
    let routed = [("IAM", front), ("STS", front), ("ORGANIZATIONS", front), ("CLOUDTRAIL", front)];
    let mut args = vec!["scan", "--aws", "--aws-org", "--aws-regions", "us-east-1", "--checks", checks, "--json", "-", "--quiet", "--now", NOW];
    args.extend_from_slice(extra);
    let out = portcullis_routed(&moto.endpoint(), &routed, &args);
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("not JSON ({e}); stderr: {}", String::from_utf8_lossy(&out.stderr)));
    assert!(!String::from_utf8_lossy(&out.stderr).contains("panicked"), "{}", String::from_utf8_lossy(&out.stderr));
    (out, doc)
}

/// (check, account, resource) → status.
fn verdicts(doc: &Value) -> BTreeMap<(String, String, String), String> {
    doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| ((f["check_id"].as_str().unwrap().into(), f["account"].as_str().unwrap_or("").into(), f["resource"]["id"].as_str().unwrap().into()), f["status"].as_str().unwrap().into()))
        .collect()
}

#[test]
fn transient_faults_give_the_findings_of_a_clean_scan() {
    let Some(moto) = Moto::start() else { return };
    moto.seed(&["org"]);
    let clean = Front::start(moto.port, Arc::new(|_: &Request| Reply::Forward));
    let started = Instant::now();
    let (_, reference) = scan(&moto, &clean, &[]);
    let clean_took = started.elapsed();
    let expected = verdicts(&reference);
    assert!(expected.len() > 20, "the reference scan judged too little: {reference:#}");
    let (handler, injected) = transient(3);
    let faulty = Front::start(moto.port, handler);
    let started = Instant::now();
    let (out, doc) = scan(&moto, &faulty, &[]);
    let took = started.elapsed();
    let n = injected.load(Ordering::SeqCst);
    eprintln!("{n} faults injected; the scan took {took:?} (clean: {clean_took:?})");
    assert!(n >= 8, "too few faults injected ({n}) to mean anything");
    assert_eq!(verdicts(&doc), expected, "the findings differ from the clean scan's");
    let gaps: Vec<&Value> = doc["coverage"].as_array().unwrap().iter().filter(|c| c["state"] == "failed").collect();
    assert!(gaps.is_empty(), "a transient fault became a gap: {gaps:#?}");
    assert_eq!(out.status.code(), Some(0));
}

#[test]
fn a_read_that_fails_for_good_is_not_evaluated_with_the_reason() {
    let Some(moto) = Moto::start() else { return };
    moto.seed(&["org"]);
    let clean = Front::start(moto.port, Arc::new(|_: &Request| Reply::Forward));
    let (_, reference) = scan(&moto, &clean, &[]);
    // GetAccountSummary always fails with 503, in every account.
    let front = Front::start(moto.port, Arc::new(|req: &Request| if req.action().1 == "GetAccountSummary" { error(req, 503, "ServiceUnavailable") } else { Reply::Forward }));
    let (out, doc) = scan(&moto, &front, &["--fail-on", "critical"]);
    let summary: Vec<&Value> = doc["coverage"].as_array().unwrap().iter().filter(|c| c["dataset"] == "aws_account_summary").collect();
    assert!(summary.len() >= 3, "one entry per account: {summary:#?}");
    for c in &summary {
        assert_eq!(c["state"], "failed", "{c:#}");
        assert!(c["error"].as_str().is_some_and(|e| e.contains("ServiceUnavailable")), "the reason is not given: {c:#}");
    }
    // Exactly the findings that rest on the summary changed, and they are not evaluated with the
    // reason; everything else is judged as in the clean scan.
    let before = verdicts(&reference);
    let mut changed = 0;
    for f in doc["findings"].as_array().unwrap() {
        let key = (f["check_id"].as_str().unwrap().to_string(), f["account"].as_str().unwrap_or("").to_string(), f["resource"]["id"].as_str().unwrap().to_string());
        let rests_on_summary = f["evidence"]["dataset"] == "aws_account_summary";
        if rests_on_summary {
            assert_eq!(f["status"], "not_evaluated", "{f:#}");
            assert!(f["message"].as_str().unwrap().contains("ServiceUnavailable"), "{f:#}");
            changed += 1;
        } else {
            assert_eq!(Some(f["status"].as_str().unwrap()), before.get(&key).map(String::as_str), "{key:?} changed");
        }
    }
    assert!(changed >= 3, "no finding rests on the summary");
    // Other checks fail: the gate exits 1. On the root checks alone, not evaluated is not a
    // pass: exit 3 without --allow-incomplete, 0 with it.
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stderr));
    let root = "aws_iam_root_access_key_absent,aws_iam_root_mfa_enabled";
    assert_eq!(scan_checks(&moto, &front, root, &["--fail-on", "low"]).0.status.code(), Some(3));
    assert_eq!(scan_checks(&moto, &front, root, &["--fail-on", "low", "--allow-incomplete"]).0.status.code(), Some(0));
}

#[test]
fn the_timeout_bounds_the_whole_scan() {
    let Some(moto) = Moto::start() else { return };
    moto.seed(&["org"]);
    // Every IAM answer takes 3 s: far more than the whole scan is given.
    let front = Front::start(
        moto.port,
        Arc::new(|req: &Request| if req.scope().0 == "iam" { Reply::Delay(Duration::from_secs(3), Box::new(Reply::Forward)) } else { Reply::Forward }),
    );
    let started = Instant::now();
    let (out, doc) = scan(&moto, &front, &["--timeout", "2", "--fail-on", "critical"]);
    let took = started.elapsed();
    assert!(took < Duration::from_secs(30), "the scan took {took:?} with --timeout 2");
    let late: Vec<&Value> = doc["coverage"].as_array().unwrap().iter().filter(|c| c["state"] == "failed" && c["error"].as_str().is_some_and(|e| e.contains("deadline"))).collect();
    assert!(!late.is_empty(), "no coverage entry says the deadline passed: {:#}", doc["coverage"]);
    assert_eq!(out.status.code(), Some(3), "{}", String::from_utf8_lossy(&out.stderr));
}

/// (check, scope, resource) → status of an Azure or GCP scan.
fn statuses(doc: &Value) -> BTreeMap<(String, String, String), String> {
    doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let scope = f["scope"].as_str().or(f["account"].as_str()).unwrap_or("").to_string();
            ((f["check_id"].as_str().unwrap().into(), scope, f["resource"]["id"].as_str().unwrap().into()), f["status"].as_str().unwrap().into())
        })
        .collect()
}

/// How many requests the fake saw more than once (the collector's retries).
fn retried(paths: Vec<String>) -> usize {
    let mut seen = std::collections::BTreeMap::<String, usize>::new();
    for p in paths {
        *seen.entry(p).or_default() += 1;
    }
    seen.values().filter(|n| **n > 1).count()
}

#[test]
fn azure_and_gcp_absorb_5xx_and_dropped_connections() {
    use support::azure::AzureFake;
    use support::gcp::GcpFake;
    if let (Some(clean), Some(flaky)) = (AzureFake::start("tenant.json", &[]), AzureFake::start("tenant.json", &["--flaky", "3"])) {
        let dir = tempfile::tempdir().unwrap();
        let cfg = support::azure::trust_config(dir.path()).display().to_string();
        let (_, expected) = clean.scan(&["--config", &cfg]);
        let (out, doc) = flaky.scan(&["--config", &cfg]);
        let n = retried(flaky.requests().into_iter().map(|(s, m, p)| format!("{s} {m} {p}")).collect());
        eprintln!("azure: {n} requests failed once (503, 500 or a dropped connection) and were retried");
        assert!(n >= 5, "too few faults to mean anything: {n}");
        assert_eq!(statuses(&doc), statuses(&expected), "the findings differ from the clean scan's: {}", String::from_utf8_lossy(&out.stderr));
        let gaps: Vec<&Value> = doc["coverage"].as_array().unwrap().iter().filter(|c| c["state"] == "failed").collect();
        assert!(gaps.is_empty(), "a transient fault became a gap: {gaps:#?}");
    }
    if let (Some(clean), Some(flaky)) = (GcpFake::start("org.json", &[]), GcpFake::start("org.json", &["--flaky", "3"])) {
        let (_, expected) = clean.scan(&[]);
        let (out, doc) = flaky.scan(&[]);
        let n = retried(flaky.requests().into_iter().map(|(m, p)| format!("{m} {p}")).collect());
        eprintln!("gcp: {n} requests failed once (503 or a dropped connection) and were retried");
        assert!(n >= 5, "too few faults to mean anything: {n}");
        assert_eq!(statuses(&doc), statuses(&expected), "the findings differ from the clean scan's: {}", String::from_utf8_lossy(&out.stderr));
        let gaps: Vec<&Value> = doc["coverage"].as_array().unwrap().iter().filter(|c| c["state"] == "failed").collect();
        assert!(gaps.is_empty(), "a transient fault became a gap: {gaps:#?}");
    }
}
