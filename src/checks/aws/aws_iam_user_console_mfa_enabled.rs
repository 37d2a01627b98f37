//! Every IAM user with a console password has MFA.

use super::{report_time, user_resource};
use crate::checks::Cx;
use crate::inventory::aws::AwsAccount;
use crate::inventory::{Dataset, Missing};

pub const PARAMS: &[&str] = &[];

pub fn run<'a>(acct: &'a AwsAccount, cx: &mut Cx<'_, 'a>) -> Result<(), Missing> {
    let report = acct.credential_report.require(Dataset::AwsCredentialReport)?;
    for row in report.users().filter(|r| r.password_enabled == Some(true)) {
        if row.mfa_active {
            cx.pass(user_resource(row), format!("console user {} has MFA", row.user));
        } else {
            cx.fail(user_resource(row), format!("console user {} signs in with a password and no MFA", row.user))
                .with("password_last_used", report_time(row.password_last_used));
        }
    }
    Ok(())
}
