//! An SCP keeps member accounts from stopping, deleting or reconfiguring CloudTrail.

use super::account_resource;
use super::scp::{judge, standing, Standing};
use super::AwsContext;
use crate::checks::Cx;
use crate::inventory::aws::AwsAccount;
use crate::inventory::{Dataset, Missing};
use crate::policy::guard::denies;

pub const DATASETS: &[Dataset] = &[Dataset::AwsOrganization];
pub const PARAMS: &[&str] = &[];

/// Every call that turns the audit trail off or blinds it without turning it off: stopping or
/// deleting a trail, pointing it elsewhere or dropping its events (UpdateTrail, the selectors), and
/// the same for CloudTrail Lake event data stores.
const ACTIONS: &[&str] = &[
    "cloudtrail:StopLogging",
    "cloudtrail:DeleteTrail",
    "cloudtrail:UpdateTrail",
    "cloudtrail:PutEventSelectors",
    "cloudtrail:PutInsightSelectors",
    "cloudtrail:DeleteEventDataStore",
    "cloudtrail:UpdateEventDataStore",
    "cloudtrail:StopEventDataStoreIngestion",
];

pub fn run<'a>(acct: &'a AwsAccount, aws: &AwsContext<'a>, cx: &mut Cx<'_, 'a>) -> Result<(), Missing> {
    let Standing::Member(org) = standing(acct, aws, cx, "stop CloudTrail from being turned off", true)? else { return Ok(()) };
    let j = judge(org, &aws.target(acct), ACTIONS, denies);
    let res = account_resource(&acct.account_id);
    if j.uncovered.is_empty() {
        cx.pass(res, format!("account {}: SCPs deny stopping, deleting and reconfiguring trails and event data stores", acct.account_id))
            .with("denied_by", j.evidence_covered());
    } else {
        cx.fail(res, format!("account {}: no SCP denies {}{}", acct.account_id, j.uncovered.join(", "), j.not_counted_clause()))
            .with("denied_by", j.evidence_covered())
            .with("not_denied", j.uncovered.clone());
    }
    Ok(())
}
