//! The root user has no access keys. Both the credential report's root row and the fresher
//! `GetAccountSummary` are read: either one showing a key fails the check.

use super::{active_keys, report_time_json, root_facts, root_resource, AwsContext};
use crate::checks::Cx;
use crate::inventory::aws::AwsAccount;
use crate::inventory::{Dataset, Missing};

pub const DATASETS: &[Dataset] = &[Dataset::AwsCredentialReport, Dataset::AwsAccountSummary];
pub const PARAMS: &[&str] = &[];

pub fn run<'a>(acct: &'a AwsAccount, aws: &AwsContext<'a>, cx: &mut Cx<'_, 'a>) -> Result<(), Missing> {
    let facts = root_facts(
        acct,
        aws,
        &["access_key_1_active", "access_key_2_active"],
        |row| {
            let slots: Vec<serde_json::Value> = active_keys(row)
                .map(|(n, k)| serde_json::json!({"slot": n, "last_rotated": report_time_json(k.last_rotated), "last_used": report_time_json(k.last_used_date)}))
                .collect();
            (!slots.is_empty(), slots)
        },
        |s| s.root_access_keys_present().map(|p| (p, Vec::new())),
        "AccountAccessKeysPresent",
    )?;
    let res = root_resource(&acct.account_id);
    let sources: Vec<String> = facts.sources.iter().map(|s| s.to_string()).collect();
    let f = match facts.values.iter().find(|(_, (present, _))| *present) {
        Some((source, (_, slots))) => cx
            .fail(res, format!("the root user of account {} has an active access key (per the {source})", acct.account_id))
            .with("source", *source)
            .with("active_keys", serde_json::Value::from(slots.clone())),
        None => cx.pass(res, format!("the root user of account {} has no access key (per the {})", acct.account_id, sources.join(" and "))),
    };
    f.with("sources", sources);
    if let Some(gap) = facts.gap {
        f.with("not_consulted", gap);
    }
    Ok(())
}
