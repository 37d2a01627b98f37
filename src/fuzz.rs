//! Entry points for fuzzing: each takes arbitrary bytes and must never panic, whatever they hold.
//! `fuzz/fuzz_targets/` calls them under libFuzzer (`benches/fuzz.sh`); `tests/fuzz_corpus.rs`
//! replays the seeds, every crash found so far and a fixed set of mutations of them on every test
//! run. Errors are fine (that is what malformed input gives); panics, hangs and unbounded memory
//! are the bugs.

use crate::engine::{scan, ScanOptions};
use crate::inventory::{Inventory, Timestamp};

/// The targets, by name: what `fuzz/fuzz_targets/<name>.rs` and the corpus directories are called.
pub const TARGETS: &[(&str, fn(&[u8]))] = &[
    ("policy", policy),
    ("authorization_details", authorization_details),
    ("credential_report", credential_report),
    ("terraform_plan", terraform_plan),
    ("snapshot", snapshot),
    ("azure_response", azure_response),
    ("gcp_response", gcp_response),
];

fn text(data: &[u8]) -> Option<&str> {
    std::str::from_utf8(data).ok()
}

/// Judge whatever inventory the input made with every check: the checks must not panic either.
fn judge(inv: &Inventory) {
    let opts = ScanOptions { now: Timestamp::parse("2026-11-30T12:00:00Z").ok(), ..ScanOptions::default() };
    let _ = scan(inv, &opts);
}

/// An IAM policy document in any spelling: parsed, then read the ways the checks read it.
pub fn policy(data: &[u8]) {
    let Some(t) = text(data) else { return };
    let Ok(doc) = crate::policy::PolicyDocument::parse_str(t) else { return };
    let _ = crate::policy::trust::analyze(&doc);
    for s in &doc.statements {
        let _ = s.covers_action("iam:CreateAccessKey");
    }
    let target = crate::policy::guard::Target {
        account: "111122223333".into(),
        partition: "aws".into(),
        org_id: "o-a1b2c3d4e5".into(),
        org_path: "o-a1b2c3d4e5/r-ab12/ou-ab12-11111111/".into(),
    };
    let _ = crate::policy::guard::denies(&doc, "cloudtrail:StopLogging", &target);
    let _ = crate::policy::guard::denies_root(&doc, "iam:CreateAccessKey", &target);
}

/// `aws iam get-account-authorization-details` output, then every check over it.
pub fn authorization_details(data: &[u8]) {
    let Some(t) = text(data) else { return };
    if let Ok(inv) = crate::import::parse_authorization_details(t, "fuzz") {
        judge(&inv);
    }
}

/// The IAM credential report (CSV or the CLI's JSON), then every check over it.
pub fn credential_report(data: &[u8]) {
    let Some(t) = text(data) else { return };
    if let Ok(inv) = crate::import::parse_credential_report(t, "fuzz") {
        judge(&inv);
    }
}

/// `terraform show -json` output, applied to an empty inventory and judged.
pub fn terraform_plan(data: &[u8]) {
    let Some(t) = text(data) else { return };
    if let Ok(plan) = crate::import::terraform::parse(t, "fuzz", None) {
        let mut inv = Inventory::default();
        let _ = plan.apply(&mut inv);
        judge(&inv);
    }
}

/// A Portcullis snapshot (or a shard of one), merged as `scan --inventory` merges, and judged.
pub fn snapshot(data: &[u8]) {
    let Some(t) = text(data) else { return };
    let Ok(inv) = crate::import::parse_snapshot(t, "fuzz") else { return };
    if inv.shard.is_some() {
        if let Ok((merged, _)) = crate::inventory::shard::merge(vec![("fuzz".into(), inv.clone())]) {
            judge(&merged);
        }
    }
    judge(&inv);
}

/// One Graph or Resource Manager list page (`{"value": [...]}`) through every Azure mapper.
pub fn azure_response(data: &[u8]) {
    use crate::collect::azure::map;
    let Ok(v) = serde_json::from_slice::<serde_json::Value>(data) else { return };
    let items: Vec<serde_json::Value> = v.get("value").and_then(|x| x.as_array()).cloned().unwrap_or_default();
    let _ = map::subscriptions(&items);
    let _ = map::management_tree(&v);
    let _ = map::role_assignments(&items);
    let _ = map::role_definitions(&items);
    let _ = map::policy_assignments(&items);
    let _ = map::diagnostic_settings(&items);
    let _ = map::lighthouse(&items);
    let _ = map::users(&items);
    let _ = map::user_read(&v);
    let _ = map::federated_credentials(&items);
    let _ = map::registration_details(&items);
    let _ = map::apps(&items, false);
    let _ = map::apps(&items, true);
    let _ = map::directory_roles(&items);
    let _ = map::members(&items);
    let _ = map::group_eligibility(&items);
    let _ = map::directory_role_definitions(&items);
}

/// Google API answers (as the client library decodes them) through every GCP mapper.
pub fn gcp_response(data: &[u8]) {
    use crate::collect::gcp::map;
    if let Ok(p) = serde_json::from_slice::<google_cloud_iam_v1::model::Policy>(data) {
        let _ = map::policy(&p);
    }
    if let Ok(p) = serde_json::from_slice::<google_cloud_resourcemanager_v3::model::Project>(data) {
        let _ = map::project(&p);
    }
    if let Ok(f) = serde_json::from_slice::<google_cloud_resourcemanager_v3::model::Folder>(data) {
        let _ = map::folder(&f);
    }
    if let Ok(k) = serde_json::from_slice::<google_cloud_iam_admin_v1::model::ServiceAccountKey>(data) {
        let _ = map::key(&k);
    }
    if let Ok(p) = serde_json::from_slice::<google_cloud_orgpolicy_v2::model::Policy>(data) {
        let _ = map::org_policy("iam.disableServiceAccountKeyCreation", &p);
    }
    if let Ok(s) = serde_json::from_slice::<google_cloud_logging_v2::model::LogSink>(data) {
        let _ = map::sink(&s);
    }
    if let Ok(results) = serde_json::from_slice::<Vec<google_cloud_asset_v1::model::IamPolicySearchResult>>(data) {
        let mut inv = crate::inventory::GcpInventory::default();
        map::apply_bulk(&mut inv, results);
    }
}
