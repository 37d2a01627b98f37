//! Every IAM user with a console password has MFA.

use super::{report_time, user_resource};
use super::AwsContext;
use crate::checks::Cx;
use crate::inventory::aws::AwsAccount;
use crate::inventory::{Dataset, Missing};

pub const DATASETS: &[Dataset] = &[Dataset::AwsCredentialReport];
pub const PARAMS: &[&str] = &[];

pub fn run<'a>(acct: &'a AwsAccount, aws: &AwsContext<'a>, cx: &mut Cx<'_, 'a>) -> Result<(), Missing> {
    let report = aws.report(acct, &["password_enabled", "mfa_active"])?;
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
