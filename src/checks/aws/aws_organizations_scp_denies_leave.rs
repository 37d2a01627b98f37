//! An SCP keeps member accounts from leaving the organization (and its guardrails).

use super::account_resource;
use super::scp::{judge, standing, Standing};
use super::AwsContext;
use crate::checks::Cx;
use crate::inventory::aws::AwsAccount;
use crate::inventory::{Dataset, Missing};
use crate::policy::guard::denies;

pub const DATASETS: &[Dataset] = &[Dataset::AwsOrganization];
pub const PARAMS: &[&str] = &[];

pub fn run<'a>(acct: &'a AwsAccount, aws: &AwsContext<'a>, cx: &mut Cx<'_, 'a>) -> Result<(), Missing> {
    // A standalone account has no organization to leave: nothing to report.
    let Standing::Member(org) = standing(acct, aws, cx, "apply", false)? else { return Ok(()) };
    let j = judge(org, &aws.target(acct), &["organizations:LeaveOrganization"], denies);
    let res = account_resource(&acct.account_id);
    if j.uncovered.is_empty() {
        cx.pass(res, format!("account {}: SCPs deny leaving organization {}", acct.account_id, org.id)).with("denied_by", j.evidence_covered());
    } else {
        cx.fail(res, format!("account {}: no SCP denies organizations:LeaveOrganization; whoever controls the account can take it, and its logs, out of every guardrail{}", acct.account_id, j.not_counted_clause()));
    }
    Ok(())
}
