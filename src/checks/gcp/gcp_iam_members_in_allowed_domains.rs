//! Every user, group and domain a project's effective policy names belongs to the organization's
//! domain or to a domain listed in `[trust] gcp_domains`.

use crate::checks::Cx;
use crate::inventory::gcp::{GcpInventory, GcpProject};
use crate::inventory::{Dataset, Missing};

use super::{member_domain, project_resource};

pub const DATASETS: &[Dataset] = &[Dataset::GcpIamPolicy, Dataset::GcpHierarchy];
pub const PARAMS: &[&str] = &[];

pub fn run<'a>(p: &'a GcpProject, inv: &'a GcpInventory, cx: &mut Cx<'_, 'a>) -> Result<(), Missing> {
    let levels = inv.effective_iam(p)?;
    let mut allowed: Vec<String> = cx.settings.trusted.gcp_domains.iter().map(|d| d.trim().to_ascii_lowercase()).collect();
    allowed.extend(inv.organization.as_ref().and_then(|o| o.domain.clone()).map(|d| d.to_ascii_lowercase()));
    if allowed.is_empty() {
        cx.not_evaluated(project_resource(p), format!("{}: the organization's domain is unknown (scan with --gcp-organization) and [trust] gcp_domains is empty", p.project_id));
        return Ok(());
    }
    // Subdomains of an allowed domain are inside (eng.example.com under example.com).
    let inside = |d: &str| allowed.iter().any(|a| d == a || d.ends_with(&format!(".{a}")));
    let mut outside = Vec::new();
    for (level, policy) in &levels {
        for b in &policy.bindings {
            for m in &b.members {
                if let Some(d) = member_domain(m) {
                    if !inside(&d) {
                        let inherited = if *level == p.name { String::new() } else { format!(", inherited from {level}") };
                        outside.push(format!("{m} has {}{inherited}", b.role));
                    }
                }
            }
        }
    }
    if outside.is_empty() {
        cx.pass(project_resource(p), format!("{}: every member belongs to {}", p.project_id, allowed.join(", ")));
    } else {
        cx.fail(project_resource(p), format!("{}: members outside {}: {}", p.project_id, allowed.join(", "), outside.join("; "))).with("outside_members", outside.len() as i64);
    }
    Ok(())
}
