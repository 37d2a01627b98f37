//! Every trail has log file integrity validation on.

use super::{no_region, trail_resource, trails};
use super::AwsContext;
use crate::checks::Cx;
use crate::inventory::aws::AwsAccount;
use crate::inventory::{Dataset, Missing};

pub const DATASETS: &[Dataset] = &[Dataset::AwsCloudTrail];
pub const PARAMS: &[&str] = &[];

pub fn run<'a>(acct: &'a AwsAccount, _aws: &AwsContext<'a>, cx: &mut Cx<'_, 'a>) -> Result<(), Missing> {
    no_region(acct, Dataset::AwsCloudTrail)?;
    for (r, t) in trails(acct) {
        let f = if t.log_file_validation {
            cx.pass(trail_resource(t), format!("trail {} validates its log files", t.name))
        } else {
            cx.fail(trail_resource(t), format!("trail {} has log file validation off: deleted or edited log files go unnoticed", t.name))
        };
        f.in_region(&r.region).with("home_region", t.home_region.as_str());
    }
    Ok(())
}
