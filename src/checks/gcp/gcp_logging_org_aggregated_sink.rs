//! The organization has an enabled aggregated sink (`includeChildren`) that exports every log.

use crate::checks::Cx;
use crate::finding::Resource;
use crate::inventory::gcp::GcpInventory;
use crate::inventory::{Dataset, Missing, ScopeNode};

pub const DATASETS: &[Dataset] = &[Dataset::GcpLogging, Dataset::GcpHierarchy];
pub const PARAMS: &[&str] = &[];

pub fn run<'a>(org: &'a ScopeNode, inv: &'a GcpInventory, cx: &mut Cx<'_, 'a>) -> Result<(), Missing> {
    let res = Resource { id: format!("//cloudresourcemanager.googleapis.com/{}", org.id).into(), name: org.name.as_deref().unwrap_or(&org.id).into(), kind: "gcp_resourcemanager_organization" };
    let Some(node) = inv.nodes.iter().find(|n| n.name == org.id) else {
        cx.not_evaluated(res, format!("{}: its sinks were not read", org.id));
        return Ok(());
    };
    let sinks = node.sinks.require(Dataset::GcpLogging)?;
    // Every log: no filter at all (a filter, even a broad one, is a choice of what to drop).
    let all = sinks.iter().find(|s| s.include_children && !s.disabled && s.filter.as_deref().is_none_or(|f| f.trim().is_empty()));
    match all {
        Some(s) => {
            cx.pass(res, format!("{}: sink {} exports every log of the organization to {}", org.id, s.name, s.destination));
        }
        None => {
            let partial: Vec<&str> = sinks.iter().filter(|s| s.include_children && !s.disabled).map(|s| s.name.as_str()).collect();
            let why = if partial.is_empty() { "no enabled sink includes the folders and projects below".to_string() } else { format!("aggregated sinks {} filter what they export", partial.join(", ")) };
            cx.fail(res, format!("{}: {why}", org.id));
        }
    }
    Ok(())
}
