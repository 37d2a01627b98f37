//! Active access keys were used within `max_unused_days`; a key never used counts from its creation.

use super::{active_keys, days, user_resource};
use super::AwsContext;
use crate::checks::Cx;
use crate::inventory::aws::{AwsAccount, ReportTime};
use crate::inventory::{Dataset, Missing};

pub const DATASETS: &[Dataset] = &[Dataset::AwsCredentialReport];
pub const PARAMS: &[&str] = &["max_unused_days"];

pub fn run<'a>(acct: &'a AwsAccount, aws: &AwsContext<'a>, cx: &mut Cx<'_, 'a>) -> Result<(), Missing> {
    let report = aws.report(acct, &[
        "access_key_1_active", "access_key_1_last_rotated", "access_key_1_last_used_date",
        "access_key_2_active", "access_key_2_last_rotated", "access_key_2_last_used_date",
    ])?;
    let max = cx.param("max_unused_days");
    for row in report.users() {
        for (slot, key) in active_keys(row) {
            let detail = if slot == 1 { "access_key_1" } else { "access_key_2" };
            let (since, never_used) = match (key.last_used_date.at(), key.last_rotated.at()) {
                (Some(used), _) => (used, false),
                (None, Some(created)) => (created, true),
                (None, None) => {
                    cx.not_evaluated(user_resource(row), format!("access key {slot} of {} has neither a last-use nor a creation date", row.user))
                        .detail(detail);
                    continue;
                }
            };
            let idle = days(since, cx.now);
            let what = if never_used && key.last_used_date == ReportTime::NoInformation {
                format!("access key {slot} of {} has no recorded use; created {idle} days ago", row.user)
            } else if never_used {
                format!("access key {slot} of {} was never used; created {idle} days ago", row.user)
            } else {
                format!("access key {slot} of {} was last used {idle} days ago", row.user)
            };
            let f = if idle > max {
                cx.fail(user_resource(row), format!("{what} (limit {max}): disable or delete it"))
            } else {
                cx.pass(user_resource(row), what)
            };
            f.detail(detail).with("idle_days", idle).with("never_used", never_used);
            if let Some(service) = &key.last_used_service {
                f.with("last_used_service", service.as_str());
            }
        }
    }
    Ok(())
}
