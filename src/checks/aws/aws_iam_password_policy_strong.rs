//! The account password policy requires long passwords and prevents reuse.

use super::AwsContext;
use crate::checks::Cx;
use super::account_resource;
use crate::inventory::aws::AwsAccount;
use crate::inventory::{Dataset, Missing};

pub const DATASETS: &[Dataset] = &[Dataset::AwsPasswordPolicy];
pub const PARAMS: &[&str] = &["min_length", "min_reuse_prevention"];

pub fn run<'a>(acct: &'a AwsAccount, _aws: &AwsContext<'a>, cx: &mut Cx<'_, 'a>) -> Result<(), Missing> {
    let policy = acct.password_policy.require(Dataset::AwsPasswordPolicy)?;
    let (min_len, min_reuse) = (cx.param("min_length"), cx.param("min_reuse_prevention"));
    let res = account_resource(&acct.account_id);
    let Some(p) = policy else {
        cx.fail(res, format!("account {} has no password policy: AWS's default allows 8-character passwords and reuse", acct.account_id))
            .with("min_length", min_len)
            .with("min_reuse_prevention", min_reuse);
        return Ok(());
    };
    let length = i64::from(p.minimum_password_length.unwrap_or(8));
    let reuse = i64::from(p.password_reuse_prevention.unwrap_or(0));
    let mut gaps = Vec::new();
    if length < min_len {
        gaps.push(format!("minimum length {length} (want ≥ {min_len})"));
    }
    if reuse < min_reuse {
        gaps.push(format!("remembers {reuse} previous passwords (want ≥ {min_reuse})"));
    }
    let f = if gaps.is_empty() {
        cx.pass(res, format!("password policy of account {} requires {length} characters and prevents reuse of {reuse}", acct.account_id))
    } else {
        cx.fail(res, format!("password policy of account {} is weak: {}", acct.account_id, gaps.join("; ")))
    };
    f.with("minimum_password_length", length).with("password_reuse_prevention", reuse);
    Ok(())
}
