//! No panics on any input: truncated, mutated and hostile files through every parser, and whatever
//! parses through the whole pipeline. Deterministic (a fixed-seed generator), so failures reproduce.

use portcullis::engine::{scan, ScanOptions};
use portcullis::import::{parse_account_summary, parse_authorization_details, parse_credential_report, parse_password_policy, parse_snapshot};
use portcullis::inventory::Inventory;
use portcullis::policy::PolicyDocument;
use portcullis::report;

struct Lcg(u64);
impl Lcg {
    fn next(&mut self) -> usize {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (self.0 >> 33) as usize
    }
}

fn pipeline(inv: &Inventory) {
    let result = scan(inv, &ScanOptions::default()).expect("engine never errors on parsed data");
    report::json::write(&result, std::io::sink()).unwrap();
    report::sarif::write(&result, std::io::sink()).unwrap();
    let _ = report::table::render(&result, report::table::Term { color: true, width: Some(80) });
    let _ = report::table::summary(&result, None, report::table::Term::PLAIN);
    report::ocsf::write(&result, std::io::sink()).unwrap();
    let _ = report::markdown::render(&result, &inv.sources, None);
    report::html::render(&result, &inv.sources, None).expect("the HTML report renders whatever parsed");
}

fn variants(text: &str, seed: u64) -> Vec<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let step = (bytes.len() / 150).max(1);
    for cut in (0..bytes.len()).step_by(step) {
        out.push(String::from_utf8_lossy(&bytes[..cut]).into_owned());
    }
    let mut rng = Lcg(seed);
    let junk: &[&[u8]] = &[b"\"", b"{", b"]", b",", b"null", b"-1", b"1e999", b"\\u0000", b"\xff", b"%", b"N/A", b"true", b"\n"];
    for _ in 0..300 {
        let mut b = bytes.to_vec();
        for _ in 0..1 + rng.next() % 3 {
            let at = rng.next() % b.len().max(1);
            let j = junk[rng.next() % junk.len()];
            match rng.next() % 3 {
                0 => { b.splice(at..at, j.iter().copied()); }
                1 => { let end = (at + 1 + rng.next() % 8).min(b.len()); b.drain(at..end); }
                _ => { if at < b.len() { b[at] = j[0]; } }
            }
        }
        out.push(String::from_utf8_lossy(&b).into_owned());
    }
    out
}

fn demo(name: &str) -> String {
    std::fs::read_to_string(format!("{}/fixtures/demo/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

#[test]
fn parsers_never_panic_and_parsed_inputs_flow_through() {
    let mut parsed = 0;
    for (i, v) in variants(&demo("authorization-details.json"), 1).iter().enumerate() {
        if let Ok(inv) = parse_authorization_details(v, "fuzz") {
            parsed += 1;
            if i % 10 == 0 {
                pipeline(&inv);
            }
        }
    }
    for v in variants(&demo("credential-report.csv"), 2) {
        if let Ok(inv) = parse_credential_report(&v, "fuzz") {
            parsed += 1;
            pipeline(&inv);
        }
    }
    for v in variants(&demo("password-policy.json"), 3) {
        let _ = parse_password_policy(&v, "fuzz");
    }
    for v in variants(&demo("account-summary.json"), 4) {
        let _ = parse_account_summary(&v, "fuzz");
    }
    let snapshot = serde_json::to_string(&portcullis::demo::inventory().unwrap()).unwrap();
    for v in variants(&snapshot, 5) {
        if let Ok(inv) = parse_snapshot(&v, "fuzz") {
            parsed += 1;
            pipeline(&inv);
        }
    }
    assert!(parsed > 50, "the mutations should leave many inputs parseable ({parsed})");
}

#[test]
fn hostile_policy_documents() {
    for doc in [
        "", "%", "%%7B", "%7B", "{", "[]", "null", "\"\"", "\"%7B%7D\"", "{\"Statement\": null}", "{\"Statement\": [null]}",
        "{\"Statement\": {\"Effect\": \"Allow\", \"Principal\": {\"AWS\": {}}}}",
        "{\"Statement\": {\"Effect\": \"Allow\", \"Principal\": {\"AWS\": [18446744073709551615, -1]}}}",
        "{\"Statement\": {\"Effect\": \"Allow\", \"Principal\": \"*\", \"Action\": \"sts:AssumeRole\", \"Condition\": {\"ForAnyValue:\": {\"\": []}}}}",
        "{\"Statement\": {\"Effect\": \"Allow\", \"Principal\": \"*\", \"Action\": \"*\", \"Condition\": {\"IfExists\": {\"sts:ExternalId\": \"*\"}}}}",
    ] {
        if let Ok(d) = PolicyDocument::parse_str(doc) {
            let _ = portcullis::policy::trust::analyze(&d);
        }
    }
    // Deep nesting must not overflow the stack (serde_json limits recursion).
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    assert!(PolicyDocument::parse_str(&format!("{{\"Statement\": {deep}}}")).is_err());
}
