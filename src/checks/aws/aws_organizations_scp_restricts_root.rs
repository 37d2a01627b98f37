//! An SCP denies the root user of member accounts.

use super::account_resource;
use super::scp::{judge, standing, Standing};
use super::AwsContext;
use crate::checks::Cx;
use crate::inventory::aws::AwsAccount;
use crate::inventory::{Dataset, Missing};
use crate::policy::guard::denies_root;

pub const DATASETS: &[Dataset] = &[Dataset::AwsOrganization];
pub const PARAMS: &[&str] = &[];

/// Sample actions an intruder with root would use first; all must be denied to root.
const ACTIONS: &[&str] = &["iam:CreateAccessKey", "iam:CreateUser", "sts:AssumeRole", "cloudtrail:StopLogging"];

pub fn run<'a>(acct: &'a AwsAccount, aws: &AwsContext<'a>, cx: &mut Cx<'_, 'a>) -> Result<(), Missing> {
    let Standing::Member(org) = standing(acct, aws, cx, "restrict its root user", true)? else { return Ok(()) };
    let j = judge(org, &aws.target(acct), ACTIONS, denies_root);
    let res = account_resource(&acct.account_id);
    if j.uncovered.is_empty() {
        cx.pass(res, format!("account {}: SCPs deny the root user", acct.account_id)).with("denied_by", j.evidence_covered());
    } else if j.covered.is_empty() {
        cx.fail(res, format!("account {}: no SCP restricts the root user{}", acct.account_id, j.not_counted_clause()));
    } else {
        cx.fail(res, format!("account {}: SCPs deny the root user only some actions; still allowed: {}", acct.account_id, j.uncovered.join(", ")))
            .with("denied_by", j.evidence_covered())
            .with("not_denied", j.uncovered.clone());
    }
    Ok(())
}
