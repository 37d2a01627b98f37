//! Every trail encrypts its log files with a KMS key.

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
        let f = match &t.kms_key_id {
            Some(k) => cx.pass(trail_resource(t), format!("trail {} encrypts its logs with KMS key {k}", t.name)),
            None => cx.fail(trail_resource(t), format!("trail {} logs are not encrypted with a KMS key (only S3-managed encryption)", t.name)),
        };
        f.in_region(&r.region).with("home_region", t.home_region.as_str());
    }
    Ok(())
}
