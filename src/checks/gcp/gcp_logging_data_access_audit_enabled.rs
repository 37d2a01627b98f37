//! Data-access audit logs (ADMIN_READ, DATA_READ, DATA_WRITE) are enabled for all services on the
//! project, counting what the organization and folders above it enable, and nobody is exempted
//! (CIS GCP 2.1 wants no exempted members): an exemption on any level, for all services or for one
//! service, fails and is named. A level whose audit configuration was not read could hold an
//! exemption or the missing log types, so it leaves the project not evaluated unless it already fails.

use crate::checks::Cx;
use crate::inventory::gcp::{GcpInventory, GcpProject};
use crate::inventory::{Dataset, Missing};

use super::project_resource;

pub const DATASETS: &[Dataset] = &[Dataset::GcpIamPolicy, Dataset::GcpHierarchy];
pub const PARAMS: &[&str] = &[];

const NEEDED: &[&str] = &["ADMIN_READ", "DATA_READ", "DATA_WRITE"];

pub fn run<'a>(p: &'a GcpProject, inv: &'a GcpInventory, cx: &mut Cx<'_, 'a>) -> Result<(), Missing> {
    let (levels, gap) = inv.effective_iam_known(p);
    // Audit configs are additive down the tree and across services: the union of every level's
    // `allServices` log types is what every service logs; exemptions add up the same way.
    let mut enabled = std::collections::BTreeSet::new();
    let mut exempted = Vec::new();
    for (level, policy) in &levels {
        for a in &policy.audit_configs {
            let all = a.service.trim().eq_ignore_ascii_case("allServices");
            if all {
                enabled.extend(a.log_types.iter().map(|t| t.trim().to_ascii_uppercase()));
            }
            let service = if all { "all services".to_string() } else { a.service.clone() };
            exempted.extend(a.exempted_members.iter().map(|m| format!("{m} for {service} (on {level})")));
        }
    }
    if let (true, Some(m)) = (exempted.is_empty(), &gap) {
        // An exemption seen on the levels read fails whatever sits above; nothing else is known.
        cx.missing(project_resource(p), m);
        return Ok(());
    }
    let missing: Vec<&str> = NEEDED.iter().copied().filter(|t| !enabled.contains(*t)).collect();
    let unread = levels.iter().find(|(_, pol)| pol.audit_configs_unread).map(|(l, _)| *l);
    if missing.is_empty() && exempted.is_empty() {
        if let Some(level) = unread {
            // An exemption set there would be missed.
            cx.not_evaluated(
                project_resource(p),
                format!("{}: data-access audit logs are on for all services, but the audit configuration of {level} is unknown (the Cloud Asset search does not return it) and may exempt members", p.project_id),
            );
        } else {
            cx.pass(project_resource(p), format!("{}: ADMIN_READ, DATA_READ and DATA_WRITE audit logs are on for all services, with no exempted member", p.project_id));
        }
        return Ok(());
    }
    if !exempted.is_empty() {
        // Log types missing on the levels read may be enabled above a gap: only named when whole.
        let missing = if gap.is_some() { Vec::new() } else { missing };
        let mut why = format!("{}: members are exempted from data-access audit logs: {}", p.project_id, exempted.join(", "));
        if !missing.is_empty() {
            why.push_str(&format!("; {} audit logs are not enabled for all services", missing.join(", ")));
        }
        cx.fail(project_resource(p), why).with("exempted_members", exempted.len() as i64);
        return Ok(());
    }
    // A level whose audit configuration was not read could be the one that enables it.
    if let Some(level) = unread {
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
