//! An SCP keeps member accounts from stopping, deleting or reconfiguring CloudTrail.

use super::account_resource;
use super::scp::{judge, standing, Standing};
use crate::checks::Cx;
use crate::inventory::aws::AwsAccount;
use crate::inventory::Missing;
use crate::policy::guard::denies;

pub const PARAMS: &[&str] = &[];

const ACTIONS: &[&str] = &["cloudtrail:StopLogging", "cloudtrail:DeleteTrail", "cloudtrail:UpdateTrail", "cloudtrail:PutEventSelectors"];
/// Without these two an intruder turns the audit trail off; the other two only weaken it.
const ESSENTIAL: &[&str] = &["cloudtrail:StopLogging", "cloudtrail:DeleteTrail"];

pub fn run<'a>(acct: &'a AwsAccount, cx: &mut Cx<'_, 'a>) -> Result<(), Missing> {
    let Standing::Member(org) = standing(acct, cx, "stop CloudTrail from being turned off", true)? else { return Ok(()) };
    let j = judge(org, &acct.account_id, ACTIONS, denies);
    let res = account_resource(&acct.account_id);
    let missing: Vec<&str> = ESSENTIAL.iter().copied().filter(|a| j.uncovered.iter().any(|u| u == a)).collect();
    if missing.is_empty() {
        let weak = if j.uncovered.is_empty() { String::new() } else { format!(" (not denied: {})", j.uncovered.join(", ")) };
        cx.pass(res, format!("account {}: SCPs deny stopping and deleting trails{weak}", acct.account_id))
            .with("denied_by", j.evidence_covered());
    } else {
        cx.fail(res, format!("account {}: no SCP denies {}{}", acct.account_id, missing.join(" or "), j.not_counted_clause()))
            .with("denied_by", j.evidence_covered())
            .with("not_denied", j.uncovered.clone());
    }
    Ok(())
}
