//! Instances require IMDSv2 (session tokens) or have the metadata endpoint off.

use super::each_region;
use super::AwsContext;
use crate::checks::Cx;
use crate::finding::Resource;
use crate::inventory::aws::AwsAccount;
use crate::inventory::{Dataset, Missing};

pub const DATASETS: &[Dataset] = &[Dataset::AwsEc2Metadata];
pub const PARAMS: &[&str] = &[];

pub fn run<'a>(acct: &'a AwsAccount, _aws: &AwsContext<'a>, cx: &mut Cx<'_, 'a>) -> Result<(), Missing> {
    each_region(acct, cx, Dataset::AwsEc2Metadata, "ec2", |r| &r.ec2_metadata, |cx, r, m| {
        for i in &m.instances {
            let res = Resource {
                id: format!("arn:aws:ec2:{}:{}:instance/{}", r.region, acct.account_id, i.instance_id).into(),
                name: i.instance_id.as_str().into(),
                kind: "aws_ec2_instance",
            };
            let f = if i.http_endpoint == "disabled" {
                cx.pass(res, format!("instance {} has the metadata endpoint disabled", i.instance_id))
            } else if i.http_tokens == "required" {
                cx.pass(res, format!("instance {} requires IMDSv2", i.instance_id))
            } else {
                cx.fail(res, format!("instance {} ({}) allows IMDSv1: a server-side request forgery can read its role credentials", i.instance_id, i.state))
            };
            f.in_region(&r.region).with("http_tokens", i.http_tokens.as_str()).with("state", i.state.as_str());
        }
    })
}
