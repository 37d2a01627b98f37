//! IAM Access Analyzer has an active external-access analyzer in every region read.

use super::{each_region, region_resource};
use super::AwsContext;
use crate::checks::Cx;
use crate::inventory::aws::AwsAccount;
use crate::inventory::{Dataset, Missing};

pub const DATASETS: &[Dataset] = &[Dataset::AwsAccessAnalyzer, Dataset::AwsOrganization];
pub const PARAMS: &[&str] = &[];

pub fn run<'a>(acct: &'a AwsAccount, aws: &AwsContext<'a>, cx: &mut Cx<'_, 'a>) -> Result<(), Missing> {
    each_region(acct, cx, Dataset::AwsAccessAnalyzer, "access-analyzer", |r| &r.access_analyzer, |cx, r, aa| {
        let res = region_resource(&acct.account_id, &r.region, "access-analyzer");
        let external: Vec<&str> = aa.analyzers.iter().filter(|a| a.watches_external_access()).map(|a| a.name.as_str()).collect();
        // An organization analyzer in the management or delegated administrator account watches
        // this member account too.
        let org: Vec<String> = aws.org_analyzers_for(&acct.account_id, &r.region).iter().map(|(owner, a)| format!("{} in account {owner}", a.name)).collect();
        if external.is_empty() && !org.is_empty() {
            cx.pass(res, format!("region {}: covered by organization analyzer {}", r.region, org.join(", "))).in_region(&r.region).with("organization_analyzers", org);
        } else if external.is_empty() {
            let others: Vec<String> = aa.analyzers.iter().map(|a| format!("{} ({}, {})", a.name, a.analyzer_type, a.status)).collect();
            let found = if others.is_empty() { String::new() } else { format!(" (found: {})", others.join(", ")) };
            let found = if aws.known_org().is_some() { format!("{found}, and no organization analyzer in the scanned accounts covers it") } else { found };
            cx.fail(res, format!("region {}: no active external-access analyzer{found}", r.region)).in_region(&r.region);
        } else {
            cx.pass(res, format!("region {}: external-access analyzer {} is active", r.region, external.join(", "))).in_region(&r.region);
        }
    })
}
