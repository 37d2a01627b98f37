//! The account-level EC2 metadata default requires IMDSv2 for new instances in each region.

use super::{each_region, region_resource};
use super::AwsContext;
use crate::checks::Cx;
use crate::inventory::aws::AwsAccount;
use crate::inventory::{Dataset, Missing};

pub const DATASETS: &[Dataset] = &[Dataset::AwsEc2MetadataDefaults];
pub const PARAMS: &[&str] = &[];

pub fn run<'a>(acct: &'a AwsAccount, _aws: &AwsContext<'a>, cx: &mut Cx<'_, 'a>) -> Result<(), Missing> {
    each_region(acct, cx, Dataset::AwsEc2MetadataDefaults, "ec2", |r| &r.ec2_metadata_defaults, |cx, r, d| {
        let res = region_resource(&acct.account_id, &r.region, "ec2");
        if d.http_tokens.as_deref() == Some("required") {
            cx.pass(res, format!("region {}: new instances require IMDSv2 by default", r.region)).in_region(&r.region);
        } else {
            let now = d.http_tokens.as_deref().unwrap_or("no account default");
            cx.fail(res, format!("region {}: new instances may use IMDSv1 (HttpTokens: {now}); each launch must opt in to IMDSv2", r.region))
                .in_region(&r.region)
                .with("http_tokens", d.http_tokens.clone());
        }
    })
}
