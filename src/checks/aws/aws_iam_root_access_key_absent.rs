//! The root user has no access keys.

use super::{active_keys, report_time_json, root_fact, root_resource};
use crate::checks::Cx;
use crate::inventory::aws::AwsAccount;
use crate::inventory::Missing;

pub const PARAMS: &[&str] = &[];

pub fn run<'a>(acct: &'a AwsAccount, cx: &mut Cx<'_, 'a>) -> Result<(), Missing> {
    let ((present, slots), source) = root_fact(
        acct,
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
    if present {
        cx.fail(res, format!("the root user of account {} has an active access key", acct.account_id))
            .with("source", source)
            .with("active_keys", serde_json::Value::from(slots));
    } else {
        cx.pass(res, format!("the root user of account {} has no access key", acct.account_id)).with("source", source);
    }
    Ok(())
}
