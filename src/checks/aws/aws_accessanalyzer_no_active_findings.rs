//! Each active external-access finding of IAM Access Analyzer: a resource shared outside the
//! account (or organization) that nobody has archived as intended.

use super::{no_region, region_resource};
use crate::checks::Cx;
use crate::finding::Resource;
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
        let active = aa.analyzers.iter().any(|a| a.status == "ACTIVE" && (a.analyzer_type == "ACCOUNT" || a.analyzer_type == "ORGANIZATION"));
        if !active {
            cx.not_evaluated(res, format!("region {}: no active external-access analyzer, so external access there is unknown", r.region))
                .in_region(&r.region);
            continue;
        }
        if aa.findings.is_empty() {
            cx.pass(res, format!("region {}: no active external-access findings", r.region)).in_region(&r.region);
        }
        for f in &aa.findings {
            let name = f.resource.rsplit([':', '/']).next().filter(|n| !n.is_empty()).unwrap_or(&f.resource);
            let who = if f.is_public { "anyone (public)".to_string() } else { f.principals.join(", ") };
            let cond = if f.condition.is_empty() { String::new() } else { format!(" under conditions {}", f.condition.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(", ")) };
            cx.fail(
                Resource { id: f.resource.as_str().into(), name: name.into(), kind: "aws_accessanalyzer_finding" },
                format!("{} {} is reachable from {who}{cond} ({})", f.resource_type, f.resource, if f.actions.is_empty() { "actions not listed".into() } else { f.actions.join(", ") }),
            )
            .in_region(&r.region)
            .detail(f.id.as_str())
            .with("finding_id", f.id.as_str())
            .with("analyzer", f.analyzer.as_str())
            .with("is_public", f.is_public)
            .with("principals", f.principals.clone())
            .with("actions", f.actions.clone());
        }
    }
    Ok(())
}
