//! Data-access audit logs (ADMIN_READ, DATA_READ, DATA_WRITE) are enabled for all services on the
//! project, counting what the organization and folders above it enable.

use crate::checks::Cx;
use crate::inventory::gcp::{GcpInventory, GcpProject};
use crate::inventory::{Dataset, Missing};

use super::project_resource;

pub const DATASETS: &[Dataset] = &[Dataset::GcpIamPolicy, Dataset::GcpHierarchy];
pub const PARAMS: &[&str] = &[];

const NEEDED: &[&str] = &["ADMIN_READ", "DATA_READ", "DATA_WRITE"];

pub fn run<'a>(p: &'a GcpProject, inv: &'a GcpInventory, cx: &mut Cx<'_, 'a>) -> Result<(), Missing> {
    let levels = inv.effective_iam(p)?;
    // Audit configs are additive down the tree: the union of every level's `allServices` config.
    let mut enabled = std::collections::BTreeSet::new();
    let mut exempted = Vec::new();
    for (level, policy) in &levels {
        for a in policy.audit_configs.iter().filter(|a| a.service == "allServices") {
            enabled.extend(a.log_types.iter().map(String::as_str));
            exempted.extend(a.exempted_members.iter().map(|m| format!("{m} (on {level})")));
        }
    }
    let missing: Vec<&str> = NEEDED.iter().copied().filter(|t| !enabled.contains(t)).collect();
    if missing.is_empty() {
        let f = if exempted.is_empty() {
            cx.pass(project_resource(p), format!("{}: ADMIN_READ, DATA_READ and DATA_WRITE audit logs are on for all services", p.project_id))
        } else {
            cx.pass(
                project_resource(p),
                format!("{}: data-access audit logs are on for all services; exempted: {}", p.project_id, exempted.join(", ")),
            )
        };
        f.with("exempted_members", exempted.len() as i64);
        return Ok(());
    }
    // A level whose audit configuration was not read could be the one that enables it.
    if let Some((level, _)) = levels.iter().find(|(_, pol)| pol.audit_configs_unread) {
        cx.not_evaluated(
            project_resource(p),
            format!("{}: {} not enabled on the levels read, and the audit configuration of {level} is unknown (the Cloud Asset search does not return it)", p.project_id, missing.join(", ")),
        );
        return Ok(());
    }
    cx.fail(project_resource(p), format!("{}: {} audit logs are not enabled for all services", p.project_id, missing.join(", ")))
        .with("missing_log_types", missing.join(", "));
    Ok(())
}
