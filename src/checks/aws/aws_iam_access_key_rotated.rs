//! Active access keys are younger than `max_key_age_days`.

use super::{active_keys, days, user_resource};
use super::AwsContext;
use crate::checks::Cx;
use crate::inventory::aws::AwsAccount;
use crate::inventory::{Dataset, Missing};

pub const DATASETS: &[Dataset] = &[Dataset::AwsCredentialReport];
pub const PARAMS: &[&str] = &["max_key_age_days"];

pub fn run<'a>(acct: &'a AwsAccount, aws: &AwsContext<'a>, cx: &mut Cx<'_, 'a>) -> Result<(), Missing> {
    let report = aws.report(acct, &["access_key_1_active", "access_key_1_last_rotated", "access_key_2_active", "access_key_2_last_rotated"])?;
    let max = cx.param("max_key_age_days");
    for row in report.users() {
        for (slot, key) in active_keys(row) {
            let detail = if slot == 1 { "access_key_1" } else { "access_key_2" };
            let Some(created) = key.last_rotated.at() else {
                cx.not_evaluated(user_resource(row), format!("access key {slot} of {} is active but the report gives no creation date", row.user))
                    .detail(detail);
                continue;
            };
            let age = days(created, cx.now);
            let f = if age > max {
                cx.fail(user_resource(row), format!("access key {slot} of {} is {age} days old (limit {max})", row.user))
            } else {
                cx.pass(user_resource(row), format!("access key {slot} of {} is {age} days old (limit {max})", row.user))
            };
            f.detail(detail).with("age_days", age).with("created", created);
        }
    }
    Ok(())
}
