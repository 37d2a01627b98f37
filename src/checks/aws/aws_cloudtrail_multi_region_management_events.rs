//! The account has a multi-region trail that is logging and records management events, read and write.

use super::{account_resource, no_region, trail_resource, trails};
use super::AwsContext;
use crate::checks::Cx;
use crate::inventory::aws::AwsAccount;
use crate::inventory::{Dataset, Missing};

pub const DATASETS: &[Dataset] = &[Dataset::AwsCloudTrail];
pub const PARAMS: &[&str] = &[];

pub fn run<'a>(acct: &'a AwsAccount, _aws: &AwsContext<'a>, cx: &mut Cx<'_, 'a>) -> Result<(), Missing> {
    no_region(acct, Dataset::AwsCloudTrail)?;
    let all = trails(acct);
    let multi: Vec<_> = all.iter().filter(|(_, t)| t.multi_region).collect();
    if let Some((r, t)) = multi.iter().find(|(_, t)| t.logging == Some(true) && t.management_events.as_deref() == Some("All")) {
        cx.pass(trail_resource(t), format!("multi-region trail {} is logging all management events (read and write)", t.name))
            .in_region(&r.region)
            .with("home_region", t.home_region.as_str());
        return Ok(());
    }
    // A multi-region trail whose status could not be read may be the one that qualifies.
    if let Some((r, t)) = multi.iter().find(|(_, t)| t.status_error.is_some() || t.logging.is_none()) {
        let why = t.status_error.clone().unwrap_or_else(|| format!("its home region {} was not collected", t.home_region));
        cx.not_evaluated(trail_resource(t), format!("multi-region trail {}: logging status or event selectors unknown ({why})", t.name))
            .in_region(&r.region);
        return Ok(());
    }
    let detail = if multi.is_empty() {
        format!("no multi-region trail ({} regional trail(s) found)", all.len())
    } else {
        let described: Vec<String> = multi
            .iter()
            .map(|(_, t)| {
                let logging = if t.logging == Some(true) { "logging" } else { "not logging" };
                format!("{} ({logging}, management events: {})", t.name, t.management_events.as_deref().unwrap_or("none"))
            })
            .collect();
        format!("no multi-region trail logs all management events: {}", described.join("; "))
    };
    let gaps: Vec<&str> = acct.regions.iter().filter(|r| r.cloudtrail.get().is_none()).map(|r| r.region.as_str()).collect();
    cx.fail(account_resource(&acct.account_id), format!("account {}: {detail}", acct.account_id))
        .with("trails", all.iter().map(|(_, t)| t.arn.clone()).collect::<Vec<_>>())
        .with("regions_not_read", gaps.iter().map(|s| s.to_string()).collect::<Vec<_>>());
    Ok(())
}
