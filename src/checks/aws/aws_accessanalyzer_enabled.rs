//! IAM Access Analyzer has an active external-access analyzer in every region read.

use super::{no_region, region_resource};
use crate::checks::Cx;
use crate::inventory::aws::AwsAccount;
use crate::inventory::{Dataset, Missing};

pub const PARAMS: &[&str] = &[];

pub fn run<'a>(acct: &'a AwsAccount, cx: &mut Cx<'_, 'a>) -> Result<(), Missing> {
    no_region(acct, Dataset::AwsAccessAnalyzer, |r| &r.access_analyzer)?;
    for r in &acct.regions {
        let res = region_resource(&acct.account_id, &r.region, "access-analyzer");
        let aa = match r.access_analyzer.require(Dataset::AwsAccessAnalyzer) {
            Ok(aa) => aa,
            Err(m) => {
                cx.not_evaluated(res, format!("region {}: not evaluated: {m}", r.region)).in_region(&r.region);
                continue;
            }
        };
        let external: Vec<&str> = aa
            .analyzers
            .iter()
            .filter(|a| a.status == "ACTIVE" && (a.analyzer_type == "ACCOUNT" || a.analyzer_type == "ORGANIZATION"))
            .map(|a| a.name.as_str())
            .collect();
        if external.is_empty() {
            let others: Vec<String> = aa.analyzers.iter().map(|a| format!("{} ({}, {})", a.name, a.analyzer_type, a.status)).collect();
            cx.fail(res, format!("region {}: no active external-access analyzer{}", r.region, if others.is_empty() { String::new() } else { format!(" (found: {})", others.join(", ")) }))
                .in_region(&r.region);
        } else {
            cx.pass(res, format!("region {}: external-access analyzer {} is active", r.region, external.join(", "))).in_region(&r.region);
        }
    }
    Ok(())
}
