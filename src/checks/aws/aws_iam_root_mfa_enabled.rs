//! The root user has MFA enabled.

use super::{root_fact, root_resource};
use crate::checks::Cx;
use crate::inventory::aws::AwsAccount;
use crate::inventory::Missing;

pub const PARAMS: &[&str] = &[];

pub fn run<'a>(acct: &'a AwsAccount, cx: &mut Cx<'_, 'a>) -> Result<(), Missing> {
    let (mfa, source) = root_fact(acct, |row| row.mfa_active, |s| s.root_mfa_enabled(), "AccountMFAEnabled")?;
    let res = root_resource(&acct.account_id);
    if mfa {
        cx.pass(res, format!("the root user of account {} has MFA", acct.account_id)).with("source", source);
    } else {
        cx.fail(res, format!("the root user of account {} has no MFA device", acct.account_id)).with("source", source);
    }
    Ok(())
}
