//! The root user's MFA is a hardware device, not a virtual (phone) one.

use super::root_resource;
use super::AwsContext;
use crate::checks::Cx;
use crate::inventory::aws::AwsAccount;
use crate::inventory::{Dataset, Missing};

pub const DATASETS: &[Dataset] = &[Dataset::AwsCredentialReport, Dataset::AwsAccountSummary, Dataset::AwsMfaDevices];
pub const PARAMS: &[&str] = &[];

pub fn run<'a>(acct: &'a AwsAccount, aws: &AwsContext<'a>, cx: &mut Cx<'_, 'a>) -> Result<(), Missing> {
    let facts = super::root_facts(acct, aws, &["mfa_active"], |row| row.mfa_active, |s| s.root_mfa_enabled(), "AccountMFAEnabled")?;
    let mfa = facts.values.iter().all(|(_, m)| *m);
    let devices = acct.mfa_devices.require(Dataset::AwsMfaDevices)?;
    let res = root_resource(&acct.account_id);
    if !mfa {
        cx.fail(res, format!("the root user of account {} has no MFA at all", acct.account_id));
        return Ok(());
    }
    match devices.iter().find(|d| d.user_arn.as_deref().is_some_and(|u| u.ends_with(":root"))) {
        Some(d) => {
            cx.fail(res, format!("the root user of account {} uses a virtual MFA device ({})", acct.account_id, d.serial_number))
                .with("serial_number", d.serial_number.as_str());
        }
        None => {
            cx.pass(res, format!("the root user of account {} has MFA and no virtual device: a hardware or FIDO device", acct.account_id));
        }
    }
    Ok(())
}
