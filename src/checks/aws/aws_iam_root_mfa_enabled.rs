//! The root user has MFA enabled. The credential report's root row and `GetAccountSummary` are
//! both read: either one showing no MFA fails the check.

use super::{root_facts, root_resource, AwsContext};
use crate::checks::Cx;
use crate::inventory::aws::AwsAccount;
use crate::inventory::{Dataset, Missing};

pub const DATASETS: &[Dataset] = &[Dataset::AwsCredentialReport, Dataset::AwsAccountSummary];
pub const PARAMS: &[&str] = &[];

pub fn run<'a>(acct: &'a AwsAccount, aws: &AwsContext<'a>, cx: &mut Cx<'_, 'a>) -> Result<(), Missing> {
    let facts = root_facts(acct, aws, &["mfa_active"], |row| row.mfa_active, |s| s.root_mfa_enabled(), "AccountMFAEnabled")?;
    let res = root_resource(&acct.account_id);
    let sources: Vec<String> = facts.sources.iter().map(|s| s.to_string()).collect();
    let f = match facts.values.iter().find(|(_, mfa)| !mfa) {
        Some((source, _)) => cx.fail(res, format!("the root user of account {} has no MFA device (per the {source})", acct.account_id)).with("source", *source),
        None => cx.pass(res, format!("the root user of account {} has MFA (per the {})", acct.account_id, sources.join(" and "))),
    };
    f.with("sources", sources);
    if let Some(gap) = facts.gap {
        f.with("not_consulted", gap);
    }
    Ok(())
}
