//! IAM Access Analyzer has an active external-access analyzer in every region read.

use super::{each_region, region_resource};
use crate::checks::Cx;
use crate::inventory::aws::AwsAccount;
use crate::inventory::{Dataset, Missing};

pub const PARAMS: &[&str] = &[];

pub fn run<'a>(acct: &'a AwsAccount, cx: &mut Cx<'_, 'a>) -> Result<(), Missing> {
    each_region(acct, cx, Dataset::AwsAccessAnalyzer, "access-analyzer", |r| &r.access_analyzer, |cx, r, aa| {
        let res = region_resource(&acct.account_id, &r.region, "access-analyzer");
        let external: Vec<&str> = aa.analyzers.iter().filter(|a| a.watches_external_access()).map(|a| a.name.as_str()).collect();
        if external.is_empty() {
            let others: Vec<String> = aa.analyzers.iter().map(|a| format!("{} ({}, {})", a.name, a.analyzer_type, a.status)).collect();
            let found = if others.is_empty() { String::new() } else { format!(" (found: {})", others.join(", ")) };
            cx.fail(res, format!("region {}: no active external-access analyzer{found}", r.region)).in_region(&r.region);
        } else {
            cx.pass(res, format!("region {}: external-access analyzer {} is active", r.region, external.join(", "))).in_region(&r.region);
        }
    })
}
