//! No IAM user has two active access keys.

use super::{active_keys, user_resource};
use super::AwsContext;
use crate::checks::Cx;
use crate::inventory::aws::AwsAccount;
use crate::inventory::{Dataset, Missing};

pub const DATASETS: &[Dataset] = &[Dataset::AwsCredentialReport];
pub const PARAMS: &[&str] = &[];

pub fn run<'a>(acct: &'a AwsAccount, aws: &AwsContext<'a>, cx: &mut Cx<'_, 'a>) -> Result<(), Missing> {
    let report = aws.report(acct, &["access_key_1_active", "access_key_2_active"])?;
    for row in report.users() {
        match active_keys(row).count() {
            0 => {}
            1 => {
                cx.pass(user_resource(row), format!("{} has one active access key", row.user));
            }
            n => {
                cx.fail(user_resource(row), format!("{} has {n} active access keys", row.user)).with("active_keys", n);
            }
        }
    }
    Ok(())
}
