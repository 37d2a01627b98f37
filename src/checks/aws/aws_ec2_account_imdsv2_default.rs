//! The account-level EC2 metadata default requires IMDSv2 for new instances in each region.

use super::{no_region, region_resource};
use crate::checks::Cx;
use crate::inventory::aws::AwsAccount;
use crate::inventory::{Dataset, Missing};

pub const PARAMS: &[&str] = &[];

pub fn run<'a>(acct: &'a AwsAccount, cx: &mut Cx<'_, 'a>) -> Result<(), Missing> {
    no_region(acct, Dataset::AwsEc2MetadataDefaults, |r| &r.ec2_metadata_defaults)?;
    for r in &acct.regions {
        let res = region_resource(&acct.account_id, &r.region, "ec2");
        match r.ec2_metadata_defaults.require(Dataset::AwsEc2MetadataDefaults) {
            Err(m) => {
                cx.not_evaluated(res, format!("region {}: not evaluated: {m}", r.region)).in_region(&r.region);
            }
            Ok(d) if d.http_tokens.as_deref() == Some("required") => {
                cx.pass(res, format!("region {}: new instances require IMDSv2 by default", r.region)).in_region(&r.region);
            }
            Ok(d) => {
                let now = d.http_tokens.as_deref().unwrap_or("no account default");
                cx.fail(res, format!("region {}: new instances may use IMDSv1 (HttpTokens: {now}); each launch must opt in to IMDSv2", r.region))
                    .in_region(&r.region)
                    .with("http_tokens", d.http_tokens.clone());
            }
        }
    }
    Ok(())
}
