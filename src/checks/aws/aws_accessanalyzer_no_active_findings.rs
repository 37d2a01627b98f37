//! Each active external-access finding of IAM Access Analyzer: a resource shared outside the
//! account (or organization) that nobody has archived as intended.

use super::{each_region, region_resource};
use super::AwsContext;
use crate::checks::Cx;
use crate::finding::Resource;
use crate::inventory::aws::AwsAccount;
use crate::inventory::{Dataset, Missing};

pub const DATASETS: &[Dataset] = &[Dataset::AwsAccessAnalyzer, Dataset::AwsOrganization];
pub const PARAMS: &[&str] = &[];

pub fn run<'a>(acct: &'a AwsAccount, aws: &AwsContext<'a>, cx: &mut Cx<'_, 'a>) -> Result<(), Missing> {
    each_region(acct, cx, Dataset::AwsAccessAnalyzer, "access-analyzer", |r| &r.access_analyzer, |cx, r, aa| {
        if !aa.analyzers.iter().any(|a| a.watches_external_access()) {
            let res = region_resource(&acct.account_id, &r.region, "access-analyzer");
            let org = aws.org_analyzers_for(&acct.account_id, &r.region);
            if let Some((owner, a)) = org.first() {
                cx.pass(res, format!("region {}: watched by organization analyzer {} in account {owner}; its findings are reported under that account", r.region, a.name))
                    .in_region(&r.region);
                return;
            }
            cx.not_evaluated(res, format!("region {}: no active external-access analyzer, so external access there is unknown", r.region))
                .in_region(&r.region);
            return;
        }
        if aa.findings.is_empty() {
            let res = region_resource(&acct.account_id, &r.region, "access-analyzer");
            cx.pass(res, format!("region {}: no active external-access findings", r.region)).in_region(&r.region);
        }
        for f in &aa.findings {
            let name = f.resource.rsplit([':', '/']).next().filter(|n| !n.is_empty()).unwrap_or(&f.resource);
            let who = if f.is_public { "anyone (public)".to_string() } else { f.principals.join(", ") };
            let cond = if f.condition.is_empty() {
                String::new()
            } else {
                format!(" under conditions {}", f.condition.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(", "))
            };
            let actions = if f.actions.is_empty() { "actions not listed".to_string() } else { f.actions.join(", ") };
            cx.fail(
                Resource { id: f.resource.as_str().into(), name: name.into(), kind: "aws_accessanalyzer_finding" },
                format!("{} {} is reachable from {who}{cond} ({actions})", f.resource_type, f.resource),
            )
            .in_region(&r.region)
            .detail(f.id.as_str())
            .with("finding_id", f.id.as_str())
            .with("analyzer", f.analyzer.as_str())
            .with("is_public", f.is_public)
            .with("principals", f.principals.clone())
            .with("actions", f.actions.clone());
        }
    })
}
